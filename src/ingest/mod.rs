//! Updates become durable here: a group-commit writer takes batches of translated updates from
//! any number of producers (the polling loop, webhook requests, the load benchmark), applies them
//! to the store in as few transactions as it can, and answers each producer only after its
//! updates are committed. Producers confirm updates to Telegram only after that answer.

mod heartbeat;
mod writer;

pub use heartbeat::Heartbeat;
pub use writer::{CommitHook, IngestError, Writer, WriterConfig, WriterHandle};

//! Plain types and rules. No I/O here and no types from redb, teloxide or axum: every other
//! layer speaks in these.

mod ids;
mod records;
mod settings;
mod update;

pub use ids::{ChatId, MessageId, Timestamp, UpdateId, UserId};
pub use records::{
    BotIdentity, Chat, ChatKind, Member, MemberStatus, MessageKind, OutboxEntry, OutboxOp,
    QuarantinedUpdate, StoredMessage, User, normalize_username,
};
pub use settings::{LanguagePref, UserSettings};
pub use update::{
    ChatProfile, IncomingMessage, IncomingUpdate, MAX_STORED_TEXT_BYTES, UpdateContent,
    UserProfile, clamp_text,
};

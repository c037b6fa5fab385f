//! Plain types and rules. No I/O here and no types from redb, teloxide or axum: every other
//! layer speaks in these.

mod broadcast;
mod ids;
mod records;
mod settings;
mod stats;
mod update;

pub use broadcast::{
    Audience, BroadcastCounts, BroadcastId, BroadcastJob, JobState, NewBroadcast, RecipientStatus,
};
pub use ids::{ChatId, MessageId, Timestamp, UnixMillis, UpdateId, UserId, now_millis};
pub use records::{
    BotIdentity, Chat, ChatKind, Member, MemberStatus, MessageKind, OutboxEntry, OutboxOp,
    QuarantinedUpdate, StoredMessage, User, normalize_username,
};
pub use settings::{LanguagePref, UserSettings};
pub use stats::{ChatDay, Day, HOURS_PER_WEEK, PosterCount, PosterRank, StatsPeriod, hour_of_week};
pub use update::{
    ChatProfile, IncomingMessage, IncomingUpdate, MAX_STORED_TEXT_BYTES, UpdateContent,
    UserProfile, clamp_text,
};

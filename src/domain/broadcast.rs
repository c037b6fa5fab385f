//! Broadcasts: a message sent once to each member of an audience, tracked per recipient so a
//! restart never sends anyone a second copy.

use super::ids::{ChatId, UnixMillis};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BroadcastId(pub u64);

impl std::fmt::Display for BroadcastId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Who a broadcast goes to. Only users with a private chat with the bot (they sent it something
/// in private, so Telegram lets the bot write to them) are ever recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Every user with a private chat who has not turned announcements off.
    Announcements,
    /// Users active (anywhere the bot sees) in the last `days` days.
    ActiveWithin { days: u32 },
    /// Active members of a chat.
    MembersOf { chat: ChatId },
}

impl Audience {
    pub fn describe(&self) -> String {
        match self {
            Audience::Announcements => "everyone who allows announcements".to_string(),
            Audience::ActiveWithin { days } => format!("users active in the last {days} days"),
            Audience::MembersOf { chat } => format!("active members of chat {chat}"),
        }
    }
}

/// The life of a job. Queued jobs wait for the one Running (or Paused) job to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobState {
    /// Waiting for its turn; recipients are not chosen yet.
    Queued,
    /// Recipients snapshotted; sending.
    Running,
    /// Stopped by the admin; resumes where it stopped.
    Paused,
    /// Stopped for good; pending recipients are not sent.
    Cancelled,
    /// Every recipient has a final status.
    Done,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Cancelled => "cancelled",
            JobState::Done => "done",
        }
    }

    /// No further sends will happen.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Cancelled | JobState::Done)
    }
}

/// Where one recipient stands. `InFlight` is written durably before the send; a job found
/// Running with InFlight rows after a crash turns them into `Uncertain` (never resent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecipientStatus {
    Pending,
    InFlight,
    Sent,
    Failed(String),
    /// 403: the user blocked the bot; later jobs skip them.
    Blocked,
    /// The send may or may not have reached Telegram (a crash, or a lost answer).
    Uncertain,
}

impl RecipientStatus {
    pub fn label(&self) -> &'static str {
        match self {
            RecipientStatus::Pending => "pending",
            RecipientStatus::InFlight => "in flight",
            RecipientStatus::Sent => "sent",
            RecipientStatus::Failed(_) => "failed",
            RecipientStatus::Blocked => "blocked",
            RecipientStatus::Uncertain => "uncertain",
        }
    }
}

/// Per-status counts of a job's recipients, kept in the job record by the same transaction
/// that changes a status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastCounts {
    pub pending: u64,
    pub in_flight: u64,
    pub sent: u64,
    pub failed: u64,
    pub blocked: u64,
    pub uncertain: u64,
    /// Users of the audience left out at snapshot time because they had blocked the bot.
    pub skipped_blocked: u64,
}

impl BroadcastCounts {
    /// Recipients of the snapshot (skipped users are not recipients).
    pub fn total(&self) -> u64 {
        self.pending + self.in_flight + self.sent + self.failed + self.blocked + self.uncertain
    }

    pub fn done(&self) -> u64 {
        self.sent + self.failed + self.blocked + self.uncertain
    }

    pub(crate) fn slot(&mut self, s: &RecipientStatus) -> &mut u64 {
        match s {
            RecipientStatus::Pending => &mut self.pending,
            RecipientStatus::InFlight => &mut self.in_flight,
            RecipientStatus::Sent => &mut self.sent,
            RecipientStatus::Failed(_) => &mut self.failed,
            RecipientStatus::Blocked => &mut self.blocked,
            RecipientStatus::Uncertain => &mut self.uncertain,
        }
    }

    /// Move one recipient from `from` to `to`.
    pub fn shift(&mut self, from: &RecipientStatus, to: &RecipientStatus) {
        let f = self.slot(from);
        *f = f.saturating_sub(1);
        *self.slot(to) += 1;
    }
}

/// What the dashboard asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBroadcast {
    /// Telegram HTML, already validated.
    pub html: String,
    pub audience: Audience,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadcastJob {
    pub id: BroadcastId,
    pub html: String,
    pub audience: Audience,
    pub state: JobState,
    pub created_ms: UnixMillis,
    /// When recipients were snapshotted.
    pub started_ms: Option<UnixMillis>,
    /// When it became Done or Cancelled.
    pub finished_ms: Option<UnixMillis>,
    /// Time spent sending (Running), for the rate: paused spans do not count.
    pub active_ms: u64,
    /// When the current Running span began (None while not running).
    pub running_since_ms: Option<UnixMillis>,
    pub counts: BroadcastCounts,
}

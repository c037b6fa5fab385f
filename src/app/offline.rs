//! Tools that work on a data directory while the appliance is stopped: stats and export.

use crate::domain::{ChatId, MessageId, StoredMessage};
use crate::store::{OpenError, SharedStore, StoreCounts, StoreError};
use serde::Serialize;
use std::io::Write;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OfflineError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}

#[derive(Debug, Serialize)]
pub struct StatsReport {
    pub backend: &'static str,
    pub schema_version: u32,
    pub bot: Option<String>,
    #[serde(flatten)]
    pub counts: StoreCounts,
    pub last_update_id: Option<u32>,
}

pub fn stats(store: &SharedStore) -> Result<StatsReport, StoreError> {
    Ok(StatsReport {
        backend: store.backend_name(),
        schema_version: store.schema_version()?,
        bot: store
            .bot_identity()?
            .map(|b| format!("@{} ({})", b.username, b.bot_id)),
        counts: store.counts()?,
        last_update_id: store.last_update_id()?.map(|id| id.0),
    })
}

impl StatsReport {
    pub fn to_text(&self) -> String {
        let c = &self.counts;
        format!(
            "backend        {}\nschema         {}\nbot            {}\nusers          {}\nchats          {}\nmembers        {}\nmessages       {}\noutbox pending {}\nquarantined    {}\nlast update    {}\n",
            self.backend,
            self.schema_version,
            self.bot.as_deref().unwrap_or("(none yet)"),
            c.users,
            c.chats,
            c.members,
            c.messages,
            c.outbox_pending,
            c.quarantined,
            self.last_update_id
                .map_or("(none)".to_string(), |id| id.to_string()),
        )
    }
}

/// One line of `tgbox export --format jsonl`.
#[derive(Serialize)]
struct ExportLine<'a> {
    chat_id: i64,
    message_id: i32,
    user_id: Option<u64>,
    date: String,
    edit_date: Option<String>,
    kind: &'static str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_id: Option<i32>,
}

fn export_line(m: &StoredMessage) -> ExportLine<'_> {
    ExportLine {
        chat_id: m.chat_id.0,
        message_id: m.message_id.0,
        user_id: m.user_id.map(|u| u.0),
        date: m.date.to_rfc3339(),
        edit_date: m.edit_date.map(|d| d.to_rfc3339()),
        kind: m.kind.as_str(),
        text: &m.text,
        reply_to: m.reply_to.map(|r| r.0),
        thread_id: m.thread_id,
    }
}

/// Write every message (or one chat's) as JSON lines in (chat, message id) order. Returns the
/// number of lines written. A closed pipe (`| head`) ends the export quietly.
pub fn export_jsonl(
    store: &SharedStore,
    chat: Option<ChatId>,
    out: &mut dyn Write,
    mut progress: impl FnMut(u64),
) -> Result<u64, OfflineError> {
    const PAGE: usize = 2000;
    let mut after: Option<(ChatId, MessageId)> = None;
    let mut written = 0u64;
    loop {
        let page = store.messages_page(chat, after, PAGE)?;
        for m in &page {
            let line = serde_json::to_string(&export_line(m))
                .map_err(|e| OfflineError::Output(std::io::Error::other(e)))?;
            if let Err(e) = writeln!(out, "{line}") {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(written);
                }
                return Err(OfflineError::Output(e));
            }
            written += 1;
        }
        progress(written);
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some((last.chat_id, last.message_id)),
            _ => break,
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(OfflineError::Output(e)),
        _ => Ok(written),
    }
}

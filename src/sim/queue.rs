//! The update queue: pre-serialized updates waiting for confirmation, the `allowed_updates`
//! filter and the delivery log of confirmed updates.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::types::Delivered;

/// Every update type of the Bot API, in the order of the documentation.
pub(crate) const UPDATE_TYPES: [&str; 23] = [
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
];

pub(crate) const MESSAGE: u16 = 0;
pub(crate) const EDITED_MESSAGE: u16 = 1;
pub(crate) const CHANNEL_POST: u16 = 2;
pub(crate) const EDITED_CHANNEL_POST: u16 = 3;
pub(crate) const CALLBACK_QUERY: u16 = 12;
/// Kind of updates injected as raw text: never filtered.
pub(crate) const RAW_TEXT: u16 = UPDATE_TYPES.len() as u16;

/// Telegram's default: every type except chat_member, message_reaction(_count).
pub(crate) fn default_allowed() -> u32 {
    let all = (1u32 << UPDATE_TYPES.len()) - 1;
    all & !(bit("chat_member") | bit("message_reaction") | bit("message_reaction_count"))
}

fn bit(name: &str) -> u32 {
    UPDATE_TYPES
        .iter()
        .position(|t| *t == name)
        .map_or(0, |i| 1 << i)
}

/// The mask for an `allowed_updates` list; an empty list means the default. Unknown names are
/// ignored, as Telegram does.
pub(crate) fn allowed_mask(names: &[String]) -> u32 {
    if names.is_empty() {
        return default_allowed();
    }
    names.iter().fold(0, |m, n| m | bit(n))
}

pub(crate) fn mask_names(mask: u32) -> Vec<String> {
    UPDATE_TYPES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, t)| (*t).to_owned())
        .collect()
}

/// What the delivery log keeps of an update (compact: the log can hold millions).
#[derive(Clone)]
pub(crate) struct Meta {
    pub kind: u16,
    /// 0 when the update has no message id.
    pub message_id: i32,
    /// 0 when the update has no chat.
    pub chat_id: i64,
    pub text: Option<Arc<str>>,
}

pub(crate) struct Queued {
    pub id: u32,
    pub json: Arc<str>,
    pub meta: Meta,
}

struct LogRec {
    id: u32,
    meta: Meta,
}

pub(crate) struct UpdateQueue {
    next_id: u32,
    pending: VecDeque<Queued>,
    log: Vec<LogRec>,
    /// Names of the update kinds: the known types, "raw", then interned unknown types.
    kinds: Vec<Arc<str>>,
    kind_index: HashMap<Arc<str>, u16>,
    pub allowed: u32,
    pub produced: u64,
    pub filtered: u64,
    pub dropped: u64,
}

impl UpdateQueue {
    pub fn new() -> UpdateQueue {
        let mut kinds: Vec<Arc<str>> = UPDATE_TYPES.iter().map(|t| Arc::from(*t)).collect();
        kinds.push(Arc::from("raw"));
        let kind_index = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u16))
            .collect();
        UpdateQueue {
            next_id: 1,
            pending: VecDeque::new(),
            log: Vec::new(),
            kinds,
            kind_index,
            allowed: default_allowed(),
            produced: 0,
            filtered: 0,
            dropped: 0,
        }
    }

    /// The kind index for an update type name, interning unknown names.
    pub fn kind_of(&mut self, name: &str) -> u16 {
        if let Some(k) = self.kind_index.get(name) {
            return *k;
        }
        if self.kinds.len() >= usize::from(u16::MAX) {
            return RAW_TEXT;
        }
        let k = self.kinds.len() as u16;
        let name: Arc<str> = Arc::from(name);
        self.kinds.push(name.clone());
        self.kind_index.insert(name, k);
        k
    }

    fn is_allowed(&self, kind: u16) -> bool {
        usize::from(kind) >= UPDATE_TYPES.len() || self.allowed & (1 << kind) != 0
    }

    pub fn next_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// Queues an update whose complete JSON (with `update_id` = `id`) is `json`, unless the
    /// `allowed_updates` filter excludes its kind.
    pub fn push(&mut self, id: u32, json: String, meta: Meta) {
        self.produced += 1;
        if !self.is_allowed(meta.kind) {
            self.filtered += 1;
            return;
        }
        self.pending.push_back(Queued {
            id,
            json: Arc::from(json),
            meta,
        });
    }

    /// Queues a message-like update: `{"update_id":id,"<kind>":<body>}`.
    pub fn push_object(&mut self, kind: u16, body: &serde_json::Value, meta: Meta) -> u32 {
        let id = self.next_id();
        let name = &self.kinds[usize::from(kind)];
        let json = format!("{{\"update_id\":{id},\"{name}\":{body}}}");
        self.push(id, json, Meta { kind, ..meta });
        id
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn front(&self) -> Option<&Queued> {
        self.pending.front()
    }

    /// Confirms every update with an id below `offset`.
    pub fn confirm_below(&mut self, offset: u32) {
        while self.pending.front().is_some_and(|q| q.id < offset) {
            if let Some(q) = self.pending.pop_front() {
                self.log.push(LogRec {
                    id: q.id,
                    meta: q.meta,
                });
            }
        }
    }

    /// Confirms the first update if it is `id` (webhook delivery answered 2xx).
    pub fn confirm_front(&mut self, id: u32) -> bool {
        if self.pending.front().is_some_and(|q| q.id == id) {
            self.confirm_below(id.saturating_add(1));
            return true;
        }
        false
    }

    /// Forgets all but the last `keep` updates (negative getUpdates offset).
    pub fn keep_last(&mut self, keep: usize) {
        let excess = self.pending.len().saturating_sub(keep);
        self.pending.drain(..excess);
        self.dropped += excess as u64;
    }

    pub fn drop_all(&mut self) {
        self.keep_last(0);
    }

    /// The JSON of a `getUpdates` answer with at most `limit` updates from the front.
    pub fn batch_response(&self, limit: usize) -> String {
        let n = limit.min(self.pending.len());
        let size: usize = self.pending.iter().take(n).map(|q| q.json.len() + 1).sum();
        let mut out = String::with_capacity(size + 24);
        out.push_str("{\"ok\":true,\"result\":[");
        for (i, q) in self.pending.iter().take(n).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&q.json);
        }
        out.push_str("]}");
        out
    }

    pub fn confirmed(&self) -> usize {
        self.log.len()
    }

    pub fn delivered(&self, start: usize, limit: usize) -> Vec<Delivered> {
        self.log
            .iter()
            .skip(start)
            .take(limit)
            .map(|r| Delivered {
                update_id: r.id,
                kind: self.kinds[usize::from(r.meta.kind)].to_string(),
                chat_id: (r.meta.chat_id != 0).then_some(r.meta.chat_id),
                message_id: (r.meta.message_id != 0).then_some(r.meta.message_id),
                text: r.meta.text.as_deref().map(str::to_owned),
            })
            .collect()
    }

    #[cfg(test)]
    pub fn pending_json(&self) -> Vec<Arc<str>> {
        self.pending.iter().map(|q| q.json.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kind: u16) -> Meta {
        Meta {
            kind,
            message_id: 1,
            chat_id: -5,
            text: Some(Arc::from("hi")),
        }
    }

    #[test]
    fn confirm_and_keep_last() {
        let mut q = UpdateQueue::new();
        for _ in 0..5 {
            q.push_object(MESSAGE, &serde_json::json!({}), meta(MESSAGE));
        }
        assert_eq!(q.len(), 5);
        q.confirm_below(3);
        assert_eq!(q.len(), 3);
        assert_eq!(q.confirmed(), 2);
        assert_eq!(q.delivered(0, 10)[1].update_id, 2);
        q.keep_last(1);
        assert_eq!(q.len(), 1);
        assert_eq!(q.dropped, 2);
        assert_eq!(
            q.batch_response(100),
            "{\"ok\":true,\"result\":[{\"update_id\":5,\"message\":{}}]}"
        );
        assert!(q.confirm_front(5));
        assert_eq!(q.batch_response(100), "{\"ok\":true,\"result\":[]}");
    }

    #[test]
    fn filter_by_allowed_updates() {
        let mut q = UpdateQueue::new();
        q.allowed = allowed_mask(&["callback_query".to_owned()]);
        q.push_object(MESSAGE, &serde_json::json!({}), meta(MESSAGE));
        q.push_object(CALLBACK_QUERY, &serde_json::json!({}), meta(CALLBACK_QUERY));
        let unknown = q.kind_of("brand_new_update");
        q.push_object(unknown, &serde_json::json!({}), meta(unknown));
        assert_eq!(q.len(), 2);
        assert_eq!(q.filtered, 1);
        assert_eq!(allowed_mask(&[]), default_allowed());
        assert!(!mask_names(default_allowed()).contains(&"chat_member".to_owned()));
    }
}

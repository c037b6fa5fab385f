//! The index schema: one document per stored message.
//!
//! Nothing is stored in tantivy's document store: results carry (chat, message) from fast
//! fields and the service reads the text from the store for snippets, so the index holds only
//! what searching and sorting need and stays small.
//!
//! | field | type | options | use |
//! |---|---|---|---|
//! | `key` | bytes (chat i64 BE + message i32 BE) | indexed | unique key: delete/replace by term |
//! | `chat` | i64 | indexed, fast | scope filter; result |
//! | `msg` | i64 | fast | result |
//! | `user` | u64 | indexed | `from:` (absent for channel posts) |
//! | `order` | i64: date (Unix seconds) << 20 + low 20 bits of the message id | fast | newest first (ties by id); `after:`/`before:` as a fast-field range; the date of a hit |
//! | `kind` | u64 (`MessageKind::as_u8`) | indexed | kind filters (dashboard, later) |
//! | `text` | text, `tgbox_text` analyzer | positions | words and phrases |
//!
//! Bot commands (`/search rust`, `/start@bot`) are indexed without their text: otherwise every
//! `/search` would find itself and earlier searches for the same words.

use super::analyzer::ANALYZER_NAME;
use crate::domain::{ChatId, MessageId, StoredMessage};
use tantivy::TantivyDocument;
use tantivy::schema::{
    BytesOptions, FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    pub key: Field,
    pub chat: Field,
    pub msg: Field,
    pub user: Field,
    pub order: Field,
    pub kind: Field,
    pub text: Field,
}

pub(crate) const CHAT: &str = "chat";
pub(crate) const MSG: &str = "msg";
pub(crate) const ORDER: &str = "order";

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let key = b.add_bytes_field("key", BytesOptions::default().set_indexed());
    let chat = b.add_i64_field(CHAT, INDEXED | FAST);
    let msg = b.add_i64_field(MSG, FAST);
    let user = b.add_u64_field("user", INDEXED);
    let order = b.add_i64_field(ORDER, FAST);
    let kind = b.add_u64_field("kind", INDEXED);
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(ANALYZER_NAME)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text = b.add_text_field(
        "text",
        TextOptions::default().set_indexing_options(indexing),
    );
    let fields = Fields {
        key,
        chat,
        msg,
        user,
        order,
        kind,
        text,
    };
    (b.build(), fields)
}

/// The unique key of a message: message ids are only unique within a chat.
pub(crate) fn key_bytes(chat: ChatId, msg: MessageId) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&chat.0.to_be_bytes());
    key[8..].copy_from_slice(&msg.0.to_be_bytes());
    key
}

pub(crate) fn document(f: &Fields, m: &StoredMessage) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_bytes(f.key, &key_bytes(m.chat_id, m.message_id));
    doc.add_i64(f.chat, m.chat_id.0);
    doc.add_i64(f.msg, i64::from(m.message_id.0));
    if let Some(user) = m.user_id {
        doc.add_u64(f.user, user.0);
    }
    doc.add_i64(f.order, order_key(m.date.0, m.message_id.0));
    doc.add_u64(f.kind, u64::from(m.kind.as_u8()));
    if !m.text.is_empty() && !is_command(&m.text) {
        doc.add_text(f.text, &m.text);
    }
    doc
}

/// Newest first: by date, and within one second by message id (Telegram dates have one-second
/// resolution, and a busy chat posts several messages a second).
pub(crate) fn order_key(date: i64, msg: i32) -> i64 {
    date.saturating_mul(ORDER_SHIFT)
        .saturating_add(i64::from(msg) & (ORDER_SHIFT - 1))
}

pub(crate) const ORDER_SHIFT: i64 = 1 << 20;

/// The date part of an order key.
pub(crate) fn order_date(order: i64) -> i64 {
    order.div_euclid(ORDER_SHIFT)
}

/// A message that starts with a bot command: `/` and a letter.
fn is_command(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next() == Some('/') && chars.next().is_some_and(|c| c.is_alphabetic())
}

#[cfg(test)]
mod tests {
    #[test]
    fn commands_are_recognised() {
        assert!(super::is_command("/search rust"));
        assert!(super::is_command("/جستجو کتاب"));
        assert!(!super::is_command("/ not a command"));
        assert!(!super::is_command("a/b"));
        assert!(!super::is_command("/"));
    }
}

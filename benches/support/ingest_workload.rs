//! The ingest workload shared by `benches/ingest.rs` and `examples/ingest_cost.rs`, so both
//! measure the same messages: 8 groups, 500 users, 4-33 words of a small vocabulary.

use tgbox::domain::{
    ChatId, ChatKind, ChatProfile, IncomingMessage, IncomingUpdate, MessageId, MessageKind,
    Timestamp, UpdateContent, UpdateId, UserId, UserProfile,
};

const WORDS: &[&str] = &[
    "the",
    "release",
    "build",
    "is",
    "green",
    "again",
    "سلام",
    "دوستان",
    "می‌روم",
    "کتاب",
    "rust",
    "tokio",
    "async",
    "store",
    "عالی",
    "thanks",
    "meeting",
    "tomorrow",
    "at",
    "ten",
];

pub fn update(n: u32) -> IncomingUpdate {
    let chat = i64::from(n % 8);
    let user = u64::from(n % 500) + 1;
    let words = 4 + (n % 30) as usize;
    let text: Vec<&str> = (0..words)
        .map(|i| WORDS[(n as usize * 7 + i * 13) % WORDS.len()])
        .collect();
    IncomingUpdate {
        update_id: UpdateId(n),
        received_at: Timestamp(1_700_000_000),
        content: UpdateContent::Message(IncomingMessage {
            chat: ChatProfile {
                id: ChatId(-1_001_000_000_000 - chat),
                kind: ChatKind::Supergroup,
                title: Some(format!("Group {chat}")),
                username: None,
                is_forum: false,
            },
            from: Some(UserProfile {
                id: UserId(user),
                is_bot: false,
                first_name: format!("User {user}"),
                last_name: None,
                username: Some(format!("user{user}")),
                language_code: Some("fa".into()),
            }),
            message_id: MessageId(n as i32),
            date: Timestamp(1_700_000_000 + i64::from(n)),
            edit_date: None,
            kind: MessageKind::Text,
            text: text.join(" "),
            reply_to: None,
            thread_id: None,
            joined: vec![],
            left: None,
        }),
    }
}

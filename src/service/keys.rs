//! Names of the key-value keys the features use, in one place, so that `/forget` knows which
//! keys belong to a user.
//!
//! Convention: a key that holds something about one user lives under [`user_prefix`]
//! (`user:<id>:...`, e.g. a persistent rate limit `user:42:rate:search`); `/forget` deletes
//! everything under it, plus the dialogue of the user's private chat.

use crate::domain::{ChatId, UserId};

/// The dialogue state of a chat (`dialogue:<chat id>`). A private chat's id is its user's id.
pub fn dialogue_key(chat: ChatId) -> String {
    format!("dialogue:{}", chat.0)
}

/// The prefix of every key that belongs to one user (`user:<id>:`).
pub fn user_prefix(user: UserId) -> String {
    format!("user:{}:", user.0)
}

/// The dialogue key of a user's private chat with the bot.
pub fn private_dialogue_key(user: UserId) -> Option<String> {
    i64::try_from(user.0)
        .ok()
        .map(|id| dialogue_key(ChatId(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_do_not_overlap_between_users() {
        assert_eq!(dialogue_key(ChatId(-100)), "dialogue:-100");
        assert_eq!(user_prefix(UserId(4)), "user:4:");
        // "user:4:" is not a prefix of user 42's keys.
        assert!(!user_prefix(UserId(42)).starts_with(&user_prefix(UserId(4))));
        assert_eq!(
            private_dialogue_key(UserId(7)).as_deref(),
            Some("dialogue:7")
        );
    }
}

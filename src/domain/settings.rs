//! Per-user preferences, set with `/settings`.

/// Which language the bot answers a user in.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum LanguagePref {
    /// Follow the `language_code` Telegram sends with each update.
    #[default]
    Auto,
    English,
    Persian,
}

/// A user's settings. A user who never opened `/settings` has the default: automatic language and
/// announcements on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserSettings {
    pub language: LanguagePref,
    /// Whether broadcasts to "everyone who allows announcements" reach this user.
    pub announcements: bool,
}

impl Default for UserSettings {
    fn default() -> Self {
        UserSettings {
            language: LanguagePref::Auto,
            announcements: true,
        }
    }
}

//! `/settings`: the user's language and announcements, changed with inline buttons that edit the
//! message in place.
//!
//! A button's data names the user it belongs to and one action (`st:<user id>:<action>`, at most
//! 30 bytes), so the panel also works in a group: a press by someone else is refused with an
//! answer, and nothing needs to be remembered between the panel and the press.

use super::handlers::Handlers;
use crate::domain::{LanguagePref, UserId, UserSettings};
use crate::i18n::{Lang, Msg, Tr};
use teloxide::prelude::*;
use teloxide::types::{CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, ParseMode};

/// The start of a settings button's callback data.
pub const PREFIX: &str = "st:";

/// What a button does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingsAction {
    Language(LanguagePref),
    Announcements(bool),
}

impl SettingsAction {
    fn code(self) -> &'static str {
        match self {
            SettingsAction::Language(LanguagePref::Auto) => "la",
            SettingsAction::Language(LanguagePref::English) => "le",
            SettingsAction::Language(LanguagePref::Persian) => "lf",
            SettingsAction::Announcements(true) => "a1",
            SettingsAction::Announcements(false) => "a0",
        }
    }

    fn from_code(code: &str) -> Option<SettingsAction> {
        Some(match code {
            "la" => SettingsAction::Language(LanguagePref::Auto),
            "le" => SettingsAction::Language(LanguagePref::English),
            "lf" => SettingsAction::Language(LanguagePref::Persian),
            "a1" => SettingsAction::Announcements(true),
            "a0" => SettingsAction::Announcements(false),
            _ => return None,
        })
    }

    pub fn apply(self, mut settings: UserSettings) -> UserSettings {
        match self {
            SettingsAction::Language(l) => settings.language = l,
            SettingsAction::Announcements(on) => settings.announcements = on,
        }
        settings
    }
}

/// A settings button: whose settings, and what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingsButton {
    pub owner: u64,
    pub action: SettingsAction,
}

impl SettingsButton {
    pub fn encode(&self) -> String {
        format!("{PREFIX}{}:{}", self.owner, self.action.code())
    }

    /// The button of `data`, or `None` for anything malformed.
    pub fn decode(data: &str) -> Option<SettingsButton> {
        let (owner, action) = data.strip_prefix(PREFIX)?.split_once(':')?;
        if owner.is_empty() || !owner.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(SettingsButton {
            owner: owner.parse().ok()?,
            action: SettingsAction::from_code(action)?,
        })
    }
}

/// The panel's text: current language (for "automatic", the language it resolves to now) and
/// announcements.
pub fn settings_html(tr: Tr, settings: &UserSettings, telegram_lang: Lang) -> String {
    let language = match settings.language {
        LanguagePref::English => Lang::En.native_name().to_string(),
        LanguagePref::Persian => Lang::Fa.native_name().to_string(),
        LanguagePref::Auto => tr.f(
            Msg::SettingsLanguageAuto,
            &[("language", &telegram_lang.native_name())],
        ),
    };
    let announcements = if settings.announcements {
        Msg::SettingsAnnouncementsOn
    } else {
        Msg::SettingsAnnouncementsOff
    };
    format!(
        "{}\n\n{}\n{}\n\n{}",
        tr.t(Msg::SettingsTitle),
        tr.f(Msg::SettingsLanguage, &[("language", &language)]),
        tr.t(announcements),
        tr.t(Msg::SettingsHint)
    )
}

/// The panel's buttons; the current choices are ticked.
pub fn settings_keyboard(tr: Tr, owner: u64, settings: &UserSettings) -> InlineKeyboardMarkup {
    let button = |label: &str, action: SettingsAction| {
        let current = action.apply(*settings) == *settings;
        let label = if current {
            format!("✓ {label}")
        } else {
            label.to_string()
        };
        InlineKeyboardButton::callback(label, SettingsButton { owner, action }.encode())
    };
    InlineKeyboardMarkup::new(vec![
        vec![
            button(
                Lang::En.native_name(),
                SettingsAction::Language(LanguagePref::English),
            ),
            button(
                Lang::Fa.native_name(),
                SettingsAction::Language(LanguagePref::Persian),
            ),
            button(
                tr.t(Msg::SettingsAutoButton),
                SettingsAction::Language(LanguagePref::Auto),
            ),
        ],
        vec![
            button(
                tr.t(Msg::SettingsAnnouncementsOnButton),
                SettingsAction::Announcements(true),
            ),
            button(
                tr.t(Msg::SettingsAnnouncementsOffButton),
                SettingsAction::Announcements(false),
            ),
        ],
    ])
}

impl Handlers {
    /// `/settings`: the panel for the sender.
    pub(super) async fn settings_command(&self, msg: &Message, tr: Tr) {
        let Some(from) = msg.from.as_ref() else {
            return; // anonymous admins and channels have no settings
        };
        let settings = self.user_settings(UserId(from.id.0)).await;
        let telegram_lang = Lang::from_code(from.language_code.as_deref());
        let text = settings_html(tr, &settings, telegram_lang);
        let markup = settings_keyboard(tr, from.id.0, &settings);
        self.send_html(msg.chat.id, Some(msg.id), text, Some(markup))
            .await;
    }

    /// A press on a settings button: store the change, answer, and redraw the panel in place
    /// (in the new language when the language changed).
    pub(super) async fn settings_callback(&self, q: &CallbackQuery) {
        let tr = self.tr_for(Some(&q.from)).await;
        let Some(button) = q.data.as_deref().and_then(SettingsButton::decode) else {
            self.answer(q, Some(tr.t(Msg::SettingsBadButton))).await;
            return;
        };
        if button.owner != q.from.id.0 {
            self.answer(q, Some(tr.t(Msg::SettingsNotYours))).await;
            return;
        }
        let user = UserId(q.from.id.0);
        let current = self.user_settings(user).await;
        let updated = button.action.apply(current);
        if updated != current && !self.save_user_settings(user, updated).await {
            self.answer(q, Some(tr.t(Msg::SettingsFailed))).await;
            return;
        }
        let telegram_lang = Lang::from_code(q.from.language_code.as_deref());
        let tr = Tr::new(Lang::resolve(
            updated.language,
            q.from.language_code.as_deref(),
        ));
        self.answer(q, Some(tr.t(Msg::SettingsSaved))).await;
        let Some(message) = q.message.as_ref() else {
            return;
        };
        if updated == current {
            return; // the panel already shows it ("message is not modified" otherwise)
        }
        let edit = self
            .bot()
            .edit_message_text(
                message.chat().id,
                message.id(),
                settings_html(tr, &updated, telegram_lang),
            )
            .parse_mode(ParseMode::Html)
            .reply_markup(settings_keyboard(tr, button.owner, &updated));
        if let Err(e) = edit.await {
            tracing::debug!(error = %e, "settings panel edit failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(markup: &InlineKeyboardMarkup) -> Vec<(String, String)> {
        markup
            .inline_keyboard
            .iter()
            .flatten()
            .filter_map(|b| match &b.kind {
                teloxide::types::InlineKeyboardButtonKind::CallbackData(d) => {
                    Some((b.text.clone(), d.clone()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn buttons_round_trip_within_64_bytes() {
        let settings = UserSettings::default();
        let kb = settings_keyboard(Tr::new(Lang::En), u64::MAX, &settings);
        let buttons = data(&kb);
        assert_eq!(buttons.len(), 5);
        for (_, d) in &buttons {
            assert!(d.len() < 64, "{d}");
            let b = SettingsButton::decode(d).expect(d);
            assert_eq!(b.owner, u64::MAX);
            assert_eq!(b.encode(), *d);
        }
        // The current choices are ticked: automatic language, announcements on.
        let ticked: Vec<&str> = buttons
            .iter()
            .filter(|(t, _)| t.starts_with('✓'))
            .map(|(t, _)| t.as_str())
            .collect();
        assert_eq!(ticked, ["✓ Automatic", "✓ Announcements: on"]);
    }

    #[test]
    fn bad_data_is_refused() {
        for bad in [
            "",
            "st:",
            "st:1",
            "st:1:",
            "st::lf",
            "st:-1:lf",
            "st:+1:lf",
            "st:1:lx",
            "st:1:lf:x",
            "st:99999999999999999999999:lf",
            "s:1:2:n",
            "st:١:lf",
        ] {
            assert_eq!(SettingsButton::decode(bad), None, "{bad}");
        }
        assert_eq!(
            SettingsButton::decode("st:42:a0"),
            Some(SettingsButton {
                owner: 42,
                action: SettingsAction::Announcements(false)
            })
        );
    }

    #[test]
    fn the_panel_shows_the_settings_in_the_language() {
        let fa = UserSettings {
            language: LanguagePref::Persian,
            announcements: false,
        };
        let text = settings_html(Tr::new(Lang::Fa), &fa, Lang::En);
        assert!(text.contains("زبان: <b>فارسی</b>"), "{text}");
        assert!(text.contains("اطلاعیه‌ها: <b>خاموش</b>"), "{text}");
        let auto = settings_html(Tr::new(Lang::En), &UserSettings::default(), Lang::Fa);
        assert!(auto.contains("automatic (\u{2068}فارسی\u{2069})"), "{auto}");
        assert!(auto.contains("Announcements: <b>on</b>"), "{auto}");
    }
}

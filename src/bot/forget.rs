//! `/forget`: a two-step flow on a stored dialogue. In a private chat the bot asks for
//! confirmation (buttons, or typing the confirmation word); on "yes" the forget service erases
//! the user; "Cancel", or silence until the dialogue's TTL, erases nothing. In a group it only
//! points to the private chat (confirming there keeps the question and the answer private).

use super::dialogue::{self, BotDialogue};
use super::handlers::Handlers;
use crate::domain::UserId;
use crate::i18n::{Lang, Msg, Tr};
use crate::service::{ForgetPreview, ForgetReport};
use crate::store::{StoreError, now_millis};
use teloxide::prelude::*;
use teloxide::types::{CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, ParseMode};
use teloxide::utils::html;

/// The start of a `/forget` button's callback data.
pub const PREFIX: &str = "fg:";
const YES: &str = "fg:y";
const NO: &str = "fg:n";

fn confirm_keyboard(tr: Tr) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(vec![vec![
        InlineKeyboardButton::callback(tr.t(Msg::ForgetYesButton), YES),
        InlineKeyboardButton::callback(tr.t(Msg::ForgetCancelButton), NO),
    ]])
}

/// Whether `text` is the confirmation word, in any language (case and surrounding space do
/// not matter).
pub fn is_confirmation(text: &str) -> bool {
    let typed = text.trim().to_lowercase();
    Lang::ALL
        .iter()
        .any(|l| Tr::new(*l).t(Msg::ForgetWord).to_lowercase() == typed)
}

fn confirm_html(tr: Tr, preview: &ForgetPreview) -> String {
    let mut messages = tr.num(preview.messages);
    if preview.more {
        messages.push('+');
    }
    tr.f(
        Msg::ForgetConfirm,
        &[
            ("messages", &messages),
            ("chats", &tr.num(preview.chats)),
            ("yes", &html::escape(tr.t(Msg::ForgetYesButton))),
            ("word", &html::escape(tr.t(Msg::ForgetWord))),
        ],
    )
}

fn done_html(tr: Tr, report: &ForgetReport) -> String {
    tr.f(
        Msg::ForgetDone,
        &[
            ("messages", &tr.num(report.messages)),
            ("memberships", &tr.num(report.memberships)),
        ],
    )
}

impl Handlers {
    /// `/forget`: ask for confirmation (private) or point to the private chat (group).
    pub(super) async fn forget_command(&self, msg: &Message, tr: Tr) {
        let Some(from) = msg.from.as_ref() else {
            return;
        };
        if !msg.chat.is_private() {
            let text = tr.t(Msg::ForgetUsePrivate).to_string();
            self.send_html(msg.chat.id, Some(msg.id), text, None).await;
            return;
        }
        let user = UserId(from.id.0);
        let service = self.forget_service();
        let preview = match tokio::task::spawn_blocking(move || service.preview(user)).await {
            Ok(Ok(p)) => p,
            other => {
                tracing::warn!(result = ?other.map(|r| r.map(|_| ())), "forget preview failed");
                ForgetPreview::default()
            }
        };
        let sent = self
            .send_html(
                msg.chat.id,
                Some(msg.id),
                confirm_html(tr, &preview),
                Some(confirm_keyboard(tr)),
            )
            .await;
        let state = BotDialogue::ForgetConfirm {
            user: user.0,
            prompt: sent.map(|m| m.id.0),
        };
        dialogue::save(&self.dialogues(), msg.chat.id, state).await;
    }

    /// A press on "Yes, delete everything" or "Cancel".
    pub(super) async fn forget_callback(&self, q: &CallbackQuery) {
        let tr = self.tr_for(Some(&q.from)).await;
        let data = q.data.as_deref().unwrap_or("");
        let Some(message) = q.message.as_ref().filter(|_| data == YES || data == NO) else {
            self.answer(q, Some(tr.t(Msg::CallbackInvalid))).await;
            return;
        };
        let chat = message.chat();
        let user = UserId(q.from.id.0);
        // Only the user's own private chat holds their /forget question.
        if !chat.is_private() || u64::try_from(chat.id.0) != Ok(user.0) {
            self.answer(q, Some(tr.t(Msg::CallbackInvalid))).await;
            return;
        }
        let pending = matches!(
            dialogue::load(&self.dialogues(), chat.id).await,
            Some(BotDialogue::ForgetConfirm { user: u, .. }) if u == user.0
        );
        let text = if !pending {
            self.answer(q, Some(tr.t(Msg::ForgetExpired))).await;
            tr.t(Msg::ForgetExpired).to_string()
        } else if data == NO {
            dialogue::clear(&self.dialogues(), chat.id).await;
            self.answer(q, Some(tr.t(Msg::ForgetCancelled))).await;
            tr.t(Msg::ForgetCancelled).to_string()
        } else {
            match self.run_forget(user, chat.id).await {
                Ok(report) => {
                    self.answer(q, None).await;
                    done_html(tr, &report)
                }
                Err(()) => {
                    self.answer(q, Some(tr.t(Msg::ForgetFailed))).await;
                    return;
                }
            }
        };
        // The question becomes the answer, without buttons.
        let edit = self
            .bot()
            .edit_message_text(chat.id, message.id(), text)
            .parse_mode(ParseMode::Html);
        if let Err(e) = edit.await {
            tracing::debug!(error = %e, "forget prompt edit failed");
        }
    }

    /// Text (not a command) in a private chat: an answer to a pending dialogue, if any.
    pub(super) async fn dialogue_text(&self, msg: &Message, text: &str) {
        let Some(from) = msg.from.as_ref() else {
            return;
        };
        let Some(state) = dialogue::load(&self.dialogues(), msg.chat.id).await else {
            return; // no dialogue: plain text in private is archived, not answered
        };
        match state {
            BotDialogue::ForgetConfirm { user, prompt } if user == from.id.0 => {
                let tr = self.tr_for(Some(from)).await;
                if !is_confirmation(text) {
                    let waiting = tr.f(
                        Msg::ForgetWaiting,
                        &[("word", &html::escape(tr.t(Msg::ForgetWord)))],
                    );
                    self.send_html(msg.chat.id, Some(msg.id), waiting, None)
                        .await;
                    return;
                }
                let reply = match self.run_forget(UserId(user), msg.chat.id).await {
                    Ok(report) => done_html(tr, &report),
                    Err(()) => tr.t(Msg::ForgetFailed).to_string(),
                };
                if let Some(prompt) = prompt {
                    // The buttons of the question are spent.
                    let id = teloxide::types::MessageId(prompt);
                    if let Err(e) = self.bot().edit_message_reply_markup(msg.chat.id, id).await {
                        tracing::debug!(error = %e, "forget prompt buttons not removed");
                    }
                }
                self.send_html(msg.chat.id, None, reply, None).await;
            }
            BotDialogue::ForgetConfirm { .. } => {}
        }
    }

    /// Erase the user and end the dialogue; `Err` (logged) when the store failed part-way.
    async fn run_forget(&self, user: UserId, chat: ChatId) -> Result<ForgetReport, ()> {
        let service = self.forget_service();
        let result: Result<Result<ForgetReport, StoreError>, _> =
            tokio::task::spawn_blocking(move || service.forget(user, now_millis())).await;
        dialogue::clear(&self.dialogues(), chat).await;
        match result {
            Ok(Ok(report)) => Ok(report),
            Ok(Err(e)) => {
                tracing::error!(error = %e, user = user.0, "forget failed");
                Err(())
            }
            Err(e) => {
                tracing::error!(error = %e, user = user.0, "forget task failed");
                Err(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_word_is_accepted_in_either_language() {
        for ok in ["DELETE", " delete ", "Delete", "حذف", " حذف\n"] {
            assert!(is_confirmation(ok), "{ok:?}");
        }
        for no in ["", "yes", "DELETE please", "حذف کن"] {
            assert!(!is_confirmation(no), "{no:?}");
        }
    }

    #[test]
    fn the_question_names_the_button_and_the_word() {
        let mut preview = ForgetPreview {
            messages: 12,
            more: false,
            chats: 3,
        };
        let en = confirm_html(Tr::new(Lang::En), &preview);
        assert!(en.contains("That is 12 archived messages"), "{en}");
        assert!(en.contains("<b>Yes, delete everything</b>"), "{en}");
        assert!(en.contains("<code>DELETE</code>"), "{en}");
        let fa = confirm_html(Tr::new(Lang::Fa), &preview);
        assert!(fa.contains("۱۲ پیام"), "{fa}");
        preview.more = true;
        let many = confirm_html(Tr::new(Lang::En), &preview);
        assert!(many.contains("That is 12+ archived messages"), "{many}");
        assert!(fa.contains("<code>حذف</code>"), "{fa}");
    }
}

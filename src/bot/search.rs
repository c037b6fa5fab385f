//! `/search` and its paging buttons.
//!
//! The buttons carry only the id of the `/search` message they answer (plus page and order).
//! Pressing one reads that message back from the store — it was archived before the reply was
//! sent — and runs the query again with the scope of where the button is and who pressed it. So
//! paging needs no state in memory, survives restarts, and cannot widen what anyone sees.

use super::handlers::{Handlers, parse_command};
use super::search_render::{PageRef, keyboard, page_html, service_error_text};
use crate::domain::{ChatId, MessageId, UserId};
use crate::i18n::{Msg, Tr};
use crate::search::SortOrder;
use crate::service::{Scope, SearchPage, SearchParams, SearchService, SearchServiceError};
use std::sync::Arc;
use teloxide::prelude::*;
use teloxide::types::{CallbackQuery, LinkPreviewOptions, ParseMode, ReplyParameters};
use teloxide::utils::html;

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Run a search off the async workers.
async fn run(
    service: Arc<SearchService>,
    query: String,
    scope: Scope,
    requester: UserId,
    page: usize,
    order: SortOrder,
) -> Result<SearchPage, SearchServiceError> {
    let joined = tokio::task::spawn_blocking(move || {
        service.search(&SearchParams {
            query: &query,
            scope,
            requester: Some(requester),
            page,
            order,
        })
    })
    .await;
    match joined {
        Ok(result) => result,
        Err(e) => Err(SearchServiceError::Index(
            crate::search::SearchError::Index(e.to_string()),
        )),
    }
}

/// The failure in the user's language (plain text).
fn error_text(tr: Tr, e: &SearchServiceError) -> String {
    match service_error_text(tr, e) {
        Some(text) => text,
        None => {
            tracing::error!(error = %e, "search failed");
            tr.t(Msg::SearchUnavailable).to_string()
        }
    }
}

fn scope_of(chat: &teloxide::types::Chat, user: UserId) -> Scope {
    if chat.is_private() {
        Scope::Member(user)
    } else {
        Scope::Group(ChatId(chat.id.0))
    }
}

impl Handlers {
    /// `/search <query>` in `msg`.
    pub(super) async fn search_command(&self, msg: &Message, args: &str, tr: Tr) {
        let Some(service) = self.search_service() else {
            let text = html::escape(tr.t(Msg::SearchUnavailable));
            self.send_html(msg.chat.id, Some(msg.id), text, None).await;
            return;
        };
        let Some(from) = msg.from.as_ref() else {
            return; // anonymous admins and channels cannot be scoped to a person
        };
        let user = UserId(from.id.0);
        let scope = scope_of(&msg.chat, user);
        let result = run(service, args.to_string(), scope, user, 0, SortOrder::Newest).await;
        let (text, markup) = match &result {
            Ok(page) => (
                page_html(tr, page, msg.chat.is_private()),
                keyboard(tr, page, msg.id.0),
            ),
            Err(e) => (html::escape(&error_text(tr, e)), None),
        };
        let mut request = self
            .bot()
            .send_message(msg.chat.id, text)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview())
            .reply_parameters(ReplyParameters::new(msg.id).allow_sending_without_reply());
        if let Some(markup) = markup {
            request = request.reply_markup(markup);
        }
        if let Err(e) = request.await {
            tracing::warn!(error = %e, chat = msg.chat.id.0, "search reply failed");
        }
    }

    /// A press on a paging button.
    pub(super) async fn search_callback(&self, q: &CallbackQuery) {
        let tr = self.tr_for(Some(&q.from)).await;
        let Some(page_ref) = q.data.as_deref().and_then(PageRef::decode) else {
            self.answer(q, Some(tr.t(Msg::CallbackInvalid))).await;
            return;
        };
        let Some(message) = q.message.as_ref() else {
            self.answer(q, Some(tr.t(Msg::SearchTooOld))).await;
            return;
        };
        let (chat, results_message) = (message.chat().clone(), message.id());
        let user = UserId(q.from.id.0);
        let Some(service) = self.search_service() else {
            self.answer(q, Some(tr.t(Msg::SearchUnavailable))).await;
            return;
        };
        let Some(query) = self
            .command_args(ChatId(chat.id.0), page_ref.command_message)
            .await
        else {
            self.answer(q, Some(tr.t(Msg::SearchGone))).await;
            return;
        };
        let scope = scope_of(&chat, user);
        let result = run(service, query, scope, user, page_ref.page, page_ref.order).await;
        let page = match result {
            Ok(page) => page,
            Err(e) => {
                self.answer(q, Some(&error_text(tr, &e))).await;
                return;
            }
        };
        self.answer(q, None).await;
        let mut edit = self
            .bot()
            .edit_message_text(
                chat.id,
                results_message,
                page_html(tr, &page, chat.is_private()),
            )
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview());
        if let Some(markup) = keyboard(tr, &page, page_ref.command_message) {
            edit = edit.reply_markup(markup);
        }
        if let Err(e) = edit.await {
            // "message is not modified" when the same page is asked for twice.
            tracing::debug!(error = %e, "search page edit failed");
        }
    }

    /// The arguments of the archived `/search` command `id` in `chat`.
    async fn command_args(&self, chat: ChatId, id: i32) -> Option<String> {
        let store = self.store().clone();
        let stored = tokio::task::spawn_blocking(move || store.message(chat, MessageId(id)))
            .await
            .ok()?
            .ok()??;
        let cmd = parse_command(&stored.text, self.bot_username())?;
        (cmd.name == "search").then(|| cmd.args.to_string())
    }

    pub(super) async fn answer(&self, q: &CallbackQuery, text: Option<&str>) {
        let mut request = self.bot().answer_callback_query(q.id.clone());
        if let Some(text) = text {
            request = request.text(text);
        }
        if let Err(e) = request.await {
            tracing::debug!(error = %e, "answerCallbackQuery failed");
        }
    }
}

//! `/stats`, `/me` and `/top`: parse the arguments, build the report off the async workers
//! (`service::StatsService` reads the store's counters), render it with `stats_text` in the
//! asking user's language (the same `Tr` as every other reply).
//!
//! In a group every report is about that group only (`/me` there shows nothing of the member's
//! other groups); in a private chat `/stats` and `/me` cover the groups the user is an active
//! member of, and `/top` asks for a group.

use super::handlers::Handlers;
use super::stats_text::{self, Refusal};
use crate::domain::{ChatId, Timestamp, UserId};
use crate::i18n::Tr;
use crate::service::{StatsService, TopPeriod};
use teloxide::prelude::*;

/// What was asked, resolved to plain ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsRequest {
    Group { chat: ChatId, period: TopPeriod },
    MyGroups { user: UserId },
    Me { user: UserId, only: Option<ChatId> },
    Top { chat: ChatId, period: TopPeriod },
}

/// The request for `command` with `args`, or why there is none (rendered by
/// [`stats_text::refusal`]).
pub fn request_for(
    command: &str,
    args: &str,
    chat: ChatId,
    private: bool,
    from: Option<UserId>,
) -> Result<StatsRequest, Refusal> {
    let period = || {
        TopPeriod::parse(args).map_err(|e| Refusal::BadPeriod {
            command: command.to_string(),
            given: e.given,
        })
    };
    match command {
        "stats" if private => match from {
            Some(user) => Ok(StatsRequest::MyGroups { user }),
            None => Err(Refusal::NeedsPerson),
        },
        "stats" => Ok(StatsRequest::Group {
            chat,
            period: period()?,
        }),
        "top" if private => Err(Refusal::TopNeedsGroup),
        "top" => Ok(StatsRequest::Top {
            chat,
            period: period()?,
        }),
        _ => match from {
            Some(user) => Ok(StatsRequest::Me {
                user,
                only: (!private).then_some(chat),
            }),
            None => Err(Refusal::NeedsPerson),
        },
    }
}

/// Build the report and render it in `tr`'s language (blocking: reads the store).
pub fn render(service: &StatsService, request: StatsRequest, now: Timestamp, tr: Tr) -> String {
    let result = match request {
        StatsRequest::Group { chat, period } => service
            .group_report(chat, period, now)
            .map(|r| stats_text::group_stats(tr, &r)),
        StatsRequest::MyGroups { user } => service
            .groups_summary(user, now)
            .map(|r| stats_text::groups_summary(tr, &r)),
        StatsRequest::Me { user, only } => service
            .member_report(user, only, now)
            .map(|r| stats_text::member_report(tr, &r, only.is_some())),
        StatsRequest::Top { chat, period } => service
            .top(chat, period, now)
            .map(|r| stats_text::top(tr, &r)),
    };
    match result {
        Ok(text) => text,
        Err(e) => {
            tracing::error!(error = %e, ?request, "statistics failed");
            stats_text::unavailable(tr)
        }
    }
}

impl Handlers {
    /// `/stats`, `/me` or `/top` (`command`) with `args` in `msg`, answered in `tr`'s language.
    pub(super) async fn stats_command(&self, msg: &Message, command: &str, args: &str, tr: Tr) {
        let request = request_for(
            command,
            args,
            ChatId(msg.chat.id.0),
            msg.chat.is_private(),
            msg.from.as_ref().map(|u| UserId(u.id.0)),
        );
        let text = match request {
            Ok(request) => {
                let service = StatsService::new(self.store().clone());
                let now = Timestamp::now();
                tokio::task::spawn_blocking(move || render(&service, request, now, tr))
                    .await
                    .unwrap_or_else(|e| {
                        tracing::error!(error = %e, "statistics task failed");
                        stats_text::unavailable(tr)
                    })
            }
            Err(refusal) => stats_text::refusal(tr, &refusal),
        };
        self.send_html(msg.chat.id, Some(msg.id), text, None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_follow_the_chat_and_the_arguments() {
        let (g, u) = (ChatId(-100), Some(UserId(7)));
        assert_eq!(
            request_for("stats", "", g, false, u),
            Ok(StatsRequest::Group {
                chat: g,
                period: TopPeriod::Month
            })
        );
        assert_eq!(
            request_for("stats", "", ChatId(7), true, u),
            Ok(StatsRequest::MyGroups { user: UserId(7) })
        );
        assert_eq!(
            request_for("top", "7D", g, false, u),
            Ok(StatsRequest::Top {
                chat: g,
                period: TopPeriod::Week
            })
        );
        assert_eq!(
            request_for("top", "all", g, false, None),
            Ok(StatsRequest::Top {
                chat: g,
                period: TopPeriod::AllTime
            })
        );
        assert_eq!(
            request_for("top", "5d", g, false, u),
            Err(Refusal::BadPeriod {
                command: "top".into(),
                given: "5d".into()
            })
        );
        assert_eq!(
            request_for("top", "", ChatId(7), true, u),
            Err(Refusal::TopNeedsGroup)
        );
        assert_eq!(
            request_for("me", "", g, false, u),
            Ok(StatsRequest::Me {
                user: UserId(7),
                only: Some(g)
            })
        );
        assert_eq!(
            request_for("me", "", ChatId(7), true, u),
            Ok(StatsRequest::Me {
                user: UserId(7),
                only: None
            })
        );
        assert_eq!(
            request_for("me", "", g, false, None),
            Err(Refusal::NeedsPerson)
        );
    }
}

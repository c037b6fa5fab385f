//! `/stats`, `/me` and `/top`: parse the arguments, build the report off the async workers
//! (`service::StatsService` reads the store's counters), render it with `stats_text`.
//!
//! In a group every report is about that group only (`/me` there shows nothing of the member's
//! other groups); in a private chat `/stats` and `/me` cover the groups the user is an active
//! member of, and `/top` asks for a group.

use super::handlers::Handlers;
use super::stats_text;
use crate::domain::{ChatId, Timestamp, UserId};
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

/// The request for `command` with `args`, or the reply explaining why there is none.
pub fn request_for(
    command: &str,
    args: &str,
    chat: ChatId,
    private: bool,
    from: Option<UserId>,
) -> Result<StatsRequest, String> {
    let period = || TopPeriod::parse(args).map_err(|e| stats_text::bad_period(command, &e.given));
    match command {
        "stats" if private => match from {
            Some(user) => Ok(StatsRequest::MyGroups { user }),
            None => Err(stats_text::me_needs_person()),
        },
        "stats" => Ok(StatsRequest::Group {
            chat,
            period: period()?,
        }),
        "top" if private => Err(stats_text::top_needs_group()),
        "top" => Ok(StatsRequest::Top {
            chat,
            period: period()?,
        }),
        _ => match from {
            Some(user) => Ok(StatsRequest::Me {
                user,
                only: (!private).then_some(chat),
            }),
            None => Err(stats_text::me_needs_person()),
        },
    }
}

/// Build and render the report (blocking: reads the store).
pub fn render(service: &StatsService, request: StatsRequest, now: Timestamp) -> String {
    let result = match request {
        StatsRequest::Group { chat, period } => service
            .group_report(chat, period, now)
            .map(|r| stats_text::group_stats(&r)),
        StatsRequest::MyGroups { user } => service
            .groups_summary(user, now)
            .map(|r| stats_text::groups_summary(&r)),
        StatsRequest::Me { user, only } => service
            .member_report(user, only, now)
            .map(|r| stats_text::member_report(&r, only.is_some())),
        StatsRequest::Top { chat, period } => {
            service.top(chat, period, now).map(|r| stats_text::top(&r))
        }
    };
    match result {
        Ok(text) => text,
        Err(e) => {
            tracing::error!(error = %e, ?request, "statistics failed");
            stats_text::unavailable()
        }
    }
}

impl Handlers {
    /// `/stats`, `/me` or `/top` (`command`) with `args` in `msg`.
    pub(super) async fn stats_command(&self, msg: &Message, command: &str, args: &str) {
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
                tokio::task::spawn_blocking(move || render(&service, request, now))
                    .await
                    .unwrap_or_else(|e| {
                        tracing::error!(error = %e, "statistics task failed");
                        stats_text::unavailable()
                    })
            }
            Err(text) => text,
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
        assert!(
            request_for("top", "5d", g, false, u)
                .unwrap_err()
                .contains("<code>5d</code>")
        );
        assert_eq!(
            request_for("top", "", ChatId(7), true, u),
            Err(stats_text::top_needs_group())
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
        assert!(request_for("me", "", g, false, None).is_err());
    }
}

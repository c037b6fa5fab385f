//! Search as a feature: who may see what, the query, paging, and results in plain domain terms.
//! Used by the bot's `/search` and, later, the dashboard. Backend-neutral: the store through its
//! traits, the index through `search`.
//!
//! Access control (the scope is always decided here, from where and by whom a search is asked):
//! - [`Scope::Group`]: `/search` in a group sees that group only; `in:` may only name it.
//! - [`Scope::Member`]: `/search` in a private chat sees the groups (and supergroups) in which the
//!   asking user is an *active* member according to the store. Someone who left a group no longer
//!   searches it. `in:` narrows to one of those groups; naming any other chat gets the same answer
//!   whether it exists or not.
//! - [`Scope::All`]: the dashboard (the owner) sees every chat; `in:` picks one.

use super::rate_limit::RateLimiter;
use crate::domain::{
    Chat, ChatId, ChatKind, MemberStatus, MessageId, MessageKind, Timestamp, UserId,
};
use crate::search::{
    ChatRef, ParsedQuery, QueryError, SearchError, SearchIndex, SearchRequest, Snippet, SortOrder,
    UserRef, query,
};
use crate::store::{SharedStore, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Group(ChatId),
    Member(UserId),
    All,
}

#[derive(Clone, Debug)]
pub struct SearchServiceConfig {
    pub page_size: usize,
    /// Deepest page served (0-based); deeper paging is clamped.
    pub max_page: usize,
    pub snippet_chars: usize,
    /// Per-user searches per minute after the burst.
    pub rate_per_minute: u32,
    pub rate_burst: u32,
}

impl Default for SearchServiceConfig {
    fn default() -> Self {
        SearchServiceConfig {
            page_size: 5,
            max_page: 199,
            snippet_chars: 160,
            rate_per_minute: 20,
            rate_burst: 5,
        }
    }
}

/// One search: the text after `/search`, where and by whom, which page.
#[derive(Clone, Debug)]
pub struct SearchParams<'a> {
    pub query: &'a str,
    pub scope: Scope,
    /// Rate-limited per user; `None` (the dashboard) is not limited.
    pub requester: Option<UserId>,
    /// 0-based.
    pub page: usize,
    pub order: SortOrder,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub chat_id: ChatId,
    pub chat_title: Option<String>,
    pub message_id: MessageId,
    pub user_id: Option<UserId>,
    /// The author's name, or the chat's title for channel posts.
    pub author: String,
    pub date: Timestamp,
    pub kind: MessageKind,
    pub snippet: Snippet,
    /// `https://t.me/...` where Telegram has a link to the message.
    pub link: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchPage {
    /// The query as understood (same syntax), for echoing back.
    pub understood: String,
    pub hits: Vec<SearchHit>,
    pub total: usize,
    /// 0-based page shown, and how many pages there are (at least 1).
    pub page: usize,
    pub pages: usize,
    pub page_size: usize,
    pub order: SortOrder,
    /// Chats searched (`None`: all).
    pub chats_searched: Option<usize>,
    pub took: Duration,
}

#[derive(Debug, Error)]
pub enum SearchServiceError {
    /// The query is malformed; the message is for the user.
    #[error("{0}")]
    Query(#[from] QueryError),
    #[error("You are searching a bit fast; please try again in {} s.", retry_after.as_secs().max(1))]
    RateLimited { retry_after: Duration },
    #[error("In a group, /search looks in this group only; leave out in:.")]
    OtherChatInGroup,
    #[error("I can only search groups you are an active member of.")]
    NotAMember,
    #[error("I do not know the chat {0}.")]
    UnknownChat(String),
    #[error("search failed: {0}")]
    Index(#[from] SearchError),
    #[error("search failed: {0}")]
    Store(#[from] StoreError),
}

impl SearchServiceError {
    /// Whether the message is meant for the user (otherwise log it and apologise).
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            SearchServiceError::Index(_) | SearchServiceError::Store(_)
        )
    }
}

pub struct SearchService {
    store: SharedStore,
    index: Arc<SearchIndex>,
    config: SearchServiceConfig,
    limiter: RateLimiter,
    /// Where search latencies and failures go (`search`), if anywhere.
    registry: Option<Arc<crate::telemetry::Registry>>,
}

impl SearchService {
    pub fn new(store: SharedStore, index: Arc<SearchIndex>, config: SearchServiceConfig) -> Self {
        let limiter = RateLimiter::new(store.clone(), config.rate_burst, config.rate_per_minute);
        SearchService {
            store,
            index,
            config,
            limiter,
            registry: None,
        }
    }

    /// Record each search's latency (and each internal failure) as the `search` metric.
    pub fn with_registry(mut self, registry: Arc<crate::telemetry::Registry>) -> Self {
        self.registry = Some(registry);
        self
    }

    pub fn config(&self) -> &SearchServiceConfig {
        &self.config
    }

    /// Parse, check access, search, and build one page of results. Blocking (store and index
    /// reads): call it off the async workers.
    pub fn search(&self, p: &SearchParams<'_>) -> Result<SearchPage, SearchServiceError> {
        let started = Instant::now();
        let result = self.search_unrecorded(p, started);
        if let Some(r) = &self.registry {
            match &result {
                Ok(_) => r.record(crate::telemetry::Op::Search, started.elapsed(), 1),
                Err(e) if !e.is_user_error() => r.record_error(crate::telemetry::Op::Search),
                Err(_) => {}
            }
        }
        result
    }

    fn search_unrecorded(
        &self,
        p: &SearchParams<'_>,
        started: Instant,
    ) -> Result<SearchPage, SearchServiceError> {
        if let Some(user) = p.requester {
            self.limiter
                .check(&format!("{}rate:search", super::keys::user_prefix(user)))
                .map_err(|retry_after| SearchServiceError::RateLimited { retry_after })?;
        }
        let parsed = query::parse(p.query)?;
        let chats = self.scope_chats(p.scope, &parsed)?;
        let page = p.page.min(self.config.max_page);
        let size = self.config.page_size.max(1);
        let mut out = SearchPage {
            understood: parsed.to_string(),
            hits: Vec::new(),
            total: 0,
            page,
            pages: 1,
            page_size: size,
            order: p.order,
            chats_searched: chats.as_ref().map(Vec::len),
            took: Duration::ZERO,
        };
        let from = match &parsed.from {
            None => None,
            Some(UserRef::Id(id)) => Some(*id),
            Some(UserRef::Username(name)) => match self.store.user_by_username(name)? {
                Some(user) => Some(user.id),
                // Nobody by that name: no results (and nothing said about other chats).
                None => {
                    out.took = started.elapsed();
                    return Ok(out);
                }
            },
        };
        let request = SearchRequest {
            query: &parsed,
            chats: chats.as_deref(),
            from,
            order: p.order,
            offset: page * size,
            limit: size,
        };
        let mut results = self.index.search(&request)?;
        out.total = results.total;
        out.pages = results
            .total
            .div_ceil(size)
            .clamp(1, self.config.max_page + 1);
        let mut chat_cache: HashMap<ChatId, Option<Chat>> = HashMap::new();
        for hit in results.hits {
            // The index may briefly hold a message the store has just removed: skip it.
            let Some(message) = self.store.message(hit.chat_id, hit.message_id)? else {
                continue;
            };
            let chat = match chat_cache.get(&hit.chat_id) {
                Some(c) => c.clone(),
                None => {
                    let c = self.store.chat(hit.chat_id)?;
                    chat_cache.insert(hit.chat_id, c.clone());
                    c
                }
            };
            let author = match message.user_id {
                Some(uid) => self
                    .store
                    .user(uid)?
                    .map_or_else(|| format!("user {uid}"), |u| u.display_name()),
                None => chat
                    .as_ref()
                    .and_then(|c| c.title.clone())
                    .unwrap_or_else(|| "channel".to_string()),
            };
            out.hits.push(SearchHit {
                chat_id: hit.chat_id,
                chat_title: chat.as_ref().and_then(|c| c.title.clone()),
                message_id: hit.message_id,
                user_id: message.user_id,
                author,
                date: message.date,
                kind: message.kind,
                snippet: results
                    .highlighter
                    .snippet(&message.text, self.config.snippet_chars),
                link: chat.as_ref().and_then(|c| message_link(c, hit.message_id)),
            });
        }
        out.took = started.elapsed();
        Ok(out)
    }

    /// The chats a search may look at (`None`: all), from the scope and `in:`.
    fn scope_chats(
        &self,
        scope: Scope,
        q: &ParsedQuery,
    ) -> Result<Option<Vec<ChatId>>, SearchServiceError> {
        let named = match &q.in_chat {
            Some(r) => Some(self.resolve_chat(r)?),
            None => None,
        };
        match scope {
            Scope::Group(chat) => match named {
                Some(Some(c)) if c == chat => Ok(Some(vec![chat])),
                Some(_) => Err(SearchServiceError::OtherChatInGroup),
                None => Ok(Some(vec![chat])),
            },
            Scope::Member(user) => {
                let allowed = self.member_groups(user)?;
                match named {
                    Some(Some(c)) if allowed.contains(&c) => Ok(Some(vec![c])),
                    Some(_) => Err(SearchServiceError::NotAMember),
                    None => Ok(Some(allowed)),
                }
            }
            Scope::All => match (named, &q.in_chat) {
                (Some(Some(c)), _) => Ok(Some(vec![c])),
                (Some(None), Some(r)) => Err(SearchServiceError::UnknownChat(match r {
                    ChatRef::Username(u) => format!("@{u}"),
                    ChatRef::Id(id) => id.to_string(),
                })),
                _ => Ok(None),
            },
        }
    }

    /// Groups and supergroups where `user` is an active member.
    pub fn member_groups(&self, user: UserId) -> Result<Vec<ChatId>, StoreError> {
        let mut out = Vec::new();
        for chat_id in self.store.chats_of_user(user)? {
            let active = self
                .store
                .member(chat_id, user)?
                .is_some_and(|m| m.status == MemberStatus::Active);
            if !active {
                continue;
            }
            let group = self
                .store
                .chat(chat_id)?
                .is_some_and(|c| matches!(c.kind, ChatKind::Group | ChatKind::Supergroup));
            if group {
                out.push(chat_id);
            }
        }
        Ok(out)
    }

    /// `in:` to a chat id, if such a chat is stored.
    fn resolve_chat(&self, r: &ChatRef) -> Result<Option<ChatId>, StoreError> {
        Ok(match r {
            ChatRef::Id(id) => self.store.chat(*id)?.map(|c| c.id),
            ChatRef::Username(name) => self
                .store
                .chats()?
                .into_iter()
                .find(|c| {
                    c.username
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(name))
                })
                .map(|c| c.id),
        })
    }
}

/// Telegram's link to a message: `t.me/<username>/<id>` in public supergroups and channels,
/// `t.me/c/<internal id>/<id>` in private ones; basic groups and private chats have none.
pub fn message_link(chat: &Chat, msg: MessageId) -> Option<String> {
    if !matches!(chat.kind, ChatKind::Supergroup | ChatKind::Channel) {
        return None;
    }
    if let Some(username) = chat.username.as_deref().filter(|u| !u.is_empty()) {
        return Some(format!("https://t.me/{username}/{msg}"));
    }
    // Supergroup and channel ids are -100 followed by the internal id.
    let internal = chat.id.0.checked_neg()?.checked_sub(1_000_000_000_000)?;
    (internal > 0).then(|| format!("https://t.me/c/{internal}/{msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(id: i64, kind: ChatKind, username: Option<&str>) -> Chat {
        Chat {
            id: ChatId(id),
            kind,
            title: None,
            username: username.map(str::to_string),
            is_forum: false,
            retention_days: None,
            created_at: Timestamp(0),
            last_activity_at: Timestamp(0),
            message_count: 0,
        }
    }

    #[test]
    fn links() {
        let m = MessageId(42);
        assert_eq!(
            message_link(&chat(-1_001_234_567_890, ChatKind::Supergroup, None), m).as_deref(),
            Some("https://t.me/c/1234567890/42")
        );
        assert_eq!(
            message_link(
                &chat(-1_001_234_567_890, ChatKind::Supergroup, Some("rustfa")),
                m
            )
            .as_deref(),
            Some("https://t.me/rustfa/42")
        );
        assert_eq!(
            message_link(&chat(-1_002_000_000_001, ChatKind::Channel, None), m).as_deref(),
            Some("https://t.me/c/2000000001/42")
        );
        assert_eq!(message_link(&chat(-4567, ChatKind::Group, None), m), None);
        assert_eq!(message_link(&chat(777, ChatKind::Private, None), m), None);
        assert_eq!(
            message_link(&chat(i64::MIN, ChatKind::Supergroup, None), m),
            None
        );
        assert_eq!(message_link(&chat(-5, ChatKind::Supergroup, None), m), None);
    }
}

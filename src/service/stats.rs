//! Statistics reports for `/stats`, `/me` and `/top`: plain data built from the store's counters
//! ([`StatsRepo`](crate::store::StatsRepo)), so each report costs O(days + members), never
//! O(messages). Days and hours are UTC; "the last 7 days" are today and the six days before.
//! Every method takes `now`, so reports are deterministic in tests.

use crate::domain::{
    ChatDay, ChatId, ChatKind, Day, MemberStatus, MessageKind, PosterRank, StatsPeriod, Timestamp,
    UserId,
};
use crate::store::{SharedStore, StoreError};

/// Days in the daily series of `/stats`.
pub const SERIES_DAYS: usize = 30;
/// Posters listed by `/stats` and `/top`.
pub const TOP_LIMIT: usize = 10;
/// Groups listed by `/stats` and `/me` in a private chat (the rest are counted).
pub const MAX_GROUPS_LISTED: usize = 15;

/// The period of a ranking, as `/top` and `/stats` take it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TopPeriod {
    Week,
    #[default]
    Month,
    AllTime,
}

/// A period argument that is not one of `7d`, `30d`, `all`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown period {given:?}: use 7d, 30d or all")]
pub struct BadPeriod {
    pub given: String,
}

impl TopPeriod {
    /// `""` (the default, 30 days), `7d`, `30d` or `all`, case-insensitive; `week`/`month` too.
    pub fn parse(arg: &str) -> Result<TopPeriod, BadPeriod> {
        match arg.trim().to_ascii_lowercase().as_str() {
            "" | "30d" | "30" | "month" => Ok(TopPeriod::Month),
            "7d" | "7" | "week" => Ok(TopPeriod::Week),
            "all" | "alltime" | "all-time" => Ok(TopPeriod::AllTime),
            _ => Err(BadPeriod {
                given: arg.trim().chars().take(32).collect(),
            }),
        }
    }

    /// The store's period for this one, ending `today`.
    pub fn period(self, today: Day) -> StatsPeriod {
        match self {
            TopPeriod::Week => StatsPeriod::last_days(today, 7),
            TopPeriod::Month => StatsPeriod::last_days(today, 30),
            TopPeriod::AllTime => StatsPeriod::AllTime,
        }
    }

    pub fn as_arg(self) -> &'static str {
        match self {
            TopPeriod::Week => "7d",
            TopPeriod::Month => "30d",
            TopPeriod::AllTime => "all",
        }
    }
}

/// A member with a count, named for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedCount {
    pub user: UserId,
    pub name: String,
    pub messages: u64,
}

/// `/stats` in a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupReport {
    pub chat: ChatId,
    pub title: String,
    /// Every message ever counted in the chat.
    pub total_messages: u64,
    pub messages_7d: u64,
    pub messages_30d: u64,
    /// Distinct members who posted in the last 7 / 30 days.
    pub active_7d: u64,
    pub active_30d: u64,
    pub joins_30d: u64,
    pub leaves_30d: u64,
    /// Messages per day, oldest first, [`SERIES_DAYS`] values ending today.
    pub daily: Vec<u64>,
    /// The first day of `daily`.
    pub first_day: Day,
    /// Messages per UTC hour of the day (0..24), over all time.
    pub hours_of_day: Vec<u64>,
    /// The busiest UTC hours of the day, busiest first (at most 3, none without messages).
    pub busiest_hours: Vec<(u8, u64)>,
    /// The busiest UTC weekday (0 = Monday) and its messages, if any.
    pub busiest_weekday: Option<(u8, u64)>,
    pub top_period: TopPeriod,
    pub top: Vec<NamedCount>,
    /// Messages per kind, most first.
    pub kinds: Vec<(MessageKind, u64)>,
}

/// One group in a private `/stats`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSummary {
    pub chat: ChatId,
    pub title: String,
    pub total_messages: u64,
    pub messages_7d: u64,
    pub active_7d: u64,
    /// The asking member's own messages in the group (all time).
    pub yours: u64,
}

/// `/stats` in a private chat: the user's groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupsSummary {
    pub groups: Vec<GroupSummary>,
    /// Groups not listed (beyond [`MAX_GROUPS_LISTED`]).
    pub more: usize,
}

/// One group in `/me`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberChatReport {
    pub chat: ChatId,
    pub title: String,
    pub messages: u64,
    pub messages_30d: u64,
    /// All-time rank among the group's posters (`None` before the first message).
    pub rank: Option<PosterRank>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// `/me`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberReport {
    pub chats: Vec<MemberChatReport>,
    pub more: usize,
    /// Messages over every group (listed or not).
    pub total_messages: u64,
}

/// `/top`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopReport {
    pub title: String,
    pub period: TopPeriod,
    pub top: Vec<NamedCount>,
    /// Members who posted in the period.
    pub posters: u64,
}

/// Builds the reports from the store.
pub struct StatsService {
    store: SharedStore,
}

fn is_group(kind: ChatKind) -> bool {
    matches!(kind, ChatKind::Group | ChatKind::Supergroup)
}

impl StatsService {
    pub fn new(store: SharedStore) -> Self {
        StatsService { store }
    }

    fn title(&self, chat: ChatId) -> Result<String, StoreError> {
        Ok(self
            .store
            .chat(chat)?
            .and_then(|c| c.title)
            .unwrap_or_else(|| chat.to_string()))
    }

    fn name(&self, user: UserId) -> Result<String, StoreError> {
        Ok(match self.store.user(user)? {
            Some(u) if !u.display_name().trim().is_empty() => u.display_name(),
            Some(u) => u.username.map(|n| format!("@{n}")).unwrap_or_default(),
            None => String::new(),
        })
        .map(|n| {
            if n.is_empty() {
                format!("user {user}")
            } else {
                n
            }
        })
    }

    fn named(
        &self,
        chat: ChatId,
        period: StatsPeriod,
        limit: usize,
    ) -> Result<Vec<NamedCount>, StoreError> {
        self.store
            .top_posters(chat, period, limit)?
            .into_iter()
            .map(|p| {
                Ok(NamedCount {
                    user: p.user,
                    name: self.name(p.user)?,
                    messages: p.messages,
                })
            })
            .collect()
    }

    /// `/stats` in `chat`, with the top posters of `top_period`.
    pub fn group_report(
        &self,
        chat: ChatId,
        top_period: TopPeriod,
        now: Timestamp,
    ) -> Result<GroupReport, StoreError> {
        let today = Day::of(now);
        let first_day = today.minus(SERIES_DAYS as i64 - 1);
        let days = self.store.chat_days(chat, first_day, today)?;
        let mut daily = vec![0u64; SERIES_DAYS];
        for d in &days {
            if let Some(slot) = usize::try_from(d.day.0 - first_day.0)
                .ok()
                .and_then(|i| daily.get_mut(i))
            {
                *slot = d.messages;
            }
        }
        let week_start = today.minus(6);
        let sum = |f: fn(&ChatDay) -> u64, from: Day| -> u64 {
            days.iter().filter(|d| d.day >= from).map(f).sum()
        };
        let hours = self.store.chat_hours(chat)?;
        let mut hours_of_day = vec![0u64; 24];
        let mut weekdays = [0u64; 7];
        for (i, n) in hours.iter().enumerate() {
            hours_of_day[i % 24] += n;
            weekdays[i / 24 % 7] += n;
        }
        let mut busiest_hours: Vec<(u8, u64)> = hours_of_day
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(h, n)| (h as u8, *n))
            .collect();
        busiest_hours.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        busiest_hours.truncate(3);
        let busiest_weekday = weekdays
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
            .map(|(d, n)| (d as u8, *n));
        let mut kinds = self.store.chat_kinds(chat)?;
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let chat_row = self.store.chat(chat)?;
        Ok(GroupReport {
            chat,
            title: chat_row
                .as_ref()
                .and_then(|c| c.title.clone())
                .unwrap_or_else(|| chat.to_string()),
            total_messages: chat_row.map(|c| c.message_count).unwrap_or(0),
            messages_7d: sum(|d| d.messages, week_start),
            messages_30d: sum(|d| d.messages, first_day),
            active_7d: self
                .store
                .active_members(chat, StatsPeriod::last_days(today, 7))?,
            active_30d: self
                .store
                .active_members(chat, StatsPeriod::last_days(today, 30))?,
            joins_30d: sum(|d| d.joins, first_day),
            leaves_30d: sum(|d| d.leaves, first_day),
            daily,
            first_day,
            hours_of_day,
            busiest_hours,
            busiest_weekday,
            top_period,
            top: self.named(chat, top_period.period(today), TOP_LIMIT)?,
            kinds,
        })
    }

    /// Groups (and supergroups) where `user` is an active member, ascending by chat id.
    fn groups_of(&self, user: UserId) -> Result<Vec<(ChatId, crate::domain::Member)>, StoreError> {
        let mut out = Vec::new();
        for chat in self.store.chats_of_user(user)? {
            let Some(member) = self.store.member(chat, user)? else {
                continue;
            };
            let group = self.store.chat(chat)?.is_some_and(|c| is_group(c.kind));
            if group && member.status == MemberStatus::Active {
                out.push((chat, member));
            }
        }
        Ok(out)
    }

    /// `/stats` in a private chat: a line per group `user` is an active member of, busiest
    /// (last 7 days) first.
    pub fn groups_summary(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> Result<GroupsSummary, StoreError> {
        let today = Day::of(now);
        let week = StatsPeriod::last_days(today, 7);
        let mut groups = Vec::new();
        for (chat, member) in self.groups_of(user)? {
            let Some(row) = self.store.chat(chat)? else {
                continue;
            };
            let messages_7d = self
                .store
                .chat_days(chat, today.minus(6), today)?
                .iter()
                .map(|d| d.messages)
                .sum();
            groups.push(GroupSummary {
                chat,
                title: row.title.unwrap_or_else(|| chat.to_string()),
                total_messages: row.message_count,
                messages_7d,
                active_7d: self.store.active_members(chat, week)?,
                yours: member.message_count,
            });
        }
        groups.sort_by(|a, b| {
            b.messages_7d
                .cmp(&a.messages_7d)
                .then(b.total_messages.cmp(&a.total_messages))
                .then(a.chat.cmp(&b.chat))
        });
        let more = groups.len().saturating_sub(MAX_GROUPS_LISTED);
        groups.truncate(MAX_GROUPS_LISTED);
        Ok(GroupsSummary { groups, more })
    }

    /// `/me`: the user's figures in `only` (a group) or in every group they are a member of
    /// (private chat), most messages first.
    pub fn member_report(
        &self,
        user: UserId,
        only: Option<ChatId>,
        now: Timestamp,
    ) -> Result<MemberReport, StoreError> {
        let month = StatsPeriod::last_days(Day::of(now), 30);
        let members = match only {
            Some(chat) => self
                .store
                .member(chat, user)?
                .map(|m| vec![(chat, m)])
                .unwrap_or_default(),
            None => self.groups_of(user)?,
        };
        let mut chats = Vec::new();
        for (chat, member) in members {
            let messages_30d = self
                .store
                .poster_rank(chat, user, month)?
                .map(|r| r.messages)
                .unwrap_or(0);
            chats.push(MemberChatReport {
                chat,
                title: self.title(chat)?,
                messages: member.message_count,
                messages_30d,
                rank: self.store.poster_rank(chat, user, StatsPeriod::AllTime)?,
                first_seen: member.first_seen,
                last_seen: member.last_seen,
            });
        }
        chats.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.chat.cmp(&b.chat)));
        let total_messages = chats.iter().map(|c| c.messages).sum();
        let more = chats.len().saturating_sub(MAX_GROUPS_LISTED);
        chats.truncate(MAX_GROUPS_LISTED);
        Ok(MemberReport {
            chats,
            more,
            total_messages,
        })
    }

    /// `/top` in `chat`.
    pub fn top(
        &self,
        chat: ChatId,
        period: TopPeriod,
        now: Timestamp,
    ) -> Result<TopReport, StoreError> {
        let p = period.period(Day::of(now));
        Ok(TopReport {
            title: self.title(chat)?,
            period,
            top: self.named(chat, p, TOP_LIMIT)?,
            posters: self.store.active_members(chat, p)?,
        })
    }
}

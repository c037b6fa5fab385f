//! Every user-facing text of `/stats`, `/me` and `/top`, in one place: one function per message,
//! taking the language and the numbers (plain reports from `service::stats`) and returning
//! Telegram HTML from the catalogs (`i18n`, keys `stats.*`), with everything from users escaped
//! before it is filled in. Counts use the language's digits and thousands separator; dates stay
//! ISO (isolated in Persian, like the other texts); bar lines run left to right in both languages.
//! Each line carries its own tags, so [`fit`] can cut a long reply at a line boundary.

use crate::domain::Day;
use crate::i18n::{Msg, Tr, isolate};
use crate::service::stats::{GroupReport, GroupsSummary, MemberReport, TopPeriod, TopReport};
use teloxide::utils::html;

mod format;

use format::{
    chart_line, count, date, fit, hour, kind_name, line, name, percent, period_text, ranking,
    sparkline,
};

/// Weekday names, 0 = Monday.
const WEEKDAYS: [Msg; 7] = [
    Msg::StatsMonday,
    Msg::StatsTuesday,
    Msg::StatsWednesday,
    Msg::StatsThursday,
    Msg::StatsFriday,
    Msg::StatsSaturday,
    Msg::StatsSunday,
];

/// Why a statistics command gets no report (rendered by [`refusal`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A period argument that is not one of the known ones.
    BadPeriod { command: String, given: String },
    /// `/top` in a private chat.
    TopNeedsGroup,
    /// Asked by a channel or an anonymous admin.
    NeedsPerson,
}

pub fn refusal(tr: Tr, r: &Refusal) -> String {
    match r {
        Refusal::BadPeriod { command, given } => bad_period(tr, command, given),
        Refusal::TopNeedsGroup => tr.t(Msg::StatsTopNeedsGroup).to_string(),
        Refusal::NeedsPerson => tr.t(Msg::StatsMeNeedsPerson).to_string(),
    }
}

pub fn unavailable(tr: Tr) -> String {
    tr.t(Msg::StatsUnavailable).to_string()
}

/// A period argument that is not one of the known ones.
pub fn bad_period(tr: Tr, command: &str, given: &str) -> String {
    let command = html::escape(command);
    let example = |p: TopPeriod| format!("/{command} {}", p.as_arg());
    tr.f(
        Msg::StatsBadPeriod,
        &[
            ("given", &html::escape(given)),
            ("week", &example(TopPeriod::Week)),
            ("month", &example(TopPeriod::Month)),
            ("all", &example(TopPeriod::AllTime)),
        ],
    )
}

/// `/stats` in a group.
pub fn group_stats(tr: Tr, r: &GroupReport) -> String {
    let mut out = String::new();
    line(
        &mut out,
        tr.f(Msg::StatsGroupTitle, &[("title", &name(&r.title))]),
    );
    line(
        &mut out,
        tr.f(
            Msg::StatsGroupMessages,
            &[
                ("total", &count(tr, r.total_messages)),
                ("week", &count(tr, r.messages_7d)),
                ("month", &count(tr, r.messages_30d)),
            ],
        ),
    );
    line(
        &mut out,
        tr.f(
            Msg::StatsGroupActive,
            &[
                ("week", &count(tr, r.active_7d)),
                ("month", &count(tr, r.active_30d)),
            ],
        ),
    );
    if r.joins_30d > 0 || r.leaves_30d > 0 {
        line(
            &mut out,
            tr.f(
                Msg::StatsGroupJoins,
                &[
                    ("joins", &count(tr, r.joins_30d)),
                    ("leaves", &count(tr, r.leaves_30d)),
                ],
            ),
        );
    }

    let last = Day(r.first_day.0 + r.daily.len() as i64 - 1);
    out.push('\n');
    line(
        &mut out,
        tr.f(
            Msg::StatsDailyTitle,
            &[("from", &r.first_day.iso()), ("to", &last.iso())],
        ),
    );
    out.push_str(&chart_line(tr, &sparkline(&r.daily)));
    if let Some((i, peak)) = r
        .daily
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
    {
        line(
            &mut out,
            tr.f(
                Msg::StatsBusiestDay,
                &[
                    ("day", &Day(r.first_day.0 + i as i64).iso()),
                    ("count", &count(tr, *peak)),
                    ("today", &count(tr, r.daily.last().copied().unwrap_or(0))),
                ],
            ),
        );
    }

    let separator = tr.t(Msg::StatsListSeparator);
    let hours_total: u64 = r.hours_of_day.iter().sum();
    if hours_total > 0 {
        out.push('\n');
        line(&mut out, tr.t(Msg::StatsHoursTitle).to_string());
        out.push_str(&chart_line(tr, &sparkline(&r.hours_of_day)));
        let axis = format!(
            "{}     {}     {}    {}    ",
            tr.num(0),
            tr.num(6),
            tr.num(12),
            tr.num(18)
        );
        out.push_str(&chart_line(tr, &axis));
        let hours: Vec<String> = r
            .busiest_hours
            .iter()
            .map(|(h, n)| {
                tr.f(
                    Msg::StatsHourRange,
                    &[
                        ("from", &hour(tr, *h)),
                        ("to", &hour(tr, (h + 1) % 24)),
                        ("percent", &percent(tr, *n, hours_total)),
                    ],
                )
            })
            .collect();
        line(&mut out, hours.join(separator));
        if let Some((d, n)) = r.busiest_weekday {
            let day = WEEKDAYS
                .get(usize::from(d))
                .map(|m| tr.t(*m))
                .unwrap_or("?");
            line(
                &mut out,
                tr.f(
                    Msg::StatsBusiestWeekday,
                    &[("day", &day), ("percent", &percent(tr, n, hours_total))],
                ),
            );
        }
    }

    out.push('\n');
    line(
        &mut out,
        tr.f(
            Msg::StatsTopTitle,
            &[("period", &period_text(tr, r.top_period))],
        ),
    );
    if r.top.is_empty() {
        line(&mut out, tr.t(Msg::StatsNobody).to_string());
    }
    ranking(tr, &mut out, &r.top);

    let kinds_total: u64 = r.kinds.iter().map(|(_, n)| n).sum();
    if kinds_total > 0 {
        out.push('\n');
        line(&mut out, tr.t(Msg::StatsKindsTitle).to_string());
        let kinds: Vec<String> = r
            .kinds
            .iter()
            .map(|(k, n)| {
                format!(
                    "{} {} ({})",
                    kind_name(tr, *k),
                    count(tr, *n),
                    percent(tr, *n, kinds_total)
                )
            })
            .collect();
        line(&mut out, kinds.join(separator));
    }
    fit(out)
}

/// `/stats` in a private chat.
pub fn groups_summary(tr: Tr, s: &GroupsSummary) -> String {
    if s.groups.is_empty() {
        return tr.t(Msg::StatsGroupsNone).to_string();
    }
    let mut out = String::new();
    line(&mut out, tr.t(Msg::StatsGroupsTitle).to_string());
    for g in &s.groups {
        line(
            &mut out,
            tr.f(
                Msg::StatsGroupsLine,
                &[
                    ("title", &name(&g.title)),
                    ("total", &count(tr, g.total_messages)),
                    ("week", &count(tr, g.messages_7d)),
                    ("active", &count(tr, g.active_7d)),
                    ("yours", &count(tr, g.yours)),
                ],
            ),
        );
    }
    if s.more > 0 {
        line(
            &mut out,
            tr.f(Msg::StatsGroupsMore, &[("count", &count(tr, s.more))]),
        );
    }
    out.push_str(tr.t(Msg::StatsGroupsHint));
    fit(out)
}

/// `/me`; `in_group`: asked in a group (only that group is shown).
pub fn member_report(tr: Tr, r: &MemberReport, in_group: bool) -> String {
    if r.chats.is_empty() {
        return tr
            .t(if in_group {
                Msg::StatsMeNoneGroup
            } else {
                Msg::StatsMeNone
            })
            .to_string();
    }
    let mut out = String::new();
    line(&mut out, tr.t(Msg::StatsMeTitle).to_string());
    for c in &r.chats {
        out.push('\n');
        line(
            &mut out,
            format!("<b>{}</b>", isolate(tr.lang(), &name(&c.title))),
        );
        line(
            &mut out,
            tr.f(
                Msg::StatsMeMessages,
                &[
                    ("total", &count(tr, c.messages)),
                    ("month", &count(tr, c.messages_30d)),
                ],
            ),
        );
        if let Some(rank) = c.rank {
            line(
                &mut out,
                tr.f(
                    Msg::StatsMeRank,
                    &[("rank", &count(tr, rank.rank)), ("of", &count(tr, rank.of))],
                ),
            );
        }
        line(
            &mut out,
            tr.f(
                Msg::StatsMeSeen,
                &[("first", &date(c.first_seen)), ("last", &date(c.last_seen))],
            ),
        );
    }
    let groups = r.chats.len() + r.more;
    if !in_group && groups > 1 {
        out.push('\n');
        line(
            &mut out,
            tr.f(
                Msg::StatsMeTotal,
                &[
                    ("total", &count(tr, r.total_messages)),
                    ("groups", &count(tr, groups)),
                ],
            ),
        );
    }
    if r.more > 0 {
        line(
            &mut out,
            tr.f(Msg::StatsMeMore, &[("count", &count(tr, r.more))]),
        );
    }
    fit(out)
}

/// `/top`.
pub fn top(tr: Tr, r: &TopReport) -> String {
    let mut out = String::new();
    line(
        &mut out,
        tr.f(
            Msg::StatsTopHeader,
            &[
                ("title", &name(&r.title)),
                ("period", &period_text(tr, r.period)),
            ],
        ),
    );
    if r.top.is_empty() {
        line(&mut out, tr.t(Msg::StatsNobody).to_string());
    }
    ranking(tr, &mut out, &r.top);
    out.push('\n');
    out.push_str(&tr.f(Msg::StatsTopFooter, &[("count", &count(tr, r.posters))]));
    fit(out)
}

#[cfg(test)]
mod tests;

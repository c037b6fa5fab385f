//! Every user-facing text of `/stats`, `/me` and `/top`, in one place: one function per message,
//! taking the language and the numbers (plain reports from `service::stats`) and returning
//! Telegram HTML from the catalogs (`i18n`, keys `stats.*`), with everything from users escaped
//! before it is filled in. Counts use the language's digits and thousands separator; dates stay
//! ISO (isolated in Persian, like the other texts); bar lines run left to right in both languages.
//! Each line carries its own tags, so [`fit`] can cut a long reply at a line boundary.

use crate::domain::{Day, MessageKind, Timestamp};
use crate::i18n::{FSI, Lang, Msg, PDI, Tr, isolate};
use crate::service::stats::{
    GroupReport, GroupsSummary, MemberReport, NamedCount, TopPeriod, TopReport,
};
use teloxide::utils::html;

/// Longest name or title shown, in characters.
const MAX_NAME_CHARS: usize = 32;
/// Telegram's limit is 4096 characters of text after parsing; the HTML is never shorter.
const MAX_REPLY_CHARS: usize = 4000;

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

/// `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count as the language writes it: `1,234` in English, `۱٬۲۳۴` in Persian.
pub fn count(tr: Tr, n: impl TryInto<u64>) -> String {
    let s = thousands(n.try_into().unwrap_or(u64::MAX));
    match tr.lang() {
        Lang::En => s,
        Lang::Fa => tr.num(s).replace(',', "\u{066C}"),
    }
}

/// A name or title: shortened, then escaped (isolated for bidi when it is filled in).
fn name(s: &str) -> String {
    let clamped = match s.char_indices().nth(MAX_NAME_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    };
    html::escape(&clamped)
}

fn date(ts: Timestamp) -> String {
    chrono::DateTime::from_timestamp(ts.0, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| ts.0.to_string())
}

fn percent_of(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        0
    } else {
        (part as u128 * 100 / whole as u128) as u64
    }
}

/// `part` as a share of `whole`, `(90%)`-style without the brackets.
fn percent(tr: Tr, part: u64, whole: u64) -> String {
    tr.f(
        Msg::StatsPercent,
        &[("value", &tr.num(percent_of(part, whole)))],
    )
}

/// An hour of the day as `09:00` (Persian digits in Persian).
fn hour(tr: Tr, h: u8) -> String {
    tr.num(format!("{:02}:00", h % 24))
}

/// One bar character per value, scaled to the largest; zero is the lowest bar.
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if v == 0 || max == 0 {
                BARS[0]
            } else {
                // 1..=7 for non-zero values, so any activity shows above an empty day.
                let level = 1 + (v as u128 * 6 / max as u128) as usize;
                BARS[level.min(7)]
            }
        })
        .collect()
}

/// A line of bars or axis labels in `<code>`: left to right in every language (isolated in a
/// right-to-left text, so time runs the same way as the axis under it).
fn chart_line(tr: Tr, s: &str) -> String {
    if tr.lang().is_rtl() {
        format!("<code>{FSI}{s}{PDI}</code>\n")
    } else {
        format!("<code>{s}</code>\n")
    }
}

fn period_text(tr: Tr, p: TopPeriod) -> &'static str {
    tr.t(match p {
        TopPeriod::Week => Msg::StatsPeriodWeek,
        TopPeriod::Month => Msg::StatsPeriodMonth,
        TopPeriod::AllTime => Msg::StatsPeriodAll,
    })
}

fn ranking(tr: Tr, out: &mut String, top: &[NamedCount]) {
    for (i, p) in top.iter().enumerate() {
        out.push_str(&tr.f(
            Msg::StatsRankLine,
            &[
                ("rank", &tr.num(i + 1)),
                ("name", &name(&p.name)),
                ("count", &count(tr, p.messages)),
            ],
        ));
        out.push('\n');
    }
}

fn kind_name(tr: Tr, kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::MembersJoined => tr.t(Msg::StatsKindJoins),
        MessageKind::MemberLeft => tr.t(Msg::StatsKindLeaves),
        k => tr.kind(k),
    }
}

/// `text` and a line break.
fn line(out: &mut String, text: String) {
    out.push_str(&text);
    out.push('\n');
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

/// Cut a reply over Telegram's limit at a line boundary (every line is balanced HTML).
pub fn fit(text: String) -> String {
    if text.chars().count() <= MAX_REPLY_CHARS {
        return text;
    }
    let mut out = String::new();
    let mut used = 0;
    for line in text.split_inclusive('\n') {
        let n = line.chars().count();
        if used + n > MAX_REPLY_CHARS - 1 {
            break;
        }
        out.push_str(line);
        used += n;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::rtl_problems;

    const EN: Tr = Tr::new(Lang::En);
    const FA: Tr = Tr::new(Lang::Fa);

    #[test]
    fn numbers_and_bars() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(count(EN, 1_234_567u64), "1,234,567");
        assert_eq!(count(FA, 1_234_567u64), "۱٬۲۳۴٬۵۶۷");
        assert_eq!(count(FA, 0usize), "۰");
        assert_eq!(hour(FA, 9), "۰۹:۰۰");
        assert_eq!(hour(EN, 23), "23:00");
        assert_eq!(percent(FA, 9, 10), "۹۰٪");
        assert_eq!(percent(EN, 1, 0), "0%");
        assert_eq!(sparkline(&[0, 1, 7, 0]), "▁▂█▁");
        assert_eq!(sparkline(&[0, 0]), "▁▁");
        assert_eq!(sparkline(&[]), "");
        let line = sparkline(&[0, 1, 6, u64::MAX]);
        assert_eq!(line.chars().count(), 4);
        assert!(line.ends_with('█'));
    }

    #[test]
    fn long_replies_are_cut_at_a_line() {
        let long = "<b>x</b>\n".repeat(1000);
        let cut = fit(long);
        assert!(cut.chars().count() <= MAX_REPLY_CHARS);
        assert!(cut.ends_with("</b>\n…"));
    }

    #[test]
    fn names_are_escaped_clamped_and_replies_fit() {
        use crate::domain::{ChatId, PosterRank, UserId};
        use crate::service::stats::MemberChatReport;
        let title = "<&>".repeat(100);
        let chats: Vec<MemberChatReport> = (0..15)
            .map(|i| MemberChatReport {
                chat: ChatId(-i),
                title: title.clone(),
                messages: 1_000_000,
                messages_30d: 12,
                rank: Some(PosterRank {
                    rank: 2,
                    of: 40,
                    messages: 1_000_000,
                }),
                first_seen: Timestamp(1_700_000_000),
                last_seen: Timestamp(1_700_086_400),
            })
            .collect();
        let text = member_report(
            EN,
            &MemberReport {
                chats,
                more: 3,
                total_messages: 18_000_000,
            },
            false,
        );
        assert!(text.chars().count() <= MAX_REPLY_CHARS, "{}", text.len());
        assert!(!text.contains("<&>"));
        assert!(text.contains("<b>&lt;&amp;&gt;&lt;&amp;&gt;"));
        assert!(text.contains("Messages: <b>1,000,000</b> (12 in 30 days)"));
        assert!(text.contains("Rank: <b>#2</b> of 40 posters"));
        assert!(text.contains("First seen: 2023-11-14, last seen: 2023-11-15"));
        // Every line is balanced, so the cut never leaves an open tag.
        for line in text.lines() {
            assert_eq!(line.matches("<b>").count(), line.matches("</b>").count());
        }
        let top_text = top(
            EN,
            &TopReport {
                title: "گروه کتاب‌خوان‌ها".into(),
                period: TopPeriod::Week,
                top: vec![NamedCount {
                    user: UserId(1),
                    name: "مریم".into(),
                    messages: 1234,
                }],
                posters: 1,
            },
        );
        // Persian names inside English are isolated, so the punctuation stays in place.
        assert!(
            top_text.contains("<b>\u{2068}گروه کتاب‌خوان‌ها\u{2069}</b>, last 7 days"),
            "{top_text}"
        );
        assert!(top_text.contains("1. \u{2068}مریم\u{2069} — <b>1,234</b>"));
    }

    #[test]
    fn bad_period_is_escaped() {
        assert_eq!(
            bad_period(EN, "top", "<5d>"),
            "I don't know the period <code>&lt;5d&gt;</code>. Use <code>/top 7d</code>, \
             <code>/top 30d</code> or <code>/top all</code>."
        );
        let fa = bad_period(FA, "stats", "<b>");
        assert!(
            fa.starts_with("بازهٔ <code>\u{2068}&lt;b&gt;\u{2069}</code> را نمی‌شناسم."),
            "{fa}"
        );
        assert!(
            fa.contains("<code>\u{2068}/stats 7d\u{2069}</code>"),
            "{fa}"
        );
        assert!(rtl_problems(&fa).is_empty(), "{fa}");
        for r in [Refusal::TopNeedsGroup, Refusal::NeedsPerson] {
            assert!(rtl_problems(&refusal(FA, &r)).is_empty());
            assert_ne!(refusal(FA, &r), refusal(EN, &r));
        }
    }

    fn group_report() -> GroupReport {
        let mut hours_of_day = vec![0; 24];
        hours_of_day[9] = 3;
        hours_of_day[21] = 1;
        GroupReport {
            chat: crate::domain::ChatId(-100),
            title: "Rust <Iran>".into(),
            total_messages: 12_345,
            messages_7d: 4,
            messages_30d: 6,
            active_7d: 1,
            active_30d: 2,
            joins_30d: 3,
            leaves_30d: 1,
            daily: vec![0, 2, 0, 1],
            first_day: Day(19_000),
            hours_of_day,
            busiest_hours: vec![(9, 3), (21, 1)],
            busiest_weekday: Some((4, 3)),
            top_period: TopPeriod::Month,
            top: vec![
                NamedCount {
                    user: crate::domain::UserId(1),
                    name: "Alice".into(),
                    messages: 1_500,
                },
                NamedCount {
                    user: crate::domain::UserId(2),
                    name: "مریم".into(),
                    messages: 2,
                },
            ],
            kinds: vec![(MessageKind::Text, 3), (MessageKind::MembersJoined, 1)],
        }
    }

    #[test]
    fn group_stats_in_english() {
        let t = group_stats(EN, &group_report());
        for want in [
            "📊 <b>Rust &lt;Iran&gt;</b>: statistics\n",
            "Messages: <b>12,345</b> in all, 4 in 7 days, 6 in 30 days\n",
            "Active members: <b>1</b> in 7 days, <b>2</b> in 30 days\n",
            "Joined: 3, left: 1 in 30 days\n",
            "<b>Messages per day</b> (2022-01-08 to 2022-01-11, UTC)\n<code>▁█▁▅</code>\n",
            "Busiest day: 2022-01-09 with 2; today 1\n",
            "<code>0     6     12    18    </code>\n",
            "09:00–10:00 (75%), 21:00–22:00 (25%)\n",
            "Busiest weekday: Friday (75%)\n",
            "<b>Top posters</b> (last 30 days)\n1. Alice — <b>1,500</b>\n",
            "2. \u{2068}مریم\u{2069} — <b>2</b>\n",
            "text 3 (75%), joins 1 (25%)",
        ] {
            assert!(t.contains(want), "{want:?} not in:\n{t}");
        }
    }

    #[test]
    fn group_stats_in_persian() {
        let t = group_stats(FA, &group_report());
        for want in [
            "📊 آمار <b>\u{2068}Rust &lt;Iran&gt;\u{2069}</b>\n",
            "پیام‌ها: <b>۱۲٬۳۴۵</b> در کل، ۴ در ۷ روز، ۶ در ۳۰ روز\n",
            "اعضای فعال: <b>۱</b> در ۷ روز، <b>۲</b> در ۳۰ روز\n",
            "در ۳۰ روز: ۳ نفر پیوستند، ۱ نفر رفتند\n",
            "(از \u{2068}2022-01-08\u{2069} تا \u{2068}2022-01-11\u{2069}، به وقت",
            "<code>\u{2068}▁█▁▅\u{2069}</code>\n",
            "پرکارترین روز: \u{2068}2022-01-09\u{2069} با ۲ پیام؛ امروز ۱\n",
            "<code>\u{2068}۰     ۶     ۱۲    ۱۸    \u{2069}</code>\n",
            "۰۹:۰۰ تا ۱۰:۰۰ (۷۵٪)، ۲۱:۰۰ تا ۲۲:۰۰ (۲۵٪)\n",
            "پرکارترین روز هفته: جمعه (۷۵٪)\n",
            "<b>فعال‌ترین اعضا</b> (۳۰ روز گذشته)\n۱. \u{2068}Alice\u{2069} — <b>۱٬۵۰۰</b> پیام\n",
            "۲. مریم — <b>۲</b> پیام\n",
            "متن ۳ (۷۵٪)، پیوستن ۱ (۲۵٪)",
        ] {
            assert!(t.contains(want), "{want:?} not in:\n{t}");
        }
        // No ASCII digit or Latin letter outside an isolate; every line reads right to left.
        assert!(rtl_problems(&t).is_empty(), "{:?}", rtl_problems(&t));
    }

    #[test]
    fn private_summaries_and_empty_reports_in_both_languages() {
        use crate::domain::ChatId;
        use crate::service::stats::GroupSummary;
        let summary = GroupsSummary {
            groups: vec![GroupSummary {
                chat: ChatId(-1),
                title: "Book club".into(),
                total_messages: 1_000,
                messages_7d: 7,
                active_7d: 3,
                yours: 12,
            }],
            more: 2,
        };
        let en = groups_summary(EN, &summary);
        assert!(en.contains(
            "• <b>Book club</b>: 1,000 messages (7 in 7 days, 3 active members); yours: 12\n"
        ));
        assert!(en.contains("…and 2 more.\nSend /stats in a group"), "{en}");
        let fa = groups_summary(FA, &summary);
        assert!(
            fa.contains(
                "• <b>\u{2068}Book club\u{2069}</b>: ۱٬۰۰۰ پیام (۷ در ۷ روز، ۳ عضو فعال)؛ سهم شما: ۱۲\n"
            ),
            "{fa}"
        );
        assert!(fa.contains("…و ۲ گروه دیگر."), "{fa}");
        assert!(rtl_problems(&fa).is_empty(), "{fa}");
        let none = GroupsSummary {
            groups: vec![],
            more: 0,
        };
        let empty = MemberReport {
            chats: vec![],
            more: 0,
            total_messages: 0,
        };
        let empty_top = TopReport {
            title: "G".into(),
            period: TopPeriod::AllTime,
            top: vec![],
            posters: 0,
        };
        for tr in [EN, FA] {
            for text in [
                groups_summary(tr, &none),
                member_report(tr, &empty, true),
                member_report(tr, &empty, false),
                top(tr, &empty_top),
                unavailable(tr),
            ] {
                assert!(!text.is_empty());
                if tr.lang() == Lang::Fa {
                    assert!(rtl_problems(&text).is_empty(), "{text}");
                }
            }
        }
        assert!(top(EN, &empty_top).contains("Nobody has posted"));
        assert!(top(FA, &empty_top).contains("از آغاز تا امروز"));
        assert!(top(FA, &empty_top).contains("کسی پیامی نفرستاده"));
    }

    #[test]
    fn member_report_in_persian() {
        use crate::domain::{ChatId, PosterRank};
        use crate::service::stats::MemberChatReport;
        let chat = |i: i64, title: &str| MemberChatReport {
            chat: ChatId(-i),
            title: title.into(),
            messages: 1_234,
            messages_30d: 12,
            rank: Some(PosterRank {
                rank: 2,
                of: 40,
                messages: 1_234,
            }),
            first_seen: Timestamp(1_700_000_000),
            last_seen: Timestamp(1_700_086_400),
        };
        let text = member_report(
            FA,
            &MemberReport {
                chats: vec![chat(1, "Rust"), chat(2, "کتاب")],
                more: 1,
                total_messages: 3_000,
            },
            false,
        );
        for want in [
            "👤 <b>آمار شما</b>\n",
            "\n<b>\u{2068}Rust\u{2069}</b>\n",
            "\n<b>کتاب</b>\n",
            "پیام‌ها: <b>۱٬۲۳۴</b> (۱۲ در ۳۰ روز)\n",
            "رتبه: <b>۲</b> از ۴۰ نفر\n",
            "نخستین حضور: \u{2068}2023-11-14\u{2069}، آخرین حضور: \u{2068}2023-11-15\u{2069}\n",
            "در مجموع: <b>۳٬۰۰۰</b> پیام در ۳ گروه\n",
            "…و ۱ گروه دیگر.",
        ] {
            assert!(text.contains(want), "{want:?} not in:\n{text}");
        }
        assert!(rtl_problems(&text).is_empty(), "{text}");
    }
}

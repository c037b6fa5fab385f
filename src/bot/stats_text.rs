//! Every user-facing text of `/stats`, `/me` and `/top`, in one place: one function per message,
//! taking the numbers (plain reports from `service::stats`) and returning Telegram HTML with
//! everything from users escaped. Each line carries its own tags, so [`fit`] can cut a long
//! reply at a line boundary. (English only for now; the per-language catalogs take these over.)

use crate::domain::{Day, MessageKind, Timestamp};
use crate::service::stats::{
    GroupReport, GroupsSummary, MemberReport, NamedCount, TopPeriod, TopReport,
};
use teloxide::utils::html;

/// Longest name or title shown, in characters.
const MAX_NAME_CHARS: usize = 32;
/// Telegram's limit is 4096 characters of text after parsing; the HTML is never shorter.
const MAX_REPLY_CHARS: usize = 4000;

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

pub fn unavailable() -> String {
    "Statistics are not available right now, sorry. Please try again later.".to_string()
}

/// A period argument that is not one of the known ones.
pub fn bad_period(command: &str, given: &str) -> String {
    format!(
        "I don't know the period <code>{}</code>. Use <code>/{command} 7d</code>, \
         <code>/{command} 30d</code> or <code>/{command} all</code>.",
        html::escape(given)
    )
}

pub fn top_needs_group() -> String {
    "/top ranks the members of a group: send it in the group.".to_string()
}

pub fn me_needs_person() -> String {
    "I can only show statistics of a person, not of a channel or an anonymous admin.".to_string()
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

fn percent(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        0
    } else {
        (part as u128 * 100 / whole as u128) as u64
    }
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

fn period_text(p: TopPeriod) -> &'static str {
    match p {
        TopPeriod::Week => "last 7 days",
        TopPeriod::Month => "last 30 days",
        TopPeriod::AllTime => "all time",
    }
}

fn ranking(out: &mut String, top: &[NamedCount]) {
    for (i, p) in top.iter().enumerate() {
        out.push_str(&format!(
            "{}. {} — <b>{}</b>\n",
            i + 1,
            name(&p.name),
            thousands(p.messages)
        ));
    }
}

fn kind_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::VideoNote => "video note",
        MessageKind::MembersJoined => "joins",
        MessageKind::MemberLeft => "leaves",
        k => k.as_str(),
    }
}

/// `/stats` in a group.
pub fn group_stats(r: &GroupReport) -> String {
    let mut out = format!("📊 <b>{}</b>: statistics\n", name(&r.title));
    out.push_str(&format!(
        "Messages: <b>{}</b> in all, {} in 7 days, {} in 30 days\n",
        thousands(r.total_messages),
        thousands(r.messages_7d),
        thousands(r.messages_30d)
    ));
    out.push_str(&format!(
        "Active members: <b>{}</b> in 7 days, <b>{}</b> in 30 days\n",
        thousands(r.active_7d),
        thousands(r.active_30d)
    ));
    if r.joins_30d > 0 || r.leaves_30d > 0 {
        out.push_str(&format!(
            "Joined: {}, left: {} in 30 days\n",
            thousands(r.joins_30d),
            thousands(r.leaves_30d)
        ));
    }

    let last = Day(r.first_day.0 + r.daily.len() as i64 - 1);
    out.push_str(&format!(
        "\n<b>Messages per day</b> ({} to {}, UTC)\n",
        r.first_day.iso(),
        last.iso()
    ));
    out.push_str(&format!("<code>{}</code>\n", sparkline(&r.daily)));
    if let Some((i, peak)) = r
        .daily
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
    {
        out.push_str(&format!(
            "Busiest day: {} with {}; today {}\n",
            Day(r.first_day.0 + i as i64).iso(),
            thousands(*peak),
            thousands(r.daily.last().copied().unwrap_or(0))
        ));
    }

    let hours_total: u64 = r.hours_of_day.iter().sum();
    if hours_total > 0 {
        out.push_str("\n<b>Busiest hours</b> (UTC)\n");
        out.push_str(&format!("<code>{}</code>\n", sparkline(&r.hours_of_day)));
        out.push_str("<code>0     6     12    18    </code>\n");
        let hours: Vec<String> = r
            .busiest_hours
            .iter()
            .map(|(h, n)| {
                format!(
                    "{h:02}:00–{:02}:00 ({}%)",
                    (h + 1) % 24,
                    percent(*n, hours_total)
                )
            })
            .collect();
        out.push_str(&format!("{}\n", hours.join(", ")));
        if let Some((d, n)) = r.busiest_weekday {
            let day = WEEKDAYS.get(usize::from(d)).copied().unwrap_or("?");
            out.push_str(&format!(
                "Busiest weekday: {day} ({}%)\n",
                percent(n, hours_total)
            ));
        }
    }

    out.push_str(&format!(
        "\n<b>Top posters</b> ({})\n",
        period_text(r.top_period)
    ));
    if r.top.is_empty() {
        out.push_str("Nobody has posted in this period.\n");
    }
    ranking(&mut out, &r.top);

    let kinds_total: u64 = r.kinds.iter().map(|(_, n)| n).sum();
    if kinds_total > 0 {
        out.push_str("\n<b>Message kinds</b>\n");
        let kinds: Vec<String> = r
            .kinds
            .iter()
            .map(|(k, n)| {
                format!(
                    "{} {} ({}%)",
                    kind_name(*k),
                    thousands(*n),
                    percent(*n, kinds_total)
                )
            })
            .collect();
        out.push_str(&format!("{}\n", kinds.join(", ")));
    }
    fit(out)
}

/// `/stats` in a private chat.
pub fn groups_summary(s: &GroupsSummary) -> String {
    if s.groups.is_empty() {
        return "You are not an active member of any group I archive yet. Post in a group, \
                then ask again."
            .to_string();
    }
    let mut out = String::from("📊 <b>Your groups</b>\n");
    for g in &s.groups {
        out.push_str(&format!(
            "• <b>{}</b>: {} messages ({} in 7 days, {} active members); yours: {}\n",
            name(&g.title),
            thousands(g.total_messages),
            thousands(g.messages_7d),
            thousands(g.active_7d),
            thousands(g.yours)
        ));
    }
    if s.more > 0 {
        out.push_str(&format!("…and {} more.\n", s.more));
    }
    out.push_str("Send /stats in a group for its full statistics.");
    fit(out)
}

/// `/me`; `in_group`: asked in a group (only that group is shown).
pub fn member_report(r: &MemberReport, in_group: bool) -> String {
    if r.chats.is_empty() {
        return if in_group {
            "I have no messages from you in this group yet.".to_string()
        } else {
            "I have not seen you in any group yet.".to_string()
        };
    }
    let mut out = String::from("👤 <b>Your statistics</b>\n");
    for c in &r.chats {
        out.push_str(&format!("\n<b>{}</b>\n", name(&c.title)));
        out.push_str(&format!(
            "Messages: <b>{}</b> ({} in 30 days)\n",
            thousands(c.messages),
            thousands(c.messages_30d)
        ));
        if let Some(rank) = c.rank {
            out.push_str(&format!(
                "Rank: <b>#{}</b> of {} posters\n",
                rank.rank,
                thousands(rank.of)
            ));
        }
        out.push_str(&format!(
            "First seen: {}, last seen: {}\n",
            date(c.first_seen),
            date(c.last_seen)
        ));
    }
    if !in_group && r.chats.len() + r.more > 1 {
        out.push_str(&format!(
            "\nIn all: <b>{}</b> messages in {} groups\n",
            thousands(r.total_messages),
            r.chats.len() + r.more
        ));
    }
    if r.more > 0 {
        out.push_str(&format!("…and {} more groups.\n", r.more));
    }
    fit(out)
}

/// `/top`.
pub fn top(r: &TopReport) -> String {
    let mut out = format!(
        "🏆 <b>Top posters</b> in <b>{}</b>, {}\n",
        name(&r.title),
        period_text(r.period)
    );
    if r.top.is_empty() {
        out.push_str("Nobody has posted in this period.\n");
    }
    ranking(&mut out, &r.top);
    out.push_str(&format!(
        "\n{} members posted in this period. Other periods: /top 7d, /top 30d, /top all",
        thousands(r.posters)
    ));
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

    #[test]
    fn numbers_and_bars() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
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
        let top_text = top(&TopReport {
            title: "گروه کتاب‌خوان‌ها".into(),
            period: TopPeriod::Week,
            top: vec![NamedCount {
                user: UserId(1),
                name: "مریم".into(),
                messages: 1234,
            }],
            posters: 1,
        });
        assert!(top_text.contains("<b>گروه کتاب‌خوان‌ها</b>, last 7 days"));
        assert!(top_text.contains("1. مریم — <b>1,234</b>"));
    }

    #[test]
    fn bad_period_is_escaped() {
        assert_eq!(
            bad_period("top", "<5d>"),
            "I don't know the period <code>&lt;5d&gt;</code>. Use <code>/top 7d</code>, \
             <code>/top 30d</code> or <code>/top all</code>."
        );
    }
}

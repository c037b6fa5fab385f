//! The pieces the `/stats`, `/me` and `/top` texts are made of: counts with the language's digits
//! and separators, names shortened and escaped, dates, percentages, hours, bar lines, and the cut
//! of a long reply at a line boundary.

use crate::domain::{MessageKind, Timestamp};
use crate::i18n::{FSI, Lang, Msg, PDI, Tr};
use crate::service::stats::{NamedCount, TopPeriod};
use teloxide::utils::html;

/// Longest name or title shown, in characters.
pub(super) const MAX_NAME_CHARS: usize = 32;
/// Telegram's limit is 4096 characters of text after parsing; the HTML is never shorter.
pub(super) const MAX_REPLY_CHARS: usize = 4000;

/// `1234567` -> `1,234,567`.
pub(super) fn thousands(n: u64) -> String {
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
pub(super) fn count(tr: Tr, n: impl TryInto<u64>) -> String {
    let s = thousands(n.try_into().unwrap_or(u64::MAX));
    match tr.lang() {
        Lang::En => s,
        Lang::Fa => tr.num(s).replace(',', "\u{066C}"),
    }
}

/// A name or title: shortened, then escaped (isolated for bidi when it is filled in).
pub(super) fn name(s: &str) -> String {
    let clamped = match s.char_indices().nth(MAX_NAME_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    };
    html::escape(&clamped)
}

pub(super) fn date(ts: Timestamp) -> String {
    chrono::DateTime::from_timestamp(ts.0, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| ts.0.to_string())
}

pub(super) fn percent_of(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        0
    } else {
        (part as u128 * 100 / whole as u128) as u64
    }
}

/// `part` as a share of `whole`, `(90%)`-style without the brackets.
pub(super) fn percent(tr: Tr, part: u64, whole: u64) -> String {
    tr.f(
        Msg::StatsPercent,
        &[("value", &tr.num(percent_of(part, whole)))],
    )
}

/// An hour of the day as `09:00` (Persian digits in Persian).
pub(super) fn hour(tr: Tr, h: u8) -> String {
    tr.num(format!("{:02}:00", h % 24))
}

/// One bar character per value, scaled to the largest; zero is the lowest bar.
pub(super) fn sparkline(values: &[u64]) -> String {
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
pub(super) fn chart_line(tr: Tr, s: &str) -> String {
    if tr.lang().is_rtl() {
        format!("<code>{FSI}{s}{PDI}</code>\n")
    } else {
        format!("<code>{s}</code>\n")
    }
}

pub(super) fn period_text(tr: Tr, p: TopPeriod) -> &'static str {
    tr.t(match p {
        TopPeriod::Week => Msg::StatsPeriodWeek,
        TopPeriod::Month => Msg::StatsPeriodMonth,
        TopPeriod::AllTime => Msg::StatsPeriodAll,
    })
}

pub(super) fn ranking(tr: Tr, out: &mut String, top: &[NamedCount]) {
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

pub(super) fn kind_name(tr: Tr, kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::MembersJoined => tr.t(Msg::StatsKindJoins),
        MessageKind::MemberLeft => tr.t(Msg::StatsKindLeaves),
        k => tr.kind(k),
    }
}

/// `text` and a line break.
pub(super) fn line(out: &mut String, text: String) {
    out.push_str(&text);
    out.push('\n');
}

/// Cut a reply over Telegram's limit at a line boundary (every line is balanced HTML).
pub(super) fn fit(text: String) -> String {
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

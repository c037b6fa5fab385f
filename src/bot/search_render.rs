//! How a page of search results looks in Telegram: escaped HTML with the matches in bold, and
//! the paging buttons. Pure functions, so they are tested without a bot.

use crate::i18n::{Msg, Tr};
use crate::search::{QueryError, Snippet, SortOrder};
use crate::service::{SearchHit, SearchPage, SearchServiceError};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::utils::html;

/// The start of a paging button's callback data.
pub const PAGE_PREFIX: &str = "s:";

/// Longest author name or chat title shown, in characters.
const MAX_NAME_CHARS: usize = 48;

/// Callback data of a paging button: which `/search` message (its id in the same chat), which
/// page and order. Always well under Telegram's 64 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRef {
    pub command_message: i32,
    pub page: usize,
    pub order: SortOrder,
}

impl PageRef {
    pub fn encode(&self) -> String {
        let order = match self.order {
            SortOrder::Newest => 'n',
            SortOrder::BestMatch => 'b',
        };
        format!(
            "{PAGE_PREFIX}{}:{}:{order}",
            self.command_message, self.page
        )
    }

    pub fn decode(data: &str) -> Option<PageRef> {
        let mut parts = data.strip_prefix(PAGE_PREFIX)?.split(':');
        let command_message = parts.next()?.parse().ok()?;
        let page = parts.next()?.parse().ok()?;
        let order = match parts.next()? {
            "n" => SortOrder::Newest,
            "b" => SortOrder::BestMatch,
            _ => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(PageRef {
            command_message,
            page,
            order,
        })
    }
}

fn clamp_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn date(ts: crate::domain::Timestamp) -> String {
    chrono::DateTime::from_timestamp(ts.0, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| ts.0.to_string())
}

/// The snippet as HTML: escaped, matches in bold, on one line.
pub fn snippet_html(s: &Snippet) -> String {
    let mut out = String::new();
    if s.cut_start {
        out.push('…');
    }
    let mut at = 0;
    for r in &s.highlights {
        let (Some(before), Some(matched)) = (s.text.get(at..r.start), s.text.get(r.clone())) else {
            continue;
        };
        out.push_str(&html::escape(before));
        out.push_str("<b>");
        out.push_str(&html::escape(matched));
        out.push_str("</b>");
        at = r.end;
    }
    out.push_str(&html::escape(s.text.get(at..).unwrap_or("")));
    if s.cut_end {
        out.push('…');
    }
    out.replace(['\n', '\r'], " ")
}

fn hit_html(tr: Tr, n: usize, hit: &SearchHit, show_chat: bool) -> String {
    let mut line = format!(
        "<b>{}.</b> <b>{}</b> · {}",
        tr.num(n),
        crate::i18n::isolate(
            tr.lang(),
            &html::escape(&clamp_chars(&hit.author, MAX_NAME_CHARS))
        ),
        crate::i18n::isolate(tr.lang(), &date(hit.date))
    );
    if show_chat && let Some(title) = &hit.chat_title {
        line.push_str(&format!(
            " · <i>{}</i>",
            crate::i18n::isolate(
                tr.lang(),
                &html::escape(&clamp_chars(title, MAX_NAME_CHARS))
            )
        ));
    }
    line.push('\n');
    let snippet = snippet_html(&hit.snippet);
    if snippet.trim().is_empty() {
        line.push_str(&format!("<i>({})</i>", tr.kind(hit.kind)));
    } else {
        line.push_str(&crate::i18n::isolate(tr.lang(), &snippet));
    }
    if let Some(link) = &hit.link {
        line.push_str(&format!(
            " <a href=\"{}\">{}</a>",
            html::escape(link),
            tr.t(Msg::SearchOpen)
        ));
    }
    line
}

/// The reply text of a page. `private`: results span several groups (their titles are shown).
pub fn page_html(tr: Tr, p: &SearchPage, private: bool) -> String {
    let query = html::escape(&p.understood);
    if p.hits.is_empty() && p.page == 0 {
        let mut text = tr.f(Msg::SearchNoMatch, &[("query", &query)]);
        if private && p.chats_searched == Some(0) {
            text.push('\n');
            text.push_str(tr.t(Msg::SearchNoGroups));
        } else if private {
            text.push('\n');
            text.push_str(&tr.f(
                Msg::SearchSearchedGroups,
                &[("count", &tr.num(p.chats_searched.unwrap_or(0)))],
            ));
        }
        if p.understood.contains("from:") {
            text.push('\n');
            text.push_str(tr.t(Msg::SearchFromHint));
        }
        return text;
    }
    let order = match p.order {
        SortOrder::Newest => tr.t(Msg::SearchNewestFirst),
        SortOrder::BestMatch => tr.t(Msg::SearchBestFirst),
    };
    let header = if p.total == 1 {
        Msg::SearchHeaderOne
    } else {
        Msg::SearchHeaderMany
    };
    let mut text = tr.f(header, &[("total", &tr.num(p.total)), ("query", &query)]);
    text.push('\n');
    text.push_str(&tr.f(
        Msg::SearchPageLine,
        &[
            ("page", &tr.num(p.page + 1)),
            ("pages", &tr.num(p.pages)),
            ("order", &order),
            ("ms", &tr.num(p.took.as_millis())),
        ],
    ));
    text.push('\n');
    if p.hits.is_empty() {
        text.push('\n');
        text.push_str(tr.t(Msg::SearchNoMore));
    }
    for (i, hit) in p.hits.iter().enumerate() {
        text.push('\n');
        text.push_str(&hit_html(tr, p.page * p.page_size + i + 1, hit, private));
        text.push('\n');
    }
    text
}

/// Prev/Next and the order switch; `None` when there is nothing to page through.
pub fn keyboard(tr: Tr, p: &SearchPage, command_message: i32) -> Option<InlineKeyboardMarkup> {
    if p.total == 0 {
        return None;
    }
    let at = |page: usize, order: SortOrder| {
        PageRef {
            command_message,
            page,
            order,
        }
        .encode()
    };
    let mut nav = Vec::new();
    if p.page > 0 {
        nav.push(InlineKeyboardButton::callback(
            tr.t(Msg::SearchPrevButton),
            at(p.page - 1, p.order),
        ));
    }
    if p.page + 1 < p.pages {
        nav.push(InlineKeyboardButton::callback(
            tr.t(Msg::SearchNextButton),
            at(p.page + 1, p.order),
        ));
    }
    let switch = match p.order {
        SortOrder::Newest => {
            InlineKeyboardButton::callback(tr.t(Msg::SearchBestButton), at(0, SortOrder::BestMatch))
        }
        SortOrder::BestMatch => {
            InlineKeyboardButton::callback(tr.t(Msg::SearchNewestButton), at(0, SortOrder::Newest))
        }
    };
    let mut rows = Vec::new();
    if !nav.is_empty() {
        rows.push(nav);
    }
    if p.total > 1 {
        rows.push(vec![switch]);
    }
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

/// A query error in the user's language (plain text: escape it for HTML).
pub fn query_error_text(tr: Tr, e: &QueryError) -> String {
    let colon = |op: &str| format!("{op}:");
    match e {
        QueryError::Empty => tr.t(Msg::QueryEmpty).to_string(),
        QueryError::TooLong { max } => tr.f(Msg::QueryTooLong, &[("max", &tr.num(max))]),
        QueryError::TooManyTerms { max } => tr.f(Msg::QueryTooManyTerms, &[("max", &tr.num(max))]),
        QueryError::UnclosedQuote => tr.t(Msg::QueryUnclosedQuote).to_string(),
        QueryError::BadDate { op, value } => tr.f(
            Msg::QueryBadDate,
            &[
                ("op", &colon(op)),
                ("example", &format!("{op}:2024-03-01")),
                ("value", &format!("{value:?}")),
            ],
        ),
        QueryError::EmptyFilter { op, example } => tr.f(
            Msg::QueryEmptyFilter,
            &[("op", &colon(op)), ("example", example)],
        ),
        QueryError::BadUser { value } => {
            tr.f(Msg::QueryBadUser, &[("value", &format!("{value:?}"))])
        }
        QueryError::BadChat { value } => {
            tr.f(Msg::QueryBadChat, &[("value", &format!("{value:?}"))])
        }
        QueryError::Repeated { op } => tr.f(Msg::QueryRepeated, &[("op", &colon(op))]),
        QueryError::NegatedFilter { op } => tr.f(Msg::QueryNegatedFilter, &[("op", &colon(op))]),
        QueryError::NothingToSearch => tr.t(Msg::QueryNothingToSearch).to_string(),
        QueryError::EmptyDateRange { after, before } => tr.f(
            Msg::QueryEmptyDateRange,
            &[
                ("after", &format!("after:{}", after.format("%Y-%m-%d"))),
                ("before", &format!("before:{}", before.format("%Y-%m-%d"))),
            ],
        ),
    }
}

/// What to tell the user about a failed search (plain text: escape it for HTML); `None` when
/// the failure is not theirs (log it and say search is unavailable).
pub fn service_error_text(tr: Tr, e: &SearchServiceError) -> Option<String> {
    Some(match e {
        SearchServiceError::Query(q) => query_error_text(tr, q),
        SearchServiceError::RateLimited { retry_after } => tr.f(
            Msg::SearchRateLimited,
            &[("seconds", &tr.num(retry_after.as_secs().max(1)))],
        ),
        SearchServiceError::OtherChatInGroup => tr.t(Msg::SearchOtherChatInGroup).to_string(),
        SearchServiceError::NotAMember => tr.t(Msg::SearchNotAMember).to_string(),
        SearchServiceError::UnknownChat(chat) => tr.f(Msg::SearchUnknownChat, &[("chat", chat)]),
        SearchServiceError::Index(_) | SearchServiceError::Store(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ChatId, MessageId, MessageKind, Timestamp, UserId};
    use crate::i18n::{Lang, Tr};
    use std::time::Duration;

    const EN: Tr = Tr::new(Lang::En);

    fn hit(text: &str, highlights: Vec<std::ops::Range<usize>>) -> SearchHit {
        SearchHit {
            chat_id: ChatId(-1001),
            chat_title: Some("Rust <fa>".into()),
            message_id: MessageId(7),
            user_id: Some(UserId(1)),
            author: "Ali & <Sara>".into(),
            date: Timestamp(1_700_000_000),
            kind: MessageKind::Text,
            snippet: Snippet {
                text: text.into(),
                highlights,
                cut_start: false,
                cut_end: true,
            },
            link: Some("https://t.me/c/1/7".into()),
        }
    }

    fn page(hits: Vec<SearchHit>, total: usize) -> SearchPage {
        SearchPage {
            understood: "rust <b> \"x\"".into(),
            hits,
            total,
            page: 0,
            pages: total.div_ceil(5).max(1),
            page_size: 5,
            order: SortOrder::Newest,
            chats_searched: Some(1),
            took: Duration::from_millis(3),
        }
    }

    #[test]
    fn page_ref_round_trips_within_64_bytes() {
        let r = PageRef {
            command_message: i32::MIN,
            page: usize::MAX,
            order: SortOrder::BestMatch,
        };
        assert!(r.encode().len() <= 64);
        assert_eq!(PageRef::decode(&r.encode()), Some(r));
        for bad in [
            "",
            "s:",
            "s:1:2",
            "s:1:2:x",
            "s:a:2:n",
            "s:1:2:n:9",
            "x:1:2:n",
        ] {
            assert_eq!(PageRef::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn everything_is_escaped_and_matches_are_bold() {
        let rust = 19..23;
        let h = hit("use <T> & سلام rust", vec![rust]);
        let text = page_html(EN, &page(vec![h], 1), true);
        assert!(
            text.contains("use &lt;T&gt; &amp; سلام <b>rust</b>…"),
            "{text}"
        );
        assert!(text.contains("Ali &amp; &lt;Sara&gt;"), "{text}");
        assert!(text.contains("<i>Rust &lt;fa&gt;</i>"), "{text}");
        assert!(text.contains("<code>rust &lt;b&gt; \"x\"</code>"), "{text}");
        assert!(text.contains("<a href=\"https://t.me/c/1/7\">"), "{text}");
        assert!(text.contains("2023-11-14 22:13"), "{text}");
    }

    #[test]
    fn no_results_echoes_the_query() {
        let text = page_html(EN, &page(Vec::new(), 0), false);
        assert!(
            text.starts_with("No messages match <code>rust &lt;b&gt;"),
            "{text}"
        );
        assert!(keyboard(EN, &page(Vec::new(), 0), 5).is_none());
    }

    #[test]
    fn buttons_follow_the_page() {
        let mut p = page(vec![hit("a", vec![])], 12);
        let kb = keyboard(EN, &p, 42).unwrap();
        let data: Vec<String> = kb
            .inline_keyboard
            .iter()
            .flatten()
            .filter_map(|b| match &b.kind {
                teloxide::types::InlineKeyboardButtonKind::CallbackData(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(data, ["s:42:1:n", "s:42:0:b"]);
        p.page = 2;
        let kb = keyboard(EN, &p, 42).unwrap();
        assert_eq!(kb.inline_keyboard[0].len(), 1, "last page: Prev only");
    }

    #[test]
    fn a_full_page_of_long_results_fits_in_a_message() {
        let long = "ق".repeat(300);
        let mut h = hit(&long, vec![0..2, 10..20]);
        h.author = "N".repeat(500);
        h.chat_title = Some("T".repeat(500));
        let mut p = page(vec![h; 5], 5000);
        p.understood = "w".repeat(400);
        let text = page_html(EN, &p, true);
        assert!(text.chars().count() < 4096, "{}", text.chars().count());
    }

    #[test]
    fn persian_pages_read_right_to_left() {
        let fa = Tr::new(Lang::Fa);
        let rust = 4..8;
        let mut h = hit("use rust", vec![rust]);
        h.author = "Ali".into();
        let text = page_html(fa, &page(vec![h], 12), true);
        assert!(text.starts_with("🔎 <b>۱۲</b> نتیجه برای"), "{text}");
        assert!(text.contains("<b>\u{2068}Ali\u{2069}</b>"), "{text}");
        assert!(text.contains("\u{2068}use <b>rust</b>…\u{2069}"), "{text}");
        assert!(text.contains("صفحهٔ ۱ از ۳"), "{text}");
        let kb = keyboard(fa, &page(vec![hit("a", vec![])], 12), 1).unwrap();
        assert_eq!(kb.inline_keyboard[0][0].text, "بعدی");
    }

    #[test]
    fn query_errors_are_translated() {
        let fa = Tr::new(Lang::Fa);
        let e = QueryError::BadDate {
            op: "after",
            value: "2024-13-01".into(),
        };
        let en = query_error_text(EN, &e);
        assert_eq!(en, e.to_string(), "English keeps the parser's wording");
        let text = query_error_text(fa, &e);
        assert!(text.starts_with("\u{2068}after:\u{2069} تاریخی"), "{text}");
        assert!(text.contains("\u{2068}after:2024-03-01\u{2069}"), "{text}");
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2024, 3, d).unwrap();
        for e in [
            QueryError::Empty,
            QueryError::UnclosedQuote,
            QueryError::TooLong { max: 256 },
            QueryError::TooManyTerms { max: 16 },
            QueryError::Repeated { op: "from" },
            QueryError::NegatedFilter { op: "in" },
            QueryError::EmptyFilter {
                op: "from",
                example: "from:@alice",
            },
            QueryError::BadUser {
                value: "@a b\"".into(),
            },
            QueryError::BadChat { value: "?".into() },
            QueryError::NothingToSearch,
            QueryError::EmptyDateRange {
                after: day(1),
                before: day(2),
            },
        ] {
            assert_eq!(query_error_text(EN, &e), e.to_string());
            assert!(crate::i18n::has_rtl(&query_error_text(fa, &e)));
        }
        let limited = SearchServiceError::RateLimited {
            retry_after: Duration::from_millis(10),
        };
        assert_eq!(
            service_error_text(EN, &limited).as_deref(),
            Some(limited.to_string().as_str())
        );
    }
}

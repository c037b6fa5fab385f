//! The query language, parsed into a plain [`ParsedQuery`] (no tantivy types here).
//!
//! ```text
//! rust meeting            both words must match (in any order)
//! "exact phrase"          the words in this order (also “…” and «…»)
//! -spam  -"buy now"       must not match
//! from:@alice  from:42    written by this user (username or user id)
//! after:2024-01-31        dated after that day (UTC), i.e. from Feb 1st on
//! before:2024-03-01       dated before that day (UTC)
//! in:@group  in:-100123   in this chat (the dashboard; in a private chat, one of your groups)
//! ```
//!
//! Malformed input gets a [`QueryError`] whose message explains what to fix; the parser never
//! panics (a randomized test feeds it arbitrary text). Length and term count are bounded so that
//! one query cannot make the index do unbounded work.

use super::analyzer::query_terms;
use crate::domain::{ChatId, Timestamp, UserId};
use chrono::NaiveDate;
use std::fmt;
use thiserror::Error;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Most analyzed terms in all words and phrases together.
pub const MAX_TERMS: usize = 16;

/// A word or a phrase as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clause {
    Word(String),
    Phrase(String),
}

impl Clause {
    /// The text to analyze.
    pub fn text(&self) -> &str {
        match self {
            Clause::Word(w) | Clause::Phrase(w) => w,
        }
    }

    /// Index terms, one per word position (a word like `e-mail` has two: it is a phrase).
    pub fn terms(&self) -> Vec<String> {
        query_terms(self.text())
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clause::Word(w) => f.write_str(w),
            Clause::Phrase(p) => write!(f, "\"{p}\""),
        }
    }
}

/// `from:` — a username (without `@`, as written) or a numeric user id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    Username(String),
    Id(UserId),
}

/// `in:` — a public chat's username or a chat id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatRef {
    Username(String),
    Id(ChatId),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub include: Vec<Clause>,
    pub exclude: Vec<Clause>,
    pub from: Option<UserRef>,
    pub after: Option<NaiveDate>,
    pub before: Option<NaiveDate>,
    pub in_chat: Option<ChatRef>,
}

impl ParsedQuery {
    /// `(lower inclusive, upper exclusive)` bounds on the message date, from `after:`/`before:`.
    pub fn date_bounds(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        // The day after the last representable one: nothing can match.
        let lower = self
            .after
            .map(|d| Timestamp(d.succ_opt().map_or(i64::MAX, day_start)));
        let upper = self.before.map(|d| Timestamp(day_start(d)));
        (lower, upper)
    }

    /// True when the query names only filters and no word or phrase to look for.
    pub fn is_filter_only(&self) -> bool {
        self.include.is_empty()
    }
}

fn day_start(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|dt| dt.and_utc().timestamp())
        .unwrap_or(0)
}

/// The query as understood, in the same syntax (parsing it again gives the same query).
impl fmt::Display for ParsedQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.include.iter().map(|c| c.to_string()));
        parts.extend(self.exclude.iter().map(|c| format!("-{c}")));
        match &self.from {
            Some(UserRef::Username(u)) => parts.push(format!("from:@{u}")),
            Some(UserRef::Id(id)) => parts.push(format!("from:{id}")),
            None => {}
        }
        if let Some(d) = self.after {
            parts.push(format!("after:{}", d.format("%Y-%m-%d")));
        }
        if let Some(d) = self.before {
            parts.push(format!("before:{}", d.format("%Y-%m-%d")));
        }
        match &self.in_chat {
            Some(ChatRef::Username(u)) => parts.push(format!("in:@{u}")),
            Some(ChatRef::Id(id)) => parts.push(format!("in:{id}")),
            None => {}
        }
        f.write_str(&parts.join(" "))
    }
}

/// What is wrong with a query, worded for the person who typed it.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum QueryError {
    #[error(
        "Tell me what to look for, for example: rust meeting, \"exact phrase\", or from:@username."
    )]
    Empty,
    #[error("That query is too long: at most {max} characters, please.")]
    TooLong { max: usize },
    #[error("That query has too many words: at most {max}, please.")]
    TooManyTerms { max: usize },
    #[error("A quote is not closed: put a \" at the end of the phrase.")]
    UnclosedQuote,
    #[error(
        "{op}: needs a date written as YYYY-MM-DD, for example {op}:2024-03-01 (got {value:?})."
    )]
    BadDate { op: &'static str, value: String },
    #[error("{op}: needs a value right after the colon, for example {example}.")]
    EmptyFilter {
        op: &'static str,
        example: &'static str,
    },
    #[error("from: needs a username or a user id, for example from:@alice (got {value:?}).")]
    BadUser { value: String },
    #[error("in: needs a chat username or id, for example in:@mygroup (got {value:?}).")]
    BadChat { value: String },
    #[error("{op}: is given twice; use it once.")]
    Repeated { op: &'static str },
    #[error("{op}: filters cannot be excluded with a minus sign.")]
    NegatedFilter { op: &'static str },
    #[error(
        "I found no words to search for (letters or digits); excluded words alone are not enough."
    )]
    NothingToSearch,
    #[error("after:{after} and before:{before} leave no day in between.")]
    EmptyDateRange { after: NaiveDate, before: NaiveDate },
}

const QUOTES: &[char] = &['"', '“', '”', '«', '»', '„'];

fn is_quote(c: char) -> bool {
    QUOTES.contains(&c)
}

/// One lexical item before interpretation.
enum Item {
    Word { text: String, negated: bool },
    Phrase { text: String, negated: bool },
}

fn lex(input: &str) -> Result<Vec<Item>, QueryError> {
    let mut items = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        let mut negated = false;
        if first == '-' {
            chars.next();
            negated = true;
        }
        match chars.peek() {
            None => break,
            Some(c) if c.is_whitespace() => continue, // a lone "-"
            Some(&c) if is_quote(c) => {
                chars.next();
                let mut text = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if is_quote(c) {
                        closed = true;
                        break;
                    }
                    text.push(c);
                }
                if !closed {
                    return Err(QueryError::UnclosedQuote);
                }
                items.push(Item::Phrase { text, negated });
            }
            Some(_) => {
                let mut text = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    text.push(c);
                }
                items.push(Item::Word { text, negated });
            }
        }
    }
    Ok(items)
}

/// Digits of any script as ASCII (dates typed with Persian digits work).
fn ascii_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{0660}'..='\u{0669}' | '\u{06f0}'..='\u{06f9}' => {
                super::analyzer::fold_char(c).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

fn parse_date(op: &'static str, value: &str) -> Result<NaiveDate, QueryError> {
    let value = ascii_digits(value);
    NaiveDate::parse_from_str(&value, "%Y-%m-%d").map_err(|_| QueryError::BadDate { op, value })
}

fn is_username(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_user(value: &str) -> Result<UserRef, QueryError> {
    let value = ascii_digits(value);
    if let Some(name) = value.strip_prefix('@') {
        if is_username(name) {
            return Ok(UserRef::Username(name.to_string()));
        }
    } else if value.chars().all(|c| c.is_ascii_digit()) {
        if let Ok(id) = value.parse::<u64>() {
            return Ok(UserRef::Id(UserId(id)));
        }
    } else if is_username(&value) {
        return Ok(UserRef::Username(value));
    }
    Err(QueryError::BadUser { value })
}

fn parse_chat(value: &str) -> Result<ChatRef, QueryError> {
    let value = ascii_digits(value);
    if let Some(name) = value.strip_prefix('@') {
        if is_username(name) {
            return Ok(ChatRef::Username(name.to_string()));
        }
    } else if let Ok(id) = value.parse::<i64>() {
        return Ok(ChatRef::Id(ChatId(id)));
    } else if is_username(&value) {
        return Ok(ChatRef::Username(value));
    }
    Err(QueryError::BadChat { value })
}

/// A filter operator at the start of a word: `from:`, `after:`, `before:`, `in:`.
fn operator(word: &str) -> Option<(&'static str, &str)> {
    let (name, value) = word.split_once(':')?;
    let op = ["from", "after", "before", "in"]
        .into_iter()
        .find(|op| name.eq_ignore_ascii_case(op))?;
    Some((op, value))
}

fn set_once<T>(slot: &mut Option<T>, op: &'static str, value: T) -> Result<(), QueryError> {
    if slot.is_some() {
        return Err(QueryError::Repeated { op });
    }
    *slot = Some(value);
    Ok(())
}

/// Parse a query. Words and phrases that hold nothing searchable (only punctuation or emoji) are
/// dropped; what is left is in the result, and its `Display` is the query as understood.
pub fn parse(input: &str) -> Result<ParsedQuery, QueryError> {
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong {
            max: MAX_QUERY_CHARS,
        });
    }
    let mut q = ParsedQuery::default();
    let mut terms = 0usize;
    let mut saw_text = false;
    for item in lex(input)? {
        let (clause, negated) = match item {
            Item::Phrase { text, negated } => (Clause::Phrase(text), negated),
            Item::Word { text, negated } => match operator(&text) {
                Some((op, _)) if negated => return Err(QueryError::NegatedFilter { op }),
                Some((op, "")) => {
                    let example = match op {
                        "from" => "from:@alice",
                        "in" => "in:@mygroup",
                        _ => "after:2024-01-31",
                    };
                    return Err(QueryError::EmptyFilter { op, example });
                }
                Some(("from", value)) => {
                    set_once(&mut q.from, "from", parse_user(value)?)?;
                    continue;
                }
                Some(("after", value)) => {
                    set_once(&mut q.after, "after", parse_date("after", value)?)?;
                    continue;
                }
                Some(("before", value)) => {
                    set_once(&mut q.before, "before", parse_date("before", value)?)?;
                    continue;
                }
                Some((_, value)) => {
                    set_once(&mut q.in_chat, "in", parse_chat(value)?)?;
                    continue;
                }
                None => (Clause::Word(text), negated),
            },
        };
        saw_text = true;
        let n = clause.terms().len();
        if n == 0 {
            continue;
        }
        terms += n;
        if terms > MAX_TERMS {
            return Err(QueryError::TooManyTerms { max: MAX_TERMS });
        }
        if negated {
            q.exclude.push(clause);
        } else {
            q.include.push(clause);
        }
    }
    let has_filter =
        q.from.is_some() || q.after.is_some() || q.before.is_some() || q.in_chat.is_some();
    if q.include.is_empty() && !has_filter {
        return Err(if saw_text {
            QueryError::NothingToSearch
        } else {
            QueryError::Empty
        });
    }
    if let (Some(after), Some(before)) = (q.after, q.before)
        && after.succ_opt().is_none_or(|next| next >= before)
    {
        return Err(QueryError::EmptyDateRange { after, before });
    }
    Ok(q)
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;

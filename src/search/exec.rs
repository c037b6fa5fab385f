//! Running a parsed query: the scope and filters become required clauses of one boolean query,
//! words and phrases scored with BM25, exclusions prohibited; results come from fast fields.

use super::query::{Clause, ParsedQuery};
use super::schema::{self, Fields};
use super::{SearchError, SearchIndex};
use crate::domain::{ChatId, MessageId, Timestamp, UserId};
use std::ops::{Bound, Range};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, Searcher, Term};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortOrder {
    /// Newest message first.
    #[default]
    Newest,
    /// Best BM25 match first.
    BestMatch,
}

/// A parsed query with its scope resolved by the caller (the service does access control).
#[derive(Clone, Debug)]
pub struct SearchRequest<'a> {
    pub query: &'a ParsedQuery,
    /// The chats to search. `None` means every chat (the dashboard); an empty list finds nothing.
    pub chats: Option<&'a [ChatId]>,
    /// `from:` resolved to a user id.
    pub from: Option<UserId>,
    pub order: SortOrder,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexHit {
    pub chat_id: ChatId,
    pub message_id: MessageId,
    pub date: Timestamp,
}

/// Hits of one page, the total number of matches, and what marks the matches in a text.
pub struct IndexResults {
    pub hits: Vec<IndexHit>,
    pub total: usize,
    pub highlighter: Highlighter,
}

/// A short piece of a message with the matched words marked (byte ranges into `text`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<Range<usize>>,
    /// The piece starts after the beginning of the message / ends before its end.
    pub cut_start: bool,
    pub cut_end: bool,
}

/// Marks a query's words in message texts (the same analyzer as the index).
pub struct Highlighter {
    generator: Option<SnippetGenerator>,
}

impl Highlighter {
    /// The best piece of `text` of at most about `max_chars` characters, matches marked; the
    /// start of the text when nothing matches (a filter-only query, say).
    pub fn snippet(&mut self, text: &str, max_chars: usize) -> Snippet {
        if let Some(generator) = self.generator.as_mut() {
            generator.set_max_num_chars(max_chars);
            let s = generator.snippet(text);
            if !s.is_empty() && !s.highlighted().is_empty() {
                let fragment = s.fragment();
                let start = text.find(fragment).unwrap_or(0);
                if text.chars().count() <= max_chars {
                    // A short message is shown whole.
                    let shift = |r: &Range<usize>| r.start + start..r.end + start;
                    return Snippet {
                        text: text.to_string(),
                        highlights: s.highlighted().iter().map(shift).collect(),
                        cut_start: false,
                        cut_end: false,
                    };
                }
                return Snippet {
                    text: fragment.to_string(),
                    highlights: s.highlighted().to_vec(),
                    cut_start: start > 0,
                    cut_end: start + fragment.len() < text.len(),
                };
            }
        }
        let end = text
            .char_indices()
            .nth(max_chars)
            .map_or(text.len(), |(i, _)| i);
        Snippet {
            text: text[..end].to_string(),
            highlights: Vec::new(),
            cut_start: false,
            cut_end: end < text.len(),
        }
    }
}

type Clauses = Vec<(Occur, Box<dyn Query>)>;

fn text_query(field: Field, clause: &Clause) -> Option<Box<dyn Query>> {
    let terms: Vec<Term> = clause
        .terms()
        .iter()
        .map(|t| Term::from_field_text(field, t))
        .collect();
    match terms.len() {
        0 => None,
        1 => terms
            .into_iter()
            .next()
            .map(|t| Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as Box<dyn Query>),
        _ => Some(Box::new(PhraseQuery::new(terms))),
    }
}

/// A required clause that does not change the ranking.
fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

/// The query, and the clauses whose words the snippets mark.
fn build(f: &Fields, req: &SearchRequest<'_>) -> (BooleanQuery, Clauses) {
    let mut clauses: Clauses = Vec::new();
    let mut highlight: Clauses = Vec::new();
    for c in &req.query.include {
        if let Some(q) = text_query(f.text, c) {
            highlight.push((Occur::Should, q.box_clone()));
            clauses.push((Occur::Must, q));
        }
    }
    for c in &req.query.exclude {
        if let Some(q) = text_query(f.text, c) {
            clauses.push((Occur::MustNot, q));
        }
    }
    if let Some(chats) = req.chats {
        let q: Box<dyn Query> = match chats {
            [one] => Box::new(TermQuery::new(
                Term::from_field_i64(f.chat, one.0),
                IndexRecordOption::Basic,
            )),
            // A few chats: a union of their postings (seeks cheaply inside an intersection).
            few if few.len() <= 16 => Box::new(BooleanQuery::new(
                few.iter()
                    .map(|c| {
                        let t = Term::from_field_i64(f.chat, c.0);
                        let q: Box<dyn Query> =
                            Box::new(TermQuery::new(t, IndexRecordOption::Basic));
                        (Occur::Should, q)
                    })
                    .collect(),
            )),
            many => Box::new(TermSetQuery::new(
                many.iter().map(|c| Term::from_field_i64(f.chat, c.0)),
            )),
        };
        clauses.push(filter(q));
    }
    if let Some(user) = req.from {
        let term = Term::from_field_u64(f.user, user.0);
        clauses.push(filter(Box::new(TermQuery::new(
            term,
            IndexRecordOption::Basic,
        ))));
    }
    let (lower, upper) = req.query.date_bounds();
    if lower.is_some() || upper.is_some() {
        // Dates as order keys: every key of day D is at least D << 20.
        let bound = |b: Option<Timestamp>, inclusive: bool| match b {
            Some(t) => {
                let key = Term::from_field_i64(f.order, schema::order_key(t.0, 0));
                if inclusive {
                    Bound::Included(key)
                } else {
                    Bound::Excluded(key)
                }
            }
            None => Bound::Unbounded,
        };
        clauses.push(filter(Box::new(RangeQuery::new(
            bound(lower, true),
            bound(upper, false),
        ))));
    }
    if !clauses.iter().any(|(occur, _)| *occur == Occur::Must) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    (BooleanQuery::new(clauses), highlight)
}

impl SearchIndex {
    /// Run `req` against the last committed (and reloaded) state of the index.
    pub fn search(&self, req: &SearchRequest<'_>) -> Result<IndexResults, SearchError> {
        let searcher = self.reader.searcher();
        if req.chats.is_some_and(|c| c.is_empty()) {
            return Ok(IndexResults {
                hits: Vec::new(),
                total: 0,
                highlighter: Highlighter { generator: None },
            });
        }
        let (query, highlight) = build(&self.fields, req);
        let limit = req.limit.max(1);
        let (total, addresses): (usize, Vec<DocAddress>) = match req.order {
            SortOrder::Newest => {
                let top = TopDocs::with_limit(limit)
                    .and_offset(req.offset)
                    .order_by_fast_field::<i64>(schema::ORDER, Order::Desc);
                let (total, docs) = searcher.search(&query, &(Count, top))?;
                (total, docs.into_iter().map(|(_, a)| a).collect())
            }
            SortOrder::BestMatch => {
                let top = TopDocs::with_limit(limit).and_offset(req.offset);
                let (total, docs) = searcher.search(&query, &(Count, top))?;
                (total, docs.into_iter().map(|(_, a)| a).collect())
            }
        };
        let hits = addresses
            .into_iter()
            .map(|a| hit(&searcher, a))
            .collect::<Result<Vec<_>, _>>()?;
        let generator = if highlight.is_empty() {
            None
        } else {
            let q = BooleanQuery::new(highlight);
            Some(SnippetGenerator::create(&searcher, &q, self.fields.text)?)
        };
        Ok(IndexResults {
            hits,
            total,
            highlighter: Highlighter { generator },
        })
    }
}

fn hit(searcher: &Searcher, a: DocAddress) -> Result<IndexHit, SearchError> {
    let ff = searcher.segment_reader(a.segment_ord).fast_fields();
    let missing = |what: &str| SearchError::Index(format!("document without {what}"));
    let chat = ff
        .i64(schema::CHAT)?
        .first(a.doc_id)
        .ok_or_else(|| missing("chat"))?;
    let msg = ff
        .i64(schema::MSG)?
        .first(a.doc_id)
        .ok_or_else(|| missing("message id"))?;
    let order = ff
        .i64(schema::ORDER)?
        .first(a.doc_id)
        .ok_or_else(|| missing("date"))?;
    Ok(IndexHit {
        chat_id: ChatId(chat),
        message_id: MessageId(i32::try_from(msg).map_err(|_| missing("valid message id"))?),
        date: Timestamp(schema::order_date(order)),
    })
}

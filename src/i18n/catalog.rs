//! The embedded catalogs: parsed once on first use, looked up by [`Msg`], and checked.

use super::lang::{FSI, Lang, PDI, is_ltr_char, is_rtl_char, isolate};
use super::messages::Msg;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{Display, Write};
use std::sync::LazyLock;

const EN_TOML: &str = include_str!("en.toml");
const FA_TOML: &str = include_str!("fa.toml");

/// One language's texts, indexed like [`Msg::ALL`] (`None`: missing, falls back to English).
struct Catalog {
    texts: Vec<Option<String>>,
}

/// Both catalogs. Parsed from text compiled into the binary, so a problem is a build mistake
/// that `tests.rs` catches; at run time a broken entry falls back (never a panic).
static CATALOGS: LazyLock<[Catalog; 2]> =
    LazyLock::new(|| [build(&parse(EN_TOML).0), build(&parse(FA_TOML).0)]);

fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => EN_TOML,
        Lang::Fa => FA_TOML,
    }
}

/// The dotted keys and string values of a catalog, and what is wrong with it.
fn parse(text: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    match toml::from_str::<toml::Table>(text) {
        Ok(table) => flatten("", &table, &mut out, &mut problems),
        Err(e) => problems.push(format!("does not parse: {e}")),
    }
    (out, problems)
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out, problems),
            _ => problems.push(format!("{key} is not a string")),
        }
    }
}

fn build(texts: &BTreeMap<String, String>) -> Catalog {
    Catalog {
        texts: Msg::ALL
            .iter()
            .map(|m| texts.get(m.key()).cloned())
            .collect(),
    }
}

pub(super) fn text(lang: Lang, msg: Msg) -> &'static str {
    let i = msg as usize; // variants are numbered in `Msg::ALL` order
    let catalogs: &'static [Catalog; 2] = &CATALOGS;
    let own = match lang {
        Lang::En => &catalogs[0],
        Lang::Fa => &catalogs[1],
    };
    own.texts
        .get(i)
        .and_then(|t| t.as_deref())
        .or_else(|| catalogs[0].texts.get(i).and_then(|t| t.as_deref()))
        .unwrap_or(msg.key())
}

/// The `{name}` placeholders of a template, in order of appearance.
pub(super) fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Fill the `{name}` placeholders of `template` for a text in `lang`: each value is written with
/// its `Display`, then isolated for bidi (see [`isolate`]). A placeholder without a value stays as
/// written; a value without a placeholder is ignored.
pub fn fill(lang: Lang, template: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            let (_, v) = args.iter().find(|(n, _)| *n == name)?;
            Some((close, v))
        });
        match value {
            Some((close, v)) => {
                let mut s = String::new();
                let _ = write!(s, "{v}");
                out.push_str(&isolate(lang, &s));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Everything wrong with the catalogs: unparsable files, missing or unknown keys, placeholders
/// that differ from English, and right-to-left texts that would not read right to left. Empty
/// when all is well (a test asserts it; the appliance logs any at start).
pub fn check_catalogs() -> Vec<String> {
    let known: BTreeSet<&str> = Msg::ALL.iter().map(|m| m.key()).collect();
    let (english, _) = parse(EN_TOML);
    let mut problems = Vec::new();
    for lang in Lang::ALL {
        let code = lang.code();
        let (texts, parse_problems) = parse(source(lang));
        problems.extend(parse_problems.into_iter().map(|p| format!("{code}: {p}")));
        for key in &known {
            if !texts.contains_key(*key) {
                problems.push(format!("{code}: missing {key}"));
            }
        }
        for (key, text) in &texts {
            if !known.contains(key.as_str()) {
                problems.push(format!("{code}: unknown key {key}"));
                continue;
            }
            if text.trim().is_empty() {
                problems.push(format!("{code}: {key} is empty"));
            }
            if let Some(en) = english.get(key) {
                let mut theirs = placeholders(text);
                let mut ours = placeholders(en);
                theirs.sort_unstable();
                ours.sort_unstable();
                if theirs != ours {
                    problems.push(format!(
                        "{code}: {key} has placeholders {theirs:?}, English has {ours:?}"
                    ));
                }
            }
            if lang.is_rtl() {
                problems.extend(
                    rtl_problems(text)
                        .into_iter()
                        .map(|p| format!("{code}: {key}: {p}")),
                );
            }
        }
    }
    problems
}

/// What keeps a right-to-left template from reading right to left: a Latin letter or digit
/// outside an isolate (it would pull neighbouring punctuation into left-to-right order), an
/// isolate not closed, or a line whose first strong letter is left to right (Telegram would lay
/// the whole line out left to right). Markup (`<b>`), entities (`&amp;`) and placeholders (filled
/// isolated) are skipped.
pub fn rtl_problems(template: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for line in template.split('\n') {
        let mut depth = 0usize;
        let mut first_strong: Option<char> = None;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '<' => {
                    for c in chars.by_ref() {
                        if c == '>' {
                            break;
                        }
                    }
                }
                '&' if chars
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '#') =>
                {
                    for c in chars.by_ref() {
                        if c == ';' {
                            break;
                        }
                    }
                }
                '{' => {
                    for c in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                    }
                }
                FSI => depth += 1,
                PDI => {
                    if depth == 0 {
                        problems.push(format!("a PDI without its FSI in {line:?}"));
                    }
                    depth = depth.saturating_sub(1);
                }
                c if depth == 0 && (c.is_ascii_alphanumeric() || is_ltr_char(c)) => {
                    problems.push(format!("{c:?} outside an isolate in {line:?}"));
                    first_strong.get_or_insert(c);
                }
                c if depth == 0 && is_rtl_char(c) => {
                    first_strong.get_or_insert(c);
                }
                _ => {}
            }
        }
        if depth != 0 {
            problems.push(format!("an isolate is not closed in {line:?}"));
        }
        if let Some(c) = first_strong
            && !is_rtl_char(c)
        {
            problems.push(format!("the line starts left to right: {line:?}"));
        }
    }
    problems
}

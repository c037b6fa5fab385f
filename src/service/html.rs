//! Telegram's HTML subset: validate a broadcast text and render a safe preview.
//!
//! Allowed: `b strong i em u ins s strike del`, `span class="tg-spoiler"`, `tg-spoiler`,
//! `a href="..."` (http, https, tg or mailto), `code` (with `class="language-x"` directly inside
//! `pre`), `pre`, `blockquote` (optionally `expandable`), and the entities `&lt; &gt; &amp;
//! &quot;` and numeric ones. Every other `<`, `>` or `&` is an error, as Telegram would refuse it.
//! The preview is built only from what the parser accepted: allowed tags re-emitted with escaped
//! attributes, text re-escaped; the input itself is never echoed.

use thiserror::Error;

/// Telegram's limit on a message's text (after entities are parsed), in UTF-16 units.
pub const MAX_TEXT_UTF16: usize = 4096;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum HtmlError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is too long: {0} characters of text, Telegram allows 4096")]
    TooLong(usize),
    #[error(
        "<{tag}> at character {at} is not allowed (allowed: b, strong, i, em, u, ins, s, strike, del, span class=\"tg-spoiler\", tg-spoiler, a href, code, pre, blockquote)"
    )]
    TagNotAllowed { tag: String, at: usize },
    #[error("<{tag}> at character {at}: {problem}")]
    BadAttribute {
        tag: String,
        at: usize,
        problem: String,
    },
    #[error("a tag at character {at} is not closed with '>'")]
    UnterminatedTag { at: usize },
    #[error("</{found}> at character {at} closes nothing that is open{}", expected.as_ref().map(|e| format!(" (expected </{e}>)")).unwrap_or_default())]
    Mismatched {
        found: String,
        expected: Option<String>,
        at: usize,
    },
    #[error("<{0}> is never closed")]
    Unclosed(String),
    #[error("'{ch}' at character {at} must be written as {entity}")]
    BareSymbol {
        ch: char,
        at: usize,
        entity: &'static str,
    },
    #[error(
        "unknown entity '&{name};' at character {at} (use &lt; &gt; &amp; &quot; or &#number;)"
    )]
    BadEntity { name: String, at: usize },
}

const SIMPLE: [&str; 11] = [
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "tg-spoiler",
    "blockquote",
];

/// A validated text: the preview (safe HTML for the dashboard) and the visible length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub preview: String,
    pub text_chars: usize,
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
}

fn decode_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ => {
            let num = name.strip_prefix('#')?;
            let n = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(n)
        }
    }
}

/// Parse `name="v" name2='v' flag` into pairs; `None` on a syntax error.
fn parse_attrs(s: &str) -> Option<Vec<(String, Option<String>)>> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        rest = rest[end..].trim_start();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let quote = after.chars().next()?;
            let (value, tail) = if quote == '"' || quote == '\'' {
                let close = after[1..].find(quote)?;
                (&after[1..1 + close], &after[close + 2..])
            } else {
                let e = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..e], &after[e..])
            };
            out.push((name, Some(decode_attr(value)?)));
            rest = tail.trim_start();
        } else {
            out.push((name, None));
        }
    }
    Some(out)
}

fn decode_attr(v: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let semi = rest[i..].find(';')?;
        out.push(decode_entity(&rest[i + 1..i + semi])?);
        rest = &rest[i + semi + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn safe_href(href: &str) -> bool {
    let lower = href.trim().to_ascii_lowercase();
    ["http://", "https://", "tg://", "mailto:"]
        .iter()
        .any(|p| lower.starts_with(p) && lower.len() > p.len())
        && !href.chars().any(char::is_control)
}

/// Check `html` against Telegram's subset and build the preview.
pub fn check(html: &str) -> Result<Checked, HtmlError> {
    let mut preview = String::with_capacity(html.len() + 32);
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let chars: Vec<(usize, char)> = html.char_indices().collect();
    let char_at = |byte: usize| html[..byte].chars().count() + 1;
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        match c {
            '<' => {
                let at = char_at(pos);
                let Some(close) = html[pos..].find('>') else {
                    return Err(HtmlError::UnterminatedTag { at });
                };
                let inner = &html[pos + 1..pos + close];
                if inner.contains('<') {
                    return Err(HtmlError::UnterminatedTag { at });
                }
                let end = pos + close + 1;
                while i < chars.len() && chars[i].0 < end {
                    i += 1;
                }
                if let Some(name) = inner.strip_prefix('/') {
                    let name = name.trim().to_ascii_lowercase();
                    match stack.last() {
                        Some(top) if *top == name => {
                            stack.pop();
                            if name == "tg-spoiler" {
                                preview.push_str("</span>");
                            } else {
                                preview.push_str("</");
                                preview.push_str(&name);
                                preview.push('>');
                            }
                        }
                        top => {
                            return Err(HtmlError::Mismatched {
                                found: name,
                                expected: top.cloned(),
                                at,
                            });
                        }
                    }
                    continue;
                }
                let (name, attrs) = match inner.find(char::is_whitespace) {
                    Some(s) => (&inner[..s], &inner[s..]),
                    None => (inner, ""),
                };
                let name = name.to_ascii_lowercase();
                let bad = |problem: &str| HtmlError::BadAttribute {
                    tag: name.clone(),
                    at,
                    problem: problem.to_string(),
                };
                let attrs = parse_attrs(attrs).ok_or_else(|| bad("cannot read its attributes"))?;
                let open = match name.as_str() {
                    n if SIMPLE.contains(&n) => {
                        let expandable = n == "blockquote"
                            && attrs.len() == 1
                            && attrs[0] == ("expandable".to_string(), None);
                        if !attrs.is_empty() && !expandable {
                            return Err(bad("takes no attributes"));
                        }
                        if n == "tg-spoiler" {
                            "<span class=\"tg-spoiler\">".to_string()
                        } else {
                            format!("<{n}>")
                        }
                    }
                    "span" => {
                        if attrs != [("class".to_string(), Some("tg-spoiler".to_string()))] {
                            return Err(bad("only class=\"tg-spoiler\" is allowed"));
                        }
                        "<span class=\"tg-spoiler\">".to_string()
                    }
                    "a" => {
                        let href = match attrs.as_slice() {
                            [(k, Some(v))] if k == "href" => v,
                            _ => return Err(bad("needs exactly one attribute, href")),
                        };
                        if !safe_href(href) {
                            return Err(bad("href must be an http, https, tg or mailto link"));
                        }
                        let mut t = String::from("<a rel=\"noopener noreferrer nofollow\" href=\"");
                        escape_into(&mut t, href.trim());
                        t.push_str("\">");
                        t
                    }
                    "code" => match attrs.as_slice() {
                        [] => "<code>".to_string(),
                        [(k, Some(v))]
                            if k == "class"
                                && v.starts_with("language-")
                                && stack.last().map(String::as_str) == Some("pre") =>
                        {
                            "<code>".to_string()
                        }
                        _ => {
                            return Err(bad("only class=\"language-...\" inside <pre> is allowed"));
                        }
                    },
                    "pre" => {
                        if !attrs.is_empty() {
                            return Err(bad("takes no attributes"));
                        }
                        "<pre>".to_string()
                    }
                    _ => return Err(HtmlError::TagNotAllowed { tag: name, at }),
                };
                preview.push_str(&open);
                stack.push(if name == "span" { "span".into() } else { name });
            }
            '&' => {
                let at = char_at(pos);
                let semi = html[pos..].find(';').filter(|s| *s <= 12);
                let decoded = semi.and_then(|s| decode_entity(&html[pos + 1..pos + s]));
                match (semi, decoded) {
                    (Some(s), Some(ch)) => {
                        let mut buf = [0u8; 4];
                        escape_into(&mut preview, ch.encode_utf8(&mut buf));
                        text.push(ch);
                        let end = pos + s + 1;
                        while i < chars.len() && chars[i].0 < end {
                            i += 1;
                        }
                    }
                    (Some(s), None) => {
                        return Err(HtmlError::BadEntity {
                            name: html[pos + 1..pos + s].to_string(),
                            at,
                        });
                    }
                    _ => {
                        return Err(HtmlError::BareSymbol {
                            ch: '&',
                            at,
                            entity: "&amp;",
                        });
                    }
                }
            }
            '>' => {
                return Err(HtmlError::BareSymbol {
                    ch: '>',
                    at: char_at(pos),
                    entity: "&gt;",
                });
            }
            c => {
                let mut buf = [0u8; 4];
                escape_into(&mut preview, c.encode_utf8(&mut buf));
                text.push(c);
                i += 1;
            }
        }
    }
    if let Some(open) = stack.pop() {
        return Err(HtmlError::Unclosed(open));
    }
    if text.trim().is_empty() {
        return Err(HtmlError::Empty);
    }
    let units = text.encode_utf16().count();
    if units > MAX_TEXT_UTF16 {
        return Err(HtmlError::TooLong(units));
    }
    Ok(Checked {
        preview,
        text_chars: text.chars().count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_subset_and_previews_safely() {
        let c = check(
            "<b>Hi</b> <i>there</i> &amp; <a href=\"https://x.org/?a=1&amp;b=2\">link</a>\n\
             <span class=\"tg-spoiler\">s</span><tg-spoiler>t</tg-spoiler>\
             <pre><code class=\"language-rust\">fn x() {}</code></pre><blockquote expandable>q</blockquote> سلام",
        )
        .unwrap();
        assert!(c.preview.contains("<b>Hi</b>"));
        assert!(c.preview.contains("href=\"https://x.org/?a=1&amp;b=2\""));
        assert!(c.preview.contains("<span class=\"tg-spoiler\">t</span>"));
        assert!(c.preview.contains("<br>"));
        assert!(c.preview.contains("&amp;"));
        assert!(c.preview.ends_with("سلام"));
    }

    #[test]
    fn errors_name_the_problem() {
        let cases: &[(&str, &str)] = &[
            (
                "<script>alert(1)</script>",
                "<script> at character 1 is not allowed",
            ),
            ("<b>x", "<b> is never closed"),
            ("<b>x</i>", "</i> at character 5 closes nothing"),
            ("a & b", "'&' at character 3 must be written as &amp;"),
            ("a > b", "'>' at character 3"),
            ("<a href=\"javascript:alert(1)\">x</a>", "href must be"),
            ("<b onclick=\"x\">y</b>", "takes no attributes"),
            ("<span class=\"evil\">y</span>", "tg-spoiler"),
            ("<b", "not closed with '>'"),
            ("&nbsp;", "unknown entity '&nbsp;'"),
            ("<b> </b>", "empty"),
            ("<code class=\"language-x\">y</code>", "inside <pre>"),
        ];
        for (input, want) in cases {
            let err = check(input).unwrap_err().to_string();
            assert!(err.contains(want), "{input}: {err}");
        }
        assert!(matches!(
            check(&"x".repeat(4097)),
            Err(HtmlError::TooLong(4097))
        ));
    }

    #[test]
    fn preview_never_echoes_markup() {
        // Quotes and angle brackets in attribute values and text come out escaped.
        let c = check("<a href='https://e.org/\"x'>&lt;img src=x&gt;</a>").unwrap();
        assert!(
            c.preview.contains("href=\"https://e.org/&quot;x\""),
            "{}",
            c.preview
        );
        assert!(!c.preview.contains("<img"));
        // A '>' inside a quoted attribute ends the tag early: refused, not passed through.
        assert!(check("<a href='https://e.org/\"><script>'>x</a>").is_err());
        // Random input never panics, and every accepted preview has only allowed tags.
        let alphabet = [
            "<", ">", "&", "b", "/", "a", " ", "href=", "\"", "amp;", "é", "\n",
        ];
        let mut seed = 7u64;
        for _ in 0..2_000 {
            let mut s = String::new();
            for _ in 0..12 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            if let Ok(c) = check(&s) {
                for tag in c.preview.split('<').skip(1) {
                    let name: String = tag
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
                        .collect();
                    assert!(
                        ["b", "/b", "br", "a", "/a"].contains(&name.as_str()),
                        "{s} -> {}",
                        c.preview
                    );
                }
            }
        }
    }
}

//! Bot API request parameters from a query string, a JSON body, a url-encoded form or
//! multipart/form-data, as Telegram accepts them all.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::bot_api::ApiError;

/// An uploaded file part.
#[derive(Clone, Debug)]
pub(crate) struct FilePart {
    pub file_name: Option<String>,
    pub len: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Params {
    pub map: Map<String, Value>,
    pub files: HashMap<String, FilePart>,
}

impl Params {
    pub fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Params, ApiError> {
        let mut p = Params::default();
        if let Some(q) = query {
            for (k, v) in parse_urlencoded(q.as_bytes()) {
                p.map.insert(k, Value::String(v));
            }
        }
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(p);
        }
        if ct.starts_with("multipart/form-data") {
            let boundary = content_type
                .and_then(boundary_of)
                .ok_or_else(|| ApiError::bad("wrong multipart/form-data boundary"))?;
            parse_multipart(body, &boundary, &mut p)?;
        } else if ct.starts_with("application/x-www-form-urlencoded") {
            for (k, v) in parse_urlencoded(body) {
                p.map.insert(k, Value::String(v));
            }
        } else {
            // JSON is the default, as Telegram also accepts a JSON body without content type.
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => p.map.extend(m),
                Ok(_) => return Err(ApiError::bad("JSON object expected")),
                Err(_) => return Err(ApiError::bad("can't parse JSON object")),
            }
        }
        Ok(p)
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    /// A string parameter (numbers are given as their text).
    pub fn str(&self, key: &str) -> Option<String> {
        match self.map.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::bad(&format!("invalid {key} specified"))),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad(&format!("invalid {key} specified"))),
            Some(_) => Err(ApiError::bad(&format!("invalid {key} specified"))),
        }
    }

    pub fn bool(&self, key: &str) -> bool {
        match self.map.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.as_str(), "true" | "True" | "1"),
            Some(Value::Number(n)) => n.as_i64().is_some_and(|v| v != 0),
            _ => false,
        }
    }

    /// A JSON-valued parameter, which forms and multipart carry as JSON text.
    pub fn json(&self, key: &str) -> Result<Option<Value>, ApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map(Some)
                .map_err(|_| ApiError::bad(&format!("can't parse {key} JSON object"))),
            Some(v) => Ok(Some(v.clone())),
        }
    }
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() || from > hay.len() - needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let pos = hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|b| *b == first)?;
        i += pos;
        if &hay[i..i + needle.len()] == needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn parse_multipart(body: &[u8], boundary: &str, p: &mut Params) -> Result<(), ApiError> {
    let bad = || ApiError::bad("can't parse multipart/form-data");
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut pos = find(body, delim, 0).ok_or_else(bad)? + delim.len();
    loop {
        if body[pos..].starts_with(b"--") {
            return Ok(());
        }
        let head_start = pos + 2; // CRLF after the delimiter
        let head_end = find(body, b"\r\n\r\n", head_start).ok_or_else(bad)?;
        let head = String::from_utf8_lossy(body.get(head_start..head_end).ok_or_else(bad)?);
        let data_start = head_end + 4;
        let next = find(body, &[b"\r\n", delim].concat(), data_start).ok_or_else(bad)?;
        let data = &body[data_start..next];
        let mut name = None;
        let mut file_name = None;
        for line in head.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for attr in v.split(';').skip(1) {
                if let Some((ak, av)) = attr.trim().split_once('=') {
                    let av = av.trim().trim_matches('"').to_owned();
                    match ak.trim() {
                        "name" => name = Some(av),
                        "filename" => file_name = Some(av),
                        _ => {}
                    }
                }
            }
        }
        let name = name.ok_or_else(bad)?;
        if let Some(file_name) = file_name {
            let part = FilePart {
                file_name: (!file_name.is_empty()).then_some(file_name),
                len: data.len(),
            };
            p.files.insert(name, part);
        } else {
            let text = String::from_utf8_lossy(data).into_owned();
            p.map.insert(name, Value::String(text));
        }
        pos = next + 2 + delim.len();
    }
}

pub(crate) fn parse_urlencoded(input: &[u8]) -> Vec<(String, String)> {
    input
        .split(|b| *b == b'&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let k = percent_decode(it.next().unwrap_or_default());
            let v = percent_decode(it.next().unwrap_or_default());
            (k, v)
        })
        .collect()
}

fn percent_decode(s: &[u8]) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_and_query() {
        let p = Params::parse(
            Some("chat_id=-100&text=a%20b+c"),
            Some("application/x-www-form-urlencoded"),
            b"reply_markup=%7B%22inline_keyboard%22%3A%5B%5D%7D&x=%E2%9C%93",
        )
        .unwrap();
        assert_eq!(p.i64("chat_id").unwrap(), Some(-100));
        assert_eq!(p.str("text").as_deref(), Some("a b c"));
        assert_eq!(
            p.json("reply_markup").unwrap().unwrap()["inline_keyboard"],
            serde_json::json!([])
        );
        assert_eq!(p.str("x").as_deref(), Some("✓"));
        assert_eq!(percent_decode(b"%4"), "%4");
        assert_eq!(percent_decode(b"%41"), "A");
    }

    #[test]
    fn multipart() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n--XyZ\r\nContent-Disposition: form-data; name=\"p1\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\nattach://p1\r\n--XyZ--\r\n";
        let p = Params::parse(None, Some("multipart/form-data; boundary=XyZ"), body).unwrap();
        assert_eq!(p.i64("chat_id").unwrap(), Some(42));
        assert_eq!(p.str("photo").as_deref(), Some("attach://p1"));
        let f = &p.files["p1"];
        assert_eq!(f.file_name.as_deref(), Some("a.png"));
        assert_eq!(f.len, 6);
    }

    #[test]
    fn json_body() {
        let p = Params::parse(
            None,
            Some("application/json"),
            br#"{"chat_id":5,"offset":-1}"#,
        )
        .unwrap();
        assert_eq!(p.i64("offset").unwrap(), Some(-1));
        assert!(Params::parse(None, Some("application/json"), b"{oops").is_err());
    }
}

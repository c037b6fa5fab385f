//! Builders for the official Bot API JSON objects (User, Chat, ChatFullInfo, media, entities).

use serde_json::{Map, Value, json};

use super::types::{Media, SimChat, SimChatKind, SimUser};

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Number of UTF-16 code units, the unit Telegram measures text and entity offsets in.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

pub(crate) fn user_json(u: &SimUser) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(u.id));
    m.insert("is_bot".into(), json!(false));
    m.insert("first_name".into(), json!(u.first_name));
    if let Some(v) = &u.last_name {
        m.insert("last_name".into(), json!(v));
    }
    if let Some(v) = &u.username {
        m.insert("username".into(), json!(v));
    }
    if let Some(v) = &u.language_code {
        m.insert("language_code".into(), json!(v));
    }
    Value::Object(m)
}

pub(crate) fn bot_user_json(id: u64, first_name: &str, username: &str) -> Value {
    json!({ "id": id, "is_bot": true, "first_name": first_name, "username": username })
}

/// The `getMe` answer.
pub(crate) fn me_json(id: u64, first_name: &str, username: &str) -> Value {
    json!({
        "id": id,
        "is_bot": true,
        "first_name": first_name,
        "username": username,
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false,
    })
}

/// The short `Chat` object found in messages. `private_user` gives a private chat its names.
pub(crate) fn chat_json(c: &SimChat, private_user: Option<&SimUser>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id));
    m.insert("type".into(), json!(c.kind.as_str()));
    match c.kind {
        SimChatKind::Private => {
            let first = private_user.map_or(c.title.as_str(), |u| u.first_name.as_str());
            m.insert("first_name".into(), json!(first));
            if let Some(last) = private_user.and_then(|u| u.last_name.as_ref()) {
                m.insert("last_name".into(), json!(last));
            }
            if let Some(name) = private_user.and_then(|u| u.username.as_ref()) {
                m.insert("username".into(), json!(name));
            }
        }
        SimChatKind::Group | SimChatKind::Supergroup | SimChatKind::Channel => {
            m.insert("title".into(), json!(c.title));
            if c.kind != SimChatKind::Group {
                if let Some(name) = &c.username {
                    m.insert("username".into(), json!(name));
                }
            }
            if c.kind == SimChatKind::Supergroup && c.is_forum {
                m.insert("is_forum".into(), json!(true));
            }
        }
    }
    Value::Object(m)
}

/// The `getChat` answer (ChatFullInfo).
pub(crate) fn chat_full_info_json(c: &SimChat, private_user: Option<&SimUser>) -> Value {
    let mut v = chat_json(c, private_user);
    if let Value::Object(m) = &mut v {
        m.insert("accent_color_id".into(), json!(c.id.unsigned_abs() % 7));
        m.insert("max_reaction_count".into(), json!(11));
        m.insert(
            "accepted_gift_types".into(),
            json!({
                "unlimited_gifts": false,
                "limited_gifts": false,
                "unique_gifts": false,
                "premium_subscription": false,
            }),
        );
        if c.kind == SimChatKind::Supergroup || c.kind == SimChatKind::Group {
            m.insert(
                "permissions".into(),
                json!({
                    "can_send_messages": true,
                    "can_send_audios": true,
                    "can_send_documents": true,
                    "can_send_photos": true,
                    "can_send_videos": true,
                    "can_send_video_notes": true,
                    "can_send_voice_notes": true,
                    "can_send_polls": true,
                    "can_send_other_messages": true,
                    "can_add_web_page_previews": true,
                    "can_change_info": false,
                    "can_invite_users": true,
                    "can_pin_messages": false,
                    "can_manage_topics": false,
                }),
            );
        }
    }
    v
}

fn file_id(prefix: &str, seq: u64) -> String {
    format!("{prefix}AxkBAAI{seq:012X}AAGsimQ")
}

fn file_unique_id(seq: u64) -> String {
    format!("AQAD{seq:010X}")
}

/// Pseudo file size that varies with the file sequence number.
fn file_size(base: u64, seq: u64) -> u64 {
    base + (seq.wrapping_mul(2_654_435_761) % (base / 2 + 1))
}

/// A `PhotoSize` array as Telegram sends it (thumbnail to large).
pub(crate) fn photo_sizes(seq: u64) -> Value {
    const SIZES: [(u32, u32, u64); 3] = [(90, 67, 1_400), (320, 240, 16_000), (1280, 960, 110_000)];
    let sizes: Vec<Value> = SIZES
        .iter()
        .enumerate()
        .map(|(i, &(w, h, base))| {
            let s = seq * 4 + i as u64;
            json!({
                "file_id": file_id("AgACAgIAA", s),
                "file_unique_id": file_unique_id(s),
                "file_size": file_size(base, s),
                "width": w,
                "height": h,
            })
        })
        .collect();
    Value::Array(sizes)
}

pub(crate) fn document_json(seq: u64, name: &str, mime: &str, size: Option<u64>) -> Value {
    json!({
        "file_id": file_id("BQACAgIAA", seq),
        "file_unique_id": file_unique_id(seq),
        "file_name": name,
        "mime_type": mime,
        "file_size": size.unwrap_or_else(|| file_size(40_000, seq)),
    })
}

/// A guess at a MIME type from a file name, as Telegram reports for documents.
pub(crate) fn mime_for(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "json" => "application/json",
        "zip" => "application/zip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "csv" => "text/csv",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// Inserts the media fields (and the caption) of a user message into `m`.
pub(crate) fn insert_media(
    m: &mut Map<String, Value>,
    media: Media,
    seq: u64,
    caption: &str,
    bot_username: &str,
) {
    let mut with_caption = true;
    match media {
        Media::Photo => {
            m.insert("photo".into(), photo_sizes(seq));
        }
        Media::Video => {
            m.insert(
                "video".into(),
                json!({
                    "file_id": file_id("BAACAgIAA", seq),
                    "file_unique_id": file_unique_id(seq),
                    "width": 1280,
                    "height": 720,
                    "duration": 5 + seq % 120,
                    "file_name": format!("video_{seq}.mp4"),
                    "mime_type": "video/mp4",
                    "file_size": file_size(2_000_000, seq),
                }),
            );
        }
        Media::Document => {
            let name = format!("notes_{seq}.pdf");
            m.insert(
                "document".into(),
                document_json(seq, &name, "application/pdf", None),
            );
        }
        Media::Voice => {
            m.insert(
                "voice".into(),
                json!({
                    "file_id": file_id("AwACAgIAA", seq),
                    "file_unique_id": file_unique_id(seq),
                    "duration": 1 + seq % 60,
                    "mime_type": "audio/ogg",
                    "file_size": file_size(20_000, seq),
                }),
            );
        }
        Media::Sticker => {
            with_caption = false;
            let emoji = sticker_emoji(caption);
            m.insert(
                "sticker".into(),
                json!({
                    "file_id": file_id("CAACAgIAA", seq),
                    "file_unique_id": file_unique_id(seq),
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": false,
                    "is_video": false,
                    "emoji": emoji,
                    "set_name": "SimulatedStickers",
                    "file_size": file_size(25_000, seq),
                }),
            );
        }
        Media::Animation => {
            let anim = json!({
                "file_id": file_id("CgACAgIAA", seq),
                "file_unique_id": file_unique_id(seq),
                "width": 480,
                "height": 270,
                "duration": 3,
                "file_name": "animation.gif.mp4",
                "mime_type": "video/mp4",
                "file_size": file_size(300_000, seq),
            });
            // For backward compatibility Telegram also sets `document` on animations.
            m.insert("document".into(), anim.clone());
            m.insert("animation".into(), anim);
        }
    }
    if with_caption && !caption.is_empty() {
        m.insert("caption".into(), json!(caption));
        let ents = entities(caption, bot_username);
        if !ents.is_empty() {
            m.insert("caption_entities".into(), Value::Array(ents));
        }
    }
}

/// Inserts `text` and its `entities` into `m`.
pub(crate) fn insert_text(m: &mut Map<String, Value>, text: &str, bot_username: &str) {
    m.insert("text".into(), json!(text));
    let ents = entities(text, bot_username);
    if !ents.is_empty() {
        m.insert("entities".into(), Value::Array(ents));
    }
}

/// The entities Telegram detects automatically in plain text: bot commands, mentions,
/// hashtags and URLs. Offsets and lengths are in UTF-16 code units.
pub(crate) fn entities(text: &str, _bot_username: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut offset16 = 0usize;
    let mut token_start: Option<(usize, usize)> = None; // (byte, utf16)
    let push_token = |start: (usize, usize), end_byte: usize, out: &mut Vec<Value>| {
        let tok = &text[start.0..end_byte];
        if let Some((kind, len)) = classify(tok) {
            out.push(json!({ "type": kind, "offset": start.1, "length": utf16_len(&tok[..len]) }));
        }
    };
    for (i, ch) in text.char_indices() {
        if ch.is_whitespace() {
            if let Some(start) = token_start.take() {
                push_token(start, i, &mut out);
            }
        } else if token_start.is_none() {
            token_start = Some((i, offset16));
        }
        offset16 += ch.len_utf16();
    }
    if let Some(start) = token_start {
        push_token(start, text.len(), &mut out);
    }
    out
}

/// The entity type of a whitespace-separated token and the byte length it covers.
fn classify(tok: &str) -> Option<(&'static str, usize)> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if let Some(rest) = tok.strip_prefix('/') {
        let mut len = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        if let Some(at) = rest[len..].strip_prefix('@') {
            let user_len = at.find(|c: char| !word(c)).unwrap_or(at.len());
            if user_len > 0 {
                len += 1 + user_len;
            }
        }
        return Some(("bot_command", 1 + len));
    }
    if let Some(rest) = tok.strip_prefix('@') {
        let len = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
        return (len >= 4).then_some(("mention", 1 + len));
    }
    if let Some(rest) = tok.strip_prefix('#') {
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '\u{200c}'))
            .unwrap_or(rest.len());
        let tag = &rest[..len];
        return (len > 0 && !tag.chars().all(|c| c.is_ascii_digit()))
            .then_some(("hashtag", 1 + len));
    }
    if tok.starts_with("http://") || tok.starts_with("https://") {
        let trimmed = tok.trim_end_matches(['.', ',', '!', '?', ')', ':', ';']);
        return Some(("url", trimmed.len()));
    }
    None
}

/// The text Telegram would show for `text` sent with `parse_mode` (HTML tags stripped and the
/// basic entities decoded; Markdown is counted as sent).
pub(crate) fn visible_text(text: &str, parse_mode: Option<&str>) -> String {
    if !parse_mode.is_some_and(|p| p.eq_ignore_ascii_case("html")) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The emoji a sticker carries for the text a user "sent" with it: a sticker has no caption, so
/// a short text is taken as its emoji and anything else becomes 😀.
pub(crate) fn sticker_emoji(text: &str) -> &str {
    if !text.is_empty() && text.chars().count() <= 2 {
        text
    } else {
        "😀"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_use_utf16_offsets() {
        let e = entities("/start@tgbox_sim_bot hi", "tgbox_sim_bot");
        assert_eq!(
            e,
            vec![json!({"type":"bot_command","offset":0,"length":20})]
        );
        let e = entities("😀 /search رضا #کتاب‌ها @someone https://x.org/a.", "b");
        assert_eq!(e[0], json!({"type":"bot_command","offset":3,"length":7}));
        assert_eq!(e[1]["type"], "hashtag");
        assert_eq!(e[1]["length"], 8);
        assert_eq!(e[2], json!({"type":"mention","offset":24,"length":8}));
        assert_eq!(e[3]["type"], "url");
        assert_eq!(e[3]["length"], 15);
        assert!(entities("plain words only", "b").is_empty());
    }

    #[test]
    fn html_is_stripped_for_length() {
        assert_eq!(visible_text("<b>a &amp; b</b>", Some("HTML")), "a & b");
        assert_eq!(visible_text("<b>x</b>", None), "<b>x</b>");
        assert_eq!(utf16_len("😀a"), 3);
    }
}

//! Languages, how a user's language is chosen, and bidi isolation.

use crate::domain::LanguagePref;

/// FIRST STRONG ISOLATE: starts a run laid out in its own direction.
pub const FSI: char = '\u{2068}';
/// POP DIRECTIONAL ISOLATE: ends it.
pub const PDI: char = '\u{2069}';

/// A language the bot speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Fa,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fa];

    /// The ISO 639-1 code (`setMyCommands` language_code).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fa => "fa",
        }
    }

    /// The language's own name (on the language buttons).
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fa => "فارسی",
        }
    }

    /// Whether the language is written right to left.
    pub fn is_rtl(self) -> bool {
        matches!(self, Lang::Fa)
    }

    /// The language of Telegram's `language_code` (an IETF tag: `fa`, `fa-IR`, `en-US` ...):
    /// Persian for `fa` with any region, English for everything else and for none.
    pub fn from_code(code: Option<&str>) -> Lang {
        let Some(code) = code else { return Lang::En };
        let primary = code
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "fa" | "pes" | "fas" | "per" => Lang::Fa,
            _ => Lang::En,
        }
    }

    /// The language to answer in: the stored choice, else Telegram's `language_code`, else
    /// English.
    pub fn resolve(pref: LanguagePref, code: Option<&str>) -> Lang {
        match pref {
            LanguagePref::English => Lang::En,
            LanguagePref::Persian => Lang::Fa,
            LanguagePref::Auto => Lang::from_code(code),
        }
    }
}

/// Whether `c` is a strong right-to-left letter (Hebrew, Arabic, Syriac, Thaana, N'Ko ... and
/// the Arabic presentation forms).
pub fn is_rtl_char(c: char) -> bool {
    matches!(c as u32,
        0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x10800..=0x10FFF | 0x1E800..=0x1EFFF)
}

/// Whether `c` is a strong left-to-right letter (approximately: any alphabetic character that is
/// not right to left).
pub fn is_ltr_char(c: char) -> bool {
    c.is_alphabetic() && !is_rtl_char(c)
}

/// Whether `s` holds right-to-left letters.
pub fn has_rtl(s: &str) -> bool {
    s.chars().any(is_rtl_char)
}

/// Whether `s` holds left-to-right letters or ASCII digits outside its own isolates (those
/// would reorder the neutral characters around them inside right-to-left text).
fn has_bare_ltr(s: &str) -> bool {
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            FSI | '\u{2066}' | '\u{2067}' => depth += 1,
            PDI => depth = depth.saturating_sub(1),
            c if depth == 0 && (c.is_ascii_alphanumeric() || is_ltr_char(c)) => return true,
            _ => {}
        }
    }
    false
}

/// `s` as it goes into a text of `lang`, isolated (FSI … PDI) when it could otherwise scramble
/// its surroundings: in Persian when it holds Latin letters or ASCII digits (usernames, commands,
/// dates); in English when it holds right-to-left letters (a Persian name). Persian text inside
/// Persian stays as it is, so it keeps giving the line its right-to-left direction.
pub fn isolate(lang: Lang, s: &str) -> String {
    let needed = match lang {
        Lang::Fa => has_bare_ltr(s),
        Lang::En => has_rtl(s),
    };
    if needed {
        let mut out = String::with_capacity(s.len() + 6);
        out.push(FSI);
        out.push_str(s);
        out.push(PDI);
        out
    } else {
        s.to_string()
    }
}

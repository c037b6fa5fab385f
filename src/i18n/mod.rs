//! The bot's texts in English and Persian: catalogs embedded in the binary (`en.toml`,
//! `fa.toml`), parsed once, and filled with placeholders.
//!
//! Code names a text by [`Msg`] (so a typo does not compile); the catalogs name it by its dotted
//! key. `tests.rs` checks that every catalog has exactly the keys of [`Msg`], the same
//! `{placeholders}` as English, and that Persian texts read right to left.
//!
//! Texts are Telegram HTML. [`Tr::f`] fills `{name}` placeholders with the values as given (the
//! caller escapes them, as before), wrapped in Unicode bidi isolates (FSI … PDI) where the
//! surrounding text could reorder them: always in Persian, and in English when the value holds
//! right-to-left letters (a Persian name in an English sentence).

mod catalog;
mod lang;
mod messages;
#[cfg(test)]
mod tests;

pub use catalog::{check_catalogs, fill, rtl_problems};
pub use lang::{FSI, Lang, PDI, has_rtl, isolate};
pub use messages::Msg;

use std::fmt::Display;

/// A translator for one language. Cheap to copy; the catalogs are parsed once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tr {
    lang: Lang,
}

impl Tr {
    pub const fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    pub fn lang(self) -> Lang {
        self.lang
    }

    /// The text of `msg` (English when the catalog lacks it, the key when English does too).
    pub fn t(self, msg: Msg) -> &'static str {
        catalog::text(self.lang, msg)
    }

    /// The text of `msg` with its `{placeholders}` filled. Values are inserted as given (escape
    /// HTML before) and isolated for bidi where needed; unknown placeholders stay as written.
    pub fn f(self, msg: Msg, args: &[(&str, &dyn Display)]) -> String {
        fill(self.lang, self.t(msg), args)
    }

    /// A count as this language writes it (Persian digits in Persian).
    pub fn num(self, n: impl Display) -> String {
        let s = n.to_string();
        match self.lang {
            Lang::En => s,
            Lang::Fa => s
                .chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) => char::from_u32(0x06F0 + d).unwrap_or(c),
                    None => c,
                })
                .collect(),
        }
    }

    /// The name of a message kind (a search hit without text).
    pub fn kind(self, kind: crate::domain::MessageKind) -> &'static str {
        self.t(Msg::of_kind(kind))
    }
}

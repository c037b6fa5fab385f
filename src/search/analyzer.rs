//! The text analyzer: what a message (or a query word) becomes in the index.
//!
//! 1. Unicode word segmentation (UAX #29, `unicode-segmentation`): words, numbers and
//!    abbreviations; punctuation, spaces and emoji are dropped.
//! 2. Per word: Persian/Arabic folding — ي and ى to ی, ك to ک, ة and ۀ to ه, Arabic-Indic and
//!    Persian digits to ASCII digits, tashkeel (harakat, tanwin, shadda, sukun, superscript alef)
//!    and tatweel removed, invisible formatting characters (ZWJ, LRM/RLM, soft hyphen, BOM, ...)
//!    removed — and lower-casing.
//! 3. ZWNJ (U+200C) does not split a word (UAX #29 treats it as part of it). A word that holds one
//!    is indexed twice at the same position: as typed (`می‌روم`) and joined (`میروم`). Queries use
//!    the joined form, so `می‌روم` and `میروم` find each other.
//! 4. ASCII folding (tantivy's `AsciiFoldingFilter`: `café` -> `cafe`), and tokens of 100 bytes
//!    or more are dropped (long URLs, base64 blobs).
//!
//! No stemming and no stop words: messages are short and people search for exact words.

use tantivy::tokenizer::{
    AsciiFoldingFilter, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};
use unicode_segmentation::UnicodeSegmentation;

/// The name the analyzer is registered under in the index.
pub const ANALYZER_NAME: &str = "tgbox_text";

/// Tokens of this many bytes or more are not indexed.
const MAX_TOKEN_BYTES: usize = 100;

const ZWNJ: char = '\u{200c}';

/// The full analyzer, as registered in the index.
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(AsciiFoldingFilter)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .build()
}

/// The terms a query word or phrase searches for: one per word position, in the joined form.
pub fn query_terms(text: &str) -> Vec<String> {
    let mut analyzer = text_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out: Vec<(usize, String)> = Vec::new();
    while let Some(token) = stream.next() {
        match out.last_mut() {
            // The joined form comes last at its position: it replaces the one with ZWNJ.
            Some((position, term)) if *position == token.position => {
                term.clone_from(&token.text);
            }
            _ => out.push((token.position, token.text.clone())),
        }
    }
    out.into_iter().map(|(_, term)| term).collect()
}

/// Every token of `text`, as `(position, text, byte range)`; for tests and diagnostics.
pub fn tokens(text: &str) -> Vec<(usize, String, std::ops::Range<usize>)> {
    let mut analyzer = text_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(t) = stream.next() {
        out.push((t.position, t.text.clone(), t.offset_from..t.offset_to));
    }
    out
}

/// Segments text into words and folds each one (steps 1-3 above).
#[derive(Clone, Default)]
pub struct WordTokenizer {
    /// Token buffers, reused from text to text (their strings keep their capacity).
    tokens: Vec<Token>,
    typed: String,
    joined: String,
}

pub struct WordTokenStream<'a> {
    tokens: &'a mut [Token],
    /// Index of the current token plus one (0: before the first).
    next: usize,
    /// Answered by `token()` before the first `advance()` (tantivy never asks then).
    none: Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream<'a> {
        let mut used = 0;
        let mut position = 0;
        for (start, word) in text.unicode_word_indices() {
            if !fold_word(word, &mut self.typed, &mut self.joined) {
                continue;
            }
            let range = (start, start + word.len());
            if self.typed != self.joined {
                set_token(&mut self.tokens, used, position, range, &self.typed);
                used += 1;
            }
            set_token(&mut self.tokens, used, position, range, &self.joined);
            used += 1;
            position += 1;
        }
        WordTokenStream {
            tokens: &mut self.tokens[..used],
            next: 0,
            none: Token::default(),
        }
    }
}

/// Write token number `i` into the buffers, reusing an earlier token's allocation.
fn set_token(
    tokens: &mut Vec<Token>,
    i: usize,
    position: usize,
    (from, to): (usize, usize),
    text: &str,
) {
    if i == tokens.len() {
        tokens.push(Token::default());
    }
    if let Some(t) = tokens.get_mut(i) {
        t.offset_from = from;
        t.offset_to = to;
        t.position = position;
        t.position_length = 1;
        t.text.clear();
        t.text.push_str(text);
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        match self.next.checked_sub(1) {
            Some(i) => self.tokens.get(i).unwrap_or(&self.none),
            None => &self.none,
        }
    }

    fn token_mut(&mut self) -> &mut Token {
        match self.next.checked_sub(1) {
            Some(i) => self.tokens.get_mut(i).unwrap_or(&mut self.none),
            None => &mut self.none,
        }
    }
}

/// Fold one segmented word into `typed` (ZWNJ kept between letters) and `joined` (ZWNJ
/// removed). Returns false when nothing is left (a word of only marks, say).
fn fold_word(word: &str, typed: &mut String, joined: &mut String) -> bool {
    typed.clear();
    joined.clear();
    let mut pending_zwnj = false;
    for c in word.chars() {
        if c == ZWNJ {
            // Kept only between two letters, once.
            pending_zwnj = !typed.is_empty();
            continue;
        }
        let Some(folded) = fold_char(c) else { continue };
        if pending_zwnj {
            typed.push(ZWNJ);
            pending_zwnj = false;
        }
        for lower in folded.to_lowercase() {
            typed.push(lower);
            joined.push(lower);
        }
    }
    !joined.is_empty()
}

/// Persian/Arabic folding of one character; `None` removes it.
pub fn fold_char(c: char) -> Option<char> {
    match c {
        // Arabic yeh and alef maksura -> Persian yeh; Arabic kaf -> keheh.
        '\u{064a}' | '\u{0649}' => Some('\u{06cc}'),
        '\u{0643}' => Some('\u{06a9}'),
        // Teh marbuta and heh with yeh above -> heh.
        '\u{0629}' | '\u{06c0}' => Some('\u{0647}'),
        // Arabic-Indic and extended (Persian/Urdu) digits -> ASCII.
        '\u{0660}'..='\u{0669}' => char::from_u32(u32::from('0') + (c as u32 - 0x0660)),
        '\u{06f0}'..='\u{06f9}' => char::from_u32(u32::from('0') + (c as u32 - 0x06f0)),
        // Tatweel; tashkeel (fathatan .. sukun, and the marks after them), superscript alef;
        // Quranic annotation marks.
        '\u{0640}'
        | '\u{064b}'..='\u{065f}'
        | '\u{0670}'
        | '\u{0610}'..='\u{061a}'
        | '\u{06d6}'..='\u{06dc}'
        | '\u{06df}'..='\u{06e8}'
        | '\u{06ea}'..='\u{06ed}' => None,
        // Invisible formatting: ZWSP, ZWJ, LRM, RLM, bidi embeddings and isolates, word joiner,
        // soft hyphen, BOM.
        '\u{200b}'
        | '\u{200d}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'
        | '\u{2066}'..='\u{2069}'
        | '\u{00ad}'
        | '\u{feff}' => None,
        _ => Some(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        tokens(text).into_iter().map(|(_, t, _)| t).collect()
    }

    #[test]
    fn english_words_are_lowercased_and_folded() {
        assert_eq!(
            terms("Hello, World! Café crème — naïve CAFÉ."),
            ["hello", "world", "cafe", "creme", "naive", "cafe"]
        );
        assert_eq!(
            terms("don't stop: e-mail me at 10.30"),
            ["don't", "stop", "e", "mail", "me", "at", "10.30"]
        );
        assert!(terms("!!! ... 👍🔥 🇮🇷").is_empty(), "punctuation and emoji");
    }

    #[test]
    fn positions_and_offsets_point_into_the_original() {
        let text = "سلام Rust";
        let t = tokens(text);
        assert_eq!(t.len(), 2);
        assert_eq!(&text[t[0].2.clone()], "سلام");
        assert_eq!(&text[t[1].2.clone()], "Rust");
        assert_eq!((t[0].0, t[1].0), (0, 1));
    }

    #[test]
    fn zwnj_word_is_kept_whole_and_also_joined() {
        let text = "من فردا به دانشگاه می\u{200c}روم";
        let t = tokens(text);
        let last: Vec<_> = t.iter().filter(|(p, _, _)| *p == 4).collect();
        assert_eq!(last.len(), 2, "{t:?}");
        assert_eq!(last[0].1, "می\u{200c}روم");
        assert_eq!(last[1].1, "میروم");
        assert_eq!(&text[last[0].2.clone()], "می\u{200c}روم");
        // Query side: both spellings search for the joined form.
        assert_eq!(query_terms("می\u{200c}روم"), ["میروم"]);
        assert_eq!(query_terms("میروم"), ["میروم"]);
        assert_eq!(query_terms("کتاب\u{200c}ها"), query_terms("کتابها"));
        // A stray ZWNJ at a word edge or doubled is not kept.
        assert_eq!(terms("\u{200c}سلام\u{200c}"), ["سلام"]);
        assert_eq!(terms("می\u{200c}\u{200c}روم"), ["می\u{200c}روم", "میروم"]);
    }

    #[test]
    fn arabic_letters_fold_to_persian() {
        // The same sentence typed on an Arabic keyboard layout.
        let persian = "کسی کتاب خوبی برای خواندن پیشنهاد می\u{200c}کند؟";
        let arabic = "كسي كتاب خوبي براي خواندن پيشنهاد مي\u{200c}كند؟";
        assert_eq!(terms(persian), terms(arabic));
        assert_eq!(query_terms("يى"), ["یی"]);
        assert_eq!(query_terms("مدرسة"), ["مدرسه"]);
        assert_eq!(query_terms("خانۀ"), ["خانه"]);
    }

    #[test]
    fn digits_fold_to_ascii() {
        assert_eq!(terms("جلسه ساعت ۱۰ است"), ["جلسه", "ساعت", "10", "است"]);
        assert_eq!(terms("الساعة ١٢٣"), ["الساعه", "123"]);
        assert_eq!(query_terms("۲۰۲۴"), ["2024"]);
    }

    #[test]
    fn tashkeel_and_tatweel_are_removed() {
        // Arabic with full vocalisation, and a stretched word.
        assert_eq!(terms("بِسْمِ اللَّهِ الرَّحْمَٰنِ"), ["بسم", "الله", "الرحمن"]);
        assert_eq!(terms("سـلام"), ["سلام"]);
        assert_eq!(terms("سلاااام"), ["سلاااام"], "repeated letters are kept");
        assert_eq!(query_terms("كِتَابٌ"), ["کتاب"]);
    }

    #[test]
    fn mixed_sentences() {
        let t = terms("Rust ۲۰۲۴ release را نصب کردم! 🚀 #rust");
        assert_eq!(t, ["rust", "2024", "release", "را", "نصب", "کردم", "rust"]);
        assert_eq!(terms("hello\u{200f}world"), ["helloworld"]);
    }

    #[test]
    fn long_tokens_are_dropped() {
        let long = "a".repeat(150);
        assert_eq!(terms(&format!("short {long} end")), ["short", "end"]);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in [
            "",
            "\u{200c}",
            "\u{064b}\u{064c}",
            "\u{0640}\u{0640}",
            "a\u{0301}",
            "\u{feff}x",
            "\0\u{1}",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        ] {
            let _ = tokens(text);
            let _ = query_terms(text);
        }
        assert!(terms("\u{064b}\u{064c}").is_empty());
    }
}

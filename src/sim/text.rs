//! The traffic generator's corpus: English and Persian sentences, names and emoji.
//!
//! Persian text is written the way people type it: with ZWNJ (U+200C) inside words like
//! می‌روم, sometimes with the Arabic variants ي and ك instead of ی and ک (as older keyboards
//! produce), and with Persian digits.

use rand::Rng;
use rand::seq::IndexedRandom;

/// The language of a generated text or name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    En,
    Fa,
}

/// The zero-width non-joiner used inside Persian words.
pub const ZWNJ: char = '\u{200c}';

const EN_SENTENCES: &[&str] = &[
    "Good morning everyone!",
    "Has anyone tried the new release yet?",
    "I think the meeting is on Thursday at {n}.",
    "Thanks for the help, it works now.",
    "Can someone explain how the borrow checker decides lifetimes here?",
    "We are {n} people in this group already.",
    "The weather is terrible today, staying inside with a book.",
    "Does anyone have a good recommendation for a sci-fi novel?",
    "I pushed a fix, please review when you have time.",
    "lol that's exactly what happened to me yesterday",
    "Where can I find the slides from last week?",
    "Just got back from the hike, the view was amazing.",
    "Please don't share links without a short description.",
    "Happy birthday! Have a great day",
    "I'll be late, traffic is crazy.",
    "Is the event still happening this weekend?",
    "Check out https://example.org/notes for the summary.",
    "ok",
    "+1",
    "Same here.",
    "Welcome to the group!",
    "What time zone are you all in?",
    "The build fails on my machine with a linker error.",
    "It took {n} minutes to compile, is that normal?",
    "Anyone up for coffee after work?",
    "I disagree, the old version was faster.",
    "Thanks!",
    "Could you send the file again? The link expired.",
    "I love this community, you are all so helpful.",
    "Reminder: the deadline is Friday.",
];

const FA_SENTENCES: &[&str] = &[
    "سلام به همه، امروز هوا خیلی خوب است",
    "من فردا به دانشگاه می\u{200c}روم",
    "نمی\u{200c}دانم چرا این برنامه کار نمی\u{200c}کند",
    "کتاب\u{200c}ها را روی میز گذاشتم",
    "کسی می\u{200c}داند جلسه ساعت چند شروع می\u{200c}شود؟",
    "ممنون از راهنمایی\u{200c}تان، مشکل حل شد",
    "این برنامه را دیروز نصب کردم و خیلی خوب کار می\u{200c}کند",
    "به نظرم باید نسخه جدید را امتحان کنیم",
    "قیمت\u{200c}ها دوباره بالا رفته",
    "شب بخیر دوستان",
    "لطفاً فایل را دوباره بفرستید",
    "من هم همین مشکل را داشتم",
    "خواهش می\u{200c}کنم",
    "چه خبر؟ همه چیز خوب است؟",
    "جلسه بعدی پنجشنبه ساعت {n} است",
    "{n} نفر در این گروه هستند",
    "فکر می\u{200c}کنم مشکل از اینترنت است",
    "می\u{200c}خواهم زبان برنامه\u{200c}نویسی راست را یاد بگیرم",
    "این لینک را ببینید، خیلی جالب است",
    "کسی کتاب خوبی برای خواندن پیشنهاد می\u{200c}کند؟",
    "دیروز با دوستانم به کوه رفتیم",
    "عکس\u{200c}های سفر را بعداً می\u{200c}فرستم",
    "تولدت مبارک!",
    "هنوز جواب نگرفته\u{200c}ام",
    "بچه\u{200c}ها کسی امشب بیرون می\u{200c}آید؟",
    "در تهران باران می\u{200c}بارد",
    "ترجمه این جمله چه می\u{200c}شود؟",
    "کامپایل {n} دقیقه طول کشید",
    "مرسی",
    "خیلی عالی بود 👏",
];

const EN_WORDS: &[&str] = &[
    "rust", "meeting", "book", "hike", "release", "coffee", "slides", "linker", "weekend",
    "deadline", "photos", "music",
];

const FA_WORDS: &[&str] = &[
    "کتاب",
    "جلسه",
    "برنامه\u{200c}نویسی",
    "کوه",
    "دانشگاه",
    "قیمت",
    "عکس",
    "موسیقی",
    "سفر",
    "تهران",
];

pub(crate) const EMOJI: &[&str] = &[
    "😀", "😂", "👍", "🙏", "❤️", "🔥", "🎉", "🤔", "😅", "👀", "✅", "🚀", "☕", "🌧️", "📚", "👋",
    "🇮🇷", "🙂",
];

const EN_FIRST: &[&str] = &[
    "James",
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Oliver",
    "Sophia",
    "Lucas",
    "Mia",
    "Ethan",
    "Isabella",
    "Mason",
    "Charlotte",
    "Logan",
    "Amelia",
    "Jack",
    "Harper",
    "Henry",
    "Ella",
    "Daniel",
    "Grace",
    "Samuel",
    "Chloe",
];

const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Moore", "Clark", "Lewis", "Walker",
    "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter",
];

/// Persian given names with the Latin spelling used for usernames.
const FA_FIRST: &[(&str, &str)] = &[
    ("علی", "ali"),
    ("مریم", "maryam"),
    ("رضا", "reza"),
    ("زهرا", "zahra"),
    ("محمد", "mohammad"),
    ("فاطمه", "fatemeh"),
    ("حسین", "hossein"),
    ("سارا", "sara"),
    ("امیر", "amir"),
    ("نگار", "negar"),
    ("مهدی", "mahdi"),
    ("پریسا", "parisa"),
    ("کیان", "kian"),
    ("شیما", "shima"),
    ("آرش", "arash"),
    ("نازنین", "nazanin"),
    ("بهرام", "bahram"),
    ("لیلا", "leila"),
    ("سینا", "sina"),
    ("یاسمن", "yasaman"),
];

const FA_LAST: &[(&str, &str)] = &[
    ("رضایی", "rezaei"),
    ("محمدی", "mohammadi"),
    ("حسینی", "hosseini"),
    ("احمدی", "ahmadi"),
    ("کریمی", "karimi"),
    ("موسوی", "mousavi"),
    ("جعفری", "jafari"),
    ("صادقی", "sadeghi"),
    ("رحیمی", "rahimi"),
    ("کاظمی", "kazemi"),
    ("نوری", "nouri"),
    ("قاسمی", "ghasemi"),
];

fn pick<'a, R: Rng + ?Sized>(rng: &mut R, items: &'a [&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or("")
}

/// `n` written with Persian digits (۰-۹).
pub fn persian_digits(n: u64) -> String {
    n.to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x06F0 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// Replaces Persian ی and ک by their Arabic variants ي and ك, as some keyboards type them.
pub fn arabic_variants(s: &str) -> String {
    s.replace('ی', "ي").replace('ک', "ك")
}

/// One sentence in `lang`, numbers filled in.
pub fn sentence<R: Rng + ?Sized>(rng: &mut R, lang: Lang) -> String {
    let template = match lang {
        Lang::En => pick(rng, EN_SENTENCES),
        Lang::Fa => pick(rng, FA_SENTENCES),
    };
    if !template.contains("{n}") {
        return template.to_owned();
    }
    let n = rng.random_range(2..=120u64);
    let digits = match lang {
        // Persian users mostly type Persian digits, sometimes Latin ones.
        Lang::Fa if rng.random_bool(0.8) => persian_digits(n),
        _ => n.to_string(),
    };
    template.replace("{n}", &digits)
}

/// A chat message: mostly short, sometimes several sentences, rarely long (up to ~3000 chars),
/// with the occasional emoji, mention or hashtag.
pub fn message_text<R: Rng + ?Sized>(rng: &mut R, lang: Lang) -> String {
    let roll: f64 = rng.random();
    let mut text = if roll < 0.03 {
        let target = rng.random_range(500..3000usize);
        let mut t = String::new();
        while t.chars().count() < target {
            if !t.is_empty() {
                t.push_str(if rng.random_bool(0.2) { "\n\n" } else { " " });
            }
            t.push_str(&sentence(rng, lang));
        }
        t
    } else if roll < 0.06 {
        (0..rng.random_range(1..4))
            .map(|_| pick(rng, EMOJI))
            .collect::<Vec<_>>()
            .join("")
    } else if roll < 0.25 {
        format!("{} {}", sentence(rng, lang), sentence(rng, lang))
    } else {
        sentence(rng, lang)
    };
    if rng.random_bool(0.15) {
        text.push(' ');
        text.push_str(pick(rng, EMOJI));
    }
    if rng.random_bool(0.04) {
        let tag = match lang {
            Lang::En => pick(rng, EN_WORDS).to_owned(),
            Lang::Fa => pick(rng, FA_WORDS).to_owned(),
        };
        text.push_str(" #");
        text.push_str(&tag);
    }
    if lang == Lang::Fa && rng.random_bool(0.08) {
        text = arabic_variants(&text);
    }
    text
}

/// A search term for `/search`.
pub fn search_term<R: Rng + ?Sized>(rng: &mut R, lang: Lang) -> String {
    match lang {
        Lang::En => pick(rng, EN_WORDS).to_owned(),
        Lang::Fa => pick(rng, FA_WORDS).to_owned(),
    }
}

/// A person: first name, optional last name, a username stem (Latin) and a language code.
pub struct Person {
    pub first_name: String,
    pub last_name: Option<String>,
    pub username_stem: String,
    pub language_code: Option<String>,
}

pub fn person<R: Rng + ?Sized>(rng: &mut R, lang: Lang) -> Person {
    let (first, first_latin, last, last_latin) = match lang {
        Lang::En => {
            let f = pick(rng, EN_FIRST);
            let l = pick(rng, EN_LAST);
            (
                f.to_owned(),
                f.to_ascii_lowercase(),
                l.to_owned(),
                l.to_ascii_lowercase(),
            )
        }
        Lang::Fa => {
            let (f, fl) = FA_FIRST.choose(rng).copied().unwrap_or(("علی", "ali"));
            let (l, ll) = FA_LAST.choose(rng).copied().unwrap_or(("رضایی", "rezaei"));
            // Some Persian speakers write their name in Latin letters.
            if rng.random_bool(0.25) {
                (capitalize(fl), fl.to_owned(), capitalize(ll), ll.to_owned())
            } else {
                (f.to_owned(), fl.to_owned(), l.to_owned(), ll.to_owned())
            }
        }
    };
    let last_name = rng.random_bool(0.75).then_some(last);
    let username_stem = match rng.random_range(0..3) {
        0 => format!("{first_latin}_{last_latin}"),
        1 => format!("{first_latin}{last_latin}"),
        _ => format!("{first_latin}{}", rng.random_range(10..100)),
    };
    let language_code = match (lang, rng.random_range(0..10)) {
        (_, 0) => None,
        (Lang::En, 1) => Some("de".to_owned()),
        (Lang::En, _) => Some("en".to_owned()),
        (Lang::Fa, 1 | 2) => Some("en".to_owned()),
        (Lang::Fa, _) => Some("fa".to_owned()),
    };
    Person {
        first_name: first,
        last_name,
        username_stem,
        language_code,
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
fn has_zwnj(s: &str) -> bool {
    s.contains(ZWNJ)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn persian_features() {
        assert_eq!(persian_digits(2024), "۲۰۲۴");
        assert_eq!(arabic_variants("یک"), "يك");
        let mut rng = SmallRng::seed_from_u64(7);
        let texts: Vec<String> = (0..400).map(|_| message_text(&mut rng, Lang::Fa)).collect();
        assert!(texts.iter().any(|t| has_zwnj(t)));
        assert!(texts.iter().any(|t| t.contains('ي') || t.contains('ك')));
        assert!(
            texts
                .iter()
                .any(|t| t.chars().any(|c| ('۰'..='۹').contains(&c)))
        );
        assert!(texts.iter().any(|t| t.chars().count() > 500));
        assert!(texts.iter().all(|t| t.chars().count() < 3300));
    }

    #[test]
    fn people_have_usable_names() {
        let mut rng = SmallRng::seed_from_u64(1);
        for lang in [Lang::En, Lang::Fa] {
            for _ in 0..50 {
                let p = person(&mut rng, lang);
                assert!(!p.first_name.is_empty());
                assert!(
                    p.username_stem
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                );
            }
        }
    }
}

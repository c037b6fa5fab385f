//! A synthetic message corpus for search benchmarks: English and Persian chat messages with a
//! Zipf-distributed vocabulary (a few very common words, a long tail of rare ones), realistic
//! lengths (mostly short, some paragraphs, some media without a caption), Persian written the
//! way people type it (ZWNJ inside words, sometimes Arabic ي/ك, Persian digits), and dates in
//! order over a year. Deterministic for a seed. Not used by the appliance itself.
#![doc(hidden)]

use crate::domain::{ChatId, MessageId, MessageKind, StoredMessage, Timestamp, UserId};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const EN_BASE: &str = "the be to of and a in that have i it for not on with he as you do at this \
but his by from they we say her she or an will my one all would there their what so up out if \
about who get which go me when make can like time no just him know take people into year your \
good some could them see other than then now look only come its over think also back after use \
two how our work first well way even new want because any these give day most us is are was \
were been has had did does said got made went thanks please help anyone know release build \
error bug fix update version install linux windows phone app server code rust python meeting \
tomorrow today tonight weekend morning evening book books read music song movie film coffee \
tea food dinner lunch price money work job office team project deadline slides link file \
photo video group chat message question answer problem issue idea plan trip travel city \
weather rain sun cold hot nice great cool awesome sorry okay yes yeah lol haha maybe sure";

const FA_BASE: &str = "و در به از که این را با است برای آن یک خود تا کرد بر هم نیز شد \
می‌شود می‌کند می‌روم می‌خواهم نمی‌دانم نمی‌کنم بود دارد باید شده کنیم کنید من تو او ما شما \
آنها سلام ممنون مرسی خواهش لطفاً دوستان بچه‌ها امروز فردا دیروز امشب شب صبح ساعت جلسه \
کتاب کتاب‌ها دانشگاه کلاس استاد درس امتحان برنامه برنامه‌نویسی سرور نسخه جدید مشکل \
حل سوال جواب فایل لینک عکس فیلم موسیقی آهنگ سفر تهران شیراز اصفهان کوه دریا هوا باران \
برف گرم سرد قیمت پول کار شرکت تیم پروژه خبر خوب بد عالی خیلی کمی بیشتر همه هیچ چیز کسی \
چرا چطور کجا کی چه خانه خانواده مادر پدر دوست غذا چای قهوه ناهار شام تولد مبارک";

const SYLLABLES_EN: &[&str] = &[
    "ka", "lo", "mi", "ter", "ra", "ven", "sto", "pli", "an", "dor", "el", "vis", "tra", "con",
    "mar", "pen", "qui", "zu", "bel", "ron",
];
const SYLLABLES_FA: &[&str] = &[
    "کا", "ما", "نو", "ری", "سا", "دا", "پر", "بیا", "گل", "تر", "شی", "زن", "فر", "مه", "ول",
    "هو", "جا", "خو", "چی", "ست",
];

/// How big a world to generate.
#[derive(Clone, Debug)]
pub struct CorpusSpec {
    pub chats: usize,
    pub users: usize,
    /// Distinct words per language, common ones included.
    pub vocabulary: usize,
    pub messages: u64,
    pub start: Timestamp,
    pub seed: u64,
}

impl Default for CorpusSpec {
    fn default() -> Self {
        CorpusSpec {
            chats: 20,
            users: 5000,
            vocabulary: 30_000,
            messages: 1_000_000,
            start: Timestamp(1_700_000_000),
            seed: 7,
        }
    }
}

struct Vocabulary {
    words: Vec<String>,
    /// Cumulative Zipf weights for sampling by rank.
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(base: &str, syllables: &[&str], size: usize, rng: &mut SmallRng) -> Self {
        let mut words: Vec<String> = base.split_whitespace().map(str::to_string).collect();
        let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
        while words.len() < size.max(words.len()) {
            let n = rng.random_range(2..5);
            let w: String = (0..n)
                .map(|_| syllables[rng.random_range(0..syllables.len())])
                .collect();
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(1.05);
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    fn sample(&self, rng: &mut SmallRng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.random::<f64>() * total;
        let i = self.cumulative.partition_point(|&c| c < x);
        self.words
            .get(i.min(self.words.len().saturating_sub(1)))
            .map_or("", String::as_str)
    }

    /// The word of rank `rank` (0 = most common), clamped.
    fn ranked(&self, rank: usize) -> &str {
        self.words
            .get(rank.min(self.words.len().saturating_sub(1)))
            .map_or("", String::as_str)
    }
}

/// The generator. [`Corpus::message`] makes message `n` (call it with 0, 1, 2, ...).
pub struct Corpus {
    spec: CorpusSpec,
    rng: SmallRng,
    en: Vocabulary,
    fa: Vocabulary,
    next_id: Vec<i32>,
}

impl Corpus {
    pub fn new(spec: CorpusSpec) -> Corpus {
        let mut rng = SmallRng::seed_from_u64(spec.seed);
        let en = Vocabulary::new(EN_BASE, SYLLABLES_EN, spec.vocabulary, &mut rng);
        let fa = Vocabulary::new(FA_BASE, SYLLABLES_FA, spec.vocabulary, &mut rng);
        Corpus {
            next_id: vec![0; spec.chats.max(1)],
            spec,
            rng,
            en,
            fa,
        }
    }

    pub fn spec(&self) -> &CorpusSpec {
        &self.spec
    }

    pub fn chat_id(i: usize) -> ChatId {
        ChatId(-1_002_000_000_000 - i as i64)
    }

    /// Chats with an even index talk mostly Persian, odd ones mostly English.
    fn persian(&mut self, chat: usize) -> bool {
        let p = if chat % 2 == 0 { 0.8 } else { 0.2 };
        self.rng.random_bool(p)
    }

    /// Message number `n` (dates increase with `n`, about a year for the whole corpus).
    pub fn message(&mut self, n: u64) -> StoredMessage {
        let chat = self.rng.random_range(0..self.spec.chats.max(1));
        self.next_id[chat] += 1;
        let year = 365 * 24 * 3600;
        let step = year / self.spec.messages.max(1) as i64;
        let date = self.spec.start.0 + n as i64 * step.max(1) + self.rng.random_range(0..60);
        let user = UserId(1 + self.rng.random_range(0..self.spec.users.max(1)) as u64);
        let roll: f64 = self.rng.random();
        let (kind, words) = if roll < 0.04 {
            (MessageKind::Photo, 0) // media without a caption
        } else if roll < 0.10 {
            (MessageKind::Photo, self.rng.random_range(1..8))
        } else if roll < 0.65 {
            (MessageKind::Text, self.rng.random_range(1..12))
        } else if roll < 0.95 {
            (MessageKind::Text, self.rng.random_range(12..40))
        } else {
            (MessageKind::Text, self.rng.random_range(40..200))
        };
        let persian = self.persian(chat);
        let text = self.text(words, persian);
        StoredMessage {
            chat_id: Self::chat_id(chat),
            message_id: MessageId(self.next_id[chat]),
            user_id: Some(user),
            date: Timestamp(date),
            edit_date: None,
            kind,
            text,
            reply_to: None,
            thread_id: None,
            seq: n + 1,
        }
    }

    fn text(&mut self, words: usize, persian: bool) -> String {
        let mut out = String::new();
        for i in 0..words {
            if i > 0 {
                out.push(if self.rng.random_bool(0.05) {
                    '\n'
                } else {
                    ' '
                });
            }
            let roll: f64 = self.rng.random();
            if roll < 0.02 {
                let n: u32 = self.rng.random_range(1..2030);
                out.push_str(&if persian {
                    persian_digits(n)
                } else {
                    n.to_string()
                });
            } else if roll < 0.03 {
                out.push_str(if persian { "؟" } else { "?" });
            } else {
                let vocab = if persian { &self.fa } else { &self.en };
                let w = vocab.sample(&mut self.rng).to_string();
                out.push_str(&w);
            }
            if self.rng.random_bool(0.06) {
                out.push(if persian { '،' } else { ',' });
            }
        }
        if persian && self.rng.random_bool(0.08) {
            // As older keyboards type them.
            out = out.replace('ی', "ي").replace('ک', "ك");
        }
        out
    }

    /// A benchmark query mix: one word, several words, a phrase, and words with a filter, in
    /// English and Persian, over common and rare words.
    pub fn query(&mut self, i: usize) -> String {
        let persian = i % 2 == 0;
        let rank = |rng: &mut SmallRng| -> usize {
            match rng.random_range(0..10) {
                0..=2 => rng.random_range(0..50),    // very common
                3..=6 => rng.random_range(50..2000), // common
                _ => rng.random_range(2000..20_000), // rare
            }
        };
        let word = |c: &mut Corpus| {
            let r = rank(&mut c.rng);
            let vocab = if persian { &c.fa } else { &c.en };
            vocab.ranked(r).to_string()
        };
        match i % 8 {
            0 | 1 => word(self),
            2 | 3 => format!("{} {}", word(self), word(self)),
            4 => {
                let words = self.rng.random_range(2..4);
                let text = self.text(words, persian);
                let clean: String = text
                    .chars()
                    .filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == '\u{200c}')
                    .collect();
                if clean.trim().is_empty() {
                    word(self)
                } else {
                    format!("\"{}\"", clean.trim())
                }
            }
            5 => format!(
                "{} from:{}",
                word(self),
                1 + self.rng.random_range(0..self.spec.users)
            ),
            6 => format!("{} after:2024-03-01", word(self)),
            _ => format!("{} -{}", word(self), word(self)),
        }
    }
}

fn persian_digits(n: u32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x06F0 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_is_deterministic_and_mixed() {
        let spec = CorpusSpec {
            messages: 1000,
            vocabulary: 2000,
            ..CorpusSpec::default()
        };
        let mut a = Corpus::new(spec.clone());
        let mut b = Corpus::new(spec);
        let ma: Vec<_> = (0..300).map(|n| a.message(n)).collect();
        let mb: Vec<_> = (0..300).map(|n| b.message(n)).collect();
        assert_eq!(ma, mb);
        assert!(ma.iter().any(|m| m.text.contains('\u{200c}')), "ZWNJ words");
        assert!(ma.iter().any(|m| m.text.contains("the")), "English");
        assert!(
            ma.iter().any(|m| m.text.is_empty()),
            "media without caption"
        );
        assert!(ma.windows(2).all(|w| w[0].date.0 <= w[1].date.0 + 60));
        let queries: Vec<String> = (0..16).map(|i| a.query(i)).collect();
        for q in &queries {
            assert!(
                crate::search::query::parse(q).is_ok(),
                "generated query {q:?} must parse"
            );
        }
    }
}

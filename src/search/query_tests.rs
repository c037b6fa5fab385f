use super::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn words(q: &ParsedQuery) -> Vec<String> {
    q.include.iter().map(|c| c.to_string()).collect()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn words_phrases_and_exclusions() {
    let q = parse("rust  \"borrow checker\" -spam -\"buy now\" سلام").unwrap();
    assert_eq!(
        q.include,
        vec![
            Clause::Word("rust".into()),
            Clause::Phrase("borrow checker".into()),
            Clause::Word("سلام".into()),
        ]
    );
    assert_eq!(
        q.exclude,
        vec![
            Clause::Word("spam".into()),
            Clause::Phrase("buy now".into())
        ]
    );
    assert_eq!(
        q.to_string(),
        "rust \"borrow checker\" سلام -spam -\"buy now\""
    );
    // Typographic and Persian quotes open and close phrases too.
    let q = parse("«می\u{200c}روم خانه» “hello world”").unwrap();
    assert_eq!(words(&q), ["\"می\u{200c}روم خانه\"", "\"hello world\""]);
}

#[test]
fn filters() {
    let q =
        parse("meeting from:@Alice_1 after:2024-01-31 before:2024-03-01 in:@rust_group").unwrap();
    assert_eq!(words(&q), ["meeting"]);
    assert_eq!(q.from, Some(UserRef::Username("Alice_1".into())));
    assert_eq!(q.after, Some(date("2024-01-31")));
    assert_eq!(q.before, Some(date("2024-03-01")));
    assert_eq!(q.in_chat, Some(ChatRef::Username("rust_group".into())));
    let (lo, hi) = q.date_bounds();
    assert_eq!(lo.unwrap().to_rfc3339(), "2024-02-01T00:00:00Z");
    assert_eq!(hi.unwrap().to_rfc3339(), "2024-03-01T00:00:00Z");

    let q = parse("FROM:12345 In:-1001234567890").unwrap();
    assert_eq!(q.from, Some(UserRef::Id(UserId(12345))));
    assert_eq!(q.in_chat, Some(ChatRef::Id(ChatId(-1_001_234_567_890))));
    assert!(q.is_filter_only(), "filters alone are a valid query");
    assert_eq!(q.to_string(), "from:12345 in:-1001234567890");
    // A username without @ and a date in Persian digits.
    let q = parse("x from:bob before:۲۰۲۴-۰۳-۰۱").unwrap();
    assert_eq!(q.from, Some(UserRef::Username("bob".into())));
    assert_eq!(q.before, Some(date("2024-03-01")));
}

#[test]
fn unknown_operators_are_words() {
    let q = parse("time:10 https://example.org/x").unwrap();
    assert_eq!(words(&q), ["time:10", "https://example.org/x"]);
    assert_eq!(
        q.include[1].terms(),
        ["https", "example.org", "x"],
        "analyzed like the message text, so it searches as a phrase"
    );
}

#[test]
fn punctuation_only_words_are_dropped() {
    let q = parse("rust !!! 🚀").unwrap();
    assert_eq!(words(&q), ["rust"]);
    assert_eq!(q.to_string(), "rust");
    assert_eq!(parse("!!! 🚀"), Err(QueryError::NothingToSearch));
    assert_eq!(parse("-spam"), Err(QueryError::NothingToSearch));
    assert_eq!(parse("\"\""), Err(QueryError::NothingToSearch));
    assert_eq!(parse("   "), Err(QueryError::Empty));
    assert_eq!(parse(""), Err(QueryError::Empty));
    assert_eq!(parse(" - "), Err(QueryError::Empty));
}

#[test]
fn errors_explain_what_to_fix() {
    assert_eq!(parse("\"open phrase"), Err(QueryError::UnclosedQuote));
    assert!(matches!(
        parse("after:yesterday"),
        Err(QueryError::BadDate { op: "after", .. })
    ));
    assert!(matches!(
        parse("before:2024-02-30"),
        Err(QueryError::BadDate { op: "before", .. })
    ));
    assert!(matches!(
        parse("x from:"),
        Err(QueryError::EmptyFilter { op: "from", .. })
    ));
    assert!(matches!(parse("x from:@"), Err(QueryError::BadUser { .. })));
    assert!(matches!(
        parse("x from:@a-b"),
        Err(QueryError::BadUser { .. })
    ));
    assert!(matches!(parse("x in:@"), Err(QueryError::BadChat { .. })));
    assert_eq!(
        parse("x from:@a from:@b"),
        Err(QueryError::Repeated { op: "from" })
    );
    assert_eq!(
        parse("x -from:@a"),
        Err(QueryError::NegatedFilter { op: "from" })
    );
    assert!(matches!(
        parse("x after:2024-01-01 before:2024-01-02"),
        Err(QueryError::EmptyDateRange { .. })
    ));
    assert!(parse("x after:2024-01-01 before:2024-01-03").is_ok());
    let long = "a ".repeat(200);
    assert_eq!(
        parse(&long),
        Err(QueryError::TooLong {
            max: MAX_QUERY_CHARS
        })
    );
    let many = (0..20)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        parse(&many),
        Err(QueryError::TooManyTerms { max: MAX_TERMS })
    );
    // Every message is a full sentence for a person, with no debug formatting.
    for input in ["\"x", "after:x", "x from:", "x from:@a from:@b", "!!!", ""] {
        let message = parse(input).unwrap_err().to_string();
        assert!(message.ends_with('.'), "{message}");
        assert!(!message.contains("Err("), "{message}");
    }
}

#[test]
fn persian_query_is_understood() {
    let q = parse("كتاب -\"مي\u{200c}روم\" from:@maryam_r").unwrap();
    assert_eq!(q.include[0].terms(), ["کتاب"]);
    assert_eq!(q.exclude[0].terms(), ["میروم"]);
}

/// Random text from an alphabet rich in syntax and odd Unicode never panics the parser; what
/// parses prints as a query that parses back to the same thing.
#[test]
fn arbitrary_input_never_panics_and_round_trips() {
    const ALPHABET: &[&str] = &[
        "a",
        "Z",
        "7",
        " ",
        " ",
        "  ",
        "\t",
        "\n",
        "-",
        "--",
        "\"",
        "“",
        "”",
        "«",
        "»",
        ":",
        "from:",
        "from:@",
        "after:",
        "before:",
        "in:",
        "@",
        "_",
        "2024-01-31",
        "۲۰۲۴",
        "سلام",
        "می\u{200c}روم",
        "ي",
        "ك",
        "\u{200c}",
        "\u{064b}",
        "ـ",
        "🚀",
        "👍🏽",
        "\u{0}",
        "\u{feff}",
        "é",
        "ß",
        "İ",
        "ﷺ",
        "\u{202e}",
        "x:y",
        "-from:x",
        "\\",
        "'",
        "9999999999999999999999",
        "-1001",
        ".",
        "/",
        "#",
        "e-mail",
    ];
    let mut rng = SmallRng::seed_from_u64(0x5ea2c4);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let len = rng.random_range(0..24);
        let mut s = String::new();
        for _ in 0..len {
            s.push_str(ALPHABET[rng.random_range(0..ALPHABET.len())]);
        }
        if rng.random_bool(0.05) {
            // Raw random scalar values too.
            for _ in 0..rng.random_range(1..20) {
                if let Some(c) = char::from_u32(rng.random_range(0..0x11_0000)) {
                    s.push(c);
                }
            }
        }
        match parse(&s) {
            Ok(q) => {
                parsed += 1;
                let printed = q.to_string();
                assert_eq!(
                    parse(&printed).as_ref(),
                    Ok(&q),
                    "{s:?} printed as {printed:?}"
                );
                assert!(
                    q.include
                        .iter()
                        .chain(&q.exclude)
                        .all(|c| !c.terms().is_empty())
                );
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    assert!(
        parsed > 1000,
        "the generator should produce valid queries too"
    );
}

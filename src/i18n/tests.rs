use super::catalog::placeholders;
use super::*;
use crate::domain::LanguagePref;

#[test]
fn catalogs_are_complete_consistent_and_read_right_to_left() {
    let problems = check_catalogs();
    assert!(
        problems.is_empty(),
        "catalog problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn msg_all_is_in_declaration_order() {
    for (i, m) in Msg::ALL.iter().enumerate() {
        assert_eq!(*m as usize, i, "{m:?}");
    }
}

#[test]
fn every_text_is_found_in_both_languages() {
    for m in Msg::ALL {
        for lang in Lang::ALL {
            let t = Tr::new(lang).t(*m);
            assert_ne!(t, m.key(), "{lang:?} lacks {}", m.key());
        }
        if !matches!(m, Msg::HelpLine) {
            assert_ne!(
                Tr::new(Lang::En).t(*m),
                Tr::new(Lang::Fa).t(*m),
                "{} is not translated",
                m.key()
            );
        }
    }
}

#[test]
fn the_checker_finds_what_it_should() {
    assert!(rtl_problems("سلام \u{2068}/help\u{2069} <b>{name}</b> &amp;").is_empty());
    assert!(!rtl_problems("سلام /help").is_empty(), "bare Latin");
    assert!(!rtl_problems("\u{2068}/help سلام").is_empty(), "unclosed");
    assert!(!rtl_problems("سلام\nhello").is_empty(), "an LTR line");
    assert_eq!(placeholders("a {x} {y_z} {Not} {} {"), vec!["x", "y_z"]);
}

#[test]
fn languages_are_chosen_from_settings_then_telegram() {
    assert_eq!(Lang::from_code(Some("fa")), Lang::Fa);
    assert_eq!(Lang::from_code(Some("fa-IR")), Lang::Fa);
    assert_eq!(Lang::from_code(Some("FA_ir")), Lang::Fa);
    assert_eq!(Lang::from_code(Some("en-US")), Lang::En);
    assert_eq!(Lang::from_code(Some("far")), Lang::En);
    assert_eq!(Lang::from_code(Some("")), Lang::En);
    assert_eq!(Lang::from_code(None), Lang::En);
    assert_eq!(Lang::resolve(LanguagePref::Auto, Some("fa")), Lang::Fa);
    assert_eq!(Lang::resolve(LanguagePref::English, Some("fa")), Lang::En);
    assert_eq!(Lang::resolve(LanguagePref::Persian, Some("en")), Lang::Fa);
    assert_eq!(Lang::resolve(LanguagePref::Persian, None), Lang::Fa);
}

#[test]
fn english_fills_placeholders_plainly() {
    let en = Tr::new(Lang::En);
    let s = en.f(Msg::StartHello, &[("name", &"Alice &amp; Bob")]);
    assert_eq!(
        s,
        "Hello, <b>Alice &amp; Bob</b>! I keep this community's message archive."
    );
    // A Persian name inside English is isolated, so the "!" stays after it.
    let s = en.f(Msg::StartHello, &[("name", &"مریم")]);
    assert!(s.starts_with("Hello, <b>\u{2068}مریم\u{2069}</b>!"), "{s}");
    // Missing values leave the placeholder, extra values are ignored.
    assert_eq!(
        fill(Lang::En, "{a} {b} {", &[("a", &1), ("c", &2)]),
        "1 {b} {"
    );
}

#[test]
fn persian_isolates_latin_names_numbers_and_commands() {
    let fa = Tr::new(Lang::Fa);
    let s = fa.f(Msg::StartHello, &[("name", &"Alice")]);
    assert_eq!(
        s,
        "سلام <b>\u{2068}Alice\u{2069}</b>! من بایگانی پیام‌های این گروه را نگه می‌دارم."
    );
    let s = fa.f(Msg::StartRegistered, &[("count", &fa.num(1234))]);
    assert!(s.contains("۱۲۳۴ پیام"), "{s}");
    let s = fa.f(Msg::UnknownCommand, &[("command", &"/foo_bar")]);
    assert!(s.starts_with("فرمان \u{2068}/foo_bar\u{2069} را"), "{s}");
    assert!(s.contains("\u{2068}/help\u{2069}"), "{s}");
    // Every rendered line still starts right to left, and nothing Latin is bare.
    let page = format!(
        "{}\n{}",
        fa.f(
            Msg::SearchHeaderMany,
            &[("total", &fa.num(12)), ("query", &"from:@ali rust")]
        ),
        fa.f(
            Msg::SearchPageLine,
            &[
                ("page", &fa.num(1)),
                ("pages", &fa.num(3)),
                ("order", &fa.t(Msg::SearchNewestFirst)),
                ("ms", &fa.num(4))
            ]
        )
    );
    assert!(rtl_problems(&page).is_empty(), "{page:?}");
    assert!(
        page.contains("<code>\u{2068}from:@ali rust\u{2069}</code>"),
        "{page}"
    );
}

#[test]
fn numbers_follow_the_language() {
    assert_eq!(Tr::new(Lang::En).num(1_234_567u64), "1234567");
    assert_eq!(Tr::new(Lang::Fa).num(-90i64), "-۹۰");
}

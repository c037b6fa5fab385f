use super::format::*;
use super::*;
use crate::domain::{MessageKind, Timestamp};
use crate::i18n::Lang;
use crate::i18n::rtl_problems;
use crate::service::stats::NamedCount;

const EN: Tr = Tr::new(Lang::En);
const FA: Tr = Tr::new(Lang::Fa);

#[test]
fn numbers_and_bars() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1000), "1,000");
    assert_eq!(thousands(1_234_567), "1,234,567");
    assert_eq!(count(EN, 1_234_567u64), "1,234,567");
    assert_eq!(count(FA, 1_234_567u64), "۱٬۲۳۴٬۵۶۷");
    assert_eq!(count(FA, 0usize), "۰");
    assert_eq!(hour(FA, 9), "۰۹:۰۰");
    assert_eq!(hour(EN, 23), "23:00");
    assert_eq!(percent(FA, 9, 10), "۹۰٪");
    assert_eq!(percent(EN, 1, 0), "0%");
    assert_eq!(sparkline(&[0, 1, 7, 0]), "▁▂█▁");
    assert_eq!(sparkline(&[0, 0]), "▁▁");
    assert_eq!(sparkline(&[]), "");
    let line = sparkline(&[0, 1, 6, u64::MAX]);
    assert_eq!(line.chars().count(), 4);
    assert!(line.ends_with('█'));
}

#[test]
fn long_replies_are_cut_at_a_line() {
    let long = "<b>x</b>\n".repeat(1000);
    let cut = fit(long);
    assert!(cut.chars().count() <= MAX_REPLY_CHARS);
    assert!(cut.ends_with("</b>\n…"));
}

#[test]
fn names_are_escaped_clamped_and_replies_fit() {
    use crate::domain::{ChatId, PosterRank, UserId};
    use crate::service::stats::MemberChatReport;
    let title = "<&>".repeat(100);
    let chats: Vec<MemberChatReport> = (0..15)
        .map(|i| MemberChatReport {
            chat: ChatId(-i),
            title: title.clone(),
            messages: 1_000_000,
            messages_30d: 12,
            rank: Some(PosterRank {
                rank: 2,
                of: 40,
                messages: 1_000_000,
            }),
            first_seen: Timestamp(1_700_000_000),
            last_seen: Timestamp(1_700_086_400),
        })
        .collect();
    let text = member_report(
        EN,
        &MemberReport {
            chats,
            more: 3,
            total_messages: 18_000_000,
        },
        false,
    );
    assert!(text.chars().count() <= MAX_REPLY_CHARS, "{}", text.len());
    assert!(!text.contains("<&>"));
    assert!(text.contains("<b>&lt;&amp;&gt;&lt;&amp;&gt;"));
    assert!(text.contains("Messages: <b>1,000,000</b> (12 in 30 days)"));
    assert!(text.contains("Rank: <b>#2</b> of 40 posters"));
    assert!(text.contains("First seen: 2023-11-14, last seen: 2023-11-15"));
    // Every line is balanced, so the cut never leaves an open tag.
    for line in text.lines() {
        assert_eq!(line.matches("<b>").count(), line.matches("</b>").count());
    }
    let top_text = top(
        EN,
        &TopReport {
            title: "گروه کتاب‌خوان‌ها".into(),
            period: TopPeriod::Week,
            top: vec![NamedCount {
                user: UserId(1),
                name: "مریم".into(),
                messages: 1234,
            }],
            posters: 1,
        },
    );
    // Persian names inside English are isolated, so the punctuation stays in place.
    assert!(
        top_text.contains("<b>\u{2068}گروه کتاب‌خوان‌ها\u{2069}</b>, last 7 days"),
        "{top_text}"
    );
    assert!(top_text.contains("1. \u{2068}مریم\u{2069} — <b>1,234</b>"));
}

#[test]
fn bad_period_is_escaped() {
    assert_eq!(
        bad_period(EN, "top", "<5d>"),
        "I don't know the period <code>&lt;5d&gt;</code>. Use <code>/top 7d</code>, \
         <code>/top 30d</code> or <code>/top all</code>."
    );
    let fa = bad_period(FA, "stats", "<b>");
    assert!(
        fa.starts_with("بازهٔ <code>\u{2068}&lt;b&gt;\u{2069}</code> را نمی‌شناسم."),
        "{fa}"
    );
    assert!(
        fa.contains("<code>\u{2068}/stats 7d\u{2069}</code>"),
        "{fa}"
    );
    assert!(rtl_problems(&fa).is_empty(), "{fa}");
    for r in [Refusal::TopNeedsGroup, Refusal::NeedsPerson] {
        assert!(rtl_problems(&refusal(FA, &r)).is_empty());
        assert_ne!(refusal(FA, &r), refusal(EN, &r));
    }
}

fn group_report() -> GroupReport {
    let mut hours_of_day = vec![0; 24];
    hours_of_day[9] = 3;
    hours_of_day[21] = 1;
    GroupReport {
        chat: crate::domain::ChatId(-100),
        title: "Rust <Iran>".into(),
        total_messages: 12_345,
        messages_7d: 4,
        messages_30d: 6,
        active_7d: 1,
        active_30d: 2,
        joins_30d: 3,
        leaves_30d: 1,
        daily: vec![0, 2, 0, 1],
        first_day: Day(19_000),
        hours_of_day,
        busiest_hours: vec![(9, 3), (21, 1)],
        busiest_weekday: Some((4, 3)),
        top_period: TopPeriod::Month,
        top: vec![
            NamedCount {
                user: crate::domain::UserId(1),
                name: "Alice".into(),
                messages: 1_500,
            },
            NamedCount {
                user: crate::domain::UserId(2),
                name: "مریم".into(),
                messages: 2,
            },
        ],
        kinds: vec![(MessageKind::Text, 3), (MessageKind::MembersJoined, 1)],
    }
}

#[test]
fn group_stats_in_english() {
    let t = group_stats(EN, &group_report());
    for want in [
        "📊 <b>Rust &lt;Iran&gt;</b>: statistics\n",
        "Messages: <b>12,345</b> in all, 4 in 7 days, 6 in 30 days\n",
        "Active members: <b>1</b> in 7 days, <b>2</b> in 30 days\n",
        "Joined: 3, left: 1 in 30 days\n",
        "<b>Messages per day</b> (2022-01-08 to 2022-01-11, UTC)\n<code>▁█▁▅</code>\n",
        "Busiest day: 2022-01-09 with 2; today 1\n",
        "<code>0     6     12    18    </code>\n",
        "09:00–10:00 (75%), 21:00–22:00 (25%)\n",
        "Busiest weekday: Friday (75%)\n",
        "<b>Top posters</b> (last 30 days)\n1. Alice — <b>1,500</b>\n",
        "2. \u{2068}مریم\u{2069} — <b>2</b>\n",
        "text 3 (75%), joins 1 (25%)",
    ] {
        assert!(t.contains(want), "{want:?} not in:\n{t}");
    }
}

#[test]
fn group_stats_in_persian() {
    let t = group_stats(FA, &group_report());
    for want in [
        "📊 آمار <b>\u{2068}Rust &lt;Iran&gt;\u{2069}</b>\n",
        "پیام‌ها: <b>۱۲٬۳۴۵</b> در کل، ۴ در ۷ روز، ۶ در ۳۰ روز\n",
        "اعضای فعال: <b>۱</b> در ۷ روز، <b>۲</b> در ۳۰ روز\n",
        "در ۳۰ روز: ۳ نفر پیوستند، ۱ نفر رفتند\n",
        "(از \u{2068}2022-01-08\u{2069} تا \u{2068}2022-01-11\u{2069}، به وقت",
        "<code>\u{2068}▁█▁▅\u{2069}</code>\n",
        "پرکارترین روز: \u{2068}2022-01-09\u{2069} با ۲ پیام؛ امروز ۱\n",
        "<code>\u{2068}۰     ۶     ۱۲    ۱۸    \u{2069}</code>\n",
        "۰۹:۰۰ تا ۱۰:۰۰ (۷۵٪)، ۲۱:۰۰ تا ۲۲:۰۰ (۲۵٪)\n",
        "پرکارترین روز هفته: جمعه (۷۵٪)\n",
        "<b>فعال‌ترین اعضا</b> (۳۰ روز گذشته)\n۱. \u{2068}Alice\u{2069} — <b>۱٬۵۰۰</b> پیام\n",
        "۲. مریم — <b>۲</b> پیام\n",
        "متن ۳ (۷۵٪)، پیوستن ۱ (۲۵٪)",
    ] {
        assert!(t.contains(want), "{want:?} not in:\n{t}");
    }
    // No ASCII digit or Latin letter outside an isolate; every line reads right to left.
    assert!(rtl_problems(&t).is_empty(), "{:?}", rtl_problems(&t));
}

#[test]
fn private_summaries_and_empty_reports_in_both_languages() {
    use crate::domain::ChatId;
    use crate::service::stats::GroupSummary;
    let summary = GroupsSummary {
        groups: vec![GroupSummary {
            chat: ChatId(-1),
            title: "Book club".into(),
            total_messages: 1_000,
            messages_7d: 7,
            active_7d: 3,
            yours: 12,
        }],
        more: 2,
    };
    let en = groups_summary(EN, &summary);
    assert!(en.contains(
        "• <b>Book club</b>: 1,000 messages (7 in 7 days, 3 active members); yours: 12\n"
    ));
    assert!(en.contains("…and 2 more.\nSend /stats in a group"), "{en}");
    let fa = groups_summary(FA, &summary);
    assert!(
        fa.contains(
            "• <b>\u{2068}Book club\u{2069}</b>: ۱٬۰۰۰ پیام (۷ در ۷ روز، ۳ عضو فعال)؛ سهم شما: ۱۲\n"
        ),
        "{fa}"
    );
    assert!(fa.contains("…و ۲ گروه دیگر."), "{fa}");
    assert!(rtl_problems(&fa).is_empty(), "{fa}");
    let none = GroupsSummary {
        groups: vec![],
        more: 0,
    };
    let empty = MemberReport {
        chats: vec![],
        more: 0,
        total_messages: 0,
    };
    let empty_top = TopReport {
        title: "G".into(),
        period: TopPeriod::AllTime,
        top: vec![],
        posters: 0,
    };
    for tr in [EN, FA] {
        for text in [
            groups_summary(tr, &none),
            member_report(tr, &empty, true),
            member_report(tr, &empty, false),
            top(tr, &empty_top),
            unavailable(tr),
        ] {
            assert!(!text.is_empty());
            if tr.lang() == Lang::Fa {
                assert!(rtl_problems(&text).is_empty(), "{text}");
            }
        }
    }
    assert!(top(EN, &empty_top).contains("Nobody has posted"));
    assert!(top(FA, &empty_top).contains("از آغاز تا امروز"));
    assert!(top(FA, &empty_top).contains("کسی پیامی نفرستاده"));
}

#[test]
fn member_report_in_persian() {
    use crate::domain::{ChatId, PosterRank};
    use crate::service::stats::MemberChatReport;
    let chat = |i: i64, title: &str| MemberChatReport {
        chat: ChatId(-i),
        title: title.into(),
        messages: 1_234,
        messages_30d: 12,
        rank: Some(PosterRank {
            rank: 2,
            of: 40,
            messages: 1_234,
        }),
        first_seen: Timestamp(1_700_000_000),
        last_seen: Timestamp(1_700_086_400),
    };
    let text = member_report(
        FA,
        &MemberReport {
            chats: vec![chat(1, "Rust"), chat(2, "کتاب")],
            more: 1,
            total_messages: 3_000,
        },
        false,
    );
    for want in [
        "👤 <b>آمار شما</b>\n",
        "\n<b>\u{2068}Rust\u{2069}</b>\n",
        "\n<b>کتاب</b>\n",
        "پیام‌ها: <b>۱٬۲۳۴</b> (۱۲ در ۳۰ روز)\n",
        "رتبه: <b>۲</b> از ۴۰ نفر\n",
        "نخستین حضور: \u{2068}2023-11-14\u{2069}، آخرین حضور: \u{2068}2023-11-15\u{2069}\n",
        "در مجموع: <b>۳٬۰۰۰</b> پیام در ۳ گروه\n",
        "…و ۱ گروه دیگر.",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    assert!(rtl_problems(&text).is_empty(), "{text}");
}

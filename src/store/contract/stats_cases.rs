//! Contract cases of the statistics counters ([`StatsRepo`]), on a hand-computed fixture.

use super::fixtures::{T0, edit, group, new_message, person, text};
use super::must;
use crate::domain::{
    ChatDay, ChatId, Day, IncomingMessage, IncomingUpdate, MessageKind, PosterCount, PosterRank,
    StatsPeriod, UserId,
};
use crate::store::Store;

/// Midnight UTC of Tuesday 2023-11-14, the fixture's day 0 (`T0` is 22:13:20 that day).
pub const STATS_DAY0: i64 = 1_699_920_000;
/// The fixture's group and second group.
pub const STATS_G: ChatId = ChatId(-1);
pub const STATS_H: ChatId = ChatId(-2);

/// Offset from `T0` (the fixtures' clock) of `hour`:05 UTC on fixture day `day`.
pub fn stats_at(day: i64, hour: i64) -> i64 {
    STATS_DAY0 - T0 + day * 86_400 + hour * 3_600 + 300
}

fn day(n: i64) -> Day {
    Day(STATS_DAY0 / 86_400 + n)
}

fn days(from: i64, to: i64) -> StatsPeriod {
    StatsPeriod::Days {
        from: day(from),
        to: day(to),
    }
}

fn kind(mut m: IncomingMessage, kind: MessageKind) -> IncomingMessage {
    m.kind = kind;
    m
}

/// The statistics fixture, in three batches. Users a (1), b (2), c (3).
///
/// Group G (-1), days counted from Tuesday (day 0), hours UTC:
/// - day 0 10h: a text, a photo, b text; 22h: c text; and (in batch 2) 11h: a text
/// - day 0 12h: a pinned-message service message (not counted)
/// - day 1 (Wed) 10h: c joins (service: one join, not a post); a text
/// - day 8 (Wed) 09h: b sticker, b text (batch 2); an edit of a's first text (not counted)
/// - batch 3 redelivers batch 2's last update (skipped)
///
/// Group H (-2): day 0 10h: a text, b text, an anonymous post (no user).
///
/// Hand-computed: G day 0 = 5 messages by 3 members, day 1 = 1 message by 1 member and 1
/// join, day 8 = 2 messages by 1 member; G totals a 4, b 3, c 1; kinds text 6, photo 1,
/// sticker 1; hours of week (Monday 00h = 0) 34 (Tue 10h) 3, 35 (Tue 11h) 1, 46 (Tue 22h) 1,
/// 58 (Wed 10h) 1, 57 (Wed 09h) 2.
pub fn stats_fixture() -> Vec<Vec<IncomingUpdate>> {
    let (g, h) = (group(STATS_G.0, "G"), group(STATS_H.0, "H"));
    let (a, b, c) = (person(1, "a"), person(2, "b"), person(3, "c"));
    let at = stats_at;
    let mut joined = kind(
        text(&g, Some(&c), 6, at(1, 10), ""),
        MessageKind::MembersJoined,
    );
    joined.joined = vec![c.clone()];
    let batch1 = vec![
        new_message(1, text(&g, Some(&a), 1, at(0, 10), "hello")),
        new_message(
            2,
            kind(text(&g, Some(&a), 2, at(0, 10), "pic"), MessageKind::Photo),
        ),
        new_message(3, text(&g, Some(&b), 3, at(0, 10), "hi")),
        new_message(4, text(&g, Some(&c), 4, at(0, 22), "late")),
        new_message(
            5,
            kind(text(&g, Some(&a), 5, at(0, 12), ""), MessageKind::Service),
        ),
        new_message(6, joined),
        new_message(7, text(&g, Some(&a), 7, at(1, 10), "next day")),
        new_message(8, text(&h, Some(&a), 1, at(0, 10), "other group")),
        new_message(9, text(&h, Some(&b), 2, at(0, 10), "other group too")),
        new_message(10, text(&h, None, 3, at(0, 10), "channel-style post")),
    ];
    let mut edited = text(&g, Some(&a), 1, at(0, 10), "hello, edited");
    edited.edit_date = Some(crate::domain::Timestamp(T0 + at(8, 9)));
    let batch2 = vec![
        new_message(
            11,
            kind(text(&g, Some(&b), 8, at(8, 9), ""), MessageKind::Sticker),
        ),
        new_message(12, text(&g, Some(&a), 9, at(0, 11), "late arrival")),
        edit(13, edited),
        new_message(14, text(&g, Some(&b), 10, at(8, 9), "week later")),
    ];
    let batch3 = vec![batch2[3].clone()];
    vec![batch1, batch2, batch3]
}

fn ingest_fixture(store: &dyn Store) {
    for batch in stats_fixture() {
        must(store.ingest(&batch), "ingest");
    }
}

/// Every figure the fixture defines, in one comparable value.
fn snapshot(store: &dyn Store) -> String {
    let mut out = String::new();
    for chat in [STATS_G, STATS_H] {
        out.push_str(&format!(
            "{:?}\n{:?}\n{:?}\n",
            must(store.chat_days(chat, day(-5), day(20)), "days"),
            must(store.chat_hours(chat), "hours"),
            must(store.chat_kinds(chat), "kinds"),
        ));
        for period in [days(0, 8), days(1, 8), StatsPeriod::AllTime] {
            out.push_str(&format!(
                "{} {:?}\n",
                must(store.active_members(chat, period), "active"),
                must(store.top_posters(chat, period, 10), "top"),
            ));
            for user in 1..=3 {
                let rank = must(store.poster_rank(chat, UserId(user), period), "rank");
                out.push_str(&format!("{rank:?}\n"));
            }
        }
    }
    out
}

fn pc(user: u64, messages: u64) -> PosterCount {
    PosterCount {
        user: UserId(user),
        messages,
    }
}

pub fn stats_counters_match_the_fixture(store: &dyn Store) {
    ingest_fixture(store);
    let g = STATS_G;
    let d = |n: i64, messages, active_members, joins| ChatDay {
        day: day(n),
        messages,
        active_members,
        joins,
        leaves: 0,
    };
    assert_eq!(
        must(store.chat_days(g, day(-5), day(20)), "days"),
        vec![d(0, 5, 3, 0), d(1, 1, 1, 1), d(8, 2, 1, 0)]
    );
    assert_eq!(
        must(store.chat_days(g, day(1), day(7)), "days"),
        vec![d(1, 1, 1, 1)]
    );
    assert!(must(store.chat_days(g, day(8), day(0)), "reversed").is_empty());
    let hours = must(store.chat_hours(g), "hours");
    assert_eq!(hours.len(), 168);
    let mut expected = vec![0u64; 168];
    expected[34] = 3;
    expected[35] = 1;
    expected[46] = 1;
    expected[57] = 2;
    expected[58] = 1;
    assert_eq!(hours, expected);
    assert_eq!(
        must(store.chat_kinds(g), "kinds"),
        vec![
            (MessageKind::Text, 6),
            (MessageKind::Photo, 1),
            (MessageKind::Sticker, 1)
        ]
    );

    assert_eq!(must(store.active_members(g, days(0, 8)), "active"), 3);
    assert_eq!(must(store.active_members(g, days(1, 8)), "active"), 2);
    assert_eq!(must(store.active_members(g, days(2, 7)), "active"), 0);
    assert_eq!(
        must(store.active_members(g, StatsPeriod::AllTime), "all"),
        3
    );
    assert_eq!(
        must(store.top_posters(g, days(0, 8), 2), "top"),
        vec![pc(1, 4), pc(2, 3)]
    );
    assert_eq!(
        must(store.top_posters(g, days(1, 8), 10), "top"),
        vec![pc(2, 2), pc(1, 1)]
    );
    assert_eq!(
        must(store.top_posters(g, StatsPeriod::AllTime, 10), "top"),
        vec![pc(1, 4), pc(2, 3), pc(3, 1)]
    );
    let rank = |user, period| must(store.poster_rank(g, UserId(user), period), "rank");
    assert_eq!(
        rank(3, StatsPeriod::AllTime),
        Some(PosterRank {
            rank: 3,
            of: 3,
            messages: 1
        })
    );
    assert_eq!(
        rank(2, days(1, 8)),
        Some(PosterRank {
            rank: 1,
            of: 2,
            messages: 2
        })
    );
    assert_eq!(rank(3, days(1, 8)), None);
    assert_eq!(rank(9, StatsPeriod::AllTime), None);

    // Group H: equal counts share a rank and list by user id; an anonymous post is counted
    // in the day but has no poster.
    let h = STATS_H;
    assert_eq!(
        must(store.chat_days(h, day(0), day(0)), "days"),
        vec![d(0, 3, 2, 0)]
    );
    assert_eq!(
        must(store.top_posters(h, days(0, 0), 10), "top"),
        vec![pc(1, 1), pc(2, 1)]
    );
    let b_in_h = must(store.poster_rank(h, UserId(2), days(0, 0)), "rank");
    assert_eq!(
        b_in_h,
        Some(PosterRank {
            rank: 1,
            of: 2,
            messages: 1
        })
    );
    assert_eq!(
        must(store.chat_kinds(h), "kinds"),
        vec![(MessageKind::Text, 3)]
    );
    // The members' own counters agree with the per-day rows.
    let a = must(store.member(g, UserId(1)), "member").map(|m| m.message_count);
    assert_eq!(a, Some(4));
    // Unknown chats have nothing.
    assert!(must(store.chat_days(ChatId(-9), day(0), day(9)), "none").is_empty());
    assert_eq!(must(store.chat_hours(ChatId(-9)), "none"), vec![0; 168]);
    assert!(must(store.chat_kinds(ChatId(-9)), "none").is_empty());
}

pub fn stats_survive_message_removal(store: &dyn Store) {
    ingest_fixture(store);
    let before = snapshot(store);
    let mut keys = Vec::new();
    for chat in [STATS_G, STATS_H] {
        for m in must(store.messages_page(Some(chat), None, 100), "page") {
            keys.push((chat, m.message_id));
        }
    }
    assert_eq!(keys.len(), 13);
    assert_eq!(must(store.delete_messages(&keys), "delete"), 13);
    assert_eq!(must(store.counts(), "counts").messages, 0);
    assert_eq!(snapshot(store), before, "removal changed a statistic");
    // A message re-sent under a removed key after removal counts as new (it is new to us).
    let again = vec![new_message(
        20,
        text(
            &group(STATS_G.0, "G"),
            Some(&person(3, "c")),
            30,
            stats_at(8, 9),
            "x",
        ),
    )];
    must(store.ingest(&again), "ingest");
    assert_eq!(
        must(store.top_posters(STATS_G, days(8, 8), 10), "top"),
        vec![pc(2, 2), pc(3, 1)]
    );
}

pub fn stats_forget_user_keeps_chat_counters(store: &dyn Store) {
    ingest_fixture(store);
    let days_before = must(store.chat_days(STATS_G, day(0), day(9)), "days");
    let hours_before = must(store.chat_hours(STATS_G), "hours");
    // a posted in G on days 0 and 1 and in H on day 0.
    assert_eq!(must(store.forget_user_stats(UserId(1)), "forget"), 3);
    assert_eq!(must(store.forget_user_stats(UserId(1)), "again"), 0);
    assert_eq!(
        must(store.top_posters(STATS_G, days(0, 8), 10), "top"),
        vec![pc(2, 3), pc(3, 1)]
    );
    assert_eq!(
        must(store.poster_rank(STATS_H, UserId(1), days(0, 0)), "rank"),
        None
    );
    assert_eq!(
        must(store.chat_days(STATS_G, day(0), day(9)), "days"),
        days_before
    );
    assert_eq!(must(store.chat_hours(STATS_G), "hours"), hours_before);
    // Forgetting the whole user does the same in its transaction: b's rows go too.
    must(store.forget_user(UserId(2)), "forget user");
    assert_eq!(
        must(store.top_posters(STATS_G, days(0, 8), 10), "top"),
        vec![pc(3, 1)]
    );
    assert_eq!(must(store.active_members(STATS_H, days(0, 0)), "active"), 0);
    assert_eq!(
        must(store.chat_days(STATS_G, day(0), day(9)), "days"),
        days_before
    );
}

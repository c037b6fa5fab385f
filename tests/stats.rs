//! The statistics service on a real redb store, against the hand-computed fixture of the store
//! contract (`store::contract::stats_fixture`: two groups, three members, messages over days 0,
//! 1 and 8 at known UTC hours, of known kinds, with an edit, a service message, a join and a
//! redelivery). Every figure of `/stats`, `/me`, `/top` and the private `/stats` is asserted,
//! then again after the old messages are removed (retention): nothing changes.

use std::sync::Arc;
use tgbox::domain::{ChatId, Day, MessageKind, PosterRank, Timestamp, UserId};
use tgbox::service::stats::{
    GroupReport, GroupSummary, MemberChatReport, NamedCount, SERIES_DAYS, StatsService, TopPeriod,
};
use tgbox::store::contract::fixtures::T0;
use tgbox::store::contract::{STATS_DAY0, STATS_G, STATS_H, stats_at, stats_fixture};
use tgbox::store::redb::{RedbOptions, RedbStore};
use tgbox::store::{IngestSink, SharedStore};

/// Fixture day `day` at `hour`:05 UTC.
fn at(day: i64, hour: i64) -> Timestamp {
    Timestamp(T0 + stats_at(day, hour))
}

fn fixture_day(n: i64) -> Day {
    Day(STATS_DAY0 / 86_400 + n)
}

/// "Now" for the reports: fixture day 8 at noon.
fn now() -> Timestamp {
    at(8, 12)
}

fn store() -> (SharedStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path(), &RedbOptions::default()).unwrap();
    for batch in stats_fixture() {
        store.ingest(&batch).unwrap();
    }
    (Arc::new(store), dir)
}

fn named(user: u64, name: &str, messages: u64) -> NamedCount {
    NamedCount {
        user: UserId(user),
        name: name.into(),
        messages,
    }
}

fn expected_group_report() -> GroupReport {
    // 30 days ending on day 8: day -21 .. day 8; day 0 is index 21.
    let mut daily = vec![0; SERIES_DAYS];
    daily[21] = 5;
    daily[22] = 1;
    daily[29] = 2;
    let mut hours_of_day = vec![0; 24];
    hours_of_day[9] = 2;
    hours_of_day[10] = 4;
    hours_of_day[11] = 1;
    hours_of_day[22] = 1;
    GroupReport {
        chat: STATS_G,
        title: "G".into(),
        total_messages: 8,
        messages_7d: 2,
        messages_30d: 8,
        active_7d: 1,
        active_30d: 3,
        joins_30d: 1,
        leaves_30d: 0,
        daily,
        first_day: fixture_day(-21),
        hours_of_day,
        // 11h and 22h tie at one message: the earlier hour first.
        busiest_hours: vec![(10, 4), (9, 2), (11, 1)],
        // Tuesday (day 0: 5 messages) beats Wednesday (days 1 and 8: 3).
        busiest_weekday: Some((1, 5)),
        top_period: TopPeriod::Month,
        top: vec![named(1, "a", 4), named(2, "b", 3), named(3, "c", 1)],
        kinds: vec![
            (MessageKind::Text, 6),
            (MessageKind::Photo, 1),
            (MessageKind::Sticker, 1),
        ],
    }
}

/// Every report the service builds for the fixture, checked figure by figure.
fn assert_reports(service: &StatsService) {
    assert_eq!(
        service
            .group_report(STATS_G, TopPeriod::Month, now())
            .unwrap(),
        expected_group_report()
    );

    let week = service.top(STATS_G, TopPeriod::Week, now()).unwrap();
    assert_eq!(
        (week.top.clone(), week.posters),
        (vec![named(2, "b", 2)], 1)
    );
    let all = service.top(STATS_G, TopPeriod::AllTime, now()).unwrap();
    assert_eq!(
        (all.top.clone(), all.posters),
        (
            vec![named(1, "a", 4), named(2, "b", 3), named(3, "c", 1)],
            3
        )
    );
    // A week later the 30-day window still holds everything but the week holds nothing.
    let later = service
        .top(STATS_G, TopPeriod::Week, Timestamp(now().0 + 7 * 86_400))
        .unwrap();
    assert_eq!((later.top.len(), later.posters), (0, 0));
    // Two months later only all-time figures remain.
    let report = service
        .group_report(STATS_G, TopPeriod::Month, Timestamp(now().0 + 60 * 86_400))
        .unwrap();
    assert_eq!(
        (
            report.messages_30d,
            report.active_30d,
            report.total_messages
        ),
        (0, 0, 8)
    );
    assert!(report.top.is_empty());

    // /me of a, in private: both groups, most messages first.
    let me = service.member_report(UserId(1), None, now()).unwrap();
    assert_eq!(me.total_messages, 5);
    assert_eq!(me.more, 0);
    assert_eq!(
        me.chats,
        vec![
            MemberChatReport {
                chat: STATS_G,
                title: "G".into(),
                messages: 4,
                messages_30d: 4,
                rank: Some(PosterRank {
                    rank: 1,
                    of: 3,
                    messages: 4
                }),
                first_seen: at(0, 10),
                // The edit on day 8 is activity too (it does not count as a message).
                last_seen: at(8, 9),
            },
            MemberChatReport {
                chat: STATS_H,
                title: "H".into(),
                messages: 1,
                messages_30d: 1,
                // a and b posted once each in H: they share first place.
                rank: Some(PosterRank {
                    rank: 1,
                    of: 2,
                    messages: 1
                }),
                first_seen: at(0, 10),
                last_seen: at(0, 10),
            },
        ]
    );
    // /me of c in group H, where c never was: nothing (and nothing of G leaks).
    let me = service
        .member_report(UserId(3), Some(STATS_H), now())
        .unwrap();
    assert!(me.chats.is_empty());
    let me = service
        .member_report(UserId(3), Some(STATS_G), now())
        .unwrap();
    assert_eq!(me.chats.len(), 1);
    assert_eq!(
        me.chats[0].rank,
        Some(PosterRank {
            rank: 3,
            of: 3,
            messages: 1
        })
    );

    // Private /stats of b: G (busier this week) before H.
    let summary = service.groups_summary(UserId(2), now()).unwrap();
    assert_eq!(
        summary.groups,
        vec![
            GroupSummary {
                chat: STATS_G,
                title: "G".into(),
                total_messages: 8,
                messages_7d: 2,
                active_7d: 1,
                yours: 3,
            },
            GroupSummary {
                chat: STATS_H,
                title: "H".into(),
                total_messages: 3,
                messages_7d: 0,
                active_7d: 0,
                yours: 1,
            },
        ]
    );
    assert!(
        service
            .groups_summary(UserId(99), now())
            .unwrap()
            .groups
            .is_empty()
    );
    // A chat the store never saw: empty figures, no error.
    let empty = service
        .group_report(ChatId(-42), TopPeriod::Month, now())
        .unwrap();
    assert_eq!(empty.total_messages, 0);
    assert_eq!(empty.busiest_weekday, None);
    assert!(empty.busiest_hours.is_empty() && empty.kinds.is_empty());
}

#[test]
fn reports_match_the_hand_computed_fixture() {
    let (store, _dir) = store();
    assert_reports(&StatsService::new(store));
}

#[test]
fn reports_are_unchanged_after_old_messages_are_removed() {
    let (store, _dir) = store();
    // Retention: remove every message older than day 5 (all of days 0 and 1).
    let old = store
        .messages_older_than(fixture_day(5).start(), 1000)
        .unwrap();
    assert_eq!(old.len(), 11);
    assert_eq!(store.delete_messages(&old).unwrap(), 11);
    assert_eq!(store.messages_page(None, None, 100).unwrap().len(), 2);
    assert_reports(&StatsService::new(store));
}

#[test]
fn periods_parse_with_clear_errors() {
    assert_eq!(TopPeriod::parse(""), Ok(TopPeriod::Month));
    assert_eq!(TopPeriod::parse(" 7D "), Ok(TopPeriod::Week));
    assert_eq!(TopPeriod::parse("30d"), Ok(TopPeriod::Month));
    assert_eq!(TopPeriod::parse("ALL"), Ok(TopPeriod::AllTime));
    let err = TopPeriod::parse("5d").unwrap_err();
    assert_eq!(err.to_string(), "unknown period \"5d\": use 7d, 30d or all");
    let long = "x".repeat(500);
    assert_eq!(TopPeriod::parse(&long).unwrap_err().given.len(), 32);
}

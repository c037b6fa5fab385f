//! Access control and filters through the search service: nothing from another chat leaks, in a
//! group or in private.

use super::{cfg, store_in};
use std::sync::Arc;
use tgbox::domain::UpdateContent;
use tgbox::domain::{ChatId, UserId, UserProfile};
use tgbox::search::{SearchIndex, SortOrder, catch_up};
use tgbox::service::{Scope, SearchParams, SearchService, SearchServiceConfig, SearchServiceError};
use tgbox::store::contract::fixtures::{group, new_message, person, text, update};
use tgbox::store::{IngestSink, SharedStore};

struct World {
    service: SearchService,
    _dir: tempfile::TempDir,
}

const A: i64 = -1_001_000_000_001;
const B: i64 = -1_001_000_000_002;
const ALICE: u64 = 11; // in A
const BOB: u64 = 22; // in B
const CAROL: u64 = 33; // in A and B, then leaves B

fn named(id: u64, name: &str, username: &str) -> UserProfile {
    UserProfile {
        username: Some(username.to_string()),
        ..person(id, name)
    }
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir.path().join("data"));
    let (a, b) = (group(A, "Group A"), group(B, "Group B"));
    let (alice, bob, carol) = (
        named(ALICE, "Alice", "alice"),
        named(BOB, "Bob", "bob"),
        named(CAROL, "Carol", "carol"),
    );
    let day = 86_400;
    store
        .ingest(&[
            new_message(1, text(&a, Some(&alice), 1, 0, "secret plans in A")),
            new_message(2, text(&b, Some(&bob), 1, day, "secret plans in B")),
            new_message(
                3,
                text(&a, Some(&carol), 2, 2 * day, "carol says secret hello"),
            ),
            new_message(4, text(&b, Some(&carol), 2, 3 * day, "carol in B secret")),
        ])
        .unwrap();
    let mut left = tgbox::store::contract::fixtures::text(&b, None, 3, 4 * day, "");
    left.kind = tgbox::domain::MessageKind::MemberLeft;
    left.left = Some(carol.clone());
    store.ingest(&[new_message(5, left)]).unwrap();
    // A private chat with the bot is archived too, but never searched.
    let private = tgbox::domain::ChatProfile {
        id: ChatId(ALICE as i64),
        kind: tgbox::domain::ChatKind::Private,
        title: None,
        username: None,
        is_forum: false,
    };
    store
        .ingest(&[
            new_message(
                6,
                text(&private, Some(&alice), 1, 5 * day, "a secret for the bot"),
            ),
            update(7, UpdateContent::Ignored { kind: "x".into() }),
        ])
        .unwrap();
    let index = Arc::new(SearchIndex::open(&dir.path().join("search")).unwrap());
    catch_up(&index, &*store, &cfg()).unwrap();
    let shared: SharedStore = store;
    let service = SearchService::new(
        shared,
        index,
        SearchServiceConfig {
            page_size: 2,
            rate_burst: 3,
            rate_per_minute: 1,
            ..SearchServiceConfig::default()
        },
    );
    World { service, _dir: dir }
}

fn search(w: &World, q: &str, scope: Scope) -> Result<Vec<(i64, i32)>, SearchServiceError> {
    let mut out = Vec::new();
    let mut page = 0;
    loop {
        let p = w.service.search(&SearchParams {
            query: q,
            scope,
            requester: None,
            page,
            order: SortOrder::Newest,
        })?;
        out.extend(p.hits.iter().map(|h| (h.chat_id.0, h.message_id.0)));
        page += 1;
        if page >= p.pages {
            return Ok(out);
        }
    }
}

#[test]
fn a_group_sees_only_itself() {
    let w = world();
    assert_eq!(
        search(&w, "secret", Scope::Group(ChatId(A))).unwrap(),
        [(A, 2), (A, 1)]
    );
    assert_eq!(
        search(&w, "secret", Scope::Group(ChatId(B))).unwrap(),
        [(B, 2), (B, 1)]
    );
    // in: cannot reach another chat from a group, whether it exists or not.
    for other in [format!("secret in:{B}"), "secret in:@nope".to_string()] {
        assert!(matches!(
            search(&w, &other, Scope::Group(ChatId(A))),
            Err(SearchServiceError::OtherChatInGroup)
        ));
    }
    assert_eq!(
        search(&w, &format!("secret in:{A}"), Scope::Group(ChatId(A)))
            .unwrap()
            .len(),
        2
    );
    // from: a user of another chat finds nothing here.
    assert!(
        search(&w, "secret from:@bob", Scope::Group(ChatId(A)))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn private_search_covers_the_users_active_groups_only() {
    let w = world();
    assert_eq!(
        search(&w, "secret", Scope::Member(UserId(ALICE))).unwrap(),
        [(A, 2), (A, 1)],
        "Alice: group A only, never her private chat with the bot"
    );
    assert_eq!(
        search(&w, "secret", Scope::Member(UserId(BOB))).unwrap(),
        [(B, 2), (B, 1)]
    );
    // Carol left B: only A remains.
    assert_eq!(
        search(&w, "secret", Scope::Member(UserId(CAROL))).unwrap(),
        [(A, 2), (A, 1)]
    );
    // Naming B does not help, and sounds the same as naming a chat that does not exist.
    let to_b = search(&w, &format!("secret in:{B}"), Scope::Member(UserId(ALICE)));
    let to_nothing = search(&w, "secret in:-100999", Scope::Member(UserId(ALICE)));
    assert!(matches!(to_b, Err(SearchServiceError::NotAMember)));
    assert!(matches!(to_nothing, Err(SearchServiceError::NotAMember)));
    // A stranger sees nothing at all.
    assert!(
        search(&w, "secret", Scope::Member(UserId(999)))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn filters_and_the_dashboard_scope() {
    let w = world();
    // The owner sees every chat, the private ones with the bot included.
    assert_eq!(search(&w, "secret", Scope::All).unwrap().len(), 5);
    assert_eq!(
        search(&w, "secret from:@CAROL", Scope::All).unwrap(),
        [(B, 2), (A, 2)]
    );
    assert_eq!(
        search(&w, &format!("from:{BOB}"), Scope::All).unwrap(),
        [(B, 1)]
    );
    assert!(
        search(&w, "secret from:@nobody", Scope::All)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        search(&w, "secret after:2023-11-15 before:2023-11-18", Scope::All).unwrap(),
        [(B, 2), (A, 2)],
        "T0 is 2023-11-14 22:13 UTC; after: starts the next day"
    );
    assert_eq!(
        search(&w, "secret before:2023-11-16", Scope::All).unwrap(),
        [(B, 1), (A, 1)]
    );
    assert_eq!(
        search(&w, &format!("secret in:{B}"), Scope::All)
            .unwrap()
            .len(),
        2
    );
    assert!(matches!(
        search(&w, "secret in:@unknown_chat", Scope::All),
        Err(SearchServiceError::UnknownChat(_))
    ));
}

#[test]
fn results_carry_author_snippet_link_and_paging() {
    let w = world();
    let p = w
        .service
        .search(&SearchParams {
            query: "secret -hello",
            scope: Scope::Member(UserId(CAROL)),
            requester: None,
            page: 0,
            order: SortOrder::BestMatch,
        })
        .unwrap();
    assert_eq!((p.total, p.pages, p.page_size), (1, 1, 2));
    assert_eq!(p.understood, "secret -hello");
    let hit = &p.hits[0];
    assert_eq!(hit.author, "Alice");
    assert_eq!(hit.chat_title.as_deref(), Some("Group A"));
    assert_eq!(hit.link.as_deref(), Some("https://t.me/c/1000000001/1"));
    let s = &hit.snippet;
    assert_eq!(&s.text[s.highlights[0].clone()], "secret");
    // A page past the end is empty but keeps the totals.
    let past = w
        .service
        .search(&SearchParams {
            query: "secret",
            scope: Scope::All,
            requester: None,
            page: 5,
            order: SortOrder::Newest,
        })
        .unwrap();
    assert!(past.hits.is_empty());
    assert_eq!(past.total, 5);
}

#[test]
fn rate_limit_is_per_user_and_polite() {
    let w = world();
    let ask = |user: u64| {
        w.service.search(&SearchParams {
            query: "secret",
            scope: Scope::Member(UserId(user)),
            requester: Some(UserId(user)),
            page: 0,
            order: SortOrder::Newest,
        })
    };
    for _ in 0..3 {
        ask(ALICE).unwrap();
    }
    let err = ask(ALICE).unwrap_err();
    assert!(matches!(err, SearchServiceError::RateLimited { .. }));
    assert!(err.is_user_error());
    assert!(err.to_string().contains("try again"), "{err}");
    ask(BOB).unwrap();
    // A malformed query is explained, not an error dump.
    let bad = w.service.search(&SearchParams {
        query: "\"unclosed",
        scope: Scope::All,
        requester: None,
        page: 0,
        order: SortOrder::Newest,
    });
    let bad = bad.unwrap_err();
    assert!(bad.is_user_error());
    assert!(bad.to_string().contains("quote"), "{bad}");
}

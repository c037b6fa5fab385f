//! Schema upgrades: a data directory written by the first schema (a checked-in fixture) opens
//! with the current build, is migrated to the current schema and reads back; a directory from a
//! newer tgbox is refused with a clear message.
//!
//! The fixture `tests/fixtures/schema-v1/tgbox.redb` was written by schema version 1 with
//! `cargo test --test schema_upgrade -- --ignored write_schema_v1_fixture` (do not regenerate it
//! with a newer schema: it stands for data written by an old tgbox).

use std::path::{Path, PathBuf};
use std::process::Command;
use tgbox::domain::{BotIdentity, ChatId, MessageId, UpdateContent, UserId};
use tgbox::store::contract::fixtures::{edit, group, new_message, person, text, update};
use tgbox::store::redb::{FILE_NAME, RedbOptions, RedbStore};
use tgbox::store::{
    ChatRepo, IngestSink, MessageRepo, MetaRepo, SCHEMA_VERSION, StatsRepo, UserRepo,
};

const FIXTURE_BOT: u64 = 7_000_000_001;
const RUST: i64 = -1_001_000_000_001;
const PERSIAN: i64 = -1_001_000_000_002;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema-v1")
}

/// The updates the fixture holds: 3 users, 2 groups, 7 messages (a join among them, one edited).
fn fixture_updates() -> Vec<tgbox::domain::IncomingUpdate> {
    let rust = group(RUST, "Rust Learners");
    let fa = group(PERSIAN, "کتاب‌خوان‌ها");
    let ann = person(1001, "Ann");
    let reza = person(1002, "Reza");
    let mina = person(1003, "Mina");
    let mut joined = text(&rust, Some(&mina), 1, 0, "");
    joined.kind = tgbox::domain::MessageKind::MembersJoined;
    joined.joined = vec![mina.clone()];
    vec![
        new_message(101, text(&rust, Some(&ann), 2, 10, "hello from schema one")),
        new_message(
            102,
            text(&rust, Some(&reza), 3, 20, "borrow checker question"),
        ),
        new_message(103, joined),
        new_message(104, text(&fa, Some(&reza), 1, 30, "سلام، کتاب خوبی بود")),
        new_message(105, text(&fa, Some(&mina), 2, 40, "می‌خوانم")),
        new_message(106, text(&rust, Some(&mina), 4, 50, "lifetimes!")),
        edit(
            107,
            text(
                &rust,
                Some(&reza),
                3,
                20,
                "borrow checker question (edited)",
            ),
        ),
        new_message(108, text(&fa, Some(&ann), 3, 60, "📚 ۱۲۳")),
        update(
            109,
            UpdateContent::Ignored {
                kind: "poll_answer".into(),
            },
        ),
    ]
}

fn copy_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture_dir().join(FILE_NAME), dir.path().join(FILE_NAME))
        .expect("the schema-v1 fixture is checked in");
    dir
}

#[test]
fn a_schema_v1_data_directory_opens_migrates_and_reads_back() {
    let dir = copy_fixture();
    let store = RedbStore::open(dir.path(), &RedbOptions::default()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let counts = store.counts().unwrap();
    assert_eq!(counts.users, 3, "{counts:?}");
    assert_eq!(counts.chats, 2, "{counts:?}");
    assert_eq!(counts.messages, 7, "{counts:?}");
    assert_eq!(counts.members, 6, "{counts:?}");
    assert_eq!(store.last_update_id().unwrap().map(|u| u.0), Some(109));
    assert_eq!(
        store.bot_identity().unwrap(),
        Some(BotIdentity {
            bot_id: FIXTURE_BOT,
            username: "tgbox_sim_bot".into()
        })
    );
    let edited = store.message(ChatId(RUST), MessageId(3)).unwrap().unwrap();
    assert_eq!(edited.text, "borrow checker question (edited)");
    let persian = store
        .message(ChatId(PERSIAN), MessageId(1))
        .unwrap()
        .unwrap();
    assert_eq!(persian.text, "سلام، کتاب خوبی بود");
    assert_eq!(persian.user_id, Some(UserId(1002)));
    assert_eq!(store.user(UserId(1002)).unwrap().unwrap().message_count, 2);
    assert_eq!(store.chats_of_user(UserId(1003)).unwrap().len(), 2);
    // The migrated store takes new updates and skips old ones.
    let more = vec![
        new_message(
            110,
            text(&group(RUST, "Rust Learners"), None, 5, 70, "after upgrade"),
        ),
        new_message(
            101,
            text(&group(RUST, "Rust Learners"), None, 2, 10, "redelivered"),
        ),
    ];
    let outcome = store.ingest(&more).unwrap();
    assert_eq!(outcome.applied.len(), 1);
    assert_eq!(outcome.duplicates, 1);
    drop(store);
    // And opens again without migrating anything.
    let store = RedbStore::open(dir.path(), &RedbOptions::default()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.counts().unwrap().messages, 8);
}

/// Every statistic of `chat` the store answers, for comparing two stores.
fn stats_of(store: &RedbStore, chat: i64) -> String {
    use tgbox::domain::{Day, StatsPeriod};
    let chat = ChatId(chat);
    let (from, to) = (Day(0), Day(100_000));
    let period = StatsPeriod::Days { from, to };
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        store.chat_days(chat, from, to).unwrap(),
        store.chat_hours(chat).unwrap(),
        store.chat_kinds(chat).unwrap(),
        store.top_posters(chat, period, 10).unwrap(),
        store.top_posters(chat, StatsPeriod::AllTime, 10).unwrap(),
        store.active_members(chat, period).unwrap(),
    )
}

/// The v2 -> v3 migration fills the statistics counters from the stored messages: the migrated
/// fixture answers exactly what a current store that ingested the same updates answers.
#[test]
fn migration_backfills_the_statistics_counters() {
    let dir = copy_fixture();
    let migrated = RedbStore::open(dir.path(), &RedbOptions::default()).unwrap();
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = RedbStore::open(fresh_dir.path(), &RedbOptions::default()).unwrap();
    fresh.ingest(&fixture_updates()).unwrap();
    for chat in [RUST, PERSIAN] {
        assert_eq!(stats_of(&migrated, chat), stats_of(&fresh, chat));
    }
    // Hand-computed: the Rust group has 3 posts by 3 members and a join, all on one day.
    let day = tgbox::domain::Day::of(tgbox::domain::Timestamp(
        tgbox::store::contract::fixtures::T0,
    ));
    let days = migrated.chat_days(ChatId(RUST), day, day).unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(
        (days[0].messages, days[0].active_members, days[0].joins),
        (3, 3, 1)
    );
    assert_eq!(
        migrated
            .chat_hours(ChatId(RUST))
            .unwrap()
            .iter()
            .sum::<u64>(),
        3
    );
}

#[test]
fn stats_refuses_a_newer_schema_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = RedbStore::open(dir.path(), &RedbOptions::default()).unwrap();
        store
            .set_schema_version_for_test(SCHEMA_VERSION + 1)
            .unwrap();
        store.close().unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tgbox"))
        .args(["stats", "--data"])
        .arg(dir.path())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("schema version {}", SCHEMA_VERSION + 1))
            && err.contains("newer than this tgbox understands")
            && err.contains("upgrade tgbox"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // Refusing did not touch the file: it still says the newer version.
    let reopened = RedbStore::open(dir.path(), &RedbOptions::default());
    assert!(reopened.is_err());
}

/// Writes the fixture. Run only with schema version 1 (see the module comment).
#[test]
#[ignore = "writes tests/fixtures/schema-v1; run by hand with schema version 1 only"]
fn write_schema_v1_fixture() {
    assert_eq!(
        SCHEMA_VERSION, 1,
        "the fixture must be written by schema version 1"
    );
    let dir = fixture_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(dir.join(FILE_NAME));
    let options = RedbOptions {
        cache_bytes: 1 << 20,
    };
    let store = RedbStore::open(&dir, &options).unwrap();
    store
        .bind_bot(
            &BotIdentity {
                bot_id: FIXTURE_BOT,
                username: "tgbox_sim_bot".into(),
            },
            false,
        )
        .unwrap();
    store.ingest(&fixture_updates()).unwrap();
    store.close().unwrap();
}

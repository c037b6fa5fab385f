//! The backend-neutral store contract: what every backend must do, written once.
//!
//! Each case is a `pub fn case(store: &dyn Store)` that starts from an empty store and panics on
//! a violation. A backend's test file runs all of them, one `#[test]` per case:
//!
//! ```ignore
//! fn fresh() -> (tgbox::store::SharedStore, Box<dyn std::any::Any>) { /* store + temp dir */ }
//! mod contract {
//!     tgbox::store_contract_tests!(super::fresh);
//! }
//! ```
//!
//! or, in one test, [`run_all`]. Compiled in normal builds (not `cfg(test)`) so that integration
//! tests and every backend can use it.
#![doc(hidden)]

mod broadcast_cases;
pub mod fixtures;
mod forget_cases;
mod ingest_cases;
mod kv_cases;
mod lookup_cases;
mod maintenance_cases;
mod purge_cases;
mod read_cases;
mod retention_cases;
mod stats_cases;
mod update_cases;
mod view_cases;

pub use broadcast_cases::*;
pub use forget_cases::*;
pub use ingest_cases::*;
pub use kv_cases::*;
pub use lookup_cases::*;
pub use maintenance_cases::*;
pub use purge_cases::*;
pub use read_cases::*;
pub use retention_cases::*;
pub use stats_cases::*;
pub use update_cases::*;
pub use view_cases::*;

use crate::store::{SharedStore, Store, StoreResult};
use std::any::Any;

/// A contract case: panics when `store` breaks the contract.
pub type Case = fn(&dyn Store);

/// Every case, by name.
pub const CASES: &[(&str, Case)] = &[
    ("fresh_store_is_empty", fresh_store_is_empty),
    ("empty_batch_is_fine", empty_batch_is_fine),
    ("insert_and_read_back", insert_and_read_back),
    ("counters_and_last_activity", counters_and_last_activity),
    (
        "users_by_activity_order_without_stale_rows",
        users_by_activity_order_without_stale_rows,
    ),
    (
        "edit_replaces_text_and_does_not_count",
        edit_replaces_text_and_does_not_count,
    ),
    (
        "edit_of_unknown_message_inserts",
        edit_of_unknown_message_inserts,
    ),
    (
        "redelivered_updates_are_skipped",
        redelivered_updates_are_skipped,
    ),
    ("redelivery_window", redelivery_window),
    (
        "natural_key_duplicate_not_double_counted",
        natural_key_duplicate_not_double_counted,
    ),
    ("joins_and_leaves", joins_and_leaves),
    ("channel_post_without_user", channel_post_without_user),
    ("private_chat_is_stored", private_chat_is_stored),
    ("quarantine_stored_verbatim", quarantine_stored_verbatim),
    (
        "ignored_update_moves_only_the_offset",
        ignored_update_moves_only_the_offset,
    ),
    (
        "interaction_refreshes_profile",
        interaction_refreshes_profile,
    ),
    (
        "huge_text_clamped_on_char_boundary",
        huge_text_clamped_on_char_boundary,
    ),
    ("odd_unicode_roundtrips", odd_unicode_roundtrips),
    (
        "messages_page_by_chat_and_all",
        messages_page_by_chat_and_all,
    ),
    (
        "messages_by_user_newest_first",
        messages_by_user_newest_first,
    ),
    (
        "messages_older_than_oldest_first",
        messages_older_than_oldest_first,
    ),
    ("chats_of_user_ascending", chats_of_user_ascending),
    ("outbox_sequence_and_prune", outbox_sequence_and_prune),
    ("bind_bot_same_foreign_force", bind_bot_same_foreign_force),
    ("counts_after_mixed_batches", counts_after_mixed_batches),
    ("members_of_chat_ascending", members_of_chat_ascending),
    ("recent_messages_newest_first", recent_messages_newest_first),
    (
        "user_by_username_follows_renames",
        user_by_username_follows_renames,
    ),
    ("outbox_head_never_decreases", outbox_head_never_decreases),
    ("table_stats_match_counts", table_stats_match_counts),
    ("kv_set_get_del_roundtrip", kv_set_get_del_roundtrip),
    (
        "kv_expiry_is_immediate_and_swept",
        kv_expiry_is_immediate_and_swept,
    ),
    ("kv_expire_and_persist", kv_expire_and_persist),
    (
        "kv_incr_counts_and_keeps_expiry",
        kv_incr_counts_and_keeps_expiry,
    ),
    ("kv_scan_prefix_in_key_order", kv_scan_prefix_in_key_order),
    (
        "settings_roundtrip_and_announcement_index",
        settings_roundtrip_and_announcement_index,
    ),
    (
        "delete_messages_removes_rows_and_index_rows",
        delete_messages_removes_rows_and_index_rows,
    ),
    (
        "broadcast_jobs_and_transitions",
        broadcast_jobs_and_transitions,
    ),
    (
        "broadcast_claim_is_at_most_once",
        broadcast_claim_is_at_most_once,
    ),
    (
        "broadcast_recovery_marks_in_flight_uncertain",
        broadcast_recovery_marks_in_flight_uncertain,
    ),
    ("compaction_keeps_every_row", compaction_keeps_every_row),
    (
        "consistency_check_clean_and_rebuild_is_invisible",
        consistency_check_clean_and_rebuild_is_invisible,
    ),
    ("last_maintenance_round_trips", last_maintenance_round_trips),
    ("backup_stream_is_complete", backup_stream_is_complete),
    (
        "chat_retention_override_survives_ingest",
        chat_retention_override_survives_ingest,
    ),
    (
        "messages_by_time_cursor_steps_past_kept_rows",
        messages_by_time_cursor_steps_past_kept_rows,
    ),
    (
        "forget_user_removes_rows_and_index_rows",
        forget_user_removes_rows_and_index_rows,
    ),
    (
        "forget_unknown_user_is_a_no_op",
        forget_unknown_user_is_a_no_op,
    ),
    (
        "forget_user_removes_broadcast_rows",
        forget_user_removes_broadcast_rows,
    ),
    (
        "stats_counters_match_the_fixture",
        stats_counters_match_the_fixture,
    ),
    (
        "stats_survive_message_removal",
        stats_survive_message_removal,
    ),
    (
        "stats_forget_user_keeps_chat_counters",
        stats_forget_user_keeps_chat_counters,
    ),
];

/// Run every case, each on a fresh store from `factory` (the `Box` keeps whatever the store
/// needs alive, such as a temp dir, until the case is done).
pub fn run_all(factory: &dyn Fn() -> (SharedStore, Box<dyn Any>)) {
    for (name, case) in CASES {
        let (store, guard) = factory();
        tracing::info!(
            case = name,
            backend = store.backend_name(),
            "store contract case"
        );
        case(&*store);
        drop(store);
        drop(guard);
    }
}

/// Unwrap a store result in a case, naming the operation on failure.
#[track_caller]
pub(crate) fn must<T>(result: StoreResult<T>, what: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("{what} failed: {e}"),
    }
}

/// One `#[test]` per contract case against the store made by `$factory`, a path to (or
/// expression of type) `fn() -> (SharedStore, Box<dyn Any>)`. Invoke it inside its own module.
#[macro_export]
macro_rules! store_contract_tests {
    ($factory:expr) => {
        $crate::store_contract_tests!(@cases $factory;
            fresh_store_is_empty,
            empty_batch_is_fine,
            insert_and_read_back,
            counters_and_last_activity,
            users_by_activity_order_without_stale_rows,
            edit_replaces_text_and_does_not_count,
            edit_of_unknown_message_inserts,
            redelivered_updates_are_skipped,
            redelivery_window,
            natural_key_duplicate_not_double_counted,
            joins_and_leaves,
            channel_post_without_user,
            private_chat_is_stored,
            quarantine_stored_verbatim,
            ignored_update_moves_only_the_offset,
            interaction_refreshes_profile,
            huge_text_clamped_on_char_boundary,
            odd_unicode_roundtrips,
            messages_page_by_chat_and_all,
            messages_by_user_newest_first,
            messages_older_than_oldest_first,
            chats_of_user_ascending,
            outbox_sequence_and_prune,
            bind_bot_same_foreign_force,
            counts_after_mixed_batches,
            members_of_chat_ascending,
            recent_messages_newest_first,
            user_by_username_follows_renames,
            outbox_head_never_decreases,
            table_stats_match_counts,
            kv_set_get_del_roundtrip,
            kv_expiry_is_immediate_and_swept,
            kv_expire_and_persist,
            kv_incr_counts_and_keeps_expiry,
            kv_scan_prefix_in_key_order,
            settings_roundtrip_and_announcement_index,
            delete_messages_removes_rows_and_index_rows,
            broadcast_jobs_and_transitions,
            broadcast_claim_is_at_most_once,
            broadcast_recovery_marks_in_flight_uncertain,
            compaction_keeps_every_row,
            consistency_check_clean_and_rebuild_is_invisible,
            last_maintenance_round_trips,
            backup_stream_is_complete,
            chat_retention_override_survives_ingest,
            messages_by_time_cursor_steps_past_kept_rows,
            forget_user_removes_rows_and_index_rows,
            forget_unknown_user_is_a_no_op,
            forget_user_removes_broadcast_rows,
            stats_counters_match_the_fixture,
            stats_survive_message_removal,
            stats_forget_user_keeps_chat_counters,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let (store, guard) = ($factory)();
                $crate::store::contract::$case(&*store);
                drop(store);
                drop(guard);
            }
        )*

        /// The macro's list and `CASES` must name the same cases.
        #[test]
        fn contract_macro_lists_every_case() {
            let generated: &[&str] = &[$(stringify!($case)),*];
            let known: Vec<&str> = $crate::store::contract::CASES.iter().map(|(n, _)| *n).collect();
            assert_eq!(generated, known.as_slice());
        }
    };
}

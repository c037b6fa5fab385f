//! Records of the broadcast tables: one version byte + postcard of a private `*V1` shape, like
//! `codec`. Bad bytes decode to [`StoreError::Corrupt`](crate::store::StoreError::Corrupt).

use super::codec::{V1, bad_enum, body, encode, split, unknown_version};
use crate::domain::{
    Audience, BroadcastCounts, BroadcastId, BroadcastJob, ChatId, JobState, RecipientStatus,
};
use crate::store::StoreResult;
use serde::{Deserialize, Serialize};

const JOBS: &str = "broadcast_jobs";
const RECIPIENTS: &str = "broadcast_recipients";

#[derive(Serialize, Deserialize)]
struct JobV1 {
    html: String,
    audience_kind: u8,
    audience_arg: i64,
    state: u8,
    created_ms: i64,
    started_ms: Option<i64>,
    finished_ms: Option<i64>,
    active_ms: u64,
    running_since_ms: Option<i64>,
    counts: [u64; 7],
}

fn state_to_u8(s: JobState) -> u8 {
    match s {
        JobState::Queued => 0,
        JobState::Running => 1,
        JobState::Paused => 2,
        JobState::Cancelled => 3,
        JobState::Done => 4,
    }
}

fn state_from_u8(n: u8) -> Option<JobState> {
    Some(match n {
        0 => JobState::Queued,
        1 => JobState::Running,
        2 => JobState::Paused,
        3 => JobState::Cancelled,
        4 => JobState::Done,
        _ => return None,
    })
}

pub(crate) fn encode_job(j: &BroadcastJob) -> StoreResult<Vec<u8>> {
    let (audience_kind, audience_arg) = match &j.audience {
        Audience::Announcements => (0, 0),
        Audience::ActiveWithin { days } => (1, i64::from(*days)),
        Audience::MembersOf { chat } => (2, chat.0),
    };
    let c = &j.counts;
    let rec = JobV1 {
        html: j.html.clone(),
        audience_kind,
        audience_arg,
        state: state_to_u8(j.state),
        created_ms: j.created_ms,
        started_ms: j.started_ms,
        finished_ms: j.finished_ms,
        active_ms: j.active_ms,
        running_since_ms: j.running_since_ms,
        counts: [
            c.pending,
            c.in_flight,
            c.sent,
            c.failed,
            c.blocked,
            c.uncertain,
            c.skipped_blocked,
        ],
    };
    encode(JOBS, V1, &rec)
}

pub(crate) fn decode_job(id: u64, bytes: &[u8]) -> StoreResult<BroadcastJob> {
    let (version, rest) = split(JOBS, bytes)?;
    if version != V1 {
        return Err(unknown_version(JOBS, version));
    }
    let r: JobV1 = body(JOBS, rest)?;
    let audience = match r.audience_kind {
        0 => Audience::Announcements,
        1 => Audience::ActiveWithin {
            days: u32::try_from(r.audience_arg).map_err(|_| bad_enum(JOBS, "day count", 255))?,
        },
        2 => Audience::MembersOf {
            chat: ChatId(r.audience_arg),
        },
        n => return Err(bad_enum(JOBS, "audience kind", n)),
    };
    let state = state_from_u8(r.state).ok_or_else(|| bad_enum(JOBS, "job state", r.state))?;
    let [
        pending,
        in_flight,
        sent,
        failed,
        blocked,
        uncertain,
        skipped_blocked,
    ] = r.counts;
    Ok(BroadcastJob {
        id: BroadcastId(id),
        html: r.html,
        audience,
        state,
        created_ms: r.created_ms,
        started_ms: r.started_ms,
        finished_ms: r.finished_ms,
        active_ms: r.active_ms,
        running_since_ms: r.running_since_ms,
        counts: BroadcastCounts {
            pending,
            in_flight,
            sent,
            failed,
            blocked,
            uncertain,
            skipped_blocked,
        },
    })
}

#[derive(Serialize, Deserialize)]
struct RecipientV1 {
    status: u8,
    reason: Option<String>,
}

pub(crate) fn encode_status(s: &RecipientStatus) -> StoreResult<Vec<u8>> {
    let (status, reason) = match s {
        RecipientStatus::Pending => (0, None),
        RecipientStatus::InFlight => (1, None),
        RecipientStatus::Sent => (2, None),
        RecipientStatus::Failed(r) => (3, Some(r.clone())),
        RecipientStatus::Blocked => (4, None),
        RecipientStatus::Uncertain => (5, None),
    };
    encode(RECIPIENTS, V1, &RecipientV1 { status, reason })
}

pub(crate) fn decode_status(bytes: &[u8]) -> StoreResult<RecipientStatus> {
    let (version, rest) = split(RECIPIENTS, bytes)?;
    if version != V1 {
        return Err(unknown_version(RECIPIENTS, version));
    }
    let r: RecipientV1 = body(RECIPIENTS, rest)?;
    Ok(match r.status {
        0 => RecipientStatus::Pending,
        1 => RecipientStatus::InFlight,
        2 => RecipientStatus::Sent,
        3 => RecipientStatus::Failed(r.reason.unwrap_or_default()),
        4 => RecipientStatus::Blocked,
        5 => RecipientStatus::Uncertain,
        n => return Err(bad_enum(RECIPIENTS, "recipient status", n)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    #[test]
    fn roundtrip_and_garbage() {
        let job = BroadcastJob {
            id: BroadcastId(3),
            html: "<b>hi</b>".into(),
            audience: Audience::MembersOf { chat: ChatId(-100) },
            state: JobState::Paused,
            created_ms: 1,
            started_ms: Some(2),
            finished_ms: None,
            active_ms: 5,
            running_since_ms: None,
            counts: BroadcastCounts {
                pending: 1,
                sent: 2,
                ..Default::default()
            },
        };
        let bytes = encode_job(&job).unwrap();
        assert_eq!(decode_job(3, &bytes).unwrap(), job);
        let s = RecipientStatus::Failed("400: chat not found".into());
        assert_eq!(decode_status(&encode_status(&s).unwrap()).unwrap(), s);
        for bad in [&[][..], &[9, 0][..], &[1, 9, 0][..], &[1, 2, 0, 7][..]] {
            assert!(matches!(
                decode_status(bad),
                Err(StoreError::Corrupt { .. })
            ));
        }
        let mut bad = bytes.clone();
        bad.truncate(bytes.len() - 2);
        assert!(matches!(
            decode_job(3, &bad),
            Err(StoreError::Corrupt { .. })
        ));
    }
}

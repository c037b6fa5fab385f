//! Statistics as plain values: days, hours of the week, per-day figures and poster counts.
//!
//! Every statistic is kept as a counter at ingest (see the store's `StatsRepo`), so these values
//! describe what was said, not what is still stored: retention and message removal do not lower
//! them. Days and hours are UTC.

use super::ids::{Timestamp, UserId};

const SECS_PER_DAY: i64 = 86_400;

/// A UTC calendar day: days since 1970-01-01.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// The UTC day `ts` falls in.
    pub fn of(ts: Timestamp) -> Day {
        Day(ts.0.div_euclid(SECS_PER_DAY))
    }

    /// The day `n` days before this one.
    pub fn minus(self, n: i64) -> Day {
        Day(self.0.saturating_sub(n))
    }

    /// Midnight UTC at the start of the day.
    pub fn start(self) -> Timestamp {
        Timestamp(self.0.saturating_mul(SECS_PER_DAY))
    }

    /// `YYYY-MM-DD`, or the raw number for a day out of chrono's range.
    pub fn iso(self) -> String {
        match chrono::DateTime::from_timestamp(self.start().0, 0) {
            Some(d) => d.format("%Y-%m-%d").to_string(),
            None => self.0.to_string(),
        }
    }
}

/// Number of hour-of-week buckets.
pub const HOURS_PER_WEEK: usize = 168;

/// The UTC hour of the week `ts` falls in: 0 is Monday 00:00-01:00 UTC, 167 is Sunday 23:00.
pub fn hour_of_week(ts: Timestamp) -> u8 {
    let day = ts.0.div_euclid(SECS_PER_DAY);
    // 1970-01-01 was a Thursday (weekday 3 counting from Monday = 0).
    let weekday = (day + 3).rem_euclid(7);
    let hour = ts.0.rem_euclid(SECS_PER_DAY) / 3_600;
    // weekday < 7 and hour < 24, so the bucket is below 168.
    (weekday * 24 + hour) as u8
}

/// Counters of one chat on one UTC day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChatDay {
    pub day: Day,
    /// Messages posted (service messages are not counted; edits do not count again).
    pub messages: u64,
    /// Distinct members who posted that day.
    pub active_members: u64,
    /// Members who joined (service messages announcing them).
    pub joins: u64,
    /// Members who left.
    pub leaves: u64,
}

/// The period a ranking covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsPeriod {
    /// The UTC days `from..=to`.
    Days { from: Day, to: Day },
    /// Everything ever counted.
    AllTime,
}

impl StatsPeriod {
    /// The last `n` UTC days up to and including `today`.
    pub fn last_days(today: Day, n: i64) -> StatsPeriod {
        StatsPeriod::Days {
            from: today.minus(n.saturating_sub(1)),
            to: today,
        }
    }
}

/// How many messages one member posted in a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PosterCount {
    pub user: UserId,
    pub messages: u64,
}

/// A member's place among a chat's posters in a period: `rank` 1 is the most active; members
/// with equal counts share a rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PosterRank {
    pub rank: u64,
    /// How many members posted in the period.
    pub of: u64,
    pub messages: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_hours_are_utc() {
        // 1970-01-01 00:00 UTC was a Thursday.
        assert_eq!(hour_of_week(Timestamp(0)), 3 * 24);
        // 2023-11-14 22:13:20 UTC (1_700_000_000) was a Tuesday.
        assert_eq!(hour_of_week(Timestamp(1_700_000_000)), 24 + 22);
        assert_eq!(Day::of(Timestamp(1_700_000_000)).iso(), "2023-11-14");
        // Before the epoch: still a valid bucket and day.
        assert_eq!(Day::of(Timestamp(-1)), Day(-1));
        assert_eq!(hour_of_week(Timestamp(-1)), 2 * 24 + 23);
        assert!(usize::from(hour_of_week(Timestamp(i64::MAX))) < HOURS_PER_WEEK);
        assert!(usize::from(hour_of_week(Timestamp(i64::MIN))) < HOURS_PER_WEEK);
        assert_eq!(
            StatsPeriod::last_days(Day(100), 7),
            StatsPeriod::Days {
                from: Day(94),
                to: Day(100)
            }
        );
    }
}

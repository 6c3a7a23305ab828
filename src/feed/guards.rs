//! The checks that stand between the feeds and a published list: per-feed
//! sanity (bad-line share, emptiness, age) and list-wide guards
//! (`min_entries`, `max_shrink_percent`). Pure: no I/O. A list over
//! GuardDuty's quotas is not refused: [`split`](super::split) cuts it in parts.
//!
//! Every check returns a value that says by how much it failed, so that the
//! message can tell the operator what to look at.

use super::parse::{FileDate, Parsed, Reject};

/// GuardDuty's limit on a list file, 35 MB; also the download cap of a feed
/// (and [`split::MAX_BYTES`](super::split::MAX_BYTES), the cap on a part).
/// Counted in decimal megabytes, the stricter reading of the quota.
/// <https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_limits.html>
pub const MAX_LIST_BYTES: u64 = 35_000_000;

/// A feed whose bad lines exceed this share of its data lines is refused:
/// it is broken (an HTML error page, a changed format), not merely sloppy.
pub(crate) const MAX_REJECT_PERCENT: u64 = 1;

/// A list-wide guard that refused the list.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Tripped {
    /// Fewer entries than `threat_list.min_entries`.
    #[error(
        "guard min_entries tripped: the list has {entries} entries, {} fewer than the minimum of {min}",
        u64::from(*min) - entries
    )]
    MinEntries {
        /// Entries in the new list.
        entries: u64,
        /// The configured minimum.
        min: u32,
    },
    /// Shrank more than `threat_list.max_shrink_percent` since the last published list.
    #[error(
        "guard max_shrink_percent tripped: the list shrank by {shrink_percent:.1}% (from {previous} to {entries} entries), more than the {max}% allowed"
    )]
    MaxShrink {
        /// Entries in the last published list.
        previous: u64,
        /// Entries in the new list.
        entries: u64,
        /// How much it shrank, in percent.
        shrink_percent: f64,
        /// The configured maximum.
        max: u8,
    },
    /// A feed's header date is older than `threat_list.max_age_hours`.
    #[error(
        "guard max_age_hours tripped: feed {feed} ({url}) is dated {date}, {age_hours:.1} hours old, {:.1} hours over the {max}-hour limit",
        age_hours - f64::from(*max)
    )]
    MaxAge {
        /// The feed name.
        feed: String,
        /// The feed URL.
        url: String,
        /// The header date.
        date: FileDate,
        /// Its age at build time.
        age_hours: f64,
        /// The configured maximum.
        max: u32,
    },
}

/// Why one feed cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    /// Too many lines are not valid entries.
    #[error(
        "{rejected} of its {data_lines} data lines are not valid entries, more than the {MAX_REJECT_PERCENT}% allowed (first: {first})"
    )]
    TooManyRejects {
        /// Rejected lines.
        rejected: u64,
        /// Lines that were not comments or blank.
        data_lines: u64,
        /// The first rejected line.
        first: Reject,
    },
    /// Not a single IPv4 entry.
    #[error("it holds no IPv4 entry")]
    Empty,
}

/// Whether a parsed feed is usable: few enough bad lines, at least one entry.
pub fn check_feed(parsed: &Parsed) -> Result<(), Unusable> {
    if parsed.rejected * 100 > parsed.data_lines() * MAX_REJECT_PERCENT
        && let Some(first) = parsed.rejects.first()
    {
        return Err(Unusable::TooManyRejects {
            rejected: parsed.rejected,
            data_lines: parsed.data_lines(),
            first: first.clone(),
        });
    }
    if parsed.entries == 0 {
        return Err(Unusable::Empty);
    }
    Ok(())
}

/// How old a feed is by its own header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Age {
    /// Dated, and within the limit (or the guard is off); age in hours.
    Dated(f64),
    /// No readable `# This File Date`: passes, with a warning.
    Undated,
}

/// The `max_age_hours` guard for one feed.
pub(crate) fn check_age(
    feed: &str,
    url: &str,
    date: Option<FileDate>,
    now_unix: i64,
    max_age_hours: Option<u32>,
) -> Result<Age, Tripped> {
    let Some(date) = date else {
        return Ok(Age::Undated);
    };
    let age_hours = (now_unix - date.unix) as f64 / 3600.0;
    match max_age_hours {
        Some(max) if age_hours > f64::from(max) => Err(Tripped::MaxAge {
            feed: feed.to_owned(),
            url: url.to_owned(),
            date,
            age_hours,
            max,
        }),
        _ => Ok(Age::Dated(age_hours)),
    }
}

/// The `min_entries` guard.
pub(crate) fn check_min_entries(entries: u64, min: u32) -> Result<(), Tripped> {
    if entries < u64::from(min) {
        return Err(Tripped::MinEntries { entries, min });
    }
    Ok(())
}

/// The `max_shrink_percent` guard against the last published list.
pub(crate) fn check_shrink(previous: u64, entries: u64, max: Option<u8>) -> Result<(), Tripped> {
    let Some(max) = max else { return Ok(()) };
    if previous == 0 || entries >= previous {
        return Ok(());
    }
    let shrink_percent = (previous - entries) as f64 * 100.0 / previous as f64;
    if shrink_percent > f64::from(max) {
        return Err(Tripped::MaxShrink {
            previous,
            entries,
            shrink_percent,
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::parse::parse_bytes;
    use test_case::test_case;

    #[test_case(100, 100, Some(50), true ; "same size")]
    #[test_case(100, 50, Some(50), true ; "exactly the limit")]
    #[test_case(100, 49, Some(50), false ; "just over")]
    #[test_case(100, 0, Some(100), true ; "hundred allows anything")]
    #[test_case(100, 0, None, true ; "off")]
    #[test_case(0, 0, Some(0), true ; "no previous list")]
    #[test_case(100, 200, Some(0), true ; "growth")]
    #[test_case(100, 99, Some(0), false ; "zero tolerance")]
    fn shrink(previous: u64, entries: u64, max: Option<u8>, ok: bool) {
        assert_eq!(check_shrink(previous, entries, max).is_ok(), ok);
    }

    #[test]
    fn messages_say_which_guard_and_by_how_much() {
        let e = check_shrink(2000, 750, Some(50)).expect_err("trips");
        assert_eq!(
            e.to_string(),
            "guard max_shrink_percent tripped: the list shrank by 62.5% (from 2000 to 750 entries), more than the 50% allowed"
        );
        let e = check_min_entries(40, 100).expect_err("trips");
        assert_eq!(
            e.to_string(),
            "guard min_entries tripped: the list has 40 entries, 60 fewer than the minimum of 100"
        );
        let date = FileDate { unix: 0 };
        let e = check_age("f", "file:///f", Some(date), 50 * 3600, Some(48)).expect_err("trips");
        assert_eq!(
            e.to_string(),
            "guard max_age_hours tripped: feed f (file:///f) is dated 1970-01-01T00:00:00Z, 50.0 hours old, 2.0 hours over the 48-hour limit"
        );
    }

    #[test_case(Some(0), 48 * 3600, Some(48), true ; "at the limit")]
    #[test_case(Some(0), 48 * 3600 + 1, Some(48), false ; "a second over")]
    #[test_case(Some(0), 1_000_000, None, true ; "off")]
    #[test_case(None, 1_000_000, Some(1), true ; "undated passes")]
    #[test_case(Some(100), 0, Some(1), true ; "future date passes")]
    fn age(date: Option<i64>, now: i64, max: Option<u32>, ok: bool) {
        let date = date.map(|unix| FileDate { unix });
        assert_eq!(check_age("f", "u", date, now, max).is_ok(), ok);
    }

    #[test_case("1.2.3.4\n", true ; "clean")]
    #[test_case(&"1.2.3.4\n".repeat(99), true ; "many clean")]
    #[test_case(&format!("{}bad\n", "1.2.3.4\n".repeat(99)), true ; "one percent is fine")]
    #[test_case(&format!("{}bad\n", "1.2.3.4\n".repeat(98)), false ; "over one percent")]
    #[test_case("<html><body>503</body></html>\n", false ; "html page")]
    #[test_case("# only comments\n", false ; "empty")]
    #[test_case("::1\n", false ; "only ipv6")]
    fn feed_usable(text: &str, ok: bool) {
        assert_eq!(check_feed(&parse_bytes(text.as_bytes())).is_ok(), ok);
    }
}

//! Time settings that tests (and operators, in a pinch) shorten through the
//! environment, all read one way: a whole number in the variable's unit, or
//! the default when the variable is unset or not a number.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `GUARDSYNC_RETRY_INITIAL_BACKOFF_MS` | 1 s | first backoff of the AWS SDK's retries |
//! | `GUARDSYNC_FEED_TIMEOUT_MS` | 120 s | one feed request |
//! | `GUARDSYNC_DEADLINE_MARGIN_MS` | 90 s | no target starts this close to a Lambda's deadline |
//! | `GUARDSYNC_LEASE_TTL_SECS` | 2 min | a run lease not renewed for this long (its run died) lapses; a live run renews it every quarter of it |

use std::time::Duration;

/// The duration in `var`, read with `unit` (`Duration::from_millis`,
/// `Duration::from_secs`), or `default`.
pub(crate) fn duration(var: &str, unit: fn(u64) -> Duration, default: Duration) -> Duration {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(default, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_garbage_gives_the_default() {
        let d = Duration::from_secs(7);
        assert_eq!(
            duration("GUARDSYNC_TEST_UNSET_VARIABLE", Duration::from_millis, d),
            d
        );
    }
}

//! The call budget: how many AWS calls (and attempts, retries included) a run
//! made, per operation. Every client guardsync builds counts into this table
//! (the SDK adapters through their interceptor, the synthetic organization
//! directly); the report takes the difference of two [`snapshot`]s.
//!
//! The counts live in one process-wide table on purpose: every client of the
//! run, whatever adapter built it, must count into the same place, and the
//! SDK's configuration has no slot to carry a per-run value to the clients.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use serde::Serialize;

/// Calls and attempts of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    /// Calls made (what the code asked for).
    pub calls: u64,
    /// HTTP attempts (calls plus the SDK's retries).
    pub attempts: u64,
}

/// `service:Operation` -> counts.
pub(crate) type Table = BTreeMap<String, Count>;

fn table() -> &'static Mutex<Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE.get_or_init(|| Mutex::new(Table::new()))
}

pub(crate) fn bump(key: String, calls: u64, attempts: u64) {
    let mut t = table()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let c = t.entry(key).or_default();
    c.calls += calls;
    c.attempts += attempts;
}

/// Record a call the SDK does not see through [`counter`] (the credentials
/// provider's own AssumeRole).
pub fn record(key: &str) {
    bump(key.to_owned(), 1, 1);
}

/// The counts so far.
pub fn snapshot() -> Table {
    table()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// What happened between two snapshots.
pub fn since(before: &Table) -> Table {
    snapshot()
        .into_iter()
        .filter_map(|(k, now)| {
            let was = before.get(&k).copied().unwrap_or_default();
            let d = Count {
                calls: now.calls - was.calls,
                attempts: now.attempts - was.attempts,
            };
            (d.calls > 0 || d.attempts > 0).then_some((k, d))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_keeps_only_what_changed() {
        let before = snapshot();
        record("sts:AssumeRole");
        record("sts:AssumeRole");
        let d = since(&before);
        assert_eq!(
            d.get("sts:AssumeRole"),
            Some(&Count {
                calls: 2,
                attempts: 2
            })
        );
        assert!(d.keys().all(|k| k == "sts:AssumeRole"));
    }
}

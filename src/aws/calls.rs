//! The call budget: how many AWS calls (and attempts, retries included) a run
//! made, per operation. Every client guardsync builds carries [`counter`];
//! the report takes the difference of two [`snapshot`]s.
//!
//! The counts live in one process-wide table on purpose: every client of the
//! run, whatever adapter built it, must count into the same place, and the
//! SDK's configuration has no slot to carry a per-run value to the clients.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
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
pub type Table = BTreeMap<String, Count>;

fn table() -> &'static Mutex<Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE.get_or_init(|| Mutex::new(Table::new()))
}

fn bump(key: String, calls: u64, attempts: u64) {
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

/// The interceptor every client carries.
pub fn counter() -> Counter {
    Counter
}

/// Counts each operation's calls and attempts into the process table.
#[derive(Debug, Clone, Copy)]
pub struct Counter;

fn key(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>().map_or_else(
        || "unknown:Unknown".to_owned(),
        |m| format!("{}:{}", service_prefix(m.service()), m.name()),
    )
}

/// The IAM-style prefix of an SDK service name (`GuardDuty` -> `guardduty`).
fn service_prefix(service: &str) -> String {
    match service {
        "EventBridge" => "events".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "guardsync-call-counter"
    }

    // The operation's metadata is in the bag only once the operation's own
    // configuration is layered in: count the call when it ends (successful
    // or not), the attempts as they start.
    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        bump(key(cfg), 1, 0);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        bump(key(cfg), 0, 1);
        Ok(())
    }
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

    #[test]
    fn service_prefixes() {
        assert_eq!(service_prefix("GuardDuty"), "guardduty");
        assert_eq!(service_prefix("EventBridge"), "events");
        assert_eq!(service_prefix("S3"), "s3");
    }
}

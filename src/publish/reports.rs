//! Full reports of the scheduled job, `<prefix>state/reports/<time>-<mode>-<nonce>.json`:
//! a Lambda invocation returns and logs only a summary (its response is
//! limited to 6 MB and a log event to 256 KB), and points at the whole
//! report here. The newest `bucket.keep_reports` are kept. Key naming and
//! the choice of what to delete are pure; [`write`] and [`prune`] do the S3
//! I/O.

use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::aws::s3::S3;
use crate::cloud::AwsError;
use crate::feed::parse::FileDate;
use crate::report::Report;

/// The folder of the reports, `<prefix>state/reports/`.
pub fn folder(prefix: &str) -> String {
    format!("{prefix}state/reports/")
}

/// The key of a report written at `at` (UTC, to the millisecond) by `mode`;
/// keys sort by time. `nonce` tells apart two reports of one millisecond.
pub fn key(prefix: &str, at: SystemTime, mode: &str, nonce: &str) -> String {
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let unix = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    // 2026-12-06T13:20:00Z -> 20261206T132000.123Z
    let stamp: String = FileDate { unix }
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':' | 'Z'))
        .collect();
    format!(
        "{}{stamp}.{:03}Z-{mode}-{nonce}.json",
        folder(prefix),
        since.subsec_millis()
    )
}

/// The reports to delete so that the newest `keep` stay: `keys` are the
/// folder's keys in any order; only keys of [`key`]'s shape count.
pub fn to_delete(mut keys: Vec<String>, prefix: &str, keep: usize) -> Vec<String> {
    let folder = folder(prefix);
    keys.retain(|k| {
        k.strip_prefix(&folder)
            .is_some_and(|name| !name.contains('/') && name.ends_with(".json"))
    });
    keys.sort();
    let excess = keys.len().saturating_sub(keep);
    keys.truncate(excess);
    keys
}

/// Write `report` as JSON under [`folder`]; its key.
pub async fn write(
    s3: &S3,
    bucket: &str,
    prefix: &str,
    report: &Report,
) -> Result<String, AwsError> {
    let now = SystemTime::now();
    let nonce = &hex::encode(Sha256::digest(
        format!("{now:?}{}", std::process::id()).as_bytes(),
    ))[..8];
    let key = key(prefix, now, report.mode.as_str(), nonce);
    let mut body = Vec::new();
    report
        .write_json(&mut body)
        .expect("writing JSON to memory cannot fail");
    let sha = hex::encode(Sha256::digest(&body));
    s3.put(bucket, &key, body, "application/json", &sha).await?;
    Ok(key)
}

/// Delete all but the newest `keep` reports. A failure is logged, not
/// fatal: the next run tries again.
pub async fn prune(s3: &S3, bucket: &str, prefix: &str, keep: usize) {
    let keys = match s3.keys(bucket, &folder(prefix)).await {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!("failed to list the old reports: {e}; they stay until the next run");
            return;
        }
    };
    for k in to_delete(keys, prefix, keep) {
        if let Err(e) = s3.delete(bucket, &k).await {
            tracing::warn!("failed to delete an old report: {e}; the next run tries again");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn keys_sort_by_time() {
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        let a = key("gd/", at(1_796_025_600), "apply", "ff");
        assert_eq!(a, "gd/state/reports/20261130T080000.000Z-apply-ff.json");
        let b = key(
            "gd/",
            at(1_796_025_600) + Duration::from_millis(7),
            "apply",
            "00",
        );
        assert_eq!(b, "gd/state/reports/20261130T080000.007Z-apply-00.json");
        assert!(a < b);
        assert!(b < key("gd/", at(1_796_025_601), "apply", "00"));
    }

    #[test]
    fn the_newest_are_kept() {
        let keys: Vec<String> = [
            "gd/state/reports/20261130T080002Z-apply-c.json",
            "gd/state/reports/20261130T080000Z-apply-a.json",
            "gd/state/reports/20261130T080001Z-apply-b.json",
            "gd/state/reports/notes/readme.json",
            "gd/state/reports/keep-me.txt",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(
            to_delete(keys.clone(), "gd/", 2),
            ["gd/state/reports/20261130T080000Z-apply-a.json"]
        );
        assert_eq!(to_delete(keys.clone(), "gd/", 3), Vec::<String>::new());
        assert_eq!(to_delete(keys, "gd/", 1).len(), 2);
    }
}

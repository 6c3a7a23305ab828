//! The run record, `<prefix>state/last-run.json`: after each apply, which list
//! it put in place and every target's outcome, so that
//! `apply --retry-failed` can run exactly what failed or was not run.
//! The types and their merge are pure; [`read`] and [`write`] do the S3 I/O.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::PublishError;
use crate::aws::s3::S3;
use crate::feed::parse::FileDate;
use crate::report::Report;

/// The format this guardsync writes and reads.
pub const FORMAT: u32 = 1;

/// The record's key: `<prefix>state/last-run.json` (the README's "What guardsync puts in the bucket").
pub fn key(prefix: &str) -> String {
    format!("{prefix}state/last-run.json")
}

/// The last apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// [`FORMAT`].
    pub format: u32,
    /// `guardsync VERSION`.
    pub generator: String,
    /// When the apply finished, RFC 3339 UTC.
    pub finished_at: String,
    /// The list it put in place (the first threat list).
    pub list: RecordList,
    /// Every threat list it put in place, the first one included (empty in
    /// a record of an older guardsync: `list` is then the only one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<RecordList>,
    /// The trusted list it put in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted: Option<RecordList>,
    /// Every target of the run (for a retry: of the run it repaired, updated).
    pub targets: Vec<RecordTarget>,
}

/// The list of a recorded run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RecordList {
    /// The list's name (empty in a record of an older guardsync).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// sha256 of the object.
    pub sha256: String,
    /// Its key in the bucket.
    pub key: String,
    /// CIDR entries.
    pub entries: u64,
    /// Addresses covered.
    pub addresses: u64,
    /// The parts of a split list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<super::manifest::Part>,
}

/// The lists a run put in place, for its record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordLists {
    /// Every threat list, in configuration order (at least one).
    pub lists: Vec<RecordList>,
    /// The trusted list.
    pub trusted: Option<RecordList>,
}

impl RunRecord {
    /// The threat lists of the record (an older record: its one list).
    pub fn threat_lists(&self) -> Vec<RecordList> {
        if self.lists.is_empty() {
            vec![self.list.clone()]
        } else {
            self.lists.clone()
        }
    }
}

/// One target's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordTarget {
    /// The account.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// Its placement.
    pub placement: String,
    /// Its wave.
    pub wave: u32,
    /// `changed`, `unchanged`, `failed`, `skipped`.
    pub status: String,
    /// Why it failed; absent when it did not (each of 340,000 targets
    /// would otherwise carry `"error":null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Not run because a wave stopped the rollout.
    pub not_run: bool,
}

/// Everything of a record but its targets.
#[derive(Serialize)]
struct Head {
    format: u32,
    generator: String,
    finished_at: String,
    list: RecordList,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lists: Vec<RecordList>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trusted: Option<RecordList>,
}

impl Head {
    fn of(lists: &RecordLists, finished_at: SystemTime) -> Head {
        let unix = finished_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Head {
            format: FORMAT,
            generator: format!("guardsync {}", env!("CARGO_PKG_VERSION")),
            finished_at: FileDate { unix }.to_string(),
            list: lists.lists.first().cloned().unwrap_or_default(),
            lists: lists.lists.clone(),
            trusted: lists.trusted.clone(),
        }
    }
}

/// A [`RecordTarget`] borrowed from a report's target (same fields, same order).
#[derive(Serialize)]
struct TargetRef<'a> {
    account_id: &'a str,
    region: &'a str,
    placement: &'a str,
    wave: u32,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    not_run: bool,
}

/// The [`TargetRef`] of `t` in compact JSON, as serde writes it: the
/// account, Region, placement and status need no escaping (digits, a Region
/// code, names), the error (only when there is one) goes through
/// [`crate::report::json_string`].
fn write_target(t: &crate::report::TargetReport, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"account_id\":\"");
    out.extend_from_slice(t.account_id.as_bytes());
    out.extend_from_slice(b"\",\"region\":\"");
    out.extend_from_slice(t.region.as_bytes());
    out.extend_from_slice(b"\",\"placement\":\"");
    out.extend_from_slice(t.placement.as_str().as_bytes());
    out.extend_from_slice(b"\",\"wave\":");
    crate::report::write_number(out, t.wave);
    out.extend_from_slice(b",\"status\":\"");
    out.extend_from_slice(t.status.as_str().as_bytes());
    out.push(b'"');
    if let Some(e) = t.error.as_deref() {
        out.extend_from_slice(b",\"error\":");
        // A string into a vector: it cannot fail.
        let _ = crate::report::json_string(out, e);
    }
    out.extend_from_slice(if t.not_run {
        b",\"not_run\":true}"
    } else {
        b",\"not_run\":false}"
    });
}

impl<'a> TargetRef<'a> {
    fn of(t: &'a crate::report::TargetReport) -> Self {
        TargetRef {
            account_id: &t.account_id,
            region: &t.region,
            placement: t.placement.as_str(),
            wave: t.wave,
            status: t.status.as_str(),
            error: t.error.as_deref(),
            not_run: t.not_run,
        }
    }
}

impl RecordTarget {
    /// Whether `--retry-failed` runs it again.
    pub(crate) fn needs_retry(&self) -> bool {
        self.status == "failed" || self.not_run
    }
}

impl RunRecord {
    /// The record of an apply's report.
    pub fn of(report: &Report, lists: &RecordLists, finished_at: SystemTime) -> RunRecord {
        let head = Head::of(lists, finished_at);
        RunRecord {
            format: head.format,
            generator: head.generator,
            finished_at: head.finished_at,
            list: head.list,
            lists: head.lists,
            trusted: head.trusted,
            targets: report
                .targets
                .iter()
                .map(|t| {
                    let r = TargetRef::of(t);
                    RecordTarget {
                        account_id: r.account_id.to_owned(),
                        region: r.region.to_owned(),
                        placement: r.placement.to_owned(),
                        wave: r.wave,
                        status: r.status.to_owned(),
                        error: r.error.map(str::to_owned),
                        not_run: r.not_run,
                    }
                })
                .collect(),
        }
    }

    /// The JSON of [`RunRecord::of`]`(report, ...)`, written straight from
    /// the report: 340,000 targets are not copied into a record first. The
    /// bytes are serde's; the head goes through serde, each target is
    /// written here (its error, the one text that may need escaping,
    /// through serde).
    pub fn json_of(report: &Report, lists: &RecordLists, finished_at: SystemTime) -> Vec<u8> {
        #[derive(Serialize)]
        struct Whole<'a> {
            #[serde(flatten)]
            head: Head,
            #[serde(serialize_with = "targets")]
            targets: &'a [crate::report::TargetReport],
        }
        fn targets<S: serde::Serializer>(
            t: &&[crate::report::TargetReport],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_seq(t.iter().map(TargetRef::of))
        }
        let whole = Whole {
            head: Head::of(lists, finished_at),
            targets: &[],
        };
        // About 130 bytes a target: one allocation, not a series of copies
        // as it grows (45 MB at 340,000 targets).
        let mut v = Vec::with_capacity(4096 + 160 * report.targets.len());
        if serde_json::to_writer(&mut v, &whole).is_err() {
            v.clear();
        }
        // The targets are the last key: `"targets":[]}` ends the text.
        const EMPTY: &[u8] = b"\"targets\":[]}";
        if v.ends_with(EMPTY) {
            let tail = v.split_off(v.len() - 2);
            for (i, t) in report.targets.iter().enumerate() {
                if i > 0 {
                    v.push(b',');
                }
                write_target(t, &mut v);
            }
            v.extend_from_slice(&tail);
        } else {
            v.clear();
            let whole = Whole {
                targets: &report.targets,
                ..whole
            };
            if serde_json::to_writer(&mut v, &whole).is_err() {
                v.clear();
            }
        }
        v.push(b'\n');
        v
    }

    /// The targets `--retry-failed` runs again, as (account, region).
    pub fn to_retry(&self) -> Vec<(String, String)> {
        self.targets
            .iter()
            .filter(|t| t.needs_retry())
            .map(|t| (t.account_id.clone(), t.region.clone()))
            .collect()
    }

    /// This record with a retry's outcomes put over the earlier ones; the
    /// list and the other targets stay as they were.
    pub(crate) fn merged(&self, retry: &RunRecord) -> RunRecord {
        let mut out = self.clone();
        let by_target: std::collections::HashMap<(&str, &str), &RecordTarget> = retry
            .targets
            .iter()
            .map(|r| ((r.account_id.as_str(), r.region.as_str()), r))
            .collect();
        for t in &mut out.targets {
            if let Some(new) = by_target.get(&(t.account_id.as_str(), t.region.as_str())) {
                *t = (*new).clone();
            }
        }
        out.finished_at.clone_from(&retry.finished_at);
        out.generator.clone_from(&retry.generator);
        out
    }

    /// The record as its object's bytes.
    pub fn to_json(&self) -> Vec<u8> {
        // Compact: 340,000 targets (10,000 accounts in 34 Regions) make
        // about 40 MB of it; pretty printing would double that.
        let mut v = serde_json::to_vec(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// The last run's record, if there is one.
pub async fn read(s3: &S3, bucket: &str, prefix: &str) -> Result<Option<RunRecord>, PublishError> {
    let key = key(prefix);
    let Some(bytes) = s3.get(bucket, &key).await? else {
        return Ok(None);
    };
    let location = super::s3_url(bucket, &key);
    let record: RunRecord =
        serde_json::from_slice(&bytes).map_err(|e| PublishError::CorruptRecord {
            location: location.clone(),
            problem: format!("not a guardsync run record: {e}"),
        })?;
    if record.format > FORMAT {
        return Err(PublishError::CorruptRecord {
            location,
            problem: format!(
                "written by a newer guardsync ({}, format {})",
                record.generator, record.format
            ),
        });
    }
    Ok(Some(record))
}

/// Write the record (the one object guardsync writes on every apply).
pub async fn write(s3: &S3, bucket: &str, prefix: &str, body: Vec<u8>) -> Result<(), PublishError> {
    let sha256 = hex::encode(Sha256::digest(&body));
    s3.put(bucket, &key(prefix), body, "application/json", &sha256)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    fn target(account: &str, region: &str, status: &str, not_run: bool) -> RecordTarget {
        RecordTarget {
            account_id: account.into(),
            region: region.into(),
            placement: "standalone".into(),
            wave: 1,
            status: status.into(),
            error: None,
            not_run,
        }
    }

    fn record(targets: Vec<RecordTarget>) -> RunRecord {
        RunRecord {
            format: FORMAT,
            generator: "guardsync test".into(),
            finished_at: "2026-11-30T08:00:00Z".into(),
            list: RecordList {
                sha256: "abc".into(),
                key: "guardduty/abc.txt".into(),
                entries: 1,
                addresses: 1,
                ..Default::default()
            },
            lists: Vec::new(),
            trusted: None,
            targets,
        }
    }

    #[test]
    fn retry_takes_failed_and_not_run_targets_only() {
        let r = record(vec![
            target("1", "us-east-1", "changed", false),
            target("2", "us-east-1", "failed", false),
            target("3", "eu-west-1", "failed", true),
            target("4", "eu-west-1", "skipped", false),
        ]);
        assert_eq!(
            r.to_retry(),
            [
                ("2".to_owned(), "us-east-1".to_owned()),
                ("3".to_owned(), "eu-west-1".to_owned())
            ]
        );
    }

    #[test]
    fn a_retry_replaces_only_its_targets_outcomes() {
        let first = record(vec![
            target("1", "us-east-1", "changed", false),
            target("2", "us-east-1", "failed", false),
        ]);
        let mut retry = record(vec![target("2", "us-east-1", "changed", false)]);
        retry.finished_at = "2026-11-30T09:00:00Z".into();
        let merged = first.merged(&retry);
        assert_eq!(merged.targets[0], first.targets[0]);
        assert_eq!(merged.targets[1].status, "changed");
        assert_eq!(merged.finished_at, "2026-11-30T09:00:00Z");
        assert!(merged.to_retry().is_empty());
    }

    #[test]
    fn round_trips_through_json() {
        let r = record(vec![target("1", "us-east-1", "failed", true)]);
        let back: RunRecord = serde_json::from_slice(&r.to_json()).expect("parse");
        assert_eq!(back, r);
    }

    fn lists() -> RecordLists {
        RecordLists {
            lists: vec![RecordList {
                key: "guardduty/abc.txt".into(),
                sha256: "abc".into(),
                entries: 3,
                addresses: 9,
                ..Default::default()
            }],
            trusted: None,
        }
    }

    #[test]
    fn the_streamed_record_is_the_record() {
        use crate::report::{ListReport, Mode, Summary, TargetReport};
        let t = |account: &str, status: Status, error: Option<&str>, not_run: bool| TargetReport {
            account_id: crate::config::AccountId::parse(account).expect("an account id"),
            account_name: Some("name".into()),
            region: crate::config::Region::parse("eu-west-1").expect("a Region"),
            placement: crate::report::PlacementKind::Standalone,
            wave: 2,
            status,
            changes: Default::default(),
            error: error.map(Box::from),
            not_run,
            note: None,
            unmanaged: Default::default(),
            warnings: Default::default(),
        };
        let targets = vec![
            t("111111111111", Status::Changed, None, false),
            t("222222222222", Status::Failed, Some("denied \"x\""), false),
            t("333333333333", Status::Failed, Some("not run"), true),
            t("444444444444", Status::Skipped, None, false),
        ];
        let report = Report {
            mode: Mode::Apply,
            list: ListReport {
                sha256: "abc".into(),
                entries: 3,
                addresses: 9,
                location: "s3://b/k".into(),
                changed: true,
                rebuilt: true,
                ..Default::default()
            },
            organization_id: None,
            regions: vec!["eu-west-1".into()],
            waves: Vec::new(),
            warnings: Vec::new(),
            retry_of: None,
            lists: Vec::new(),
            trusted_list: None,
            summary: Summary::of(&targets),
            calls: Default::default(),
            targets,
        };
        let at = UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000);
        let whole = RunRecord::of(&report, &lists(), at);
        assert_eq!(
            String::from_utf8(RunRecord::json_of(&report, &lists(), at)),
            String::from_utf8(whole.to_json())
        );
        assert_eq!(whole.to_retry().len(), 2);
        // A target without an error has no `error` key.
        let json = String::from_utf8(whole.to_json()).expect("UTF-8");
        assert!(json.contains(
            r#"{"account_id":"111111111111","region":"eu-west-1","placement":"standalone","wave":2,"status":"changed","not_run":false}"#
        ));
        assert!(json.contains(r#""status":"failed","error":"denied \"x\"","not_run":false}"#));
    }

    #[test]
    fn a_record_with_null_errors_still_reads() {
        // As guardsync wrote it before the key was left out when empty.
        let older =
            br#"{"format":1,"generator":"guardsync 0.1.0","finished_at":"2026-11-30T08:00:00Z",
            "list":{"sha256":"abc","key":"k","entries":3,"addresses":9},
            "targets":[{"account_id":"1","region":"us-east-1","placement":"admin","wave":1,
            "status":"changed","error":null,"not_run":false}]}"#;
        let r: RunRecord = serde_json::from_slice(older).expect("parse");
        assert_eq!(r.targets[0].error, None);
        assert_eq!(r.targets[0].status, "changed");
    }
}

//! The scheduled job: one Lambda invocation runs one `plan` or `apply`.
//!
//! The event chooses the command and may carry the configuration; otherwise
//! it comes from an S3 object (`GUARDSYNC_CONFIG_S3`) or a file bundled with
//! the function (`GUARDSYNC_CONFIG`, default `guardsync.yaml` next to the
//! binary). The response is a summary ([`Response`]): the counts, at most
//! 100 failed targets and where the full report is, under
//! `<prefix>state/reports/` (apply). The invocation fails when the
//! run aborts or any target fails, so that the failure is seen: Lambda's
//! `Errors` metric and its alarm, and the on-failure destination (see
//! `deploy/administrator.yaml`). Targets the 15-minute limit would cut off are
//! not started and are reported as failed with that reason. Does I/O.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::app::{Outcome, RunOptions, execute};
use crate::aws::Aws;
use crate::aws::s3::S3;
use crate::config::{self, AccountId, Config, Region};
use crate::error::{Error, ExitCode};
use crate::report::{Mode, Report, emf};

/// The event: every key optional; `{}` runs `apply` with the configured file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// `plan` or `apply` (default).
    #[serde(default)]
    pub command: Option<String>,
    /// The configuration itself, as YAML text.
    #[serde(default)]
    pub config: Option<String>,
    /// Where to read the configuration: `s3://bucket/key`.
    #[serde(default)]
    pub config_s3: Option<String>,
    /// Only these accounts (like `--account`).
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Only these Regions (like `--region`).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Run only what failed or was not run in the last apply.
    #[serde(default)]
    pub retry_failed: bool,
}

/// Why an invocation failed: `kind` becomes the Lambda `errorType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `Usage`, `Aborted` or `TargetsFailed` (the exit codes' names).
    pub kind: &'static str,
    /// One line for the console and the alarm.
    pub message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure {
            kind: "Usage",
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let kind = match e.exit_code() {
            ExitCode::Usage => "Usage",
            _ => "Aborted",
        };
        Failure {
            kind,
            message: crate::util::chain(&e),
        }
    }
}

/// The configuration file bundled with the function, when no other is named.
fn bundled() -> PathBuf {
    if let Ok(p) = std::env::var("GUARDSYNC_CONFIG") {
        return PathBuf::from(p);
    }
    std::env::var("LAMBDA_TASK_ROOT")
        .map_or_else(|_| PathBuf::from("."), PathBuf::from)
        .join("guardsync.yaml")
}

/// `s3://bucket/key` -> (bucket, key).
fn s3_location(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// The configuration of this invocation: from the event, an S3 object or the bundled file.
async fn configuration(aws: &Aws, event: &Event) -> Result<Config, Failure> {
    if let Some(text) = &event.config {
        return Ok(
            config::parse(text, Path::new("event.config"), "event.config").map_err(Error::from)?,
        );
    }
    let from_s3 = event
        .config_s3
        .clone()
        .or_else(|| std::env::var("GUARDSYNC_CONFIG_S3").ok());
    let Some(url) = from_s3 else {
        return Ok(config::load(&bundled()).map_err(Error::from)?);
    };
    let (bucket, key) = s3_location(&url)
        .ok_or_else(|| Failure::usage(format!("{url:?} is not an s3://bucket/key location")))?;
    // The configuration lives in the administrator's own bucket: the caller
    // is its expected owner.
    let caller = crate::aws::sts::caller_account(aws)
        .await
        .map_err(|e| Failure::from(Error::Aws(e)))?;
    let region = aws
        .config()
        .region()
        .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
    let s3 = S3::new(&aws.config_for(&region, None), &caller);
    let bytes = s3
        .get(bucket, key)
        .await
        .map_err(|e| Failure::from(Error::Aws(e)))?
        .ok_or_else(|| Failure::usage(format!("the configuration {url} does not exist")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("the configuration {url} is not UTF-8 text")))?;
    Ok(config::parse(&text, Path::new(key), &url).map_err(Error::from)?)
}

/// Run one invocation; `deadline` is the Lambda context's.
pub async fn invoke(event: Event, deadline: SystemTime) -> Result<serde_json::Value, Failure> {
    let mode = match event.command.as_deref() {
        None | Some("apply") => Mode::Apply,
        Some("plan") => Mode::Plan,
        Some(other) => {
            return Err(Failure::usage(format!(
                "command must be \"plan\" or \"apply\", got {other:?}"
            )));
        }
    };
    let accounts = event
        .accounts
        .iter()
        .map(|a| AccountId::parse(a).map_err(|e| Failure::usage(format!("accounts: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let regions = event
        .regions
        .iter()
        .map(|r| Region::parse(r).map_err(|e| Failure::usage(format!("regions: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let probe = Aws::load(8).await;
    let c = configuration(&probe, &event).await?;
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    let opts = RunOptions {
        mode,
        accounts,
        regions,
        retry_failed: event.retry_failed,
        deadline: Some(tokio::time::Instant::now() + left),
        stop: None,
    };
    tracing::info!(
        command = mode.as_str(),
        seconds_left = left.as_secs(),
        "invocation"
    );
    let before = previous_gaps(&probe, &c).await;
    let report = match execute(&c, &opts).await.map_err(Failure::from)? {
        Outcome::Report(r) => r,
        Outcome::NothingToRetry(message) => {
            tracing::info!("{message}");
            return Ok(serde_json::json!({ "message": message }));
        }
    };
    finish(&probe, &c, *report, before).await
}

/// The S3 client of the configured bucket, as the administrator.
fn bucket_s3(aws: &Aws, c: &Config) -> S3 {
    S3::new(
        &aws.config_for(c.bucket.region.as_str(), None),
        c.admin_account.as_str(),
    )
}

/// The coverage gaps of the last recorded run, before this one replaces its
/// record: the metric `CoverageGapsNew` counts the gaps that were not there.
async fn previous_gaps(aws: &Aws, c: &Config) -> Option<BTreeSet<(String, String)>> {
    let s3 = bucket_s3(aws, c);
    match crate::publish::record::read(&s3, &c.bucket.name, &c.bucket.prefix).await {
        Ok(Some(r)) => Some(
            r.targets
                .into_iter()
                .filter(|t| matches!(t.placement.as_str(), "no_detector" | "other_admin"))
                .map(|t| (t.account_id, t.region))
                .collect(),
        ),
        // The first run: every gap is new.
        Ok(None) => Some(BTreeSet::new()),
        Err(e) => {
            tracing::warn!("failed to read the last run record: {e}; CoverageGapsNew is not sent");
            None
        }
    }
}

/// Hours since the published list was built (the manifest's `built_at`).
async fn list_age_hours(s3: &S3, c: &Config) -> Option<f64> {
    let m = crate::publish::read_manifest(s3, &c.bucket.name, &c.bucket.prefix)
        .await
        .ok()??;
    let built = crate::feed::parse::parse_rfc3339(&m.built_at)?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?;
    Some((now.as_secs_f64() - built.unix as f64) / 3600.0)
}

/// Most failed targets a response (and its log line) names; the full report
/// names them all.
pub const MAX_FAILED: usize = 100;

/// A failed target's error is cut to this many characters in the response:
/// 100 of them stay far below the 256 KB of a log event.
const MAX_ERROR_CHARS: usize = 1000;

/// What an invocation returns and logs: never the whole report, which at
/// 10,000 accounts × 34 Regions is hundreds of megabytes (a Lambda response
/// is limited to 6 MB and a CloudWatch log event to 256 KB).
#[derive(Debug, Serialize)]
pub struct Response<'a> {
    /// `plan` or `apply`.
    pub mode: &'static str,
    /// The list put in place (the first threat list).
    pub list: &'a crate::report::ListReport,
    /// Every threat list put in place, the first one included.
    pub lists: &'a [crate::report::ListReport],
    /// The trusted list, when configured.
    pub trusted_list: Option<&'a crate::report::ListReport>,
    /// The report's summary.
    pub summary: &'a crate::report::Summary,
    /// The first [`MAX_FAILED`] failed targets, in report order.
    pub failed: Vec<FailedTarget<'a>>,
    /// Failed targets not in `failed`.
    pub failed_not_shown: usize,
    /// `s3://bucket/key` of the full report (apply), or `None` (plan writes nothing).
    pub report: Option<String>,
}

/// One failed target in a [`Response`].
#[derive(Debug, Serialize)]
pub struct FailedTarget<'a> {
    /// The account.
    pub account_id: &'a str,
    /// The Region.
    pub region: &'a str,
    /// Its placement.
    pub placement: &'static str,
    /// Why it failed, cut to 1,000 characters.
    pub error: String,
}

/// The response for `report`, whose full text is at `location`. Pure.
pub fn response(report: &Report, location: Option<String>) -> Response<'_> {
    let failed: Vec<FailedTarget<'_>> = report
        .targets
        .iter()
        .filter(|t| t.status == crate::report::Status::Failed)
        .take(MAX_FAILED)
        .map(|t| FailedTarget {
            account_id: &t.account_id,
            region: &t.region,
            placement: t.placement.as_str(),
            error: cut(t.error.as_deref().unwrap_or("not run"), MAX_ERROR_CHARS),
        })
        .collect();
    Response {
        mode: report.mode.as_str(),
        list: &report.list,
        lists: &report.lists,
        trusted_list: report.trusted_list.as_ref(),
        summary: &report.summary,
        failed_not_shown: report.summary.failed.saturating_sub(failed.len()),
        failed,
        report: location,
    }
}

/// `s` cut to `max` characters, with `…` when it was longer.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

/// The end of an invocation: an apply's full report goes to
/// `<prefix>state/reports/` (the newest `bucket.keep_reports` are kept);
/// the summary, the failed targets and the report's location are logged
/// and returned, or, when a target failed, the invocation fails with them.
pub async fn finish(
    aws: &Aws,
    c: &Config,
    report: Report,
    previous_gaps: Option<BTreeSet<(String, String)>>,
) -> Result<serde_json::Value, Failure> {
    let (bucket, prefix) = (c.bucket.name.as_str(), c.bucket.prefix.as_str());
    let s3 = bucket_s3(aws, c);
    // The figures as CloudWatch metrics (EMF), one line of their own.
    let metrics = emf::metrics(
        &report,
        previous_gaps.as_ref(),
        list_age_hours(&s3, c).await,
    );
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    eprintln!("{}", emf::document(&metrics, report.mode.as_str(), now_ms));
    let location = if report.mode == Mode::Apply {
        match crate::publish::reports::write(&s3, bucket, prefix, &report).await {
            Ok(key) => {
                let keep = usize::try_from(c.bucket.keep_reports).unwrap_or(usize::MAX);
                crate::publish::reports::prune(&s3, bucket, prefix, keep).await;
                Some(crate::publish::s3_url(bucket, &key))
            }
            Err(e) => {
                tracing::warn!("failed to write the full report: {e}; only the summary remains");
                None
            }
        }
    } else {
        None
    };
    let response = response(&report, location);
    let value = serde_json::to_value(&response).map_err(|e| Failure {
        kind: "Aborted",
        message: format!("failed to serialise the response: {e}"),
    })?;
    // One JSON log line, for Logs Insights: at most 100 failed targets.
    tracing::info!(summary = %value, "run finished");
    let s = &report.summary;
    if s.failed == 0 {
        return Ok(value);
    }
    let first: Vec<String> = response
        .failed
        .iter()
        .take(3)
        .map(|t| format!("{} {}: {}", t.account_id, t.region, cut(&t.error, 200)))
        .collect();
    Err(Failure {
        kind: "TargetsFailed",
        message: format!(
            "{} of {} targets failed ({} not run); first: {}; full report: {}",
            s.failed,
            s.targets,
            s.not_run,
            first.join(" | "),
            response.report.as_deref().unwrap_or("not written")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_strict_and_default_to_apply() {
        let e: Event = serde_json::from_str("{}").expect("empty event");
        assert_eq!(e.command, None);
        let bad = serde_json::from_str::<Event>(r#"{"comand": "plan"}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn s3_locations() {
        assert_eq!(s3_location("s3://b/k/x.yaml"), Some(("b", "k/x.yaml")));
        assert_eq!(s3_location("s3://b/"), None);
        assert_eq!(s3_location("https://b/k"), None);
    }
}

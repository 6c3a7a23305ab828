//! The scheduled job: one Lambda invocation runs one `plan` or `apply`.
//!
//! The event chooses the command and may carry the configuration; otherwise
//! it comes from an S3 object (`GUARDSYNC_CONFIG_S3`) or a file bundled with
//! the function (`GUARDSYNC_CONFIG`, default `guardsync.yaml` next to the
//! binary). The JSON report is the response. The invocation fails when the
//! run aborts or any target fails, so that the failure is seen: Lambda's
//! `Errors` metric and its alarm, and the on-failure destination (see
//! `deploy/administrator.yaml`). Targets the 15-minute limit would cut off are
//! not started and are reported as failed with that reason. Does I/O.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::app::{Outcome, RunOptions, execute};
use crate::aws::Aws;
use crate::aws::s3::S3;
use crate::config::{self, AccountId, Config, Region};
use crate::error::{Error, ExitCode};
use crate::report::Mode;

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
    let report = match execute(&c, &opts).await.map_err(Failure::from)? {
        Outcome::Report(r) => r,
        Outcome::NothingToRetry(message) => {
            tracing::info!("{message}");
            return Ok(serde_json::json!({ "message": message }));
        }
    };
    // The whole report in one JSON log line, for Logs Insights.
    tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "report");
    let s = &report.summary;
    if s.failed > 0 {
        let first: Vec<String> = report
            .targets
            .iter()
            .filter_map(|t| {
                t.error
                    .as_ref()
                    .map(|e| format!("{} {}: {e}", t.account_id, t.region))
            })
            .take(3)
            .collect();
        return Err(Failure {
            kind: "TargetsFailed",
            message: format!(
                "{} of {} targets failed ({} not run); first: {}",
                s.failed,
                s.targets,
                s.not_run,
                first.join(" | ")
            ),
        });
    }
    serde_json::to_value(&report).map_err(|e| Failure {
        kind: "Aborted",
        message: format!("failed to serialise the report: {e}"),
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

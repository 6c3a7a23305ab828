//! The scheduled job's figures as CloudWatch metrics in the embedded metric
//! format (EMF): one JSON object, printed as one log line, that CloudWatch
//! Logs turns into metrics of the namespace `guardsync` with the dimension
//! `Mode` (`plan` or `apply`), without any PutMetricData call
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
//! Pure.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{Report, Status};

/// The metric namespace.
pub const NAMESPACE: &str = "guardsync";

/// One metric: its name, unit and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The metric name.
    pub name: &'static str,
    /// A CloudWatch unit.
    pub unit: &'static str,
    /// The value.
    pub value: f64,
}

/// The figures of a run. `previous_gaps`: the `(account, Region)` coverage
/// gaps of the run before (from its run record), to count the new ones;
/// `list_age_hours`: how long ago the list in place was built.
pub fn metrics(
    report: &Report,
    previous_gaps: Option<&BTreeSet<(String, String)>>,
    list_age_hours: Option<f64>,
) -> Vec<Metric> {
    let s = &report.summary;
    let count = |name, n: usize| Metric {
        name,
        unit: "Count",
        value: n as f64,
    };
    let mut out = vec![
        count("TargetsFailed", s.failed),
        count("TargetsActivating", s.activating),
        count("TargetsChanged", s.changed),
        count("TargetsPending", s.pending),
        count("CoverageGaps", s.coverage_gaps),
        Metric {
            name: "ListEntries",
            unit: "Count",
            // Every threat list's entries (the first list's alone when the
            // report predates `lists`).
            value: if report.lists.is_empty() {
                report.list.entries
            } else {
                report.lists.iter().map(|l| l.entries).sum()
            } as f64,
        },
        Metric {
            name: "AwsCalls",
            unit: "Count",
            value: s.api_calls as f64,
        },
        Metric {
            name: "AwsRetries",
            unit: "Count",
            value: s.api_retries as f64,
        },
    ];
    if let Some(previous) = previous_gaps {
        let new = report
            .targets
            .iter()
            .filter(|t| t.placement.is_coverage_gap() && t.status != Status::Failed)
            .filter(|t| !previous.contains(&(t.account_id.to_string(), t.region.to_string())))
            .count();
        out.push(count("CoverageGapsNew", new));
    }
    if let Some(hours) = list_age_hours {
        out.push(Metric {
            name: "ListAgeHours",
            unit: "None",
            value: (hours * 10.0).round() / 10.0,
        });
    }
    out
}

/// The EMF document for `metrics` at `timestamp_ms` (milliseconds since the
/// epoch), for a run in `mode`.
pub fn document(metrics: &[Metric], mode: &str, timestamp_ms: u64) -> Value {
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|m| json!({"Name": m.name, "Unit": m.unit}))
        .collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Mode"]],
                "Metrics": definitions,
            }],
        }),
    );
    doc.insert("Mode".to_owned(), Value::from(mode));
    for m in metrics {
        doc.insert(m.name.to_owned(), json!(m.value));
    }
    Value::Object(doc)
}

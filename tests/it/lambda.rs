//! The scheduled job end to end: the `guardsync-lambda` binary against a
//! local stand-in for the Lambda Runtime API (`tests/lambda/runtime_api.py`)
//! and the emulator. One invocation per test: the response or error it posts
//! back, what it changed in the emulator, and its JSON logs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::gs::{emulator_env, seed_demo, sets};
use crate::common::{ADMIN, Emulator, emulator, python, repo};
use serde_json::{Value, json};

/// The demo configuration, with the feed fixture's absolute path.
fn demo_config() -> String {
    std::fs::read_to_string(repo().join("config/demo.yaml"))
        .expect("config/demo.yaml")
        .replace(
            "@FIXTURES@",
            &repo().join("tests/fixtures/firehol").display().to_string(),
        )
}

struct Invocation {
    /// `response`, `error` or `init_error`.
    kind: String,
    /// What the function posted.
    body: Value,
    /// Its logs (stderr), one JSON object per line.
    logs: String,
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run one invocation of `event`, with `deadline_ms` left, and `env` on top
/// of the emulator's endpoint and credentials.
fn invoke(emu: &Emulator, event: &Value, deadline_ms: u64, env: &[(&str, &str)]) -> Invocation {
    let mut stub = Kill(
        Command::new(python())
            .arg(repo().join("tests/lambda/runtime_api.py"))
            .args(["--event", &event.to_string()])
            .args(["--deadline-ms", &deadline_ms.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Runtime API stand-in"),
    );
    let mut lines = BufReader::new(stub.0.stdout.take().expect("stub stdout")).lines();
    let first = lines.next().expect("a line").expect("stub output");
    let address = first
        .strip_prefix("listening ")
        .expect("listening line")
        .to_owned();
    let logs = tempfile::NamedTempFile::new().expect("log file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guardsync-lambda"));
    emulator_env(&mut cmd, emu)
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "guardsync")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::null())
        .stderr(logs.reopen().expect("log file"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let _function = Kill(cmd.spawn().expect("start guardsync-lambda"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("RESULT ") {
                let _ = tx.send(rest.to_owned());
                return;
            }
        }
    });
    let result = rx
        .recv_timeout(Duration::from_secs(600))
        .expect("the function answered within 600 s");
    let (kind, body) = result.split_once(' ').expect("kind and body");
    Invocation {
        kind: kind.to_owned(),
        body: serde_json::from_str(body).expect("JSON body"),
        logs: std::fs::read_to_string(logs.path()).expect("read logs"),
    }
}

#[tokio::test]
async fn an_apply_invocation_returns_a_summary_keeps_the_report_in_the_bucket_and_logs_json() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    // Keep one report: the second invocation deletes the first one's.
    let config = demo_config().replacen(
        "  region: us-east-1\n",
        "  region: us-east-1\n  keep_reports: 1\n",
        1,
    );
    assert!(config.contains("keep_reports: 1"));
    let event = json!({"command": "apply", "config": config});
    let first = invoke(emu, &event, 900_000, &[]);
    let out = invoke(emu, &event, 900_000, &[]);
    assert_eq!(out.kind, "response", "{}\n{}", out.body, out.logs);
    assert_eq!(out.body["mode"], "apply");
    assert_eq!(out.body["summary"]["failed"], 0);
    assert_eq!(out.body["summary"]["targets"], 33);
    assert_eq!(out.body["failed"], json!([]));
    assert!(
        out.body.get("targets").is_none(),
        "the summary, not the report"
    );
    assert_eq!(sets(emu, ADMIN, "eu-west-1").await[0].2, "ACTIVE");
    // The full report is in the bucket, and only the newest one is kept.
    let reports = |body: &Value| {
        body["report"]
            .as_str()
            .and_then(|l| l.strip_prefix("s3://org-threat-lists-111111111111/"))
            .expect("the report's location")
            .to_owned()
    };
    let (old, new) = (reports(&first.body), reports(&out.body));
    assert!(
        old < new && new.starts_with("guardduty/state/reports/"),
        "{old} {new}"
    );
    let listed = crate::common::gs::s3(emu)
        .await
        .list_objects_v2()
        .bucket("org-threat-lists-111111111111")
        .prefix("guardduty/state/reports/")
        .send()
        .await
        .expect("list the reports");
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, [new.as_str()]);
    let full: Value =
        serde_json::from_slice(&crate::common::gs::s3_object(emu, &new).await).expect("JSON");
    assert_eq!(full["targets"].as_array().map(Vec::len), Some(33));
    assert_eq!(full["summary"], out.body["summary"]);
    // The figures as CloudWatch metrics (EMF), each equal to the report's.
    for (inv, new_gaps) in [
        (&first, first.body["summary"]["coverage_gaps"].clone()),
        (&out, json!(0)),
    ] {
        let m = emf(&inv.logs);
        assert_eq!(
            m["_aws"]["CloudWatchMetrics"][0]["Namespace"], "guardsync",
            "{m}"
        );
        assert_eq!(
            m["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Mode"]])
        );
        assert_eq!(m["Mode"], "apply");
        let names: Vec<&str> = m["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .filter_map(|d| d["Name"].as_str())
            .collect();
        let s = &inv.body["summary"];
        let entries: u64 = inv.body["lists"]
            .as_array()
            .expect("lists")
            .iter()
            .map(|l| l["entries"].as_u64().unwrap_or_default())
            .sum();
        assert_eq!(inv.body["lists"][0], inv.body["list"]);
        let entries = json!(entries);
        let want = [
            ("TargetsFailed", &s["failed"]),
            ("TargetsActivating", &s["activating"]),
            ("TargetsChanged", &s["changed"]),
            ("TargetsPending", &s["pending"]),
            ("CoverageGaps", &s["coverage_gaps"]),
            ("ListEntries", &entries),
            ("AwsCalls", &s["api_calls"]),
            ("AwsRetries", &s["api_retries"]),
            ("CoverageGapsNew", &new_gaps),
        ];
        for (name, value) in want {
            assert!(names.contains(&name), "{name} not declared: {m}");
            assert_eq!(m[name].as_f64(), value.as_f64(), "{name}: {m}");
        }
        assert!(names.contains(&"ListAgeHours"), "{m}");
        let age = m["ListAgeHours"].as_f64().expect("age");
        assert!(
            (0.0..1.0).contains(&age),
            "the list was built just now: {age}"
        );
    }
    assert!(first.body["summary"]["changed"].as_u64() > Some(0));
    assert!(first.body["summary"]["coverage_gaps"].as_u64() > Some(0));

    // Every log line is JSON; a target's line names it, in a sentence.
    let lines: Vec<Value> = first
        .logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("777777777777 eu-west-1 (standalone): changed: "))),
        "{}",
        first.logs
    );
}

/// The one EMF document of an invocation's logs.
fn emf(logs: &str) -> Value {
    let docs: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l.get("_aws").is_some())
        .collect();
    assert_eq!(docs.len(), 1, "one EMF line:\n{logs}");
    docs[0].clone()
}

/// Lambda's limits: a response (or error) of 6 MB, a log event of 256 KB.
const MAX_RESPONSE: usize = 6 * 1024 * 1024;
const MAX_LOG_EVENT: usize = 256 * 1024;

/// At the scale benchmark's size (10,000 accounts × 34 Regions, 340,000
/// targets, 3,366 of them failed (99 accounts whose role is denied)), the invocation answers with the summary,
/// 100 failed targets and the full report's key: within the 6 MB of a
/// response (the stand-in refuses more) and 256 KB per log line, while the
/// whole report lies in the bucket.
#[tokio::test]
async fn at_the_scale_benchmark_size_the_response_and_every_log_line_fit() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let out = invoke(
        emu,
        &json!({}),
        900_000,
        &[
            ("GUARDSYNC_SIMULATE", "10000,34,2,1"),
            ("RUST_LOG", "warn,guardsync=info"),
        ],
    );
    assert_eq!(out.kind, "error", "{}", out.body);
    let message = out.body["errorMessage"].as_str().expect("message");
    assert!(
        message.starts_with("3366 of 340000 targets failed (0 not run); first: "),
        "{message}"
    );
    let longest = out.logs.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < MAX_LOG_EVENT, "a log line of {longest} bytes");
    assert!(out.body.to_string().len() < MAX_RESPONSE);
    let summary: Value = out
        .logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["message"] == "run finished")
        .map(|l| {
            serde_json::from_str(l["fields"]["summary"].as_str().expect("summary")).expect("JSON")
        })
        .expect("the summary line");
    assert_eq!(summary["summary"]["targets"], 340_000);
    assert_eq!(summary["summary"]["failed"], 3366);
    assert_eq!(summary["failed"].as_array().map(Vec::len), Some(100));
    assert_eq!(summary["failed_not_shown"], 3266);
    assert_eq!(summary["failed"][0]["placement"], "unknown");
    let location = summary["report"].as_str().expect("the report's location");
    assert!(
        message.ends_with(&format!("; full report: {location}")),
        "{message}"
    );
    let key = location
        .strip_prefix("s3://org-threat-lists-111111111111/")
        .expect("in the bucket");
    assert!(key.starts_with("guardduty/state/reports/"), "{key}");
    let full = crate::common::gs::s3_object(emu, key).await;
    let full: Value = serde_json::from_slice(&full).expect("JSON report");
    assert_eq!(full["targets"].as_array().map(Vec::len), Some(340_000));
    assert!(
        full.to_string().len() > MAX_RESPONSE,
        "the report itself would not fit"
    );
}

#[tokio::test]
async fn a_failed_target_fails_the_invocation() {
    let emu = emulator();
    let _guard = emu.lock().await;
    emu.seed("failures").await;
    emu.configure(json!({"activation_delay_ms": 20})).await;
    let event = json!({"config": demo_config()});
    let out = invoke(emu, &event, 900_000, &[]);
    assert_eq!(out.kind, "error", "{}", out.body);
    assert_eq!(out.body["errorType"], "TargetsFailed");
    let message = out.body["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("444444444444 eu-west-1: failed to assume arn:aws:iam::444444444444:role/GuardSyncMemberRole"),
        "{message}"
    );
}

#[tokio::test]
async fn near_the_deadline_no_target_starts_and_the_invocation_says_why() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    emu.clear_calls().await;
    let event = json!({"command": "apply", "config": demo_config()});
    // 20 s left, and guardsync keeps a 60 s margin: nothing may start.
    let out = invoke(
        emu,
        &event,
        20_000,
        &[("GUARDSYNC_DEADLINE_MARGIN_MS", "60000")],
    );
    assert_eq!(out.kind, "error", "{}", out.body);
    assert_eq!(out.body["errorType"], "TargetsFailed");
    let message = out.body["errorMessage"].as_str().unwrap_or_default();
    // The 8 admin and standalone targets, and the 7 that only a probe from
    // inside the account could place (gaps, another administrator): out of
    // time, no call is made. Members and excluded accounts need none.
    assert!(
        message.contains("15 of 33 targets failed (15 not run)"),
        "{message}"
    );
    assert!(message.contains("not started: "), "{message}");
    assert!(message.contains("deadline"), "{message}");
    // No set was created anywhere.
    assert_eq!(sets(emu, ADMIN, "us-east-1").await, []);
}

#[tokio::test]
async fn the_configuration_can_come_from_s3_and_the_event_can_ask_for_a_plan() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&emu.sdk("us-east-1").await)
            .force_path_style(true)
            .build(),
    );
    s3.put_object()
        .bucket("org-threat-lists-111111111111")
        .key("guardduty/config/guardsync.yaml")
        .body(demo_config().into_bytes().into())
        .send()
        .await
        .expect("upload the configuration");
    emu.clear_calls().await;
    let out = invoke(
        emu,
        &json!({"command": "plan"}),
        900_000,
        &[(
            "GUARDSYNC_CONFIG_S3",
            "s3://org-threat-lists-111111111111/guardduty/config/guardsync.yaml",
        )],
    );
    assert_eq!(out.kind, "response", "{}\n{}", out.body, out.logs);
    assert_eq!(out.body["mode"], "plan");
    assert_eq!(out.body["summary"]["pending"], 8);
    let writes: Vec<String> = emu
        .calls()
        .await
        .into_iter()
        .filter(|c| c.mutating)
        .filter_map(|c| c.operation)
        .collect();
    assert_eq!(writes, Vec::<String>::new());
}

#[tokio::test]
async fn a_bad_event_is_a_usage_error() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let out = invoke(emu, &json!({"command": "destroy"}), 900_000, &[]);
    assert_eq!(out.kind, "error", "{}", out.body);
    assert_eq!(out.body["errorType"], "Usage");
    assert_eq!(
        out.body["errorMessage"],
        "command must be \"plan\" or \"apply\", got \"destroy\""
    );
    // A key guardsync does not know is a usage error too, not the runtime's.
    let out = invoke(emu, &json!({"comand": "plan"}), 900_000, &[]);
    assert_eq!(out.body["errorType"], "Usage", "{}", out.body);
    let message = out.body["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("the event is not guardsync's: unknown field `comand`"),
        "{message}"
    );
}

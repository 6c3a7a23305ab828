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
        .recv_timeout(Duration::from_secs(120))
        .expect("the function answered within 120 s");
    let (kind, body) = result.split_once(' ').expect("kind and body");
    Invocation {
        kind: kind.to_owned(),
        body: serde_json::from_str(body).expect("JSON body"),
        logs: std::fs::read_to_string(logs.path()).expect("read logs"),
    }
}

#[tokio::test]
async fn an_apply_invocation_returns_the_report_and_logs_json() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let event = json!({"command": "apply", "config": demo_config()});
    let out = invoke(emu, &event, 900_000, &[]);
    assert_eq!(out.kind, "response", "{}\n{}", out.body, out.logs);
    assert_eq!(out.body["mode"], "apply");
    assert_eq!(out.body["summary"]["failed"], 0);
    assert_eq!(out.body["summary"]["targets"], 33);
    assert_eq!(sets(emu, ADMIN, "eu-west-1").await[0].2, "ACTIVE");
    // Every log line is JSON; target lines carry the account and region.
    let lines: Vec<Value> = out
        .logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["account"] == "777777777777" && l["span"]["region"] == "eu-west-1"),
        "{}",
        out.logs
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
}

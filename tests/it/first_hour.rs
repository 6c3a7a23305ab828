//! What a new user meets in the first hour: no credentials, an endpoint
//! that does not answer, the default logs, the text report's names, and the
//! small conveniences of the command line.

use std::path::Path;
use std::process::Command;

use crate::common::gs::{config, emulator_env, seed_demo};
use crate::common::run::Run;
use crate::common::{Emulator, emulator};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

/// `guardsync ARGS` in `dir` with exactly `env` (and PATH).
fn bare(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guardsync"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("run guardsync"))
}

/// `guardsync ARGS` against the emulator, text output.
fn against(emu: &Emulator, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guardsync"));
    Run::from(
        emulator_env(&mut cmd, emu)
            .args(args)
            .output()
            .expect("run guardsync"),
    )
}

#[test]
fn without_credentials_one_message_names_the_chain_and_what_to_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "", "", "");
    let home = dir.path().display().to_string();
    let base = [
        ("HOME", home.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        // Never reached: credentials are resolved before any call.
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
    ];
    let c = cfg.to_str().expect("utf-8");
    let out = bare(dir.path(), &["plan", "--config", c], &base);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one message, no SDK dumps:\n{}", out.stderr);
    assert!(
        lines[0].starts_with(
            "error: no AWS credentials found. guardsync reads them as the AWS CLI does, and \
             tried: the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); the \
             `default` profile in ~/.aws/config and ~/.aws/credentials (no AWS_PROFILE is set)"
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[0]
            .contains("Set AWS_PROFILE to a profile for which `aws sts get-caller-identity` works")
    );

    let mut with_profile = base.to_vec();
    with_profile.push(("AWS_PROFILE", "nosuch"));
    let out = bare(dir.path(), &["plan", "--config", c], &with_profile);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("the profile `nosuch` (AWS_PROFILE) in ~/.aws/config and ~/.aws/credentials: is it spelled as there?"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_endpoint_that_does_not_answer_shows_every_retry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "", "", "retry:\n  max_attempts: 3\n");
    let c = cfg.to_str().expect("utf-8");
    let out = bare(
        dir.path(),
        &["plan", "--config", c],
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKIAGUARDSYNCTEST"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("GUARDSYNC_RETRY_INITIAL_BACKOFF_MS", "5"),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    for attempt in ["attempt 2 of 3", "attempt 3 of 3"] {
        assert!(
            out.stderr.lines().any(|l| l.contains(" WARN retrying ")
                && l.contains(" in us-east-1 (")
                && l.contains(attempt)
                && l.ends_with(") after Connection refused (os error 111)")),
            "{attempt}:\n{}",
            out.stderr
        );
    }
}

/// At the default level, a log line is a sentence: one per target that
/// changed or failed, no Rust debug formatting, no SDK dumps.
#[tokio::test]
async fn default_logs_are_one_sentence_per_changed_or_failed_target() {
    let emu = emulator();
    let _guard = emu.lock().await;
    crate::common::gs::seed_fast(emu, "failures").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        &REGIONS,
        "",
        "",
        "alerts:\n  min_severity: 7\n  emails: [secops@example.com]\n",
    );
    let c = cfg.to_str().expect("utf-8");
    let out = against(emu, &["apply", "--config", c, "--format", "json"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let report = out.json();
    let lines: Vec<&str> = out.stderr.lines().collect();
    for l in &lines {
        for bad in [
            "step=",
            "status=",
            " { ",
            "ErrorMetadata",
            "starting wave",
            "target done",
        ] {
            assert!(!l.contains(bad), "{bad:?} in {l}");
        }
        assert!(l.len() < 600, "a {}-character line: {l}", l.len());
    }
    let targets = report["targets"].as_array().expect("targets");
    let mut want: Vec<String> = targets
        .iter()
        .filter(|t| {
            ["changed", "failed", "activating"].contains(&t["status"].as_str().unwrap_or(""))
        })
        .map(|t| {
            format!(
                "{} {} ({})",
                t["account_id"].as_str().unwrap_or(""),
                t["region"].as_str().unwrap_or(""),
                t["placement"].as_str().unwrap_or("")
            )
        })
        .collect();
    want.sort();
    let mut got: Vec<String> = lines
        .iter()
        .filter_map(|l| l.split_once(" INFO ").or_else(|| l.split_once(" WARN ")))
        .map(|(_, m)| m)
        .filter(|m| m.starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|m| m.split_once("): ").map(|(head, _)| format!("{head})")))
        .collect();
    got.sort();
    assert_eq!(got, want, "{}", out.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" WARN 444444444444 eu-west-1 (unknown): failed: ")),
        "{}",
        out.stderr
    );
    assert!(
        lines.iter().any(|l| l.ends_with(
            " INFO 111111111111 us-east-1 (admin): changed: created threat_intel_set \
             \"FireHOL-Level1\", created alert_topic \"guardsync-findings\", created alert_rule \
             \"guardsync-findings\""
        )),
        "{}",
        out.stderr
    );

    // A retry narrowed to an account that did not fail retries nothing (it
    // used to retry everything).
    emu.clear_calls().await;
    let out = against(
        emu,
        &[
            "apply",
            "--config",
            c,
            "--retry-failed",
            "--account",
            "777777777777",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(
            "Nothing to retry within --account/--region: the 1 target(s) of the last apply \
             that failed or were not run are elsewhere"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(
        crate::common::gs::mutating_calls(emu).await,
        Vec::<String>::new()
    );
}

/// The text report names the standalone and excluded accounts and says why
/// an account is standalone.
#[tokio::test]
async fn the_text_report_names_standalone_and_excluded_accounts() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        &REGIONS,
        "",
        "",
        "organization:\n  exclude_accounts: [\"131313131313\"]\n",
    );
    let c = cfg.to_str().expect("utf-8");
    let out = against(emu, &["plan", "--config", c]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let section = out
        .stdout
        .split_once("Standalone accounts (their own list and rules; their findings are not centralised in the administrator):\n")
        .map(|(_, rest)| rest.split("\n\n").next().unwrap_or_default())
        .unwrap_or_else(|| panic!("no standalone section:\n{}", out.stdout));
    insta::assert_snapshot!(section);
    assert!(
        out.stdout
            .contains("Excluded by configuration (not looked at):\n  131313131313 legacy-lab\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_configuration_can_be_named_positionally_by_environment_or_by_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    config(dir.path(), &REGIONS, "", "", "");
    let valid = |run: &Run| {
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout.starts_with("guardsync.yaml: valid\n"),
            "{}",
            run.stdout
        );
    };
    valid(&bare(dir.path(), &["validate", "guardsync.yaml"], &[]));
    valid(&bare(dir.path(), &["validate"], &[]));
    valid(&bare(
        dir.path(),
        &["validate"],
        &[("GUARDSYNC_CONFIG", "guardsync.yaml")],
    ));
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let missing = bare(elsewhere.path(), &["validate"], &[]);
    assert_eq!(missing.code, 2);
    assert_eq!(
        missing.stderr.trim_end(),
        "guardsync.yaml: there is no such file: name the configuration with --config FILE (or \
         GUARDSYNC_CONFIG; guardsync.yaml in the current folder when neither is set); \
         config/example.yaml in guardsync's repository is a complete, commented one"
    );
    let typo = bare(dir.path(), &["plan", "--region", "eu-wst-1"], &[]);
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr.contains("\"eu-wst-1\" is not an AWS Region where GuardDuty is offered; did you mean \"eu-west-1\"?"),
        "{}",
        typo.stderr
    );
}

/// A file named on the command line wins over GUARDSYNC_CONFIG.
#[test]
fn a_named_file_overrides_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    config(dir.path(), &REGIONS, "", "", "");
    let out = bare(
        dir.path(),
        &["validate", "guardsync.yaml"],
        &[("GUARDSYNC_CONFIG", "elsewhere.yaml")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// A reader that goes away (`guardsync validate | head -0`) is no error:
/// the command's own exit code stands (it used to panic, exit 101).
#[test]
fn a_closed_pipe_on_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    config(dir.path(), &REGIONS, "", "", "");
    let mut child = Command::new(env!("CARGO_BIN_EXE_guardsync"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .args(["validate", "guardsync.yaml"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start guardsync");
    // Close the reading end before guardsync writes anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

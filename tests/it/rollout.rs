//! Staged rollout against the demo organization: waves, the failure
//! tolerance, the run record and `apply --retry-failed` (issue #9).
//!
//! Without `bucket.manage_policy` the standalone accounts' GuardDuty cannot
//! read the list, so their sets go to ERROR: a canary wave that catches a bad
//! rollout before it reaches the rest of the organization.

use std::path::{Path, PathBuf};

use crate::common::gs::{RUN_RECORD, config, mutating_calls, run, seed_demo, sets};
use crate::common::{ADMIN, emulator};
use serde_json::Value;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const WAVES: &str =
    "rollout:\n  waves:\n    - regions: [us-east-1]\n    - regions: [eu-west-1]\n    - rest\n";

/// The demo without the lab account, with canary waves by region.
fn rollout_config(dir: &Path, tolerance: &str, manage_policy: bool) -> PathBuf {
    config(
        dir,
        &REGIONS,
        "",
        &format!("  manage_policy: {manage_policy}\n"),
        &format!(
            "organization:\n  exclude_accounts: [\"131313131313\"]\n{WAVES}  failure_tolerance: {tolerance}\n"
        ),
    )
}

fn waves(report: &Value) -> Vec<String> {
    report["waves"]
        .as_array()
        .expect("waves")
        .iter()
        .map(|w| {
            format!(
                "{} {} {} targets, {} failed: {}",
                w["wave"],
                w["selects"].as_str().unwrap_or(""),
                w["targets"],
                w["failed"],
                w["outcome"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Managed targets with their wave and how they ended.
fn managed(report: &Value) -> Vec<String> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["placement"] == "admin" || t["placement"] == "standalone")
        .map(|t| {
            format!(
                "{} {} wave {} {}{}",
                t["account_id"].as_str().unwrap_or(""),
                t["region"].as_str().unwrap_or(""),
                t["wave"],
                t["status"].as_str().unwrap_or(""),
                if t["not_run"] == true {
                    " (not run)"
                } else {
                    ""
                }
            )
        })
        .collect()
}

#[tokio::test]
async fn a_failed_canary_wave_stops_the_rollout() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = rollout_config(dir.path(), "0", false);

    // plan shows which wave each target belongs to, and never stops.
    let plan = run(emu, "plan", &cfg);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(
        waves(&plan.json()),
        [
            "1 regions us-east-1 11 targets, 0 failed: done",
            "2 regions eu-west-1 11 targets, 0 failed: done",
            "3 rest 11 targets, 0 failed: done",
        ]
    );

    emu.clear_calls().await;
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    assert_eq!(
        waves(&report),
        [
            "1 regions us-east-1 11 targets, 1 failed: stopped",
            "2 regions eu-west-1 11 targets, 0 failed: not_started",
            "3 rest 11 targets, 0 failed: not_started",
        ]
    );
    assert_eq!(
        managed(&report),
        [
            "111111111111 ap-southeast-2 wave 3 failed (not run)",
            "111111111111 eu-west-1 wave 2 failed (not run)",
            "111111111111 us-east-1 wave 1 changed",
            "121212121212 ap-southeast-2 wave 3 failed (not run)",
            "444444444444 eu-west-1 wave 2 failed (not run)",
            "777777777777 ap-southeast-2 wave 3 failed (not run)",
            "777777777777 eu-west-1 wave 2 failed (not run)",
            "777777777777 us-east-1 wave 1 failed",
        ]
    );
    assert_eq!(report["summary"]["not_run"], 6);
    // Nothing was written outside the canary Region.
    let writes = mutating_calls(emu).await;
    assert!(
        writes.iter().all(|w| w.contains(" us-east-1 ")),
        "{writes:?}"
    );
    assert_eq!(sets(emu, ADMIN, "eu-west-1").await, []);
    assert!(
        out.stderr.contains(
            "failed, more than rollout.failure_tolerance (0); the later waves do not start"
        ),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn a_tolerance_lets_the_rollout_go_on_and_retry_failed_repairs_exactly_the_rest() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");

    // One failure per wave is tolerated: the canary passes, eu-west-1 has two.
    let out = run(emu, "apply", &rollout_config(dir.path(), "1", false));
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    assert_eq!(
        waves(&report),
        [
            "1 regions us-east-1 11 targets, 1 failed: done",
            "2 regions eu-west-1 11 targets, 2 failed: stopped",
            "3 rest 11 targets, 0 failed: not_started",
        ]
    );

    // Fix the cause (let guardsync manage the bucket policy) and retry.
    let fixed = rollout_config(dir.path(), "1", true);
    emu.clear_calls().await;
    let c = fixed.to_str().expect("utf-8");
    let retry = crate::common::gs::guardsync(
        emu,
        &["apply", "--config", c, "--retry-failed", "--format", "json"],
    );
    assert_eq!(retry.code, 0, "{}\n{}", retry.stdout, retry.stderr);
    let report = retry.json();
    assert!(report["retry_of"].is_string(), "{report}");
    let retried: Vec<String> = managed(&report);
    assert_eq!(
        retried,
        [
            "111111111111 ap-southeast-2 wave 3 changed",
            "121212121212 ap-southeast-2 wave 3 changed",
            "444444444444 eu-west-1 wave 2 changed",
            "777777777777 ap-southeast-2 wave 3 changed",
            "777777777777 eu-west-1 wave 2 changed",
            "777777777777 us-east-1 wave 1 changed",
        ]
    );
    let mut writes = mutating_calls(emu).await;
    writes.sort();
    let mut want = vec![
        "111111111111 us-east-1 PutBucketPolicy".to_owned(),
        RUN_RECORD.to_owned(),
        // Sets in ERROR are activated again; the ones never run are created.
        "444444444444 eu-west-1 UpdateThreatIntelSet".to_owned(),
        "777777777777 eu-west-1 UpdateThreatIntelSet".to_owned(),
        "777777777777 us-east-1 UpdateThreatIntelSet".to_owned(),
        "111111111111 ap-southeast-2 CreateThreatIntelSet".to_owned(),
        "121212121212 ap-southeast-2 CreateThreatIntelSet".to_owned(),
        "777777777777 ap-southeast-2 CreateThreatIntelSet".to_owned(),
    ];
    want.sort();
    assert_eq!(writes, want);
    for (account, region) in [("777777777777", "us-east-1"), (ADMIN, "ap-southeast-2")] {
        assert_eq!(
            sets(emu, account, region).await[0].2,
            "ACTIVE",
            "{account} {region}"
        );
    }

    // The record now says everything succeeded: nothing left to retry, and a
    // full apply changes nothing.
    let again = crate::common::gs::guardsync(emu, &["apply", "--config", c, "--retry-failed"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.starts_with("Nothing to retry"),
        "{}",
        again.stdout
    );
    emu.clear_calls().await;
    let full = run(emu, "apply", &fixed);
    assert_eq!(full.code, 0, "{}", full.stderr);
    assert_eq!(mutating_calls(emu).await, [RUN_RECORD]);
}

#[tokio::test]
async fn retry_failed_without_a_record_says_to_run_apply_first() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = rollout_config(dir.path(), "0", true);
    let c = cfg.to_str().expect("utf-8");
    let out = crate::common::gs::guardsync(emu, &["apply", "--config", c, "--retry-failed"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "failed to find a run record at s3://org-threat-lists-111111111111/guardduty/state/last-run.json: run `guardsync apply` first"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(mutating_calls(emu).await, Vec::<String>::new());
}

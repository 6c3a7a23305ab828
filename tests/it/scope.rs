//! What `--region`, `--account` and the STS Region may name: a `--region`
//! outside the configuration or an `--account` outside the organization is a
//! usage error (exit 2, with a "did you mean"), never an empty success; and
//! member credentials come from STS in `bucket.region`, a Region every
//! account has enabled.

use crate::common::emulator;
use crate::common::gs::{config, guardsync, seed_demo};

const REGIONS: [&str; 2] = ["eu-west-1", "ap-southeast-2"];

#[tokio::test]
async fn a_region_outside_the_configuration_is_a_usage_error_before_any_aws_call() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    emu.clear_calls().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "", "", "");
    let c = cfg.to_str().expect("utf-8 path");
    for command in ["plan", "apply"] {
        let out = guardsync(emu, &[command, "--config", c, "--region", "eu-west-2"]);
        assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        assert!(
            out.stderr.contains(
                "--region eu-west-2 is not one of the configured regions \
                 (eu-west-1, ap-southeast-2); did you mean eu-west-1?"
            ),
            "{}",
            out.stderr
        );
    }
    assert_eq!(emu.calls().await, Vec::new());
}

#[tokio::test]
async fn an_account_outside_the_organization_is_a_usage_error_before_any_write() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    emu.clear_calls().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "", "", "");
    let c = cfg.to_str().expect("utf-8 path");
    let out = guardsync(emu, &["apply", "--config", c, "--account", "777777777778"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(
            "--account 777777777778 is not an ACTIVE account of the organization within \
             organization.include_accounts/include_ous; did you mean 777777777777?"
        ),
        "{}",
        out.stderr
    );
    let writes: Vec<_> = emu
        .calls()
        .await
        .into_iter()
        .filter(|c| c.mutating)
        .collect();
    assert_eq!(writes, Vec::new());

    // An account of the organization, even excluded, is in scope.
    let excluded = config(
        dir.path(),
        &REGIONS,
        "",
        "",
        "organization:\n  exclude_accounts: [\"777777777777\"]\n",
    );
    let c = excluded.to_str().expect("utf-8 path");
    let out = guardsync(
        emu,
        &[
            "plan",
            "--config",
            c,
            "--account",
            "777777777777",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    let placements: Vec<&str> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["placement"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(placements, ["excluded", "excluded"]);
}

#[tokio::test]
async fn member_credentials_come_from_sts_in_the_buckets_region() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    emu.clear_calls().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // The bucket is in us-east-1, outside the Regions in scope.
    let cfg = config(dir.path(), &REGIONS, "", "", "");
    let c = cfg.to_str().expect("utf-8 path");
    let out = guardsync(emu, &["plan", "--config", c]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let sts: Vec<String> = emu
        .calls()
        .await
        .into_iter()
        .filter(|c| c.operation.as_deref() == Some("AssumeRole"))
        .map(|c| c.region.unwrap_or_default())
        .collect();
    assert!(!sts.is_empty(), "no AssumeRole in the call log");
    assert!(sts.iter().all(|r| r == "us-east-1"), "{sts:?}");
}

/// An opt-in Region an account has not enabled: the administrator sees the
/// member as `RegionDisabled`, a standalone account's own calls there are
/// refused. Either way the target is `region_disabled`, skipped, and not a
/// coverage gap; nothing fails.
#[tokio::test]
async fn an_opt_in_region_an_account_has_not_enabled_is_region_disabled() {
    let emu = emulator();
    let _guard = emu.lock().await;
    emu.seed("optin").await;
    emu.configure(serde_json::json!({"activation_delay_ms": 20}))
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &["us-east-1", "af-south-1"], "", "", "");
    let c = cfg.to_str().expect("utf-8 path");
    let out = guardsync(emu, &["plan", "--config", c, "--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    assert_eq!(
        crate::common::gs::outcomes(&report),
        [
            "111111111111 af-south-1 admin pending",
            "111111111111 us-east-1 admin pending",
            "222222222222 af-south-1 region_disabled skipped",
            "222222222222 us-east-1 member unchanged",
            "333333333333 af-south-1 region_disabled skipped",
            "333333333333 us-east-1 standalone pending",
            "999999999999 af-south-1 no_detector skipped",
            "999999999999 us-east-1 no_detector skipped",
        ]
    );
    assert_eq!(report["summary"]["coverage_gaps"], 2);
    assert_eq!(report["summary"]["failed"], 0);

    let out = guardsync(emu, &["apply", "--config", c]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("region_disabled"), "{}", out.stdout);
}

//! `guardsync plan` and `guardsync apply` end to end: the binary against the
//! local organization (`tests/emulator/scenarios/demo.yaml`), asserting on
//! what the emulator holds afterwards, on the JSON report and on the call log.

use crate::common::gs::{
    BUCKET, RUN_RECORD, config, failures, guardsync, mutating_calls, narrow_bucket_policy,
    outcomes, run, seed_demo, sets,
};
use crate::common::{ADMIN, Emulator, emulator};

/// The demo's standalone account (in every region).
const STANDALONE: &str = "777777777777";

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
/// A set guardsync does not own, created by someone else in the administrator account.
async fn create_foreign_set(emu: &Emulator, region: &str, name: &str) {
    let gd = aws_sdk_guardduty::Client::new(&emu.sdk(region).await);
    let det = gd.list_detectors().send().await.expect("detectors");
    let det = det.detector_ids().first().expect("a detector").clone();
    gd.create_threat_intel_set()
        .detector_id(det)
        .name(name)
        .format(aws_sdk_guardduty::types::ThreatIntelSetFormat::Txt)
        .location(format!("s3://{BUCKET}/partner/list.txt"))
        .activate(false)
        .send()
        .await
        .expect("create a foreign set");
}

const DEMO_TARGETS: [&str; 33] = [
    "101010101010 ap-southeast-2 member unchanged",
    "101010101010 eu-west-1 member unchanged",
    "101010101010 us-east-1 member unchanged",
    "111111111111 ap-southeast-2 admin pending",
    "111111111111 eu-west-1 admin pending",
    "111111111111 us-east-1 admin pending",
    "121212121212 ap-southeast-2 standalone pending",
    "121212121212 eu-west-1 member unchanged",
    "121212121212 us-east-1 member unchanged",
    "131313131313 ap-southeast-2 no_detector skipped",
    "131313131313 eu-west-1 no_detector skipped",
    "131313131313 us-east-1 standalone pending",
    "222222222222 ap-southeast-2 member unchanged",
    "222222222222 eu-west-1 member unchanged",
    "222222222222 us-east-1 member unchanged",
    "333333333333 ap-southeast-2 member unchanged",
    "333333333333 eu-west-1 member unchanged",
    "333333333333 us-east-1 member unchanged",
    "444444444444 ap-southeast-2 member unchanged",
    "444444444444 eu-west-1 standalone pending",
    "444444444444 us-east-1 member unchanged",
    "555555555555 ap-southeast-2 no_detector skipped",
    "555555555555 eu-west-1 member unchanged",
    "555555555555 us-east-1 member unchanged",
    "666666666666 ap-southeast-2 other_admin skipped",
    "666666666666 eu-west-1 other_admin skipped",
    "666666666666 us-east-1 other_admin skipped",
    "777777777777 ap-southeast-2 standalone pending",
    "777777777777 eu-west-1 standalone pending",
    "777777777777 us-east-1 standalone pending",
    "999999999999 ap-southeast-2 no_detector skipped",
    "999999999999 eu-west-1 no_detector skipped",
    "999999999999 us-east-1 no_detector skipped",
];

#[tokio::test]
async fn plan_apply_converge_and_a_second_apply_changes_nothing() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    create_foreign_set(emu, "us-east-1", "partner-list").await;
    emu.clear_calls().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "", "", "");

    // plan: every change shown, nothing written.
    let plan = run(emu, "plan", &cfg);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let report = plan.json();
    assert_eq!(outcomes(&report), DEMO_TARGETS);
    assert_eq!(report["list"]["changed"], true);
    assert_eq!(mutating_calls(emu).await, Vec::<String>::new());
    let admin_us = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["account_id"] == ADMIN && t["region"] == "us-east-1")
        .expect("the administrator in us-east-1");
    let kinds: Vec<(&str, &str)> = admin_us["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["resource"].as_str().unwrap_or(""),
                c["action"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("threat_intel_set", "create"), ("bucket_policy", "create")]
    );
    assert_eq!(admin_us["unmanaged"][0]["name"], "partner-list");

    // apply: every admin and standalone target gets an ACTIVE set at the new key.
    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let report = apply.json();
    let expected: Vec<String> = DEMO_TARGETS
        .iter()
        .map(|t| t.replace("pending", "changed"))
        .collect();
    assert_eq!(outcomes(&report), expected);
    let sha = report["list"]["sha256"]
        .as_str()
        .expect("sha256")
        .to_owned();
    let key = format!("guardduty/lists/{sha}.txt");
    // The set's location is the object's S3 URI, the form GuardDuty's user
    // guide documents.
    let location = format!("s3://{BUCKET}/{key}");
    for (account, region) in REGIONS
        .iter()
        .map(|r| (ADMIN, *r))
        .chain(REGIONS.iter().map(|r| (STANDALONE, *r)))
        .chain([("444444444444", "eu-west-1")])
    {
        let ours: Vec<_> = sets(emu, account, region)
            .await
            .into_iter()
            .filter(|s| s.0 == "FireHOL-Level1")
            .collect();
        assert_eq!(
            ours,
            [(
                "FireHOL-Level1".to_owned(),
                location.clone(),
                "ACTIVE".to_owned(),
                true
            )],
            "{account} {region}"
        );
    }
    // Members and gaps untouched; the foreign set untouched.
    for (account, region) in [
        ("222222222222", "us-east-1"),
        ("444444444444", "us-east-1"),
        ("555555555555", "eu-west-1"),
    ] {
        assert_eq!(sets(emu, account, region).await, [], "{account} {region}");
    }
    let foreign: Vec<_> = sets(emu, ADMIN, "us-east-1")
        .await
        .into_iter()
        .filter(|s| s.0 == "partner-list")
        .collect();
    assert_eq!(
        foreign,
        [(
            "partner-list".to_owned(),
            format!("s3://{BUCKET}/partner/list.txt"),
            "INACTIVE".to_owned(),
            false
        )]
    );

    // A second apply makes no mutating call but its own run record (the README
    // §5's one exception), and plan then shows no changes and writes nothing.
    emu.clear_calls().await;
    let again = run(emu, "apply", &cfg);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["summary"]["changed"], 0);
    assert_eq!(mutating_calls(emu).await, [RUN_RECORD]);
    emu.clear_calls().await;
    let c = cfg.to_str().expect("utf-8");
    let plan = guardsync(emu, &["plan", "--config", c, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    assert_eq!(mutating_calls(emu).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_content_change_reactivates_every_managed_set() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let regions = ["us-east-1", "eu-west-1"];
    let first = run(emu, "apply", &config(dir.path(), &regions, "", "", ""));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let old_sha = first.json()["list"]["sha256"]
        .as_str()
        .expect("sha")
        .to_owned();

    // A new allowlist entry changes the list's content.
    let cfg = config(
        dir.path(),
        &regions,
        "  allowlist: [\"1.10.16.0/20\"]\n",
        "",
        "",
    );
    let c = cfg.to_str().expect("utf-8");
    let plan = guardsync(emu, &["plan", "--config", c, "--detailed-exitcode"]);
    assert_eq!(plan.code, 4, "{}\n{}", plan.stdout, plan.stderr);
    emu.clear_calls().await;
    let second = run(emu, "apply", &cfg);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let report = second.json();
    let new_sha = report["list"]["sha256"].as_str().expect("sha").to_owned();
    assert_ne!(new_sha, old_sha);
    let updated: Vec<String> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["status"] == "changed")
        .map(|t| {
            format!(
                "{} {} {}",
                t["account_id"].as_str().unwrap_or(""),
                t["region"].as_str().unwrap_or(""),
                t["changes"][0]["action"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        updated,
        [
            "111111111111 eu-west-1 update",
            "111111111111 us-east-1 update",
            "131313131313 us-east-1 update",
            "444444444444 eu-west-1 update",
            "777777777777 eu-west-1 update",
            "777777777777 us-east-1 update",
        ]
    );
    let mut writes = mutating_calls(emu).await;
    writes.sort();
    let mut expected = vec![
        // The list, its manifest and the run record.
        "111111111111 us-east-1 PutObject".to_owned(),
        "111111111111 us-east-1 PutObject".to_owned(),
        RUN_RECORD.to_owned(),
    ];
    for (a, r) in [
        (ADMIN, "eu-west-1"),
        (ADMIN, "us-east-1"),
        ("131313131313", "us-east-1"),
        ("444444444444", "eu-west-1"),
        (STANDALONE, "eu-west-1"),
        (STANDALONE, "us-east-1"),
    ] {
        expected.push(format!("{a} {r} TagResource"));
        expected.push(format!("{a} {r} UpdateThreatIntelSet"));
    }
    expected.sort();
    assert_eq!(writes, expected);
    for region in regions {
        let s = sets(emu, STANDALONE, region).await;
        assert!(s[0].1.ends_with(&format!("{new_sha}.txt")), "{s:?}");
        assert_eq!(s[0].2, "ACTIVE");
    }
}

#[tokio::test]
async fn failures_stay_with_their_own_targets() {
    let emu = emulator();
    let _guard = emu.lock().await;
    crate::common::gs::seed_fast(emu, "failures").await;
    let dir = tempfile::tempdir().expect("tempdir");
    // us-west-2: the administrator has no detector there. Without the bucket
    // policy, standalone accounts cannot read the list: their sets go to ERROR.
    let cfg = config(
        dir.path(),
        &["us-east-1", "eu-west-1", "us-west-2"],
        "",
        "  manage_policy: false\n",
        "",
    );
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    let failures = failures(&report);
    insta::assert_snapshot!(failures.join("\n"));
    // The administrator's own regions still got their sets; the standalone
    // account's sets went to ERROR: GuardDuty there cannot read the object.
    for region in ["us-east-1", "eu-west-1"] {
        assert_eq!(sets(emu, ADMIN, region).await[0].2, "ACTIVE");
        assert_eq!(sets(emu, STANDALONE, region).await[0].2, "ERROR");
    }
    assert_eq!(report["summary"]["failed"], failures.len());
}

#[tokio::test]
async fn a_set_that_cannot_read_the_new_list_goes_back_to_the_previous_one() {
    let emu = emulator();
    let _guard = emu.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let regions = ["eu-west-1"];
    let (org, old_key) = crate::common::gs::demo_after_first_apply(emu, dir.path(), &regions).await;

    // Someone narrows the bucket policy to the old object only, and guardsync
    // is told not to manage it: GuardDuty in the standalone account can read
    // the old list but not the next one.
    narrow_bucket_policy(emu, &org, &old_key).await;
    let cfg = config(
        dir.path(),
        &regions,
        "  allowlist: [\"1.10.16.0/20\"]\n",
        "  manage_policy: false\n",
        "",
    );
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    let failed: Vec<(&str, &str)> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["status"] == "failed")
        .map(|t| {
            (
                t["account_id"].as_str().unwrap_or(""),
                t["error"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // Both standalone accounts of eu-west-1, nothing else.
    assert_eq!(failed.len(), 2, "{failed:?}");
    for (account, error) in &failed {
        assert!(["444444444444", STANDALONE].contains(account), "{account}");
        assert!(error.contains("status ERROR"), "{error}");
        assert!(error.contains("put back the previous location"), "{error}");
    }
    // The sets point at the old list again and GuardDuty reads it.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let s = sets(emu, STANDALONE, "eu-west-1").await;
    assert!(s[0].1.ends_with(&old_key), "{s:?}");
    assert_eq!(s[0].2, "ACTIVE");
    // The administrator, the bucket owner, moved on.
    let a = sets(emu, ADMIN, "eu-west-1").await;
    assert!(!a[0].1.ends_with(&old_key), "{a:?}");
    assert_eq!(a[0].2, "ACTIVE");
}

/// Threat entity lists take threat list slots (the stricter reading of
/// GuardDuty's quota): with six in the administrator's detector, its set
/// cannot be created and that target fails saying so, before any write there.
#[tokio::test]
async fn threat_entity_lists_count_towards_the_six() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    emu.add_threat_entity_sets(ADMIN, "eu-west-1", &["e1", "e2", "e3", "e4", "e5", "e6"])
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &["eu-west-1"], "", "", "");
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let failed = failures(&out.json());
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].starts_with(
            "111111111111 eu-west-1: needs 1 threat list slot(s) for \"FireHOL-Level1\" but \
             has 0 free: GuardDuty allows 6 per detector and 6 threat entity list(s) take the \
             others; nothing was changed here"
        ),
        "{failed:?}"
    );
    assert_eq!(sets(emu, ADMIN, "eu-west-1").await, Vec::new());
}

//! Suppression rules end to end against the demo organization: the filters
//! guardsync owns follow `suppression_rules` in every admin and standalone
//! target; other filters are never touched; `plan` says how many current
//! findings each new or changed rule would archive (issue #5).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::gs::{RUN_RECORD, config, failures, mutating_calls, run, seed_demo};
use crate::common::{ADMIN, Emulator, emulator};
use serde_json::Value;

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
const STANDALONE: &str = "777777777777";

fn rules_config(dir: &Path, rules: &str) -> PathBuf {
    config(
        dir,
        &REGIONS,
        "",
        "",
        &format!(
            "organization:\n  exclude_accounts: [\"131313131313\"]\nsuppression_rules:\n{rules}"
        ),
    )
}

const FIRST: &str = "  - name: internal-scanner
    description: Our own vulnerability scanner
    rank: 1
    criteria:
      type: { equals: [\"Recon:EC2/Portscan\"] }
  - name: noisy-low
    rank: 2
    criteria:
      severity: { less_than: 4 }
  - name: lab-instances
    rank: 3
    criteria:
      resource.instanceDetails.tags.key: { equals: [lab] }
";

/// internal-scanner narrowed to one address and moved after a new rule;
/// noisy-low moved down; lab-instances removed; trusted-partner new.
const SECOND: &str = "  - name: trusted-partner
    rank: 1
    criteria:
      service.action.networkConnectionAction.remoteIpDetails.ipAddressV4: { equals: [\"203.0.113.9\", \"203.0.113.8\"] }
  - name: internal-scanner
    description: Our own vulnerability scanner
    rank: 2
    criteria:
      type: { equals: [\"Recon:EC2/Portscan\"] }
      service.action.networkConnectionAction.remoteIpDetails.ipAddressV4: { equals: [\"198.51.100.7\"] }
  - name: noisy-low
    rank: 3
    criteria:
      severity: { less_than: 4 }
";

/// Filters in one detector: name -> (rank, owned).
async fn filters(emu: &Emulator, account: &str, region: &str) -> BTreeMap<String, (i64, bool)> {
    let v = emu.guardduty(account, region).await;
    v["filters"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap_or_default().to_owned(),
                (
                    f["rank"].as_i64().unwrap_or_default(),
                    f["tags"]["managed-by"] == "guardsync",
                ),
            )
        })
        .collect()
}

/// A filter someone else made in the administrator's us-east-1 detector.
async fn create_foreign_filter(emu: &Emulator) {
    let gd = aws_sdk_guardduty::Client::new(&emu.sdk("us-east-1").await);
    let det = gd.list_detectors().send().await.expect("detectors");
    let det = det.detector_ids().first().expect("a detector").clone();
    let criteria = aws_sdk_guardduty::types::FindingCriteria::builder()
        .criterion(
            "type",
            aws_sdk_guardduty::types::Condition::builder()
                .equals("Policy:IAMUser/RootCredentialUsage")
                .build(),
        )
        .build();
    gd.create_filter()
        .detector_id(det)
        .name("soc-root-usage")
        .action(aws_sdk_guardduty::types::FilterAction::Noop)
        // The only position an empty detector has: ranks are positions.
        .rank(1)
        .finding_criteria(criteria)
        .send()
        .await
        .expect("create a foreign filter");
}

/// `(resource, name, action)` and the detail lines of every filter change of one target.
fn filter_changes(report: &Value, account: &str, region: &str) -> Vec<String> {
    let t = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["account_id"] == account && t["region"] == region)
        .expect("the target");
    t["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["resource"] == "filter")
        .map(|c| {
            let detail: Vec<&str> = c["detail"]
                .as_array()
                .expect("detail")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            format!(
                "{} {}: {}",
                c["action"].as_str().unwrap_or(""),
                c["name"].as_str().unwrap_or(""),
                detail.join(" | ")
            )
        })
        .collect()
}

#[tokio::test]
async fn rules_converge_in_one_apply_and_plan_counts_what_they_would_archive() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    create_foreign_filter(emu).await;
    emu.clear_calls().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = rules_config(dir.path(), FIRST);

    // The demo's findings in the administrator's us-east-1 detector: 3 open
    // Portscans (and 1 already archived), 1 High SSH brute force, 1 Low.
    let plan = run(emu, "plan", &cfg);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let report = plan.json();
    insta::assert_snapshot!(filter_changes(&report, ADMIN, "us-east-1").join("\n"));
    assert_eq!(mutating_calls(emu).await, Vec::<String>::new());

    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let want: BTreeMap<String, (i64, bool)> = [
        ("internal-scanner", 1),
        ("lab-instances", 3),
        ("noisy-low", 2),
    ]
    .into_iter()
    .map(|(n, r)| (n.to_owned(), (r, true)))
    .collect();
    for (account, region) in [
        (ADMIN, "eu-west-1"),
        (STANDALONE, "us-east-1"),
        (STANDALONE, "eu-west-1"),
        ("444444444444", "eu-west-1"),
    ] {
        assert_eq!(
            filters(emu, account, region).await,
            want,
            "{account} {region}"
        );
    }
    // Where another tool's filter comes first, guardsync's go after it, in
    // their order.
    let mut admin_us: BTreeMap<String, (i64, bool)> = want
        .iter()
        .map(|(n, (r, owned))| (n.clone(), (r + 1, *owned)))
        .collect();
    admin_us.insert("soc-root-usage".into(), (1, false));
    assert_eq!(filters(emu, ADMIN, "us-east-1").await, admin_us);
    // Members have none: the administrator's rules cover them.
    assert_eq!(
        filters(emu, "222222222222", "us-east-1").await,
        BTreeMap::new()
    );

    // Reordered, changed, removed and added: one apply converges.
    let cfg = rules_config(dir.path(), SECOND);
    let plan = run(emu, "plan", &cfg);
    insta::assert_snapshot!(
        "second_plan",
        filter_changes(&plan.json(), ADMIN, "us-east-1").join("\n")
    );
    emu.clear_calls().await;
    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let mut writes = mutating_calls(emu).await;
    writes.sort();
    let mut expected = vec![RUN_RECORD.to_owned()];
    for (a, r) in [
        (ADMIN, "us-east-1"),
        (ADMIN, "eu-west-1"),
        (STANDALONE, "us-east-1"),
        (STANDALONE, "eu-west-1"),
        ("444444444444", "eu-west-1"),
    ] {
        // lab-instances goes, trusted-partner comes last, and
        // internal-scanner (changed) and noisy-low move after it.
        for op in [
            "DeleteFilter",
            "UpdateFilter",
            "UpdateFilter",
            "CreateFilter",
        ] {
            expected.push(format!("{a} {r} {op}"));
        }
    }
    expected.sort();
    assert_eq!(writes, expected);
    let want: BTreeMap<String, (i64, bool)> = [
        ("internal-scanner", 2),
        ("noisy-low", 3),
        ("trusted-partner", 1),
    ]
    .into_iter()
    .map(|(n, r)| (n.to_owned(), (r, true)))
    .collect();
    assert_eq!(filters(emu, STANDALONE, "eu-west-1").await, want);
    // The other tool's filter stays first; guardsync's follow in order.
    let admin_us = filters(emu, ADMIN, "us-east-1").await;
    assert_eq!(admin_us["soc-root-usage"], (1, false));
    assert_eq!(admin_us["trusted-partner"], (2, true));
    assert_eq!(admin_us["internal-scanner"], (3, true));
    assert_eq!(admin_us["noisy-low"], (4, true));

    // Converged: a second apply writes nothing but its run record.
    emu.clear_calls().await;
    let again = run(emu, "apply", &cfg);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(mutating_calls(emu).await, [RUN_RECORD]);
}

#[tokio::test]
async fn a_foreign_filter_named_like_a_rule_fails_that_target_with_the_adoption_hint() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    create_foreign_filter(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = rules_config(
        dir.path(),
        "  - name: soc-root-usage\n    rank: 1\n    criteria:\n      type: { equals: [x] }\n",
    );
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let report = out.json();
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].starts_with("111111111111 us-east-1: "),
        "{failed:?}"
    );
    let t = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["status"] == "failed")
        .expect("failed target");
    let error = t["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("a filter named \"soc-root-usage\" exists and is not managed by guardsync"),
        "{error}"
    );
    assert!(error.contains("aws guardduty tag-resource --resource-arn arn:aws:guardduty:us-east-1:111111111111:detector/"), "{error}");
    // The threat list still went in: one part failing does not stop the others.
    assert_eq!(t["changes"][0]["resource"], "threat_intel_set");
}

/// A rule removed, then added again under its name and rank with other
/// criteria: its create is a new request, not a retry of the first one
/// (whose idempotency token GuardDuty would refuse with other parameters).
#[tokio::test]
async fn a_rule_deleted_and_added_again_with_other_criteria_is_created_anew() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = |types: &str| {
        format!(
            "  - name: internal-scanner\n    rank: 1\n    criteria:\n      type: {{ equals: [{types}] }}\n"
        )
    };
    let first = rules_config(dir.path(), &rule("\"Recon:EC2/Portscan\""));
    let out = run(emu, "apply", &first);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let none = config(
        dir.path(),
        &REGIONS,
        "",
        "",
        "organization:\n  exclude_accounts: [\"131313131313\"]\n",
    );
    let out = run(emu, "apply", &none);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(filters(emu, ADMIN, "us-east-1").await, BTreeMap::new());

    let again = rules_config(
        dir.path(),
        &rule("\"UnauthorizedAccess:EC2/SSHBruteForce\""),
    );
    let out = run(emu, "apply", &again);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(failures(&out.json()), Vec::<String>::new());
    let v = emu.guardduty(ADMIN, "us-east-1").await;
    assert_eq!(
        v["filters"][0]["findingCriteria"]["criterion"]["type"]["equals"],
        serde_json::json!(["UnauthorizedAccess:EC2/SSHBruteForce"]),
        "{v}"
    );
}

/// Another tool's filter inserted before, between and after guardsync's
/// shifts their positions: guardsync keeps only their relative order, so it
/// rewrites nothing.
#[tokio::test]
async fn foreign_filters_that_shift_guardsyncs_never_make_it_rewrite_them() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = rules_config(dir.path(), FIRST);
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    // Before (rank 1), between (rank 3) and after (rank 6) guardsync's three.
    let gd = aws_sdk_guardduty::Client::new(&emu.sdk("us-east-1").await);
    let det = gd.list_detectors().send().await.expect("detectors");
    let det = det.detector_ids().first().expect("a detector").clone();
    for (name, rank) in [("soc-first", 1), ("soc-between", 3), ("soc-last", 6)] {
        let criteria = aws_sdk_guardduty::types::FindingCriteria::builder()
            .criterion(
                "severity",
                aws_sdk_guardduty::types::Condition::builder()
                    .greater_than_or_equal(8)
                    .build(),
            )
            .build();
        gd.create_filter()
            .detector_id(&det)
            .name(name)
            .action(aws_sdk_guardduty::types::FilterAction::Noop)
            .rank(rank)
            .finding_criteria(criteria)
            .send()
            .await
            .expect("create a foreign filter");
    }
    let shifted = filters(emu, ADMIN, "us-east-1").await;
    assert_eq!(shifted["internal-scanner"], (2, true));
    assert_eq!(shifted["noisy-low"], (4, true));
    assert_eq!(shifted["lab-instances"], (5, true));

    emu.clear_calls().await;
    let plan = run(emu, "plan", &cfg);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(
        filter_changes(&plan.json(), ADMIN, "us-east-1"),
        Vec::<String>::new()
    );
    let again = run(emu, "apply", &cfg);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(mutating_calls(emu).await, [RUN_RECORD]);
    assert_eq!(filters(emu, ADMIN, "us-east-1").await, shifted);
}

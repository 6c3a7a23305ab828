//! The call budget (issue #7): every run reports its AWS calls per
//! operation; for a seeded organization they are exactly what the formula of
//! `docs/CALLS.md` gives, and the emulator's call log agrees with the report.
//! With `probe: needed`, associated members cost no call of their own: calls
//! grow with regions × pages of the organization (one GetMembers per Region
//! for a page's 20 accounts), not with accounts × regions.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::gs::{config, guardsync, run, seed_demo};
use crate::common::{Emulator, emulator};
use serde_json::Value;

/// `service:Operation` -> calls, from the report.
fn reported(report: &Value) -> BTreeMap<String, u64> {
    report["calls"]
        .as_object()
        .expect("calls")
        .iter()
        .map(|(k, v)| (k.clone(), v["calls"].as_u64().unwrap_or_default()))
        .collect()
}

/// `service:Operation` -> calls, from the emulator's call log.
async fn logged(emu: &Emulator) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for c in emu.calls().await {
        let key = format!(
            "{}:{}",
            c.service.unwrap_or_default(),
            c.operation.unwrap_or_default()
        );
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

/// The organization's shape, as `docs/CALLS.md` names it.
struct Shape {
    /// Accounts listed by Organizations (ACTIVE or not).
    org_accounts: u64,
    /// Regions in scope.
    regions: u64,
    /// GetMembers calls, summed over the regions: one per Region for each
    /// page of the organization with an account to ask about.
    member_lookups: u64,
    /// Accounts that need their role: not an associated member in every region.
    roles: u64,
    /// (account, region) pairs of those accounts where they are not members: probed.
    probes: u64,
    /// Of the probes, those that found a detector (GetAdministratorAccount).
    probes_with_detector: u64,
    /// Managed targets: the administrator's regions plus standalone pairs.
    managed: u64,
    /// Sets per managed detector (1 once converged).
    sets: u64,
    /// Filters per managed detector (0 here: no suppression rules).
    filters: u64,
    /// Threat lists configured.
    lists: u64,
    /// 1 with a trusted list.
    trusted: u64,
    /// Suppression rules with `archive_existing`.
    archiving: u64,
}

/// The calls of a steady-state run (nothing to change), per operation.
fn steady(s: &Shape, apply: bool) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::from([
        ("organizations:DescribeOrganization".to_owned(), 1),
        (
            "organizations:ListAccounts".to_owned(),
            s.org_accounts.div_ceil(20),
        ),
        ("guardduty:ListDetectors".to_owned(), s.regions + s.probes),
        ("guardduty:GetMembers".to_owned(), s.member_lookups),
        ("sts:AssumeRole".to_owned(), s.roles),
        (
            "guardduty:GetAdministratorAccount".to_owned(),
            s.probes_with_detector,
        ),
        ("guardduty:ListThreatIntelSets".to_owned(), s.managed),
        ("guardduty:GetThreatIntelSet".to_owned(), s.managed * s.sets),
        ("guardduty:ListIPSets".to_owned(), s.managed * s.trusted),
        ("guardduty:GetIPSet".to_owned(), s.managed * s.trusted),
        ("guardduty:ListFilters".to_owned(), s.managed),
        ("guardduty:GetFilter".to_owned(), s.managed * s.filters),
        ("guardduty:ListFindings".to_owned(), s.managed * s.archiving),
        // Alerts not configured: one look per administrator region for a rule to remove.
        ("events:DescribeRule".to_owned(), s.regions),
        // The manifest, whether each list object is still there, the bucket policy.
        ("s3:GetObject".to_owned(), 1),
        ("s3:HeadObject".to_owned(), s.lists + s.trusted),
        ("s3:GetBucketPolicy".to_owned(), 1),
    ]);
    if apply {
        // The lease (taken, given back) and the run record.
        m.insert("s3:PutObject".to_owned(), 2);
        m.insert("s3:DeleteObject".to_owned(), 1);
    }
    m.retain(|_, n| *n > 0);
    m
}

fn demo_config(dir: &Path) -> std::path::PathBuf {
    config(
        dir,
        &["us-east-1", "eu-west-1", "ap-southeast-2"],
        "",
        "",
        "organization:\n  exclude_accounts: [\"131313131313\"]\n",
    )
}

#[tokio::test]
async fn a_steady_state_run_makes_exactly_the_formulas_calls() {
    let emu = emulator();
    let _g = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = demo_config(dir.path());
    let first = run(emu, "apply", &cfg);
    assert_eq!(first.code, 0, "{}", first.stderr);

    // The demo: 12 accounts listed (one page), 3 regions of one GetMembers each;
    // roles for 121212, 444, 555, 666, 777, 999 (not members everywhere);
    // 12 probed pairs, 8 with a detector; 3 admin + 5 standalone targets.
    let demo = Shape {
        org_accounts: 12,
        regions: 3,
        member_lookups: 3,
        roles: 6,
        probes: 12,
        probes_with_detector: 8,
        managed: 8,
        sets: 1,
        filters: 0,
        lists: 1,
        trusted: 0,
        archiving: 0,
    };
    for (cmd, apply) in [("apply", true), ("plan", false)] {
        emu.clear_calls().await;
        let out = run(emu, cmd, &cfg);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let report = out.json();
        assert_eq!(reported(&report), steady(&demo, apply), "{cmd}: report");
        assert_eq!(logged(emu).await, steady(&demo, apply), "{cmd}: call log");
        let total: u64 = steady(&demo, apply).values().sum();
        assert_eq!(report["summary"]["api_calls"], total, "{cmd}");
        assert_eq!(report["summary"]["api_retries"], 0, "{cmd}");
    }
}

/// With L threat lists, a trusted list and an `archive_existing` rule: the
/// formula of `docs/CALLS.md` with `L = k = 2`, `t = 1`, `f = e = 1`.
#[tokio::test]
async fn with_two_lists_a_trusted_list_and_an_archiving_rule_the_formula_holds() {
    let emu = emulator();
    let _g = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let f = crate::common::gs::fixtures();
    let yaml = format!(
        "admin:\n  account_id: \"111111111111\"\n\
         regions: [us-east-1, eu-west-1, ap-southeast-2]\n\
         organization:\n  exclude_accounts: [\"131313131313\"]\n\
         feeds:\n\
         \x20 - name: level1\n    url: file://{f}/firehol_level1.netset\n\
         \x20 - name: blocklist_de\n    url: file://{f}/blocklist_de.ipset\n\
         threat_lists:\n\
         \x20 - name: FireHOL-Level1\n    feeds: [level1]\n    max_age_hours: null\n\
         \x20 - name: Blocklist-DE\n    feeds: [blocklist_de]\n    max_age_hours: null\n\
         trusted_list:\n  name: guardsync-trusted\n  cidrs: [\"198.51.100.7\"]\n\
         suppression_rules:\n  - name: internal-scanner\n    rank: 1\n    archive_existing: true\n\
         \x20   criteria:\n      type: {{ equals: [\"Recon:EC2/Portscan\"] }}\n\
         bucket:\n  name: {}\n  region: us-east-1\n",
        crate::common::gs::BUCKET,
        f = f.display()
    );
    let cfg = dir.path().join("guardsync.yaml");
    std::fs::write(&cfg, yaml).expect("write config");
    let first = run(emu, "apply", &cfg);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let shape = Shape {
        org_accounts: 12,
        regions: 3,
        member_lookups: 3,
        roles: 6,
        probes: 12,
        probes_with_detector: 8,
        managed: 8,
        sets: 2,
        filters: 1,
        lists: 2,
        trusted: 1,
        archiving: 1,
    };
    for (cmd, apply) in [("apply", true), ("plan", false)] {
        emu.clear_calls().await;
        let out = run(emu, cmd, &cfg);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let report = out.json();
        assert_eq!(reported(&report), steady(&shape, apply), "{cmd}: report");
        assert_eq!(logged(emu).await, steady(&shape, apply), "{cmd}: call log");
    }
}

#[tokio::test]
async fn members_cost_no_call_of_their_own() {
    let emu = emulator();
    let _g = emu.lock().await;
    emu.seed("members60").await;
    emu.configure(serde_json::json!({"activation_delay_ms": 20}))
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &["us-east-1", "eu-west-1"], "", "", "");
    let first = run(emu, "apply", &cfg);
    assert_eq!(first.code, 0, "{}", first.stderr);
    emu.clear_calls().await;
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // 62 accounts: 4 pages of ListAccounts, each with a GetMembers in each
    // region; only the management account (no detector, not a member)
    // needs its role and a probe in each region.
    let shape = Shape {
        org_accounts: 62,
        regions: 2,
        member_lookups: 8,
        roles: 1,
        probes: 2,
        probes_with_detector: 0,
        managed: 2,
        sets: 1,
        filters: 0,
        lists: 1,
        trusted: 0,
        archiving: 0,
    };
    assert_eq!(reported(&out.json()), steady(&shape, true));
    assert_eq!(logged(emu).await, steady(&shape, true));
    // 124 (account, region) targets (2 admin, 120 member, 2 no_detector) for 32 calls.
    assert_eq!(out.json()["summary"]["api_calls"], 32);
    assert_eq!(out.json()["summary"]["targets"], 124);
}

#[tokio::test]
async fn throttling_shows_as_retries_in_the_summary() {
    let emu = emulator();
    let _g = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = demo_config(dir.path());
    assert_eq!(run(emu, "apply", &cfg).code, 0);
    // The first two GetMembers attempts are throttled, then all are answered.
    emu.faults(serde_json::json!({"rules": [
        {"service": "guardduty", "operation": "GetMembers", "throttle_count": 2}
    ]}))
    .await;
    let out = run(emu, "plan", &cfg);
    emu.faults(serde_json::json!({"rules": []})).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    let lm = &report["calls"]["guardduty:GetMembers"];
    assert_eq!(lm["calls"], 3, "{report}");
    assert_eq!(lm["attempts"], 5, "{lm}");
    assert_eq!(report["summary"]["api_retries"], 2);
}

#[tokio::test]
async fn a_run_narrowed_to_one_account_asks_about_that_account_only() {
    let emu = emulator();
    let _g = emu.lock().await;
    emu.seed("members60").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &["us-east-1", "eu-west-1"], "", "", "");
    emu.clear_calls().await;
    let c = cfg.to_str().expect("utf-8 path");
    let member = "200000000042";
    let out = guardsync(
        emu,
        &[
            "plan",
            "--config",
            c,
            "--format",
            "json",
            "--account",
            member,
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    let placed: Vec<String> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| format!("{} {} {}", t["account_id"], t["region"], t["placement"]))
        .collect();
    assert_eq!(
        placed,
        [
            format!("\"{member}\" \"eu-west-1\" \"member\""),
            format!("\"{member}\" \"us-east-1\" \"member\""),
        ]
    );
    // Checking `--account` lists the whole organization in one Region:
    // its 61 accounts besides the administrator, asked about 50 at most a
    // call (2 calls). The run then asks only about the page that holds the
    // account, once per Region; the other pages hold no target.
    let mut by_region = BTreeMap::new();
    for call in emu.calls().await {
        if call.operation.as_deref() == Some("GetMembers") {
            *by_region
                .entry(call.region.unwrap_or_default())
                .or_insert(0) += 1;
        }
    }
    assert_eq!(
        by_region,
        BTreeMap::from([("eu-west-1".to_owned(), 1), ("us-east-1".to_owned(), 3)])
    );
}

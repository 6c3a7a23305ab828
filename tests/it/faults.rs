//! AWS faults (issue #8): `guardsync apply --format json` against the demo
//! organization while the emulator injects faults, then without them.
//!
//! Under every fault, the report still accounts for every (account, region)
//! a fault-free `plan` finds, each exactly once: either in its desired state
//! (its placement as the plan saw it, no error, and for `admin`/`standalone`
//! targets an owned ThreatIntelSet ACTIVE at the published list and every
//! suppression rule's filter, as the emulator holds them) or `failed` with
//! a non-empty reason. Nothing goes silently missing, and no target is
//! silently re-classified (a throttled probe must not turn a standalone
//! account into a coverage gap). Exit code 3 when any target failed, 0
//! otherwise. Then an apply without faults converges (exit 0, every target
//! in its desired state) and the next one writes nothing but its run record.
//!
//! The faults: throttling, 5xx and latency on every service at once (the
//! SDK's retries absorb them); AssumeRole failing for two accounts (those
//! targets fail, naming the role; the others go on); a region whose endpoint
//! resets every connection (that region's targets fail with the transport
//! error, the other region converges); a ThreatIntelSet that GuardDuty puts
//! in ERROR because the standalone accounts cannot read the list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::common::gs::{RUN_RECORD, config, mutating_calls, run, seed_demo, sets};
use crate::common::run::Run;
use crate::common::{ADMIN, Emulator, emulator};
use serde_json::{Value, json};

/// Two regions keep each run short; `us-east-1` first: the bucket, the STS
/// endpoint and Organizations are there.
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// Every resource kind: two suppression rules (filters) and alerts (topic,
/// subscription, rule) besides the ThreatIntelSet and the bucket policy.
const RULES_AND_ALERTS: &str = "suppression_rules:
  - {name: internal-scanner, rank: 1, criteria: {type: {equals: [Recon:EC2/Portscan]},
     service.action.networkConnectionAction.remoteIpDetails.ipAddressV4: {equals: [198.51.100.7]}}}
  - {name: low-severity-probes, rank: 2, description: Port probes we do not act on,
     criteria: {type: {equals: [Recon:EC2/PortProbeUnprotectedPort]}, severity: {less_than: 4}}}
alerts: {min_severity: 7.0, emails: [secops@example.com]}
";
const RULE_NAMES: [&str; 2] = ["internal-scanner", "low-severity-probes"];

/// The role guardsync assumes in other accounts (the configuration's default).
const MEMBER_ROLE: &str = "GuardSyncMemberRole";

/// (account, region).
type Target = (String, String);

/// The demo organization, a configuration for it, and its targets with their
/// placements as a fault-free `plan` reports them; the emulator is ours
/// while it lives.
struct Org {
    _guard: tokio::sync::MutexGuard<'static, ()>,
    dir: tempfile::TempDir,
    cfg: PathBuf,
    placements: BTreeMap<Target, String>,
}

impl Org {
    /// Take the emulator, seed the demo and plan without faults; `bucket`
    /// goes into `bucket:`.
    async fn prepare(emu: &'static Emulator, bucket: &str) -> Org {
        let guard = emu.lock().await;
        seed_demo(emu).await;
        emu.faults(json!({"rules": []})).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &REGIONS, "", bucket, RULES_AND_ALERTS);
        let plan = run(emu, "plan", &cfg);
        assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
        let placements = by_target(&plan.json())
            .into_iter()
            .map(|(k, t)| (k, t["placement"].as_str().unwrap_or_default().to_owned()))
            .collect::<BTreeMap<_, _>>();
        assert!(
            placements.values().any(|p| p == "standalone") && placements.len() > 10,
            "{placements:?}"
        );
        Org {
            _guard: guard,
            dir,
            cfg,
            placements,
        }
    }

    /// The targets of the plan whose placement is one of `placements`, in `regions`.
    fn select(&self, regions: &[&str], placements: &[&str]) -> BTreeSet<Target> {
        self.placements
            .iter()
            .filter(|((_, r), p)| regions.contains(&r.as_str()) && placements.contains(&p.as_str()))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Check a faulted apply (see [`check`]); its failed targets and their errors.
    async fn apply_under_faults(&self, emu: &Emulator) -> BTreeMap<Target, String> {
        let out = run(emu, "apply", &self.cfg);
        let failed = check(emu, self, &out).await;
        emu.faults(json!({"rules": []})).await;
        failed
    }

    /// Without faults: one apply converges, the next writes only its run record.
    async fn converges(&self, emu: &Emulator) {
        emu.faults(json!({"rules": []})).await;
        let second = run(emu, "apply", &self.cfg);
        assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
        assert_eq!(check(emu, self, &second).await, BTreeMap::new());
        emu.clear_calls().await;
        let third = run(emu, "apply", &self.cfg);
        assert_eq!(third.code, 0, "{}\n{}", third.stdout, third.stderr);
        assert_eq!(third.json()["summary"]["changed"], 0, "{}", third.stdout);
        assert_eq!(mutating_calls(emu).await, [RUN_RECORD]);
    }
}

/// The report's targets by (account, region); a target reported twice panics.
fn by_target(report: &Value) -> BTreeMap<Target, &Value> {
    let mut out = BTreeMap::new();
    for t in report["targets"].as_array().expect("targets") {
        let key = (
            t["account_id"].as_str().expect("account_id").to_owned(),
            t["region"].as_str().expect("region").to_owned(),
        );
        assert!(
            out.insert(key.clone(), t).is_none(),
            "{key:?} reported twice"
        );
    }
    out
}

/// The report of an apply accounts for every target of `org` exactly once;
/// each one that did not fail is in its desired state, each failed one says
/// why; the exit code is 3 exactly when one failed. Returns the failures.
async fn check(emu: &Emulator, org: &Org, out: &Run) -> BTreeMap<Target, String> {
    assert!(
        matches!(out.code, 0 | 3),
        "exit {}: the run stopped before reporting its targets\n{}\n{}",
        out.code,
        out.stdout,
        out.stderr
    );
    let report = out.json();
    let targets = by_target(&report);
    let reported: BTreeSet<&Target> = targets.keys().collect();
    let expected: BTreeSet<&Target> = org.placements.keys().collect();
    assert_eq!(reported, expected, "the report must list every target once");
    let sha = report["list"]["sha256"].as_str().expect("list sha256");
    let mut failed = BTreeMap::new();
    for (key, t) in &targets {
        if t["status"] == "failed" {
            let error = t["error"].as_str().unwrap_or_default().trim();
            assert!(!error.is_empty(), "{key:?} failed without a reason: {t}");
            failed.insert(key.clone(), error.to_owned());
        } else {
            assert_desired(emu, sha, key, &org.placements[key], t).await;
        }
    }
    assert_eq!(
        out.code,
        if failed.is_empty() { 0 } else { 3 },
        "{failed:#?}\n{}",
        out.stderr
    );
    assert_eq!(
        report["summary"]["failed"],
        failed.len(),
        "{}",
        report["summary"]
    );
    failed
}

/// A target that did not fail: the placement the plan saw, no error, and in
/// `admin`/`standalone` targets the set and the filters, as GuardDuty holds them.
async fn assert_desired(emu: &Emulator, sha: &str, key: &Target, planned: &str, t: &Value) {
    let (account, region) = key;
    assert_eq!(t["placement"], planned, "{key:?}: {t}");
    assert!(t["error"].is_null(), "{key:?}: {t}");
    let statuses: &[&str] = match planned {
        "admin" | "standalone" => &["changed", "unchanged"],
        "member" => &["unchanged"],
        _ => &["skipped"],
    };
    let status = t["status"].as_str().unwrap_or_default();
    assert!(statuses.contains(&status), "{key:?}: {t}");
    if !matches!(planned, "admin" | "standalone") {
        return;
    }
    let ours: Vec<_> = sets(emu, account, region)
        .await
        .into_iter()
        .filter(|s| s.0 == "FireHOL-Level1")
        .collect();
    assert_eq!(ours.len(), 1, "{key:?}: {ours:?}");
    let (_, location, set_status, owned) = &ours[0];
    assert!(
        *owned && set_status == "ACTIVE" && location.ends_with(&format!("/{sha}.txt")),
        "{key:?}: {ours:?}"
    );
    let gd = emu.guardduty(account, region).await;
    let filters: BTreeSet<&str> = gd["filters"]
        .as_array()
        .expect("filters")
        .iter()
        .filter(|f| f["tags"]["managed-by"] == "guardsync")
        .filter_map(|f| f["name"].as_str())
        .collect();
    for name in RULE_NAMES {
        assert!(filters.contains(name), "{key:?}: {filters:?}");
    }
}

/// How many calls of the log got `status`, and how many calls in all.
async fn answered(emu: &Emulator, statuses: &[u16]) -> (usize, usize) {
    let calls = emu.calls().await;
    let n = calls
        .iter()
        .filter(|c| statuses.contains(&c.status))
        .count();
    (n, calls.len())
}

/// Throttling and 5xx answers as the emulator shapes them, per protocol.
const THROTTLE_OR_5XX: [&str; 9] = [
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "SlowDown",
    "InternalServerErrorException",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "Rate exceeded",
];

#[tokio::test]
async fn throttling_5xx_and_latency_everywhere_are_retried() {
    let emu = emulator();
    let org = Org::prepare(emu, "").await;
    // 30% throttled; 5% of all calls a 500 (the rule draws throttling first,
    // so 0.05 / 0.7 of the rest); 50 to 200 ms each; every service, account
    // and region. retry.max_attempts is its default, 8.
    emu.faults(json!({"seed": 8, "rules": [{
        "latency_ms": 125, "jitter_ms": 75,
        "throttle_rate": 0.3, "error_rate": 0.0715,
    }]}))
    .await;
    emu.clear_calls().await;
    let started = std::time::Instant::now();
    let out = run(emu, "apply", &org.cfg);
    let (throttled, total) = answered(emu, &[429, 400, 503]).await;
    let (errors, _) = answered(emu, &[500]).await;
    let failed = check(emu, &org, &out).await;
    emu.faults(json!({"rules": []})).await;
    eprintln!(
        "throttling+5xx+latency: exit {}, {throttled} throttled and {errors} 5xx of {total} \
         calls, {} of {} targets failed, {:?}: {failed:#?}",
        out.code,
        failed.len(),
        org.placements.len(),
        started.elapsed()
    );
    // The faults were really there (about a third of the calls)...
    assert!(
        errors > 0 && (throttled + errors) * 5 >= total,
        "{throttled}+{errors} of {total}"
    );
    // ...and a call fails only after 8 attempts (0.335^8: about 1 in 6,000),
    // so a target that failed says which throttling or 5xx answer it got last.
    for (key, error) in &failed {
        assert!(
            THROTTLE_OR_5XX.iter().any(|c| error.contains(c)),
            "{key:?}: {error}"
        );
    }
    assert!(failed.len() <= 2, "{failed:#?}");
    // Each retried GuardDuty call's warning names the account it called as
    // (a probe's calls run outside any target's span), an account of the
    // organization; the standalone accounts' among them (their probes and
    // targets make some 70 calls, a third of them throttled or failed).
    let retried: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains("retrying guardduty:"))
        .collect();
    assert!(
        !retried.is_empty()
            && retried.iter().all(|l| {
                org.placements
                    .keys()
                    .any(|(a, _)| l.contains(&format!(" as {a} in ")))
            }),
        "{}",
        out.stderr
    );
    let standalone: BTreeSet<&str> = org
        .placements
        .iter()
        .filter(|(_, p)| *p == "standalone")
        .map(|((a, _), _)| a.as_str())
        .collect();
    assert!(
        retried.iter().any(|l| standalone
            .iter()
            .any(|a| l.contains(&format!(" as {a} in ")))),
        "{standalone:?}\n{}",
        out.stderr
    );
    org.converges(emu).await;
}

#[tokio::test]
async fn assume_role_failing_in_two_accounts_fails_their_targets_only() {
    let emu = emulator();
    let org = Org::prepare(emu, "").await;
    let broken = ["444444444444", "777777777777"];
    let role = |a: &str| format!("arn:aws:iam::{a}:role/{MEMBER_ROLE}");
    let rules: Vec<Value> = broken
        .iter()
        .map(|a| {
            json!({"service": "sts", "operation": "AssumeRole", "role_arn": role(a),
                   "error_rate": 1.0})
        })
        .collect();
    emu.faults(json!({ "rules": rules })).await;
    emu.clear_calls().await;
    let failed = org.apply_under_faults(emu).await;
    eprintln!("assume role: {failed:#?}");
    // Their targets that need the role fail (444444444444 is an associated
    // member in us-east-1: covered there without it); every other target is
    // in its desired state (checked above).
    let expected: BTreeSet<Target> = org
        .select(&REGIONS, &["standalone", "no_detector", "other_admin"])
        .into_iter()
        .filter(|(a, _)| broken.contains(&a.as_str()))
        .collect();
    assert_eq!(failed.keys().cloned().collect::<BTreeSet<_>>(), expected);
    for ((account, _), error) in &failed {
        assert!(error.contains(&role(account)), "{error}");
        assert!(error.contains("InternalFailure"), "{error}");
    }
    // One AssumeRole per account, each tried retry.max_attempts (8) times.
    let (answered_500, _) = answered(emu, &[500]).await;
    assert_eq!(answered_500, broken.len() * 8);
    org.converges(emu).await;
}

#[tokio::test]
async fn a_region_that_resets_every_connection_fails_that_region_only() {
    let emu = emulator();
    let org = Org::prepare(emu, "").await;
    let down = "eu-west-1";
    emu.faults(json!({"rules": [{"region": down, "reset_rate": 1.0}]}))
        .await;
    emu.clear_calls().await;
    let started = std::time::Instant::now();
    let failed = org.apply_under_faults(emu).await;
    eprintln!(
        "reset {down}: {} targets failed in {:?}: {failed:#?}",
        failed.len(),
        started.elapsed()
    );
    // Every target of that region fails (the administrator's view of it could
    // not be read: nothing there can be placed); us-east-1 converged (checked).
    let all_placements = [
        "admin",
        "member",
        "standalone",
        "no_detector",
        "other_admin",
    ];
    assert_eq!(
        failed.keys().cloned().collect::<BTreeSet<_>>(),
        org.select(&[down], &all_placements)
    );
    for error in failed.values() {
        assert!(error.contains(down), "{error}");
        assert!(
            ["dispatch failure", "io error", "connection"]
                .iter()
                .any(|w| error.contains(w)),
            "not a transport error: {error}"
        );
    }
    // The administrator's view of that region (ListDetectors) was tried
    // retry.max_attempts (8) times before its targets were given up.
    let admin_resets = emu
        .calls()
        .await
        .into_iter()
        .filter(|c| c.status == 0 && c.account.as_deref() == Some(ADMIN))
        .filter(|c| c.region.as_deref() == Some(down))
        .filter(|c| c.operation.as_deref() == Some("ListDetectors"))
        .count();
    assert_eq!(admin_resets, 8);
    org.converges(emu).await;
}

#[tokio::test]
async fn members_that_cannot_be_read_in_a_region_fail_its_targets_but_the_administrators() {
    let emu = emulator();
    let org = Org::prepare(emu, "").await;
    let down = "eu-west-1";
    emu.faults(
        json!({"rules": [{"service": "guardduty", "operation": "GetMembers",
                                 "region": down, "error_rate": 1.0}]}),
    )
    .await;
    let failed = org.apply_under_faults(emu).await;
    eprintln!("GetMembers down in {down}: {failed:#?}");
    // Without the administrator's view of its accounts nothing else there
    // can be placed; the administrator's own target needs only its
    // detector, and converged (checked).
    assert_eq!(
        failed.keys().cloned().collect::<BTreeSet<_>>(),
        org.select(
            &[down],
            &["member", "standalone", "no_detector", "other_admin"]
        )
    );
    for error in failed.values() {
        assert!(
            error.contains("failed to call GetMembers in account 111111111111, eu-west-1"),
            "{error}"
        );
        assert!(error.contains("InternalServerErrorException"), "{error}");
    }
    org.converges(emu).await;
}

#[tokio::test]
async fn a_set_in_error_fails_its_target_and_the_next_run_repairs_it() {
    let emu = emulator();
    // No bucket policy, and guardsync told not to put one: GuardDuty in the
    // standalone accounts cannot read the list, their sets end in ERROR.
    let org = Org::prepare(emu, "  manage_policy: false\n").await;
    let failed = org.apply_under_faults(emu).await;
    eprintln!("set in ERROR: {failed:#?}");
    assert_eq!(
        failed.keys().cloned().collect::<BTreeSet<_>>(),
        org.select(&REGIONS, &["standalone"])
    );
    for ((account, region), error) in &failed {
        assert!(error.contains("status ERROR"), "{error}");
        assert!(error.contains("bucket.manage_policy"), "{error}");
        let s = sets(emu, account, region).await;
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].2, "ERROR", "{account} {region}");
    }
    // With the policy managed again, the next apply repairs them.
    let org = Org {
        cfg: config(org.dir.path(), &REGIONS, "", "", RULES_AND_ALERTS),
        ..org
    };
    org.converges(emu).await;
}

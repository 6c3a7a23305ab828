//! The engine over the synthetic organization of `guardsync::sim`: the same
//! discovery, waves and fan-out as a real run, through the `cloud` traits,
//! at a size and speed the emulator cannot give. The call counts are the
//! formula of docs/CALLS.md applied to the synthetic shape.

use std::collections::BTreeMap;
use std::time::Duration;

use guardsync::report::{Mode, Report, Status};
use guardsync::sim::{self, Baseline, Shape, Synthetic};

/// 100 accounts (the administrator and 99 others: 9 standalone, 5 without
/// GuardDuty, 85 associated members) in 3 Regions, 2 suppression rules.
fn organization(baseline: Baseline) -> (Synthetic, guardsync::config::Config) {
    let shape = Shape {
        accounts: 100,
        regions: 3,
        standalone_percent: 10,
        no_detector_percent: 5,
        baseline,
        latency: Duration::ZERO,
        fail_listing_at_page: None,
        denied_roles_percent: 0,
    };
    let regions: Vec<_> = guardsync::config::regions::GUARDDUTY_REGIONS
        .iter()
        .take(3)
        .map(|r| guardsync::config::Region::parse(r).expect("region"))
        .collect();
    let config = sim::config(&regions, 32, "needed", 2);
    (Synthetic::new(shape, &config), config)
}

fn placements(r: &Report) -> BTreeMap<(String, String), usize> {
    let mut by = BTreeMap::new();
    for t in &r.targets {
        *by.entry((t.placement.to_string(), format!("{:?}", t.status)))
            .or_default() += 1;
    }
    by
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<(String, String), usize> {
    pairs
        .iter()
        .map(|(k, n)| {
            let (p, s) = k.split_once(' ').expect("placement status");
            ((p.to_owned(), s.to_owned()), *n)
        })
        .collect()
}

fn calls(sim: &Synthetic) -> BTreeMap<String, u64> {
    sim.calls()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn expect(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// The steady-state reads: ⌈A/20⌉ = 5 pages of accounts; R + P = 3 + 14·3
/// ListDetectors; one GetMembers a page and Region (5 · 3); N = 14 roles; P_d = 9·3
/// GetAdministratorAccount; T = 3 + 27 managed targets, each with one set
/// and two filters; one DescribeRule a Region.
const STEADY: &[(&str, u64)] = &[
    ("AssumeRole", 14),
    ("DescribeRule", 3),
    ("GetAdministratorAccount", 27),
    ("GetFilter", 60),
    ("GetMembers", 15),
    ("GetThreatIntelSet", 30),
    ("ListAccounts", 5),
    ("ListDetectors", 45),
    ("ListFilters", 30),
    ("ListThreatIntelSets", 30),
];

#[tokio::test]
async fn a_converged_organization_plans_no_change_with_the_documented_calls() {
    let (sim, config) = organization(Baseline::Converged);
    let report = sim::run(&sim, &config, Mode::Plan).await.expect("plan");
    assert_eq!(report.targets.len(), 300, "every (account, region) once");
    assert_eq!(
        placements(&report),
        counts(&[
            ("admin Unchanged", 3),
            ("member Unchanged", 255),
            ("no_detector Skipped", 15),
            ("standalone Unchanged", 27),
        ])
    );
    assert_eq!(calls(&sim), expect(STEADY));
    assert_eq!(
        report.summary.api_calls,
        STEADY.iter().map(|(_, n)| n).sum::<u64>()
    );
    assert_eq!(sim.written(), 0);
}

#[tokio::test]
async fn a_first_apply_creates_everywhere_it_manages_then_converges() {
    let (sim, config) = organization(Baseline::Empty);
    let plan = sim::run(&sim, &config, Mode::Plan).await.expect("plan");
    assert_eq!(plan.summary.pending, 30);
    let apply = sim::run(&sim, &config, Mode::Apply).await.expect("apply");
    assert_eq!(
        placements(&apply),
        counts(&[
            ("admin Changed", 3),
            ("member Unchanged", 255),
            ("no_detector Skipped", 15),
            ("standalone Changed", 27),
        ])
    );
    for t in apply.targets.iter().filter(|t| t.status == Status::Changed) {
        let what: Vec<String> = t
            .changes
            .iter()
            .map(|c| format!("{:?} {} {:?}", c.resource, c.name, c.action))
            .collect();
        assert_eq!(
            what,
            [
                "ThreatIntelSet FireHOL-Level1 Create",
                "Filter rule-0 Create",
                "Filter rule-1 Create"
            ],
            "{} {}",
            t.account_id,
            t.region
        );
    }
    assert_eq!(sim.written(), 30, "no write outside the managed targets");
    let again = sim::run(&sim, &config, Mode::Plan).await.expect("plan");
    assert_eq!(again.summary.pending, 0);
    assert_eq!(again.summary.unchanged, 285);
}

#[tokio::test]
async fn a_content_change_updates_and_reactivates_each_managed_set() {
    let (sim, config) = organization(Baseline::Outdated);
    sim::run(&sim, &config, Mode::Apply).await.expect("apply");
    let c = calls(&sim);
    // Per managed target: UpdateThreatIntelSet, TagResource, and one poll
    // that finds the set ACTIVE, on top of the steady-state reads.
    assert_eq!(c["UpdateThreatIntelSet"], 30);
    assert_eq!(c["TagResource"], 30);
    assert_eq!(c["GetThreatIntelSet"], 30 + 30);
    assert!(!c.contains_key("CreateThreatIntelSet"));
    assert!(!c.contains_key("UpdateFilter"));
    let again = sim::run(&sim, &config, Mode::Plan).await.expect("plan");
    assert_eq!(again.summary.pending, 0);
}

/// STS's quota is shared by every role of the run: however many targets run
/// at once, at most `discover::STS_CONCURRENCY` AssumeRole calls are in
/// flight, and every role is still assumed once.
#[tokio::test]
async fn assume_role_calls_are_bounded_whatever_the_concurrency() {
    let shape = Shape {
        accounts: 200,
        regions: 2,
        standalone_percent: 60,
        no_detector_percent: 0,
        baseline: Baseline::Converged,
        latency: Duration::from_millis(5),
        fail_listing_at_page: None,
        denied_roles_percent: 0,
    };
    let regions: Vec<_> = guardsync::config::regions::GUARDDUTY_REGIONS
        .iter()
        .take(2)
        .map(|r| guardsync::config::Region::parse(r).expect("region"))
        .collect();
    let config = sim::config(&regions, 128, "needed", 0);
    let sim = Synthetic::new(shape, &config);
    let report = sim::run(&sim, &config, Mode::Plan).await.expect("plan");
    assert_eq!(report.summary.failed, 0);
    // Accounts 1-199; those whose id ends in 00-59 are standalone.
    assert_eq!(sim.calls()["AssumeRole"], 119);
    // 128 targets start at once, over 119 accounts that need a role: the
    // bound is reached, never passed.
    assert_eq!(
        sim.most_roles_in_flight(),
        guardsync::discover::STS_CONCURRENCY.min(119)
    );
    const { assert!(guardsync::discover::STS_CONCURRENCY < 119) };
}

/// The organization's pages go to the fan-out as they come. One that cannot
/// be listed at all stops the run before any target (exit 1); a page that
/// fails later stops it too, after the targets already listed ran.
#[tokio::test]
async fn a_listing_that_fails_stops_the_run_and_names_the_call() {
    // The managed accounts (the administrator and the 9 standalone ones)
    // are all on the first page: 30 targets.
    for (page, written) in [(1, 0), (3, 30)] {
        let (sim, config) = organization(Baseline::Empty);
        let sim = {
            let mut shape = sim.shape().clone();
            shape.fail_listing_at_page = Some(page);
            Synthetic::new(shape, &config)
        };
        let err = sim::run(&sim, &config, Mode::Apply)
            .await
            .expect_err("the listing failed");
        assert_eq!(err.exit_code(), guardsync::error::ExitCode::Aborted);
        assert!(
            err.to_string()
                .starts_with("failed to list the organization: failed to call ListAccounts"),
            "{err}"
        );
        assert_eq!(sim.written(), written, "failing from page {page}");
    }
}

//! Reconcile every target: the bounded fan-out over the rollout's waves, and
//! for one (account, region) the composition of its resource kinds.
//!
//! Each resource kind has its own file with the same shape ([`plan`]):
//! observe, `plan(desired, observed) -> Plan` (pure), apply. A managed
//! target observes every kind at once, builds its whole [`TargetPlan`]
//! ([`plan_target`], pure), and then either reports it (plan, after
//! counting what each new suppression rule would hide) or carries it out
//! (apply). One target's failure never stops the others. Does I/O through
//! the [`crate::cloud`] traits.

pub mod alerts;
pub mod bucket_policy;
pub mod filters;
pub(crate) mod ip_set;
pub(crate) mod lists;
pub mod plan;
pub(crate) mod threat_set;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt, stream};
use tracing::Instrument;

use crate::cloud::Filter;
use crate::cloud::{Cloud, GuardDutyApi};
use crate::config::{Alerts, Rollout, SuppressionRule};
use crate::discover::{Discovery, Placed};
use crate::org::waves;
use crate::org::{Placement, Target};
use crate::report::{Change, Mode, Status, TargetReport, ThinVec, WaveOutcome, WaveReport};
use lists::Desired;
pub use plan::Timing;
use plan::{Outcome, Plan, TargetError};

/// What every target shares.
#[derive(Debug, Clone)]
pub struct Context<'a, C> {
    /// Where the calls go: AWS, or the synthetic organization of the `sim` feature.
    pub cloud: &'a C,
    /// plan or apply.
    pub mode: Mode,
    /// The lists every managed target should have.
    pub lists: DesiredLists,
    /// The account that owns the bucket (`ExpectedBucketOwner`).
    pub bucket_owner: String,
    /// `suppression_rules`, for every managed target.
    pub rules: &'a [SuppressionRule],
    /// `alerts`, for the administrator's targets (`None`: remove guardsync's).
    pub alerts: Option<&'a Alerts>,
    /// How many targets run at once.
    pub concurrency: usize,
    /// Waits and time limits.
    pub timing: Timing,
    /// When the run must be over (a Lambda's deadline), if ever.
    pub deadline: Option<tokio::time::Instant>,
    /// Becomes `true` when the run is asked to stop (SIGINT, SIGTERM): no
    /// target starts after that, and those in flight get [`GRACE`] to finish.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
}

/// The sets of both kinds every managed target should have.
#[derive(Debug, Clone, Default)]
pub struct DesiredLists {
    /// One ThreatIntelSet per threat list (per part of a split list).
    pub threat: Vec<Desired>,
    /// The trusted list's IPSet: `None` leaves IPSets alone (no trusted list
    /// configured, and none published before); `Some` of nothing deletes
    /// guardsync's.
    pub trusted: Option<Vec<Desired>>,
}

/// How long targets in flight may go on after a stop request.
pub(crate) const GRACE: Duration = Duration::from_secs(30);

/// How long before the deadline guardsync stops starting targets: room for
/// the targets in flight to finish and for the report and run record.
/// `GUARDSYNC_DEADLINE_MARGIN_MS` overrides it (tests).
pub(crate) fn deadline_margin() -> Duration {
    crate::tuning::duration(
        "GUARDSYNC_DEADLINE_MARGIN_MS",
        Duration::from_millis,
        Duration::from_secs(90),
    )
}

impl<C: Cloud> Context<'_, C> {
    /// Why no new target may start now: a stop request, or the deadline is too close.
    fn out_of_time(&self) -> Option<String> {
        if self.stop.as_ref().is_some_and(|s| *s.borrow()) {
            return Some(
                "not started: guardsync was interrupted (SIGINT or SIGTERM); run \
                 `guardsync apply --retry-failed` to finish"
                    .to_owned(),
            );
        }
        let deadline = self.deadline?;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        (left < deadline_margin()).then(|| {
            format!(
                "not started: {}s were left before the run's deadline (the Lambda's 15-minute \
                 limit); run `guardsync apply --retry-failed`, or run guardsync as a Fargate \
                 task for an organization this large",
                left.as_secs()
            )
        })
    }

    /// How long a target starting now may wait for GuardDuty to load a list:
    /// `threat_list.settle_seconds`, cut so that the wait ends well within
    /// the target's own time limit (a Lambda's deadline included).
    fn settle_limit(&self) -> Duration {
        let limit = self.target_limit();
        self.timing
            .settle_timeout
            .min(limit.saturating_sub(limit / 4))
    }

    /// The time limit of a target starting now: its own, cut to the deadline.
    fn target_limit(&self) -> Duration {
        let own = self.timing.target_timeout;
        match self.deadline {
            None => own,
            Some(d) => own.min(
                d.saturating_duration_since(tokio::time::Instant::now())
                    .saturating_sub(deadline_margin() / 3),
            ),
        }
    }
}

/// Run the rollout: wave after wave, each wave's targets concurrently; in
/// `apply`, a wave whose failures exceed the tolerance stops the rollout and
/// the managed targets of later waves are reported as not run. Each target is
/// placed ([`Discovery::place`]) inside the fan-out, then reconciled at once.
/// `targets` come a page of the organization at a time (each page's targets
/// ordered by account). Returns every target's report (ordered by account
/// then region) and each wave's outcome.
pub async fn rollout<C: Cloud>(
    ctx: &Context<'_, C>,
    discovery: &Discovery,
    targets: impl Stream<Item = Vec<Target>> + Send,
    rollout: Option<&Rollout>,
) -> (Vec<TargetReport>, Vec<WaveReport>) {
    // One wave (no `rollout`): every target starts as soon as it is listed.
    let Some(rollout) = rollout else {
        tracing::debug!("one wave: every target starts as soon as it is listed");
        let reports = run(ctx, discovery, targets).await;
        let failed = failures(&reports);
        if reports.is_empty() {
            return (reports, Vec::new());
        }
        let summary = WaveReport {
            wave: 1,
            selects: waves::describe(None, 1),
            targets: reports.len(),
            failed,
            outcome: WaveOutcome::Done,
        };
        return (reports, vec![summary]);
    };
    // Waves: every target must be known before the first wave ends.
    let tolerance = rollout.failure_tolerance;
    let mut by_wave: BTreeMap<u32, Vec<Target>> = BTreeMap::new();
    for t in targets.collect::<Vec<_>>().await.into_iter().flatten() {
        let w = waves::wave_of(Some(rollout), &t.account, &t.region);
        by_wave.entry(w).or_default().push(t);
    }
    let mut reports = Vec::new();
    let mut summary = Vec::new();
    let mut stopped: Option<String> = None;
    for (wave, targets) in by_wave {
        let total = targets.len();
        let mut done = match &stopped {
            None => {
                tracing::info!("wave {wave}: starting {total} targets");
                run(ctx, discovery, stream::iter([targets])).await
            }
            // Placed all the same (read-only), so that members and gaps are
            // reported as usual.
            Some(why) => {
                stream::iter(targets)
                    .map(|t| async move {
                        let p = discovery.place(ctx.cloud, t, Ok(())).await;
                        not_run(ctx, &p, why).await
                    })
                    .buffered(ctx.concurrency.max(1))
                    .collect()
                    .await
            }
        };
        let failed = failures(&done);
        let outcome = if stopped.is_some() {
            WaveOutcome::NotStarted
        } else if ctx.mode == Mode::Apply && waves::exceeds(tolerance, failed, total) {
            stopped = Some(format!(
                "not run: wave {wave} stopped the rollout: {failed} of {total} targets failed, \
                 rollout.failure_tolerance is {tolerance}"
            ));
            tracing::warn!(
                "wave {wave}: {failed} of {total} targets failed, more than \
                 rollout.failure_tolerance ({tolerance}); the later waves do not start"
            );
            WaveOutcome::Stopped
        } else {
            WaveOutcome::Done
        };
        for r in &mut done {
            r.wave = wave;
        }
        summary.push(WaveReport {
            wave,
            selects: waves::describe(Some(rollout), wave),
            targets: total,
            failed,
            outcome,
        });
        reports.extend(done);
    }
    in_order(&mut reports);
    (reports, summary)
}

/// Order the reports by account then region. Each target is there once:
/// an unstable sort gives the same order as a stable one, without its copy
/// of the reports (340,000 of them at 10,000 accounts in 34 Regions), and
/// reports already in order are only looked through.
fn in_order(reports: &mut [TargetReport]) {
    reports.sort_unstable_by(by_target);
}

/// The order of reports: by account, then region.
fn by_target(a: &TargetReport, b: &TargetReport) -> std::cmp::Ordering {
    (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region))
}

/// The targets of a wave that failed (those not run do not count).
fn failures(reports: &[TargetReport]) -> usize {
    reports
        .iter()
        .filter(|r| r.status == Status::Failed && !r.not_run)
        .count()
}

/// Resolves [`GRACE`] after a stop request; never without one.
async fn stopped_then_grace(stop: Option<tokio::sync::watch::Receiver<bool>>) {
    let Some(mut stop) = stop else {
        return std::future::pending().await;
    };
    if stop.wait_for(|s| *s).await.is_err() {
        // The sender is gone: nobody can ask to stop any more.
        return std::future::pending().await;
    }
    tokio::time::sleep(GRACE).await;
}

/// A target that was not started: targets with nothing to write get their
/// usual (call-free) report; managed ones, and those that could not be
/// placed without calls, are not run.
async fn not_run<C: Cloud>(ctx: &Context<'_, C>, p: &Placed, why: &str) -> TargetReport {
    if p.placement.is_managed() || matches!(p.placement, Placement::Unknown(_)) {
        let mut r = report(p, Status::Failed, Vec::new(), Some(why.to_owned()));
        r.not_run = true;
        r
    } else {
        target(ctx, p).await
    }
}

/// Place and reconcile every target, at most `ctx.concurrency` at once, and
/// return one report per target, ordered by account then region. `targets`
/// come in batches (a page of the organization, a wave), each ordered by
/// account.
///
/// Only targets with calls to make take one of the `concurrency` places,
/// and only once they can make them: an account's role is assumed first
/// ([`Discovery::prepare`], at most [`crate::discover::STS_CONCURRENCY`]
/// accounts at once, a few accounts ahead of the running targets), and a
/// target that its Region's administrator view settles without a call (an
/// associated member, an exclusion, ...: most targets of a large
/// organization) is reported at once.
pub async fn run<C: Cloud>(
    ctx: &Context<'_, C>,
    discovery: &Discovery,
    targets: impl Stream<Item = Vec<Target>> + Send,
) -> Vec<TargetReport> {
    let progress = Progress::new(0, ctx.mode);
    let progress = &progress;
    let notes = Notes::default();
    let notes = &notes;
    // The targets of the accounts prepared (their role, if needed, is in)
    // that have calls to make, a few accounts ahead of the running ones.
    let (ready, ready_in) =
        tokio::sync::mpsc::channel::<Vec<Placing>>(crate::discover::STS_CONCURRENCY);
    let mut at_once: Vec<TargetReport> = Vec::new();
    let at_once_ref = &mut at_once;
    let preparing = async move {
        let sender = &ready;
        targets
            .flat_map(|batch| stream::iter(by_account(batch)))
            .map(|account| async move {
                // Out of time, no call is made any more, not even to place.
                let known = if ctx.out_of_time().is_none() {
                    discovery.prepare(ctx.cloud, &account).await
                } else {
                    account.first().and_then(|t| discovery.known(&t.account))
                };
                (account, known)
            })
            .buffer_unordered(crate::discover::STS_CONCURRENCY)
            .for_each(move |(account, known)| {
                let mut calls = Vec::new();
                for t in account {
                    progress.listed();
                    match discovery.place_at_once(t, known.as_ref()) {
                        Ok(p)
                            if !p.placement.is_managed()
                                && !matches!(p.placement, Placement::Unknown(_)) =>
                        {
                            let mut r = unmanaged(&p);
                            progress.done(&r);
                            notes.share(&mut r);
                            at_once_ref.push(r);
                        }
                        placing => calls.push(placing),
                    }
                }
                async move {
                    if !calls.is_empty() {
                        // The receiver outlives this stream: it cannot be gone.
                        let _ = sender.send(calls).await;
                    }
                }
            })
            .await;
    };
    let mut reports: Vec<TargetReport> = Vec::new();
    let mut ready_in = ready_in;
    let running = futures::stream::poll_fn(move |cx| ready_in.poll_recv(cx))
        .flat_map(stream::iter)
        .map(|work| async move {
            // Out of time, no call is made any more, not even to place.
            let late = ctx.out_of_time();
            let p = match work {
                Ok(placed) => placed,
                Err(t) => {
                    discovery
                        .place(ctx.cloud, t, late.as_deref().map_or(Ok(()), Err))
                        .await
                }
            };
            // Only a target with work of its own, or a failure to tell, gets
            // a span: most targets of a large organization (associated
            // members, gaps, exclusions) need none and log nothing.
            let span = || target_span(&p.target);
            if let Some(why) = late.or_else(|| ctx.out_of_time()) {
                return not_run(ctx, &p, &why).instrument(span()).await;
            }
            if !p.placement.is_managed() {
                return match p.placement {
                    Placement::Unknown(_) => target(ctx, &p).instrument(span()).await,
                    _ => target(ctx, &p).await,
                };
            }
            let limit = ctx.target_limit();
            async {
                tokio::select! {
                    r = tokio::time::timeout(limit, target(ctx, &p)) => match r {
                        Ok(r) => r,
                        Err(_) => failed(
                            &p,
                            Vec::new(),
                            format!("did not finish within {}s", limit.as_secs()),
                        ),
                    },
                    () = stopped_then_grace(ctx.stop.clone()) => failed(
                        &p,
                        Vec::new(),
                        format!(
                            "interrupted: did not finish within the {}s grace period after \
                             SIGINT/SIGTERM; run `guardsync apply` again to converge",
                            GRACE.as_secs()
                        ),
                    ),
                }
            }
            .instrument(span())
            .await
        })
        .buffer_unordered(ctx.concurrency.max(1))
        .for_each(|mut r| {
            progress.done(&r);
            notes.share(&mut r);
            reports.push(r);
            std::future::ready(())
        });
    tokio::join!(preparing, running);
    progress.finish();
    merged(at_once, reports)
}

/// The span of a target's log lines: `target{account="…" region="…"}` in
/// the text logs, `span.account` and `span.region` in the JSON logs.
fn target_span(t: &Target) -> tracing::Span {
    tracing::info_span!(
        "target",
        account = t.account.as_str(),
        region = t.region.as_str()
    )
}

/// The notes of a run's reports that are written per target (why an
/// account is standalone, which administrator another one has), each text
/// kept once: an account's targets, and most standalone accounts, share one.
#[derive(Default)]
struct Notes(crate::util::Texts);

impl Notes {
    fn share(&self, r: &mut TargetReport) {
        use crate::report::PlacementKind;
        if !matches!(
            r.placement,
            PlacementKind::Standalone | PlacementKind::OtherAdmin
        ) {
            return;
        }
        if let Some(note) = &mut r.note {
            *note = self.0.get(note);
        }
    }
}

/// Two sets of reports as one, ordered by account then region. The larger
/// (the targets reported at once, in the order their accounts were listed:
/// already in order but for pages listed out of order) grows in place and
/// takes the other's reports from its end: 340,000 reports are neither
/// copied whole nor sorted from scratch.
fn merged(mut big: Vec<TargetReport>, mut small: Vec<TargetReport>) -> Vec<TargetReport> {
    if big.len() < small.len() {
        std::mem::swap(&mut big, &mut small);
    }
    in_order(&mut big);
    in_order(&mut small);
    // A stand-in without any allocation for the places about to be filled.
    let Some(vacant) = small.first().map(|r| TargetReport {
        account_id: r.account_id.clone(),
        account_name: None,
        region: r.region.clone(),
        placement: r.placement,
        wave: r.wave,
        status: r.status,
        changes: ThinVec::new(),
        error: None,
        not_run: false,
        note: None,
        unmanaged: ThinVec::new(),
        warnings: ThinVec::new(),
    }) else {
        return big;
    };
    let mut unplaced = big.len();
    big.resize(big.len() + small.len(), vacant);
    let mut free = big.len();
    while let Some(r) = small.pop() {
        while unplaced > 0 && by_target(&big[unplaced - 1], &r) == std::cmp::Ordering::Greater {
            free -= 1;
            big.swap(unplaced - 1, free);
            unplaced -= 1;
        }
        free -= 1;
        big[free] = r;
    }
    big
}

/// A target on its way to a place among the running ones: placed already
/// (its placement took no call), or to place.
type Placing = Result<Placed, Target>;

/// A batch of targets ordered by account, one vector per account.
fn by_account(batch: Vec<Target>) -> Vec<Vec<Target>> {
    let mut out: Vec<Vec<Target>> = Vec::new();
    for t in batch {
        match out.last_mut() {
            Some(last) if last.first().is_some_and(|l| l.account == t.account) => last.push(t),
            _ => out.push(vec![t]),
        }
    }
    out
}

/// One target, whatever its placement.
pub async fn target<C: Cloud>(ctx: &Context<'_, C>, p: &Placed) -> TargetReport {
    match &p.placement {
        // On the heap, allocated only for a target with something to
        // reconcile: its state is most of a running target's (kilobytes),
        // which every target's future would otherwise carry.
        Placement::Admin | Placement::Standalone(_) => Box::pin(managed(ctx, p)).await,
        _ => unmanaged(p),
    }
}

/// A target guardsync writes nothing to: its report says why (no call).
fn unmanaged(p: &Placed) -> TargetReport {
    let note = |status: Status, note: Arc<str>| TargetReport {
        note: Some(note),
        ..report(p, status, Vec::new(), None)
    };
    // One text shared by every target it is said of (most targets of a
    // large organization are covered members).
    macro_rules! shared {
        ($text:expr) => {{
            static TEXT: std::sync::LazyLock<Arc<str>> =
                std::sync::LazyLock::new(|| Arc::from($text));
            Arc::clone(&TEXT)
        }};
    }
    match &p.placement {
        Placement::Member => note(
            Status::Unchanged,
            shared!("covered by the administrator's list and rules"),
        ),
        Placement::NoDetector => note(
            Status::Skipped,
            shared!("GuardDuty is not enabled here: findings go unwatched"),
        ),
        Placement::OtherAdmin(other) => note(
            Status::Skipped,
            format!("associated with another GuardDuty administrator, {other}").into(),
        ),
        Placement::Excluded => note(Status::Skipped, shared!("excluded by configuration")),
        Placement::RegionDisabled => note(
            Status::Skipped,
            shared!("the account has not enabled this opt-in Region: GuardDuty cannot run here"),
        ),
        Placement::Unknown(reason) => failed(p, Vec::new(), reason.clone()),
        Placement::Admin | Placement::Standalone(_) => failed(
            p,
            Vec::new(),
            "a managed target was taken for one with nothing to write".into(),
        ),
    }
}

fn report(p: &Placed, status: Status, changes: Vec<Change>, error: Option<String>) -> TargetReport {
    TargetReport {
        account_id: p.target.account.clone(),
        account_name: None,
        region: p.target.region.clone(),
        placement: p.placement.kind(),
        wave: 1,
        status,
        changes: changes.into(),
        error: error.map(String::into_boxed_str),
        not_run: false,
        warnings: ThinVec::new(),
        note: match &p.placement {
            Placement::Standalone(why) => Some(
                format!(
                    "not an associated member ({why}): has its own list; its findings are not \
                     centralised"
                )
                .into(),
            ),
            _ => None,
        },
        unmanaged: ThinVec::new(),
    }
}

fn failed(p: &Placed, changes: Vec<Change>, error: String) -> TargetReport {
    tracing::debug!(error = error.as_str(), "target failed");
    report(p, Status::Failed, changes, Some(error))
}

/// What the resource kinds of a managed target found there. A kind whose
/// observation failed carries the error instead.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The detector's threat lists.
    pub sets: Result<lists::Found, TargetError>,
    /// The detector's IPSets, when the trusted list is managed.
    pub trusted: Option<Result<lists::Found, TargetError>>,
    /// The detector's filters.
    pub filters: Result<Vec<Filter>, TargetError>,
    /// The alerts of the region, in the administrator's targets only.
    pub alerts: Option<Result<alerts::Observed, TargetError>>,
}

/// What a managed target should have.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DesiredTarget<'a> {
    /// The threat lists' sets.
    pub sets: &'a [Desired],
    /// The trusted list's set (`None`: IPSets are left alone).
    pub trusted: Option<&'a [Desired]>,
    /// The suppression rules.
    pub rules: &'a [SuppressionRule],
    /// The alerts (administrator only): `Some(None)` removes guardsync's.
    pub alerts: Option<Option<&'a alerts::Desired>>,
}

/// The whole plan of one managed target: a value built from what was
/// observed, that tests can compare, and that apply carries out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetPlan {
    /// The threat lists.
    pub threat_sets: Plan<lists::Step>,
    /// The trusted list, when managed.
    pub trusted: Option<Plan<lists::Step>>,
    /// The suppression rules.
    pub filters: Plan<filters::Step>,
    /// The alerts, in the administrator's targets.
    pub alerts: Option<Plan<alerts::Step>>,
}

/// A kind's plan, or its observation's failure as a plan that only blocks.
fn planned_or<S, O>(
    observed: &Result<O, TargetError>,
    plan: impl FnOnce(&O) -> Plan<S>,
) -> Plan<S> {
    match observed {
        Ok(o) => plan(o),
        Err(e) => Plan {
            blocked: vec![e.clone()],
            ..Plan::default()
        },
    }
}

/// Decide every resource kind of a managed target. Pure: `set_arn` and
/// `filter_arn` name a set or filter of the target's detector for the
/// adoption hints.
pub(crate) fn plan_target(
    desired: &DesiredTarget<'_>,
    observed: &Observed,
    set_arn: impl Fn(crate::cloud::SetKind, &str) -> String,
    filter_arn: impl Fn(&str) -> String,
) -> TargetPlan {
    TargetPlan {
        threat_sets: planned_or(&observed.sets, |found| {
            lists::plan(&threat_set::KIND, desired.sets, found, |id| {
                set_arn(threat_set::KIND.set, id)
            })
        }),
        trusted: match (desired.trusted, &observed.trusted) {
            (Some(d), Some(o)) => Some(planned_or(o, |found| {
                lists::plan(&ip_set::KIND, d, found, |id| set_arn(ip_set::KIND.set, id))
            })),
            _ => None,
        },
        filters: planned_or(&observed.filters, |found| {
            filters::plan(desired.rules, found, filter_arn)
        }),
        alerts: match (&desired.alerts, &observed.alerts) {
            (Some(d), Some(o)) => Some(planned_or(o, |o| alerts::plan(*d, o))),
            _ => None,
        },
    }
}

/// An `admin` or `standalone` target: its ThreatIntelSet and suppression
/// rules, and in the administrator its alerts. The kinds are observed at
/// once, planned together and applied at once; one kind failing does not
/// keep the others from running, and the target fails with every reason.
async fn managed<C: Cloud>(ctx: &Context<'_, C>, p: &Placed) -> TargetReport {
    let Some(detector) = p.detector_id.as_deref() else {
        return failed(p, Vec::new(), "no GuardDuty detector id was found".into());
    };
    let (region, account) = (p.target.region.as_str(), p.target.account.as_str());
    let gd = ctx.cloud.guardduty(region, account, p.credentials.as_ref());
    let admin = p.placement == Placement::Admin;
    let sns = admin.then(|| ctx.cloud.sns(region, account));
    let events = admin.then(|| ctx.cloud.events(region, account));
    let clients = sns.as_ref().zip(events.as_ref());
    let desired_alerts = clients.map(|(sns, events)| alerts::desired(sns, events, ctx.alerts));

    // Observe.
    let observing_alerts = async {
        match (clients, &desired_alerts) {
            (Some((sns, events)), Some(d)) => Some(
                alerts::observe(sns, events, d.as_ref())
                    .await
                    .map_err(|e| TargetError::new(crate::report::Resource::AlertRule, e)),
            ),
            _ => None,
        }
    };
    let observing_trusted = async {
        match &ctx.lists.trusted {
            Some(d) => Some(lists::observe(&gd, &ip_set::KIND, detector, d).await),
            None => None,
        }
    };
    let (sets, trusted, filters, alerts) = tokio::join!(
        lists::observe(&gd, &threat_set::KIND, detector, &ctx.lists.threat),
        observing_trusted,
        filters::observe(&gd, detector),
        observing_alerts
    );
    let observed = Observed {
        sets,
        trusted,
        filters,
        alerts,
    };

    // Plan.
    let desired = DesiredTarget {
        sets: &ctx.lists.threat,
        trusted: ctx.lists.trusted.as_deref(),
        rules: ctx.rules,
        alerts: desired_alerts.as_ref().map(Option::as_ref),
    };
    let mut plan = plan_target(
        &desired,
        &observed,
        |kind, id| gd.set_arn(kind, detector, id),
        |name| gd.filter_arn(detector, name),
    );

    // Report (plan), or apply.
    filters::findings(&gd, detector, ctx.rules, &mut plan.filters).await;
    let outcomes: Vec<Outcome> = match ctx.mode {
        Mode::Plan => [
            Some(plan.threat_sets.outcome()),
            plan.trusted.map(|p| p.outcome()),
            Some(plan.filters.outcome()),
            plan.alerts.map(alerts::planned),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Mode::Apply => {
            let timing = Timing {
                settle_timeout: ctx.settle_limit(),
                ..ctx.timing
            };
            let writer = |kind, desired| lists::Writer {
                gd: &gd,
                kind,
                detector,
                desired,
                bucket_owner: &ctx.bucket_owner,
                account,
                region,
                timing,
            };
            let applying_trusted = async {
                match (&ctx.lists.trusted, plan.trusted) {
                    (Some(d), Some(p)) => Some(lists::apply(&writer(&ip_set::KIND, d), p).await),
                    _ => None,
                }
            };
            let applying_alerts = async {
                match (clients, plan.alerts) {
                    (Some((sns, events)), Some(a)) => {
                        let d = desired_alerts.as_ref().and_then(Option::as_ref);
                        Some(alerts::apply(sns, events, d, a).await)
                    }
                    _ => None,
                }
            };
            let threat_writer = writer(&threat_set::KIND, &ctx.lists.threat);
            let (sets, trusted, rules, alerts) = tokio::join!(
                lists::apply(&threat_writer, plan.threat_sets),
                applying_trusted,
                filters::apply(&gd, detector, ctx.rules, (account, region), plan.filters),
                applying_alerts
            );
            [Some(sets), trusted, Some(rules), alerts]
                .into_iter()
                .flatten()
                .collect()
        }
    };
    compose(ctx.mode, p, outcomes)
}

/// One report from the outcomes of a target's resource kinds.
fn compose(mode: Mode, p: &Placed, outcomes: Vec<Outcome>) -> TargetReport {
    let mut changes = Vec::new();
    let mut unmanaged = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut activating = false;
    for o in outcomes {
        changes.extend(o.changes);
        unmanaged.extend(o.unmanaged);
        errors.extend(o.errors);
        activating |= !o.activating.is_empty();
        // The report warns once about suppressed findings; the other notes
        // (pending confirmations, ...) belong to this target.
        warnings.extend(o.notes.into_iter().filter(|n| n != alerts::SUPPRESSED_NOTE));
    }
    let mut r = match plan::joined(&errors) {
        Some(error) => failed(p, changes, error),
        None => {
            // A list GuardDuty is still loading: `activating`, unless a
            // plan has changes to make.
            let status = match (changes.is_empty(), activating, mode) {
                (false, _, Mode::Plan) => Status::Pending,
                (_, true, _) => Status::Activating,
                (true, false, _) => Status::Unchanged,
                (false, false, Mode::Apply) => Status::Changed,
            };
            report(p, status, changes, None)
        }
    };
    r.unmanaged = unmanaged.into();
    r.warnings = warnings.into();
    r
}

/// A progress bar on a terminal, a log line per target otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    mode: Mode,
}

impl Progress {
    fn new(total: usize, mode: Mode) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} targets {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Progress { bar, mode }
    }

    /// One more target to run (they are counted as they are listed).
    fn listed(&self) {
        if let Some(b) = &self.bar {
            b.inc_length(1);
        }
    }

    fn done(&self, r: &TargetReport) {
        match &self.bar {
            Some(b) => {
                b.inc(1);
                b.set_message(format!("{} · {}", r.account_id, r.region));
            }
            // Without a terminal, a sentence per target that changed or
            // failed; the rest only with -v.
            None => match r.status {
                Status::Failed => tracing::warn!("{}", r.log_line(self.mode)),
                Status::Changed | Status::Activating => {
                    tracing::info!("{}", r.log_line(self.mode));
                }
                _ => tracing::debug!("{}", r.log_line(self.mode)),
            },
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cloud::{AwsError, ListSet, SetStatus};
    use crate::config::{Condition, FilterName};
    use crate::report::{Action, Resource};

    /// What a line logged in a target's span reads like, in the text logs
    /// of `guardsync` (`json: false`, no terminal, the time left out) or the JSON logs
    /// of the scheduled job.
    fn logged_in_span(json: bool) -> String {
        let buffer = crate::logs::Buffer::default();
        let writer = {
            let buffer = buffer.clone();
            move || buffer.clone()
        };
        let target = Target {
            account: crate::config::AccountId::parse("222222222222").expect("an account id"),
            region: crate::config::Region::parse("eu-west-1").expect("a Region"),
            excluded: false,
        };
        let say = || {
            let _in = target_span(&target).entered();
            tracing::warn!("set FireHOL-Level1 is still loading");
        };
        let logs = tracing_subscriber::fmt()
            .with_writer(writer.clone())
            .with_ansi(false)
            .with_target(false);
        if json {
            let json = logs.json().with_current_span(true).with_span_list(false);
            tracing::subscriber::with_default(json.finish(), say);
            buffer.text()
        } else {
            // As `guardsync` writes them without a terminal, the time left out.
            let text = logs
                .event_format(crate::logs::Plain)
                .fmt_fields(crate::logs::PlainFields);
            tracing::subscriber::with_default(text.finish(), say);
            let line = buffer.text();
            line.split_once("Z ")
                .map_or(line.clone(), |(_, l)| l.to_owned())
        }
    }

    #[test]
    fn a_targets_log_lines_name_its_account_and_region() {
        assert_eq!(
            logged_in_span(false),
            " WARN target{account=\"222222222222\" region=\"eu-west-1\"}: \
             set FireHOL-Level1 is still loading\n"
        );
        let line: serde_json::Value =
            serde_json::from_str(&logged_in_span(true)).expect("a JSON line");
        assert_eq!(
            line["span"],
            serde_json::json!({"name": "target", "account": "222222222222", "region": "eu-west-1"})
        );
        assert_eq!(
            line["fields"]["message"],
            "set FireHOL-Level1 is still loading"
        );
    }

    #[test]
    fn a_note_said_of_many_targets_is_kept_once() {
        let at = |region: &str, placement: Placement| Placed {
            target: Target {
                account: crate::config::AccountId::parse("111111111111").expect("an account id"),
                region: crate::config::Region::parse(region).expect("a Region"),
                excluded: false,
            },
            placement,
            credentials: None,
            detector_id: None,
        };
        let other = || {
            Placement::OtherAdmin(
                crate::config::AccountId::parse("999999999999").expect("an account id"),
            )
        };
        let standalone = || Placement::Standalone("relationship Removed".into());
        let notes = Notes::default();
        let mut reports = [
            unmanaged(&at("eu-west-1", other())),
            unmanaged(&at("us-east-1", other())),
            report(
                &at("eu-west-1", standalone()),
                Status::Changed,
                Vec::new(),
                None,
            ),
            report(
                &at("us-east-1", standalone()),
                Status::Changed,
                Vec::new(),
                None,
            ),
        ];
        let same = |a: &TargetReport, b: &TargetReport| match (&a.note, &b.note) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        assert!(!same(&reports[0], &reports[1]));
        for r in &mut reports {
            notes.share(r);
        }
        assert!(same(&reports[0], &reports[1]));
        assert!(same(&reports[2], &reports[3]));
        assert_eq!(
            reports[1].note.as_deref(),
            Some("associated with another GuardDuty administrator, 999999999999")
        );
        assert_eq!(
            reports[3].note.as_deref(),
            Some(
                "not an associated member (relationship Removed): has its own list; its \
                 findings are not centralised"
            )
        );
        // A fixed note is one text for every target without the run's help.
        let members = [
            unmanaged(&at("eu-west-1", Placement::Member)),
            unmanaged(&at("us-east-1", Placement::Member)),
        ];
        assert!(same(&members[0], &members[1]));
    }

    fn desired_set() -> Desired {
        Desired {
            name: "FireHOL-Level1".into(),
            location: "s3://bucket/guardduty/lists/new.txt".into(),
            bucket: "bucket".into(),
            key: "guardduty/lists/new.txt".into(),
            sha256: "new".into(),
            settle: Duration::from_secs(60),
        }
    }

    fn rule() -> SuppressionRule {
        SuppressionRule {
            name: FilterName("scanner".into()),
            description: None,
            rank: 1,
            archive_existing: false,
            criteria: BTreeMap::from([(
                "type".to_owned(),
                Condition {
                    equals: Some(vec!["Recon:EC2/Portscan".into()]),
                    ..Condition::default()
                },
            )]),
        }
    }

    fn current_set(d: &Desired) -> ListSet {
        ListSet {
            id: "set-1".into(),
            name: d.name.clone(),
            location: d.location.clone(),
            status: SetStatus::Active,
            tags: d.tags(),
        }
    }

    #[test]
    fn a_targets_plan_is_a_value_built_from_what_was_observed() {
        let set = desired_set();
        let rules = [rule()];
        let desired = DesiredTarget {
            sets: std::slice::from_ref(&set),
            trusted: None,
            rules: &rules,
            alerts: None,
        };
        let observed = Observed {
            sets: Ok(lists::Found {
                sets: vec![current_set(&set)],
                entity_lists: 0,
            }),
            trusted: None,
            filters: Ok(Vec::new()),
            alerts: None,
        };
        let plan = plan_target(&desired, &observed, |_, id| id.into(), |n| n.into());
        assert_eq!(
            plan.threat_sets.steps,
            [lists::Step::Nothing {
                name: "FireHOL-Level1".into(),
                id: "set-1".into()
            }]
        );
        assert!(plan.threat_sets.changes.is_empty());
        assert_eq!(
            plan.filters.steps,
            [filters::Step::Create {
                name: "scanner".into(),
                rank: 1
            }]
        );
        assert_eq!(
            plan.filters
                .changes
                .iter()
                .map(|c| (c.resource, c.action))
                .collect::<Vec<_>>(),
            [(Resource::Filter, Action::Create)]
        );
        assert_eq!(plan.alerts, None);
        // The same observation gives the same plan.
        assert_eq!(
            plan,
            plan_target(&desired, &observed, |_, id| id.into(), |n| n.into())
        );
    }

    #[test]
    fn reports_merge_into_target_order() {
        let report = |account: &str, region: &str| TargetReport {
            account_id: crate::config::AccountId::parse(account).expect("an account id"),
            account_name: None,
            region: crate::config::Region::parse(region).expect("a Region"),
            placement: crate::org::PlacementKind::Member,
            wave: 1,
            status: Status::Unchanged,
            changes: ThinVec::new(),
            error: None,
            not_run: false,
            note: None,
            unmanaged: ThinVec::new(),
            warnings: ThinVec::new(),
        };
        let key = |r: &TargetReport| format!("{} {}", r.account_id, r.region);
        let all: Vec<TargetReport> = ["200000000001", "200000000002", "200000000003"]
            .iter()
            .flat_map(|a| ["eu-west-1", "us-east-1", "us-west-2"].map(|r| report(a, r)))
            .collect();
        // Every split of the targets in two, each side in any order.
        for mask in 0u32..(1 << all.len()) {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for (i, r) in all.iter().enumerate() {
                if mask & (1 << i) == 0 {
                    a.push(r.clone());
                } else {
                    b.push(r.clone());
                }
            }
            a.reverse();
            let half = b.len() / 2;
            b.rotate_left(half);
            let got: Vec<String> = merged(a, b).iter().map(key).collect();
            let want: Vec<String> = all.iter().map(key).collect();
            assert_eq!(got, want, "split {mask:b}");
        }
    }

    #[test]
    fn an_observation_that_failed_blocks_only_its_own_kind() {
        let set = desired_set();
        let desired = DesiredTarget {
            sets: std::slice::from_ref(&set),
            trusted: None,
            rules: &[],
            alerts: None,
        };
        let denied = AwsError {
            account: "222222222222".into(),
            region: "eu-west-1".into(),
            operation: "ListFilters",
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: no".into(),
        };
        let observed = Observed {
            sets: Ok(lists::Found::default()),
            trusted: None,
            filters: Err(TargetError::new(Resource::Filter, denied)),
            alerts: None,
        };
        let plan = plan_target(&desired, &observed, |_, id| id.into(), |n| n.into());
        assert_eq!(
            plan.threat_sets.steps,
            [lists::Step::Create {
                name: "FireHOL-Level1".into()
            }]
        );
        assert!(plan.filters.steps.is_empty());
        let [e] = plan.filters.blocked.as_slice() else {
            panic!("{:?}", plan.filters);
        };
        assert_eq!(
            (e.resource, e.operation(), e.code()),
            (
                Resource::Filter,
                Some("ListFilters"),
                Some("AccessDeniedException")
            )
        );
    }
}

//! Reconcile one (account, region): observe, decide ([`threat_set::plan`],
//! pure), and in `apply` carry the decision out and wait until GuardDuty
//! uses the list. Does I/O through [`crate::aws`].
//!
//! [`run`] fans out over every target under one concurrency bound, with a
//! time limit per target; one target's failure never stops the others.

pub mod alerts;
pub mod filters;
pub mod threat_set;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use futures::{Stream, StreamExt, stream};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::aws::guardduty::{FilterSpec, NewSet};
use crate::cloud::{Cloud, GuardDutyApi};
use crate::config::{Alerts, Rollout, SuppressionRule};
use crate::discover::{Discovery, Placed};
use crate::org::waves;
use crate::org::{Placement, Target};
use crate::report::{Change, Mode, Status, TargetReport, Unmanaged, WaveOutcome, WaveReport};
use threat_set::{ACTIVE, Desired, ERROR, Step};

/// How long guardsync waits for GuardDuty, and how often it looks.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// First pause between two GetThreatIntelSet polls; it grows 1.5x.
    pub poll_initial: Duration,
    /// Longest pause between two polls.
    pub poll_max: Duration,
    /// How long a set may stay ACTIVATING or DEACTIVATING.
    pub settle_timeout: Duration,
    /// The whole work of one target, calls and waits included.
    pub target_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            poll_initial: Duration::from_millis(250),
            poll_max: Duration::from_secs(5),
            settle_timeout: Duration::from_secs(300),
            target_timeout: Duration::from_secs(600),
        }
    }
}

/// What every target shares.
#[derive(Debug, Clone)]
pub struct Context<'a, C> {
    /// Where the calls go: AWS, or the synthetic organization of [`crate::sim`].
    pub cloud: &'a C,
    /// plan or apply.
    pub mode: Mode,
    /// The set every managed target should have.
    pub desired: Desired,
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

/// How long targets in flight may go on after a stop request.
pub const GRACE: Duration = Duration::from_secs(30);

/// How long before the deadline guardsync stops starting targets: room for
/// the targets in flight to finish and for the report and run record.
/// `GUARDSYNC_DEADLINE_MARGIN_MS` overrides it (tests).
pub fn deadline_margin() -> Duration {
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
/// Returns every target's report (ordered by account then region) and each
/// wave's outcome.
pub async fn rollout<C: Cloud>(
    ctx: &Context<'_, C>,
    discovery: &Discovery,
    targets: impl Stream<Item = Target> + Send,
    rollout: Option<&Rollout>,
) -> (Vec<TargetReport>, Vec<WaveReport>) {
    // One wave (no `rollout`): every target starts as soon as it is listed.
    let Some(rollout) = rollout else {
        tracing::info!(wave = 1, "starting wave");
        let mut reports = run(ctx, discovery, targets).await;
        let failed = failures(&reports);
        reports.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
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
    for t in targets.collect::<Vec<_>>().await {
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
                tracing::info!(wave, targets = total, "starting wave");
                run(ctx, discovery, stream::iter(targets)).await
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
            tracing::warn!(wave, failed, total, "wave exceeded its failure tolerance");
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
    reports.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
    (reports, summary)
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
/// return one report per target, in the order they finish.
pub async fn run<C: Cloud>(
    ctx: &Context<'_, C>,
    discovery: &Discovery,
    targets: impl Stream<Item = Target> + Send,
) -> Vec<TargetReport> {
    let progress = Progress::new(0);
    let mut reports: Vec<TargetReport> = Vec::new();
    targets
        .inspect(|_| progress.listed())
        .map(|t| async move {
            // Out of time, no call is made any more, not even to place.
            let late = ctx.out_of_time();
            let p = discovery
                .place(ctx.cloud, t, late.as_deref().map_or(Ok(()), Err))
                .await;
            // Only a target with work of its own, or a failure to tell, gets
            // a span: most targets of a large organization (associated
            // members, gaps, exclusions) need none and log nothing.
            let span = || {
                tracing::info_span!(
                    "target",
                    account = p.target.account.as_str(),
                    region = p.target.region.as_str()
                )
            };
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
        .for_each(|r| {
            progress.done(&r);
            reports.push(r);
            std::future::ready(())
        })
        .await;
    progress.finish();
    reports
}

/// One target, whatever its placement.
pub async fn target<C: Cloud>(ctx: &Context<'_, C>, p: &Placed) -> TargetReport {
    let note = |status: Status, note: std::borrow::Cow<'static, str>| TargetReport {
        note: Some(note),
        ..report(p, status, Vec::new(), None)
    };
    match &p.placement {
        Placement::Member => note(
            Status::Unchanged,
            "covered by the administrator's list and rules".into(),
        ),
        Placement::NoDetector => note(
            Status::Skipped,
            "GuardDuty is not enabled here: findings go unwatched".into(),
        ),
        Placement::OtherAdmin(other) => note(
            Status::Skipped,
            format!("associated with another GuardDuty administrator, {other}").into(),
        ),
        Placement::Excluded => note(Status::Skipped, "excluded by configuration".into()),
        Placement::Unknown(reason) => failed(p, Vec::new(), reason.clone()),
        Placement::Admin | Placement::Standalone => managed(ctx, p).await,
    }
}

fn report(p: &Placed, status: Status, changes: Vec<Change>, error: Option<String>) -> TargetReport {
    TargetReport {
        account_id: p.target.account.as_str().to_owned(),
        account_name: None,
        region: p.target.region.as_str().to_owned(),
        placement: p.placement.as_str(),
        wave: 1,
        status,
        changes,
        error,
        not_run: false,
        warnings: Vec::new(),
        note: match &p.placement {
            Placement::Standalone => Some(
                "not an associated member: has its own list; its findings are not centralised"
                    .into(),
            ),
            _ => None,
        },
        unmanaged: Vec::new(),
    }
}

fn failed(p: &Placed, changes: Vec<Change>, error: String) -> TargetReport {
    tracing::warn!(error = error.as_str(), "target failed");
    report(p, Status::Failed, changes, Some(error))
}

/// What one resource kind of a target did (apply) or would do (plan).
#[derive(Debug, Default)]
struct Part {
    changes: Vec<Change>,
    unmanaged: Vec<Unmanaged>,
    error: Option<String>,
    warnings: Vec<String>,
}

impl Part {
    fn failed(changes: Vec<Change>, unmanaged: Vec<Unmanaged>, error: String) -> Part {
        Part {
            changes,
            unmanaged,
            error: Some(error),
            warnings: Vec::new(),
        }
    }
}

/// An `admin` or `standalone` target: its ThreatIntelSet and suppression
/// rules, and in the administrator its alerts. One part failing does not
/// keep the others from running; the target fails with every reason.
async fn managed<C: Cloud>(ctx: &Context<'_, C>, p: &Placed) -> TargetReport {
    let Some(detector) = p.detector_id.as_deref() else {
        return failed(p, Vec::new(), "no GuardDuty detector id was found".into());
    };
    let (region, account) = (p.target.region.as_str(), p.target.account.as_str());
    let gd = ctx.cloud.guardduty(region, account, p.credentials.as_ref());
    // The set, the rules and the alerts are independent: they run at once.
    let alerting = async {
        if p.placement != Placement::Admin {
            return None;
        }
        let sns = ctx.cloud.sns(region, account);
        let events = ctx.cloud.events(region, account);
        Some(
            match alerts::reconcile(&sns, &events, ctx.alerts, ctx.mode).await {
                // The report warns once about suppressed findings; the other
                // notes (pending confirmations, ...) belong to this target.
                Ok(o) => Part {
                    changes: o.changes,
                    unmanaged: o.unmanaged,
                    error: None,
                    warnings: o
                        .notes
                        .into_iter()
                        .filter(|n| n != alerts::SUPPRESSED_NOTE)
                        .collect(),
                },
                Err(e) => Part::failed(Vec::new(), Vec::new(), e),
            },
        )
    };
    let (set, filters, alerting) = tokio::join!(
        threat_list(ctx, &gd, detector, p),
        rules(ctx, &gd, detector, p),
        alerting
    );
    let parts = [Some(set), Some(filters), alerting].into_iter().flatten();
    let mut changes = Vec::new();
    let mut unmanaged = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for part in parts {
        changes.extend(part.changes);
        unmanaged.extend(part.unmanaged);
        errors.extend(part.error);
        warnings.extend(part.warnings);
    }
    let mut r = if !errors.is_empty() {
        failed(p, changes, errors.join("; "))
    } else {
        let status = match (changes.is_empty(), ctx.mode) {
            (true, _) => Status::Unchanged,
            (false, Mode::Plan) => Status::Pending,
            (false, Mode::Apply) => Status::Changed,
        };
        report(p, status, changes, None)
    };
    r.unmanaged = unmanaged;
    r.warnings = warnings;
    r
}

/// The ThreatIntelSet of a managed target.
async fn threat_list<C: Cloud>(
    ctx: &Context<'_, C>,
    gd: &impl GuardDutyApi,
    detector: &str,
    p: &Placed,
) -> Part {
    // A busy set is waited for, then looked at again; guardsync's own
    // activation is waited for inside its round, so three rounds are plenty.
    for _round in 0..3 {
        let found = match gd.threat_intel_sets(detector).await {
            Ok(f) => f,
            Err(e) => return Part::failed(Vec::new(), Vec::new(), e.to_string()),
        };
        let plan = threat_set::plan(&ctx.desired, &found, |id| {
            gd.threat_intel_set_arn(detector, id)
        });
        let changes: Vec<Change> = plan.change.into_iter().collect();
        let unmanaged = plan.unmanaged;
        let step = match plan.step {
            Ok(s) => s,
            Err(e) => return Part::failed(changes, unmanaged, e),
        };
        if ctx.mode == Mode::Plan {
            return Part {
                changes,
                unmanaged,
                ..Part::default()
            };
        }
        let done = match step {
            Step::Nothing { .. } => Ok(true),
            Step::Wait { id } => settle(ctx, gd, detector, &id).await.map(|_| false),
            Step::Create => create(ctx, gd, detector, p).await.map(|_| true),
            Step::Update { id, previous } => update(ctx, gd, detector, &id, Some(&previous))
                .await
                .map(|()| true),
            Step::Activate { id } => update(ctx, gd, detector, &id, None).await.map(|()| true),
        };
        match done {
            Err(e) => return Part::failed(changes, unmanaged, e),
            Ok(false) => continue,
            Ok(true) => {
                return Part {
                    changes,
                    unmanaged,
                    ..Part::default()
                };
            }
        }
    }
    Part::failed(
        Vec::new(),
        Vec::new(),
        "the ThreatIntelSet kept changing status; run again".into(),
    )
}

/// The suppression rules of a managed target. In `plan`, each rule to
/// create or change says how many current findings it would archive.
async fn rules<C: Cloud>(
    ctx: &Context<'_, C>,
    gd: &impl GuardDutyApi,
    detector: &str,
    p: &Placed,
) -> Part {
    let found = match gd.filters(detector).await {
        Ok(f) => f,
        Err(e) => return Part::failed(Vec::new(), Vec::new(), e.to_string()),
    };
    let plan = filters::plan(ctx.rules, &found, |name| gd.filter_arn(detector, name));
    let mut changes = Vec::with_capacity(plan.steps.len());
    let mut error = (!plan.errors.is_empty()).then(|| plan.errors.join("; "));
    for (step, mut change) in plan.steps {
        let rule = ctx.rules.iter().find(|r| match &step {
            filters::Step::Create(n) | filters::Step::Update(n) => r.name.as_str() == n,
            filters::Step::Delete(_) => false,
        });
        let spec = rule.map(|r| FilterSpec {
            name: r.name.as_str(),
            description: r.description.as_deref().unwrap_or_default(),
            rank: i32::from(r.rank),
            criteria: &r.criteria,
        });
        let done = match (ctx.mode, &step, &spec) {
            (Mode::Plan, _, Some(spec)) => {
                // What would this rule hide? The findings it matches today.
                let mut criteria = spec.criteria.clone();
                criteria.insert(
                    "service.archived".into(),
                    crate::config::Condition {
                        equals: Some(vec!["false".into()]),
                        ..Default::default()
                    },
                );
                gd.count_findings(detector, &criteria).await.map(|n| {
                    change.detail.push(format!(
                        "would archive {n} current finding{}",
                        if n == 1 { "" } else { "s" }
                    ));
                })
            }
            (Mode::Plan, _, None) => Ok(()),
            (Mode::Apply, filters::Step::Delete(name), _) => gd.delete_filter(detector, name).await,
            (Mode::Apply, filters::Step::Update(_), Some(spec)) => {
                gd.update_filter(detector, spec).await
            }
            (Mode::Apply, filters::Step::Create(_), Some(spec)) => {
                let token = client_token(&format!(
                    "{}|{}|filter|{}|{}",
                    p.target.account, p.target.region, spec.name, spec.rank
                ));
                gd.create_filter(detector, spec, &owner_tags(), &token)
                    .await
            }
            (Mode::Apply, _, None) => Ok(()),
        };
        match done {
            Ok(()) => changes.push(change),
            Err(e) => {
                error = Some(match error {
                    Some(prev) => format!("{prev}; {e}"),
                    None => e.to_string(),
                });
                break;
            }
        }
    }
    Part {
        changes,
        unmanaged: plan.unmanaged,
        error,
        warnings: Vec::new(),
    }
}

/// The tags of everything guardsync creates besides the sets.
fn owner_tags() -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([(
        threat_set::OWNER_TAG.to_owned(),
        threat_set::OWNER_VALUE.to_owned(),
    )])
}

/// What an ERROR status most often means.
const READ_HINT: &str = " (GuardDuty in this account must be able to read the object: \
                         bucket.manage_policy grants the organization read access)";

/// An idempotency token for a create: the same inputs give the same token,
/// so a retried or interrupted create never makes a second resource.
fn client_token(inputs: &str) -> String {
    hex::encode(Sha256::digest(inputs.as_bytes()))[..32].to_owned()
}

async fn create<C: Cloud>(
    ctx: &Context<'_, C>,
    gd: &impl GuardDutyApi,
    detector: &str,
    p: &Placed,
) -> Result<String, String> {
    let d = &ctx.desired;
    let tags = d.tags();
    let token = client_token(&format!(
        "{}|{}|{}|{}",
        p.target.account, p.target.region, d.name, d.sha256
    ));
    let id = gd
        .create_threat_intel_set(
            detector,
            &NewSet {
                name: &d.name,
                location: &d.location,
                bucket_owner: &ctx.bucket_owner,
                tags: &tags,
                client_token: &token,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(set = id.as_str(), "created ThreatIntelSet");
    match settle(ctx, gd, detector, &id).await? {
        s if s == ACTIVE => Ok(id),
        s => Err(format!(
            "GuardDuty could not use the new ThreatIntelSet {:?}: status {s} reading {}{}",
            d.name, d.location, READ_HINT
        )),
    }
}

/// Point the set at the list (again) and activate it; on ERROR put back
/// `previous` so GuardDuty keeps the last list it could read.
async fn update<C: Cloud>(
    ctx: &Context<'_, C>,
    gd: &impl GuardDutyApi,
    detector: &str,
    id: &str,
    previous: Option<&str>,
) -> Result<(), String> {
    let d = &ctx.desired;
    gd.activate_threat_intel_set(detector, id, &d.location, &ctx.bucket_owner)
        .await
        .map_err(|e| e.to_string())?;
    if previous.is_some() {
        gd.tag_threat_intel_set(detector, id, &d.tags())
            .await
            .map_err(|e| e.to_string())?;
    }
    let status = settle(ctx, gd, detector, id).await?;
    if status == ACTIVE {
        return Ok(());
    }
    let mut msg = format!(
        "GuardDuty could not use ThreatIntelSet {:?} after activation: status {status} reading {}{}",
        d.name, d.location, READ_HINT
    );
    if let (ERROR, Some(prev)) = (status.as_str(), previous) {
        match gd
            .activate_threat_intel_set(detector, id, prev, &ctx.bucket_owner)
            .await
        {
            Ok(()) => msg.push_str(&format!("; put back the previous location {prev}")),
            Err(e) => msg.push_str(&format!("; could not put back {prev}: {e}")),
        }
    }
    Err(msg)
}

/// Poll the set until it leaves ACTIVATING/DEACTIVATING; its final status.
async fn settle<C: Cloud>(
    ctx: &Context<'_, C>,
    gd: &impl GuardDutyApi,
    detector: &str,
    id: &str,
) -> Result<String, String> {
    let t = ctx.timing;
    let start = tokio::time::Instant::now();
    let mut pause = t.poll_initial;
    loop {
        let set = gd
            .threat_intel_set(detector, id)
            .await
            .map_err(|e| e.to_string())?;
        if set.status != "ACTIVATING" && set.status != "DEACTIVATING" {
            return Ok(set.status);
        }
        if start.elapsed() >= t.settle_timeout {
            return Err(format!(
                "ThreatIntelSet {:?} was still {} after {}s",
                set.name,
                set.status,
                t.settle_timeout.as_secs()
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause.mul_f32(1.5)).min(t.poll_max);
    }
}

/// A progress bar on a terminal, a log line per target otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(total: usize) -> Self {
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
        Progress { bar }
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
            // Without a terminal, a line per target that changed or failed;
            // the rest only with -v.
            None if matches!(r.status, Status::Changed | Status::Failed) => tracing::info!(
                account = r.account_id.as_str(),
                region = r.region.as_str(),
                placement = r.placement,
                status = ?r.status,
                "target done"
            ),
            None => tracing::debug!(
                account = r.account_id.as_str(),
                region = r.region.as_str(),
                placement = r.placement,
                status = ?r.status,
                "target done"
            ),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

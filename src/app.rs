//! The one place that wires the phases together for each command.
//!
//! Each command returns `Result<ExitCode, Error>`; [`run`] prints the error
//! and maps it to its exit code through [`Error::exit_code`].

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use futures::StreamExt as _;

use crate::aws::Aws;
use crate::aws::organizations::Organizations;
use crate::aws::s3::S3;
use crate::cli::{Cli, Command, Format, ListCommand, ScopeArgs};
use crate::cloud::Cloud;
use crate::config::{self, Config, RegionScope};
use crate::error::{Error, ExitCode};
use crate::publish;
use crate::publish::record::RunRecord;
use crate::reconcile::{self, Context, DesiredLists, Timing, bucket_policy};
use crate::report::{self, ListReport, Mode, Report, Status, Summary, TargetReport};

/// Run one command and return its exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Validate(a) => validate(&a.path()),
        Command::List(ListCommand::Build(a)) => list_build(&a).await,
        Command::List(ListCommand::Merge(a)) => list_merge(&a),
        Command::Plan(a) => {
            plan_or_apply(&RunArgs {
                config: &a.config.path(),
                scope: &a.scope,
                format: a.format,
                mode: Mode::Plan,
                detailed_exitcode: a.detailed_exitcode,
                retry_failed: false,
            })
            .await
        }
        Command::Apply(a) => {
            plan_or_apply(&RunArgs {
                config: &a.config.path(),
                scope: &a.scope,
                format: a.format,
                mode: Mode::Apply,
                detailed_exitcode: false,
                retry_failed: a.retry_failed,
            })
            .await
        }
        Command::Report(a) => crate::html_report::command(&a).await,
        Command::Policies(a) => crate::policies::command(
            &a.config.path(),
            &crate::policies::Options {
                organization_id: a.organization_id.clone(),
                admin_role: a.admin_role.clone(),
            },
            a.out.as_deref(),
        ),
    };
    exit_code_of(result)
}

/// `guardsync list merge`, which needs no async runtime: `main` runs it
/// before building one (the runtime's threads cost start-up time and memory).
pub fn run_list_merge(args: &crate::cli::ListMergeArgs) -> ExitCode {
    exit_code_of(list_merge(args))
}

/// Print a command's error, if any, and map it to its exit code.
fn exit_code_of(result: Result<ExitCode, Error>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            match &e {
                // One line per problem, exactly as config/example.yaml writes them.
                Error::Config(errors) => eprintln!("{errors}"),
                other => eprintln!("error: {}", crate::util::chain(other)),
            }
            e.exit_code()
        }
    }
}

fn load(path: &std::path::Path) -> Result<Config, Error> {
    Ok(config::load(path)?)
}

/// `guardsync validate`: no network, a one-line summary on success.
fn validate(path: &std::path::Path) -> Result<ExitCode, Error> {
    let c = load(path)?;
    emit(&format!("{}: valid\n{}\n", path.display(), summary(&c)))?;
    Ok(ExitCode::Success)
}

/// What the configuration will do, in a few lines a reviewer can check.
pub fn summary(c: &Config) -> String {
    let regions = match &c.regions {
        RegionScope::Enabled => {
            "every GuardDuty region enabled in the administrator account".to_owned()
        }
        RegionScope::List(list) => list
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let scope =
        if c.organization.include_accounts.is_empty() && c.organization.include_ous.is_empty() {
            "every ACTIVE account".to_owned()
        } else {
            format!(
                "{} account(s) and {} OU(s)",
                c.organization.include_accounts.len(),
                c.organization.include_ous.len()
            )
        };
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut out = vec![
        format!("  administrator  {}", c.admin_account),
        format!(
            "  accounts       {scope}, {} excluded, probe {}",
            c.organization.exclude_accounts.len(),
            match c.organization.probe {
                config::Probe::Needed => "needed",
                config::Probe::All => "all",
            }
        ),
        format!("  regions        {regions}"),
        format!(
            "  suppression    {}",
            plural(c.suppression_rules.len(), "rule")
        ),
    ];
    let at = format!(
        ", published to s3://{}/{}",
        c.bucket.name,
        crate::publish::lists_prefix(&c.bucket.prefix)
    );
    let mut lists = config::lists_summary(c);
    for line in lists.iter_mut().filter(|l| l.starts_with("  threat list")) {
        line.push_str(&at);
    }
    out.splice(3..3, lists);
    out.push(match &c.alerts {
        Some(a) => format!(
            "  alerts         severity >= {} to {} via SNS topic {}",
            a.min_severity,
            plural(a.emails.len(), "e-mail address"),
            a.topic_name
        ),
        None => "  alerts         not managed".to_owned(),
    });
    out.push(match &c.rollout {
        Some(r) => format!("  rollout        {}", plural(r.waves.len(), "wave")),
        None => "  rollout        one wave".to_owned(),
    });
    out.join("\n")
}

/// `guardsync list build`: every threat list (or the one `--list` names,
/// the trusted list included), exactly as a run builds it, without AWS.
async fn list_build(a: &crate::cli::ListBuildArgs) -> Result<ExitCode, Error> {
    let c = load(&a.config.path())?;
    let names = || {
        c.threat_lists
            .iter()
            .map(|l| l.name.as_str())
            .chain(c.trusted_list.as_ref().map(|t| t.name.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(t) = c
        .trusted_list
        .as_ref()
        .filter(|t| a.list.as_deref() == Some(&t.name))
    {
        crate::feed::commands::trusted_build(&t.cidrs, a.out.as_deref())?;
        return Ok(ExitCode::Success);
    }
    let lists: Vec<&config::ThreatList> = match &a.list {
        Some(name) => match c.threat_lists.iter().find(|l| &l.name == name) {
            Some(l) => vec![l],
            None => {
                return Err(Error::Scope(format!(
                    "--list {name:?} is not a list of the configuration ({})",
                    names()
                )));
            }
        },
        None => c.threat_lists.iter().collect(),
    };
    if lists.len() > 1 && a.out.is_some() {
        return Err(Error::Scope(format!(
            "--out writes one list: name it with --list ({})",
            names()
        )));
    }
    for (i, list) in lists.iter().enumerate() {
        if lists.len() > 1 {
            emit(&format!(
                "{}threat list {:?}\n",
                if i > 0 { "\n" } else { "" },
                list.name
            ))?;
        }
        let settings = crate::publication::build_settings(&c, list);
        crate::feed::commands::list_build(&settings, &list.name, a.out.as_deref()).await?;
    }
    Ok(ExitCode::Success)
}

fn list_merge(a: &crate::cli::ListMergeArgs) -> Result<ExitCode, Error> {
    crate::feed::commands::list_merge(&a.files, &a.except)?;
    Ok(ExitCode::Success)
}

/// What `plan` and `apply` share from the command line.
struct RunArgs<'a> {
    config: &'a Path,
    scope: &'a ScopeArgs,
    format: Format,
    mode: Mode,
    detailed_exitcode: bool,
    retry_failed: bool,
}

/// Write `text` to standard output. A reader that went away (`guardsync
/// plan | head`) is not an error: the run's own exit code stands.
fn emit(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    stdout_result(
        std::io::Write::write_all(&mut out, text.as_bytes())
            .and_then(|()| std::io::Write::flush(&mut out)),
    )
}

/// A write to standard output: a closed pipe is ignored, anything else
/// names standard output.
fn stdout_result(r: std::io::Result<()>) -> Result<(), Error> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|source| Error::File {
            action: "write the report to",
            path: "standard output".into(),
            source,
        }),
    }
}

/// `guardsync plan` and `guardsync apply`: build, publish (apply), discover,
/// reconcile every target wave by wave, record (apply), report.
async fn plan_or_apply(run: &RunArgs<'_>) -> Result<ExitCode, Error> {
    let mut c = load(run.config)?;
    if let Some(n) = run.scope.concurrency {
        c.concurrency = n;
    }
    let opts = RunOptions {
        mode: run.mode,
        accounts: run.scope.accounts.clone(),
        regions: run.scope.regions.clone(),
        retry_failed: run.retry_failed,
        deadline: None,
        stop: Some(stop_on_signals()),
    };
    let report = match execute(&c, &opts).await? {
        Outcome::Report(r) => r,
        Outcome::NothingToRetry(message) => {
            println!("{message}");
            return Ok(ExitCode::Success);
        }
    };
    match run.format {
        Format::Json => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            stdout_result(
                report
                    .write_json(&mut out)
                    .and_then(|()| std::io::Write::flush(&mut out)),
            )?;
        }
        Format::Markdown => emit(&report::markdown::render(&report))?,
        Format::Text => {
            let style = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                report::text::Style::Color
            } else {
                report::text::Style::Plain
            };
            emit(&report::text::render(&report, style))?;
        }
    }
    Ok(exit_code(&report, run.detailed_exitcode))
}

/// A stop request on the first SIGINT or SIGTERM: targets in flight finish
/// (within a grace period), the others are reported as not started, the
/// report and run record are written and the lease is given back. A second
/// signal ends the process at once (exit 130), like terraform.
fn stop_on_signals() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot watch SIGTERM: {e}");
                    return;
                }
            };
        for n in 0.. {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            if n > 0 {
                eprintln!("guardsync: second signal, stopping now");
                std::process::exit(130);
            }
            tracing::warn!(
                "stop requested: no new target starts; targets in flight get {}s to finish \
                 (signal again to stop at once)",
                crate::reconcile::GRACE.as_secs()
            );
            let _ = tx.send(true);
        }
    });
    rx
}

/// How a plan or apply runs, whoever starts it (the command line or the
/// scheduled Lambda).
#[derive(Debug, Clone)]
pub(crate) struct RunOptions {
    /// plan or apply.
    pub mode: Mode,
    /// `--account`: only these accounts (empty: all).
    pub accounts: Vec<crate::config::AccountId>,
    /// `--region`: only these Regions (empty: all).
    pub regions: Vec<crate::config::Region>,
    /// `apply --retry-failed`.
    pub retry_failed: bool,
    /// When the run must be over (a Lambda's deadline): no target starts
    /// too close to it.
    pub deadline: Option<tokio::time::Instant>,
    /// Becomes `true` on SIGINT/SIGTERM: no target starts after that.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
}

/// What a run produced.
#[derive(Debug)]
pub enum Outcome {
    /// The report of the run.
    Report(Box<Report>),
    /// `--retry-failed` found nothing to do; the message says so.
    NothingToRetry(String),
}

/// Build, publish (apply), discover, reconcile every target wave by wave,
/// record (apply): the whole job, without printing.
pub(crate) async fn execute(c: &Config, run: &RunOptions) -> Result<Outcome, Error> {
    let before = crate::cloud::calls::snapshot();
    // A --region outside the configured list: before any AWS call.
    if let RegionScope::List(list) = &c.regions {
        check_regions(&run.regions, list, "the configured regions")?;
    }
    let aws = Aws::load(c.retry_max_attempts).await;
    aws.check_credentials()
        .await
        .map_err(Error::NoCredentials)?;
    let admin = c.admin_account.as_str();
    // With `regions: enabled`, and for --account: read-only calls, before
    // the lease and any write.
    if c.regions == RegionScope::Enabled && !run.regions.is_empty() {
        let enabled = crate::discover::configured_regions(&aws, c).await?;
        check_regions(
            &run.regions,
            &enabled,
            "the GuardDuty Regions enabled in the administrator account (regions: enabled)",
        )?;
    }
    if !run.accounts.is_empty() && !run.retry_failed {
        check_accounts(&aws, c, &run.accounts).await?;
    }
    let s3 = S3::new(&aws.config_for(c.bucket.region.as_str(), None), admin);
    // One apply at a time: the lease is taken before anything is written and
    // given back whatever the outcome. A plan writes nothing and takes none.
    // It is taken while the job reads (the lists, the organization), and the
    // job's first write waits for it (`Gate`). Taking it is never cancelled
    // half-way: a lease written but not known would block the next apply
    // until it lapsed.
    let (opened, gate) = tokio::sync::watch::channel(None);
    let taking = async {
        let lease = match run.mode {
            Mode::Plan => Ok(None),
            Mode::Apply => {
                let command = if run.retry_failed {
                    "apply --retry-failed"
                } else {
                    "apply"
                };
                publish::lease::acquire(&s3, &c.bucket.name, &c.bucket.prefix, command)
                    .await
                    .map(Some)
            }
        };
        let _ = opened.send(Some(lease.is_ok()));
        lease
    };
    let (lease, outcome) = tokio::join!(taking, job(c, run, &aws, &s3, Gate(gate)));
    let outcome = match lease {
        // Refused: the job stopped at its first write, if not before.
        Err(e) => Err(Error::from(e)),
        Ok(lease) => {
            if let Some(l) = lease {
                l.release(&s3).await;
            }
            outcome
        }
    };
    outcome.map(|o| match o {
        Outcome::Report(mut r) => {
            r.count_calls(crate::cloud::calls::since(&before));
            log_calls(&r);
            Outcome::Report(r)
        }
        other => other,
    })
}

/// Every `--region` must be one of `scope` (described by `what`): a usage
/// error otherwise, never an empty success.
fn check_regions(
    only: &[crate::config::Region],
    scope: &[crate::config::Region],
    what: &str,
) -> Result<(), Error> {
    let names: Vec<&str> = scope.iter().map(crate::config::Region::as_str).collect();
    match only.iter().find(|r| !scope.contains(r)) {
        None => Ok(()),
        Some(r) => {
            let hint = crate::util::nearest(r.as_str(), &names)
                .map(|n| format!("; did you mean {n}?"))
                .unwrap_or_default();
            Err(Error::Scope(format!(
                "--region {r} is not one of {what} ({}){hint}",
                names.join(", ")
            )))
        }
    }
}

/// Every `--account` must be an ACTIVE account of the organization within
/// `include_accounts`/`include_ous` (an excluded account is in scope: it
/// yields its `excluded` targets): a usage error otherwise. Lists the
/// organization (read-only) in one Region.
async fn check_accounts(
    aws: &Aws,
    c: &Config,
    only: &[crate::config::AccountId],
) -> Result<(), Error> {
    let regions = crate::discover::configured_regions(aws, c).await?;
    let first = regions.into_iter().take(1).collect::<Vec<_>>();
    let (_, targets, _) = crate::discover::discover_all(aws, c, &[], &first).await?;
    let known: std::collections::BTreeSet<&str> =
        targets.iter().map(|t| t.account.as_str()).collect();
    let candidates: Vec<&str> = known.iter().copied().collect();
    match only.iter().find(|a| !known.contains(a.as_str())) {
        None => Ok(()),
        Some(a) => {
            let hint = crate::util::nearest(a.as_str(), &candidates)
                .map(|n| format!("; did you mean {n}?"))
                .unwrap_or_default();
            Err(Error::Scope(format!(
                "--account {a} is not an ACTIVE account of the organization within \
                 organization.include_accounts/include_ous{hint}"
            )))
        }
    }
}

/// The report of a run: the list, every target with the waves, and the
/// summary over them. One function for `guardsync` and the simulation; the
/// run's call budget is added by [`Report::count_calls`].
pub fn report(mode: Mode, list: ListReport, fan_out: FanOut) -> Report {
    Report {
        mode,
        lists: vec![list.clone()],
        list,
        organization_id: None,
        regions: fan_out.regions,
        waves: fan_out.waves,
        warnings: Vec::new(),
        retry_of: None,
        trusted_list: None,
        summary: Summary::of(&fan_out.targets),
        calls: Default::default(),
        targets: fan_out.targets,
    }
}

/// The run's call budget per operation on stderr (`-v`).
fn log_calls(r: &Report) {
    for (op, c) in &r.calls {
        tracing::debug!(
            operation = op.as_str(),
            calls = c.calls,
            attempts = c.attempts,
            "AWS calls"
        );
    }
}

/// The job itself, under the lease when it writes.
/// Opens when the run's lease is decided: the job's writes wait for it.
struct Gate(tokio::sync::watch::Receiver<Option<bool>>);

impl Gate {
    /// Wait until the lease is taken (a plan's gate is open from the start).
    /// Refused: an error the caller replaces with the lease's own.
    async fn open(mut self) -> Result<(), Error> {
        match self.0.wait_for(Option::is_some).await.map(|v| *v) {
            Ok(Some(true)) => Ok(()),
            _ => Err(Error::NoLease),
        }
    }
}

async fn job(
    c: &Config,
    run: &RunOptions,
    aws: &Aws,
    s3: &S3,
    gate: Gate,
) -> Result<Outcome, Error> {
    let admin = c.admin_account.as_str();
    let (bucket, prefix) = (c.bucket.name.as_str(), c.bucket.prefix.as_str());

    // 1. A retry reads what the last apply recorded: which targets to repair,
    // and the lists it put in place.
    let previous_run = if run.retry_failed {
        Some(retry_record(s3, bucket, prefix).await?)
    } else {
        None
    };
    if previous_run
        .as_ref()
        .is_some_and(|r| r.to_retry().is_empty())
    {
        return Ok(Outcome::NothingToRetry(format!(
            "Nothing to retry: every target of the last apply reached its desired state \
             (s3://{bucket}/{}).",
            publish::record::key(prefix)
        )));
    }
    // --account/--region narrow a retry; they never widen it to everything.
    if let Some(r) = &previous_run {
        let (accounts, regions) = narrow(&r.to_retry(), &run.accounts, &run.regions);
        if accounts.is_empty() || regions.is_empty() {
            return Ok(Outcome::NothingToRetry(format!(
                "Nothing to retry within --account/--region: the {} target(s) of the last \
                 apply that failed or were not run are elsewhere (s3://{bucket}/{}).",
                r.to_retry().len(),
                publish::record::key(prefix)
            )));
        }
    }
    let retry: Option<Vec<(String, String)>> = previous_run.as_ref().map(|r| r.to_retry());
    let (only_accounts, only_regions) = match &retry {
        None => (run.accounts.clone(), run.regions.clone()),
        Some(pairs) => narrow(pairs, &run.accounts, &run.regions),
    };

    // 2. The lists: built again only when a feed changed (a retry reuses the
    // recorded ones), and published (apply). This runs while the organization
    // is listed and the administrator's views are read: no target is placed
    // before the lists are in place, but discovering them does not wait.
    let publishing = async {
        // The list, the organization id and the current bucket policy do not
        // depend on each other: they are read at once.
        let reading_list = async {
            match &previous_run {
                Some(record) => crate::publication::recorded(c, s3, record).await,
                None => crate::publication::build(c, s3).await,
            }
        };
        let reading_org =
            async { Ok::<_, Error>(Organizations::new(aws, admin).organization_id().await?) };
        let reading_policy = async {
            if c.bucket.manage_policy {
                let current = bucket_policy::observe(s3, bucket)
                    .await
                    .map_err(publish::PublishError::from)?;
                Ok::<_, Error>(Some(current))
            } else {
                Ok(None)
            }
        };
        let (list, organization_id, current_policy) =
            tokio::try_join!(reading_list, reading_org, reading_policy)?;
        // Nothing is written, here or by any target, before the lease is held.
        gate.open().await?;

        // The bucket policy, then (apply) the object, the policy and the
        // manifest, in that order: the manifest names a list only once it can
        // be read.
        let policy = match current_policy {
            Some(current) => Some(
                bucket_policy::plan(
                    current.as_deref(),
                    c.bucket.region.as_str(),
                    bucket,
                    prefix,
                    &organization_id,
                )
                .map_err(|reason| publish::PublishError::Policy {
                    bucket: bucket.to_owned(),
                    reason,
                })?,
            ),
            None => None,
        };
        for w in policy.iter().flat_map(|p| &p.notes) {
            tracing::warn!(bucket, "{w}");
        }
        if run.mode == Mode::Apply {
            let uploads = list
                .threat
                .iter()
                .chain(&list.trusted)
                .flat_map(|l| &l.uploads);
            for u in uploads {
                publish::upload_object(s3, bucket, &u.key, u.bytes.clone(), &u.sha256).await?;
            }
            if let Some(p) = &policy {
                bucket_policy::apply(s3, bucket, p)
                    .await
                    .map_err(publish::PublishError::from)?;
            }
            if let Some(manifest) = &list.manifest {
                publish::write_manifest(s3, bucket, prefix, manifest).await?;
            }
            for key in &list.retires {
                publish::retire(s3, bucket, key).await;
            }
        }
        let desired = list.desired(bucket);
        Ok((desired, (list, organization_id, policy)))
    };

    // 3. Discover and place every target (a retry: only those it repairs),
    // then reconcile them wave by wave.
    let (
        FanOut {
            mut targets,
            waves,
            regions,
        },
        (list, organization_id, policy),
    ) = fan_out_after(
        aws,
        c,
        run,
        publishing,
        &only_accounts,
        &only_regions,
        retry.as_deref(),
    )
    .await?;
    if let Some(change) = policy.and_then(|p| p.changes.into_iter().next()) {
        attach_policy_change(&mut targets, c, run.mode, change);
    }

    let lists: Vec<ListReport> = list.threat.iter().map(|l| l.report(bucket)).collect();
    let list_report = lists.first().cloned().unwrap_or_default();
    let report = Report {
        organization_id: Some(organization_id),
        warnings: warnings(c),
        retry_of: previous_run.as_ref().map(|r| r.finished_at.clone()),
        lists,
        trusted_list: list.trusted.as_ref().map(|l| l.report(bucket)),
        ..report(
            run.mode,
            list_report,
            FanOut {
                targets,
                waves,
                regions,
            },
        )
    };

    // 4. The run record, so that `--retry-failed` knows what to repair.
    if run.mode == Mode::Apply {
        let now = SystemTime::now();
        let body = match &previous_run {
            Some(before) => before
                .merged(&RunRecord::of(&report, &list.record(), now))
                .to_json(),
            None => RunRecord::json_of(&report, &list.record(), now),
        };
        if let Err(e) = publish::record::write(s3, bucket, prefix, body).await {
            tracing::error!(
                "{}; `apply --retry-failed` will not know this run",
                crate::util::chain(&e)
            );
        }
    }

    Ok(Outcome::Report(Box::new(report)))
}

/// What the fan-out produced: every target's report and each wave's outcome.
#[derive(Debug)]
pub struct FanOut {
    /// One report per target, ordered by account then region, with account names.
    pub targets: Vec<TargetReport>,
    /// Each wave's outcome, in order.
    pub waves: Vec<report::WaveReport>,
    /// The Regions in scope, in order.
    pub regions: Vec<String>,
}

/// Discover the organization, then place and reconcile every target wave by
/// wave through `cloud` (AWS, or the synthetic organization of the `sim` feature).
/// `retry`: only these (account, region) pairs (`--retry-failed`).
#[cfg(feature = "sim")]
pub(crate) async fn fan_out<C: Cloud>(
    cloud: &C,
    c: &Config,
    run: &RunOptions,
    lists: DesiredLists,
    only_accounts: &[crate::config::AccountId],
    only_regions: &[crate::config::Region],
    retry: Option<&[(String, String)]>,
) -> Result<FanOut, Error> {
    let ready = async { Ok((lists, ())) };
    let (out, ()) = fan_out_after(cloud, c, run, ready, only_accounts, only_regions, retry).await?;
    Ok(out)
}

/// [`fan_out`] with the lists still to come: `lists` (building and
/// publishing them) runs while the organization is listed and the
/// administrator's views are read; no target is placed or reconciled before
/// it is done. Its error stops the run, as a failed discovery does; what it
/// returns beside the lists comes back with the fan-out.
pub(crate) async fn fan_out_after<C: Cloud, T>(
    cloud: &C,
    c: &Config,
    run: &RunOptions,
    lists: impl std::future::Future<Output = Result<(DesiredLists, T), Error>>,
    only_accounts: &[crate::config::AccountId],
    only_regions: &[crate::config::Region],
    retry: Option<&[(String, String)]>,
) -> Result<(FanOut, T), Error> {
    let retry: Option<std::collections::HashSet<(&str, &str)>> = retry.map(|pairs| {
        pairs
            .iter()
            .map(|(a, r)| (a.as_str(), r.as_str()))
            .collect()
    });
    let keep = |t: &crate::org::Target| {
        retry
            .as_ref()
            .is_none_or(|pairs| pairs.contains(&(t.account.as_str(), t.region.as_str())))
    };
    let regions = crate::discover::configured_regions(cloud, c).await?;
    // The organization's pages are listed back to back from now on, while
    // the administrator's detectors are read and the targets of the pages
    // already listed run: a page's targets go to the fan-out as it arrives,
    // once the administrator's view of its accounts is in.
    let (listing, mut pages) = crate::discover::listing(cloud, &c.admin_account);
    let fanning_out = async move {
        let discovering = async {
            Ok::<_, Error>(
                crate::discover::discover(
                    cloud,
                    c,
                    regions,
                    only_accounts,
                    only_regions,
                    &mut pages,
                )
                .await?,
            )
        };
        let ((found, first), (lists, with)) = tokio::try_join!(discovering, lists)?;
        let ctx = Context {
            cloud,
            mode: run.mode,
            lists,
            bucket_owner: c.admin_account.to_string(),
            rules: &c.suppression_rules,
            alerts: c.alerts.as_ref(),
            concurrency: usize::try_from(c.concurrency).unwrap_or(1),
            timing: Timing {
                settle_timeout: std::time::Duration::from_secs(u64::from(
                    c.threat_lists[0].settle_seconds,
                )),
                ..Timing::default()
            },
            deadline: run.deadline,
            stop: run.stop.clone(),
        };
        // A page's targets are expanded when the fan-out is ready for them
        // (a few pages ahead), not as soon as the page is listed: the
        // administrator's view of a page's accounts (one call per Region) is
        // read while the page before it is handed over.
        let (listed, targets_in) = tokio::sync::mpsc::channel::<Vec<crate::org::Target>>(2);
        let found = &found;
        let expanding = async move {
            let mut names: BTreeMap<crate::config::AccountId, std::sync::Arc<str>> =
                BTreeMap::new();
            let later = futures::stream::unfold(pages, |mut pages| async move {
                pages.next().await.map(|page| (page, pages))
            });
            let expanded = futures::stream::iter([Ok(first)])
                .chain(later)
                .map(|accounts| {
                    let names = accounts.as_ref().ok().map(|accounts| {
                        accounts
                            .iter()
                            .map(|a| (a.id.clone(), std::sync::Arc::from(a.name.as_str())))
                            .collect::<Vec<_>>()
                    });
                    async move {
                        let mut targets = found.page(cloud, c, accounts?).await;
                        targets.retain(|t| keep(t));
                        Ok::<_, crate::cloud::AwsError>((names.unwrap_or_default(), targets))
                    }
                })
                .buffered(2);
            let mut expanded = std::pin::pin!(expanded);
            while let Some(page) = expanded.next().await {
                let (listed_names, targets) = page?;
                names.extend(listed_names);
                if listed.send(targets).await.is_err() {
                    break;
                }
            }
            Ok::<_, crate::cloud::AwsError>(names)
        };
        let mut targets_in = targets_in;
        let targets = futures::stream::poll_fn(move |cx| targets_in.poll_recv(cx));
        let (names, (mut targets, waves)) = tokio::join!(
            expanding,
            reconcile::rollout(&ctx, found, targets, c.rollout.as_ref())
        );
        let names = names.map_err(|e| {
            tracing::error!(
                "the organization's listing failed after some of its targets had started; \
                 they ran to the end, and the run stops here"
            );
            crate::discover::DiscoverError::Organization(e)
        })?;
        // The targets are ordered by account: its name is looked up once.
        let mut last: Option<(crate::config::AccountId, Option<std::sync::Arc<str>>)> = None;
        for t in &mut targets {
            if last.as_ref().is_none_or(|(a, _)| *a != t.account_id) {
                last = Some((t.account_id.clone(), names.get(&t.account_id).cloned()));
            }
            t.account_name = last.as_ref().and_then(|(_, n)| n.clone());
        }
        Ok((
            FanOut {
                targets,
                waves,
                regions: found.regions.iter().map(ToString::to_string).collect(),
            },
            with,
        ))
    };
    tokio::join!(listing, fanning_out).1
}

/// The last run's record, for `--retry-failed`.
async fn retry_record(s3: &S3, bucket: &str, prefix: &str) -> Result<RunRecord, Error> {
    publish::record::read(s3, bucket, prefix)
        .await?
        .ok_or_else(|| Error::NoRunRecord {
            location: publish::s3_url(bucket, &publish::record::key(prefix)),
        })
}

/// The accounts and Regions of the retried targets, within `--account`/`--region`.
fn narrow(
    pairs: &[(String, String)],
    accounts: &[crate::config::AccountId],
    regions: &[crate::config::Region],
) -> (Vec<crate::config::AccountId>, Vec<crate::config::Region>) {
    let mut a: Vec<_> = pairs
        .iter()
        .filter_map(|(a, _)| crate::config::AccountId::parse(a).ok())
        .filter(|a| accounts.is_empty() || accounts.contains(a))
        .collect();
    let mut r: Vec<_> = pairs
        .iter()
        .filter_map(|(_, r)| crate::config::Region::parse(r).ok())
        .filter(|r| regions.is_empty() || regions.contains(r))
        .collect();
    a.sort();
    a.dedup();
    r.sort();
    r.dedup();
    (a, r)
}

/// What a reviewer of this configuration should keep in mind.
fn warnings(c: &Config) -> Vec<String> {
    let mut w = Vec::new();
    if let (Some(a), false) = (&c.alerts, c.suppression_rules.is_empty()) {
        w.push(format!(
            "findings archived by the {} suppression rule(s) never alert: GuardDuty does not \
             send suppressed findings to EventBridge, whatever their severity (alerts fire at \
             severity >= {:.1})",
            c.suppression_rules.len(),
            a.min_severity
        ));
    }
    w
}

/// the README's Commands and Exit codes: 3 when a target failed; with `--detailed-exitcode`, 4 when
/// changes are pending.
pub fn exit_code(report: &Report, detailed: bool) -> ExitCode {
    let s = &report.summary;
    if s.failed > 0 {
        ExitCode::TargetsFailed
    } else if detailed && report.mode == Mode::Plan && (s.pending > 0 || report.any_list_changed())
    {
        ExitCode::ChangesPending
    } else {
        ExitCode::Success
    }
}

/// The bucket policy change belongs to the administrator's target in the
/// bucket's Region (docs/REFERENCE.md, the JSON report).
fn attach_policy_change(
    targets: &mut [TargetReport],
    c: &Config,
    mode: Mode,
    change: report::Change,
) {
    let home = targets
        .iter_mut()
        .find(|t| t.account_id == c.admin_account.as_str() && t.region == c.bucket.region.as_str());
    match home {
        Some(t) => {
            if t.status == Status::Unchanged
                || (mode == Mode::Plan && t.status == Status::Activating)
            {
                t.status = match mode {
                    Mode::Plan => Status::Pending,
                    Mode::Apply => Status::Changed,
                };
            }
            t.changes.push(change);
        }
        None => tracing::info!(
            bucket = c.bucket.name.as_str(),
            "bucket policy {} (its target is outside --account/--region)",
            change.action.as_str()
        ),
    }
}

//! The one place that wires the phases together for each command.
//!
//! Each command returns `Result<ExitCode, Error>`; [`run`] prints the error
//! and maps it to its exit code through [`Error::exit_code`].

use std::path::Path;
use std::time::SystemTime;

use crate::aws::Aws;
use crate::aws::organizations::Organizations;
use crate::aws::s3::S3;
use crate::cli::{Cli, Command, Format, ListCommand, ScopeArgs};
use crate::config::{self, Config, RegionScope};
use crate::error::{Error, ExitCode};
use crate::feed::{self, BuiltList, Outcome};
use crate::publish::{self, Manifest};
use crate::reconcile::{self, Context, Timing, threat_set::Desired};
use crate::report::{self, ListReport, Mode, Report, Status, Summary, TargetReport};

/// Run one command and return its exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Validate(a) => validate(&a.config),
        Command::List(ListCommand::Build(a)) => list_build(&a).await,
        Command::List(ListCommand::Merge(a)) => list_merge(&a),
        Command::Plan(a) => {
            let detailed = a.detailed_exitcode;
            plan_or_apply(&RunArgs::new(
                &a.config.config,
                &a.scope,
                a.format,
                Mode::Plan,
                detailed,
            ))
            .await
        }
        Command::Apply(a) if a.retry_failed => not_yet(
            &a.config.config,
            "apply --retry-failed",
            "issue #9: rollout waves and retry",
        ),
        Command::Apply(a) => {
            plan_or_apply(&RunArgs::new(
                &a.config.config,
                &a.scope,
                a.format,
                Mode::Apply,
                false,
            ))
            .await
        }
        Command::Policies(a) => not_yet(&a.config.config, "policies", "issue #6: IAM policies"),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            match &e {
                // One line per problem, exactly as SPEC.md §4 writes them.
                Error::Config(errors) => eprintln!("{errors}"),
                other => eprintln!("error: {}", crate::error::chain(other)),
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
    println!("{}: valid", path.display());
    println!("{}", summary(&c));
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
            "  threat list    {:?} from {}, published to s3://{}/{}",
            c.threat_list.name,
            plural(c.feeds.len(), "feed"),
            c.bucket.name,
            c.bucket.prefix
        ),
        format!(
            "  suppression    {}",
            plural(c.suppression_rules.len(), "rule")
        ),
    ];
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

async fn list_build(a: &crate::cli::ListBuildArgs) -> Result<ExitCode, Error> {
    let c = load(&a.config.config)?;
    let settings = build_settings(&c);
    crate::feed::commands::list_build(&settings, a.out.as_deref()).await?;
    Ok(ExitCode::Success)
}

fn list_merge(a: &crate::cli::ListMergeArgs) -> Result<ExitCode, Error> {
    crate::feed::commands::list_merge(&a.files, &a.except)?;
    Ok(ExitCode::Success)
}

/// The list builder's view of the configuration.
pub fn build_settings(c: &Config) -> crate::feed::BuildSettings {
    crate::feed::BuildSettings {
        feeds: c
            .feeds
            .iter()
            .map(|f| crate::feed::FeedSpec {
                name: f.name.clone(),
                url: f.url.clone(),
            })
            .collect(),
        strip_reserved: c.threat_list.strip_reserved,
        allowlist: c.threat_list.allowlist.clone(),
        min_entries: c.threat_list.min_entries,
        max_shrink_percent: c.threat_list.max_shrink_percent,
        max_age_hours: c.threat_list.max_age_hours,
    }
}

/// Commands whose implementation is tracked by a later issue: the
/// configuration is still checked first, so a bad one exits 2.
fn not_yet(
    path: &std::path::Path,
    command: &'static str,
    tracking: &'static str,
) -> Result<ExitCode, Error> {
    load(path)?;
    Err(Error::NotImplemented { command, tracking })
}

/// What `plan` and `apply` share from the command line.
struct RunArgs<'a> {
    config: &'a Path,
    scope: &'a ScopeArgs,
    format: Format,
    mode: Mode,
    detailed_exitcode: bool,
}

impl<'a> RunArgs<'a> {
    fn new(
        config: &'a Path,
        scope: &'a ScopeArgs,
        format: Format,
        mode: Mode,
        detailed_exitcode: bool,
    ) -> Self {
        RunArgs {
            config,
            scope,
            format,
            mode,
            detailed_exitcode,
        }
    }
}

/// The list this run puts in place: freshly built, or the published one
/// when no feed changed.
struct List {
    built: Option<BuiltList>,
    manifest: Manifest,
    /// Whether the object must be uploaded (new content, or the object is gone).
    upload: bool,
}

/// `guardsync plan` and `guardsync apply`: build, publish (apply), discover,
/// reconcile every target, report.
async fn plan_or_apply(run: &RunArgs<'_>) -> Result<ExitCode, Error> {
    let mut c = load(run.config)?;
    if let Some(n) = run.scope.concurrency {
        c.concurrency = n;
    }
    if !c.suppression_rules.is_empty() || c.alerts.is_some() {
        tracing::warn!(
            "suppression_rules and alerts are validated but not reconciled yet (issue #5); \
             this run manages the threat list only"
        );
    }
    let aws = Aws::load(c.retry_max_attempts).await;
    let admin = c.admin_account.as_str();
    let s3 = S3::new(&aws.config_for(c.bucket.region.as_str(), None), admin);
    let (bucket, prefix) = (c.bucket.name.as_str(), c.bucket.prefix.as_str());

    // 1. The list: built again only when a feed changed.
    let list = list(&c, &s3).await?;
    let key = list.manifest.key.clone();

    // 2. The bucket policy, then (apply) the object, the policy and the manifest,
    // in that order: the manifest names a list only once it can be read.
    let organization_id = Organizations::new(&aws, admin).organization_id().await?;
    let policy = if c.bucket.manage_policy {
        let current = s3
            .policy(bucket)
            .await
            .map_err(publish::PublishError::from)?;
        Some(
            publish::policy::reconcile(current.as_deref(), bucket, prefix, &organization_id)
                .map_err(|reason| publish::PublishError::Policy {
                    bucket: bucket.to_owned(),
                    reason,
                })?,
        )
    } else {
        None
    };
    if run.mode == Mode::Apply {
        if let (true, Some(built)) = (list.upload, &list.built) {
            publish::upload_list(&s3, bucket, prefix, built).await?;
        }
        if let Some(p) = policy.as_ref().filter(|p| p.change.is_some()) {
            s3.put_policy(bucket, &p.policy)
                .await
                .map_err(publish::PublishError::from)?;
        }
        if list.upload {
            publish::write_manifest(&s3, bucket, prefix, &list.manifest).await?;
        }
    }

    // 3. Discover and place every target, then reconcile them all.
    let found =
        crate::discover::discover(&aws, &c, &run.scope.accounts, &run.scope.regions).await?;
    let ctx = Context {
        aws: &aws,
        mode: run.mode,
        desired: Desired {
            name: c.threat_list.name.clone(),
            location: publish::guardduty_location(bucket, c.bucket.region.as_str(), &key),
            bucket: bucket.to_owned(),
            key: key.clone(),
            sha256: list.manifest.sha256.clone(),
        },
        bucket_owner: admin.to_owned(),
        concurrency: usize::try_from(c.concurrency).unwrap_or(1),
        timing: Timing::default(),
    };
    let mut targets = reconcile::run(&ctx, found.placed).await;
    for t in &mut targets {
        t.account_name = crate::config::AccountId::parse(&t.account_id)
            .ok()
            .and_then(|id| found.names.get(&id).cloned());
    }
    if let Some(change) = policy.and_then(|p| p.change) {
        attach_policy_change(&mut targets, &c, run.mode, change);
    }

    let report = Report {
        mode: run.mode,
        list: ListReport {
            sha256: list.manifest.sha256.clone(),
            entries: list.manifest.entries,
            addresses: list.manifest.addresses,
            location: publish::s3_url(bucket, &key),
            changed: list.upload,
            rebuilt: list.built.is_some(),
        },
        organization_id: Some(organization_id),
        regions: found.regions.iter().map(ToString::to_string).collect(),
        summary: Summary::of(&targets),
        targets,
    };
    match run.format {
        Format::Json => print!("{}", report.to_json()),
        Format::Text => {
            let style = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                report::text::Style::Color
            } else {
                report::text::Style::Plain
            };
            print!("{}", report::text::render(&report, style));
        }
    }
    Ok(exit_code(&report, run.detailed_exitcode))
}

/// SPEC.md §3: 3 when a target failed; with `--detailed-exitcode`, 4 when
/// changes are pending.
fn exit_code(report: &Report, detailed: bool) -> ExitCode {
    let s = &report.summary;
    if s.failed > 0 {
        ExitCode::TargetsFailed
    } else if detailed && report.mode == Mode::Plan && (s.pending > 0 || report.list.changed) {
        ExitCode::ChangesPending
    } else {
        ExitCode::Success
    }
}

/// The bucket policy change belongs to the administrator's target in the
/// bucket's Region (SPEC.md §6).
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
            if t.status == Status::Unchanged {
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

/// Build the list, conditionally on the last manifest when its object is
/// still there; decide whether it must be uploaded.
async fn list(c: &Config, s3: &S3) -> Result<List, Error> {
    let (bucket, prefix) = (c.bucket.name.as_str(), c.bucket.prefix.as_str());
    let settings = build_settings(c);
    let now = SystemTime::now();
    let previous = publish::read_manifest(s3, bucket, prefix).await?;
    let published = match &previous {
        Some(m) => s3
            .exists(bucket, &m.key)
            .await
            .map_err(publish::PublishError::from)?,
        None => false,
    };
    let built = match (&previous, published) {
        (Some(m), true) => {
            match feed::build_if_changed(&settings, &m.previous(), now, &Default::default()).await?
            {
                Outcome::NotModified => {
                    return Ok(List {
                        built: None,
                        manifest: m.clone(),
                        upload: false,
                    });
                }
                Outcome::Built(b) => b,
            }
        }
        (m, _) => {
            let prev = m.as_ref().map(Manifest::previous);
            feed::build(&settings, prev.as_ref(), now).await?
        }
    };
    Ok(match previous {
        // Same bytes as the published list: nothing to upload, manifest kept.
        Some(m) if published && m.sha256 == built.sha256 => List {
            built: Some(built),
            manifest: m,
            upload: false,
        },
        _ => {
            let key = publish::object_key(prefix, &built.sha256);
            List {
                manifest: Manifest::new(&built, &key, now),
                built: Some(built),
                upload: true,
            }
        }
    })
}

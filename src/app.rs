//! The one place that wires the phases together for each command.
//!
//! Each command returns `Result<ExitCode, Error>`; [`run`] prints the error
//! and maps it to its exit code through [`Error::exit_code`].

use crate::cli::{Cli, Command, ListCommand};
use crate::config::{self, Config, RegionScope};
use crate::error::{Error, ExitCode};

/// Run one command and return its exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Validate(a) => validate(&a.config),
        Command::List(ListCommand::Build(a)) => list_build(&a).await,
        Command::List(ListCommand::Merge(a)) => list_merge(&a),
        Command::Plan(a) => not_yet(&a.config.config, "plan", "issue #4: organization fan-out"),
        Command::Apply(a) => not_yet(&a.config.config, "apply", "issue #4: organization fan-out"),
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

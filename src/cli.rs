//! The command-line surface of the README's Commands and Exit codes (clap derive); no behaviour here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  success: every target reached its desired state (plan: computed)
  1  aborted before the fan-out: no AWS credentials, a feed guard tripped,
     publishing failed, the organization could not be listed, another
     apply holds the lease
  2  usage or configuration error; no mutating AWS call was made
  3  the fan-out finished but at least one target failed
  4  plan --detailed-exitcode only: changes are pending and nothing failed

AWS credentials, region and endpoint come from the standard AWS chain
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...), exactly as the AWS CLI reads them.
Every command, key, report field and exit code: docs/REFERENCE.md.";

/// Keep one FireHOL IP threat list active in GuardDuty across an AWS Organization.
///
/// guardsync runs in the GuardDuty delegated administrator account. It builds
/// the list once from FireHOL feeds, publishes it once to a central S3 bucket,
/// then fans out over every account and region of the organization to put the
/// list where GuardDuty uses it, reconcile suppression rules and wire finding
/// alerts. Results go to stdout; logs and progress go to stderr.
#[derive(Debug, Parser)]
#[command(name = "guardsync", version, after_long_help = EXIT_CODES, after_help = EXIT_CODES)]
pub struct Cli {
    /// More log detail on stderr (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of the README's Commands and Exit codes.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check the configuration; makes no network call.
    ///
    /// Prints every problem at once, one per line, as FILE:LINE: KEY.PATH: message,
    /// and exits 2 when there is any.
    Validate(ConfigArg),

    /// Build or merge IP lists without AWS.
    #[command(subcommand)]
    List(ListCommand),

    /// Show what `apply` would change; makes no mutating AWS call.
    ///
    /// Builds the list, discovers the organization, observes every target and
    /// prints the changes it would make, one block per account and region.
    Plan(PlanArgs),

    /// Build, publish, fan out and reconcile; never prompts.
    ///
    /// Takes a lease in the bucket (<prefix>state/lease.json) so that two
    /// applies never interleave, and writes a run record next to it for
    /// --retry-failed. On SIGINT or SIGTERM no new target starts, targets in
    /// flight get 30 s, and the rest are reported as not started; a second
    /// signal stops at once.
    Apply(ApplyArgs),

    /// Render a report as one self-contained HTML page.
    ///
    /// From a JSON report (--from FILE, what `plan`/`apply --format json`
    /// print) or from the last run record in the bucket (--config FILE): the
    /// coverage grid of every account and Region by placement and status, the
    /// failures with their reasons, the gaps, and the list. No script, font or
    /// style is loaded from anywhere.
    Report(ReportArgs),

    /// Render the bucket policy and the IAM policies as JSON.
    ///
    /// Writes the bucket policy, the administrator role policy, the member role
    /// policy and the member role trust policy, derived from the configuration.
    Policies(PoliciesArgs),
}

/// `guardsync list ...`
#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// Fetch the feeds and build the list exactly as a run would, without AWS.
    ///
    /// Prints a summary (entries, addresses, removed reserved/allowlisted,
    /// sha256) and, with --out, writes the list file.
    Build(ListBuildArgs),

    /// Aggregate IPv4 lists into the optimal set of CIDRs on stdout.
    ///
    /// Inputs are FireHOL netset/ipset files or plain lists of addresses and
    /// CIDRs ('-' is stdin). The output is byte-identical to
    /// `iprange FILE... --except FILE...`.
    Merge(ListMergeArgs),
}

/// The configuration file argument: `--config FILE`, or `FILE` alone, or
/// `GUARDSYNC_CONFIG`, or `guardsync.yaml` in the current folder.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// The guardsync YAML configuration [default: $GUARDSYNC_CONFIG, else guardsync.yaml]
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The configuration, as with --config (`guardsync validate my.yaml`).
    #[arg(value_name = "FILE", conflicts_with = "config")]
    file: Option<PathBuf>,
}

/// The configuration read when none is named.
pub const DEFAULT_CONFIG: &str = "guardsync.yaml";

impl ConfigArg {
    /// The configuration file to read: the one named on the command line,
    /// else `GUARDSYNC_CONFIG`, else `guardsync.yaml`.
    pub fn path(&self) -> PathBuf {
        self.file
            .clone()
            .or_else(|| self.config.clone())
            .or_else(|| std::env::var_os("GUARDSYNC_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
    }
}

/// Options that narrow a run over the organization.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Only this account (repeatable).
    #[arg(long = "account", value_name = "ID", value_parser = parse_account)]
    pub accounts: Vec<crate::config::AccountId>,

    /// Only this region (repeatable).
    #[arg(long = "region", value_name = "NAME", value_parser = parse_region)]
    pub regions: Vec<crate::config::Region>,

    /// How many targets run at once; overrides `concurrency` in the configuration.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: Option<u32>,
}

fn parse_account(s: &str) -> Result<crate::config::AccountId, String> {
    crate::config::AccountId::parse(s)
}

fn parse_region(s: &str) -> Result<crate::config::Region, String> {
    crate::config::Region::parse(s)
}

/// Output formats of plan and apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Human-readable, terraform-like.
    #[default]
    Text,
    /// The JSON report (every field in docs/REFERENCE.md; schema docs/report.schema.json).
    Json,
    /// A compact summary for a pull request comment (GitHub/GitLab Markdown).
    Markdown,
}

/// `guardsync list build`
#[derive(Debug, Args)]
pub struct ListBuildArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    /// Build only this list: a `threat_lists` name, or `trusted_list.name`
    /// (default: every threat list; needed with --out when there are several).
    #[arg(long = "list", value_name = "NAME")]
    pub list: Option<String>,

    /// Write the list here ('-' for stdout): the bytes guardsync publishes
    /// (a split list: the whole list, whose parts are cut in address order).
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `guardsync list merge`
#[derive(Debug, Args)]
pub struct ListMergeArgs {
    /// Subtract the entries of this list from the result (repeatable).
    #[arg(long = "except", value_name = "FILE")]
    pub except: Vec<PathBuf>,

    /// Input lists ('-' is stdin).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// `guardsync plan`
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,

    /// Exit 4 when changes are pending (and nothing failed), like terraform.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// `guardsync apply`
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,

    /// Run only the targets that failed or were not run in the last recorded apply.
    #[arg(long)]
    pub retry_failed: bool,
}

/// `guardsync report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the HTML page here ('-' is stdout).
    #[arg(long, value_name = "OUT")]
    pub html: PathBuf,

    /// A JSON report (`plan`/`apply --format json`; '-' is stdin).
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    pub from: Option<PathBuf>,

    /// Read the last apply's run record (<prefix>state/last-run.json) from
    /// this configuration's bucket.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `guardsync policies`
#[derive(Debug, Args)]
pub struct PoliciesArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    /// Write one JSON file per policy into this directory instead of stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// The organization id the bucket policy admits (`o-...`); without it, the placeholder o-EXAMPLE.
    #[arg(long, value_name = "ID", value_parser = crate::policies::parse_organization_id)]
    pub organization_id: Option<String>,

    /// The role guardsync runs as in the administrator account (name or path/name): member roles trust it.
    #[arg(
        long,
        value_name = "NAME",
        default_value = crate::policies::DEFAULT_ADMIN_ROLE,
        value_parser = crate::policies::parse_role
    )]
    pub admin_role: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

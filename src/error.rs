//! Error kinds of the whole program and their one mapping to exit codes.
//!
//! The README's *Exit codes* table pins the exit codes; [`ExitCode`] is the only place that knows
//! them, and [`Error::exit_code`] is the only mapping from an error to a code.

use std::path::PathBuf;

use crate::config::ConfigErrors;

/// Process exit codes of the README's Commands and Exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Every target reached its desired state (plan: computed).
    Success = 0,
    /// Aborted before the fan-out: feed guard, publish failure, organization not listed.
    Aborted = 1,
    /// Usage or configuration error; no AWS call was made.
    Usage = 2,
    /// The fan-out finished but at least one target failed.
    TargetsFailed = 3,
    /// `plan --detailed-exitcode`: changes are pending and nothing failed.
    ChangesPending = 4,
}

impl ExitCode {
    /// The numeric process status.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Everything that can stop a guardsync command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration did not validate; every problem is listed.
    #[error("{0}")]
    Config(#[from] ConfigErrors),

    /// A file named on the command line could not be read or written.
    #[error("failed to {action} {}: {source}", path.display())]
    File {
        /// What was being done ("read", "write").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A feed could not be read or parsed, or a list guard tripped.
    #[error(transparent)]
    Feed(#[from] crate::feed::FeedError),

    /// The list could not be published, or the bucket not read.
    #[error(transparent)]
    Publish(#[from] crate::publish::PublishError),

    /// The organization or its Regions could not be listed.
    #[error(transparent)]
    Discover(#[from] crate::discover::DiscoverError),

    /// An AWS call needed before the fan-out failed.
    #[error(transparent)]
    Aws(#[from] crate::cloud::AwsError),

    /// The standard AWS chain found no credentials (or the profile named is not there).
    #[error("{0}")]
    NoCredentials(String),

    /// Another run holds the lease, or it could not be taken.
    #[error(transparent)]
    Lease(#[from] crate::publish::lease::LeaseError),

    /// The job stopped at its first write because the lease was not taken
    /// (the lease's own error is the one reported).
    #[error("the run's lease was not taken; nothing was written")]
    NoLease,

    /// `--region` or `--account` names something outside the run's scope.
    #[error("{0}")]
    Scope(String),

    /// `apply --retry-failed` without a run record.
    #[error(
        "failed to find a run record at {location}: run `guardsync apply` first; --retry-failed repairs what the last apply left failed or not run"
    )]
    NoRunRecord {
        /// `s3://bucket/key` of the record.
        location: String,
    },

    /// `guardsync report` with neither --from nor --config.
    #[error(
        "nothing to report: pass --from FILE (a JSON report of `guardsync plan|apply --format json`, '-' for stdin) or --config FILE (the last apply, from the run record in its bucket)"
    )]
    NoReportInput,

    /// `guardsync report --from FILE`: not a JSON report (nor a run record).
    #[error(
        "failed to read {}: not a guardsync JSON report (`guardsync plan|apply --format json`) nor run record: {problem}",
        path.display()
    )]
    NotAReport {
        /// The file ('-': stdin).
        path: PathBuf,
        /// What is wrong, and where.
        problem: String,
    },

    /// `guardsync report --config FILE` without a run record.
    #[error(
        "failed to find a run record at {location} (configuration {}): run `guardsync apply` first; the report shows what the last apply left in place",
        config.display()
    )]
    NothingToReport {
        /// `s3://bucket/key` of the record.
        location: String,
        /// The configuration file.
        config: PathBuf,
    },

    /// `apply --retry-failed`: the list the last run recorded is no longer in the bucket.
    #[error(
        "failed to retry: the recorded list {location} is no longer in the bucket; run a full `guardsync apply`"
    )]
    RecordedListGone {
        /// `s3://bucket/key` of the list.
        location: String,
    },
    /// The threat lists, split to fit GuardDuty's limits, need more sets
    /// than a detector holds.
    #[error(
        "the threat lists need {1} sets ({0}; a list over 250,000 entries or 35 MB is split in \
         parts, one set each) but GuardDuty allows 6 threat lists per detector; nothing was \
         written: configure fewer or smaller lists"
    )]
    TooManySets(String, usize),
}

impl Error {
    /// The exit code the README's Commands and Exit codes assigns to this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config(_)
            | Error::File { .. }
            | Error::Scope(_)
            | Error::NoReportInput
            | Error::NotAReport { .. } => ExitCode::Usage,
            Error::Feed(e) if e.is_usage() => ExitCode::Usage,
            Error::Feed(_)
            | Error::Publish(_)
            | Error::Discover(_)
            | Error::Aws(_)
            | Error::NoCredentials(_)
            | Error::Lease(_)
            | Error::NoLease
            | Error::NoRunRecord { .. }
            | Error::NothingToReport { .. }
            | Error::RecordedListGone { .. }
            | Error::TooManySets(..) => ExitCode::Aborted,
        }
    }
}

//! The one shape of reconcile, shared by every resource kind: what a kind
//! decided for one target ([`Plan`]), what carrying it out came to
//! ([`Outcome`]), and why it could not ([`TargetError`]). Pure.
//!
//! Each kind (one file of this module: `threat_set`, `filters`, `alerts`,
//! `bucket_policy`) has the same three functions:
//!
//! - `observe` reads what is there (I/O, read-only);
//! - `plan(desired, observed) -> Plan<Step>` decides (pure, no I/O), with
//!   the changes to report, the resources it leaves alone and what blocks it;
//! - `apply(&Plan<Step>)` carries out exactly those steps (I/O).

use std::collections::BTreeMap;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::cloud::AwsError;
use crate::report::{Change, Resource, Unmanaged};

/// The tag that marks what guardsync owns.
pub(crate) const OWNER_TAG: &str = "managed-by";
/// Its value.
pub(crate) const OWNER_VALUE: &str = "guardsync";

/// Whether a resource with these tags is guardsync's.
pub(crate) fn is_owned(tags: &BTreeMap<String, String>) -> bool {
    tags.get(OWNER_TAG).is_some_and(|v| v == OWNER_VALUE)
}

/// The tags of everything guardsync creates.
pub(crate) fn owner_tags() -> BTreeMap<String, String> {
    BTreeMap::from([(OWNER_TAG.to_owned(), OWNER_VALUE.to_owned())])
}

/// An idempotency token for a create: the same inputs give the same token,
/// so a retried or interrupted create never makes a second resource.
pub(crate) fn client_token(inputs: &str) -> String {
    hex::encode(Sha256::digest(inputs.as_bytes()))[..32].to_owned()
}

/// What sets one kind of list apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListKind {
    /// The API's kind.
    pub set: crate::cloud::SetKind,
    /// The report's `resource`.
    pub resource: Resource,
    /// How many lists of this kind a detector may hold.
    pub slots: usize,
    /// Whether threat entity lists take the same slots.
    pub entity_lists_count: bool,
    /// The configuration key that names the list, for hints.
    pub config_key: &'static str,
    /// The kind in a sentence ("threat lists").
    pub plural: &'static str,
}

/// How long guardsync waits for GuardDuty, and how often it looks.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// First pause between two GetThreatIntelSet polls; it grows 1.5x.
    pub poll_initial: Duration,
    /// Longest pause between two polls.
    pub poll_max: Duration,
    /// How long `apply` waits for a set to leave ACTIVATING or DEACTIVATING
    /// (`threat_list.settle_seconds`); a set still ACTIVATING then is
    /// reported `activating`.
    pub settle_timeout: Duration,
    /// The whole work of one target, calls and waits included.
    pub target_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            poll_initial: Duration::from_millis(250),
            poll_max: Duration::from_secs(5),
            settle_timeout: Duration::from_secs(60),
            target_timeout: Duration::from_secs(600),
        }
    }
}

/// What one resource kind decided for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<S> {
    /// The writes to make, in the order they must run.
    pub steps: Vec<S>,
    /// The changes to report (what the steps do, in a reviewer's words).
    pub changes: Vec<Change>,
    /// Resources found there that guardsync leaves alone.
    pub unmanaged: Vec<Unmanaged>,
    /// What a reviewer should know that is not a change.
    pub notes: Vec<String>,
    /// Why part of the desired state cannot be reached: the target fails
    /// with these, whatever the steps do.
    pub blocked: Vec<TargetError>,
    /// The lists GuardDuty is still loading (ACTIVATING), by name.
    pub activating: Vec<String>,
}

impl<S> Default for Plan<S> {
    fn default() -> Self {
        Plan {
            steps: Vec::new(),
            changes: Vec::new(),
            unmanaged: Vec::new(),
            notes: Vec::new(),
            blocked: Vec::new(),
            activating: Vec::new(),
        }
    }
}

impl<S> Plan<S> {
    /// Whether the plan writes nothing and blocks nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.changes.is_empty() && self.blocked.is_empty()
    }

    /// What the plan comes to when nothing is carried out (plan mode): its
    /// changes, what it leaves alone, its notes and what blocks it.
    pub(crate) fn outcome(self) -> Outcome {
        Outcome {
            changes: self.changes,
            unmanaged: self.unmanaged,
            notes: self.notes,
            errors: self.blocked,
            activating: self.activating,
        }
    }
}

/// What one resource kind of a target did (apply) or would do (plan).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The changes made (apply) or to make (plan).
    pub changes: Vec<Change>,
    /// Resources found there that guardsync left alone.
    pub unmanaged: Vec<Unmanaged>,
    /// What a reviewer should know that is not a change.
    pub notes: Vec<String>,
    /// Why the kind did not reach its desired state.
    pub errors: Vec<TargetError>,
    /// The lists GuardDuty was still loading when guardsync stopped waiting.
    pub activating: Vec<String>,
}

impl Outcome {
    /// A kind that failed before it could plan (its observation failed).
    pub(crate) fn failed(error: TargetError) -> Outcome {
        Outcome {
            errors: vec![error],
            ..Outcome::default()
        }
    }
}

/// Why a resource kind of a target did not reach its desired state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{failure}")]
pub struct TargetError {
    /// The kind of resource.
    pub resource: Resource,
    /// What went wrong.
    #[source]
    pub failure: Failure,
}

impl TargetError {
    /// A failure of `resource`.
    pub(crate) fn new(resource: Resource, failure: impl Into<Failure>) -> Self {
        TargetError {
            resource,
            failure: failure.into(),
        }
    }

    /// The AWS operation that failed, when an AWS call did.
    pub fn operation(&self) -> Option<&'static str> {
        match &self.failure {
            Failure::Aws(e) => Some(e.operation),
            _ => None,
        }
    }

    /// AWS's error code, when AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match &self.failure {
            Failure::Aws(e) => e.code.as_deref(),
            _ => None,
        }
    }
}

/// What went wrong, by kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// An AWS call failed (with the account, region, operation and code).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A resource of the desired name exists and guardsync does not own it.
    #[error("{0}")]
    Conflict(String),
    /// A GuardDuty limit would be exceeded.
    #[error("{0}")]
    Limit(String),
    /// GuardDuty's status of a list stops the change, or undid it.
    #[error("{0}")]
    Status(String),
    /// What is there cannot be read or changed the way guardsync needs.
    #[error("{0}")]
    Refused(String),
}

/// Every error of a target, as the report writes them: `; `-separated.
pub(crate) fn joined(errors: &[TargetError]) -> Option<String> {
    (!errors.is_empty()).then(|| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })
}

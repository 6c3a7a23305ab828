//! The engine's view of AWS: the resources it reasons about (a set, a
//! filter, a topic, an AWS error, an account's credentials, as plain values),
//! the call budget ([`calls`]) and the narrow traits through which it reaches
//! AWS.
//!
//! Discovery and the fan-out see AWS only through these traits: one per
//! service client they use, and [`Cloud`], which makes those clients for an
//! (account, region). This module owns them; the SDK adapters of `aws`
//! implement them (what guardsync runs with), and so does the synthetic
//! organization of the `sim` feature (the scale benchmark and the engine's
//! tests). Both depend on this module, never the reverse. Each method is one
//! call with its meaning unchanged: errors are [`AwsError`]s naming the
//! account, region and operation. Pure: declarations and plain values only.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::Stream;

pub mod calls;

use crate::config::{AccountId, Condition, OuId};
use crate::org::placement::Members;
use crate::org::{OrgAccount, Probe};

/// Where the engine's calls go: a client per service, account and region.
pub trait Cloud: Sync {
    /// GuardDuty in one account and region.
    type GuardDuty: GuardDutyApi;
    /// SNS in one account and region.
    type Sns: SnsApi;
    /// EventBridge in one account and region.
    type Events: EventsApi;
    /// Organizations, as the administrator.
    type Organizations: OrganizationsApi;

    /// Organizations with the tool's own credentials; `caller` labels errors.
    fn organizations(&self, caller: &str) -> Self::Organizations;

    /// The Regions enabled in `account` (the caller), asked in `region`.
    fn enabled_regions(
        &self,
        region: &str,
        account: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;

    /// Assume `role` in `account` through `region`'s STS endpoint.
    fn assume(
        &self,
        account: &str,
        region: &str,
        role: &str,
        external_id: Option<&str>,
        session_name: &str,
    ) -> impl Future<Output = Result<AccountCredentials, AwsError>> + Send;

    /// GuardDuty in `account` and `region`, with `credentials` (an assumed
    /// role) or the tool's own.
    fn guardduty(
        &self,
        region: &str,
        account: &str,
        credentials: Option<&AccountCredentials>,
    ) -> Self::GuardDuty;

    /// SNS in the administrator `account` and `region`.
    fn sns(&self, region: &str, account: &str) -> Self::Sns;

    /// EventBridge in the administrator `account` and `region`.
    fn events(&self, region: &str, account: &str) -> Self::Events;
}

/// The Organizations calls discovery makes.
pub trait OrganizationsApi: Send + Sync {
    /// Every account, with its `State`, a page at a time as Organizations
    /// answers (in its order).
    fn account_pages(self) -> impl Stream<Item = Result<Vec<OrgAccount>, AwsError>> + Send;
    /// Every account below `ou`, recursively.
    fn accounts_under(
        &self,
        ou: &OuId,
    ) -> impl Future<Output = Result<BTreeSet<AccountId>, AwsError>> + Send;
}

/// How many accounts one GetMembers call may name (the API's limit).
pub const MEMBERS_PER_CALL: usize = 50;

/// The GuardDuty calls of discovery and of a managed target.
pub trait GuardDutyApi: Send + Sync {
    /// The account's detector in this Region, if GuardDuty is on (ListDetectors).
    fn detector_id(&self) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
    /// The relationship of each of `accounts` (at most [`MEMBERS_PER_CALL`])
    /// that is a member of this administrator's detector, associated or not
    /// (GetMembers); the others are left out.
    fn members(
        &self,
        detector_id: &str,
        accounts: &[AccountId],
    ) -> impl Future<Output = Result<Members, AwsError>> + Send;
    /// The view from inside the account: its detector and its administrator.
    fn probe(&self) -> impl Future<Output = Result<Probe, AwsError>> + Send;
    /// Every set of `kind` in the detector, with its details.
    fn sets(
        &self,
        kind: SetKind,
        detector_id: &str,
    ) -> impl Future<Output = Result<Vec<ListSet>, AwsError>> + Send;
    /// How many threat entity lists (IPs and domains) the detector has: they
    /// may take the same six slots as the ThreatIntelSets.
    fn threat_entity_set_count(
        &self,
        detector_id: &str,
    ) -> impl Future<Output = Result<usize, AwsError>> + Send;
    /// One set.
    fn set(
        &self,
        kind: SetKind,
        detector_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<ListSet, AwsError>> + Send;
    /// Create a TXT set and activate it; returns its id.
    fn create_set(
        &self,
        kind: SetKind,
        detector_id: &str,
        set: &NewSet<'_>,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
    /// Point a set at `location` and activate it.
    fn activate_set(
        &self,
        kind: SetKind,
        detector_id: &str,
        id: &str,
        location: &str,
        bucket_owner: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Put `tags` on a set.
    fn tag_set(
        &self,
        kind: SetKind,
        detector_id: &str,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Delete a set.
    fn delete_set(
        &self,
        kind: SetKind,
        detector_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The ARN of a set.
    fn set_arn(&self, kind: SetKind, detector_id: &str, id: &str) -> String;
    /// The ARN of a filter.
    fn filter_arn(&self, detector_id: &str, name: &str) -> String;
    /// Every filter of the detector, with its details.
    fn filters(
        &self,
        detector_id: &str,
    ) -> impl Future<Output = Result<Vec<Filter>, AwsError>> + Send;
    /// Create a filter.
    fn create_filter(
        &self,
        detector_id: &str,
        spec: &FilterSpec<'_>,
        tags: &BTreeMap<String, String>,
        client_token: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Rewrite a filter's description, rank, action and criteria.
    fn update_filter(
        &self,
        detector_id: &str,
        spec: &FilterSpec<'_>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Delete a filter.
    fn delete_filter(
        &self,
        detector_id: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The ids of the findings that match `criteria`, every page.
    fn finding_ids(
        &self,
        detector_id: &str,
        criteria: &BTreeMap<String, Condition>,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// Archive these findings (at most [`ARCHIVE_BATCH`] at once).
    fn archive_findings(
        &self,
        detector_id: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// The SNS calls of the alerts.
pub trait SnsApi: Send + Sync {
    /// The ARN of the topic `name` here (known before it exists).
    fn topic_arn(&self, name: &str) -> String;
    /// The topic with its policy and tags, if it exists.
    fn topic(&self, arn: &str) -> impl Future<Output = Result<Option<Topic>, AwsError>> + Send;
    /// The topic's policy, if it exists.
    fn policy(&self, arn: &str) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
    /// The topic's subscriptions.
    fn subscriptions(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<Subscription>, AwsError>> + Send;
    /// Create a tagged topic; returns its ARN.
    fn create_topic(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
    /// Replace the topic's policy.
    fn set_policy(
        &self,
        arn: &str,
        policy: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Subscribe an e-mail address.
    fn subscribe_email(
        &self,
        arn: &str,
        email: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Remove a subscription.
    fn unsubscribe(
        &self,
        subscription_arn: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Delete a topic.
    fn delete_topic(&self, arn: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// The EventBridge calls of the alerts.
pub trait EventsApi: Send + Sync {
    /// The ARN of a rule of the default bus (known before it exists).
    fn rule_arn(&self, name: &str) -> String;
    /// The rule with its tags and targets, if it exists.
    fn rule(&self, name: &str) -> impl Future<Output = Result<Option<Rule>, AwsError>> + Send;
    /// Create or update a rule; returns its ARN.
    fn put_rule(&self, rule: &NewRule<'_>)
    -> impl Future<Output = Result<String, AwsError>> + Send;
    /// Put one target on a rule.
    fn put_target(
        &self,
        rule: &str,
        target: &Target,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Remove targets from a rule.
    fn remove_targets(
        &self,
        rule: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Delete a rule.
    fn delete_rule(&self, name: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// A failed AWS call, with where it failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to call {operation} in account {account}, {region}: {message}")]
pub struct AwsError {
    /// The account whose credentials made the call.
    pub account: String,
    /// The region of the endpoint.
    pub region: String,
    /// The API operation.
    pub operation: &'static str,
    /// The AWS error code, when the service answered.
    pub code: Option<String>,
    /// What AWS (or the transport) said.
    pub message: String,
}

/// The ARN partition of a region.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// How many finding ids one ArchiveFindings call takes.
pub const ARCHIVE_BATCH: usize = 50;

/// The kinds of list a GuardDuty detector holds: threat lists
/// (ThreatIntelSet, up to six) and the trusted IP list (IPSet, one). Both
/// have the same API shape, statuses and activation rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SetKind {
    /// A ThreatIntelSet.
    ThreatIntel,
    /// An IPSet (trusted IP list).
    Ip,
}

impl SetKind {
    /// The API's name of the kind, as in `CreateThreatIntelSet`.
    pub fn api_name(self) -> &'static str {
        match self {
            SetKind::ThreatIntel => "ThreatIntelSet",
            SetKind::Ip => "IPSet",
        }
    }
}

/// A ThreatIntelSet or an IPSet as GuardDuty reports it (GetThreatIntelSet,
/// GetIPSet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSet {
    /// Its id in the detector.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The list object's URL.
    pub location: String,
    /// GuardDuty's status.
    pub status: SetStatus,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// What to create a set with.
#[derive(Debug, Clone)]
pub struct NewSet<'a> {
    /// Its name.
    pub name: &'a str,
    /// The list object's URL.
    pub location: &'a str,
    /// The account that owns the bucket (`ExpectedBucketOwner`).
    pub bucket_owner: &'a str,
    /// Tags to put on it.
    pub tags: &'a BTreeMap<String, String>,
    /// Idempotency token: a retried or repeated create returns the same set.
    pub client_token: &'a str,
}

/// A GuardDuty filter as GetFilter reports it, its criteria in the current
/// condition names (the deprecated `Eq`/`Gt`/... are read into them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Its name.
    pub name: String,
    /// Its description ("" when none).
    pub description: String,
    /// Its rank.
    pub rank: i32,
    /// `ARCHIVE` or `NOOP`.
    pub action: String,
    /// Attribute -> condition.
    pub criteria: BTreeMap<String, Condition>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// What to create or update a filter with.
#[derive(Debug, Clone)]
pub struct FilterSpec<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its description.
    pub description: &'a str,
    /// Its rank (a position, from 1): required by a create; an update
    /// without one leaves the filter where it is.
    pub rank: Option<i32>,
    /// Attribute -> condition.
    pub criteria: &'a BTreeMap<String, Condition>,
}

/// An SNS topic, as GetTopicAttributes and ListTagsForResource report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// Its ARN.
    pub arn: String,
    /// Its name (the last part of the ARN).
    pub name: String,
    /// Its access policy (JSON text), if it has one.
    pub policy: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// A subscription to a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `email`, `sqs`, `lambda`, ...
    pub protocol: String,
    /// The address, queue, function, ...
    pub endpoint: String,
    /// Its ARN; `None` while it waits for its confirmation.
    pub arn: Option<String>,
}

/// An EventBridge rule of the default bus, as DescribeRule, ListTagsForResource
/// and ListTargetsByRule report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The event pattern, as EventBridge stores it (JSON text).
    pub pattern: Option<String>,
    /// `ENABLED`, `DISABLED`, ...
    pub state: String,
    /// Its description.
    pub description: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Its targets.
    pub targets: Vec<Target>,
}

/// One target of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The target's id in the rule.
    pub id: String,
    /// What it delivers to.
    pub arn: String,
    /// How the event is turned into the target's input, when it is.
    pub transformer: Option<Transformer>,
    /// The target sets `Input` or `InputPath` (a constant or a part of the event).
    pub other_input: bool,
}

/// An InputTransformer: fields picked from the event and the text they fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transformer {
    /// Placeholder name -> JSON path in the event.
    pub paths: BTreeMap<String, String>,
    /// The template, with `<name>` placeholders.
    pub template: String,
}

/// What to create or update a rule with.
#[derive(Debug, Clone)]
pub struct NewRule<'a> {
    /// Its name.
    pub name: &'a str,
    /// The event pattern (JSON text).
    pub pattern: &'a str,
    /// Its description.
    pub description: &'a str,
    /// Tags to create it with (EventBridge ignores them on an update).
    pub tags: &'a BTreeMap<String, String>,
}

/// GuardDuty's status of a ThreatIntelSet
/// (<https://docs.aws.amazon.com/guardduty/latest/APIReference/API_GetThreatIntelSet.html>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetStatus {
    /// Not in use.
    Inactive,
    /// GuardDuty is loading the list.
    Activating,
    /// GuardDuty uses the list.
    Active,
    /// GuardDuty is unloading the list.
    Deactivating,
    /// GuardDuty could not read or use the list.
    Error,
    /// Being deleted.
    DeletePending,
    /// Deleted.
    Deleted,
    /// A status this version of guardsync does not know.
    Other(String),
}

impl SetStatus {
    /// GuardDuty's name for it (`ACTIVE`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            SetStatus::Inactive => "INACTIVE",
            SetStatus::Activating => "ACTIVATING",
            SetStatus::Active => "ACTIVE",
            SetStatus::Deactivating => "DEACTIVATING",
            SetStatus::Error => "ERROR",
            SetStatus::DeletePending => "DELETE_PENDING",
            SetStatus::Deleted => "DELETED",
            SetStatus::Other(s) => s,
        }
    }

    /// The status GuardDuty names `s`.
    pub fn parse(s: &str) -> SetStatus {
        match s {
            "INACTIVE" => SetStatus::Inactive,
            "ACTIVATING" => SetStatus::Activating,
            "ACTIVE" => SetStatus::Active,
            "DEACTIVATING" => SetStatus::Deactivating,
            "ERROR" => SetStatus::Error,
            "DELETE_PENDING" => SetStatus::DeletePending,
            "DELETED" => SetStatus::Deleted,
            other => SetStatus::Other(other.to_owned()),
        }
    }

    /// GuardDuty is changing the set's status: no change may be made to it.
    pub(crate) fn is_busy(&self) -> bool {
        matches!(self, SetStatus::Activating | SetStatus::Deactivating)
    }

    /// The set is on its way out.
    pub(crate) fn is_going(&self) -> bool {
        matches!(self, SetStatus::DeletePending | SetStatus::Deleted)
    }
}

impl fmt::Display for SetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Credentials of one account (an assumed role), as the [`Cloud`]
/// that issued them holds them: the engine only passes them back to it.
#[derive(Clone)]
pub struct AccountCredentials {
    /// The role they come from.
    pub role_arn: String,
    handle: Arc<dyn Any + Send + Sync>,
}

impl AccountCredentials {
    /// Wrap what a [`Cloud`] needs to sign calls as the account.
    pub fn new(role_arn: String, handle: impl Any + Send + Sync) -> Self {
        AccountCredentials {
            role_arn,
            handle: Arc::new(handle),
        }
    }

    /// What [`Self::new`] wrapped, if it is a `T`.
    pub fn handle<T: Any>(&self) -> Option<&T> {
        self.handle.downcast_ref()
    }
}

impl fmt::Debug for AccountCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountCredentials")
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

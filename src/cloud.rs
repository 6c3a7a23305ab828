//! The narrow seams between the engine and AWS.
//!
//! Discovery ([`crate::discover`]) and the fan-out ([`crate::reconcile`]) see
//! AWS only through these traits: one per service client they use, and
//! [`Cloud`], which makes those clients for an (account, region). The SDK
//! adapters of [`crate::aws`] implement the client traits and [`Aws`] makes
//! them (what guardsync runs with); [`crate::sim`] implements them over an
//! in-process synthetic
//! organization (the scale benchmark and the engine's tests). Each method is
//! one adapter call with its meaning unchanged: errors are [`AwsError`]s
//! naming the account, region and operation.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures::Stream;

use crate::aws::events::{EventBridge, NewRule, Rule, Target};
use crate::aws::guardduty::{Filter, FilterSpec, GuardDuty, NewSet, ThreatIntelSet};
use crate::aws::organizations::Organizations;
use crate::aws::sns::{Sns, Subscription, Topic};
use crate::aws::sts::AccountCredentials;
use crate::aws::{Aws, AwsError};
use crate::config::{AccountId, Condition, OuId};
use crate::org::{AdminView, OrgAccount, Probe};

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

/// The GuardDuty calls of discovery and of a managed target.
pub trait GuardDutyApi: Send + Sync {
    /// The administrator's view: its detector and every member's relationship.
    fn admin_view(&self) -> impl Future<Output = Result<AdminView, AwsError>> + Send;
    /// The view from inside the account: its detector and its administrator.
    fn probe(&self) -> impl Future<Output = Result<Probe, AwsError>> + Send;
    /// Every ThreatIntelSet of the detector, with its details.
    fn threat_intel_sets(
        &self,
        detector_id: &str,
    ) -> impl Future<Output = Result<Vec<ThreatIntelSet>, AwsError>> + Send;
    /// One ThreatIntelSet.
    fn threat_intel_set(
        &self,
        detector_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<ThreatIntelSet, AwsError>> + Send;
    /// Create a TXT ThreatIntelSet and activate it; returns its id.
    fn create_threat_intel_set(
        &self,
        detector_id: &str,
        set: &NewSet<'_>,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
    /// Point a set at `location` and activate it.
    fn activate_threat_intel_set(
        &self,
        detector_id: &str,
        id: &str,
        location: &str,
        bucket_owner: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Put `tags` on a set.
    fn tag_threat_intel_set(
        &self,
        detector_id: &str,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The ARN of a filter.
    fn filter_arn(&self, detector_id: &str, name: &str) -> String;
    /// The ARN of a set.
    fn threat_intel_set_arn(&self, detector_id: &str, id: &str) -> String;
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
    /// How many findings match `criteria`, every page counted.
    fn count_findings(
        &self,
        detector_id: &str,
        criteria: &BTreeMap<String, Condition>,
    ) -> impl Future<Output = Result<usize, AwsError>> + Send;
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

impl Cloud for Aws {
    type GuardDuty = GuardDuty;
    type Sns = Sns;
    type Events = EventBridge;
    type Organizations = Organizations;

    fn organizations(&self, caller: &str) -> Organizations {
        Organizations::new(self, caller)
    }

    async fn enabled_regions(&self, region: &str, account: &str) -> Result<Vec<String>, AwsError> {
        crate::aws::account::enabled_regions(&self.config_for(region, None), account).await
    }

    async fn assume(
        &self,
        account: &str,
        region: &str,
        role: &str,
        external_id: Option<&str>,
        session_name: &str,
    ) -> Result<AccountCredentials, AwsError> {
        crate::aws::sts::assume(self, account, region, role, external_id, session_name).await
    }

    fn guardduty(
        &self,
        region: &str,
        account: &str,
        credentials: Option<&AccountCredentials>,
    ) -> GuardDuty {
        GuardDuty::new(&self.config_for(region, credentials), account)
    }

    fn sns(&self, region: &str, account: &str) -> Sns {
        Sns::new(&self.config_for(region, None), account)
    }

    fn events(&self, region: &str, account: &str) -> EventBridge {
        EventBridge::new(&self.config_for(region, None), account)
    }
}

//! The finding alerts of one administrator region (the README's Security section): an SNS topic
//! with one e-mail subscription per address, and the EventBridge rule
//! `guardsync-findings` that sends it every GuardDuty finding at or above
//! `alerts.min_severity`, as a readable message.
//!
//! [`observe`] reads the region, [`plan`] decides purely, [`apply`] carries
//! the steps out; [`reconcile`] is the three in a row. The
//! administrator's default bus receives its members' findings too
//! (<https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html>),
//! so one rule per administrator region covers the organization.
//!
//! Ownership: the topic and the rule are guardsync's when they carry the tag
//! `managed-by=guardsync`. A topic or rule of the same name without it fails
//! the alerts with an adoption hint and is never changed. Without `alerts`
//! in the configuration, what guardsync owns is found from the rule (fixed
//! name) and its targets, and deleted: topics first, the rule last, so an
//! interrupted removal is found again by the next run.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::plan::{Failure, OWNER_TAG, OWNER_VALUE, Outcome, Plan, TargetError, owner_tags};
use crate::cloud::{AwsError, NewRule, Rule, Subscription, Target, Topic, Transformer};
use crate::cloud::{EventsApi, SnsApi};
use crate::config::Alerts;
use crate::report::{Action, Change, Mode, Resource, Unmanaged};

/// The name of the EventBridge rule (the README's Security section), the same in every region.
pub const RULE_NAME: &str = "guardsync-findings";
/// The id of guardsync's target in the rule.
pub const TARGET_ID: &str = "guardsync-alerts-topic";
/// The `Sid` of guardsync's statement in the topic policy.
pub const STATEMENT_SID: &str = "guardsync-eventbridge-publish";
/// The note every plan with alerts carries: "suppressed findings are not
/// sent to any of the AWS services with which you may integrate"
/// (<https://docs.aws.amazon.com/guardduty/latest/ug/create-suppression-rules-guardduty.html>).
pub(crate) const SUPPRESSED_NOTE: &str = "archived (suppressed) findings never alert: GuardDuty does not \
                                   send findings that a suppression rule archives to EventBridge";

/// How long SNS keeps a subscription nobody confirmed
/// (<https://docs.aws.amazon.com/sns/latest/dg/sns-delete-subscription-topic.html>).
const PENDING_EXPIRY: &str = "SNS deletes unconfirmed subscriptions after 48 hours";

/// GuardDuty's severity levels: (name, lowest value, range as the user guide
/// prints it). Low < 4.0 <= Medium < 7.0 <= High < 9.0 <= Critical
/// (<https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html>).
const LEVELS: [(&str, f64, &str); 4] = [
    ("Low", 1.0, "1.0-3.9"),
    ("Medium", 4.0, "4.0-6.9"),
    ("High", 7.0, "7.0-8.9"),
    ("Critical", 9.0, "9.0-10.0"),
];

/// GuardDuty's name for a severity value: Low, Medium, High or Critical.
#[cfg(test)]
pub(crate) fn severity_label(severity: f64) -> &'static str {
    LEVELS
        .iter()
        .rev()
        .find(|(_, low, _)| severity >= *low)
        .map_or("Low", |(name, _, _)| name)
}

/// What reconciling the alerts of one administrator region did (apply) or would do (plan).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertsOutcome {
    /// The changes made (apply) or to make (plan).
    pub changes: Vec<Change>,
    /// Same-named resources guardsync found and left alone.
    pub unmanaged: Vec<Unmanaged>,
    /// Warnings for the reader of the plan.
    pub notes: Vec<String>,
}

/// The alerts one administrator region should have.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// `alerts.topic_name`.
    pub topic_name: String,
    /// The topic's ARN in this account and region.
    pub topic_arn: String,
    /// The rule's ARN in this account and region.
    pub rule_arn: String,
    /// `alerts.min_severity`.
    pub min_severity: f64,
    /// `alerts.emails`, sorted, without repeats.
    pub emails: Vec<String>,
}

impl Desired {
    /// The desired alerts for `alerts`, with the ARNs of this account and region.
    pub fn new(alerts: &Alerts, topic_arn: String, rule_arn: String) -> Self {
        let mut emails = alerts.emails.clone();
        emails.sort();
        emails.dedup();
        Desired {
            topic_name: alerts.topic_name.clone(),
            topic_arn,
            rule_arn,
            min_severity: alerts.min_severity,
            emails,
        }
    }

    /// The rule's event pattern (the README's Security section, exactly).
    pub fn pattern(&self) -> Value {
        pattern(self.min_severity)
    }

    /// The rule's description.
    pub fn description(&self) -> String {
        format!(
            "guardsync: GuardDuty findings of severity >= {} to SNS topic {}",
            severity_text(self.min_severity),
            self.topic_name
        )
    }

    /// guardsync's target of the rule: the topic, with the readable message.
    pub fn target(&self) -> Target {
        Target {
            id: TARGET_ID.to_owned(),
            arn: self.topic_arn.clone(),
            transformer: Some(message()),
            other_input: false,
        }
    }
}

/// The event pattern of the rule for `min_severity` (the README's Security section).
pub fn pattern(min_severity: f64) -> Value {
    json!({
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", min_severity]}]}
    })
}

/// The message each alert e-mail carries, from the raw finding event.
///
/// An InputTransformer can only pick fields, not compute, so the message
/// gives the numeric severity with GuardDuty's levels spelled out next to
/// it rather than a computed label. One rule per level, each with a fixed
/// label, was the alternative; it was not taken because the README's Security section pins one
/// rule, `guardsync-findings`, whose pattern is `severity >= MIN` (extra
/// rules would overlap it and send every alert twice, or replace it and
/// break the contract), because one rule is one `aws:SourceArn` in the topic
/// policy and one thing to own and remove, and because AWS has moved the
/// levels before (9.0-10.0 was "reserved" until Critical came), while the
/// number is always right. The template does not depend on `min_severity`,
/// so changing it only changes the rule's pattern.
///
/// Resource ids: GuardDuty puts the id under a field named after the
/// resource type; a path missing from the event fills nothing
/// (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html>),
/// so the line lists them all and shows the one the finding has. Each line
/// is a quoted string, the form the GuardDuty user guide uses for SNS.
pub fn message() -> Transformer {
    let paths = [
        ("severity", "$.detail.severity"),
        ("type", "$.detail.type"),
        ("title", "$.detail.title"),
        ("account", "$.detail.accountId"),
        ("region", "$.detail.region"),
        ("id", "$.detail.id"),
        ("resourceType", "$.detail.resource.resourceType"),
        ("instance", "$.detail.resource.instanceDetails.instanceId"),
        (
            "accessKey",
            "$.detail.resource.accessKeyDetails.accessKeyId",
        ),
        ("bucket", "$.detail.resource.s3BucketDetails[0].name"),
        ("eksCluster", "$.detail.resource.eksClusterDetails.name"),
        ("ecsCluster", "$.detail.resource.ecsClusterDetails.name"),
        (
            "dbInstance",
            "$.detail.resource.rdsDbInstanceDetails.dbInstanceIdentifier",
        ),
        ("lambda", "$.detail.resource.lambdaDetails.functionName"),
    ];
    let levels: Vec<String> = LEVELS
        .iter()
        .map(|(name, _, range)| format!("{name} {range}"))
        .collect();
    let lines = [
        "GuardDuty finding: <title>".to_owned(),
        format!("Severity: <severity> (GuardDuty levels: {})", levels.join(", ")),
        "Type: <type>".to_owned(),
        "Account: <account>, region <region>".to_owned(),
        "Resource: <resourceType> \
         <instance><accessKey><bucket><eksCluster><ecsCluster><dbInstance><lambda>"
            .to_owned(),
        "Open: https://console.aws.amazon.com/guardduty/home?region=<region>#/findings?search=id%3D<id>"
            .to_owned(),
        format!("Sent by guardsync (EventBridge rule {RULE_NAME})."),
    ];
    Transformer {
        paths: paths
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        template: lines
            .iter()
            .map(|l| format!("\"{l}\""))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// guardsync's statement in the topic policy: EventBridge may publish, for
/// the rule `rule_arn` only.
pub fn statement(topic_arn: &str, rule_arn: &str) -> Value {
    json!({
        "Sid": STATEMENT_SID,
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}
    })
}

/// The topic policy with guardsync's statement in place, keeping every other
/// statement (SNS's default one included); `None` when it is already there
/// (compared as JSON values, not text).
pub(crate) fn with_statement(
    current: Option<&str>,
    topic_arn: &str,
    rule_arn: &str,
) -> Result<Option<String>, String> {
    let mut doc: Value = match current.map(str::trim) {
        Some(text) if !text.is_empty() => serde_json::from_str(text)
            .map_err(|e| format!("the policy of SNS topic {topic_arn} is not JSON: {e}"))?,
        _ => json!({"Version": "2012-10-17", "Statement": []}),
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let ours = statement(topic_arn, rule_arn);
    let (mine, mut others): (Vec<Value>, Vec<Value>) = statements
        .into_iter()
        .partition(|s| s.get("Sid").and_then(Value::as_str) == Some(STATEMENT_SID));
    if let [only] = mine.as_slice()
        && same_json(&canonical(only), &canonical(&ours))
    {
        return Ok(None);
    }
    others.push(ours);
    let Some(obj) = doc.as_object_mut() else {
        return Err(format!(
            "the policy of SNS topic {topic_arn} is not a JSON object"
        ));
    };
    obj.insert("Statement".into(), Value::Array(others));
    Ok(Some(doc.to_string()))
}

/// Two JSON values are the same document: numbers by value (`7` is `7.0`),
/// objects whatever their key order.
pub(crate) fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// A policy statement in one spelling: a string or a list are the same list,
/// actions and condition keys are case-insensitive, order does not matter.
fn canonical(statement: &Value) -> Value {
    let Value::Object(m) = statement else {
        return statement.clone();
    };
    let each = |v: &Value, f: &dyn Fn(&Value) -> Value| match v {
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), f(v))).collect()),
        other => other.clone(),
    };
    let out: Map<String, Value> = m
        .iter()
        .map(|(k, v)| {
            let v = match k.as_str() {
                "Action" | "NotAction" => set_of(v, true),
                "Resource" | "NotResource" => set_of(v, false),
                "Principal" | "NotPrincipal" => each(v, &|p| set_of(p, false)),
                "Condition" => each(v, &|keys| match keys {
                    Value::Object(o) => Value::Object(
                        o.iter()
                            .map(|(k, v)| (k.to_ascii_lowercase(), set_of(v, false)))
                            .collect(),
                    ),
                    other => other.clone(),
                }),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    Value::Object(out)
}

fn set_of(v: &Value, lowercase: bool) -> Value {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    let mut out: Vec<String> = items
        .iter()
        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
        .map(|s| if lowercase { s.to_ascii_lowercase() } else { s })
        .collect();
    out.sort();
    out.dedup();
    Value::Array(out.into_iter().map(Value::String).collect())
}

/// A severity as the plan prints it: `7.0`, `6.5`.
fn severity_text(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// The minimum severity of a pattern of guardsync's shape, if it is one.
fn pattern_min(raw: &str) -> Option<f64> {
    let v: Value = serde_json::from_str(raw).ok()?;
    let min = v
        .pointer("/detail/severity/0/numeric/1")
        .and_then(Value::as_f64)?;
    same_json(&v, &pattern(min)).then_some(min)
}

/// A topic and its subscriptions, as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedTopic {
    /// The topic.
    pub topic: Topic,
    /// Its subscriptions (left empty for a topic guardsync does not own).
    pub subscriptions: Vec<Subscription>,
}

/// What one administrator region has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The rule named [`RULE_NAME`].
    pub rule: Option<Rule>,
    /// The topic named `alerts.topic_name` (none looked for without `alerts`).
    pub topic: Option<ObservedTopic>,
    /// The other topics of this account and region that the rule delivers to,
    /// when guardsync owns the rule.
    pub targeted: Vec<ObservedTopic>,
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create the topic, tagged, then put guardsync's statement into the
    /// policy SNS gave it.
    CreateTopic,
    /// Replace the policy of the existing topic.
    SetPolicy {
        /// The whole new policy (JSON text).
        policy: String,
    },
    /// Subscribe an address to the desired topic.
    Subscribe {
        /// The address.
        email: String,
    },
    /// Delete a confirmed subscription.
    Unsubscribe {
        /// The address, for the log.
        email: String,
        /// The subscription's ARN.
        arn: String,
    },
    /// Create the rule or set its pattern, description and state.
    PutRule,
    /// Put guardsync's target (the topic, with the message) on the rule.
    PutTarget,
    /// Remove targets from the rule.
    RemoveTargets {
        /// Their ids.
        ids: Vec<String>,
    },
    /// Delete the rule.
    DeleteRule,
    /// Delete a topic (its confirmed subscriptions are unsubscribed before:
    /// SNS deletes a topic's subscriptions only asynchronously).
    DeleteTopic {
        /// The topic's ARN.
        arn: String,
    },
}

impl Step {
    /// The resource the step writes.
    fn resource(&self) -> Resource {
        match self {
            Step::CreateTopic
            | Step::SetPolicy { .. }
            | Step::Subscribe { .. }
            | Step::Unsubscribe { .. }
            | Step::DeleteTopic { .. } => Resource::AlertTopic,
            Step::PutRule | Step::PutTarget | Step::RemoveTargets { .. } | Step::DeleteRule => {
                Resource::AlertRule
            }
        }
    }
}

/// Whether guardsync owns a topic or rule with these tags.
pub(crate) fn is_owned(tags: &BTreeMap<String, String>) -> bool {
    super::plan::is_owned(tags)
}

/// The region of an ARN (`arn:partition:service:region:...`).
fn arn_region(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or_default()
}

/// Decide what to do with the alerts of one administrator region:
/// `desired` is `None` when `alerts` is not configured.
pub fn plan(desired: Option<&Desired>, observed: &Observed) -> Plan<Step> {
    let mut draft = Draft::default();
    let done = match desired {
        Some(d) => draft.present(d, observed),
        None => {
            draft.absent(observed);
            Ok(())
        }
    };
    match done {
        Ok(()) => Plan {
            steps: draft.steps,
            changes: draft.changes,
            unmanaged: draft.unmanaged,
            notes: draft.notes,
            ..Plan::default()
        },
        // A failed plan does nothing and reports no change.
        Err(e) => Plan {
            steps: Vec::new(),
            changes: Vec::new(),
            unmanaged: draft.unmanaged,
            notes: draft.notes,
            blocked: vec![TargetError::new(Resource::AlertRule, e)],
            ..Plan::default()
        },
    }
}

/// A plan being written.
#[derive(Debug, Default)]
struct Draft {
    steps: Vec<Step>,
    changes: Vec<Change>,
    unmanaged: Vec<Unmanaged>,
    notes: Vec<String>,
}

fn change(resource: Resource, name: &str, action: Action, detail: Vec<String>) -> Change {
    Change {
        resource,
        name: name.to_owned(),
        action,
        detail,
    }
}

fn policy_line(d: &Desired) -> String {
    format!(
        "policy: allow events.amazonaws.com to sns:Publish from rule {}",
        d.rule_arn
    )
}

fn subscribe_line(email: &str) -> String {
    format!("subscribe {email} (SNS mails a confirmation link; no alerts until it is followed)")
}

fn pending_line(email: &str) -> String {
    format!(
        "{email} is no longer in alerts.emails but has not confirmed its subscription: SNS cannot \
         unsubscribe it; it gets no alerts and {PENDING_EXPIRY}"
    )
}

/// The e-mail subscriptions of a topic: (address, ARN or `None` while pending).
fn emails_of(t: &ObservedTopic) -> impl Iterator<Item = (&str, Option<&str>)> {
    t.subscriptions
        .iter()
        .filter(|s| s.protocol == "email")
        .map(|s| (s.endpoint.as_str(), s.arn.as_deref()))
}

impl Draft {
    fn unmanaged(&mut self, resource: Resource, name: &str) {
        self.unmanaged.push(Unmanaged {
            resource,
            name: name.to_owned(),
        });
    }

    /// `alerts` is configured.
    fn present(&mut self, d: &Desired, observed: &Observed) -> Result<(), Failure> {
        let mut conflicts = Vec::new();
        if let Some(t) = observed.topic.as_ref().map(|t| &t.topic)
            && !is_owned(&t.tags)
        {
            self.unmanaged(Resource::AlertTopic, &t.name);
            conflicts.push(format!(
                "an SNS topic named {:?} ({}) exists and is not managed by guardsync; guardsync \
                 never adopts silently: to let it manage this topic (its policy and e-mail \
                 subscriptions), tag it (aws sns tag-resource --region {} --resource-arn {} \
                 --tags Key={OWNER_TAG},Value={OWNER_VALUE}), or choose another alerts.topic_name",
                t.name,
                t.arn,
                arn_region(&t.arn),
                t.arn
            ));
        }
        if let Some(r) = &observed.rule
            && !is_owned(&r.tags)
        {
            self.unmanaged(Resource::AlertRule, &r.name);
            conflicts.push(format!(
                "an EventBridge rule named {:?} ({}) exists and is not managed by guardsync; \
                 guardsync never adopts silently: to let it manage this rule (its pattern and its \
                 guardsync target), tag it (aws events tag-resource --region {} --resource-arn {} \
                 --tags Key={OWNER_TAG},Value={OWNER_VALUE}), or delete it (guardsync's rule name \
                 is fixed)",
                r.name,
                r.arn,
                arn_region(&r.arn),
                r.arn
            ));
        }
        if !conflicts.is_empty() {
            return Err(Failure::Conflict(conflicts.join("; ")));
        }
        self.notes.push(SUPPRESSED_NOTE.to_owned());
        self.topic(d, observed)?;
        self.rule(d, observed);
        // A topic guardsync's target delivered to before (alerts.topic_name
        // changed): delete it once the target points at the new one.
        let previous = observed
            .rule
            .as_ref()
            .and_then(|r| r.targets.iter().find(|t| t.id == TARGET_ID))
            .map(|t| t.arn.as_str());
        for old in &observed.targeted {
            if !is_owned(&old.topic.tags) {
                self.unmanaged(Resource::AlertTopic, &old.topic.name);
            } else if Some(old.topic.arn.as_str()) == previous {
                self.delete_topic(old, format!("alerts.topic_name is now {}", d.topic_name));
            }
        }
        Ok(())
    }

    /// The desired topic: create it, or fix its policy and subscriptions.
    fn topic(&mut self, d: &Desired, observed: &Observed) -> Result<(), Failure> {
        let Some(t) = &observed.topic else {
            self.steps.push(Step::CreateTopic);
            let mut detail = vec![format!("tag {OWNER_TAG}={OWNER_VALUE}"), policy_line(d)];
            for email in &d.emails {
                self.steps.push(Step::Subscribe {
                    email: email.clone(),
                });
                detail.push(subscribe_line(email));
            }
            self.changes.push(change(
                Resource::AlertTopic,
                &d.topic_name,
                Action::Create,
                detail,
            ));
            return Ok(());
        };
        let mut detail = Vec::new();
        if let Some(policy) = with_statement(t.topic.policy.as_deref(), &d.topic_arn, &d.rule_arn)
            .map_err(Failure::Refused)?
        {
            self.steps.push(Step::SetPolicy { policy });
            detail.push(policy_line(d));
        }
        let existing: Vec<(&str, Option<&str>)> = emails_of(t).collect();
        for email in &d.emails {
            match existing.iter().find(|(e, _)| e == email) {
                None => {
                    self.steps.push(Step::Subscribe {
                        email: email.clone(),
                    });
                    detail.push(subscribe_line(email));
                }
                // Subscribing again would only mail the link again.
                Some((_, None)) => self.notes.push(format!(
                    "{email} has not confirmed its subscription to {} yet: it gets no alerts \
                     until it follows the link in the AWS Notification e-mail ({PENDING_EXPIRY})",
                    d.topic_name
                )),
                Some((_, Some(_))) => {}
            }
        }
        let removed = existing
            .into_iter()
            .filter(|(e, _)| !d.emails.iter().any(|d| d == e));
        let pending: Vec<String> = self
            .unsubscribe(removed, &mut detail)
            .into_iter()
            .map(pending_line)
            .collect();
        if !detail.is_empty() {
            detail.extend(pending.iter().cloned());
            self.changes.push(change(
                Resource::AlertTopic,
                &d.topic_name,
                Action::Update,
                detail,
            ));
        }
        self.notes.extend(pending);
        Ok(())
    }

    /// The rule: create it, or fix its pattern, state, description and target.
    fn rule(&mut self, d: &Desired, observed: &Observed) {
        let min = severity_text(d.min_severity);
        let Some(r) = &observed.rule else {
            self.steps.push(Step::PutRule);
            self.steps.push(Step::PutTarget);
            self.changes.push(change(
                Resource::AlertRule,
                RULE_NAME,
                Action::Create,
                vec![
                    format!("pattern severity >= {min}"),
                    format!(
                        "target: topic {} with a readable message (severity, type, title, \
                         account, region, resource, console link)",
                        d.topic_name
                    ),
                    format!("tag {OWNER_TAG}={OWNER_VALUE}"),
                ],
            ));
            return;
        };
        let mut detail = Vec::new();
        let same_pattern = r
            .pattern
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .is_some_and(|p| same_json(&p, &d.pattern()));
        if !same_pattern {
            let was = match r.pattern.as_deref() {
                Some(p) => pattern_min(p)
                    .map_or_else(|| p.to_owned(), |m| format!(">= {}", severity_text(m))),
                None => "none".to_owned(),
            };
            detail.push(format!("pattern severity {was} -> >= {min}"));
        }
        if r.state != "ENABLED" {
            detail.push(format!("state {} -> ENABLED", r.state));
        }
        let description = d.description();
        if detail.is_empty() && r.description.as_deref() != Some(description.as_str()) {
            detail.push(format!("description -> {description:?}"));
        }
        if !detail.is_empty() {
            self.steps.push(Step::PutRule);
        }
        let want = d.target();
        match r.targets.iter().find(|t| t.id == TARGET_ID) {
            None => {
                self.steps.push(Step::PutTarget);
                detail.push(format!("target: add topic {}", d.topic_name));
            }
            Some(t) if *t != want => {
                self.steps.push(Step::PutTarget);
                detail.push(if t.arn == want.arn {
                    "target: message template updated".to_owned()
                } else {
                    format!("target: topic {} -> {}", t.arn, want.arn)
                });
            }
            Some(_) => {}
        }
        let others: Vec<&str> = r
            .targets
            .iter()
            .filter(|t| t.id != TARGET_ID)
            .map(|t| t.id.as_str())
            .collect();
        if !others.is_empty() {
            self.notes.push(format!(
                "rule {RULE_NAME} has targets guardsync did not put there ({}); they are left alone",
                others.join(", ")
            ));
        }
        if !detail.is_empty() {
            self.changes.push(change(
                Resource::AlertRule,
                RULE_NAME,
                Action::Update,
                detail,
            ));
        }
    }

    /// Unsubscribe the confirmed ones of `subs` (address, ARN or `None` while
    /// pending); returns the addresses that wait for their confirmation,
    /// which SNS cannot unsubscribe.
    fn unsubscribe<'a>(
        &mut self,
        subs: impl Iterator<Item = (&'a str, Option<&'a str>)>,
        detail: &mut Vec<String>,
    ) -> Vec<&'a str> {
        let mut pending = Vec::new();
        for (email, arn) in subs {
            match arn {
                Some(arn) => {
                    self.steps.push(Step::Unsubscribe {
                        email: email.to_owned(),
                        arn: arn.to_owned(),
                    });
                    detail.push(format!("unsubscribe {email}"));
                }
                None => pending.push(email),
            }
        }
        pending
    }

    /// Unsubscribe a topic's confirmed subscriptions, then delete it.
    fn delete_topic(&mut self, t: &ObservedTopic, why: String) {
        let mut detail = vec![why];
        for email in self.unsubscribe(emails_of(t), &mut detail) {
            let line =
                format!("{email}: pending confirmation, cannot be unsubscribed; {PENDING_EXPIRY}");
            detail.push(line.clone());
            self.notes.push(line);
        }
        self.steps.push(Step::DeleteTopic {
            arn: t.topic.arn.clone(),
        });
        self.changes.push(change(
            Resource::AlertTopic,
            &t.topic.name,
            Action::Delete,
            detail,
        ));
    }

    /// `alerts` is not configured: delete what guardsync owns.
    fn absent(&mut self, observed: &Observed) {
        let Some(r) = &observed.rule else {
            return;
        };
        if !is_owned(&r.tags) {
            // Nothing of guardsync's to remove: the desired state is reached,
            // and tagging it would only make guardsync delete it.
            self.unmanaged(Resource::AlertRule, &r.name);
            self.notes.push(format!(
                "an EventBridge rule named {RULE_NAME} ({}) exists without the tag \
                 {OWNER_TAG}={OWNER_VALUE}: not guardsync's, left alone",
                r.arn
            ));
            return;
        }
        // Topics first, the rule last: the rule is how the next run finds
        // what is left if this one is interrupted.
        for t in &observed.targeted {
            if is_owned(&t.topic.tags) {
                self.delete_topic(t, "alerts is not configured".to_owned());
            } else {
                self.unmanaged(Resource::AlertTopic, &t.topic.name);
            }
        }
        let mut detail = vec!["alerts is not configured".to_owned()];
        if !r.targets.is_empty() {
            let ids: Vec<String> = r.targets.iter().map(|t| t.id.clone()).collect();
            detail.push(format!("remove targets {}", ids.join(", ")));
            self.steps.push(Step::RemoveTargets { ids });
        }
        self.steps.push(Step::DeleteRule);
        self.changes.push(change(
            Resource::AlertRule,
            RULE_NAME,
            Action::Delete,
            detail,
        ));
    }
}

/// Reconcile the alerts of one administrator region: [`observe`], [`plan`],
/// and in `apply` carry the steps out ([`apply`]).
///
/// `sns` and `events`: the administrator's clients in that region.
pub async fn reconcile(
    sns: &impl SnsApi,
    events: &impl EventsApi,
    desired: Option<&Alerts>,
    mode: Mode,
) -> Result<AlertsOutcome, TargetError> {
    let desired = self::desired(sns, events, desired);
    let observed = observe(sns, events, desired.as_ref())
        .await
        .map_err(|e| TargetError::new(Resource::AlertRule, e))?;
    let plan = plan(desired.as_ref(), &observed);
    let out = match mode {
        Mode::Plan => planned(plan),
        Mode::Apply => apply(sns, events, desired.as_ref(), plan).await,
    };
    match out.errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(AlertsOutcome {
            changes: out.changes,
            unmanaged: out.unmanaged,
            notes: out.notes,
        }),
    }
}

/// The alerts `alerts` asks for in the region of these clients.
pub(crate) fn desired(
    sns: &impl SnsApi,
    events: &impl EventsApi,
    alerts: Option<&Alerts>,
) -> Option<Desired> {
    alerts.map(|a| Desired::new(a, sns.topic_arn(&a.topic_name), events.rule_arn(RULE_NAME)))
}

/// What a plan comes to without writes: a blocked plan reports only why.
pub(crate) fn planned(plan: Plan<Step>) -> Outcome {
    if plan.blocked.is_empty() {
        plan.outcome()
    } else {
        Outcome {
            errors: plan.blocked,
            ..Outcome::default()
        }
    }
}

/// Carry out `plan`'s steps in order. The first that fails fails the alerts,
/// and then no change is reported.
pub(crate) async fn apply(
    sns: &impl SnsApi,
    events: &impl EventsApi,
    desired: Option<&Desired>,
    plan: Plan<Step>,
) -> Outcome {
    if !plan.blocked.is_empty() {
        return planned(plan);
    }
    for step in &plan.steps {
        if let Err(e) = apply_step(sns, events, desired, step).await {
            return Outcome::failed(TargetError::new(step.resource(), e));
        }
    }
    plan.outcome()
}

/// Read what the region has: the rule, the desired topic, and the topics the
/// rule delivers to.
pub(crate) async fn observe(
    sns: &impl SnsApi,
    events: &impl EventsApi,
    desired: Option<&Desired>,
) -> Result<Observed, AwsError> {
    let rule = events.rule(RULE_NAME).await?;
    let mut topic = None;
    if let Some(d) = desired {
        topic = observe_topic(sns, &d.topic_arn).await?;
    }
    let mut targeted: Vec<ObservedTopic> = Vec::new();
    if let Some(r) = rule.as_ref().filter(|r| is_owned(&r.tags)) {
        // Only this account's topics in this region: "arn:...:sns:REGION:ACCOUNT:".
        let here = sns.topic_arn("");
        for t in &r.targets {
            let seen = targeted.iter().any(|o| o.topic.arn == t.arn);
            if !t.arn.starts_with(&here) || seen || desired.is_some_and(|d| d.topic_arn == t.arn) {
                continue;
            }
            targeted.extend(observe_topic(sns, &t.arn).await?);
        }
    }
    Ok(Observed {
        rule,
        topic,
        targeted,
    })
}

/// A topic and, when guardsync owns it, its subscriptions.
async fn observe_topic(sns: &impl SnsApi, arn: &str) -> Result<Option<ObservedTopic>, AwsError> {
    let Some(topic) = sns.topic(arn).await? else {
        return Ok(None);
    };
    let subscriptions = if is_owned(&topic.tags) {
        sns.subscriptions(arn).await?
    } else {
        Vec::new()
    };
    Ok(Some(ObservedTopic {
        topic,
        subscriptions,
    }))
}

/// Carry out one step.
async fn apply_step(
    sns: &impl SnsApi,
    events: &impl EventsApi,
    desired: Option<&Desired>,
    step: &Step,
) -> Result<(), Failure> {
    let need =
        || desired.ok_or_else(|| Failure::Refused(format!("internal: {step:?} without alerts")));
    let done = match step {
        Step::CreateTopic => {
            let d = need()?;
            let arn = sns.create_topic(&d.topic_name, &owner_tags()).await?;
            // Keep the statement SNS put in the new topic's policy.
            let current = sns.policy(&arn).await?;
            match with_statement(current.as_deref(), &arn, &d.rule_arn).map_err(Failure::Refused)? {
                Some(policy) => sns.set_policy(&arn, &policy).await,
                None => Ok(()),
            }
        }
        Step::SetPolicy { policy } => sns.set_policy(&need()?.topic_arn, policy).await,
        Step::Subscribe { email } => sns.subscribe_email(&need()?.topic_arn, email).await,
        Step::Unsubscribe { arn, .. } => sns.unsubscribe(arn).await,
        Step::PutRule => {
            let d = need()?;
            events
                .put_rule(&NewRule {
                    name: RULE_NAME,
                    pattern: &d.pattern().to_string(),
                    description: &d.description(),
                    tags: &owner_tags(),
                })
                .await
                .map(|_| ())
        }
        Step::PutTarget => events.put_target(RULE_NAME, &need()?.target()).await,
        Step::RemoveTargets { ids } => events.remove_targets(RULE_NAME, ids).await,
        Step::DeleteRule => events.delete_rule(RULE_NAME).await,
        Step::DeleteTopic { arn } => sns.delete_topic(arn).await,
    };
    done?;
    tracing::debug!(step = ?step, "alerts");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:111111111111:alerts";
    const RULE_ARN: &str = "arn:aws:events:us-east-1:111111111111:rule/guardsync-findings";

    fn desired(min: f64, emails: &[&str]) -> Desired {
        Desired::new(
            &Alerts {
                min_severity: min,
                topic_name: "alerts".into(),
                emails: emails.iter().map(|e| (*e).to_owned()).collect(),
            },
            TOPIC_ARN.into(),
            RULE_ARN.into(),
        )
    }

    fn tags(owned: bool) -> BTreeMap<String, String> {
        if owned { owner_tags() } else { BTreeMap::new() }
    }

    fn sub(email: &str, confirmed: bool) -> Subscription {
        Subscription {
            protocol: "email".into(),
            endpoint: email.into(),
            arn: confirmed.then(|| format!("{TOPIC_ARN}:{email}")),
        }
    }

    fn topic(
        arn: &str,
        owned: bool,
        policy: Option<String>,
        subs: Vec<Subscription>,
    ) -> ObservedTopic {
        ObservedTopic {
            topic: Topic {
                arn: arn.into(),
                name: arn.rsplit(':').next().unwrap_or_default().into(),
                policy,
                tags: tags(owned),
            },
            subscriptions: subs,
        }
    }

    /// SNS's default statement, as SNS writes it.
    fn default_statement() -> Value {
        json!({"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
               "Action": ["SNS:Publish", "SNS:Subscribe"], "Resource": TOPIC_ARN,
               "Condition": {"StringEquals": {"AWS:SourceOwner": "111111111111"}}})
    }

    fn policy_in_place() -> String {
        json!({"Version": "2008-10-17", "Id": "__default_policy_ID",
               "Statement": [default_statement(), statement(TOPIC_ARN, RULE_ARN)]})
        .to_string()
    }

    fn rule(d: &Desired, owned: bool) -> Rule {
        Rule {
            name: RULE_NAME.into(),
            arn: RULE_ARN.into(),
            pattern: Some(d.pattern().to_string()),
            state: "ENABLED".into(),
            description: Some(d.description()),
            tags: tags(owned),
            targets: vec![d.target()],
        }
    }

    /// Everything in place for `d`, every address confirmed.
    fn in_place(d: &Desired) -> Observed {
        let subs = d.emails.iter().map(|e| sub(e, true)).collect();
        Observed {
            rule: Some(rule(d, true)),
            topic: Some(topic(TOPIC_ARN, true, Some(policy_in_place()), subs)),
            targeted: Vec::new(),
        }
    }

    /// The decision of [`super::plan`]: the steps, or why there are none.
    struct AlertsPlan {
        steps: Result<Vec<Step>, String>,
        changes: Vec<Change>,
        unmanaged: Vec<Unmanaged>,
        notes: Vec<String>,
    }

    fn plan(desired: Option<&Desired>, observed: &Observed) -> AlertsPlan {
        let p = super::plan(desired, observed);
        AlertsPlan {
            steps: match p.blocked.first() {
                Some(e) => Err(e.to_string()),
                None => Ok(p.steps),
            },
            changes: p.changes,
            unmanaged: p.unmanaged,
            notes: p.notes,
        }
    }

    fn kinds(p: &AlertsPlan) -> Vec<(Resource, Action)> {
        p.changes.iter().map(|c| (c.resource, c.action)).collect()
    }

    #[test]
    fn nothing_there_creates_topic_subscriptions_rule_and_target() {
        let d = desired(7.0, &["b@example.com", "a@example.com"]);
        let p = plan(Some(&d), &Observed::default());
        assert_eq!(
            p.steps,
            Ok(vec![
                Step::CreateTopic,
                Step::Subscribe {
                    email: "a@example.com".into()
                },
                Step::Subscribe {
                    email: "b@example.com".into()
                },
                Step::PutRule,
                Step::PutTarget,
            ])
        );
        assert_eq!(
            kinds(&p),
            [
                (Resource::AlertTopic, Action::Create),
                (Resource::AlertRule, Action::Create)
            ]
        );
        assert_eq!(p.changes[1].detail[0], "pattern severity >= 7.0");
        assert!(p.changes[0].detail[1].starts_with("policy: allow events.amazonaws.com"));
        assert!(
            p.notes
                .iter()
                .any(|n| n.starts_with("archived (suppressed) findings never alert"))
        );
    }

    #[test]
    fn all_in_place_is_no_step_and_no_change() {
        let d = desired(7.0, &["a@example.com"]);
        let p = plan(Some(&d), &in_place(&d));
        assert_eq!(p.steps, Ok(Vec::new()));
        assert_eq!(p.changes, Vec::new());
        assert_eq!(p.notes, [SUPPRESSED_NOTE]);
    }

    #[test]
    fn a_policy_and_pattern_spelled_differently_are_the_same() {
        let d = desired(7.0, &[]);
        let mut o = in_place(&d);
        // Another spelling of the same statement and pattern: list vs
        // string, case, key order, 7 vs 7.0.
        let ours = json!({"Condition": {"ArnEquals": {"AWS:SourceArn": [RULE_ARN]}},
                          "Resource": [TOPIC_ARN], "Action": ["SNS:Publish"],
                          "Principal": {"Service": ["events.amazonaws.com"]},
                          "Effect": "Allow", "Sid": STATEMENT_SID});
        let policy = json!({"Statement": [ours, default_statement()], "Version": "2012-10-17"});
        if let Some(t) = o.topic.as_mut() {
            t.topic.policy = Some(policy.to_string());
        }
        if let Some(r) = o.rule.as_mut() {
            r.pattern = Some(
                r#"{"detail":{"severity":[{"numeric":[">=",7]}]},"detail-type":["GuardDuty Finding"],"source":["aws.guardduty"]}"#
                    .into(),
            );
        }
        let p = plan(Some(&d), &o);
        assert_eq!(p.steps, Ok(Vec::new()));
    }

    #[test_case(5.0, 7.0, "pattern severity >= 5.0 -> >= 7.0" ; "raised")]
    #[test_case(7.0, 6.5, "pattern severity >= 7.0 -> >= 6.5" ; "lowered")]
    fn a_new_min_severity_only_puts_the_rule(old: f64, new: f64, line: &str) {
        let o = in_place(&desired(old, &["a@example.com"]));
        let p = plan(Some(&desired(new, &["a@example.com"])), &o);
        assert_eq!(p.steps, Ok(vec![Step::PutRule]));
        assert_eq!(kinds(&p), [(Resource::AlertRule, Action::Update)]);
        assert_eq!(p.changes[0].detail, [line]);
    }

    #[test]
    fn a_disabled_rule_is_enabled_and_a_foreign_pattern_shown_as_is() {
        let d = desired(7.0, &[]);
        let mut o = in_place(&d);
        if let Some(r) = o.rule.as_mut() {
            r.state = "DISABLED".into();
            r.pattern = Some(r#"{"source":["aws.guardduty"]}"#.into());
        }
        let p = plan(Some(&d), &o);
        assert_eq!(p.steps, Ok(vec![Step::PutRule]));
        assert_eq!(
            p.changes[0].detail,
            [
                r#"pattern severity {"source":["aws.guardduty"]} -> >= 7.0"#,
                "state DISABLED -> ENABLED"
            ]
        );
    }

    #[test]
    fn an_email_added_is_subscribed() {
        let o = in_place(&desired(7.0, &["a@example.com"]));
        let p = plan(
            Some(&desired(7.0, &["a@example.com", "new@example.com"])),
            &o,
        );
        assert_eq!(
            p.steps,
            Ok(vec![Step::Subscribe {
                email: "new@example.com".into()
            }])
        );
        assert_eq!(kinds(&p), [(Resource::AlertTopic, Action::Update)]);
        assert!(p.changes[0].detail[0].starts_with("subscribe new@example.com"));
    }

    #[test]
    fn a_confirmed_email_removed_is_unsubscribed() {
        let o = in_place(&desired(7.0, &["a@example.com", "old@example.com"]));
        let p = plan(Some(&desired(7.0, &["a@example.com"])), &o);
        assert_eq!(
            p.steps,
            Ok(vec![Step::Unsubscribe {
                email: "old@example.com".into(),
                arn: format!("{TOPIC_ARN}:old@example.com"),
            }])
        );
        assert_eq!(p.changes[0].detail, ["unsubscribe old@example.com"]);
    }

    #[test]
    fn a_pending_email_is_never_subscribed_again() {
        let d = desired(7.0, &["a@example.com"]);
        let mut o = in_place(&d);
        if let Some(t) = o.topic.as_mut() {
            t.subscriptions = vec![sub("a@example.com", false)];
        }
        let p = plan(Some(&d), &o);
        assert_eq!(p.steps, Ok(Vec::new()));
        assert_eq!(p.changes, Vec::new());
        assert!(
            p.notes[1].starts_with("a@example.com has not confirmed"),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn a_pending_email_removed_cannot_be_unsubscribed_and_is_reported() {
        let d = desired(7.0, &["new@example.com"]);
        let mut o = in_place(&d);
        if let Some(t) = o.topic.as_mut() {
            t.subscriptions = vec![sub("old@example.com", false), sub("gone@example.com", true)];
        }
        let p = plan(Some(&d), &o);
        let steps = p.steps.expect("steps");
        assert!(
            !steps.iter().any(
                |s| matches!(s, Step::Unsubscribe { email, .. } if email == "old@example.com")
            )
        );
        let detail = &p.changes[0].detail;
        assert!(
            detail
                .iter()
                .any(|l| l.starts_with("old@example.com is no longer in alerts.emails")),
            "{detail:?}"
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("SNS cannot unsubscribe it"))
        );
        // Alone, it is a note and not a change.
        let mut o = in_place(&d);
        if let Some(t) = o.topic.as_mut() {
            t.subscriptions.push(sub("old@example.com", false));
        }
        let p = plan(Some(&d), &o);
        assert_eq!((p.steps, p.changes), (Ok(Vec::new()), Vec::new()));
    }

    #[test]
    fn other_protocols_are_left_alone() {
        let d = desired(7.0, &[]);
        let mut o = in_place(&d);
        if let Some(t) = o.topic.as_mut() {
            t.subscriptions = vec![Subscription {
                protocol: "sqs".into(),
                endpoint: "arn:aws:sqs:us-east-1:111111111111:q".into(),
                arn: Some("arn:sub".into()),
            }];
        }
        assert_eq!(plan(Some(&d), &o).steps, Ok(Vec::new()));
    }

    #[test]
    fn the_policy_statement_is_added_next_to_the_default_one() {
        let d = desired(7.0, &[]);
        let mut o = in_place(&d);
        let default_only = json!({"Version": "2008-10-17", "Statement": [default_statement()]});
        if let Some(t) = o.topic.as_mut() {
            t.topic.policy = Some(default_only.to_string());
        }
        let p = plan(Some(&d), &o);
        let Ok([Step::SetPolicy { policy }]) = p.steps.as_deref() else {
            panic!("{:?}", p.steps);
        };
        let v: Value = serde_json::from_str(policy).expect("json");
        assert_eq!(v["Statement"][0], default_statement());
        assert_eq!(v["Statement"][1], statement(TOPIC_ARN, RULE_ARN));
        assert_eq!(v["Version"], "2008-10-17");
        assert_eq!(p.changes[0].detail, [policy_line(&d)]);
    }

    #[test]
    fn a_broader_statement_of_ours_is_narrowed() {
        let broad = json!({"Sid": STATEMENT_SID, "Effect": "Allow",
                           "Principal": {"Service": "events.amazonaws.com"},
                           "Action": "sns:Publish", "Resource": TOPIC_ARN});
        let policy = json!({"Statement": [broad]}).to_string();
        let new = with_statement(Some(&policy), TOPIC_ARN, RULE_ARN)
            .expect("json")
            .expect("a change");
        let v: Value = serde_json::from_str(&new).expect("json");
        assert_eq!(v["Statement"], json!([statement(TOPIC_ARN, RULE_ARN)]));
        assert!(with_statement(Some("{"), TOPIC_ARN, RULE_ARN).is_err());
    }

    #[test]
    fn a_foreign_topic_fails_with_the_adoption_hint_and_is_reported() {
        let d = desired(7.0, &["a@example.com"]);
        let o = Observed {
            topic: Some(topic(TOPIC_ARN, false, None, Vec::new())),
            ..Observed::default()
        };
        let p = plan(Some(&d), &o);
        let e = p.steps.expect_err("conflict");
        assert!(e.contains("not managed by guardsync"), "{e}");
        assert!(
            e.contains(&format!(
                "aws sns tag-resource --region us-east-1 --resource-arn {TOPIC_ARN} --tags Key=managed-by,Value=guardsync"
            )),
            "{e}"
        );
        assert_eq!(p.changes, Vec::new());
        assert_eq!(
            p.unmanaged,
            [Unmanaged {
                resource: Resource::AlertTopic,
                name: "alerts".into()
            }]
        );
    }

    #[test]
    fn a_foreign_rule_fails_with_the_adoption_hint() {
        let d = desired(7.0, &[]);
        let o = Observed {
            rule: Some(rule(&d, false)),
            ..Observed::default()
        };
        let p = plan(Some(&d), &o);
        let e = p.steps.expect_err("conflict");
        assert!(
            e.contains("aws events tag-resource --region us-east-1"),
            "{e}"
        );
        assert_eq!(p.unmanaged[0].resource, Resource::AlertRule);
    }

    #[test]
    fn a_renamed_topic_moves_the_target_and_deletes_the_old_topic() {
        let old_arn = "arn:aws:sns:us-east-1:111111111111:old";
        let d = desired(7.0, &["a@example.com"]);
        let mut r = rule(&d, true);
        r.targets[0].arn = old_arn.into();
        r.description = Some(d.description().replace("alerts", "old"));
        let o = Observed {
            rule: Some(r),
            topic: None,
            targeted: vec![topic(old_arn, true, None, vec![sub("a@example.com", true)])],
        };
        let p = plan(Some(&d), &o);
        assert_eq!(
            p.steps,
            Ok(vec![
                Step::CreateTopic,
                Step::Subscribe {
                    email: "a@example.com".into()
                },
                Step::PutRule,
                Step::PutTarget,
                Step::Unsubscribe {
                    email: "a@example.com".into(),
                    arn: format!("{TOPIC_ARN}:a@example.com"),
                },
                Step::DeleteTopic {
                    arn: old_arn.into()
                },
            ])
        );
        assert_eq!(
            kinds(&p),
            [
                (Resource::AlertTopic, Action::Create),
                (Resource::AlertRule, Action::Update),
                (Resource::AlertTopic, Action::Delete)
            ]
        );
    }

    #[test]
    fn removal_deletes_topics_first_and_the_rule_last() {
        let d = desired(7.0, &["a@example.com", "p@example.com"]);
        let mut r = rule(&d, true);
        r.targets.push(Target {
            id: "someone-else".into(),
            arn: "arn:aws:sqs:us-east-1:111111111111:q".into(),
            transformer: None,
            other_input: false,
        });
        let o = Observed {
            rule: Some(r),
            topic: None,
            targeted: vec![topic(
                TOPIC_ARN,
                true,
                None,
                vec![sub("a@example.com", true), sub("p@example.com", false)],
            )],
        };
        let p = plan(None, &o);
        assert_eq!(
            p.steps,
            Ok(vec![
                Step::Unsubscribe {
                    email: "a@example.com".into(),
                    arn: format!("{TOPIC_ARN}:a@example.com"),
                },
                Step::DeleteTopic {
                    arn: TOPIC_ARN.into()
                },
                Step::RemoveTargets {
                    ids: vec![TARGET_ID.into(), "someone-else".into()]
                },
                Step::DeleteRule,
            ])
        );
        assert_eq!(
            kinds(&p),
            [
                (Resource::AlertTopic, Action::Delete),
                (Resource::AlertRule, Action::Delete)
            ]
        );
        assert!(p.changes[0].detail[2].starts_with("p@example.com: pending confirmation"));
        assert!(!p.notes.iter().any(|n| n == SUPPRESSED_NOTE));
    }

    #[test]
    fn removal_with_nothing_there_does_nothing() {
        let p = plan(None, &Observed::default());
        assert_eq!(
            (p.steps, p.changes, p.unmanaged, p.notes),
            (Ok(Vec::new()), Vec::new(), Vec::new(), Vec::new())
        );
    }

    #[test]
    fn removal_leaves_foreign_rules_and_topics_alone() {
        let d = desired(7.0, &[]);
        let p = plan(
            None,
            &Observed {
                rule: Some(rule(&d, false)),
                ..Observed::default()
            },
        );
        assert_eq!(p.steps, Ok(Vec::new()));
        assert_eq!(p.unmanaged[0].resource, Resource::AlertRule);
        // Our rule delivering to a topic that is not ours: the rule goes, the topic stays.
        let p = plan(
            None,
            &Observed {
                rule: Some(rule(&d, true)),
                topic: None,
                targeted: vec![topic(TOPIC_ARN, false, None, Vec::new())],
            },
        );
        assert_eq!(
            p.steps,
            Ok(vec![
                Step::RemoveTargets {
                    ids: vec![TARGET_ID.into()]
                },
                Step::DeleteRule
            ])
        );
        assert_eq!(p.unmanaged[0].resource, Resource::AlertTopic);
    }

    #[test]
    fn the_pattern_is_exactly_the_specs() {
        assert_eq!(
            desired(7.0, &[]).pattern().to_string(),
            r#"{"detail":{"severity":[{"numeric":[">=",7.0]}]},"detail-type":["GuardDuty Finding"],"source":["aws.guardduty"]}"#
        );
        assert_eq!(pattern_min(&pattern(6.5).to_string()), Some(6.5));
    }

    #[test_case(1.0, "Low")]
    #[test_case(3.9, "Low")]
    #[test_case(4.0, "Medium")]
    #[test_case(6.9, "Medium")]
    #[test_case(7.0, "High")]
    #[test_case(8.9, "High")]
    #[test_case(9.0, "Critical")]
    #[test_case(10.0, "Critical")]
    fn severity_labels_follow_the_user_guide(severity: f64, label: &str) {
        assert_eq!(severity_label(severity), label);
    }

    #[test]
    fn the_message_names_the_levels_and_links_the_console() {
        let m = message();
        assert!(
            m.template
                .contains("Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0")
        );
        assert!(m.template.contains(
            "https://console.aws.amazon.com/guardduty/home?region=<region>#/findings?search=id%3D<id>"
        ));
        // Every placeholder has a path, and every line is a quoted string.
        for name in m.paths.keys() {
            assert!(m.template.contains(&format!("<{name}>")), "{name}");
        }
        assert!(
            m.template
                .lines()
                .all(|l| l.starts_with('"') && l.ends_with('"'))
        );
        assert!(m.paths.len() <= 100);
    }
}

//! Finding alerts against the emulator (the README's Security section): `alerts::reconcile` in
//! the administrator account of the `basic` organization creates the topic,
//! its policy and subscriptions, the rule and its target; makes no mutating
//! call when nothing changed; follows `min_severity` and `emails`; removes
//! what it owns; never touches a same-named topic or rule it does not own.
//! The rule's pattern is checked with EventBridge's TestEventPattern.

use std::collections::HashMap;

use crate::common::gs::mutating_calls;
use crate::common::{ADMIN, Emulator, emulator};
use aws_sdk_eventbridge::operation::describe_rule::DescribeRuleOutput;
use guardsync::aws::events::EventBridge;
use guardsync::aws::sns::Sns;
use guardsync::config::Alerts;
use guardsync::reconcile::alerts::{self, AlertsOutcome, RULE_NAME, TARGET_ID};
use guardsync::report::{Action, Mode, Resource};
use serde_json::{Value, json};

const REGION: &str = "us-east-1";
const TOPIC: &str = "guardsync-findings";
const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:111111111111:guardsync-findings";
const RULE_ARN: &str = "arn:aws:events:us-east-1:111111111111:rule/guardsync-findings";

fn config(min: f64, emails: &[&str]) -> Alerts {
    Alerts {
        min_severity: min,
        topic_name: TOPIC.into(),
        emails: emails.iter().map(|e| (*e).to_owned()).collect(),
    }
}

async fn reconcile(
    emu: &Emulator,
    alerts: Option<&Alerts>,
    mode: Mode,
) -> Result<AlertsOutcome, String> {
    let conf = emu.sdk(REGION).await;
    let (sns, events) = (Sns::new(&conf, ADMIN), EventBridge::new(&conf, ADMIN));
    alerts::reconcile(&sns, &events, alerts, mode)
        .await
        .map_err(|e| e.to_string())
}

/// Reconcile in apply mode from a clean call log; the outcome and the mutating calls (operations).
async fn apply(emu: &Emulator, alerts: Option<&Alerts>) -> (AlertsOutcome, Vec<String>) {
    emu.clear_calls().await;
    let out = reconcile(emu, alerts, Mode::Apply).await.expect("apply");
    (out, operations(emu).await)
}

async fn operations(emu: &Emulator) -> Vec<String> {
    mutating_calls(emu)
        .await
        .into_iter()
        .map(|c| c.rsplit(' ').next().unwrap_or_default().to_owned())
        .collect()
}

async fn sns(emu: &Emulator) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&emu.sdk(REGION).await)
}

async fn events(emu: &Emulator) -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::new(&emu.sdk(REGION).await)
}

/// (address, confirmed) of the topic's e-mail subscriptions, sorted.
async fn subscriptions(emu: &Emulator) -> Vec<(String, bool)> {
    let out = sns(emu)
        .await
        .list_subscriptions_by_topic()
        .topic_arn(TOPIC_ARN)
        .send()
        .await
        .expect("subscriptions");
    let mut subs: Vec<(String, bool)> = out
        .subscriptions()
        .iter()
        .map(|s| {
            (
                s.endpoint().unwrap_or_default().to_owned(),
                s.subscription_arn() != Some("PendingConfirmation"),
            )
        })
        .collect();
    subs.sort();
    subs
}

/// Confirm an address (the emulator's token is the address itself).
async fn confirm(emu: &Emulator, email: &str) {
    sns(emu)
        .await
        .confirm_subscription()
        .topic_arn(TOPIC_ARN)
        .token(email)
        .send()
        .await
        .expect("confirm");
}

/// The topic's attributes, if it exists.
async fn topic(emu: &Emulator) -> Option<HashMap<String, String>> {
    let out = sns(emu)
        .await
        .get_topic_attributes()
        .topic_arn(TOPIC_ARN)
        .send()
        .await
        .ok()?;
    out.attributes().cloned()
}

/// The rule, if it exists.
async fn rule(emu: &Emulator) -> Option<DescribeRuleOutput> {
    events(emu)
        .await
        .describe_rule()
        .name(RULE_NAME)
        .send()
        .await
        .ok()
}

/// The rule's pattern, as JSON.
async fn pattern(emu: &Emulator) -> Value {
    let rule = rule(emu).await.expect("the rule");
    serde_json::from_str(rule.event_pattern().expect("a pattern")).expect("pattern JSON")
}

/// The tags of the topic and of the rule.
async fn tags(emu: &Emulator) -> [Vec<(String, String)>; 2] {
    let topic = sns(emu)
        .await
        .list_tags_for_resource()
        .resource_arn(TOPIC_ARN)
        .send()
        .await
        .expect("topic tags");
    let rule = events(emu)
        .await
        .list_tags_for_resource()
        .resource_arn(RULE_ARN)
        .send()
        .await
        .expect("rule tags");
    [
        topic
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
        rule.tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
    ]
}

/// A GuardDuty finding event as EventBridge delivers it.
fn finding(severity: f64) -> String {
    json!({
        "version": "0",
        "id": "c8c4daa7-a20c-2f03-0070-b7393dd542ad",
        "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty",
        "account": "222222222222",
        "time": "2024-05-01T12:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "schemaVersion": "2.0",
            "accountId": "222222222222",
            "region": REGION,
            "id": "16afba5c5c43e07c9e3e5e2e544e95df",
            "type": "Recon:EC2/Portscan",
            "title": "Unusual outbound port scan",
            "severity": severity,
            "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-99999999"}},
            "service": {"archived": false, "count": 1}
        }
    })
    .to_string()
}

#[tokio::test]
async fn plan_writes_nothing_apply_creates_everything_and_again_changes_nothing() {
    let emu = emulator();
    let _guard = emu.lock().await;
    emu.seed("basic").await;
    let want = config(7.0, &["secops@example.com"]);

    // plan: the whole change, no mutating call.
    emu.clear_calls().await;
    let plan = reconcile(emu, Some(&want), Mode::Plan).await.expect("plan");
    assert_eq!(operations(emu).await, Vec::<String>::new());
    let kinds: Vec<(Resource, Action, &str)> = plan
        .changes
        .iter()
        .map(|c| (c.resource, c.action, c.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (Resource::AlertTopic, Action::Create, TOPIC),
            (Resource::AlertRule, Action::Create, RULE_NAME)
        ]
    );
    assert!(
        plan.changes[0]
            .detail
            .iter()
            .any(|l| l.starts_with("subscribe secops@example.com"))
    );
    assert_eq!(plan.changes[1].detail[0], "pattern severity >= 7.0");
    assert!(
        plan.notes
            .iter()
            .any(|n| n.starts_with("archived (suppressed) findings never alert"))
    );

    // apply: the same changes, carried out.
    let (applied, ops) = apply(emu, Some(&want)).await;
    assert_eq!(applied.changes, plan.changes);
    assert_eq!(
        ops,
        [
            "CreateTopic",
            "SetTopicAttributes",
            "Subscribe",
            "PutRule",
            "PutTargets"
        ]
    );

    // Both tagged; the topic's policy lets this rule (only) publish, SNS's own statement kept.
    let owner = vec![("managed-by".to_owned(), "guardsync".to_owned())];
    assert_eq!(tags(emu).await, [owner.clone(), owner]);
    let attrs = topic(emu).await.expect("the topic");
    let policy: Value =
        serde_json::from_str(attrs.get("Policy").expect("a policy")).expect("policy JSON");
    let statements = policy["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 2, "{policy}");
    assert_eq!(statements[0]["Sid"], "__default_statement_ID");
    assert_eq!(
        statements[1],
        json!({
            "Sid": alerts::STATEMENT_SID,
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
            "Condition": {"ArnEquals": {"aws:SourceArn": RULE_ARN}}
        })
    );
    assert_eq!(
        subscriptions(emu).await,
        [("secops@example.com".to_owned(), false)]
    );

    // The rule: exactly the pattern of the README's Security section, enabled, the topic its one target.
    assert_eq!(
        pattern(emu).await,
        json!({"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
               "detail": {"severity": [{"numeric": [">=", 7.0]}]}})
    );
    let rule = rule(emu).await.expect("the rule");
    assert_eq!(rule.state().map(|s| s.as_str()), Some("ENABLED"));
    assert_eq!(rule.arn(), Some(RULE_ARN));
    let targets = events(emu)
        .await
        .list_targets_by_rule()
        .rule(RULE_NAME)
        .send()
        .await
        .expect("targets");
    let [target] = targets.targets() else {
        panic!("one target: {targets:?}");
    };
    assert_eq!((target.id(), target.arn()), (TARGET_ID, TOPIC_ARN));
    let transformer = target.input_transformer().expect("an input transformer");
    let paths = transformer.input_paths_map().expect("input paths");
    assert_eq!(
        paths.get("severity").map(String::as_str),
        Some("$.detail.severity")
    );
    assert_eq!(paths.get("id").map(String::as_str), Some("$.detail.id"));
    assert!(
        transformer
            .input_template()
            .contains("findings?search=id%3D<id>")
    );

    // A second apply, and a plan, make no mutating call and report nothing.
    let (again, ops) = apply(emu, Some(&want)).await;
    assert_eq!((again.changes, ops), (Vec::new(), Vec::<String>::new()));
    emu.clear_calls().await;
    let plan = reconcile(emu, Some(&want), Mode::Plan).await.expect("plan");
    assert_eq!(plan.changes, Vec::new());
    assert!(
        plan.notes
            .iter()
            .any(|n| n.starts_with("secops@example.com has not confirmed")),
        "{:?}",
        plan.notes
    );
    assert_eq!(operations(emu).await, Vec::<String>::new());
}

#[tokio::test]
async fn the_pattern_matches_findings_of_severity_seven_and_above() {
    let emu = emulator();
    let _guard = emu.lock().await;
    emu.seed("basic").await;
    apply(emu, Some(&config(7.0, &[]))).await;
    let ev = events(emu).await;
    let pattern = &pattern(emu).await.to_string();
    let mut matched = Vec::new();
    for severity in [2.0, 5.0, 6.9, 7.0, 8.9, 9.5] {
        let out = ev
            .test_event_pattern()
            .event_pattern(pattern)
            .event(finding(severity))
            .send()
            .await
            .expect("TestEventPattern");
        matched.push((severity, out.result()));
    }
    assert_eq!(
        matched,
        [
            (2.0, false),
            (5.0, false),
            (6.9, false),
            (7.0, true),
            (8.9, true),
            (9.5, true)
        ]
    );
    // Other finding sources never match.
    let other = finding(9.5).replace("aws.guardduty", "aws.securityhub");
    let out = ev
        .test_event_pattern()
        .event_pattern(pattern)
        .event(other)
        .send()
        .await
        .expect("TestEventPattern");
    assert!(!out.result());
}

#[tokio::test]
async fn a_new_min_severity_updates_only_the_rule_pattern() {
    let emu = emulator();
    let _guard = emu.lock().await;
    emu.seed("basic").await;
    apply(emu, Some(&config(7.0, &["secops@example.com"]))).await;
    let (out, ops) = apply(emu, Some(&config(5.0, &["secops@example.com"]))).await;
    assert_eq!(ops, ["PutRule"]);
    assert_eq!(out.changes.len(), 1, "{:?}", out.changes);
    assert_eq!(
        (out.changes[0].resource, out.changes[0].action),
        (Resource::AlertRule, Action::Update)
    );
    assert_eq!(out.changes[0].detail, ["pattern severity >= 7.0 -> >= 5.0"]);
    assert_eq!(
        pattern(emu).await["detail"]["severity"],
        json!([{"numeric": [">=", 5.0]}])
    );
    assert_eq!(
        subscriptions(emu).await,
        [("secops@example.com".to_owned(), false)]
    );
}

#[tokio::test]
async fn emails_are_subscribed_unsubscribed_and_pending_ones_left_be() {
    let emu = emulator();
    let _guard = emu.lock().await;
    emu.seed("basic").await;
    apply(emu, Some(&config(7.0, &["a@example.com"]))).await;
    confirm(emu, "a@example.com").await;

    // Added: one Subscribe, nothing else.
    let (out, ops) = apply(emu, Some(&config(7.0, &["a@example.com", "b@example.com"]))).await;
    assert_eq!(ops, ["Subscribe"]);
    assert_eq!(
        (out.changes[0].resource, out.changes[0].action),
        (Resource::AlertTopic, Action::Update)
    );
    assert_eq!(
        subscriptions(emu).await,
        [
            ("a@example.com".to_owned(), true),
            ("b@example.com".to_owned(), false)
        ]
    );

    // b is pending: never subscribed again.
    let (out, ops) = apply(emu, Some(&config(7.0, &["a@example.com", "b@example.com"]))).await;
    assert_eq!((out.changes, ops), (Vec::new(), Vec::<String>::new()));

    // a removed (confirmed): unsubscribed.
    let (out, ops) = apply(emu, Some(&config(7.0, &["b@example.com"]))).await;
    assert_eq!(ops, ["Unsubscribe"]);
    assert_eq!(out.changes[0].detail, ["unsubscribe a@example.com"]);
    assert_eq!(
        subscriptions(emu).await,
        [("b@example.com".to_owned(), false)]
    );

    // b removed while pending: SNS cannot unsubscribe it; said, not attempted.
    let (out, ops) = apply(emu, Some(&config(7.0, &[]))).await;
    assert_eq!((out.changes, ops), (Vec::new(), Vec::<String>::new()));
    assert!(
        out.notes
            .iter()
            .any(|n| n.starts_with("b@example.com is no longer in alerts.emails")),
        "{:?}",
        out.notes
    );
}

#[tokio::test]
async fn removing_alerts_deletes_what_guardsync_owns() {
    let emu = emulator();
    let _guard = emu.lock().await;
    emu.seed("basic").await;
    apply(emu, Some(&config(7.0, &["a@example.com", "p@example.com"]))).await;
    confirm(emu, "a@example.com").await;

    emu.clear_calls().await;
    let plan = reconcile(emu, None, Mode::Plan).await.expect("plan");
    assert_eq!(operations(emu).await, Vec::<String>::new());
    let (out, ops) = apply(emu, None).await;
    assert_eq!(out.changes, plan.changes);
    let kinds: Vec<(Resource, Action)> =
        out.changes.iter().map(|c| (c.resource, c.action)).collect();
    assert_eq!(
        kinds,
        [
            (Resource::AlertTopic, Action::Delete),
            (Resource::AlertRule, Action::Delete)
        ]
    );
    assert!(
        out.changes[0]
            .detail
            .iter()
            .any(|l| l.starts_with("p@example.com: pending confirmation")),
        "{:?}",
        out.changes[0].detail
    );
    assert_eq!(
        ops,
        ["Unsubscribe", "DeleteTopic", "RemoveTargets", "DeleteRule"]
    );
    assert!(topic(emu).await.is_none());
    assert!(rule(emu).await.is_none());

    // Nothing left: nothing to do.
    let (out, ops) = apply(emu, None).await;
    assert_eq!((out, ops), (AlertsOutcome::default(), Vec::<String>::new()));
}

#[tokio::test]
async fn a_foreign_topic_or_rule_of_the_same_name_is_left_alone_and_reported() {
    let emu = emulator();
    let _guard = emu.lock().await;
    emu.seed("basic").await;
    let sns = sns(emu).await;
    let arn = sns
        .create_topic()
        .name(TOPIC)
        .send()
        .await
        .expect("a foreign topic");
    assert_eq!(arn.topic_arn(), Some(TOPIC_ARN));
    let before = topic(emu).await;

    for mode in [Mode::Plan, Mode::Apply] {
        emu.clear_calls().await;
        let err = reconcile(emu, Some(&config(7.0, &["a@example.com"])), mode)
            .await
            .expect_err("a conflict");
        assert!(err.contains("is not managed by guardsync"), "{err}");
        assert!(
            err.contains(&format!(
                "aws sns tag-resource --region us-east-1 --resource-arn {TOPIC_ARN} \
                 --tags Key=managed-by,Value=guardsync"
            )),
            "{err}"
        );
        assert_eq!(operations(emu).await, Vec::<String>::new());
    }
    assert_eq!(topic(emu).await, before);
    let foreign_tags = sns
        .list_tags_for_resource()
        .resource_arn(TOPIC_ARN)
        .send()
        .await
        .expect("topic tags");
    assert_eq!(foreign_tags.tags(), []);
    assert_eq!(subscriptions(emu).await, Vec::new());
    assert!(rule(emu).await.is_none());

    // A foreign rule: the same conflict with alerts, and left alone (reported) without.
    events(emu)
        .await
        .put_rule()
        .name(RULE_NAME)
        .event_pattern(r#"{"source": ["aws.guardduty"]}"#)
        .send()
        .await
        .expect("a foreign rule");
    let err = reconcile(emu, Some(&config(7.0, &[])), Mode::Apply)
        .await
        .expect_err("a conflict");
    assert!(err.contains("aws events tag-resource"), "{err}");
    let (out, ops) = apply(emu, None).await;
    assert_eq!(ops, Vec::<String>::new());
    assert_eq!(out.changes, Vec::new());
    let unmanaged: Vec<(Resource, &str)> = out
        .unmanaged
        .iter()
        .map(|u| (u.resource, u.name.as_str()))
        .collect();
    assert_eq!(unmanaged, [(Resource::AlertRule, RULE_NAME)]);
    assert!(topic(emu).await.is_some());
    assert!(rule(emu).await.is_some());
}

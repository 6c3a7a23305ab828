"""EventBridge TestEventPattern and numeric filters; SNS e-mail confirmation (gsemu/events_ext.py)."""

import json

import pytest
from botocore.exceptions import ClientError

ADMIN = "111111111111"
PATTERN = {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
           "detail": {"severity": [{"numeric": [">=", 7.0]}]}}


def finding(severity) -> str:
    return json.dumps({
        "version": "0", "id": "e1", "detail-type": "GuardDuty Finding", "source": "aws.guardduty",
        "account": ADMIN, "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"id": "f1", "type": "Recon:EC2/Portscan", "severity": severity},
    })


@pytest.mark.parametrize("severity,matches", [
    (2.0, False), (5, False), (6.9, False), (7, True), (7.0, True), (8.9, True), (9.5, True),
])
def test_numeric_pattern_matches_like_eventbridge(emu, severity, matches):
    ev = emu.client("events")
    out = ev.test_event_pattern(EventPattern=json.dumps(PATTERN), Event=finding(severity))
    assert out["Result"] is matches


def test_other_sources_do_not_match_and_test_event_pattern_is_a_read(emu):
    ev = emu.client("events")
    other = json.loads(finding(9.0))
    other["source"] = "aws.securityhub"
    assert not ev.test_event_pattern(EventPattern=json.dumps(PATTERN), Event=json.dumps(other))["Result"]
    assert [(c["operation"], c["mutating"]) for c in emu.calls()] == [("TestEventPattern", False)]


@pytest.mark.parametrize("bad", [[">=", "7"], ["~", 7], [">="], [">=", True]])
def test_malformed_numeric_filters_are_rejected(emu, bad):
    ev = emu.client("events")
    pattern = json.dumps({"detail": {"severity": [{"numeric": bad}]}})
    with pytest.raises(ClientError) as e:
        ev.put_rule(Name="r", EventPattern=pattern)
    assert e.value.response["Error"]["Code"] == "InvalidEventPatternException"
    with pytest.raises(ClientError) as e:
        ev.test_event_pattern(EventPattern=pattern, Event=finding(8.0))
    assert e.value.response["Error"]["Code"] == "InvalidEventPatternException"


def test_an_event_without_the_mandatory_fields_is_invalid(emu):
    ev = emu.client("events")
    with pytest.raises(ClientError) as e:
        ev.test_event_pattern(EventPattern=json.dumps(PATTERN), Event=json.dumps({"source": "x"}))
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "detail-type" in e.value.response["Error"]["Message"]


def test_email_subscriptions_wait_for_confirmation(emu):
    sns = emu.client("sns")
    arn = sns.create_topic(Name="alerts", Tags=[{"Key": "managed-by", "Value": "guardsync"}])["TopicArn"]
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "managed-by", "Value": "guardsync"}]
    assert sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="a@example.com")[
        "SubscriptionArn"] == "pending confirmation"
    # Again: still one subscription, still pending.
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="a@example.com")
    real = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="b@example.com",
                         ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert real.startswith(arn + ":")
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert sorted((s["Endpoint"], s["SubscriptionArn"]) for s in subs) == [
        ("a@example.com", "PendingConfirmation"), ("b@example.com", "PendingConfirmation")]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["SubscriptionsPending"], attrs["SubscriptionsConfirmed"]) == ("2", "0")
    with pytest.raises(ClientError) as e:
        sns.unsubscribe(SubscriptionArn="PendingConfirmation")
    assert e.value.response["Error"]["Code"] == "InvalidParameter"

    # The emulator's confirmation token is the address.
    with pytest.raises(ClientError):
        sns.confirm_subscription(TopicArn=arn, Token="nobody@example.com")
    confirmed = sns.confirm_subscription(TopicArn=arn, Token="a@example.com")["SubscriptionArn"]
    subs = {s["Endpoint"]: s["SubscriptionArn"]
            for s in sns.list_subscriptions(NextToken="")["Subscriptions"] if s["TopicArn"] == arn}
    assert subs == {"a@example.com": confirmed, "b@example.com": "PendingConfirmation"}
    sns.unsubscribe(SubscriptionArn=confirmed)
    assert [s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]] == [
        "b@example.com"]


def test_other_protocols_are_confirmed_at_once(emu):
    sns = emu.client("sns")
    arn = sns.create_topic(Name="t")["TopicArn"]
    out = sns.subscribe(TopicArn=arn, Protocol="sqs",
                        Endpoint="arn:aws:sqs:us-east-1:111111111111:q")["SubscriptionArn"]
    assert out.startswith(arn + ":")

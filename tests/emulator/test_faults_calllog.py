"""Fault injection shapes per protocol, and the call log."""

import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import put_list

ADMIN = "111111111111"


def err(fn):
    with pytest.raises(ClientError) as e:
        fn()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["ResponseMetadata"]["HTTPHeaders"]


def test_throttle_count_per_protocol(emu):
    emu.ctl("POST", "faults", {"seed": 1, "rules": [
        {"service": "guardduty", "operation": "ListMembers", "throttle_count": 2},
        {"service": "organizations", "throttle_count": 1},
        {"service": "sts", "operation": "GetCallerIdentity", "throttle_count": 1},
        {"service": "s3", "operation": "GetObject", "throttle_count": 1},
    ]})
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    c, status, headers = err(lambda: gd.list_members(DetectorId=det))
    assert (c, status, headers["x-amzn-errortype"]) == ("TooManyRequestsException", 429, "TooManyRequestsException")
    err(lambda: gd.list_members(DetectorId=det))
    assert gd.list_members(DetectorId=det)["Members"]  # third call passes
    c, status, _ = err(lambda: emu.client("organizations").list_accounts())
    assert (c, status) == ("TooManyRequestsException", 400)
    c, status, _ = err(lambda: emu.client("sts").get_caller_identity())
    assert (c, status) == ("Throttling", 400)
    put_list(emu)
    s3 = emu.client("s3")
    c, status, _ = err(lambda: s3.get_object(Bucket="org-threat-lists-111111111111", Key="guardduty/list.txt"))
    assert (c, status) == ("SlowDown", 503)
    # botocore classifies these as throttling and retries them
    retrying = emu.client("s3", config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                              s3={"addressing_style": "path"}))
    emu.ctl("POST", "faults", {"rules": [{"service": "s3", "operation": "GetObject", "throttle_count": 2}]})
    assert retrying.get_object(Bucket="org-threat-lists-111111111111", Key="guardduty/list.txt")["Body"].read()
    statuses = [c["status"] for c in emu.calls() if c["operation"] == "GetObject"]
    assert statuses[-3:] == [503, 503, 200]


def test_json_protocol_throttle_shape(emu):
    emu.ctl("POST", "faults", {"rules": [{"service": "events", "throttle_count": 1}]})
    c, status, headers = err(lambda: emu.client("events").list_rules())
    assert (c, status, headers["x-amzn-errortype"]) == ("ThrottlingException", 400, "ThrottlingException")


def test_latency_and_5xx(emu):
    emu.ctl("POST", "faults", {"seed": 7, "rules": [
        {"service": "guardduty", "operation": "ListDetectors", "latency_ms": 150, "jitter_ms": 10},
        {"service": "guardduty", "operation": "ListFilters", "error_rate": 1.0, "error_status": 503},
        {"service": "sns", "error_rate": 1.0},
    ]})
    gd = emu.client("guardduty")
    t = time.monotonic()
    gd.list_detectors()
    assert time.monotonic() - t >= 0.13
    c, status, _ = err(lambda: gd.list_filters(DetectorId=emu.detector(ADMIN)))
    assert status == 503
    c, status, _ = err(lambda: emu.client("sns").list_topics())
    assert (c, status) == ("InternalFailure", 500)
    emu.ctl("DELETE", "faults")
    gd.list_filters(DetectorId=emu.detector(ADMIN))


def test_rates_are_seeded(emu):
    def run():
        emu.ctl("POST", "faults", {"seed": 42, "rules": [{"service": "sts", "throttle_rate": 0.5}]})
        out = []
        for _ in range(12):
            try:
                emu.client("sts").get_caller_identity()
                out.append(200)
            except ClientError:
                out.append(400)
        return out
    first = run()
    assert first == run() and 200 in first and 400 in first


def test_call_log_fields_and_mutating(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    loc = put_list(emu)
    gd.create_threat_intel_set(DetectorId=det, Name="x", Format="TXT", Location=loc, Activate=True)
    gd.list_threat_intel_sets(DetectorId=det)
    emu.client("organizations").list_accounts()
    emu.client("sts", region="eu-west-1", account="444444444444")
    emu.client("s3").put_bucket_policy(Bucket="org-threat-lists-111111111111", Policy='{"Version":"2012-10-17","Statement":[]}')
    emu.client("s3").get_object(Bucket="org-threat-lists-111111111111", Key="guardduty/list.txt")
    emu.client("sns", region="eu-west-1").create_topic(Name="guardsync-findings")
    calls = emu.calls()
    assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
    assert all(set(c) == {"seq", "account", "region", "service", "operation", "status", "mutating", "resource"} for c in calls)
    ops = {c["operation"]: c for c in calls}
    assert ops["PutObject"]["mutating"] and ops["PutObject"]["service"] == "s3"
    assert ops["CreateThreatIntelSet"]["mutating"] and ops["CreateThreatIntelSet"]["account"] == ADMIN
    assert ops["PutBucketPolicy"]["mutating"] and ops["CreateTopic"]["mutating"]
    assert ops["CreateTopic"]["region"] == "eu-west-1"
    for read in ("ListThreatIntelSets", "ListAccounts", "AssumeRole", "GetObject"):
        assert ops[read]["mutating"] is False, read
    assert ops["AssumeRole"]["region"] == "eu-west-1" and ops["AssumeRole"]["status"] == 200
    assert not any(c["operation"].startswith("_") for c in calls)
    emu.ctl("DELETE", "calls")
    assert emu.calls() == []


def test_reset_drops_the_connection_of_one_region_only(emu):
    from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

    emu.ctl("POST", "faults", {"rules": [{"region": "eu-west-1", "reset_rate": 1.0}]})
    t = time.monotonic()
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        emu.client("guardduty", region="eu-west-1").list_detectors()
    # no hang: werkzeug does not wait for another request on that connection
    assert time.monotonic() - t < 5
    assert emu.client("guardduty", region="us-east-1").list_detectors()["DetectorIds"]
    calls = [(c["region"], c["operation"], c["status"]) for c in emu.calls()]
    assert calls == [("eu-west-1", "ListDetectors", 0), ("us-east-1", "ListDetectors", 200)]
    # the server keeps serving that region once the rule is gone
    emu.ctl("DELETE", "faults")
    assert emu.client("guardduty", region="eu-west-1").list_detectors()["DetectorIds"]


def test_role_arn_selects_assume_role_into_one_account(emu):
    denied = "arn:aws:iam::444444444444:role/GuardSyncMemberRole"
    emu.ctl("POST", "faults", {"rules": [
        {"service": "sts", "operation": "AssumeRole", "role_arn": denied, "error_rate": 1.0, "error_status": 503},
    ]})
    sts = emu.client("sts")
    c, status, _ = err(lambda: sts.assume_role(RoleArn=denied, RoleSessionName="guardsync"))
    assert (c, status) == ("ServiceUnavailable", 503)
    ok = sts.assume_role(RoleArn="arn:aws:iam::222222222222:role/GuardSyncMemberRole", RoleSessionName="guardsync")
    assert ok["Credentials"]["AccessKeyId"]
    # other calls of sts are not matched: a rule with role_arn only matches AssumeRole into that role
    emu.ctl("POST", "faults", {"rules": [{"role_arn": denied, "throttle_rate": 1.0}]})
    assert sts.get_caller_identity()["Account"] == ADMIN

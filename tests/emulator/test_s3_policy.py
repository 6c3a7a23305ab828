"""The S3 bucket-policy fix: SecureTransport deny and the org-read allow."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import put_list

BUCKET = "org-threat-lists-111111111111"


def policy(org_id: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "OrgRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/guardduty/*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}}},
        {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]})


def test_org_read_and_tls_only(endpoint):
    from conftest import Emu, load_scenario

    emu = Emu(endpoint)
    scenario = load_scenario("basic.yaml")
    scenario["organization"]["accounts"].append({"id": "777777777777", "name": "x"})
    summary = emu.seed(scenario)
    put_list(emu)
    s3 = emu.client("s3")
    s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(summary["organization_id"]))
    get = lambda c: c.get_object(Bucket=BUCKET, Key="guardduty/list.txt")["Body"].read()
    # owner and an org member read over TLS (moto alone denies both)
    assert get(s3) == b"198.51.100.7\n"
    assert get(emu.client("s3", account="444444444444")) == b"198.51.100.7\n"
    # an account outside the organization is denied
    with pytest.raises(ClientError) as e:
        get(emu.client("s3", account="888888888888"))
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # GuardDuty in a standalone org account can activate a set from the bucket
    emu.ctl("POST", "config", {"activation_delay_ms": 0})
    gd = emu.client("guardduty", account="444444444444")
    det = emu.detector("444444444444")
    sid = gd.create_threat_intel_set(DetectorId=det, Name="x", Format="TXT", Activate=True,
                                     Location=f"s3://{BUCKET}/guardduty/list.txt")["ThreatIntelSetId"]
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)["Status"] == "ACTIVE"
    # plain HTTP: the TLS-only Deny applies, even to the owner
    emu.ctl("POST", "config", {"secure_transport": False})
    with pytest.raises(ClientError) as e:
        get(s3)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    emu.ctl("POST", "config", {"secure_transport": True})
    assert get(s3)


def test_cross_account_without_policy_is_error(emu):
    emu.ctl("POST", "config", {"activation_delay_ms": 0})
    put_list(emu)
    gd = emu.client("guardduty", account="444444444444")
    det = emu.detector("444444444444")
    sid = gd.create_threat_intel_set(DetectorId=det, Name="x", Format="TXT", Activate=True,
                                     Location=f"s3://{BUCKET}/guardduty/list.txt")["ThreatIntelSetId"]
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)["Status"] == "ERROR"

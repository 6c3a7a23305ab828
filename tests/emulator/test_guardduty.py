"""GuardDuty extension rules (threat intel sets, filters, members, tags, errors)."""

import time

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import NO_RETRY, put_list

ADMIN, MEMBER, STANDALONE = "111111111111", "222222222222", "444444444444"


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def create(gd, det, name, loc, activate=True, **kw):
    return gd.create_threat_intel_set(DetectorId=det, Name=name, Format="TXT", Location=loc,
                                      Activate=activate, **kw)["ThreatIntelSetId"]


def test_error_shape_and_header(emu):
    gd = emu.client("guardduty")
    with pytest.raises(ClientError) as e:
        gd.get_threat_intel_set(DetectorId=emu.detector(ADMIN), ThreatIntelSetId="nope")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "BadRequestException"
    assert code(e) == "BadRequestException"
    # raw wire shape: {"__type", "message"}
    r = requests.get(f"{emu.url}/detector/{emu.detector(ADMIN)}/threatintelset/nope",
                     headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/guardduty/aws4_request, SignedHeaders=host, Signature=x"})
    assert r.status_code == 400 and set(r.json()) == {"__type", "message"}


def test_activating_then_active_and_no_update_while_activating(emu):
    emu.ctl("POST", "config", {"activation_delay_ms": 300})
    gd, det, loc = emu.client("guardduty"), emu.detector(ADMIN), put_list(emu)
    sid = create(gd, det, "FireHOL-Level1", loc, Tags={"managed-by": "guardsync"})
    got = gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)
    assert got["Status"] == "ACTIVATING" and got["Tags"] == {"managed-by": "guardsync"}
    with pytest.raises(ClientError) as e:
        gd.update_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid, Activate=True)
    assert code(e) == "BadRequestException" and "ACTIVATING" in str(e.value)
    with pytest.raises(ClientError):
        gd.delete_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)
    time.sleep(0.35)
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)["Status"] == "ACTIVE"
    gd.update_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid, Activate=True)
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)["Status"] == "ACTIVATING"


def test_activation_lasts_its_configured_time_until_finished(emu):
    # GuardDuty documents that activating a list takes up to 15 minutes, in
    # some cases 40: the emulator keeps a set ACTIVATING for the configured
    # wall-clock time, and the control API ends every such phase at once.
    emu.ctl("POST", "config", {"activation_delay_ms": 30 * 60 * 1000})
    gd, det, loc = emu.client("guardduty"), emu.detector(ADMIN), put_list(emu)
    sid = create(gd, det, "FireHOL-Level1", loc)
    time.sleep(0.3)
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)["Status"] == "ACTIVATING"
    assert emu.ctl("POST", "activations/finish") == {"finished": 1}
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)["Status"] == "ACTIVE"
    assert emu.ctl("POST", "activations/finish") == {"finished": 0}


def test_error_on_missing_object_and_inactive(emu):
    emu.ctl("POST", "config", {"activation_delay_ms": 0})
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    sid = create(gd, det, "missing", "https://s3.amazonaws.com/org-threat-lists-111111111111/nope.txt")
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)["Status"] == "ERROR"
    sid2 = create(gd, det, "off", put_list(emu), activate=False)
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid2)["Status"] == "INACTIVE"


@pytest.mark.parametrize("loc", [
    "https://s3.amazonaws.com/org-threat-lists-111111111111/guardduty/list.txt",
    "https://org-threat-lists-111111111111.s3.amazonaws.com/guardduty/list.txt",
    "https://s3.us-east-1.amazonaws.com/org-threat-lists-111111111111/guardduty/list.txt",
    "https://org-threat-lists-111111111111.s3.us-east-1.amazonaws.com/guardduty/list.txt",
    "s3://org-threat-lists-111111111111/guardduty/list.txt",
])
def test_location_forms(emu, loc):
    emu.ctl("POST", "config", {"activation_delay_ms": 0})
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    put_list(emu)
    sid = create(gd, det, "x", loc)
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)["Status"] == "ACTIVE"


def test_six_set_limit_unique_names_and_paging(emu):
    gd, det, loc = emu.client("guardduty"), emu.detector(ADMIN), put_list(emu)
    ids = [create(gd, det, f"set-{i}", loc, activate=False) for i in range(6)]
    with pytest.raises(ClientError) as e:
        create(gd, det, "set-6", loc, activate=False)
    assert code(e) == "BadRequestException" and "limit" in str(e.value)
    gd.delete_threat_intel_set(DetectorId=det, ThreatIntelSetId=ids[0])
    with pytest.raises(ClientError) as e:
        create(gd, det, "set-1", loc, activate=False)
    assert "already exists" in str(e.value)
    p1 = gd.list_threat_intel_sets(DetectorId=det, MaxResults=3)
    assert len(p1["ThreatIntelSetIds"]) == 3 and p1["NextToken"]
    p2 = gd.list_threat_intel_sets(DetectorId=det, MaxResults=3, NextToken=p1["NextToken"])
    assert len(p2["ThreatIntelSetIds"]) == 2 and "NextToken" not in p2
    assert sorted(p1["ThreatIntelSetIds"] + p2["ThreatIntelSetIds"]) == sorted(ids[1:])


def test_client_token_idempotency_and_expected_owner(emu):
    gd, det, loc = emu.client("guardduty"), emu.detector(ADMIN), put_list(emu)
    a = create(gd, det, "x", loc, ClientToken="tok-1", ExpectedBucketOwner=ADMIN)
    assert create(gd, det, "x", loc, ClientToken="tok-1", ExpectedBucketOwner=ADMIN) == a
    assert len(gd.list_threat_intel_sets(DetectorId=det)["ThreatIntelSetIds"]) == 1
    with pytest.raises(ClientError):
        create(gd, det, "y", loc, ExpectedBucketOwner="999999999999")


def test_member_cannot_manage_and_sees_admin_sets(emu):
    emu.ctl("POST", "config", {"activation_delay_ms": 0})
    loc = put_list(emu)
    admin_gd, admin_det = emu.client("guardduty"), emu.detector(ADMIN)
    admin_set = create(admin_gd, admin_det, "admin-list", loc)
    m_gd, m_det = emu.client("guardduty", account=MEMBER), emu.detector(MEMBER)
    # while disassociated the member manages its own set and filter
    admin_gd.disassociate_members(DetectorId=admin_det, AccountIds=[MEMBER])
    own = create(m_gd, m_det, "own", loc)
    m_gd.create_filter(DetectorId=m_det, Name="own-filter", Action="ARCHIVE",
                       FindingCriteria={"Criterion": {"severity": {"Equals": ["2"]}}})
    assert m_gd.list_threat_intel_sets(DetectorId=m_det)["ThreatIntelSetIds"] == [own]
    # re-associate: now every change is rejected and the admin's sets are listed
    admin_gd.create_members(DetectorId=admin_det, AccountDetails=[{"AccountId": MEMBER, "Email": "a@b.c"}])
    assert m_gd.get_administrator_account(DetectorId=m_det)["Administrator"]["RelationshipStatus"] == "Enabled"
    calls = [
        lambda: create(m_gd, m_det, "new", loc),
        lambda: m_gd.update_threat_intel_set(DetectorId=m_det, ThreatIntelSetId=own, Activate=True),
        lambda: m_gd.delete_threat_intel_set(DetectorId=m_det, ThreatIntelSetId=own),
        lambda: m_gd.create_filter(DetectorId=m_det, Name="f-two", FindingCriteria={"Criterion": {"type": {"Equals": ["x"]}}}),
        lambda: m_gd.update_filter(DetectorId=m_det, FilterName="own-filter", Rank=2),
        lambda: m_gd.delete_filter(DetectorId=m_det, FilterName="own-filter"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "BadRequestException" and "member account" in str(e.value)
    assert m_gd.list_threat_intel_sets(DetectorId=m_det)["ThreatIntelSetIds"] == [admin_set]
    assert m_gd.get_threat_intel_set(DetectorId=m_det, ThreatIntelSetId=admin_set)["Name"] == "admin-list"
    # a standalone account manages its own
    s_gd = emu.client("guardduty", account=STANDALONE)
    create(s_gd, emu.detector(STANDALONE), "standalone-list", loc)


CRITERIA = {"Criterion": {
    "type": {"Equals": ["Recon:EC2/Portscan"], "NotEquals": ["x"]},
    "severity": {"GreaterThan": 1, "GreaterThanOrEqual": 2, "LessThan": 9, "LessThanOrEqual": 8},
    "resource.instanceDetails.instanceId": {"Matches": ["i-*"], "NotMatches": ["i-0"]},
}}


def test_filter_roundtrip_tags_limit_and_paging(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    gd.create_filter(DetectorId=det, Name="internal-scanner", Action="ARCHIVE", Rank=1,
                     Description="d", FindingCriteria=CRITERIA, Tags={"managed-by": "guardsync"})
    got = gd.get_filter(DetectorId=det, FilterName="internal-scanner")
    assert got["FindingCriteria"] == CRITERIA and got["Tags"] == {"managed-by": "guardsync"}
    assert got["Action"] == "ARCHIVE" and got["Rank"] == 1
    # The only filter: rank 1 is the one position there is (ranks are
    # positions; test_filter_ranks_are_positions_without_gaps).
    gd.update_filter(DetectorId=det, FilterName="internal-scanner", Description="e", Rank=1)
    assert gd.get_filter(DetectorId=det, FilterName="internal-scanner")["Rank"] == 1
    with pytest.raises(ClientError):
        gd.create_filter(DetectorId=det, Name="internal-scanner", FindingCriteria=CRITERIA)
    with pytest.raises(ClientError):
        gd.delete_filter(DetectorId=det, FilterName="nope")
    for i in range(99):
        gd.create_filter(DetectorId=det, Name=f"f-{i:03}", FindingCriteria=CRITERIA)
    with pytest.raises(ClientError) as e:
        gd.create_filter(DetectorId=det, Name="one-too-many", FindingCriteria=CRITERIA)
    assert "limit" in str(e.value)
    names, token, pages = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        page = gd.list_filters(DetectorId=det, MaxResults=50, **kw)
        names += page["FilterNames"]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert len(names) == 100 and pages == 2


def test_tags_on_sets_and_filters(emu):
    gd, det, loc = emu.client("guardduty"), emu.detector(ADMIN), put_list(emu)
    sid = create(gd, det, "x", loc, activate=False)
    gd.create_filter(DetectorId=det, Name="flt", FindingCriteria=CRITERIA)
    for arn in (f"arn:aws:guardduty:us-east-1:{ADMIN}:detector/{det}/threatintelset/{sid}",
                f"arn:aws:guardduty:us-east-1:{ADMIN}:detector/{det}/filter/flt"):
        gd.tag_resource(ResourceArn=arn, Tags={"managed-by": "guardsync", "a": "b"})
        gd.untag_resource(ResourceArn=arn, TagKeys=["a"])
        assert gd.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"managed-by": "guardsync"}
    view = emu.ctl("GET", "guardduty", account=ADMIN, region="us-east-1")
    assert view["threat_intel_sets"][0]["tags"] == {"managed-by": "guardsync"}
    assert view["filters"][0]["tags"] == {"managed-by": "guardsync"}


def test_members_listing_and_org_configuration(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    p1 = gd.list_members(DetectorId=det, MaxResults=1)
    assert len(p1["Members"]) == 1 and p1["NextToken"]
    p2 = gd.list_members(DetectorId=det, MaxResults=1, NextToken=p1["NextToken"])
    assert {p1["Members"][0]["AccountId"], p2["Members"][0]["AccountId"]} == {MEMBER, "333333333333"}
    gd.disassociate_members(DetectorId=det, AccountIds=["333333333333"])
    assert [m["AccountId"] for m in gd.list_members(DetectorId=det)["Members"]] == [MEMBER]
    all_ = gd.list_members(DetectorId=det, OnlyAssociated="false")["Members"]
    assert {m["AccountId"]: m["RelationshipStatus"] for m in all_} == {MEMBER: "Enabled", "333333333333": "Removed"}
    got = gd.get_members(DetectorId=det, AccountIds=[MEMBER, STANDALONE])
    assert [m["AccountId"] for m in got["Members"]] == [MEMBER]
    assert got["UnprocessedAccounts"][0]["AccountId"] == STANDALONE
    # AccountIds takes 1 to 50 accounts (API_GetMembers).
    many = [f"{n:012d}" for n in range(1, 52)]
    assert len(gd.get_members(DetectorId=det, AccountIds=many[:50])["UnprocessedAccounts"]) == 50
    unchecked = emu.client("guardduty", config=NO_RETRY.merge(Config(parameter_validation=False)))
    for wrong in ([], many):
        with pytest.raises(ClientError) as e:
            unchecked.get_members(DetectorId=det, AccountIds=wrong)
        assert code(e) == "BadRequestException" and "1 to 50 accounts" in str(e.value)
    assert gd.describe_organization_configuration(DetectorId=det)["AutoEnable"] is True
    s_gd = emu.client("guardduty", account=STANDALONE)
    assert "Administrator" not in s_gd.get_administrator_account(DetectorId=emu.detector(STANDALONE))
    with pytest.raises(ClientError):
        s_gd.describe_organization_configuration(DetectorId=emu.detector(STANDALONE))


def test_filter_ranks_are_positions_without_gaps(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    crit = {"Criterion": {"severity": {"Gte": 4}}}

    def ranks():
        names = gd.list_filters(DetectorId=det)["FilterNames"]
        got = {n: gd.get_filter(DetectorId=det, FilterName=n)["Rank"] for n in names}
        return [n for n, _ in sorted(got.items(), key=lambda kv: kv[1])], sorted(got.values())

    # An empty detector takes rank 1 only: rank 3 is out of bounds.
    with pytest.raises(ClientError) as e:
        gd.create_filter(DetectorId=det, Name="far", Action="ARCHIVE", Rank=3, FindingCriteria=crit)
    assert code(e) == "BadRequestException" and "rank is out-of-bounds" in str(e.value)
    for name, rank in [("f-a", 1), ("f-b", 2), ("f-c", 3)]:
        gd.create_filter(DetectorId=det, Name=name, Action="ARCHIVE", Rank=rank, FindingCriteria=crit)
    # Inserting at 2 shifts b and c down.
    gd.create_filter(DetectorId=det, Name="f-x", Action="ARCHIVE", Rank=2, FindingCriteria=crit)
    assert ranks() == (["f-a", "f-x", "f-b", "f-c"], [1, 2, 3, 4])
    # Deleting closes the gap.
    gd.delete_filter(DetectorId=det, FilterName="f-a")
    assert ranks() == (["f-x", "f-b", "f-c"], [1, 2, 3])
    # An update with a rank moves the filter there; past the end is refused.
    gd.update_filter(DetectorId=det, FilterName="f-x", Rank=3)
    assert ranks() == (["f-b", "f-c", "f-x"], [1, 2, 3])
    with pytest.raises(ClientError) as e:
        gd.update_filter(DetectorId=det, FilterName="f-x", Rank=4)
    assert "rank is out-of-bounds" in str(e.value)


def test_threat_entity_lists_are_listed_and_take_threat_list_slots(emu):
    gd, det, loc = emu.client("guardduty"), emu.detector(ADMIN), put_list(emu)
    ids = emu.ctl("POST", "threat_entity_sets",
                  {"account": ADMIN, "region": "us-east-1", "names": [f"e{i}" for i in range(5)]})["ids"]
    assert sorted(gd.list_threat_entity_sets(DetectorId=det)["ThreatEntitySetIds"]) == sorted(ids)
    create(gd, det, "one", loc)
    with pytest.raises(ClientError) as e:
        create(gd, det, "two", loc)
    assert code(e) == "BadRequestException" and "limit of 6" in str(e.value)



def test_six_threat_list_slots_freed_by_delete_and_shared_with_entity_lists(emu):
    gd, det, loc = emu.client("guardduty"), emu.detector(ADMIN), put_list(emu)
    ids = [create(gd, det, f"list-{i}", loc, activate=False) for i in range(6)]
    with pytest.raises(ClientError) as e:
        create(gd, det, "list-6", loc, activate=False)
    assert code(e) == "BadRequestException" and "limit of 6" in str(e.value)
    assert len(gd.list_threat_intel_sets(DetectorId=det)["ThreatIntelSetIds"]) == 6
    # a deleted set gives its slot back at once
    gd.delete_threat_intel_set(DetectorId=det, ThreatIntelSetId=ids[0])
    seventh = create(gd, det, "list-6", loc, activate=False)
    assert sorted(gd.list_threat_intel_sets(DetectorId=det)["ThreatIntelSetIds"]) == sorted(ids[1:] + [seventh])
    # five sets and one seeded threat entity list leave no slot
    gd.delete_threat_intel_set(DetectorId=det, ThreatIntelSetId=seventh)
    [eid] = emu.ctl("POST", "threat_entity_sets",
                    {"account": ADMIN, "region": "us-east-1", "names": ["entities"]})["ids"]
    with pytest.raises(ClientError) as e:
        create(gd, det, "list-7", loc, activate=False)
    assert "limit of 6" in str(e.value)
    view = emu.ctl("GET", "guardduty", account=ADMIN, region="us-east-1")
    assert len(view["threat_intel_sets"]) == 5
    assert view["threat_entity_sets"] == [{"id": eid, "name": "entities"}]
    # the limit is per detector: the other region has all six
    eu = emu.client("guardduty", region="eu-west-1")
    create(eu, emu.detector(ADMIN, "eu-west-1"), "list-0", loc, activate=False)

"""GuardDuty findings: ListFindings criteria and paging, GetFindings, seeding, control API,
auto-archive by ARCHIVE filters, call log and faults."""

import time

import pytest
import requests
from botocore.exceptions import ClientError

ADMIN, MEMBER, MEMBER2, STANDALONE = "111111111111", "222222222222", "333333333333", "444444444444"
ACTIVE = {"service.archived": {"Equals": ["false"]}}


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def add(emu, findings, account=ADMIN, region="us-east-1") -> list:
    return emu.ctl("POST", "findings", {"account": account, "region": region,
                                        "findings": findings})["findingIds"]


def list_all(gd, det, criterion=None, page_size=None) -> tuple[list, int]:
    ids, token, pages = [], None, 0
    while True:
        kw = {}
        if criterion is not None:
            kw["FindingCriteria"] = {"Criterion": criterion}
        if page_size:
            kw["MaxResults"] = page_size
        if token:
            kw["NextToken"] = token
        page = gd.list_findings(DetectorId=det, **kw)
        ids += page["FindingIds"]
        pages += 1
        token = page.get("NextToken")
        if not token:
            return ids, pages


def count(gd, det, criterion=None) -> int:
    return len(list_all(gd, det, criterion)[0])


def test_paging_over_120_findings(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    added = add(emu, [{"type": "Recon:EC2/Portscan", "count": 120}])
    assert len(set(added)) == 120
    first = gd.list_findings(DetectorId=det)
    assert len(first["FindingIds"]) == 50 and first["NextToken"]  # default maxResults 50
    ids, pages = list_all(gd, det)
    assert ids == added and pages == 3
    ids, pages = list_all(gd, det, page_size=7)
    assert ids == added and pages == 18
    with pytest.raises(ClientError) as e:
        gd.list_findings(DetectorId=det, MaxResults=51)
    assert code(e) == "BadRequestException"
    # the other region's detector has none
    assert emu.client("guardduty", region="eu-west-1").list_findings(
        DetectorId=emu.detector(ADMIN, "eu-west-1"))["FindingIds"] == []


@pytest.fixture
def mixed(emu):
    """Six findings in the administrator's us-east-1 detector; returns name -> id."""
    spec = {
        "scan": {"type": "Recon:EC2/Portscan", "severity": 5.0, "remote_ip": "198.51.100.7",
                 "instance_id": "i-0aaa", "updated_at": "2024-01-10T00:00:00.000Z"},
        "ssh": {"type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": 8.0,
                "remote_ip": "203.0.113.50", "instance_id": "i-0bbb",
                "updated_at": "2024-02-10T00:00:00.000Z"},
        "probe": {"type": "Recon:EC2/PortProbeUnprotectedPort", "severity": 2.0,
                  "remote_ip": "198.51.100.99", "instance_id": "x-1",
                  "updated_at": "2024-03-10T00:00:00.000Z"},
        "tor": {"type": "UnauthorizedAccess:EC2/TorClient", "severity": 7.0, "account": MEMBER,
                "remote_ip": "192.0.2.1", "updated_at": "2024-04-10T00:00:00.000Z"},
        "old": {"type": "Recon:EC2/Portscan", "severity": 5.0, "archived": True,
                "remote_ip": "198.51.100.7", "updated_at": "2023-12-01T00:00:00.000Z"},
        "crypto": {"type": "CryptoCurrency:EC2/BitcoinTool.B!DNS", "severity": 7.5,
                   "action_type": "DNS_REQUEST", "updated_at": "2024-05-10T00:00:00.000Z"},
    }
    names = list(spec)
    ids = add(emu, [spec[n] for n in names])
    return dict(zip(names, ids))


def names_of(mixed, ids) -> set:
    back = {v: k for k, v in mixed.items()}
    return {back[i] for i in ids}


def q(emu, mixed, criterion) -> set:
    gd = emu.client("guardduty")
    return names_of(mixed, list_all(gd, emu.detector(ADMIN), criterion)[0])


def test_each_operator(emu, mixed):
    assert q(emu, mixed, {}) == set(mixed)
    assert q(emu, mixed, {"type": {"Equals": ["Recon:EC2/Portscan"]}}) == {"scan", "old"}
    assert q(emu, mixed, {"type": {"Equals": ["Recon:EC2/Portscan", "UnauthorizedAccess:EC2/TorClient"]}}) \
        == {"scan", "old", "tor"}
    assert q(emu, mixed, {"type": {"NotEquals": ["Recon:EC2/Portscan", "Recon:EC2/PortProbeUnprotectedPort"]}}) \
        == {"ssh", "tor", "crypto"}
    assert q(emu, mixed, {"accountId": {"Equals": [MEMBER]}}) == {"tor"}
    # numeric severity comparisons (severity is a double; the bounds are integers)
    assert q(emu, mixed, {"severity": {"GreaterThanOrEqual": 7}}) == {"ssh", "tor", "crypto"}
    assert q(emu, mixed, {"severity": {"GreaterThan": 7}}) == {"ssh", "crypto"}
    assert q(emu, mixed, {"severity": {"LessThan": 5}}) == {"probe"}
    assert q(emu, mixed, {"severity": {"LessThanOrEqual": 5}}) == {"probe", "scan", "old"}
    assert q(emu, mixed, {"severity": {"GreaterThanOrEqual": 4, "LessThan": 7}}) == {"scan", "old"}
    # equals on a number compares numerically: "8" equals 8.0
    assert q(emu, mixed, {"severity": {"Equals": ["8"]}}) == {"ssh"}
    assert q(emu, mixed, {"severity": {"Equals": ["7.5", "2.0"]}}) == {"crypto", "probe"}
    # updatedAt compares as epoch milliseconds
    feb = 1707523200000  # 2024-02-10T00:00:00Z
    assert q(emu, mixed, {"updatedAt": {"GreaterThanOrEqual": feb}}) == {"ssh", "probe", "tor", "crypto"}
    assert q(emu, mixed, {"updatedAt": {"LessThan": feb}}) == {"scan", "old"}
    assert q(emu, mixed, {"updatedAt": {"Equals": [str(feb)]}}) == {"ssh"}
    # wildcards: * any run, ? one character, whole string
    assert q(emu, mixed, {"type": {"Matches": ["Recon:*"]}}) == {"scan", "probe", "old"}
    assert q(emu, mixed, {"type": {"Matches": ["*Port*", "*TorClient"]}}) == {"scan", "probe", "old", "tor"}
    assert q(emu, mixed, {"resource.instanceDetails.instanceId": {"Matches": ["i-0???"]}}) == {"scan", "ssh"}
    assert q(emu, mixed, {"resource.instanceDetails.instanceId": {"Matches": ["i-0??"]}}) == set()
    assert q(emu, mixed, {"type": {"NotMatches": ["Recon:*", "*!DNS"]}}) == {"ssh", "tor"}
    assert q(emu, mixed, {"type": {"Matches": ["recon:*"]}}) == set()  # case-sensitive
    path = "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4"
    assert q(emu, mixed, {path: {"Matches": ["198.51.100.*"]}}) == {"scan", "probe", "old"}
    assert q(emu, mixed, {"service.action.actionType": {"Equals": ["DNS_REQUEST"]}}) == {"crypto"}
    # criteria AND together
    assert q(emu, mixed, {"type": {"Equals": ["Recon:EC2/Portscan"]}, path: {"Equals": ["198.51.100.7"]},
                          **ACTIVE}) == {"scan"}


def test_service_archived(emu, mixed):
    assert q(emu, mixed, {"service.archived": {"Equals": ["true"]}}) == {"old"}
    assert q(emu, mixed, ACTIVE) == set(mixed) - {"old"}
    assert q(emu, mixed, {"service.archived": {"NotEquals": ["true"]}}) == set(mixed) - {"old"}


def test_deprecated_operators_accepted(emu, mixed):
    assert q(emu, mixed, {"type": {"Eq": ["Recon:EC2/Portscan"]}}) == {"scan", "old"}
    assert q(emu, mixed, {"type": {"Neq": ["Recon:EC2/Portscan"]}}) == {"ssh", "probe", "tor", "crypto"}
    assert q(emu, mixed, {"severity": {"Gte": 7}}) == {"ssh", "tor", "crypto"}
    assert q(emu, mixed, {"severity": {"Gt": 7, "Lte": 8}}) == {"ssh", "crypto"}
    assert q(emu, mixed, {"severity": {"Lt": 3}}) == {"probe"}


def test_invalid_criteria_are_bad_requests(emu, mixed):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    with pytest.raises(ClientError) as e:
        gd.list_findings(DetectorId=det, FindingCriteria={"Criterion": {"serverity": {"Gte": 7}}})
    assert code(e) == "BadRequestException"
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "BadRequestException"
    with pytest.raises(ClientError) as e:
        gd.list_findings(DetectorId=det, FindingCriteria={"Criterion": {"type": {
            "Matches": ["a*", "b*", "c*", "d*", "e*", "f*"]}}})
    assert code(e) == "BadRequestException"
    with pytest.raises(ClientError):
        gd.list_findings(DetectorId=det, FindingCriteria={"Criterion": {"type": {}}})


def test_nested_list_matching(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    ids = add(emu, [
        {"type": "Recon:EC2/Portscan", "tags": {"team": "scanner", "env": "prod"}},
        {"type": "Recon:EC2/Portscan", "tags": {"team": "web"},
         "resource": {"instanceDetails": {"networkInterfaces": [
             {"privateIpAddresses": [{"privateIpAddress": "10.0.0.5"}, {"privateIpAddress": "10.0.1.9"}],
              "securityGroups": [{"groupId": "sg-1", "groupName": "web"}],
              "ipv6Addresses": ["2001:db8::1"]},
             {"privateIpAddresses": [{"privateIpAddress": "10.0.2.7"}], "securityGroups": []},
         ]}}},
        {"type": "Recon:EC2/Portscan"},
    ])
    scanner, web, bare = ids

    def ids_for(criterion):
        return set(list_all(gd, det, criterion)[0])

    assert ids_for({"resource.instanceDetails.tags.key": {"Equals": ["env"]}}) == {scanner}
    assert ids_for({"resource.instanceDetails.tags.value": {"Equals": ["web", "prod"]}}) == {scanner, web}
    assert ids_for({"resource.instanceDetails.tags.key": {"Equals": ["team"]},
                    "resource.instanceDetails.tags.value": {"Matches": ["scan*"]}}) == {scanner}
    pip = "resource.instanceDetails.networkInterfaces.privateIpAddresses.privateIpAddress"
    assert ids_for({pip: {"Equals": ["10.0.2.7"]}}) == {web}
    assert ids_for({pip: {"Matches": ["10.0.1.*"]}}) == {web}
    assert ids_for({"resource.instanceDetails.networkInterfaces.securityGroups.groupId": {"Equals": ["sg-1"]}}) == {web}
    assert ids_for({"resource.instanceDetails.networkInterfaces.ipv6Addresses": {"Equals": ["2001:db8::1"]}}) == {web}
    # negative operators hold when no element matches (also when the attribute is missing)
    assert ids_for({pip: {"NotEquals": ["10.0.0.5"]}}) == {scanner, bare}
    assert ids_for({"resource.instanceDetails.tags.key": {"NotMatches": ["te*"]}}) == {bare}


def test_get_findings_round_trip(emu, mixed):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    got = gd.get_findings(DetectorId=det, FindingIds=[mixed["tor"], "nope", mixed["scan"]])["Findings"]
    assert [f["Id"] for f in got] == [mixed["tor"], mixed["scan"]]
    tor, scan = got
    assert tor["AccountId"] == MEMBER and tor["Region"] == "us-east-1" and tor["Severity"] == 7.0
    assert tor["Type"] == "UnauthorizedAccess:EC2/TorClient"
    assert tor["Arn"].startswith(f"arn:aws:guardduty:us-east-1:{MEMBER}:detector/")
    assert tor["Arn"].endswith(f"/finding/{mixed['tor']}")
    assert scan["Resource"]["ResourceType"] == "Instance"
    assert scan["Resource"]["InstanceDetails"]["InstanceId"] == "i-0aaa"
    assert scan["Service"]["Archived"] is False and scan["Service"]["Count"] == 1
    assert scan["Service"]["Action"]["ActionType"] == "NETWORK_CONNECTION"
    assert scan["Service"]["Action"]["NetworkConnectionAction"]["RemoteIpDetails"]["IpAddressV4"] == "198.51.100.7"
    assert scan["UpdatedAt"] == "2024-01-10T00:00:00.000Z" and scan["CreatedAt"]
    assert scan["SchemaVersion"] == "2.0" and scan["Title"] and scan["Description"]
    # raw wire: camelCase, and what ListFindings found GetFindings returns
    ids = gd.list_findings(DetectorId=det, FindingCriteria={"Criterion": ACTIVE})["FindingIds"]
    assert {f["Id"] for f in gd.get_findings(DetectorId=det, FindingIds=ids)["Findings"]} == set(ids)
    raw = emu.ctl("GET", "findings", account=ADMIN, region="us-east-1")["findings"]
    assert raw[0]["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"] == "198.51.100.7"
    assert gd.get_findings(DetectorId=det, FindingIds=[])["Findings"] == []
    with pytest.raises(ClientError) as e:
        gd.get_findings(DetectorId=det, FindingIds=[f"id-{i}" for i in range(51)])
    assert code(e) == "BadRequestException"


def test_control_endpoint(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    ids = add(emu, [{"type": "Recon:EC2/Portscan", "count": 2, "id": None},
                    {"type": "Policy:IAMUser/RootCredentialUsage", "id": "fixed-id-1", "severity": 2,
                     "resource": {"resourceType": "AccessKey",
                                  "accessKeyDetails": {"userName": "root", "userType": "Root"}}}])
    assert len(ids) == 3 and ids[2] == "fixed-id-1"
    f = gd.get_findings(DetectorId=det, FindingIds=["fixed-id-1"])["Findings"][0]
    assert f["Resource"]["ResourceType"] == "AccessKey" and f["Resource"]["AccessKeyDetails"]["UserName"] == "root"
    assert f["Severity"] == 2.0
    assert count(gd, det, {"resource.accessKeyDetails.userType": {"Equals": ["Root"]}}) == 1
    # bad requests (a bad batch adds nothing): no detector, unknown key, duplicate ids, no type,
    # missing account/region
    for body in ({"account": "555555555555", "region": "us-east-1", "findings": [{"type": "X"}]},
                 {"account": ADMIN, "region": "us-east-1", "findings": [{"type": "X", "colour": "red"}]},
                 {"account": ADMIN, "region": "us-east-1", "findings": [{"type": "X", "id": "fixed-id-1"}]},
                 {"account": ADMIN, "region": "us-east-1", "findings": [{"type": "X"}, {"type": "Y", "id": "d"},
                                                                         {"type": "Z", "id": "d"}]},
                 {"account": ADMIN, "region": "us-east-1", "findings": [{"severity": 5}]},
                 {"region": "us-east-1", "findings": []}):
        r = requests.post(f"{emu.url}/_guardsync/findings", json=body, timeout=10)
        assert r.status_code == 400 and r.json()["error"], body
    assert count(gd, det) == 3
    # DELETE one detector, then all
    add(emu, [{"type": "X"}], account=STANDALONE)
    assert emu.ctl("DELETE", "findings", account=ADMIN, region="us-east-1")["removed"] == 3
    assert count(gd, det) == 0
    s_gd = emu.client("guardduty", account=STANDALONE)
    assert count(s_gd, emu.detector(STANDALONE)) == 1
    emu.ctl("DELETE", "findings")
    assert count(s_gd, emu.detector(STANDALONE)) == 0
    # reset clears findings too
    add(emu, [{"type": "X"}])
    emu.seed("basic.yaml")
    assert count(emu.client("guardduty"), emu.detector(ADMIN)) == 0


def test_member_findings_reach_administrator(emu):
    a_gd, a_det = emu.client("guardduty"), emu.detector(ADMIN)
    m_gd, m_det = emu.client("guardduty", account=MEMBER), emu.detector(MEMBER)
    [mid] = add(emu, [{"type": "Recon:EC2/Portscan"}], account=MEMBER)
    # the member (associated) lists its own findings; the administrator sees it too
    assert m_gd.list_findings(DetectorId=m_det)["FindingIds"] == [mid]
    assert a_gd.list_findings(DetectorId=a_det)["FindingIds"] == [mid]
    f = a_gd.get_findings(DetectorId=a_det, FindingIds=[mid])["Findings"][0]
    assert f["AccountId"] == MEMBER and f["Service"]["DetectorId"] == m_det
    # a finding of another account added to the admin's detector stays there
    add(emu, [{"type": "X", "account": MEMBER}])
    assert len(m_gd.list_findings(DetectorId=m_det)["FindingIds"]) == 1
    # a standalone account's findings stay in its own detector
    add(emu, [{"type": "X"}], account=STANDALONE)
    assert count(a_gd, a_det) == 2
    # per region: the member is associated in eu-west-1 too, so that finding reaches only the eu-west-1 administrator detector
    add(emu, [{"type": "X"}], account=MEMBER, region="eu-west-1")
    assert count(a_gd, a_det) == 2
    assert count(emu.client("guardduty", region="eu-west-1"), emu.detector(ADMIN, "eu-west-1")) == 1


def test_archive_filter_archives_new_findings_only(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    portscan = {"type": "Recon:EC2/Portscan", "severity": 5.0, "remote_ip": "198.51.100.7"}
    before = add(emu, [dict(portscan, count=2)])
    gd.create_filter(DetectorId=det, Name="internal-scanner", Action="ARCHIVE", Rank=1,
                     FindingCriteria={"Criterion": {"type": {"Equals": ["Recon:EC2/Portscan"]}}})
    gd.create_filter(DetectorId=det, Name="noop-all", Action="NOOP", Rank=2,
                     FindingCriteria={"Criterion": {"severity": {"Gte": 0}}})
    # existing findings are not changed by creating the filter
    crit = {"type": {"Equals": ["Recon:EC2/Portscan"]}, **ACTIVE}
    assert sorted(list_all(gd, det, crit)[0]) == sorted(before)
    after = add(emu, [portscan, {"type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": 8.0}])
    got = {f["Id"]: f["Service"]["Archived"]
           for f in gd.get_findings(DetectorId=det, FindingIds=before + after)["Findings"]}
    assert got == {before[0]: False, before[1]: False, after[0]: True, after[1]: False}
    # a member's new finding is archived by the administrator's filter (and shared)
    [mid] = add(emu, [portscan], account=MEMBER)
    m_gd = emu.client("guardduty", account=MEMBER)
    assert m_gd.get_findings(DetectorId=emu.detector(MEMBER), FindingIds=[mid])["Findings"][0]["Service"]["Archived"] is True
    # updated filter criteria apply to later findings; a deleted filter no longer archives
    gd.update_filter(DetectorId=det, FilterName="internal-scanner",
                     FindingCriteria={"Criterion": {"severity": {"GreaterThanOrEqual": 8}}})
    ssh, scan = add(emu, [{"type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": 8.0}, portscan])
    got = {f["Id"]: f["Service"]["Archived"] for f in gd.get_findings(DetectorId=det, FindingIds=[ssh, scan])["Findings"]}
    assert got == {ssh: True, scan: False}
    gd.delete_filter(DetectorId=det, FilterName="internal-scanner")
    [ssh2] = add(emu, [{"type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": 8.0}])
    assert gd.get_findings(DetectorId=det, FindingIds=[ssh2])["Findings"][0]["Service"]["Archived"] is False


def test_seeded_findings_are_auto_archived_too(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    gd.create_filter(DetectorId=det, Name="scanner", Action="ARCHIVE",
                     FindingCriteria={"Criterion": {"type": {"Matches": ["Recon:*"]}}})
    # /seed builds on top of the current state (no reset): the filter is there
    summary = emu.ctl("POST", "seed", {"findings": {ADMIN: {"us-east-1": [
        {"type": "Recon:EC2/Portscan", "count": 2}, {"type": "Backdoor:EC2/C&CActivity.B"}]}}})
    assert summary["findings"] == {ADMIN: {"us-east-1": 3}}
    assert count(gd, det, ACTIVE) == 1
    assert count(gd, det, {"service.archived": {"Equals": ["true"]}}) == 2


def test_demo_scenario_findings(emu):
    summary = emu.seed("demo.yaml")
    assert summary["findings"] == {MEMBER: {"us-east-1": 4}, MEMBER2: {"us-east-1": 2}}
    assert emu.calls() == []  # seeding never goes through HTTP
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    rule = {"type": {"Equals": ["Recon:EC2/Portscan"]}}
    assert count(gd, det) == 6
    assert count(gd, det, {**rule, **ACTIVE}) == 3  # what internal-scanner would archive
    assert count(gd, det, {**rule, "service.archived": {"Equals": ["true"]}}) == 1
    assert count(gd, det, {"severity": {"GreaterThanOrEqual": 7}}) == 1
    assert count(gd, det, {"severity": {"LessThan": 4}}) == 1
    ids = list_all(gd, det, {**rule, **ACTIVE})[0]
    found = gd.get_findings(DetectorId=det, FindingIds=ids)["Findings"]
    assert {f["AccountId"] for f in found} == {MEMBER}
    assert {f["Service"]["Action"]["NetworkConnectionAction"]["RemoteIpDetails"]["IpAddressV4"]
            for f in found} == {"198.51.100.7"}
    # the members see their own; other regions and accounts have none
    assert count(emu.client("guardduty", account=MEMBER), emu.detector(MEMBER)) == 4
    assert count(emu.client("guardduty", account=MEMBER2), emu.detector(MEMBER2)) == 2
    assert count(emu.client("guardduty", region="eu-west-1"), emu.detector(ADMIN, "eu-west-1")) == 0


def test_call_log_and_faults(emu, mixed):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    emu.ctl("DELETE", "calls")
    ids = gd.list_findings(DetectorId=det)["FindingIds"]
    gd.get_findings(DetectorId=det, FindingIds=ids)
    calls = [(c["service"], c["operation"], c["mutating"], c["status"]) for c in emu.calls()]
    assert calls == [("guardduty", "ListFindings", False, 200), ("guardduty", "GetFindings", False, 200)]
    emu.ctl("POST", "faults", {"rules": [{"service": "guardduty", "operation": "ListFindings",
                                          "throttle_count": 1}]})
    with pytest.raises(ClientError) as e:
        gd.list_findings(DetectorId=det)
    assert code(e) == "TooManyRequestsException"
    assert len(gd.list_findings(DetectorId=det)["FindingIds"]) == 6
    assert emu.calls()[-2]["status"] == 429
    # control calls are never logged
    n = len(emu.calls())
    add(emu, [{"type": "X"}])
    emu.ctl("GET", "findings", account=ADMIN, region="us-east-1")
    time.sleep(0.05)
    assert len(emu.calls()) == n


def archived_flags(gd, det, ids) -> dict:
    return {f["Id"]: f["Service"]["Archived"] for f in gd.get_findings(DetectorId=det, FindingIds=ids)["Findings"]}


def test_administrator_archives_and_unarchives_a_members_finding(emu):
    a_gd, a_det = emu.client("guardduty"), emu.detector(ADMIN)
    m_gd, m_det = emu.client("guardduty", account=MEMBER), emu.detector(MEMBER)
    old = "2024-01-10T00:00:00.000Z"
    mid, other = add(emu, [{"type": "Recon:EC2/Portscan", "updated_at": old},
                           {"type": "Recon:EC2/Portscan", "updated_at": old}], account=MEMBER)
    assert a_gd.archive_findings(DetectorId=a_det, FindingIds=[mid]) is not None
    # the administrator and the member see the same finding archived; updatedAt moved on
    assert archived_flags(a_gd, a_det, [mid, other]) == {mid: True, other: False}
    assert archived_flags(m_gd, m_det, [mid, other]) == {mid: True, other: False}
    got = m_gd.get_findings(DetectorId=m_det, FindingIds=[mid])["Findings"][0]
    assert got["UpdatedAt"] != old
    assert m_gd.get_findings(DetectorId=m_det, FindingIds=[other])["Findings"][0]["UpdatedAt"] == old
    # ListFindings honours service.archived on both sides
    for gd, det in ((a_gd, a_det), (m_gd, m_det)):
        assert list_all(gd, det, ACTIVE)[0] == [other]
        assert list_all(gd, det, {"service.archived": {"Equals": ["true"]}})[0] == [mid]
    # the control API reads the flags back
    raw = emu.ctl("GET", "findings", account=MEMBER, region="us-east-1")["findings"]
    assert {f["id"]: f["service"]["archived"] for f in raw} == {mid: True, other: False}
    assert [f["id"] for f in emu.ctl("GET", "findings", account=ADMIN, region="us-east-1",
                                     archived="true")["findings"]] == [mid]
    assert [f["id"] for f in emu.ctl("GET", "findings", account=ADMIN, region="us-east-1",
                                     archived="false")["findings"]] == [other]
    r = requests.get(f"{emu.url}/_guardsync/findings",
                     params={"account": ADMIN, "region": "us-east-1", "archived": "yes"}, timeout=10)
    assert r.status_code == 400
    # archiving again changes nothing; unarchiving brings it back
    stamp = got["UpdatedAt"]
    a_gd.archive_findings(DetectorId=a_det, FindingIds=[mid])
    assert m_gd.get_findings(DetectorId=m_det, FindingIds=[mid])["Findings"][0]["UpdatedAt"] == stamp
    a_gd.unarchive_findings(DetectorId=a_det, FindingIds=[mid])
    assert archived_flags(m_gd, m_det, [mid, other]) == {mid: False, other: False}
    assert sorted(list_all(a_gd, a_det, ACTIVE)[0]) == sorted([mid, other])
    # an empty list is a valid no-op
    a_gd.archive_findings(DetectorId=a_det, FindingIds=[])


def test_a_member_cannot_archive_or_unarchive(emu):
    a_gd, a_det = emu.client("guardduty"), emu.detector(ADMIN)
    m_gd, m_det = emu.client("guardduty", account=MEMBER), emu.detector(MEMBER)
    [mid] = add(emu, [{"type": "Recon:EC2/Portscan"}], account=MEMBER)
    [done] = add(emu, [{"type": "Recon:EC2/Portscan", "archived": True}], account=MEMBER)
    for call in (lambda: m_gd.archive_findings(DetectorId=m_det, FindingIds=[mid]),
                 lambda: m_gd.unarchive_findings(DetectorId=m_det, FindingIds=[done])):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "BadRequestException" and "member accounts" in str(e.value)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert archived_flags(a_gd, a_det, [mid, done]) == {mid: False, done: True}
    # once disassociated it is on its own and archives its own findings
    a_gd.disassociate_members(DetectorId=a_det, AccountIds=[MEMBER])
    m_gd.archive_findings(DetectorId=m_det, FindingIds=[mid])
    assert archived_flags(m_gd, m_det, [mid]) == {mid: True}


def test_a_standalone_account_archives_its_own_findings(emu):
    s_gd, s_det = emu.client("guardduty", account=STANDALONE), emu.detector(STANDALONE)
    ids = add(emu, [{"type": "Recon:EC2/Portscan", "count": 3}], account=STANDALONE)
    s_gd.archive_findings(DetectorId=s_det, FindingIds=ids[:2])
    assert archived_flags(s_gd, s_det, ids) == {ids[0]: True, ids[1]: True, ids[2]: False}
    assert list_all(s_gd, s_det, ACTIVE)[0] == [ids[2]]
    # the administrator does not hold a standalone account's findings
    a_gd, a_det = emu.client("guardduty"), emu.detector(ADMIN)
    with pytest.raises(ClientError) as e:
        a_gd.archive_findings(DetectorId=a_det, FindingIds=[ids[2]])
    assert code(e) == "BadRequestException" and ids[2] in str(e.value)


def test_archive_limits_and_unknown_ids(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    ids = add(emu, [{"type": "Recon:EC2/Portscan", "count": 51}])
    with pytest.raises(ClientError) as e:
        gd.archive_findings(DetectorId=det, FindingIds=ids)
    assert code(e) == "BadRequestException" and "at most 50" in str(e.value)
    with pytest.raises(ClientError) as e:
        gd.unarchive_findings(DetectorId=det, FindingIds=ids)
    assert code(e) == "BadRequestException"
    # one unknown id refuses the whole call, naming it; nothing is archived
    with pytest.raises(ClientError) as e:
        gd.archive_findings(DetectorId=det, FindingIds=ids[:3] + ["0123456789abcdef0123456789abcdef"])
    assert code(e) == "BadRequestException" and "0123456789abcdef0123456789abcdef" in str(e.value)
    assert count(gd, det, ACTIVE) == 51
    gd.archive_findings(DetectorId=det, FindingIds=ids[:50])
    assert list_all(gd, det, ACTIVE)[0] == [ids[50]]
    assert count(gd, det, {"service.archived": {"Equals": ["true"]}}) == 50


def test_archive_calls_in_the_call_log(emu):
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    [fid] = add(emu, [{"type": "X"}])
    emu.ctl("DELETE", "calls")
    gd.archive_findings(DetectorId=det, FindingIds=[fid])
    gd.unarchive_findings(DetectorId=det, FindingIds=[fid])
    calls = [(c["service"], c["operation"], c["mutating"], c["status"]) for c in emu.calls()]
    assert calls == [("guardduty", "ArchiveFindings", True, 200),
                     ("guardduty", "UnarchiveFindings", True, 200)]

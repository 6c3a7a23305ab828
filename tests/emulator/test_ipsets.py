"""IPSets (trusted IP lists) and the list limits that end an activation in ERROR
(entries per list, file size), for IPSets and ThreatIntelSets."""

import pytest
from botocore.exceptions import ClientError

from conftest import put_list

ADMIN, MEMBER, STANDALONE = "111111111111", "222222222222", "444444444444"
BUCKET = "org-threat-lists-111111111111"


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def create_ip(gd, det, name, loc, activate=True, **kw) -> str:
    return gd.create_ip_set(DetectorId=det, Name=name, Format="TXT", Location=loc,
                            Activate=activate, **kw)["IpSetId"]


def create_tis(gd, det, name, loc, activate=True, **kw) -> str:
    return gd.create_threat_intel_set(DetectorId=det, Name=name, Format="TXT", Location=loc,
                                      Activate=activate, **kw)["ThreatIntelSetId"]


def addresses(n: int, start: int = 11 << 24) -> bytes:
    """n distinct IPv4 /32s, every other address (no two aggregate into a CIDR)."""
    out = []
    for i in range(n):
        a = start + 2 * i
        out.append(f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}")
    return ("\n".join(out) + "\n").encode()


def test_ip_set_lifecycle_and_one_per_detector(emu):
    emu.ctl("POST", "config", {"activation_delay_ms": 60 * 60 * 1000})
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    loc = put_list(emu, "trusted/a.txt", b"192.0.2.10\n")
    loc2 = put_list(emu, "trusted/b.txt", b"192.0.2.11\n")
    sid = create_ip(gd, det, "office ranges", loc, Tags={"managed-by": "guardsync"},
                    ExpectedBucketOwner=ADMIN)
    got = gd.get_ip_set(DetectorId=det, IpSetId=sid)
    assert (got["Name"], got["Format"], got["Location"], got["Status"]) == \
        ("office ranges", "TXT", loc, "ACTIVATING")
    assert got["Tags"] == {"managed-by": "guardsync"} and got["ExpectedBucketOwner"] == ADMIN
    assert gd.list_ip_sets(DetectorId=det)["IpSetIds"] == [sid]
    # busy while ACTIVATING: no update, no delete
    for call in (lambda: gd.update_ip_set(DetectorId=det, IpSetId=sid, Activate=True),
                 lambda: gd.delete_ip_set(DetectorId=det, IpSetId=sid)):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "BadRequestException" and "IPSet is in ACTIVATING" in str(e.value)
    assert emu.ctl("POST", "activations/finish") == {"finished": 1}
    assert gd.get_ip_set(DetectorId=det, IpSetId=sid)["Status"] == "ACTIVE"
    # one IPSet per account per Region, whatever its status
    with pytest.raises(ClientError) as e:
        create_ip(gd, det, "second", loc, activate=False)
    assert code(e) == "BadRequestException" and "limit of 1" in str(e.value)
    # update: rename, move, re-activate; then deactivate
    gd.update_ip_set(DetectorId=det, IpSetId=sid, Name="office-v2", Location=loc2, Activate=True)
    got = gd.get_ip_set(DetectorId=det, IpSetId=sid)
    assert (got["Name"], got["Location"], got["Status"]) == ("office-v2", loc2, "ACTIVATING")
    emu.ctl("POST", "activations/finish")
    assert gd.get_ip_set(DetectorId=det, IpSetId=sid)["Status"] == "ACTIVE"
    gd.update_ip_set(DetectorId=det, IpSetId=sid, Activate=False)
    assert gd.get_ip_set(DetectorId=det, IpSetId=sid)["Status"] == "DEACTIVATING"
    emu.ctl("POST", "activations/finish")
    assert gd.get_ip_set(DetectorId=det, IpSetId=sid)["Status"] == "INACTIVE"
    view = emu.ctl("GET", "guardduty", account=ADMIN, region="us-east-1")
    assert [(s["id"], s["name"], s["status"]) for s in view["ip_sets"]] == [(sid, "office-v2", "INACTIVE")]
    assert view["threat_intel_sets"] == []
    # validation: bad format, bad name, bad location, unknown id, wrong bucket owner
    for kw in ({"Format": "CSV"}, {"Name": "dots.are.not.allowed"}, {"Location": "ftp://x/y"}):
        args = {"DetectorId": det, "Name": "n", "Format": "TXT", "Location": loc,
                "Activate": False, **kw}
        with pytest.raises(ClientError) as e:
            gd.create_ip_set(**args)
        assert code(e) == "BadRequestException" and "limit" not in str(e.value)
    with pytest.raises(ClientError):
        gd.get_ip_set(DetectorId=det, IpSetId="nope")
    with pytest.raises(ClientError):
        gd.update_ip_set(DetectorId=det, IpSetId=sid, ExpectedBucketOwner="999999999999")
    # delete frees the slot at once
    gd.delete_ip_set(DetectorId=det, IpSetId=sid)
    assert gd.list_ip_sets(DetectorId=det)["IpSetIds"] == []
    again = create_ip(gd, det, "office ranges", loc, activate=False)
    assert gd.list_ip_sets(DetectorId=det)["IpSetIds"] == [again]
    # a moto reset clears them
    emu.seed("basic.yaml")
    assert emu.client("guardduty").list_ip_sets(DetectorId=emu.detector(ADMIN))["IpSetIds"] == []


def test_ip_sets_take_no_threat_list_slot_and_tokens_are_their_own(emu):
    gd, det, loc = emu.client("guardduty"), emu.detector(ADMIN), put_list(emu)
    ip = create_ip(gd, det, "trusted", loc, activate=False, ClientToken="tok")
    # the same token and parameters on CreateIPSet: the same IPSet
    assert create_ip(gd, det, "trusted", loc, activate=False, ClientToken="tok") == ip
    # the same token on CreateThreatIntelSet is another operation's: a new set
    tis = [create_tis(gd, det, "trusted", loc, activate=False, ClientToken="tok")]
    tis += [create_tis(gd, det, f"threat-{i}", loc, activate=False) for i in range(5)]
    assert tis[0] != ip
    with pytest.raises(ClientError) as e:
        create_tis(gd, det, "seventh", loc, activate=False)
    assert "limit of 6" in str(e.value)
    assert gd.list_ip_sets(DetectorId=det)["IpSetIds"] == [ip]
    assert sorted(gd.list_threat_intel_sets(DetectorId=det)["ThreatIntelSetIds"]) == sorted(tis)
    # the same token with other parameters is refused
    with pytest.raises(ClientError) as e:
        create_ip(gd, det, "other", loc, activate=False, ClientToken="tok")
    assert code(e) == "BadRequestException" and "clientToken" in str(e.value)
    # paging of ListIPSets (one set: a single page)
    page = gd.list_ip_sets(DetectorId=det, MaxResults=1)
    assert page["IpSetIds"] == [ip] and "NextToken" not in page
    with pytest.raises(ClientError):
        gd.list_ip_sets(DetectorId=det, MaxResults=51)


def test_member_cannot_manage_ip_sets_and_sees_the_administrators(emu):
    emu.ctl("POST", "config", {"activation_delay_ms": 0})
    loc = put_list(emu)
    a_gd, a_det = emu.client("guardduty"), emu.detector(ADMIN)
    admin_set = create_ip(a_gd, a_det, "admin-trusted", loc)
    m_gd, m_det = emu.client("guardduty", account=MEMBER), emu.detector(MEMBER)
    # while disassociated the member manages its own
    a_gd.disassociate_members(DetectorId=a_det, AccountIds=[MEMBER])
    own = create_ip(m_gd, m_det, "own", loc)
    assert m_gd.list_ip_sets(DetectorId=m_det)["IpSetIds"] == [own]
    a_gd.create_members(DetectorId=a_det, AccountDetails=[{"AccountId": MEMBER, "Email": "a@b.c"}])
    for call in (lambda: create_ip(m_gd, m_det, "new", loc),
                 lambda: m_gd.update_ip_set(DetectorId=m_det, IpSetId=own, Activate=False),
                 lambda: m_gd.delete_ip_set(DetectorId=m_det, IpSetId=own)):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "BadRequestException" and "member account" in str(e.value)
    # associated: it lists and reads the administrator's IPSet, not its own
    assert m_gd.list_ip_sets(DetectorId=m_det)["IpSetIds"] == [admin_set]
    got = m_gd.get_ip_set(DetectorId=m_det, IpSetId=admin_set)
    assert got["Name"] == "admin-trusted" and got["Status"] == "ACTIVE"
    with pytest.raises(ClientError):
        m_gd.get_ip_set(DetectorId=m_det, IpSetId=own)
    # its own set is untouched
    view = emu.ctl("GET", "guardduty", account=MEMBER, region="us-east-1")
    assert [s["id"] for s in view["ip_sets"]] == [own]
    # a standalone account manages its own
    s_gd, s_det = emu.client("guardduty", account=STANDALONE), emu.detector(STANDALONE)
    sid = create_ip(s_gd, s_det, "standalone", loc, activate=False)
    s_gd.delete_ip_set(DetectorId=s_det, IpSetId=sid)


def test_tags_on_ip_set_arns(emu):
    gd, det, loc = emu.client("guardduty"), emu.detector(ADMIN), put_list(emu)
    sid = create_ip(gd, det, "trusted", loc, activate=False, Tags={"a": "b"})
    arn = f"arn:aws:guardduty:us-east-1:{ADMIN}:detector/{det}/ipset/{sid}"
    gd.tag_resource(ResourceArn=arn, Tags={"managed-by": "guardsync"})
    gd.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert gd.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"managed-by": "guardsync"}
    assert gd.get_ip_set(DetectorId=det, IpSetId=sid)["Tags"] == {"managed-by": "guardsync"}
    with pytest.raises(ClientError):
        gd.list_tags_for_resource(ResourceArn=f"arn:aws:guardduty:us-east-1:{ADMIN}:detector/{det}/ipset/nope")


def test_ip_set_entry_limit_is_2000(emu):
    emu.ctl("POST", "config", {"activation_delay_ms": 0})
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    # comments and blank lines are not entries
    ok = b"# trusted ranges\n\n" + addresses(2000) + b"# end\n\n"
    over = addresses(2001)
    sid = create_ip(gd, det, "trusted", put_list(emu, "trusted/2000.txt", ok))
    assert gd.get_ip_set(DetectorId=det, IpSetId=sid)["Status"] == "ACTIVE"
    gd.update_ip_set(DetectorId=det, IpSetId=sid, Location=put_list(emu, "trusted/2001.txt", over),
                     Activate=True)
    assert gd.get_ip_set(DetectorId=det, IpSetId=sid)["Status"] == "ERROR"
    [view] = emu.ctl("GET", "guardduty", account=ADMIN, region="us-east-1")["ip_sets"]
    assert "2001 entries, over the limit of 2000" in view["error_reason"]
    # a threat list of 2,001 entries is well within its own limit
    tid = create_tis(gd, det, "threats", f"s3://{BUCKET}/trusted/2001.txt")
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=tid)["Status"] == "ACTIVE"


def test_threat_list_entry_limit_is_250000(emu):
    emu.ctl("POST", "config", {"activation_delay_ms": 60 * 60 * 1000})
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    body = addresses(250_000)
    at_limit = put_list(emu, "lists/250000.txt", b"# FireHOL level 1\n" + body)
    over = put_list(emu, "lists/250001.txt", body + addresses(1, start=12 << 24))
    ok = create_tis(gd, det, "at-limit", at_limit)
    bad = create_tis(gd, det, "over-limit", over)
    # still ACTIVATING until the activation ends; then the content decides
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=bad)["Status"] == "ACTIVATING"
    assert emu.ctl("POST", "activations/finish") == {"finished": 2}
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=ok)["Status"] == "ACTIVE"
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=bad)["Status"] == "ERROR"
    # an ERROR set can be pointed back at a good list and activated again
    gd.update_threat_intel_set(DetectorId=det, ThreatIntelSetId=bad, Location=at_limit, Activate=True)
    emu.ctl("POST", "activations/finish")
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=bad)["Status"] == "ACTIVE"


def test_a_list_file_over_35_mb_is_error(emu):
    emu.ctl("POST", "config", {"activation_delay_ms": 0})
    gd, det = emu.client("guardduty"), emu.detector(ADMIN)
    limit = 35 * 1000 * 1000  # decimal megabytes: the stricter reading of "35MB"

    def padded(size: int) -> bytes:
        # one entry, then comment lines of 999 characters + newline, up to `size` bytes
        head = b"198.51.100.7\n"
        line = b"#" + b"x" * 998 + b"\n"
        n, rest = divmod(size - len(head), len(line))
        data = head + line * n + (b"#" + b"y" * (rest - 2) + b"\n" if rest >= 2 else b"\n" * rest)
        assert len(data) == size
        return data

    sid = create_tis(gd, det, "big", put_list(emu, "lists/big.txt", padded(limit)))
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)["Status"] == "ACTIVE"
    put_list(emu, "lists/big.txt", padded(limit + 1))  # same key, new content
    gd.update_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid, Activate=True)
    assert gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=sid)["Status"] == "ERROR"
    # the same for an IPSet
    ip = create_ip(gd, det, "big", f"s3://{BUCKET}/lists/big.txt")
    assert gd.get_ip_set(DetectorId=det, IpSetId=ip)["Status"] == "ERROR"


def test_ip_set_calls_in_the_call_log(emu):
    gd, det, loc = emu.client("guardduty"), emu.detector(ADMIN), put_list(emu)
    emu.ctl("DELETE", "calls")
    sid = create_ip(gd, det, "trusted", loc, activate=False)
    gd.list_ip_sets(DetectorId=det)
    gd.get_ip_set(DetectorId=det, IpSetId=sid)
    gd.update_ip_set(DetectorId=det, IpSetId=sid, Name="trusted-2")
    gd.delete_ip_set(DetectorId=det, IpSetId=sid)
    calls = [(c["service"], c["operation"], c["mutating"], c["status"]) for c in emu.calls()]
    assert calls == [("guardduty", "CreateIPSet", True, 200), ("guardduty", "ListIPSets", False, 200),
                     ("guardduty", "GetIPSet", False, 200), ("guardduty", "UpdateIPSet", True, 200),
                     ("guardduty", "DeleteIPSet", True, 200)]
    emu.ctl("POST", "faults", {"rules": [{"service": "guardduty", "operation": "CreateIPSet",
                                          "throttle_count": 1}]})
    with pytest.raises(ClientError) as e:
        create_ip(gd, det, "trusted", loc, activate=False)
    assert code(e) == "TooManyRequestsException"
    assert emu.calls()[-1]["operation"] == "CreateIPSet" and emu.calls()[-1]["status"] == 429

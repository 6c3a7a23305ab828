"""The emulator's HTTP server: connections kept open between calls (as AWS's
endpoints keep them), and a body the application did not read never
mistaken for the next request."""

import http.client
import json
from urllib.parse import urlparse

ADMIN = "111111111111"

SIGNED = ("AWS4-HMAC-SHA256 Credential=AKIAGUARDSYNCTEST/20261206/us-east-1/{service}/aws4_request, "
          "SignedHeaders=host;x-amz-date, Signature=0")


def connection(emu) -> http.client.HTTPConnection:
    url = urlparse(emu.url)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=10)


def organizations(conn, operation: str, body: dict) -> tuple[int, dict, dict]:
    conn.request("POST", "/", body=json.dumps(body), headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"AWSOrganizationsV20161128.{operation}",
        "Authorization": SIGNED.format(service="organizations"),
        "X-Amz-Date": "20261206T000000Z",
    })
    r = conn.getresponse()
    return r.status, dict(r.getheaders()), json.loads(r.read() or b"{}")


def test_calls_share_one_connection(emu):
    conn = connection(emu)
    status, headers, first = organizations(conn, "DescribeOrganization", {})
    assert status == 200, first
    assert headers.get("Connection", "").lower() != "close"
    sock = conn.sock
    status, _, second = organizations(conn, "ListAccounts", {"MaxResults": 20})
    assert status == 200, second
    assert conn.sock is sock, "the second call reused the first call's connection"
    ids = {a["Id"] for a in second["Accounts"]}
    assert {ADMIN, first["Organization"]["MasterAccountId"]} <= ids
    assert [c["operation"] for c in emu.calls()] == ["DescribeOrganization", "ListAccounts"]


def test_a_body_left_unread_does_not_become_the_next_request(emu):
    # A throttled call is answered without reading its body; the next call on
    # the same connection must still be read from its own first byte.
    emu.ctl("POST", "faults", {"rules": [{"service": "organizations", "throttle_count": 1}]})
    conn = connection(emu)
    padding = "x" * 70_000  # larger than any socket buffer read at once
    status, headers, body = organizations(conn, "ListAccounts", {"MaxResults": 20, "Pad": padding})
    assert (status, headers.get("X-Amzn-ErrorType")) == (400, "TooManyRequestsException"), body
    status, _, body = organizations(conn, "DescribeOrganization", {})
    assert status == 200, body
    assert body["Organization"]["MasterAccountId"]
    calls = [(c["operation"], c["status"]) for c in emu.calls()]
    assert calls == [("ListAccounts", 400), ("DescribeOrganization", 200)]


def test_each_call_is_attributed_to_its_own_signer_on_a_shared_connection(emu):
    # Two accounts' calls on one connection: the account is read per request.
    conn = connection(emu)
    organizations(conn, "DescribeOrganization", {})
    conn.request("GET", "/detector", headers={
        "Authorization": SIGNED.format(service="guardduty").replace("us-east-1", "eu-west-1"),
        "X-Amz-Date": "20261206T000000Z",
        "X-Moto-Account-Id": "777777777777",
    })
    r = conn.getresponse()
    r.read()
    assert r.status == 200
    accounts = [c["account"] for c in emu.calls()]
    assert accounts == [ADMIN, "777777777777"]

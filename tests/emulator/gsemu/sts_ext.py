"""STS extension: accounts where AssumeRole is denied, and opt-in Regions.

moto's AssumeRole always succeeds (the role need not exist) and attributes the
new credentials to the account in the role ARN; we keep that. The scenario's
`deny_assume_role: [ACCOUNT, ...]` makes AssumeRole into any role of those
accounts fail the way AWS answers when the role is missing or does not trust
the caller: HTTP 403, query-protocol XML error `AccessDenied`. The check runs
in the middleware (control.py) before moto sees the request.

Opt-in Regions: an account that has not enabled a Region (the scenario's
`regions` table says DISABLED, DISABLING or ENABLING) cannot get credentials
from that Region's STS endpoint (`RegionDisabledException`, IAM user guide
"Activate and deactivate AWS STS in an AWS Region"), and its calls to
GuardDuty there are refused as the calls of an unknown client (HTTP 403
`UnrecognizedClientException`): the account has no presence in that Region.
"""

import json

import uuid
from xml.sax.saxutils import escape

from . import state


def denied_response(info: dict) -> tuple[int, list, bytes] | None:
    if info["service"] != "sts" or info["operation"] != "AssumeRole":
        return None
    role_arn = info["params"].get("RoleArn", "")
    parts = role_arn.split(":")
    target = parts[4] if len(parts) > 5 else None
    if target not in state.SCENARIO["deny_assume_role"]:
        return None
    caller = f"arn:aws:iam::{info['account']}:root"
    message = (f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: "
               f"{role_arn}")
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return 403, [("Content-Type", "text/xml")], body.encode()


def region_disabled_response(info: dict) -> tuple[int, list, bytes] | None:
    """STS or GuardDuty as an account, in a Region it has not enabled."""
    region = info.get("region") or ""
    if info["service"] == "sts" and info["operation"] == "AssumeRole":
        parts = info["params"].get("RoleArn", "").split(":")
        target = parts[4] if len(parts) > 5 else ""
        if not state.region_disabled(target, region):
            return None
        message = (f"STS is not activated in this region for account:{target}. Your account "
                   "administrator can activate STS in this region using the IAM Console.")
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<Error><Type>Sender</Type><Code>RegionDisabledException</Code>"
            f"<Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
        return 403, [("Content-Type", "text/xml")], body.encode()
    if info["service"] == "guardduty" and state.region_disabled(info["account"], region):
        body = json.dumps({"__type": "UnrecognizedClientException",
                           "message": "The security token included in the request is invalid."})
        return 403, [("Content-Type", "application/json"),
                     ("X-Amzn-ErrorType", "UnrecognizedClientException")], body.encode()
    return None

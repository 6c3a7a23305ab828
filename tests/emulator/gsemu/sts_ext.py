"""STS extension: accounts where AssumeRole is denied.

moto's AssumeRole always succeeds (the role need not exist) and attributes the
new credentials to the account in the role ARN; we keep that. The scenario's
`deny_assume_role: [ACCOUNT, ...]` makes AssumeRole into any role of those
accounts fail the way AWS answers when the role is missing or does not trust
the caller: HTTP 403, query-protocol XML error `AccessDenied`. The check runs
in the middleware (control.py) before moto sees the request.
"""

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

"""S3 bucket-policy evaluation fix for object operations.

What moto 5.2.5 does: `FakeBucket.get_permission` runs the bucket policy
through `IAMPolicyStatement.is_action_permitted`, which returns DENIED for
*any* statement (Allow or Deny) whose Condition is not met, and skips any
statement whose Principal is not exactly "*". So the policy guardsync writes
(spec section 7: Allow s3:GetObject to "*" with StringEquals aws:PrincipalOrgID,
plus Deny s3:* when Bool aws:SecureTransport = "false") denies every object read
to everyone, owner included.

What we do instead (small, documented subset of IAM evaluation):
  * a statement applies when its Action/NotAction, Resource/NotResource,
    Principal and every Condition match the request;
  * an applicable Deny wins; else an applicable Allow permits; else neutral;
  * Principal: "*", {"AWS": "*"}, or {"AWS": [account id | arn:aws:iam::ACCT:...]}
    (matched on the caller's account); Service principals never match a caller;
  * Conditions: operators StringEquals, StringNotEquals, StringLike,
    StringNotLike, Bool (with optional ...IfExists); keys aws:SecureTransport
    (from the `secure_transport` knob, default true), aws:PrincipalOrgID (the
    caller's organization in the Organizations backend), aws:PrincipalAccount.
    An unknown key has no value, so it never satisfies a positive operator;
  * the bucket owner's own calls are allowed unless a Deny applies; another
    account needs an applicable Allow (neutral is denied cross-account).

`object_readable_by(bucket, key, account)` reuses the same evaluation for
GuardDuty's own read of a ThreatIntelSet location (GuardDuty reads over TLS).
"""

import fnmatch
import json

from . import state

ALLOW, DENY, NEUTRAL = "ALLOW", "DENY", "NEUTRAL"


def _as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _wild(pattern: str, value: str, case_insensitive: bool = False) -> bool:
    if case_insensitive:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def org_id_of(account: str) -> str | None:
    from moto.organizations.models import organizations_backends

    for acct in list(organizations_backends.keys()):
        be = organizations_backends[acct]
        if "aws" not in list(be.keys()):
            continue
        org = be["aws"].org
        if org and (acct == account or any(a.id == account for a in be["aws"].accounts)):
            return org.id
    return None


def _principal_matches(principal, account: str) -> bool:
    if principal is None:
        return False
    if principal == "*":
        return True
    if isinstance(principal, dict):
        for p in _as_list(principal.get("AWS")):
            if p == "*" or p == account:
                return True
            if p.startswith("arn:") and p.split(":")[4] == account:
                return True
    return False


def _conditions_hold(cond: dict | None, context: dict) -> bool:
    for op, kv in (cond or {}).items():
        if_exists = op.endswith("IfExists")
        base = op[: -len("IfExists")] if if_exists else op
        for key, expected in kv.items():
            actual = context.get(key.lower())
            expected = [str(e) for e in _as_list(expected)]
            if actual is None:
                if if_exists or base in ("StringNotEquals", "StringNotLike"):
                    continue
                return False
            if base == "Bool":
                ok = actual.lower() in [e.lower() for e in expected]
            elif base == "StringEquals":
                ok = actual in expected
            elif base == "StringNotEquals":
                ok = actual not in expected
            elif base == "StringLike":
                ok = any(_wild(e, actual) for e in expected)
            elif base == "StringNotLike":
                ok = not any(_wild(e, actual) for e in expected)
            else:  # unsupported operator: treat as not satisfied
                ok = False
            if not ok:
                return False
    return True


def evaluate(policy: str | bytes | dict | None, action: str, resource: str, account: str,
             secure_transport: bool) -> str:
    if not policy:
        return NEUTRAL
    doc = policy if isinstance(policy, dict) else json.loads(policy)
    context = {
        "aws:securetransport": "true" if secure_transport else "false",
        "aws:principalaccount": account,
    }
    org = org_id_of(account)
    if org:
        context["aws:principalorgid"] = org
    result = NEUTRAL
    for st in _as_list(doc.get("Statement")):
        if "NotAction" in st:
            if any(_wild(a, action, True) for a in _as_list(st["NotAction"])):
                continue
        elif not any(_wild(a, action, True) for a in _as_list(st.get("Action"))):
            continue
        if "NotResource" in st:
            if any(_wild(r, resource) for r in _as_list(st["NotResource"])):
                continue
        elif not any(_wild(r, resource) for r in _as_list(st.get("Resource"))):
            continue
        if not _principal_matches(st.get("Principal"), account):
            continue
        if not _conditions_hold(st.get("Condition"), context):
            continue
        if st.get("Effect") == "Deny":
            return DENY
        if st.get("Effect") == "Allow":
            result = ALLOW
    return result


def bucket_decision(bucket, action: str, resource: str, account: str, secure_transport: bool) -> str:
    """ALLOW or DENY for `account` doing `action` on `resource` of `bucket`."""
    verdict = evaluate(bucket.policy, action, resource, account, secure_transport)
    if verdict == DENY:
        return DENY
    if verdict == ALLOW or account == bucket.account_id:
        return ALLOW
    return DENY  # cross-account without an Allow


def object_readable_by(bucket_name: str, key: str, account: str) -> bool:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket_name)
    if not owner:
        return False
    partition, owner_account = owner
    backend = s3_backends[owner_account][partition]
    bucket = backend.buckets.get(bucket_name)
    if bucket is None or key not in bucket.keys:
        return False
    resource = f"arn:aws:s3:::{bucket_name}/{key}"
    return bucket_decision(bucket, "s3:GetObject", resource, account, True) == ALLOW


def bucket_owner(bucket_name: str) -> str | None:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket_name)
    return owner[1] if owner else None


def install() -> None:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action: str, resource: str):
        # moto names HEAD "s3:HeadObject"; IAM authorizes it as s3:GetObject.
        if action == "s3:HeadObject":
            action = "s3:GetObject"
        account = state.current_caller() or self.account_id
        verdict = bucket_decision(self, action, resource, account, state.request_is_tls())
        return PermissionResult.PERMITTED if verdict == ALLOW else PermissionResult.DENIED

    FakeBucket.get_permission = get_permission

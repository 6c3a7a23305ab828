"""Identify an incoming AWS request before moto sees it.

Used by the call log and by fault injection. For every request we derive:

* service   - the SigV4 signing name from the credential scope (`s3`, `sts`,
              `guardduty`, `organizations`, `account`, `sns`, `events`, ...)
* region    - the SigV4 credential scope region
* account   - the caller's account exactly as moto resolves it: the
              `x-moto-account-id` header if present, else the account that
              owns the access key (STS-issued keys belong to the assumed role's
              account), else the default account (server.py --default-account)
* operation - the AWS API name: `X-Amz-Target` for JSON protocols, the `Action`
              parameter for query protocols, and moto's botocore-model router
              (method + URI + query string) for REST services (GuardDuty, S3,
              Account)
* protocol  - `json` (X-Amz-Target), `query` (Action=...), `rest-xml` (S3) or
              `rest-json` (everything else); fault responses are shaped by it.
"""

import io
import re
from urllib.parse import parse_qs

_CRED_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")

# Read-only operations that do not start with a read prefix.
_READ_EXCEPTIONS = {
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "AssumeRoleWithSAML",
    "GetCallerIdentity",
    "GetSessionToken",
    "DecodeAuthorizationMessage",
}
_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Select", "Search", "Lookup",
                  "Check", "Validate", "Test", "BatchGet", "Query", "Scan")


def is_mutating(operation: str | None) -> bool:
    """Anything that is not a read is a write: Create/Update/Delete/Put/Tag/Untag/
    Enable/Disable/Disassociate/Accept/Invite/Subscribe/Archive/... are mutating;
    Get/List/Describe/Head and AssumeRole/GetCallerIdentity are not. Unknown
    operations count as mutating so "no mutating call" assertions stay strict."""
    if not operation:
        return False
    if operation in _READ_EXCEPTIONS:
        return False
    return not operation.startswith(_READ_PREFIXES)


def _read_form_body(environ: dict) -> str:
    """Read a form-encoded body and put it back so moto can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if not length:
        return ""
    raw = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(raw)
    return raw.decode("utf-8", "replace")


def identify(environ: dict) -> dict:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = _CRED_RE.search(auth)
    access_key = m.group(1) if m else None
    region = m.group(3) if m else "us-east-1"
    service = m.group(4).lower() if m else None
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if access_key is None and "X-Amz-Credential" in query:  # presigned URL
        parts = query["X-Amz-Credential"][0].split("/")
        if len(parts) >= 4:
            access_key, region, service = parts[0], parts[2], parts[3].lower()

    target = environ.get("HTTP_X_AMZ_TARGET")
    ctype = environ.get("CONTENT_TYPE", "") or ""
    params: dict = {}
    operation = None
    if target:
        protocol = "json"
        operation = target.split(".")[-1]
    elif service == "s3":
        protocol = "rest-xml"
    elif ctype.startswith("application/x-www-form-urlencoded") or "Action" in query:
        protocol = "query"
        body = _read_form_body(environ) if ctype.startswith("application/x-www-form-urlencoded") else ""
        params = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        params.update({k: v[0] for k, v in query.items()})
        operation = params.get("Action")
    else:
        protocol = "rest-json"

    if operation is None and service:
        operation = _route_rest(service, environ)

    return {
        "service": service or "unknown",
        "region": region,
        "account": resolve_account(environ, access_key),
        "operation": operation or "Unknown",
        "protocol": protocol,
        "params": params,
        "access_key": access_key,
        # S3: the path (/bucket/key), so that the call log can tell objects apart.
        "resource": environ.get("PATH_INFO") if service == "s3" else None,
    }


def _route_rest(service: str, environ: dict) -> str | None:
    from moto.core.request import Request
    from moto.core.routing import get_service_router

    try:
        op, _ = get_service_router(service).match(Request(environ.copy()))
        return op.name
    except Exception:  # noqa: BLE001 - unknown service/route: leave it unnamed
        return None


def resolve_account(environ: dict, access_key: str | None) -> str:
    """Same precedence as moto's BaseResponse.get_current_account (minus the
    MOTO_ACCOUNT_ID override, which the emulator never sets at request time)."""
    header = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
    if header:
        return header
    import moto.iam.models as iam_models

    return iam_models.get_account_id_from(access_key or "AKIAEXAMPLE")

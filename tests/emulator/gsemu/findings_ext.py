"""GuardDuty findings: model, short-form builder, criteria matching, auto-archive.

moto 5.2.5 has no findings. Here a finding is the JSON object GuardDuty returns
from GetFindings (API_Finding: camelCase keys), kept as a plain dict on moto's
`Detector` (`Detector.gs_findings`: id -> finding, insertion order) so that a
moto reset clears it. guardduty_ext.py serves ListFindings/GetFindings from it
and changes it through ArchiveFindings/UnarchiveFindings (`set_archived`);
seeding.py and the control API add findings through `add_findings`.

Visibility (as in GuardDuty, where an administrator sees its members'
findings): a finding added to an account's own detector (its `accountId` is the
detector's account) while that account is an associated member (relationship
`Enabled`) of an administrator in that region is also stored, as the same
object (same id, shared `service.archived`), in the administrator's detector.
A finding added directly to a detector with another `accountId` stays there.

Auto-archive (user guide, "Suppression rules"): a finding added while an
ARCHIVE filter of a detector that stores it matches it is stored with
`service.archived = true`. Creating a filter never changes existing findings.

Matching (API_FindingCriteria / API_Condition), see `matches_criteria`:
  * criteria AND together; the operators of one condition AND together;
  * a dotted path walks nested objects; a list on the way (or at the end)
    fans out, and a positive operator holds if ANY reached value satisfies it;
    `notEquals` / `notMatches` hold if NO reached value equals / matches any
    of their values (so they also hold when the attribute is missing);
  * `equals`/`notEquals`: a value's string form (booleans "true"/"false")
    against each string; when both the value and the string are numeric
    (numbers, numeric strings, ISO timestamps as epoch milliseconds) they
    compare as numbers, so severity 8.0 equals "8";
  * `greaterThan`... compare numerically: numbers, numeric strings and ISO-8601
    timestamps (as epoch milliseconds: `updatedAt`, `createdAt`,
    `service.eventFirstSeen`, ...); other values never satisfy them;
  * `matches`/`notMatches`: `*` (any run) and `?` (one character) wildcards
    over the whole string form, case-sensitive;
  * deprecated `eq`, `neq`, `gt`, `gte`, `lt`, `lte` mean the same as their
    long names.
"""

import copy
import re
import uuid
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable

# API_Finding members (wire names): what a criterion path may start with, and
# which keys of a seeded finding are passed through (deep-merged) as-is.
FINDING_KEYS = {
    "accountId", "arn", "confidence", "createdAt", "description", "id", "partition", "region",
    "resource", "schemaVersion", "service", "severity", "title", "type", "updatedAt",
    "associatedAttackSequenceArn", "customDetectionRuleName",
}
# Short-form keys of a seeded finding (README "Findings").
SHORT_KEYS = {
    "account", "type", "severity", "remote_ip", "instance_id", "resource_type", "tags",
    "archived", "count", "id", "title", "description", "created_at", "updated_at",
    "action_type",
}
MAX_COUNT = 10000

OPERATOR_ALIASES = {
    "eq": "equals", "neq": "notEquals", "gt": "greaterThan", "gte": "greaterThanOrEqual",
    "lt": "lessThan", "lte": "lessThanOrEqual",
}
LIST_OPERATORS = {"equals", "notEquals", "matches", "notMatches"}
NUMBER_OPERATORS = {"greaterThan", "greaterThanOrEqual", "lessThan", "lessThanOrEqual"}
MAX_EQUALS_VALUES = 50  # API_Condition: equals/notEquals "Max values: 50"
MAX_MATCH_VALUES = 5  # matches/notMatches take at most 5 values
MAX_GET_FINDINGS = 50  # API_GetFindings: findingIds 0-50 items
MAX_ARCHIVE_FINDINGS = 50  # API_ArchiveFindings / API_UnarchiveFindings: findingIds 0-50 items

_PATH_RE = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


class FindingError(ValueError):
    """A bad finding or criteria. `error_type` is the GuardDuty error code to answer."""

    def __init__(self, message: str, error_type: str = "BadRequestException"):
        super().__init__(message)
        self.error_type = error_type


# --- storage -------------------------------------------------------------------
def findings_of(detector) -> dict:
    if not hasattr(detector, "gs_findings"):
        detector.gs_findings = {}
    return detector.gs_findings


def _detector(account: str, region: str):
    from . import guardduty_ext as gd

    return gd.detector_for(account, region)


# --- values --------------------------------------------------------------------
def iso(ts: Any = None) -> str:
    """GuardDuty's timestamp form, e.g. 2024-05-01T12:00:00.000Z. Accepts None (now),
    an ISO string, epoch milliseconds, a datetime or a date (YAML parses both)."""
    if ts is None:
        dt = datetime.now(timezone.utc)
    elif isinstance(ts, bool):
        raise FindingError(f"not a timestamp: {ts!r}", "InvalidInputException")
    elif isinstance(ts, (int, float)):
        dt = datetime.fromtimestamp(ts / 1000.0, timezone.utc)
    elif isinstance(ts, datetime):
        dt = ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
    elif isinstance(ts, date):
        dt = datetime(ts.year, ts.month, ts.day, tzinfo=timezone.utc)
    elif isinstance(ts, str):
        ms = _epoch_ms(ts)
        if ms is None:
            raise FindingError(f"not a timestamp: {ts!r}", "InvalidInputException")
        dt = datetime.fromtimestamp(ms / 1000.0, timezone.utc)
    else:
        raise FindingError(f"not a timestamp: {ts!r}", "InvalidInputException")
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _epoch_ms(s: str) -> float | None:
    if not _ISO_RE.match(s):
        return None
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return round(dt.timestamp() * 1000.0)


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _number(v: Any) -> float | None:
    """Numeric view of a finding value or criterion string, else None."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        if _NUM_RE.match(s):
            return float(s)
        ms = _epoch_ms(s)
        return float(ms) if ms is not None else None
    return None


def resolve(obj: Any, path: str) -> list:
    """Scalar values reached by a dotted path; lists fan out at every step."""
    current = [obj]
    for part in path.split("."):
        nxt = []
        for item in current:
            for x in (item if isinstance(item, list) else [item]):
                if isinstance(x, dict) and part in x:
                    nxt.append(x[part])
        current = nxt
    out = []
    for v in current:
        for x in (v if isinstance(v, list) else [v]):
            if x is not None and not isinstance(x, (dict, list)):
                out.append(x)
    return out


def _wildcard(pattern: str) -> re.Pattern:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(r"\A" + body + r"\Z", re.DOTALL)


def _equal(value: Any, wanted: str) -> bool:
    if _text(value) == wanted:
        return True
    a, b = _number(value), _number(wanted)
    return a is not None and b is not None and a == b


def _cmp(op: str, a: float, b: float) -> bool:
    return {"greaterThan": a > b, "greaterThanOrEqual": a >= b,
            "lessThan": a < b, "lessThanOrEqual": a <= b}[op]


def _condition_holds(values: list, op: str, arg: Any) -> bool:
    if op == "equals":
        return any(_equal(v, w) for v in values for w in arg)
    if op == "notEquals":
        return not any(_equal(v, w) for v in values for w in arg)
    if op == "matches":
        pats = [_wildcard(p) for p in arg]
        return any(p.match(_text(v)) for v in values for p in pats)
    if op == "notMatches":
        pats = [_wildcard(p) for p in arg]
        return not any(p.match(_text(v)) for v in values for p in pats)
    nums = [n for n in (_number(v) for v in values) if n is not None]
    return any(_cmp(op, n, float(arg)) for n in nums)


def matches_criteria(finding: dict, criteria: dict | None) -> bool:
    """True if `finding` satisfies findingCriteria ({"criterion": {path: condition}})."""
    criterion = (criteria or {}).get("criterion") or {}
    for path, cond in criterion.items():
        values = resolve(finding, path)
        for op, arg in (cond or {}).items():
            op = OPERATOR_ALIASES.get(op, op)
            if op in LIST_OPERATORS:
                arg = [_text(a) for a in (arg if isinstance(arg, list) else [arg])]
            elif op not in NUMBER_OPERATORS:
                return False
            if not _condition_holds(values, op, arg):
                return False
    return True


def validate_criteria(criteria: Any) -> None:
    """ListFindings' findingCriteria (optional; an empty criterion matches everything)."""
    if criteria is None:
        return
    if not isinstance(criteria, dict):
        raise FindingError("The request is rejected because findingCriteria is not an object.",
                           "InvalidInputException")
    criterion = criteria.get("criterion")
    if criterion is None:
        return
    if not isinstance(criterion, dict):
        raise FindingError("The request is rejected because findingCriteria.criterion is not a map.",
                           "InvalidInputException")
    for path, cond in criterion.items():
        # GuardDuty answers 400 for an invalid criterion attribute. We check the
        # first path segment against API_Finding's members and the path syntax;
        # deeper segments are not checked (any nested path is accepted).
        if not _PATH_RE.match(path) or path.split(".")[0] not in FINDING_KEYS:
            raise FindingError(f"The request is rejected because the criterion attribute {path!r} "
                               "is not a valid finding attribute.")
        if not isinstance(cond, dict) or not cond:
            raise FindingError(f"The request is rejected because the condition for {path} is empty.",
                               "InvalidInputException")
        for op, arg in cond.items():
            name = OPERATOR_ALIASES.get(op, op)
            if name in LIST_OPERATORS:
                if not isinstance(arg, list) or not all(isinstance(a, (str, int, float)) for a in arg):
                    raise FindingError(f"The request is rejected because {op} for {path} must be a "
                                       "list of strings.", "InvalidInputException")
                limit = MAX_MATCH_VALUES if name in ("matches", "notMatches") else MAX_EQUALS_VALUES
                if len(arg) > limit:
                    raise FindingError(f"The request is rejected because {op} takes at most "
                                       f"{limit} values.", "InvalidInputException")
            elif name in NUMBER_OPERATORS:
                if isinstance(arg, bool) or not isinstance(arg, (int, float)):
                    raise FindingError(f"The request is rejected because {op} for {path} must be "
                                       "an integer.", "InvalidInputException")
            else:
                raise FindingError(f"The request is rejected because {op} is not a valid "
                                   f"condition operator for {path}.", "InvalidInputException")


def filter_findings(findings: Iterable[dict], criteria: dict | None) -> list[dict]:
    return [f for f in findings if matches_criteria(f, criteria)]


# --- building findings from seeds ---------------------------------------------------
def _deep_merge(base: dict, extra: dict) -> dict:
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _deep_merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def _instance_id() -> str:
    return "i-" + uuid.uuid4().hex[:17]


def build_findings(item: dict, account: str, region: str, detector_id: str,
                   detector_of: Callable[[str], str | None] = lambda a: None) -> list[dict]:
    """Full finding JSON(s) from a short-form (or full-form) seed item. See README."""
    if not isinstance(item, dict):
        raise FindingError(f"a finding must be an object, got {item!r}", "InvalidInputException")
    unknown = set(item) - SHORT_KEYS - FINDING_KEYS
    if unknown:
        raise FindingError(f"unknown finding keys {sorted(unknown)} (short keys: "
                           f"{sorted(SHORT_KEYS)}; or API_Finding members)", "InvalidInputException")
    if not item.get("type"):
        raise FindingError("a finding needs a type, e.g. Recon:EC2/Portscan", "InvalidInputException")
    count = item.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise FindingError(f"count must be an integer 1-{MAX_COUNT}", "InvalidInputException")
    if item.get("id") and count != 1:
        raise FindingError("a finding with a fixed id cannot have count > 1", "InvalidInputException")
    try:
        severity = float(item.get("severity", 5.0))
    except (TypeError, ValueError):
        raise FindingError(f"severity must be a number: {item.get('severity')!r}", "InvalidInputException")
    owner = str(item.get("account") or item.get("accountId") or account)
    created = iso(item.get("created_at", item.get("createdAt")))
    updated = iso(item.get("updated_at", item.get("updatedAt", created)))
    archived = item.get("archived", False)
    if not isinstance(archived, bool):
        raise FindingError("archived must be true or false", "InvalidInputException")
    tags = item.get("tags") or {}
    if not isinstance(tags, dict):
        raise FindingError("tags must be a map of key: value", "InvalidInputException")
    ftype = str(item["type"])
    passthrough = {k: v for k, v in item.items()
                   if k in FINDING_KEYS and k not in ("type", "severity", "id", "accountId",
                                                      "createdAt", "updatedAt")}
    out = []
    for _ in range(count):
        fid = str(item.get("id") or uuid.uuid4().hex)
        owner_det = detector_of(owner) or detector_id
        finding = {
            "schemaVersion": "2.0",
            "accountId": owner,
            "region": region,
            "partition": "aws",
            "id": fid,
            "arn": f"arn:aws:guardduty:{region}:{owner}:detector/{owner_det}/finding/{fid}",
            "type": ftype,
            "severity": severity,
            "createdAt": created,
            "updatedAt": updated,
            "title": str(item.get("title") or f"{ftype} finding in account {owner}"),
            "description": str(item.get("description") or f"Emulated GuardDuty finding {ftype}."),
            "resource": {
                "resourceType": str(item.get("resource_type") or "Instance"),
                "instanceDetails": {
                    "instanceId": str(item.get("instance_id") or _instance_id()),
                    "instanceType": "t3.micro",
                    "instanceState": "running",
                    "availabilityZone": f"{region}a",
                    "tags": [{"key": str(k), "value": _text(v)} for k, v in tags.items()],
                },
            },
            "service": {
                "serviceName": "guardduty",
                "detectorId": owner_det,
                "archived": archived,
                "count": 1,
                "eventFirstSeen": created,
                "eventLastSeen": updated,
                "resourceRole": "TARGET",
                "action": {
                    "actionType": str(item.get("action_type") or "NETWORK_CONNECTION"),
                    "networkConnectionAction": {
                        "connectionDirection": "INBOUND",
                        "blocked": False,
                        "protocol": "TCP",
                        "remoteIpDetails": {"ipAddressV4": str(item.get("remote_ip") or "203.0.113.1")},
                    },
                },
            },
        }
        out.append(_deep_merge(finding, passthrough))
    return out


# --- adding / clearing ----------------------------------------------------------------
def _archive_filters(detector) -> list:
    fs = [f for f in detector.filters.values() if getattr(f, "action", None) == "ARCHIVE"]
    return sorted(fs, key=lambda f: (f.rank or 0, f.name))


def add_findings(account: str, region: str, items: list) -> list[str]:
    """Add seed items to `account`'s detector in `region` (see the module docstring for
    propagation to the administrator and auto-archive). Returns the new ids in order."""
    from . import guardduty_ext as gd

    account = str(account)
    det = _detector(account, region)
    if det is None:
        raise FindingError(f"account {account} has no GuardDuty detector in {region}")
    if not isinstance(items, list):
        raise FindingError("findings must be a list", "InvalidInputException")
    admin = gd.associated_admin(account, region)
    admin_det = _detector(admin, region) if admin else None

    def detector_of(acct: str) -> str | None:
        d = _detector(acct, region)
        return d.id if d is not None else None

    built: list[dict] = []
    for item in items:
        built += build_findings(item, account, region, det.id, detector_of)
    def targets(finding: dict) -> list:
        if admin_det is not None and finding["accountId"] == account:
            return [det, admin_det]
        return [det]

    # Check every id before storing anything: a bad batch adds nothing.
    seen: set = set()
    for finding in built:
        fid = finding["id"]
        if fid in seen or any(fid in findings_of(t) for t in targets(finding)):
            raise FindingError(f"a finding with id {fid} already exists")
        seen.add(fid)
    ids = []
    for finding in built:
        if not finding["service"].get("archived"):
            for target in targets(finding):
                if any(matches_criteria(finding, f.finding_criteria) for f in _archive_filters(target)):
                    finding["service"]["archived"] = True
                    break
        for target in targets(finding):
            findings_of(target)[finding["id"]] = finding
        ids.append(finding["id"])
    return ids


def set_archived(findings: Iterable[dict], archived: bool) -> int:
    """ArchiveFindings / UnarchiveFindings: set `service.archived`; a finding whose
    flag changes gets `updatedAt` = now. Returns how many changed."""
    changed = 0
    now = iso()
    for f in findings:
        service = f.setdefault("service", {})
        if bool(service.get("archived")) != archived:
            service["archived"] = archived
            f["updatedAt"] = now
            changed += 1
    return changed


def clear_findings(account: str | None = None, region: str | None = None) -> int:
    """Remove the findings of one detector, or of every detector (no account/region)."""
    from moto.guardduty.models import guardduty_backends

    removed = 0
    for acct in list(guardduty_backends.keys()):
        if account and acct != account:
            continue
        for reg in list(guardduty_backends[acct].keys()):
            if region and reg != region:
                continue
            for det in list(guardduty_backends[acct][reg].detectors.values()):
                store = findings_of(det)
                removed += len(store)
                store.clear()
    return removed

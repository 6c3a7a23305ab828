"""GuardDuty extension: threat intel sets, IP sets, filters, tags, members, administrator rules, findings.

moto 5.2.5's GuardDuty has detectors, a few filter calls (no ListFilters, no
tags, no limits, DeleteFilter ignores unknown names) and a stub
GetAdministratorAccount. This module subclasses its `GuardDutyResponse` and
re-registers every GuardDuty URL to the subclass (must happen before moto's
server builds the GuardDuty URL map on the first GuardDuty request).

State lives on moto's own objects so that a moto reset clears it:
  * `Detector.gs_sets`      ThreatIntelSet id -> ThreatIntelSet
  * `Detector.gs_tokens`    clientToken -> (request fingerprint, resource id)
                            (CreateThreatIntelSet, CreateFilter)
  * `Detector.gs_ip_sets`   IPSet id -> IPSet (trusted IP lists)
  * `Detector.gs_ip_tokens` clientToken of CreateIPSet -> (fingerprint, id)
  * `Detector.gs_entity_sets` threat entity list id -> name (seeded by tests)
  * `Filter.gs_tags`        tags of a filter
  * `GuardDutyBackend.gs_members`  (administrator's backend) member id -> record
  * `Detector.gs_findings`  finding id -> finding JSON (findings_ext.py)

Wire format follows the GuardDuty API reference (REST-JSON, camelCase keys).
Errors: HTTP 400, body {"__type", "message"}, header X-Amzn-ErrorType:
BadRequestException (the SDKs take the error code from that header).
"""

import hashlib
import json
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from moto.core.exceptions import JsonRESTError
from moto.guardduty.models import Detector, GuardDutyBackend, guardduty_backends
from moto.guardduty.responses import GuardDutyResponse

from . import s3_policy, state

# --- API reference constants -------------------------------------------------
THREAT_INTEL_SET_FORMATS = {"TXT", "STIX", "OTX_CSV", "ALIEN_VAULT", "PROOF_POINT", "FIRE_EYE"}
MAX_THREAT_INTEL_SETS = 6  # "6 threat lists per account per region" (GuardDuty quotas)
MAX_IP_SETS = 1  # "Trusted IP sets: 1" per account per Region (GuardDuty quotas)
# Entries (IP addresses and CIDR ranges) per list (GuardDuty quotas): a list
# over its limit ends its activation in ERROR. An entry is a non-empty line
# that is not a comment ('#'); the emulator counts lines in every format.
MAX_THREAT_LIST_ENTRIES = 250_000
MAX_IP_SET_ENTRIES = 2_000
# "The maximum size of the file that hosts your trusted IP list or threat list
# is 35MB" (user guide, "Working with trusted IP lists and threat lists").
# Whether MB is 10^6 or 2^20 bytes is not said: the emulator takes decimal
# megabytes, the stricter reading (as guardsync does), so anything over
# 35,000,000 bytes ends in ERROR.
MAX_LIST_BYTES = 35 * 1000 * 1000
# API_CreateIPSet: name 1-300 characters, "alphanumeric, whitespace, dash (-),
# and underscores (_)".
IP_SET_NAME_RE = re.compile(r"^[A-Za-z0-9 _-]{1,300}$")
MAX_FILTERS = 100  # "100 filters per account per region"
FILTER_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
FILTER_ACTIONS = {"NOOP", "ARCHIVE"}
# API_Condition: current keys plus the deprecated short ones moto stores as-is.
CONDITION_KEYS = {
    "equals", "notEquals", "greaterThan", "greaterThanOrEqual", "lessThan",
    "lessThanOrEqual", "matches", "notMatches", "eq", "neq", "gt", "gte", "lt", "lte",
}
MAX_MATCH_VALUES = 5  # Matches/NotMatches take at most 5 values
# API_ThreatIntelSet statuses during which UpdateThreatIntelSet/DeleteThreatIntelSet fail
BUSY_STATUSES = {"ACTIVATING", "DEACTIVATING", "DELETE_PENDING"}
# Member relationship statuses (API_Member.relationshipStatus) that ListMembers
# onlyAssociated=true keeps.
ASSOCIATED_STATUSES = {"Enabled", "Invited", "Disabled", "EmailVerificationInProgress"}
MAX_PAGE = 50  # maxResults upper bound for GuardDuty List* calls


class BadRequest(JsonRESTError):
    code = 400

    def __init__(self, message: str, error_type: str = "BadRequestException"):
        super().__init__(error_type, message)

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("X-Amzn-ErrorType", "BadRequestException")]


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


# --- S3 locations --------------------------------------------------------------
_LOCATION_PATTERNS = [
    re.compile(r"^https://s3\.amazonaws\.com/(?P<bucket>[^/]+)/(?P<key>.+)$"),
    re.compile(r"^https://s3[.-](?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<bucket>[^/]+)/(?P<key>.+)$"),
    re.compile(r"^https://(?P<bucket>[^/]+)\.s3\.amazonaws\.com/(?P<key>.+)$"),
    re.compile(r"^https://(?P<bucket>[^/]+)\.s3[.-](?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<key>.+)$"),
    re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$"),
]


def parse_location(location: str) -> tuple[str, str]:
    """(bucket, key) for the URL forms GuardDuty accepts as a ThreatIntelSet location."""
    for pat in _LOCATION_PATTERNS:
        m = pat.match(location or "")
        if m:
            return m.group("bucket"), unquote(m.group("key"))
    raise BadRequest(
        "The request is rejected because the location is not a valid S3 URL: " + str(location),
        "InvalidInputException",
    )


# --- models ------------------------------------------------------------------
class ThreatIntelSet:
    """A threat IP list (API_ThreatIntelSet). `IPSet` (trusted IP list) shares
    the whole model; only its ARN kind, entry limit and storage differ."""
    kind = "threatintelset"
    label = "ThreatIntelSet"
    max_entries = MAX_THREAT_LIST_ENTRIES

    def __init__(self, account: str, region: str, detector_id: str, name: str, fmt: str,
                 location: str, activate: bool, tags: dict, expected_owner: str | None):
        self.id = uuid.uuid4().hex
        self.account = account
        self.region = region
        self.detector_id = detector_id
        self.name = name
        self.format = fmt
        self.location = location
        self.tags = dict(tags or {})
        self.expected_bucket_owner = expected_owner
        self._status = "INACTIVE"
        self._since = 0.0
        self.error_reason: str | None = None
        if activate:
            self.start("ACTIVATING")

    @property
    def arn(self) -> str:
        return (f"arn:aws:guardduty:{self.region}:{self.account}:detector/"
                f"{self.detector_id}/{self.kind}/{self.id}")

    def start(self, transitional: str) -> None:
        self._status = transitional
        self._since = time.monotonic()

    def _resolve_activation(self) -> str:
        """ACTIVE if GuardDuty (as this account) can read the object and the
        list is within its limits (file size, entries), else ERROR."""
        bucket, key = parse_location(self.location)
        if not s3_policy.object_readable_by(bucket, key, self.account):
            self.error_reason = f"the object {self.location} does not exist or cannot be read"
            return "ERROR"
        self.error_reason = list_limit_error(bucket, key, self.max_entries)
        return "ERROR" if self.error_reason else "ACTIVE"

    @property
    def status(self) -> str:
        """Transitional statuses resolve lazily once activation_delay_ms has passed:
        ACTIVATING -> ACTIVE or ERROR (`_resolve_activation`); DEACTIVATING -> INACTIVE."""
        if self._status in ("ACTIVATING", "DEACTIVATING"):
            delay = float(state.CONFIG.get("activation_delay_ms", 200)) / 1000.0
            if time.monotonic() - self._since >= delay:
                if self._status == "DEACTIVATING":
                    self._status = "INACTIVE"
                else:
                    self._status = self._resolve_activation()
        return self._status

    def to_json(self) -> dict:
        out = {"name": self.name, "format": self.format, "location": self.location,
               "status": self.status, "tags": self.tags}
        if self.expected_bucket_owner:
            out["expectedBucketOwner"] = self.expected_bucket_owner
        return out


class IPSet(ThreatIntelSet):
    """A trusted IP list (API_CreateIPSet / API_GetIPSet): same statuses,
    activation, busy rules, idempotency and owner check as a ThreatIntelSet."""
    kind = "ipset"
    label = "IPSet"
    max_entries = MAX_IP_SET_ENTRIES


# (bucket, key, etag) -> entry count: lists are re-read on every activation.
_ENTRY_CACHE: dict = {}


def count_entries(data: bytes) -> int:
    """Entries of a list file: non-empty lines that are not comments ('#')."""
    n = 0
    for line in data.splitlines():
        line = line.strip()
        if line and not line.startswith(b"#"):
            n += 1
    return n


def list_limit_error(bucket: str, key: str, max_entries: int) -> str | None:
    """Why the object at bucket/key is over a list limit, or None. Reads moto's
    S3 backend directly (the caller has checked the object is readable)."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if not owner:
        return f"bucket {bucket} does not exist"
    partition, owner_account = owner
    b = s3_backends[owner_account][partition].buckets.get(bucket)
    obj = b.keys.get(key) if b is not None else None
    if obj is None or not hasattr(obj, "value"):
        return f"object s3://{bucket}/{key} does not exist"
    size = obj.size
    if size > MAX_LIST_BYTES:
        return f"the list file is {size} bytes, over the limit of {MAX_LIST_BYTES} bytes (35 MB)"
    cache_key = (bucket, key, obj.etag)
    entries = _ENTRY_CACHE.get(cache_key)
    if entries is None:
        entries = count_entries(obj.value)
        if len(_ENTRY_CACHE) > 64:
            _ENTRY_CACHE.clear()
        _ENTRY_CACHE[cache_key] = entries
    if entries > max_entries:
        return f"the list has {entries} entries, over the limit of {max_entries}"
    return None


def finish_transitions() -> int:
    """End every ACTIVATING/DEACTIVATING phase (ThreatIntelSets and IPSets) now, however long
    `activation_delay_ms` is (the control API's `activations/finish`): the
    next read of each set resolves it as if the delay had passed. Returns
    how many sets were in such a phase."""
    n = 0
    for per_region in list(guardduty_backends.values()):
        for backend in list(per_region.values()):
            for det in list(backend.detectors.values()):
                for tis in list(sets_of(det).values()) + list(ip_sets_of(det).values()):
                    if tis._status in ("ACTIVATING", "DEACTIVATING"):
                        tis._since = float("-inf")
                        n += 1
    return n


def entity_sets_of(detector: Detector) -> dict:
    """The threat entity lists of a detector: id -> name (seeded by tests)."""
    if not hasattr(detector, "gs_entity_sets"):
        detector.gs_entity_sets = {}
    return detector.gs_entity_sets


def sets_of(detector: Detector) -> dict:
    if not hasattr(detector, "gs_sets"):
        detector.gs_sets = {}
        detector.gs_tokens = {}
    return detector.gs_sets


def ip_sets_of(detector: Detector) -> dict:
    """The IPSets (trusted IP lists) of a detector: id -> IPSet."""
    if not hasattr(detector, "gs_ip_sets"):
        detector.gs_ip_sets = {}
        detector.gs_ip_tokens = {}
    return detector.gs_ip_sets


# (account, region) -> the backends that have held member records, so that
# finding a member's administrator does not visit every account. A backend
# moto has replaced since (a reset) is skipped: see `administrator_of`.
_MEMBER_HOLDERS: dict[tuple[str, str], GuardDutyBackend] = {}


def members_of(backend: GuardDutyBackend) -> dict:
    if not hasattr(backend, "gs_members"):
        backend.gs_members = {}
        _MEMBER_HOLDERS[(backend.account_id, backend.region_name)] = backend
    return backend.gs_members


def backend_for(account: str, region: str) -> GuardDutyBackend:
    return guardduty_backends[account][region]


def detector_for(account: str, region: str) -> Detector | None:
    # `in` on keys(): an AccountSpecificBackend's own `in` is true for every
    # Region moto knows, created or not.
    if account not in guardduty_backends.keys():
        return None
    if region not in guardduty_backends[account].keys():
        return None
    dets = list(guardduty_backends[account][region].detectors.values())
    return dets[0] if dets else None


def administrator_of(account: str, region: str) -> tuple[str, dict] | None:
    """The administrator holding a member record for `account` in `region`, if any
    (if several do, the first account moto created)."""
    found = []
    for (acct, reg), backend in list(_MEMBER_HOLDERS.items()):
        if reg != region or acct == account:
            continue
        per_region = dict.get(guardduty_backends, acct)
        if per_region is None or dict.get(per_region, region) is not backend:
            continue  # replaced by a reset
        rec = getattr(backend, "gs_members", {}).get(account)
        if rec is not None:
            found.append((acct, rec))
    if len(found) > 1:
        order = {a: i for i, a in enumerate(guardduty_backends.keys())}
        found.sort(key=lambda f: order[f[0]])
    return found[0] if found else None


def associated_admin(account: str, region: str) -> str | None:
    """Administrator of an associated member (relationship Enabled), else None."""
    found = administrator_of(account, region)
    if found and found[1]["relationshipStatus"] == "Enabled":
        return found[0]
    return None


def is_org_admin(account: str, region: str) -> bool:
    for per_region in list(guardduty_backends.values()):
        if region in per_region.keys() and account in per_region[region].admin_account_ids:
            return True
    return False


# --- paging ------------------------------------------------------------------
# API_GetMembers (and DisassociateMembers, DeleteMembers): AccountIds, 1-50 items.
MAX_ACCOUNT_IDS = 50


def paginate(items: list, max_results: Any, next_token: Any, default: int = MAX_PAGE) -> tuple[list, str | None]:
    try:
        size = int(max_results) if max_results not in (None, "") else default
    except ValueError:
        raise BadRequest("maxResults must be an integer", "InvalidInputException")
    if not 1 <= size <= MAX_PAGE:
        raise BadRequest(f"maxResults must be between 1 and {MAX_PAGE}", "InvalidInputException")
    start = 0
    if next_token:
        try:
            start = int(str(next_token).split(":", 1)[1])
        except (IndexError, ValueError):
            raise BadRequest("The nextToken is invalid", "InvalidInputException")
    page = items[start:start + size]
    token = f"gs:{start + size}" if start + size < len(items) else None
    return page, token


# --- the response class ----------------------------------------------------------
class GuardDutyExtResponse(GuardDutyResponse):
    # -- helpers --
    def _json(self) -> dict:
        try:
            return json.loads(self.body) if self.body else {}
        except ValueError:
            raise BadRequest("The request body is not valid JSON", "InvalidInputException")

    def _q(self, name: str) -> str | None:
        v = self.querystring.get(name)
        return v[0] if isinstance(v, list) else v

    def _path_parts(self) -> list[str]:
        return [unquote(p) for p in self.path.strip("/").split("/")]

    def _own_detector(self) -> Detector:
        """The path's detector; it must belong to the caller in this region."""
        parts = self._path_parts()
        return self.guardduty_backend.get_detector(parts[1])

    def _forbid_associated_member(self, what: str) -> None:
        # User guide, "Managing multiple accounts": only the administrator manages
        # threat lists and suppression rules for associated members; a member
        # that is associated cannot create/update/delete its own.
        admin = associated_admin(self.current_account, self.region)
        if admin:
            raise BadRequest(
                f"The request is rejected because the current account cannot {what} "
                f"while it is a member account associated with administrator account {admin}."
            )

    @staticmethod
    def _fingerprint(params: dict) -> str:
        return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()

    @staticmethod
    def _ok(status: int = 200, body: Any = None):
        return (json.dumps(body) if body is not None else ""), {
            "status": status, "Content-Type": "application/json"}

    # -- ThreatIntelSet and IPSet (API_CreateThreatIntelSet, API_CreateIPSet, ...) --
    # Both follow one model (statuses, activation, busy statuses, clientToken,
    # expectedBucketOwner, administrator rules); `_KINDS` holds what differs.
    _KINDS = {
        "threatintelset": {"cls": ThreatIntelSet, "store": "gs_sets", "tokens": "gs_tokens",
                           "id_key": "threatIntelSetId", "ids_key": "threatIntelSetIds",
                           "what": "manage ThreatIntelSets"},
        "ipset": {"cls": IPSet, "store": "gs_ip_sets", "tokens": "gs_ip_tokens",
                  "id_key": "ipSetId", "ids_key": "ipSetIds", "what": "manage IPSets"},
    }

    @staticmethod
    def _store(detector: Detector, kind: str) -> dict:
        return sets_of(detector) if kind == "threatintelset" else ip_sets_of(detector)

    def _check_bucket_owner(self, location: str, expected: str | None) -> None:
        if not expected:
            return
        bucket, _ = parse_location(location)
        owner = s3_policy.bucket_owner(bucket)
        if owner is not None and owner != expected:
            raise BadRequest(
                f"The request is rejected because the expectedBucketOwner {expected} does not "
                f"own bucket {bucket} (AccessDenied).", "AccessDeniedException")

    def _check_slots(self, kind: str, detector: Detector) -> None:
        # A set listed as DELETED no longer holds a slot (the emulator removes
        # sets at once, so none is ever DELETED).
        def held(store: dict) -> int:
            return sum(1 for x in store.values() if x._status != "DELETED")

        if kind == "ipset":
            # Quotas: one trusted IP list per account per Region; IPSets do not
            # take threat-list slots and threat lists do not take this one.
            if held(ip_sets_of(detector)) >= MAX_IP_SETS:
                raise BadRequest("The request is rejected because the number of IPSets (trusted IP "
                                 f"lists) would exceed the limit of {MAX_IP_SETS} per account per Region.")
            return
        # Threat entity lists may share the 6 slots (the documentation is
        # unclear): the stricter reading counts them.
        if held(sets_of(detector)) + len(entity_sets_of(detector)) >= MAX_THREAT_INTEL_SETS:
            raise BadRequest("The request is rejected because the number of threat lists "
                             f"would exceed the limit of {MAX_THREAT_INTEL_SETS} per detector.")

    def _create_set(self, kind: str) -> Any:
        k = self._KINDS[kind]
        label = k["cls"].label
        detector = self._own_detector()
        p = self._json()
        self._forbid_associated_member(k["what"])
        sets = self._store(detector, kind)
        tokens = getattr(detector, k["tokens"])
        for field in ("name", "format", "location", "activate"):
            if p.get(field) is None:
                raise BadRequest(f"The request is rejected because {field} is required.",
                                 "InvalidInputException")
        token = p.get("clientToken")
        fingerprint = self._fingerprint({k2: v for k2, v in p.items() if k2 != "clientToken"})
        if token and token in tokens:
            fp, set_id = tokens[token]
            if fp == fingerprint and set_id in sets:
                return self._ok(body={k["id_key"]: set_id})
            raise BadRequest("The request is rejected because the clientToken was already used "
                             "with different parameters.")
        if p["format"] not in THREAT_INTEL_SET_FORMATS:
            raise BadRequest(f"The request is rejected because format {p['format']} is not valid.",
                             "InvalidInputException")
        if kind == "ipset" and not IP_SET_NAME_RE.match(str(p["name"])):
            raise BadRequest("The request is rejected because the IPSet name must be 1-300 "
                             "characters of letters, digits, spaces, '-' and '_'.",
                             "InvalidInputException")
        parse_location(p["location"])
        if any(s.name == p["name"] for s in sets.values()):
            raise BadRequest(f"The request is rejected because a {label} with the name "
                             f"{p['name']} already exists in this detector.")
        self._check_slots(kind, detector)
        self._check_bucket_owner(p["location"], p.get("expectedBucketOwner"))
        new = k["cls"](self.current_account, self.region, detector.id, p["name"],
                       p["format"], p["location"], bool(p["activate"]),
                       p.get("tags") or {}, p.get("expectedBucketOwner"))
        sets[new.id] = new
        if token:
            tokens[token] = (fingerprint, new.id)
        return self._ok(body={k["id_key"]: new.id})

    def _visible(self, kind: str) -> dict:
        """API_ListThreatIntelSets / API_ListIPSets: "If you use this operation from a
        member account, the ThreatIntelSets [IPSets] associated with the administrator
        account are returned." """
        detector = self._own_detector()
        admin = associated_admin(self.current_account, self.region)
        if admin:
            admin_detector = detector_for(admin, self.region)
            return self._store(admin_detector, kind) if admin_detector else {}
        return self._store(detector, kind)

    def _visible_sets(self) -> dict:
        return self._visible("threatintelset")

    def _get_set(self, sets: dict, set_id: str) -> ThreatIntelSet:
        if set_id not in sets:
            raise BadRequest("The request is rejected since no such resource found.",
                             "InvalidInputException")
        return sets[set_id]

    def _list_sets(self, kind: str) -> Any:
        ids = list(self._visible(kind).keys())
        page, token = paginate(ids, self._q("maxResults"), self._q("nextToken"))
        body: dict = {self._KINDS[kind]["ids_key"]: page}
        if token:
            body["nextToken"] = token
        return self._ok(body=body)

    def _update_set(self, kind: str) -> Any:
        detector = self._own_detector()
        self._forbid_associated_member(self._KINDS[kind]["what"])
        sets = self._store(detector, kind)
        tis = self._get_set(sets, self._path_parts()[3])
        label = tis.label
        p = self._json()
        # API_UpdateThreatIntelSet / user guide: no change while ACTIVATING,
        # DEACTIVATING or DELETE_PENDING.
        if tis.status in BUSY_STATUSES:
            raise BadRequest(f"The request is rejected because the {label} is in "
                             f"{tis.status} status; it cannot be changed until that completes.")
        name = p.get("name")
        if name and kind == "ipset" and not IP_SET_NAME_RE.match(str(name)):
            raise BadRequest("The request is rejected because the IPSet name must be 1-300 "
                             "characters of letters, digits, spaces, '-' and '_'.",
                             "InvalidInputException")
        if name and name != tis.name and any(s.name == name for s in sets.values()):
            raise BadRequest(f"The request is rejected because a {label} with the name "
                             f"{name} already exists in this detector.")
        if p.get("location"):
            parse_location(p["location"])
        self._check_bucket_owner(p.get("location") or tis.location, p.get("expectedBucketOwner"))
        if name:
            tis.name = name
        if p.get("location"):
            tis.location = p["location"]
        if p.get("expectedBucketOwner"):
            tis.expected_bucket_owner = p["expectedBucketOwner"]
        if p.get("activate") is True:
            tis.start("ACTIVATING")
        elif p.get("activate") is False and tis.status in ("ACTIVE", "ERROR"):
            tis.start("DEACTIVATING")
        return self._ok(body={})

    def _delete_set(self, kind: str) -> Any:
        # Our choice: the set is removed at once (no DELETE_PENDING phase), so
        # its name and its slot are free again immediately.
        detector = self._own_detector()
        self._forbid_associated_member(self._KINDS[kind]["what"])
        sets = self._store(detector, kind)
        tis = self._get_set(sets, self._path_parts()[3])
        if tis.status in BUSY_STATUSES:
            raise BadRequest(f"The request is rejected because the {tis.label} is in "
                             f"{tis.status} status; it cannot be deleted until that completes.")
        del sets[tis.id]
        return self._ok(body={})

    def create_threat_intel_set(self) -> Any:
        return self._create_set("threatintelset")

    def list_threat_intel_sets(self) -> Any:
        return self._list_sets("threatintelset")

    def get_threat_intel_set(self) -> Any:
        sets = self._visible("threatintelset")
        return self._ok(body=self._get_set(sets, self._path_parts()[3]).to_json())

    def update_threat_intel_set(self) -> Any:
        return self._update_set("threatintelset")

    def delete_threat_intel_set(self) -> Any:
        return self._delete_set("threatintelset")

    # API_CreateIPSet, API_ListIPSets, API_GetIPSet, API_UpdateIPSet, API_DeleteIPSet
    def create_ip_set(self) -> Any:
        return self._create_set("ipset")

    def list_ip_sets(self) -> Any:
        return self._list_sets("ipset")

    def get_ip_set(self) -> Any:
        sets = self._visible("ipset")
        return self._ok(body=self._get_set(sets, self._path_parts()[3]).to_json())

    def update_ip_set(self) -> Any:
        return self._update_set("ipset")

    def delete_ip_set(self) -> Any:
        return self._delete_set("ipset")

    def list_threat_entity_sets(self) -> Any:
        # Threat entity lists (IPs and domains) exist only as far as a test
        # seeds them (control API `threat_entity_sets`): listed, never used.
        detector = self._own_detector()
        ids = list(entity_sets_of(detector).keys())
        page, token = paginate(ids, self._q("maxResults"), self._q("nextToken"))
        body: dict = {"threatEntitySetIds": page}
        if token:
            body["nextToken"] = token
        return self._ok(body=body)

    # -- Filters (API_CreateFilter, ...) --
    @staticmethod
    def _validate_criteria(criteria: Any) -> None:
        if not isinstance(criteria, dict) or not isinstance(criteria.get("criterion"), dict):
            raise BadRequest("The request is rejected because findingCriteria.criterion is required.",
                             "InvalidInputException")
        for field, cond in criteria["criterion"].items():
            if not isinstance(cond, dict) or not cond:
                raise BadRequest(f"The request is rejected because the condition for {field} is empty.",
                                 "InvalidInputException")
            for op, val in cond.items():
                if op not in CONDITION_KEYS:
                    raise BadRequest(f"The request is rejected because {op} is not a valid "
                                     f"condition operator for {field}.", "InvalidInputException")
                if op in ("matches", "notMatches") and len(val) > MAX_MATCH_VALUES:
                    raise BadRequest(f"The request is rejected because {op} takes at most "
                                     f"{MAX_MATCH_VALUES} values.", "InvalidInputException")

    @staticmethod
    def _validate_rank_action(p: dict) -> None:
        rank = p.get("rank")
        if rank is not None and not (isinstance(rank, int) and 1 <= rank <= 100):
            raise BadRequest("The request is rejected because rank must be between 1 and 100.",
                             "InvalidInputException")
        if p.get("action") is not None and p["action"] not in FILTER_ACTIONS:
            raise BadRequest("The request is rejected because action must be NOOP or ARCHIVE.",
                             "InvalidInputException")

    # -- Filter ranks are positions (API_CreateFilter, API_UpdateFilter) --
    # A filter's rank is its position among the detector's filters, from 1 and
    # without gaps: a create may insert at 1..count+1 (anything larger is
    # "rank is out-of-bounds"), shifting the filters at and after it down; a
    # delete closes the gap; an update with a rank moves the filter there
    # (1..count). Users of terraform-provider-aws meet the error
    # (terraform-provider-aws issues 34470 and 49127).
    @staticmethod
    def _ordered(detector: Detector) -> list:
        return sorted(detector.filters.values(), key=lambda f: f.rank)

    @staticmethod
    def _renumber(order: list) -> None:
        for i, f in enumerate(order, start=1):
            f.rank = i

    @staticmethod
    def _out_of_bounds(rank: int, most: int) -> None:
        if not 1 <= rank <= most:
            raise BadRequest("The request is rejected because the rank is out-of-bounds "
                             f"(1 to {most} here).", "BadRequestException")

    def create_filter(self) -> Any:
        detector = self._own_detector()
        self._forbid_associated_member("manage filters")
        p = self._json()
        sets_of(detector)  # ensures gs_tokens
        name = p.get("name") or ""
        token = p.get("clientToken")
        fingerprint = self._fingerprint({k: v for k, v in p.items() if k != "clientToken"})
        if token and token in detector.gs_tokens:
            fp, existing = detector.gs_tokens[token]
            if fp == fingerprint and existing in detector.filters:
                return self._ok(body={"name": existing})
            raise BadRequest("The request is rejected because the clientToken was already used "
                             "with different parameters.")
        if not FILTER_NAME_RE.match(name):
            raise BadRequest("The request is rejected because the filter name must be 3-64 "
                             "characters of [A-Za-z0-9._-].", "InvalidInputException")
        self._validate_rank_action(p)
        self._validate_criteria(p.get("findingCriteria"))
        if name in detector.filters:
            raise BadRequest(f"The request is rejected because a filter named {name} already exists.")
        if len(detector.filters) >= MAX_FILTERS:
            raise BadRequest("The request is rejected because the number of filters would exceed "
                             f"the limit of {MAX_FILTERS} per detector.")
        order = self._ordered(detector)
        rank = p.get("rank") or len(order) + 1
        self._out_of_bounds(rank, len(order) + 1)
        self.guardduty_backend.create_filter(detector.id, name, p.get("action") or "NOOP",
                                             p.get("description") or "", p["findingCriteria"],
                                             rank)
        new = detector.filters[name]
        new.gs_tags = dict(p.get("tags") or {})
        order.insert(rank - 1, new)
        self._renumber(order)
        if token:
            detector.gs_tokens[token] = (fingerprint, name)
        return self._ok(body={"name": name})

    def _filter(self, detector: Detector):
        name = self._path_parts()[3]
        if name not in detector.filters:
            raise BadRequest("The request is rejected since no such resource found.",
                             "InvalidInputException")
        return detector.filters[name]

    def get_filter(self) -> Any:
        detector = self._own_detector()
        f = self._filter(detector)
        body = f.to_json()
        body["tags"] = getattr(f, "gs_tags", {})
        return self._ok(body=body)

    def update_filter(self) -> Any:
        detector = self._own_detector()
        self._forbid_associated_member("manage filters")
        f = self._filter(detector)
        p = self._json()
        self._validate_rank_action(p)
        if p.get("findingCriteria") is not None:
            self._validate_criteria(p["findingCriteria"])
        order = self._ordered(detector)
        if p.get("rank") is not None:
            self._out_of_bounds(p["rank"], len(order))
        f.update(action=p.get("action"), description=p.get("description"),
                 finding_criteria=p.get("findingCriteria"), rank=None)
        if p.get("rank") is not None:
            order.remove(f)
            order.insert(p["rank"] - 1, f)
            self._renumber(order)
        return self._ok(body={"name": f.name})

    def delete_filter(self) -> Any:
        detector = self._own_detector()
        self._forbid_associated_member("manage filters")
        f = self._filter(detector)
        del detector.filters[f.name]
        self._renumber(self._ordered(detector))
        return self._ok(body={})

    def list_filters(self) -> Any:
        detector = self._own_detector()
        page, token = paginate(list(detector.filters.keys()), self._q("maxResults"),
                               self._q("nextToken"))
        body: dict = {"filterNames": page}
        if token:
            body["nextToken"] = token
        return self._ok(body=body)

    # -- Tags (API_TagResource, API_UntagResource, API_ListTagsForResource) --
    def _tag_target(self) -> dict:
        arn = unquote(self.path.split("/tags/", 1)[1])
        m = re.match(r"^arn:aws[a-z-]*:guardduty:(?P<region>[^:]+):(?P<account>\d{12}):detector/"
                     r"(?P<det>[^/]+)(?:/(?P<kind>threatintelset|ipset|filter)/(?P<rid>.+))?$", arn)
        if not m:
            raise BadRequest(f"The request is rejected because {arn} is not a valid resource ARN.",
                             "InvalidInputException")
        if m.group("account") != self.current_account or m.group("region") != self.region:
            raise BadRequest("The request is rejected because the resource is not owned by the "
                             "current account.", "AccessDeniedException")
        detector = self.guardduty_backend.get_detector(m.group("det"))
        kind, rid = m.group("kind"), m.group("rid")
        if kind is None:
            return detector.tags
        if kind == "threatintelset":
            return self._get_set(sets_of(detector), rid).tags
        if kind == "ipset":
            return self._get_set(ip_sets_of(detector), rid).tags
        if rid not in detector.filters:
            raise BadRequest("The request is rejected since no such resource found.",
                             "InvalidInputException")
        f = detector.filters[rid]
        if not hasattr(f, "gs_tags"):
            f.gs_tags = {}
        return f.gs_tags

    def tag_resource(self) -> Any:
        tags = self._tag_target()
        tags.update(self._json().get("tags") or {})
        return self._ok(204)

    def untag_resource(self) -> Any:
        tags = self._tag_target()
        for key in self.querystring.get("tagKeys", []):
            tags.pop(key, None)
        return self._ok(204)

    def list_tags_for_resource(self) -> Any:
        return self._ok(body={"tags": dict(self._tag_target())})

    # -- Members (API_CreateMembers, API_ListMembers, ...) --
    def _member_json(self, admin_detector: Detector, account: str, rec: dict) -> dict:
        member_det = detector_for(account, self.region)
        out = {"accountId": account, "masterId": self.current_account,
               "administratorId": self.current_account, "email": rec["email"],
               "relationshipStatus": rec["relationshipStatus"], "invitedAt": rec["invitedAt"],
               "updatedAt": rec["updatedAt"]}
        if member_det is not None:
            out["detectorId"] = member_det.id
        return out

    def create_members(self) -> Any:
        detector = self._own_detector()
        members = members_of(self.guardduty_backend)
        unprocessed = []
        for d in self._json().get("accountDetails") or []:
            acct = d.get("accountId")
            other = administrator_of(acct, self.region)
            if acct == self.current_account:
                unprocessed.append({"accountId": acct, "result": "The request is rejected because "
                                    "the current account cannot be its own member."})
            elif other and other[0] != self.current_account and \
                    other[1]["relationshipStatus"] in ASSOCIATED_STATUSES:
                unprocessed.append({"accountId": acct, "result": "The request is rejected because the "
                                    "given account ID is already associated with another administrator."})
            else:
                same_org = (s3_policy.org_id_of(acct) or "x") == (s3_policy.org_id_of(self.current_account) or "y")
                has_det = detector_for(acct, self.region) is not None
                status = "Enabled" if same_org and has_det else "Created"
                members[acct] = new_member_record(d.get("email"), status)
        del detector
        return self._ok(body={"unprocessedAccounts": unprocessed})

    def list_members(self) -> Any:
        detector = self._own_detector()
        members = members_of(self.guardduty_backend)
        only = (self._q("onlyAssociated") or "true").lower() != "false"
        accts = [a for a, r in members.items()
                 if not only or r["relationshipStatus"] in ASSOCIATED_STATUSES]
        page, token = paginate(accts, self._q("maxResults"), self._q("nextToken"))
        body: dict = {"members": [self._member_json(detector, a, members[a]) for a in page]}
        if token:
            body["nextToken"] = token
        return self._ok(body=body)

    def _account_ids_op(self):
        detector = self._own_detector()
        members = members_of(self.guardduty_backend)
        found, unprocessed = [], []
        accts = self._json().get("accountIds")
        # API_GetMembers, API_DisassociateMembers, API_DeleteMembers: AccountIds
        # is required, 1 to 50 items, each 12 characters.
        if not isinstance(accts, list) or not 1 <= len(accts) <= MAX_ACCOUNT_IDS:
            raise BadRequest(f"accountIds must name 1 to {MAX_ACCOUNT_IDS} accounts",
                             "InvalidInputException")
        if any(not isinstance(a, str) or len(a) != 12 for a in accts):
            raise BadRequest("accountIds must be 12-character account ids", "InvalidInputException")
        for acct in accts:
            if acct in members:
                found.append(acct)
            else:
                unprocessed.append({"accountId": acct, "result": "The request is rejected because "
                                    "the input account ID is not a member of the current account."})
        return detector, members, found, unprocessed

    def get_members(self) -> Any:
        detector, members, found, unprocessed = self._account_ids_op()
        return self._ok(body={"members": [self._member_json(detector, a, members[a]) for a in found],
                              "unprocessedAccounts": unprocessed})

    def disassociate_members(self) -> Any:
        _, members, found, unprocessed = self._account_ids_op()
        for acct in found:
            members[acct]["relationshipStatus"] = "Removed"
            members[acct]["updatedAt"] = _now_iso()
        return self._ok(body={"unprocessedAccounts": unprocessed})

    def delete_members(self) -> Any:
        _, members, found, unprocessed = self._account_ids_op()
        for acct in found:
            del members[acct]
        return self._ok(body={"unprocessedAccounts": unprocessed})

    def get_administrator_account(self) -> Any:
        self._own_detector()
        found = administrator_of(self.current_account, self.region)
        if not found:
            return self._ok(body={})
        admin, rec = found
        return self._ok(body={"administrator": {
            "accountId": admin, "invitationId": rec["invitationId"],
            "relationshipStatus": rec["relationshipStatus"], "invitedAt": rec["invitedAt"]}})

    def get_master_account(self) -> Any:
        body, headers = self.get_administrator_account()
        data = json.loads(body)
        return self._ok(body={"master": data["administrator"]} if data else {})

    def describe_organization_configuration(self) -> Any:
        self._own_detector()
        # API_DescribeOrganizationConfiguration: only the delegated administrator.
        if not is_org_admin(self.current_account, self.region):
            raise BadRequest("The request is rejected because the current account is not the "
                             "GuardDuty delegated administrator account for the organization.")
        return self._ok(body={
            "autoEnable": True, "autoEnableOrganizationMembers": "NEW",
            "memberAccountLimitReached": False,
            "dataSources": {"s3Logs": {"autoEnable": False}},
        })


    # -- Findings (API_ListFindings, API_GetFindings, API_ArchiveFindings,
    #    API_UnarchiveFindings; model in findings_ext.py) --
    def list_findings(self) -> Any:
        from . import findings_ext as fx

        detector = self._own_detector()
        p = self._json()
        criteria = p.get("findingCriteria")
        try:
            fx.validate_criteria(criteria)
        except fx.FindingError as e:
            raise BadRequest(str(e), e.error_type)
        # sortCriteria is ignored: findings are listed in the order they were added.
        found = fx.filter_findings(list(fx.findings_of(detector).values()), criteria)
        page, token = paginate([f["id"] for f in found], p.get("maxResults"), p.get("nextToken"))
        body: dict = {"findingIds": page}
        if token:
            body["nextToken"] = token
        return self._ok(body=body)

    def get_findings(self) -> Any:
        from . import findings_ext as fx

        detector = self._own_detector()
        ids = self._json().get("findingIds")
        if not isinstance(ids, list):
            raise BadRequest("The request is rejected because findingIds is required.",
                             "InvalidInputException")
        if len(ids) > fx.MAX_GET_FINDINGS:
            raise BadRequest("The request is rejected because findingIds takes at most "
                             f"{fx.MAX_GET_FINDINGS} ids.", "InvalidInputException")
        store = fx.findings_of(detector)
        return self._ok(body={"findings": [store[i] for i in ids if isinstance(i, str) and i in store]})

    # -- API_ArchiveFindings, API_UnarchiveFindings --
    def _set_archived(self, archived: bool) -> Any:
        """ArchiveFindings: "Only the administrator account can archive findings.
        Member accounts don't have permission to archive findings from their
        accounts." An associated member is refused (BadRequestException, the
        only 400 the API reference lists); UnarchiveFindings gets the same rule
        (not stated for it: the stricter reading). A standalone account (or an
        administrator) changes the findings stored in its detector, its members'
        included (shared objects, so the member sees the change). Unknown ids
        refuse the whole call (undocumented: the stricter reading)."""
        from . import findings_ext as fx

        verb = "archive" if archived else "unarchive"
        detector = self._own_detector()
        ids = self._json().get("findingIds")
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise BadRequest("The request is rejected because findingIds must be a list of "
                             "finding ids.", "InvalidInputException")
        if len(ids) > fx.MAX_ARCHIVE_FINDINGS:
            raise BadRequest(f"The request is rejected because the number of finding ids ({len(ids)}) "
                             f"is out-of-bounds: {verb} takes at most {fx.MAX_ARCHIVE_FINDINGS}.",
                             "InvalidInputException")
        admin = associated_admin(self.current_account, self.region)
        if admin:
            raise BadRequest(f"The request is rejected because member accounts don't have permission "
                             f"to {verb} findings; only the administrator account {admin} can.")
        store = fx.findings_of(detector)
        unknown = [i for i in ids if i not in store]
        if unknown:
            raise BadRequest(f"The request is rejected because these findings do not exist in "
                             f"detector {detector.id}: {', '.join(unknown)}.")
        fx.set_archived([store[i] for i in ids], archived)
        return self._ok(body={})

    def archive_findings(self) -> Any:
        return self._set_archived(True)

    def unarchive_findings(self) -> Any:
        return self._set_archived(False)


def new_member_record(email: str | None, status: str) -> dict:
    now = _now_iso()
    return {"email": email or "member@example.com", "relationshipStatus": status,
            "invitedAt": now, "updatedAt": now, "invitationId": uuid.uuid4().hex}


# --- routes ------------------------------------------------------------------
EXTRA_PATHS = [
    "{0}/detector/(?P<detector_id>[^/]+)/threatintelset$",
    "{0}/detector/(?P<detector_id>[^/]+)/threatintelset/(?P<tis_id>[^/]+)$",
    "{0}/detector/(?P<detector_id>[^/]+)/threatentityset$",
    # moto 5.2.5 has no IPSet routes or handlers: CreateIPSet ... DeleteIPSet are ours.
    "{0}/detector/(?P<detector_id>[^/]+)/ipset$",
    "{0}/detector/(?P<detector_id>[^/]+)/ipset/(?P<ip_set_id>[^/]+)$",
    "{0}/detector/(?P<detector_id>[^/]+)/member$",
    "{0}/detector/(?P<detector_id>[^/]+)/member/(?P<member_op>get|disassociate|delete)$",
    "{0}/detector/(?P<detector_id>[^/]+)/master$",
    "{0}/detector/(?P<detector_id>[^/]+)/admin$",
    "{0}/tags/(?P<resource_arn>.+)$",
    # moto 5.2.5 has no findings routes or handlers; ListFindings and GetFindings are ours.
    "{0}/detector/(?P<detector_id>[^/]+)/findings$",
    "{0}/detector/(?P<detector_id>[^/]+)/findings/get$",
    "{0}/detector/(?P<detector_id>[^/]+)/findings/archive$",
    "{0}/detector/(?P<detector_id>[^/]+)/findings/unarchive$",
]


def install() -> None:
    """Point every GuardDuty URL (moto's and ours) at GuardDutyExtResponse."""
    import moto.guardduty.urls as urls

    for path in list(urls.url_paths):
        urls.url_paths[path] = GuardDutyExtResponse.dispatch
    for path in EXTRA_PATHS:
        urls.url_paths[path] = GuardDutyExtResponse.dispatch

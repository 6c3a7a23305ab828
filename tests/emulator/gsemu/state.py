"""Emulator-wide state that is not part of any moto backend.

* `CONFIG`: runtime knobs set through `POST /_guardsync/config`.
* `SCENARIO`: facts from the seeded scenario that moto has no model for
  (opt-in region status per account, accounts whose role cannot be assumed).
* `REQUEST`: a thread-local describing the request being served (caller
  account, TLS or not). moto's werkzeug server runs one thread per request,
  so patched moto internals (S3 bucket policy evaluation) read it from here.

`reset()` restores all of it; moto's own backends are reset separately.
"""

import threading

DEFAULT_CONFIG = {
    # How long a ThreatIntelSet stays ACTIVATING after Create/Update with activate=true.
    "activation_delay_ms": 200,
    # Requests count as TLS (the real SDK uses https). false => aws:SecureTransport=false.
    "secure_transport": True,
    # Organizations List* return an empty first page with a NextToken (real AWS does that).
    "org_empty_pages": False,
}

CONFIG: dict = dict(DEFAULT_CONFIG)

SCENARIO: dict = {
    # account id -> {region: opt status (ENABLED, ENABLED_BY_DEFAULT, DISABLED, ...)}
    "regions": {},
    # account ids where sts:AssumeRole into any role is denied
    "deny_assume_role": set(),
}

REQUEST = threading.local()

LOCK = threading.RLock()


def reset() -> None:
    CONFIG.clear()
    CONFIG.update(DEFAULT_CONFIG)
    SCENARIO["regions"] = {}
    SCENARIO["deny_assume_role"] = set()


# Opt statuses of a Region that an account cannot use (Account API
# ListRegions): anything but ENABLED and ENABLED_BY_DEFAULT.
NOT_USABLE = {"DISABLED", "DISABLING", "ENABLING"}


def region_disabled(account: str, region: str) -> bool:
    """Whether `account` has not enabled `region` (the scenario's `regions`
    table; a Region it does not list is usable)."""
    return SCENARIO["regions"].get(str(account), {}).get(region) in NOT_USABLE


def request_is_tls() -> bool:
    """aws:SecureTransport for the current request (see the secure_transport knob)."""
    return bool(CONFIG.get("secure_transport", True))


def current_caller() -> str | None:
    return getattr(REQUEST, "account", None)

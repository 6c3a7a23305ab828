"""Fault injection: latency, throttling and server errors, per call.

`POST /_guardsync/faults` replaces the rules; `DELETE /_guardsync/faults`
clears them. A rule matches a call when every selector it sets (service,
operation, account, region) equals the call's; unset selectors match all.

For each call, every matching rule adds its latency (latency_ms +/- a uniform
jitter_ms). Then, in rule order, the first rule that fires decides the answer:
  * throttle_count N: the first N calls matching that rule are throttled;
  * throttle_rate p:  throttled with probability p;
  * error_rate p:     answered with error_status (default 500) with probability p.
Probabilities use one `random.Random(seed)` so a run is reproducible.

Throttling is answered in each protocol's own shape so an AWS SDK classifies
it as throttling (and retries it):
  * JSON protocols (X-Amz-Target): 400 `ThrottlingException`
    (Organizations: `TooManyRequestsException`), with X-Amzn-ErrorType
  * REST-JSON (GuardDuty, Account): 429 `TooManyRequestsException`/`ThrottlingException`
    with X-Amzn-ErrorType
  * query protocols (STS, SNS): 400 XML ErrorResponse with Code `Throttling`
  * S3: 503 XML Error with Code `SlowDown`
"""

import json
import random
import threading
import time
import uuid

_LOCK = threading.Lock()
_RULES: list[dict] = []
_RNG = [random.Random(0)]

SELECTORS = ("service", "operation", "account", "region")


def set_rules(spec: dict) -> None:
    rules = []
    for raw in spec.get("rules", []):
        rule = dict(raw)
        rule["_matched"] = 0
        rules.append(rule)
    with _LOCK:
        _RULES[:] = rules
        _RNG[0] = random.Random(spec.get("seed", 0))


def clear() -> None:
    with _LOCK:
        _RULES.clear()
        _RNG[0] = random.Random(0)


def rules() -> list[dict]:
    with _LOCK:
        return [{k: v for k, v in r.items() if not k.startswith("_")} for r in _RULES]


def _matches(rule: dict, info: dict) -> bool:
    return all(rule.get(k) in (None, info.get(k)) for k in SELECTORS)


def decide(info: dict) -> tuple[float, str | None, int | None]:
    """-> (delay seconds, fault kind 'throttle'|'error'|None, error status)."""
    delay = 0.0
    kind = None
    status = None
    with _LOCK:
        rng = _RNG[0]
        for rule in _RULES:
            if not _matches(rule, info):
                continue
            rule["_matched"] += 1
            lat = float(rule.get("latency_ms") or 0)
            jit = float(rule.get("jitter_ms") or 0)
            if lat or jit:
                delay += max(0.0, lat + rng.uniform(-jit, jit)) / 1000.0
            if kind is not None:
                continue
            count = rule.get("throttle_count")
            if count and rule["_matched"] <= int(count):
                kind = "throttle"
            elif rule.get("throttle_rate") and rng.random() < float(rule["throttle_rate"]):
                kind = "throttle"
            elif rule.get("error_rate") and rng.random() < float(rule["error_rate"]):
                kind = "error"
                status = int(rule.get("error_status") or 500)
    return delay, kind, status


def apply_delay(delay: float) -> None:
    if delay > 0:
        time.sleep(delay)


def _xml_query_error(status: int, code: str, message: str, sender: bool) -> tuple[int, list, bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>{'Sender' if sender else 'Receiver'}</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return status, [("Content-Type", "text/xml")], body.encode()


def _s3_error(status: int, code: str, message: str) -> tuple[int, list, bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    )
    return status, [("Content-Type", "application/xml")], body.encode()


def _json_error(status: int, code: str, message: str) -> tuple[int, list, bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [
        ("Content-Type", "application/json"),
        ("X-Amzn-ErrorType", code),
        ("X-Amzn-RequestId", str(uuid.uuid4())),
    ], body


def throttle_response(info: dict) -> tuple[int, list, bytes]:
    proto = info["protocol"]
    if info["service"] == "s3":
        return _s3_error(503, "SlowDown", "Please reduce your request rate.")
    if proto == "query":
        return _xml_query_error(400, "Throttling", "Rate exceeded", sender=True)
    if info["service"] == "organizations":
        return _json_error(400, "TooManyRequestsException",
                           "AWS Organizations can't complete your request because another request is already in progress. Try again later.")
    if proto == "rest-json":
        return _json_error(429, "TooManyRequestsException", "Rate exceeded")
    return _json_error(400, "ThrottlingException", "Rate exceeded")


def error_response(info: dict, status: int) -> tuple[int, list, bytes]:
    if info["service"] == "s3":
        return _s3_error(status, "InternalError" if status == 500 else "ServiceUnavailable",
                         "We encountered an internal error. Please try again.")
    if info["protocol"] == "query":
        return _xml_query_error(status, "InternalFailure" if status == 500 else "ServiceUnavailable",
                                "An internal error occurred (injected fault).", sender=False)
    code = "InternalServerErrorException" if status == 500 else "ServiceUnavailableException"
    return _json_error(status, code, "An internal error occurred (injected fault).")

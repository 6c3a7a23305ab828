"""Fault injection: latency, throttling and server errors, per call.

`POST /_guardsync/faults` replaces the rules; `DELETE /_guardsync/faults`
clears them. A rule matches a call when every selector it sets (service,
operation, account, region, role_arn) equals the call's; unset selectors match
all. `account` is the caller's account; `role_arn` is the `RoleArn` parameter
of an sts AssumeRole (so a rule can fail AssumeRole into some accounts only).

For each call, every matching rule adds its latency (latency_ms +/- a uniform
jitter_ms). Then, in rule order, the first rule that fires decides the answer:
  * throttle_count N: the first N calls matching that rule are throttled;
  * throttle_rate p:  throttled with probability p;
  * error_rate p:     answered with error_status (default 500) with probability p;
  * reset_rate p:     with probability p, no answer at all: the connection is
                      reset (TCP RST) before any byte of a response is sent, as
                      when an endpoint refuses or drops connections.
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
import socket
import struct
import sys
import threading
import time
import uuid

from . import calllog

_LOCK = threading.Lock()
_RULES: list[dict] = []
_RNG = [random.Random(0)]

SELECTORS = ("service", "operation", "account", "region", "role_arn")


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


def _selector(info: dict, key: str):
    if key == "role_arn":
        return (info.get("params") or {}).get("RoleArn")
    return info.get(key)


def _matches(rule: dict, info: dict) -> bool:
    return all(rule.get(k) in (None, _selector(info, k)) for k in SELECTORS)


def decide(info: dict) -> tuple[float, str | None, int | None]:
    """-> (delay seconds, fault kind 'throttle'|'error'|None, error status).

    A reset never returns: the call is logged with status 0, the connection is
    reset and ConnectionResetError propagates out of the WSGI app (werkzeug
    takes it for a dropped connection and writes nothing)."""
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
            elif rule.get("reset_rate") and rng.random() < float(rule["reset_rate"]):
                kind = "reset"
    if kind == "reset":
        apply_delay(delay)
        _reset_connection(info)
    return delay, kind, status


def apply_delay(delay: float) -> None:
    if delay > 0:
        time.sleep(delay)


def _request_socket():
    """The client socket of the request being served: werkzeug puts it in the
    WSGI environ (`werkzeug.socket`) of the middleware that called decide()."""
    frame = sys._getframe(1)
    while frame is not None:
        environ = frame.f_locals.get("environ")
        if isinstance(environ, dict) and "werkzeug.socket" in environ:
            return environ["werkzeug.socket"]
        frame = frame.f_back
    return None


def _reset_connection(info: dict) -> None:
    """Answer nothing: SO_LINGER 0 makes the close send a TCP RST, and shutting
    the read side down keeps werkzeug from waiting for a next request on this
    keep-alive connection. Then raise ConnectionResetError, which werkzeug
    treats as a dropped connection: no byte of a response is written."""
    calllog.record(info, 0)
    sock = _request_socket()
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass
    raise ConnectionResetError("guardsync emulator: injected connection reset")


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

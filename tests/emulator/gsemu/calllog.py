"""The call log: every AWS request the emulator served, in order.

`GET /_guardsync/calls` returns it, `DELETE /_guardsync/calls` clears it.
Control-API requests (`/_guardsync/...`) and moto's own `/moto-api/...` are
never logged. Faulted calls are logged with the status they were answered with.
"""

import threading

from .reqinfo import is_mutating

_LOCK = threading.Lock()
_CALLS: list[dict] = []
_SEQ = [0]


def record(info: dict, status: int) -> None:
    with _LOCK:
        _SEQ[0] += 1
        _CALLS.append(
            {
                "seq": _SEQ[0],
                "account": info["account"],
                "region": info["region"],
                "service": info["service"],
                "operation": info["operation"],
                "status": int(status),
                "mutating": is_mutating(info["operation"]),
                "resource": info.get("resource"),
            }
        )


def calls() -> list[dict]:
    with _LOCK:
        return list(_CALLS)


def clear() -> None:
    with _LOCK:
        _CALLS.clear()
        _SEQ[0] = 0

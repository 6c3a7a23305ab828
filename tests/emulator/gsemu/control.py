"""WSGI middleware around moto's server app, and the `/_guardsync/` control API.

Every AWS request goes through `EmulatorApp.__call__`:
  1. identify it (service, region, caller account, operation; reqinfo.py);
  2. remember the caller in a thread-local (read by the S3 policy fix);
  3. apply fault rules (latency, then throttle/5xx answered without moto);
  4. answer AssumeRole into a `deny_assume_role` account with AccessDenied,
     and STS or GuardDuty as an account in a Region it has not enabled with
     RegionDisabledException / UnrecognizedClientException (sts_ext.py);
  5. hand it to moto and log it with the status moto answered.

Control API (JSON; never logged as AWS calls):
  GET    /_guardsync/health                    -> {"status": "ok"}
  POST   /_guardsync/reset                     reset moto, call log, faults, config
  POST   /_guardsync/seed        {scenario}    -> summary
  GET    /_guardsync/calls                     -> {"calls": [...]}
  DELETE /_guardsync/calls
  GET|POST|DELETE /_guardsync/faults           {"seed", "rules": [...]}
  GET|POST /_guardsync/config                  {"activation_delay_ms", "secure_transport", "org_empty_pages"}
  POST   /_guardsync/activations/finish        end every ACTIVATING/DEACTIVATING phase now -> {"finished": N}
  POST   /_guardsync/threat_entity_sets {"account", "region", "names": [...]}  add threat entity lists -> {"ids": [...]}
  GET    /_guardsync/guardduty?account=&region=  detector id, threat intel sets, IP sets,
                                               threat entity sets, filters, members, administrator
  POST   /_guardsync/findings    {"account", "region", "findings": [...]}  -> {"findingIds": [...]}
  GET    /_guardsync/findings?account=&region=[&archived=true|false]
                                               -> {"findings": [...]} (full JSON, stored order)
  DELETE /_guardsync/findings[?account=&region=]   clear one detector's findings (or all)
"""

import json
import traceback
from urllib.parse import parse_qs

from . import calllog, faults, state, sts_ext
from .reqinfo import identify

PREFIX = "/_guardsync/"


def _json_response(start_response, status: int, body) -> list[bytes]:
    data = json.dumps(body, indent=None).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
              500: "Internal Server Error"}.get(status, "OK")
    start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(data)))])
    return [data]


def _read_json(environ) -> dict:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    return json.loads(raw) if raw.strip() else {}


def reset_all() -> None:
    from moto.moto_api._internal.models import moto_api_backend
    from moto.organizations.models import organizations_backends

    moto_api_backend.reset()
    organizations_backends.master_accounts.clear()
    calllog.clear()
    faults.clear()
    state.reset()


def guardduty_view(account: str, region: str) -> dict:
    from . import guardduty_ext as gd

    det = gd.detector_for(account, region)
    if det is None:
        return {"account": account, "region": region, "detector_id": None,
                "threat_intel_sets": [], "ip_sets": [], "threat_entity_sets": [],
                "filters": [], "members": {}, "administrator": None}
    sets = [dict(s.to_json(), id=s.id, error_reason=s.error_reason) for s in gd.sets_of(det).values()]
    ip_sets = [dict(s.to_json(), id=s.id, error_reason=s.error_reason)
               for s in gd.ip_sets_of(det).values()]
    entity_sets = [{"id": i, "name": n} for i, n in gd.entity_sets_of(det).items()]
    filters = [dict(f.to_json(), tags=getattr(f, "gs_tags", {})) for f in det.filters.values()]
    members = {a: r["relationshipStatus"]
               for a, r in gd.members_of(gd.backend_for(account, region)).items()}
    admin = gd.administrator_of(account, region)
    return {"account": account, "region": region, "detector_id": det.id,
            "threat_intel_sets": sets, "ip_sets": ip_sets, "threat_entity_sets": entity_sets,
            "filters": filters, "members": members,
            "administrator": ({"account": admin[0], "relationshipStatus": admin[1]["relationshipStatus"]}
                              if admin else None)}


def _findings_route(start_response, method: str, query: dict, environ) -> list[bytes]:
    from . import findings_ext as fx

    if method == "POST":
        body = _read_json(environ)
        if not body.get("account") or not body.get("region"):
            return _json_response(start_response, 400, {"error": "account and region are required"})
        with state.LOCK:
            ids = fx.add_findings(str(body["account"]), str(body["region"]), body.get("findings") or [])
        return _json_response(start_response, 200, {"findingIds": ids})
    if method == "DELETE":
        if bool(query.get("account")) != bool(query.get("region")):
            return _json_response(start_response, 400, {"error": "give both account and region, or neither"})
        with state.LOCK:
            removed = fx.clear_findings(query.get("account"), query.get("region"))
        return _json_response(start_response, 200, {"removed": removed})
    if method == "GET":
        from . import guardduty_ext as gd

        if "account" not in query or "region" not in query:
            return _json_response(start_response, 400, {"error": "account and region are required"})
        archived = query.get("archived")
        if archived not in (None, "true", "false"):
            return _json_response(start_response, 400, {"error": "archived must be true or false"})
        det = gd.detector_for(query["account"], query["region"])
        found = list(fx.findings_of(det).values()) if det is not None else []
        if archived is not None:
            found = [f for f in found
                     if bool((f.get("service") or {}).get("archived")) == (archived == "true")]
        return _json_response(start_response, 200, {"findings": found})
    return _json_response(start_response, 405, {"error": f"{method} /_guardsync/findings"})


def control(environ, start_response) -> list[bytes]:
    from .seeding import ScenarioError, seed

    method = environ["REQUEST_METHOD"]
    route = environ.get("PATH_INFO", "")[len(PREFIX):].strip("/")
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    try:
        if route == "health":
            return _json_response(start_response, 200, {"status": "ok"})
        if route == "reset" and method == "POST":
            with state.LOCK:
                reset_all()
            return _json_response(start_response, 200, {"status": "reset"})
        if route == "seed" and method == "POST":
            with state.LOCK:
                summary = seed(_read_json(environ))
            return _json_response(start_response, 200, summary)
        if route == "calls":
            if method == "DELETE":
                calllog.clear()
                return _json_response(start_response, 200, {"calls": []})
            return _json_response(start_response, 200, {"calls": calllog.calls()})
        if route == "faults":
            if method == "POST":
                faults.set_rules(_read_json(environ))
            elif method == "DELETE":
                faults.clear()
            return _json_response(start_response, 200, {"rules": faults.rules()})
        if route == "config":
            if method == "POST":
                body = _read_json(environ)
                unknown = set(body) - set(state.DEFAULT_CONFIG)
                if unknown:
                    return _json_response(start_response, 400,
                                          {"error": f"unknown config keys: {sorted(unknown)}"})
                state.CONFIG.update(body)
            return _json_response(start_response, 200, dict(state.CONFIG))
        if route == "activations/finish" and method == "POST":
            from . import guardduty_ext as gd
            return _json_response(start_response, 200, {"finished": gd.finish_transitions()})
        if route == "threat_entity_sets" and method == "POST":
            import uuid
            from . import guardduty_ext as gd
            body = _read_json(environ)
            det = gd.detector_for(str(body["account"]), str(body["region"]))
            if det is None:
                return _json_response(start_response, 400, {"error": "no detector there"})
            ids = []
            for name in body.get("names") or []:
                sid = uuid.uuid4().hex
                gd.entity_sets_of(det)[sid] = str(name)
                ids.append(sid)
            return _json_response(start_response, 200, {"ids": ids})
        if route == "guardduty" and method == "GET":
            if "account" not in query or "region" not in query:
                return _json_response(start_response, 400, {"error": "account and region are required"})
            return _json_response(start_response, 200, guardduty_view(query["account"], query["region"]))
        if route == "findings":
            return _findings_route(start_response, method, query, environ)
        return _json_response(start_response, 404, {"error": f"no control route {method} {route}"})
    except (ScenarioError, KeyError, ValueError, TypeError) as e:
        return _json_response(start_response, 400, {"error": f"{type(e).__name__}: {e}",
                                                    "trace": traceback.format_exc()})


class EmulatorApp:
    def __init__(self, moto_app):
        self.moto_app = moto_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            return control(environ, start_response)
        if path.startswith("/moto-api"):
            return self.moto_app(environ, start_response)

        info = identify(environ)
        state.REQUEST.account = info["account"]
        delay, kind, err_status = faults.decide(info)
        faults.apply_delay(delay)
        canned = None
        if kind == "throttle":
            canned = faults.throttle_response(info)
        elif kind == "error":
            canned = faults.error_response(info, err_status)
        else:
            canned = sts_ext.denied_response(info) or sts_ext.region_disabled_response(info)
        if canned is not None:
            status, headers, body = canned
            calllog.record(info, status)
            start_response(f"{status} Error", headers + [("Content-Length", str(len(body)))])
            return [body]

        captured = {}

        def _start(status, headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        try:
            result = self.moto_app(environ, _start)
        finally:
            state.REQUEST.account = None
        calllog.record(info, captured.get("status", 500))
        return result

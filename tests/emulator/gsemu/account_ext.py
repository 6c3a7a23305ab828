"""Account Management extension: ListRegions (moto 5.2.5 has only alternate contacts).

API_ListRegions (REST-JSON, POST /listRegions): returns the caller's regions
(or those of `AccountId`) with their opt-in status, filtered by
`RegionOptStatusContains`, paged by `MaxResults` (1-50) / `NextToken`.
Regions come from the scenario's `regions:` map; an account the scenario does
not describe gets the standard regions, ENABLED_BY_DEFAULT.
"""

import json

from moto.account.responses import AccountResponse
from moto.core.exceptions import JsonRESTError

from . import state

DEFAULT_REGIONS = [
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
    "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
]


class ValidationException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("ValidationException", message)

    def get_headers(self, *args, **kwargs):
        return [("X-Amzn-ErrorType", "ValidationException")]


def regions_of(account: str) -> dict:
    regions = state.SCENARIO["regions"].get(account)
    if regions is None:
        return {r: "ENABLED_BY_DEFAULT" for r in DEFAULT_REGIONS}
    return regions


class AccountExtResponse(AccountResponse):
    def list_regions(self):
        p = json.loads(self.body) if self.body else {}
        account = p.get("AccountId") or self.current_account
        wanted = {s.upper() for s in (p.get("RegionOptStatusContains") or [])}
        items = [{"RegionName": r, "RegionOptStatus": s}
                 for r, s in sorted(regions_of(account).items())
                 if not wanted or s.upper() in wanted]
        size = int(p.get("MaxResults") or 20)
        if not 1 <= size <= 50:
            raise ValidationException("MaxResults must be between 1 and 50.")
        try:
            start = int(p["NextToken"]) if p.get("NextToken") else 0
        except ValueError:
            raise ValidationException("The NextToken is invalid.")
        out = {"Regions": items[start:start + size]}
        if start + size < len(items):
            out["NextToken"] = str(start + size)
        return json.dumps(out), {"status": 200, "Content-Type": "application/json"}


def install() -> None:
    import moto.account.urls as urls

    for path in list(urls.url_paths):
        urls.url_paths[path] = AccountExtResponse.dispatch
    urls.url_paths["{0}/listRegions$"] = AccountExtResponse.dispatch

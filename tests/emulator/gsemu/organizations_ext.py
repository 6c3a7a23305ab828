"""Organizations extension: fixed account ids, State, delegated-admin view, paging.

What moto 5.2.5 lacks and this module adds:
  * seeded accounts keep the ids the scenario gives (moto draws random ids:
    `fixed_account_ids()` patches `moto.organizations.utils.make_random_account_id`
    while the seeder creates accounts);
  * the account `State` (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED) is set
    from the scenario, with the legacy `Status` derived from it;
  * a member account (e.g. the GuardDuty delegated administrator) sees the
    management account's organization: moto answers List* from the caller's
    own, empty backend. Members that are not a delegated administrator get
    AccessDeniedException on List*/Describe* other than DescribeOrganization,
    as AWS answers;
  * ListAccounts, ListAccountsForParent, ListChildren,
    ListOrganizationalUnitsForParent and ListRoots return at most 20 items a
    page (AWS's maximum); with config `org_empty_pages: true` a first page (no
    NextToken in the request) is empty and carries a NextToken, as real
    Organizations sometimes does.
"""

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import moto.organizations.utils as org_utils
from moto.core.exceptions import JsonRESTError
from moto.organizations.models import OrganizationsBackend, organizations_backends
from moto.organizations.responses import OrganizationsResponse

from . import state

PAGE_MAX = 20
LEGACY_STATUS = {"ACTIVE": "ACTIVE", "SUSPENDED": "SUSPENDED",
                 "PENDING_CLOSURE": "PENDING_CLOSURE", "CLOSED": "SUSPENDED"}


class OrgError(JsonRESTError):
    code = 400

    def __init__(self, error_type: str, message: str):
        super().__init__(error_type, message)


@contextlib.contextmanager
def fixed_account_ids(ids: list[str]) -> Iterator[None]:
    """Make moto's account-id generator hand out `ids` in order."""
    queue = list(ids)
    original = org_utils.make_random_account_id
    org_utils.make_random_account_id = lambda: queue.pop(0)
    try:
        yield
    finally:
        org_utils.make_random_account_id = original


def set_state(account, new_state: str) -> None:
    account.state = new_state
    account.status = LEGACY_STATUS.get(new_state, new_state)


def management_backend_for(account_id: str) -> OrganizationsBackend | None:
    own = organizations_backends[account_id]["aws"]
    if own.org:
        return own
    if account_id in organizations_backends.master_accounts:
        master, partition = organizations_backends.master_accounts[account_id]
        return organizations_backends[master][partition]
    return None


def _is_delegated_admin(backend: OrganizationsBackend, account_id: str) -> bool:
    return any(a.account.id == account_id for a in backend.admins)


def _page(items: list, params: dict) -> tuple[list, str | None]:
    token = params.get("NextToken")
    try:
        size = min(int(params.get("MaxResults") or PAGE_MAX), PAGE_MAX)
    except ValueError:
        raise OrgError("InvalidInputException", "MaxResults must be an integer.")
    if size < 1:
        raise OrgError("InvalidInputException", "MaxResults must be at least 1.")
    if not token and state.CONFIG.get("org_empty_pages"):
        return [], "gso:0"
    start = 0
    if token:
        try:
            start = int(str(token).split(":")[1])
        except (IndexError, ValueError):
            raise OrgError("InvalidInputException", "You specified an invalid value for nextToken.")
    page = items[start:start + size]
    return page, (f"gso:{start + size}" if start + size < len(items) else None)


class OrganizationsExtResponse(OrganizationsResponse):
    @property
    def organizations_backend(self) -> OrganizationsBackend:
        """The organization the caller belongs to (management or member account)."""
        backend = management_backend_for(self.current_account)
        if backend is None:
            return organizations_backends[self.current_account][self.partition]
        if backend.account_id != self.current_account and self._get_action() not in (
                "DescribeOrganization", "LeaveOrganization"):
            if not _is_delegated_admin(backend, self.current_account):
                raise OrgError("AccessDeniedException",
                               "You don't have permissions to access this resource.")
        return backend

    def _paged(self, key: str, items: list) -> str:
        page, token = _page(items, self.request_params)
        out: dict[str, Any] = {key: page}
        if token:
            out["NextToken"] = token
        return json.dumps(out)

    def _require_org(self) -> OrganizationsBackend:
        backend = self.organizations_backend
        if backend.org is None:
            raise OrgError("AWSOrganizationsNotInUseException",
                           "Your account is not a member of an organization.")
        return backend

    def list_accounts(self) -> str:
        backend = self._require_org()
        return self._paged("Accounts", [a.describe() for a in backend.accounts])

    def list_accounts_for_parent(self) -> str:
        backend = self._require_org()
        parent = backend.validate_parent_id(self.request_params.get("ParentId"))
        return self._paged("Accounts", [a.describe() for a in backend.accounts
                                        if a.parent_id == parent])

    def list_organizational_units_for_parent(self) -> str:
        backend = self._require_org()
        parent = backend.validate_parent_id(self.request_params.get("ParentId"))
        return self._paged("OrganizationalUnits", [
            {"Id": ou.id, "Arn": ou.arn, "Name": ou.name} for ou in backend.ou
            if ou.parent_id == parent])

    def list_children(self) -> str:
        backend = self._require_org()
        p = self.request_params
        parent = backend.validate_parent_id(p.get("ParentId"))
        kind = p.get("ChildType")
        if kind == "ACCOUNT":
            objs: list = backend.accounts
        elif kind == "ORGANIZATIONAL_UNIT":
            objs = backend.ou
        else:
            raise OrgError("InvalidInputException", "You specified an invalid value.")
        return self._paged("Children", [{"Id": o.id, "Type": kind} for o in objs
                                        if o.parent_id == parent])

    def list_roots(self) -> str:
        backend = self._require_org()
        return self._paged("Roots", backend.list_roots()["Roots"])


def install() -> None:
    import moto.organizations.urls as urls

    for path in list(urls.url_paths):
        urls.url_paths[path] = OrganizationsExtResponse.dispatch

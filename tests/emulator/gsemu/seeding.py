"""Build a scenario (see README.md, "Scenario format") by driving moto's backends directly.

Nothing here goes through HTTP, so seeding never shows up in the call log.
"""

import json
from typing import Any

from moto.guardduty.models import guardduty_backends
from moto.organizations.models import organizations_backends
from moto.s3.models import s3_backends

from . import findings_ext as fx
from . import guardduty_ext as gd
from . import organizations_ext as orgx
from . import state

GUARDDUTY_PRINCIPAL = "guardduty.amazonaws.com"


class ScenarioError(ValueError):
    pass


def _ensure_detector(account: str, region: str) -> str:
    det = gd.detector_for(account, region)
    if det is not None:
        return det.id
    return guardduty_backends[account][region].create_detector(
        True, "SIX_HOURS", {}, {}, [])


def _seed_organization(org: dict, summary: dict) -> None:
    mgmt = str(org.get("management_account") or "")
    if not mgmt:
        raise ScenarioError("organization.management_account is required")
    ob = organizations_backends[mgmt]["aws"]
    ob.create_organization(region="us-east-1", FeatureSet="ALL")
    if org.get("id"):
        ob.org.id = org["id"]
    root = ob.ou[0]
    summary.update(organization_id=ob.org.id, root_id=root.id, management_account=mgmt)

    ou_ids: dict[str, str] = {}
    for path in org.get("ous") or []:
        parent = root.id
        parts = [p for p in str(path).split("/") if p]
        for depth in range(len(parts)):
            sub = "/".join(parts[: depth + 1])
            if sub not in ou_ids:
                made = ob.create_organizational_unit(Name=parts[depth], ParentId=parent)
                ou_ids[sub] = made["OrganizationalUnit"]["Id"]
            parent = ou_ids[sub]
    summary["ous"] = ou_ids

    ids = []
    for acc in org.get("accounts") or []:
        acct_id = str(acc["id"])
        name = acc.get("name") or f"account-{acct_id}"
        if acct_id == mgmt:
            fake = ob.get_account_by_id(mgmt)
            fake.name = name
        else:
            with orgx.fixed_account_ids([acct_id]):
                ob.create_account(AccountName=name,
                                  Email=acc.get("email") or f"{name}@example.com")
            fake = ob.get_account_by_id(acct_id)
        if acc.get("ou"):
            if acc["ou"] not in ou_ids:
                raise ScenarioError(f"account {acct_id}: unknown ou {acc['ou']!r}")
            fake.parent_id = ou_ids[acc["ou"]]
        orgx.set_state(fake, str(acc.get("state") or "ACTIVE").upper())
        ids.append(acct_id)
    if mgmt not in ids:
        ids.insert(0, mgmt)
    summary["accounts"] = ids


def _seed_guardduty(g: dict, mgmt: str | None, summary: dict) -> None:
    detectors: dict[str, dict[str, str]] = {}
    for acct, regions in (g.get("detectors") or {}).items():
        for region in regions:
            detectors.setdefault(str(acct), {})[region] = _ensure_detector(str(acct), region)

    admin = g.get("admin_account")
    if admin:
        admin = str(admin)
        admin_regions = sorted({r for rs in (g.get("detectors") or {}).values() for r in rs})
        for region in g.get("admin_regions") or admin_regions:
            # Organizations: EnableOrganizationAdminAccount is called by the management account.
            guardduty_backends[mgmt or admin][region].enable_organization_admin_account(admin)
        if mgmt:
            ob = organizations_backends[mgmt]["aws"]
            ob.enable_aws_service_access(ServicePrincipal=GUARDDUTY_PRINCIPAL)
            if admin != mgmt:
                ob.register_delegated_administrator(AccountId=admin,
                                                    ServicePrincipal=GUARDDUTY_PRINCIPAL)
        for acct, per_region in (g.get("members") or {}).items():
            for region, status in per_region.items():
                gd.members_of(guardduty_backends[admin][region])[str(acct)] = \
                    gd.new_member_record(None, str(status))

    for acct, spec in (g.get("other_admins") or {}).items():
        other = str(spec["admin"])
        for region in spec.get("regions") or []:
            detectors.setdefault(other, {})[region] = _ensure_detector(other, region)
            detectors.setdefault(str(acct), {})[region] = _ensure_detector(str(acct), region)
            gd.members_of(guardduty_backends[other][region])[str(acct)] = \
                gd.new_member_record(None, str(spec.get("status") or "Enabled"))
    summary["detectors"] = detectors


def _seed_findings(spec: Any, summary: dict) -> None:
    """`findings: {DETECTOR_ACCOUNT: {REGION: [finding, ...]}}` (README "Findings").
    Runs after the detectors and members exist, so member findings also reach the
    administrator's detector; stored directly, never through HTTP."""
    if not isinstance(spec, dict):
        raise ScenarioError("findings must be a map: {account: {region: [finding, ...]}}")
    counts: dict[str, dict[str, int]] = {}
    for acct, per_region in spec.items():
        if not isinstance(per_region, dict):
            raise ScenarioError(f"findings.{acct} must be a map: {{region: [finding, ...]}}")
        for region, items in per_region.items():
            try:
                ids = fx.add_findings(str(acct), str(region), items or [])
            except fx.FindingError as e:
                raise ScenarioError(f"findings.{acct}.{region}: {e}") from None
            counts.setdefault(str(acct), {})[str(region)] = len(ids)
    summary["findings"] = counts


def _seed_buckets(buckets: list, summary: dict) -> None:
    names = []
    for b in buckets:
        account = str(b["account"])
        backend = s3_backends[account]["aws"]
        backend.create_bucket(b["name"], b.get("region") or "us-east-1")
        if b.get("policy"):
            policy = b["policy"] if isinstance(b["policy"], str) else json.dumps(b["policy"])
            backend.put_bucket_policy(b["name"], policy.encode())
        for key, body in (b.get("objects") or {}).items():
            backend.put_object(b["name"], key, body.encode() if isinstance(body, str) else body)
        names.append(b["name"])
    summary["buckets"] = names


def seed(scenario: dict[str, Any]) -> dict:
    summary: dict[str, Any] = {}
    org = scenario.get("organization")
    mgmt = None
    if org:
        _seed_organization(org, summary)
        mgmt = summary["management_account"]
    _seed_guardduty(scenario.get("guardduty") or {}, mgmt, summary)
    if scenario.get("findings"):
        _seed_findings(scenario["findings"], summary)
    state.SCENARIO["regions"] = {
        str(acct): {r: str(s).upper() for r, s in regions.items()}
        for acct, regions in (scenario.get("regions") or {}).items()
    }
    state.SCENARIO["deny_assume_role"] = {str(a) for a in scenario.get("deny_assume_role") or []}
    _seed_buckets(scenario.get("buckets") or [], summary)
    for key, value in (scenario.get("config") or {}).items():
        state.CONFIG[key] = value
    return summary

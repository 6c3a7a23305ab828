"""Organizations (fixed ids, State, paging, delegated admin), STS and Account ListRegions."""

import pytest
from botocore.exceptions import ClientError

ADMIN = "111111111111"


def many_accounts_scenario(n: int) -> dict:
    accounts = [{"id": f"{100000000000 + i}", "name": f"acct-{i}", "ou": "Workloads"} for i in range(n)]
    accounts.append({"id": ADMIN, "name": "security", "ou": "Security"})
    accounts.append({"id": "222222222222", "name": "closing", "ou": "Security", "state": "PENDING_CLOSURE"})
    accounts.append({"id": "333333333333", "name": "closed", "ou": "Security", "state": "CLOSED"})
    return {"organization": {"management_account": "999999999999", "ous": ["Security", "Workloads"],
                             "accounts": accounts},
            "guardduty": {"admin_account": ADMIN, "detectors": {ADMIN: ["us-east-1"]}}}


def all_pages(call, key, **kw):
    items, token, sizes = [], None, []
    while True:
        page = call(**kw, **({"NextToken": token} if token else {}))
        items += page[key]
        sizes.append(len(page[key]))
        token = page.get("NextToken")
        if not token:
            return items, sizes


def test_fixed_ids_state_and_paging_for_delegated_admin(emu):
    summary = emu.seed(many_accounts_scenario(30))
    org = emu.client("organizations")  # base credentials = the delegated admin, not management
    accounts, sizes = all_pages(org.list_accounts, "Accounts")
    assert max(sizes) <= 20 and len(sizes) >= 2
    by_id = {a["Id"]: a for a in accounts}
    assert len(accounts) == 34 and "100000000017" in by_id and "999999999999" in by_id
    assert by_id["100000000017"]["State"] == "ACTIVE"
    assert by_id["222222222222"]["State"] == "PENDING_CLOSURE"
    assert by_id["333333333333"]["State"] == "CLOSED" and by_id["333333333333"]["Status"] == "SUSPENDED"
    assert org.describe_organization()["Organization"]["Id"] == summary["organization_id"]
    wl = summary["ous"]["Workloads"]
    kids, sizes = all_pages(org.list_accounts_for_parent, "Accounts", ParentId=wl)
    assert len(kids) == 30 and max(sizes) <= 20
    kids, _ = all_pages(org.list_children, "Children", ParentId=wl, ChildType="ACCOUNT")
    assert len(kids) == 30
    ous, _ = all_pages(org.list_organizational_units_for_parent, "OrganizationalUnits",
                       ParentId=summary["root_id"])
    assert sorted(o["Name"] for o in ous) == ["Security", "Workloads"]
    # same view from the management account
    mgmt = emu.client("organizations", account="999999999999")
    assert len(all_pages(mgmt.list_accounts, "Accounts")[0]) == 34


def test_org_empty_first_page(emu):
    emu.ctl("POST", "config", {"org_empty_pages": True})
    org = emu.client("organizations")
    first = org.list_accounts()
    assert first["Accounts"] == [] and first["NextToken"]
    accounts, _ = all_pages(org.list_accounts, "Accounts")
    assert len(accounts) == 7
    assert org.get_paginator("list_accounts").paginate().build_full_result()["Accounts"]


def test_plain_member_cannot_list_accounts(emu):
    org = emu.client("organizations", account="222222222222")
    assert org.describe_organization()["Organization"]["MasterAccountId"] == "999999999999"
    with pytest.raises(ClientError) as e:
        org.list_accounts()
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"


def test_assume_role_attribution_and_deny_list(emu):
    scenario = {"deny_assume_role": ["555555555555"]}
    emu.ctl("POST", "seed", scenario)
    assert emu.client("sts").get_caller_identity()["Account"] == ADMIN
    assert emu.client("sts", account="444444444444").get_caller_identity()["Account"] == "444444444444"
    sts = emu.client("sts", region="eu-west-1")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::555555555555:role/GuardSyncMemberRole", RoleSessionName="guardsync")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    last = emu.calls()[-1]
    assert (last["operation"], last["status"], last["region"]) == ("AssumeRole", 403, "eu-west-1")


def test_an_opt_in_region_an_account_has_not_enabled_refuses_it(emu):
    # STS refuses the account's credentials from that Region's endpoint;
    # from a Region enabled by default they work, but GuardDuty in the
    # disabled Region refuses them.
    emu.ctl("POST", "seed", {"regions": {"444444444444": {"af-south-1": "DISABLED",
                                                           "us-east-1": "ENABLED_BY_DEFAULT"}}})
    role = "arn:aws:iam::444444444444:role/GuardSyncMemberRole"
    with pytest.raises(ClientError) as e:
        emu.client("sts", region="af-south-1").assume_role(RoleArn=role, RoleSessionName="guardsync")
    assert e.value.response["Error"]["Code"] == "RegionDisabledException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert emu.client("guardduty", region="us-east-1", account="444444444444").list_detectors()
    gd = emu.client("guardduty", region="af-south-1", account="444444444444")
    with pytest.raises(ClientError) as e:
        gd.list_detectors()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    # Another account, and the administrator, are not affected.
    emu.client("sts", region="af-south-1").assume_role(
        RoleArn="arn:aws:iam::555555555555:role/GuardSyncMemberRole", RoleSessionName="guardsync")
    assert emu.client("guardduty", region="af-south-1").list_detectors()["DetectorIds"] == []


def test_list_regions(emu):
    acct = emu.client("account")
    names = [r["RegionName"] for r in acct.list_regions()["Regions"]]
    assert names == ["ap-east-1", "eu-west-1", "us-east-1"]
    enabled = acct.list_regions(RegionOptStatusContains=["ENABLED", "ENABLED_BY_DEFAULT"])["Regions"]
    assert [r["RegionName"] for r in enabled] == ["eu-west-1", "us-east-1"]
    p1 = acct.list_regions(MaxResults=2)
    p2 = acct.list_regions(MaxResults=2, NextToken=p1["NextToken"])
    assert len(p1["Regions"]) == 2 and len(p2["Regions"]) == 1 and "NextToken" not in p2

//! Target expansion: organization accounts x regions, filtered by the
//! configuration and the command line (pure).

use std::collections::BTreeSet;

use crate::config::{AccountId, Config, OuId, Region};

/// One account of the organization, as discovery reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    /// The account id.
    pub id: AccountId,
    /// The account name.
    pub name: String,
    /// Organizations `State`: `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, `CLOSED`, ...
    pub state: String,
    /// Every OU above the account, nearest first (empty when it sits under the root).
    pub ous: Vec<OuId>,
}

/// One (account, region) to place and reconcile.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    /// The account.
    pub account: AccountId,
    /// The region.
    pub region: Region,
    /// Listed for the record only (`organization.exclude_accounts`).
    pub excluded: bool,
}

/// The targets of a run, sorted by account then region.
///
/// Only ACTIVE accounts are targets (docs/REFERENCE.md, the JSON report). `include_accounts` and
/// `include_ous` narrow the organization (an account matching either is in);
/// excluded accounts stay in the list, marked, once per region. `only_accounts`
/// and `only_regions` come from `--account` and `--region` (empty = no narrowing).
pub fn expand(
    config: &Config,
    accounts: &[OrgAccount],
    regions: &[Region],
    only_accounts: &[AccountId],
    only_regions: &[Region],
) -> Vec<Target> {
    let org = &config.organization;
    let include_ous: BTreeSet<&OuId> = org.include_ous.iter().collect();
    let filtered = !org.include_accounts.is_empty() || !include_ous.is_empty();
    // Sorted and without duplicates, so that the product below is in order
    // (10,000 accounts x 34 Regions: built straight into one vector).
    let mut accounts: Vec<&OrgAccount> = accounts.iter().filter(|a| a.state == "ACTIVE").collect();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    accounts.dedup_by(|a, b| a.id == b.id);
    let mut regions: Vec<&Region> = regions
        .iter()
        .filter(|r| only_regions.is_empty() || only_regions.contains(r))
        .collect();
    regions.sort();
    regions.dedup();
    let mut out = Vec::with_capacity(accounts.len() * regions.len());
    for a in accounts {
        let included = !filtered
            || org.include_accounts.contains(&a.id)
            || a.ous.iter().any(|ou| include_ous.contains(ou))
            // The administrator's own target manages the list for every member.
            || a.id == config.admin_account;
        if !included || (!only_accounts.is_empty() && !only_accounts.contains(&a.id)) {
            continue;
        }
        let excluded = org.exclude_accounts.contains(&a.id);
        out.extend(regions.iter().map(|r| Target {
            account: a.id.clone(),
            region: (*r).clone(),
            excluded,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(id: &str, state: &str, ous: &[&str]) -> OrgAccount {
        OrgAccount {
            id: AccountId::parse(id).expect("an account id"),
            name: format!("acct-{id}"),
            state: state.to_owned(),
            ous: ous.iter().map(|o| OuId((*o).to_owned())).collect(),
        }
    }

    fn config(extra: &str) -> Config {
        let yaml = format!(
            "admin:\n  account_id: \"111111111111\"\nregions: [us-east-1, eu-west-1]\nbucket: {{name: abc, region: us-east-1}}\n{extra}"
        );
        crate::config::parse(&yaml, "t.yaml".as_ref(), "t.yaml").expect("valid test config")
    }

    fn regions() -> Vec<Region> {
        ["us-east-1", "eu-west-1"]
            .map(|r| Region::parse(r).expect("a Region"))
            .to_vec()
    }

    fn ids(ts: &[Target]) -> Vec<String> {
        ts.iter()
            .map(|t| {
                format!(
                    "{}/{}{}",
                    t.account,
                    t.region,
                    if t.excluded { " excluded" } else { "" }
                )
            })
            .collect()
    }

    fn org() -> Vec<OrgAccount> {
        vec![
            acct("111111111111", "ACTIVE", &["ou-sec0-00000001"]),
            acct(
                "222222222222",
                "ACTIVE",
                &["ou-prod-00000001", "ou-work-00000001"],
            ),
            acct("333333333333", "SUSPENDED", &[]),
            acct("444444444444", "ACTIVE", &[]),
            acct("555555555555", "PENDING_CLOSURE", &[]),
        ]
    }

    #[test]
    fn every_active_account_in_every_region_by_default() {
        let ts = expand(&config(""), &org(), &regions(), &[], &[]);
        assert_eq!(
            ids(&ts),
            [
                "111111111111/eu-west-1",
                "111111111111/us-east-1",
                "222222222222/eu-west-1",
                "222222222222/us-east-1",
                "444444444444/eu-west-1",
                "444444444444/us-east-1",
            ]
        );
    }

    #[test]
    fn excluded_accounts_stay_listed_and_marked() {
        let c = config("organization:\n  exclude_accounts: [\"444444444444\"]\n");
        let ts = expand(
            &c,
            &org(),
            &regions(),
            &[],
            &[Region::parse("us-east-1").expect("a Region")],
        );
        assert_eq!(
            ids(&ts),
            [
                "111111111111/us-east-1",
                "222222222222/us-east-1",
                "444444444444/us-east-1 excluded"
            ]
        );
    }

    #[test]
    fn include_by_ou_is_recursive_and_keeps_the_administrator() {
        let c = config("organization:\n  include_ous: [ou-work-00000001]\n");
        let ts = expand(&c, &org(), &regions(), &[], &[]);
        assert_eq!(
            ids(&ts),
            [
                "111111111111/eu-west-1",
                "111111111111/us-east-1",
                "222222222222/eu-west-1",
                "222222222222/us-east-1",
            ]
        );
    }

    #[test]
    fn command_line_narrows() {
        let ts = expand(
            &config(""),
            &org(),
            &regions(),
            &[AccountId::parse("444444444444").expect("an account id")],
            &[Region::parse("eu-west-1").expect("a Region")],
        );
        assert_eq!(ids(&ts), ["444444444444/eu-west-1"]);
    }
}

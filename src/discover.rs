//! Discovery: from the organization and GuardDuty's views to placed targets.
//!
//! Does I/O (through [`crate::aws`]) and hands every decision to the pure
//! functions of [`crate::org`]. Reads only: it never makes a mutating call.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt, stream};

use crate::aws::guardduty::GuardDuty;
use crate::aws::organizations::Organizations;
use crate::aws::sts::{self, AccountCredentials};
use crate::aws::{Aws, AwsError};
use crate::config::{AccountId, Config, Probe as ProbeMode, Region, RegionScope};
use crate::org::{self, AdminView, Placement, Probe, Target};

/// A target with its placement and, where a role was assumed, the account's credentials.
#[derive(Debug, Clone)]
pub struct Placed {
    /// The (account, region).
    pub target: Target,
    /// Where it stands.
    pub placement: Placement,
    /// The assumed role's credentials, for standalone targets.
    pub credentials: Option<AccountCredentials>,
    /// The detector guardsync manages there (`admin` and `standalone` targets).
    pub detector_id: Option<String>,
}

/// Why discovery could not even start the fan-out (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The organization could not be listed.
    #[error("failed to list the organization: {0}")]
    Organization(#[source] AwsError),
    /// `regions: enabled`: the administrator's enabled Regions could not be listed.
    #[error(
        "failed to list the Regions enabled in the administrator account (regions: enabled): {0}"
    )]
    EnabledRegions(#[source] AwsError),
}

/// Everything discovery found.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// Every target, placed, ordered by account then region.
    pub placed: Vec<Placed>,
    /// The Regions in scope, in order.
    pub regions: Vec<Region>,
    /// Account id -> name in the organization.
    pub names: BTreeMap<AccountId, String>,
}

/// The Regions of the run: the configured list, or the GuardDuty Regions
/// enabled in the administrator account (`regions: enabled`).
pub async fn configured_regions(aws: &Aws, config: &Config) -> Result<Vec<Region>, DiscoverError> {
    match &config.regions {
        RegionScope::List(list) => Ok(list.clone()),
        RegionScope::Enabled => {
            let conf = aws.config_for(config.bucket.region.as_str(), None);
            let mut enabled: Vec<Region> =
                crate::aws::account::enabled_regions(&conf, config.admin_account.as_str())
                    .await
                    .map_err(DiscoverError::EnabledRegions)?
                    .iter()
                    .filter_map(|r| Region::parse(r).ok())
                    .collect();
            enabled.sort();
            enabled.dedup();
            Ok(enabled)
        }
    }
}

/// Discover every target of the run and place it.
pub async fn discover(
    aws: &Aws,
    config: &Config,
    only_accounts: &[AccountId],
    only_regions: &[Region],
) -> Result<Discovery, DiscoverError> {
    let admin = &config.admin_account;
    let concurrency = usize::try_from(config.concurrency).unwrap_or(1);
    let regions = configured_regions(aws, config).await?;

    // The organization's accounts and the administrator's view of each
    // region do not depend on each other: both are read at once.
    let wanted: Vec<&Region> = regions
        .iter()
        .filter(|r| only_regions.is_empty() || only_regions.contains(r))
        .collect();
    let orgs = Organizations::new(aws, admin.as_str());
    let listing = async {
        let mut accounts = orgs.accounts().await?;
        for ou in &config.organization.include_ous {
            let below = orgs.accounts_under(ou).await?;
            for a in accounts.iter_mut().filter(|a| below.contains(&a.id)) {
                a.ous.push(ou.clone());
            }
        }
        Ok::<_, AwsError>(accounts)
    };
    // The administrator's view, once per region.
    let viewing = stream::iter(wanted.iter().copied())
        .map(|region| async move {
            let gd = GuardDuty::new(&aws.config_for(region.as_str(), None), admin.as_str());
            (region.clone(), gd.admin_view().await)
        })
        .buffer_unordered(concurrency)
        .collect::<BTreeMap<Region, Result<AdminView, AwsError>>>();
    let (accounts, views) = tokio::join!(listing, viewing);
    let accounts = accounts.map_err(DiscoverError::Organization)?;
    let names = accounts
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let targets = org::expand(config, &accounts, &regions, only_accounts, only_regions);
    let in_scope: BTreeSet<&Region> = targets.iter().map(|t| &t.region).collect();
    let regions: Vec<Region> = regions
        .iter()
        .filter(|r| in_scope.contains(r))
        .cloned()
        .collect();

    // One role per account that needs one, shared by its regions.
    let mut by_account: BTreeMap<&AccountId, (bool, Vec<&Region>)> = BTreeMap::new();
    for t in &targets {
        let e = by_account
            .entry(&t.account)
            .or_insert((t.excluded, Vec::new()));
        e.1.push(&t.region);
    }
    let sts_region = regions.first().map_or("us-east-1", Region::as_str);
    let roles_needed: Vec<&AccountId> = by_account
        .iter()
        .filter(
            |(account, (excluded, regs))| match config.organization.probe {
                ProbeMode::All => **account != admin && !excluded,
                ProbeMode::Needed => org::needs_role(
                    account,
                    admin,
                    *excluded,
                    regs.iter().filter_map(|r| views.get(*r)?.as_ref().ok()),
                ),
            },
        )
        .map(|(a, _)| *a)
        .collect();
    let creds: BTreeMap<AccountId, Result<AccountCredentials, AwsError>> =
        stream::iter(roles_needed)
            .map(|account| async move {
                let o = &config.organization;
                let c = sts::assume(
                    aws,
                    account.as_str(),
                    sts_region,
                    &o.member_role,
                    o.external_id.as_deref(),
                    &o.session_name,
                )
                .await;
                (account.clone(), c)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;

    // Probe from inside where a role was assumed, then place every target.
    let placed = stream::iter(targets)
        .map(|target| {
            let views = &views;
            let creds = &creds;
            async move {
                let view = views.get(&target.region);
                let own = creds.get(&target.account);
                // Under `probe: needed` the administrator's view settles the
                // regions where the account is an associated member: no call there.
                let covered = config.organization.probe == ProbeMode::Needed
                    && view.is_some_and(|v| {
                        v.as_ref()
                            .is_ok_and(|v| v.is_enabled_member(&target.account))
                    });
                // A region whose administrator view failed fails all its
                // targets: probing there would only waste calls.
                let view_failed = view.is_some_and(Result::is_err);
                let probe = match own {
                    _ if covered || view_failed => Probe::NotProbed,
                    None => Probe::NotProbed,
                    Some(Err(e)) => Probe::Failed(e.message.clone()),
                    Some(Ok(c)) => {
                        let conf = aws.config_for(target.region.as_str(), Some(c));
                        GuardDuty::new(&conf, target.account.as_str())
                            .probe()
                            .await
                            .unwrap_or_else(|e| Probe::Failed(e.to_string()))
                    }
                };
                let placement = match view {
                    Some(Ok(view)) => org::place(
                        &target.account,
                        &target.region,
                        admin,
                        target.excluded,
                        view,
                        &probe,
                    ),
                    _ if target.excluded => Placement::Excluded,
                    Some(Err(e)) => Placement::Unknown(e.to_string()),
                    None => {
                        Placement::Unknown(format!("no administrator view of {}", target.region))
                    }
                };
                let credentials = own.and_then(|c| c.as_ref().ok()).cloned();
                let detector_id = match (&placement, view, &probe) {
                    (Placement::Admin, Some(Ok(v)), _) => v.detector_id.clone(),
                    (Placement::Standalone, _, Probe::Seen { detector_id, .. }) => {
                        detector_id.clone()
                    }
                    _ => None,
                };
                Ok::<_, DiscoverError>(Placed {
                    target,
                    placement,
                    credentials,
                    detector_id,
                })
            }
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    Ok(Discovery {
        placed,
        regions,
        names,
    })
}

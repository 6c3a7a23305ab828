//! Discovery: from the organization and GuardDuty's views to placed targets.
//!
//! Does I/O (through [`crate::aws`]) and hands every decision to the pure
//! functions of [`crate::org`]. Reads only: it never makes a mutating call.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, stream};
use tokio::sync::{OnceCell, Semaphore};

use crate::aws::AwsError;
use crate::aws::sts::AccountCredentials;
use crate::cloud::{Cloud, GuardDutyApi, OrganizationsApi};
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

/// What discovery found before any target is placed: the targets, the
/// administrator's view of each region, and which accounts need a role.
///
/// Targets are placed one by one ([`Discovery::place`]) inside the fan-out,
/// so a target is reconciled as soon as its own account is placed rather
/// than after every role and probe of the organization.
#[derive(Debug)]
pub struct Discovery {
    /// Every target, ordered by account then region.
    pub targets: Vec<Target>,
    /// The Regions in scope, in order.
    pub regions: Vec<Region>,
    /// Account id -> name in the organization.
    pub names: BTreeMap<AccountId, std::sync::Arc<str>>,
    views: BTreeMap<Region, Result<AdminView, AwsError>>,
    /// The accounts whose role is assumed, each at most once, by the first
    /// of its targets that needs it; the others wait for that one.
    roles: BTreeMap<AccountId, OnceCell<Result<AccountCredentials, AwsError>>>,
    /// Bounds the AssumeRole calls in flight: STS's quota is per account,
    /// shared by every role guardsync assumes.
    sts_slots: Semaphore,
    sts_region: String,
    admin: AccountId,
    probe: ProbeMode,
    member_role: String,
    external_id: Option<String>,
    session_name: String,
}

/// How many AssumeRole calls may be in flight at once, whatever
/// `concurrency` is: STS's request quota is shared by the whole run.
pub const STS_CONCURRENCY: usize = 16;

/// The Regions of the run: the configured list, or the GuardDuty Regions
/// enabled in the administrator account (`regions: enabled`).
pub async fn configured_regions(
    cloud: &impl Cloud,
    config: &Config,
) -> Result<Vec<Region>, DiscoverError> {
    match &config.regions {
        RegionScope::List(list) => Ok(list.clone()),
        RegionScope::Enabled => {
            let mut enabled: Vec<Region> = cloud
                .enabled_regions(config.bucket.region.as_str(), config.admin_account.as_str())
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

/// List the organization and read the administrator's view of every region
/// in scope: the targets of the run, ready to be placed.
pub async fn discover(
    cloud: &impl Cloud,
    config: &Config,
    only_accounts: &[AccountId],
    only_regions: &[Region],
) -> Result<Discovery, DiscoverError> {
    let admin = &config.admin_account;
    let concurrency = usize::try_from(config.concurrency).unwrap_or(1);
    let regions = configured_regions(cloud, config).await?;

    // The organization's accounts and the administrator's view of each
    // region do not depend on each other: both are read at once.
    let wanted: Vec<&Region> = regions
        .iter()
        .filter(|r| only_regions.is_empty() || only_regions.contains(r))
        .collect();
    let orgs = cloud.organizations(admin.as_str());
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
            let gd = cloud.guardduty(region.as_str(), admin.as_str(), None);
            (region.clone(), gd.admin_view().await)
        })
        .buffer_unordered(concurrency)
        .collect::<BTreeMap<Region, Result<AdminView, AwsError>>>();
    let (accounts, views) = tokio::join!(listing, viewing);
    let accounts = accounts.map_err(DiscoverError::Organization)?;
    let names = accounts
        .iter()
        .map(|a| (a.id.clone(), std::sync::Arc::from(a.name.as_str())))
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
    let roles = by_account
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
        .map(|(a, _)| ((*a).clone(), OnceCell::new()))
        .collect();
    let o = &config.organization;
    Ok(Discovery {
        sts_region: regions
            .first()
            .map_or("us-east-1", Region::as_str)
            .to_owned(),
        targets,
        regions,
        names,
        views,
        roles,
        sts_slots: Semaphore::new(STS_CONCURRENCY),
        admin: admin.clone(),
        probe: o.probe,
        member_role: o.member_role.clone(),
        external_id: o.external_id.clone(),
        session_name: o.session_name.clone(),
    })
}

impl Discovery {
    /// The credentials of `account`'s role, if discovery decided it needs
    /// one: assumed by the first caller, shared with every later one.
    async fn credentials(
        &self,
        cloud: &impl Cloud,
        account: &AccountId,
    ) -> Option<&Result<AccountCredentials, AwsError>> {
        let cell = self.roles.get(account)?;
        Some(
            cell.get_or_init(|| async {
                let _slot = self.sts_slots.acquire().await;
                cloud
                    .assume(
                        account.as_str(),
                        &self.sts_region,
                        &self.member_role,
                        self.external_id.as_deref(),
                        &self.session_name,
                    )
                    .await
            })
            .await,
        )
    }

    /// The placement of `target` when the administrator's view settles it
    /// without any call (an associated member under `probe: needed`, an
    /// excluded account, the administrator, a Region whose view failed, an
    /// account that needs no role); `None` when placing it takes calls.
    pub fn settled(&self, target: &Target) -> Option<Placed> {
        if self.needs_calls(target) {
            return None;
        }
        let view = self.views.get(&target.region);
        let placement = self.placement(target, view, &Probe::NotProbed);
        Some(Placed {
            detector_id: match (&placement, view) {
                (Placement::Admin, Some(Ok(v))) => v.detector_id.clone(),
                _ => None,
            },
            target: target.clone(),
            placement,
            credentials: None,
        })
    }

    /// Whether placing `target` takes calls (its role, a probe).
    fn needs_calls(&self, target: &Target) -> bool {
        let view = self.views.get(&target.region);
        // Under `probe: needed` the administrator's view settles the
        // regions where the account is an associated member: no call there.
        let covered = self.probe == ProbeMode::Needed
            && view.is_some_and(|v| {
                v.as_ref()
                    .is_ok_and(|v| v.is_enabled_member(&target.account))
            });
        // A region whose administrator view failed fails all its targets:
        // probing there would only waste calls.
        let view_failed = view.is_some_and(Result::is_err);
        !covered && !view_failed && !target.excluded && self.roles.contains_key(&target.account)
    }

    fn placement(
        &self,
        target: &Target,
        view: Option<&Result<AdminView, AwsError>>,
        probe: &Probe,
    ) -> Placement {
        match view {
            Some(Ok(view)) => org::place(
                &target.account,
                &target.region,
                &self.admin,
                target.excluded,
                view,
                probe,
            ),
            _ if target.excluded => Placement::Excluded,
            Some(Err(e)) => Placement::Unknown(e.to_string()),
            None => Placement::Unknown(format!("no administrator view of {}", target.region)),
        }
    }

    /// Place one target: from the administrator's view alone where it
    /// settles the placement, otherwise from inside the account (its role,
    /// then a probe). With `calls: false` (the run is out of time) no call is
    /// made: a target that would need one is left `unknown` with `why`.
    pub async fn place(
        &self,
        cloud: &impl Cloud,
        target: Target,
        calls: Result<(), &str>,
    ) -> Placed {
        let view = self.views.get(&target.region);
        let (probe, own) = match calls {
            _ if !self.needs_calls(&target) => (Probe::NotProbed, None),
            Err(why) => (Probe::Failed(why.to_owned()), None),
            Ok(()) => match self.credentials(cloud, &target.account).await {
                None => (Probe::NotProbed, None),
                Some(Err(e)) => (Probe::Failed(e.message.clone()), None),
                Some(Ok(c)) => {
                    let gd =
                        cloud.guardduty(target.region.as_str(), target.account.as_str(), Some(c));
                    let probe = gd
                        .probe()
                        .await
                        .unwrap_or_else(|e| Probe::Failed(e.to_string()));
                    (probe, Some(c))
                }
            },
        };
        let placement = self.placement(&target, view, &probe);
        let detector_id = match (&placement, view, &probe) {
            (Placement::Admin, Some(Ok(v)), _) => v.detector_id.clone(),
            (Placement::Standalone, _, Probe::Seen { detector_id, .. }) => detector_id.clone(),
            _ => None,
        };
        Placed {
            credentials: match placement {
                Placement::Standalone => own.cloned(),
                _ => None,
            },
            target,
            placement,
            detector_id,
        }
    }

    /// Place every target, at most `concurrency` at once, in target order.
    pub async fn place_all(&self, cloud: &impl Cloud, concurrency: usize) -> Vec<Placed> {
        stream::iter(self.targets.iter().cloned())
            .map(|t| self.place(cloud, t, Ok(())))
            .buffered(concurrency.max(1))
            .collect()
            .await
    }
}

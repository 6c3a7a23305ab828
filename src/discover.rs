//! Discovery: from the organization and GuardDuty's views to placed targets.
//!
//! Does I/O (through [`crate::aws`]) and hands every decision to the pure
//! functions of [`crate::org`]. Reads only: it never makes a mutating call.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt, stream};
use tokio::sync::{OnceCell, Semaphore};

use crate::cloud::AccountCredentials;
use crate::cloud::AwsError;
use crate::cloud::{Cloud, GuardDutyApi, OrganizationsApi};
use crate::config::{AccountId, Config, OuId, Probe as ProbeMode, Region, RegionScope};
use crate::org::{self, AdminView, OrgAccount, Placement, Probe, Target};

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

/// What discovery found before any target is placed: the administrator's
/// view of each region, the OUs of `include_ous`, and which accounts need a
/// role (decided as their page of the organization arrives).
///
/// Nothing waits for the whole organization: [`discover`] returns as soon as
/// the views and the first page of accounts are in, with the other pages as
/// a stream; each page's targets ([`Discovery::targets_of`]) are placed one
/// by one ([`Discovery::place`]) inside the fan-out, so a target is
/// reconciled as soon as its own account is listed and placed.
#[derive(Debug)]
pub struct Discovery {
    /// The Regions in scope, in order.
    pub regions: Vec<Region>,
    views: BTreeMap<Region, Result<AdminView, AwsError>>,
    /// `include_ous`: each OU and the accounts below it.
    below: Vec<(OuId, BTreeSet<AccountId>)>,
    /// The accounts whose role is assumed, each at most once, by the first
    /// of its targets that needs it; the others wait for that one.
    roles: Mutex<HashMap<AccountId, Arc<Role>>>,
    /// Bounds the AssumeRole calls in flight: STS's quota is per account,
    /// shared by every role guardsync assumes.
    sts_slots: Semaphore,
    sts_region: String,
    admin: AccountId,
    probe: ProbeMode,
    member_role: String,
    external_id: Option<String>,
    session_name: String,
    only_accounts: Vec<AccountId>,
    only_regions: Vec<Region>,
}

/// An account's role, assumed once by the first of its targets that needs it.
type Role = OnceCell<Result<AccountCredentials, AwsError>>;

/// The organization's accounts a page at a time, after the first.
pub(crate) type Pages<'a> =
    Pin<Box<dyn Stream<Item = Result<Vec<OrgAccount>, AwsError>> + Send + 'a>>;

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

/// Read the administrator's view of every region in scope, the OUs of
/// `include_ous` and the first page of the organization's accounts, all at
/// once. Returns what places targets, that first page, and the other pages
/// as they come: a failure here (the organization cannot be listed at all)
/// stops the run before any target starts.
pub async fn discover<'a, C: Cloud>(
    cloud: &'a C,
    config: &Config,
    only_accounts: &[AccountId],
    only_regions: &[Region],
) -> Result<(Discovery, Vec<OrgAccount>, Pages<'a>), DiscoverError> {
    let admin = &config.admin_account;
    let concurrency = usize::try_from(config.concurrency).unwrap_or(1);
    let regions: Vec<Region> = configured_regions(cloud, config)
        .await?
        .into_iter()
        .filter(|r| only_regions.is_empty() || only_regions.contains(r))
        .collect();

    // The administrator's view, once per region; the OUs; the first page.
    let viewing = stream::iter(regions.iter())
        .map(|region| async move {
            let gd = cloud.guardduty(region.as_str(), admin.as_str(), None);
            (region.clone(), gd.admin_view().await)
        })
        .buffer_unordered(concurrency)
        .collect::<BTreeMap<Region, Result<AdminView, AwsError>>>();
    let orgs = cloud.organizations(admin.as_str());
    let walking = async {
        let mut below = Vec::new();
        for ou in &config.organization.include_ous {
            below.push((ou.clone(), orgs.accounts_under(ou).await?));
        }
        Ok::<_, AwsError>(below)
    };
    let mut pages: Pages<'a> = Box::pin(cloud.organizations(admin.as_str()).account_pages());
    let (views, below, first) = tokio::join!(viewing, walking, pages.next());
    let below = below.map_err(DiscoverError::Organization)?;
    let first = first
        .transpose()
        .map_err(DiscoverError::Organization)?
        .unwrap_or_default();
    let o = &config.organization;
    let discovery = Discovery {
        // A Region every account has enabled (bucket.region is validated not
        // to be an opt-in Region): STS refuses an account's credentials from
        // an opt-in Region it has not enabled, which would fail every Region
        // of that account.
        sts_region: config.bucket.region.as_str().to_owned(),
        regions,
        views,
        below,
        roles: Mutex::new(HashMap::new()),
        sts_slots: Semaphore::new(STS_CONCURRENCY),
        admin: admin.clone(),
        probe: o.probe,
        member_role: o.member_role.clone(),
        external_id: o.external_id.clone(),
        session_name: o.session_name.clone(),
        only_accounts: only_accounts.to_vec(),
        only_regions: only_regions.to_vec(),
    };
    Ok((discovery, first, pages))
}

/// [`discover`], with every page listed: the discovery and all the targets,
/// ordered by account then region, and each account's name.
pub async fn discover_all<C: Cloud>(
    cloud: &C,
    config: &Config,
    only_accounts: &[AccountId],
    only_regions: &[Region],
) -> Result<(Discovery, Vec<Target>, BTreeMap<AccountId, Arc<str>>), DiscoverError> {
    let (discovery, first, mut pages) =
        discover(cloud, config, only_accounts, only_regions).await?;
    let mut accounts = first;
    while let Some(page) = pages.next().await {
        accounts.extend(page.map_err(DiscoverError::Organization)?);
    }
    let names = accounts
        .iter()
        .map(|a| (a.id.clone(), Arc::from(a.name.as_str())))
        .collect();
    let mut targets = discovery.targets_of(config, accounts);
    targets.sort();
    Ok((discovery, targets, names))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Discovery {
    /// The targets of a page of accounts (sorted by account then region),
    /// after noting which of those accounts need their role: under `probe:
    /// needed`, those that are not associated members in every region in
    /// scope; under `probe: all`, every one but the administrator.
    pub(crate) fn targets_of(&self, config: &Config, mut accounts: Vec<OrgAccount>) -> Vec<Target> {
        for (ou, below) in &self.below {
            for a in accounts.iter_mut().filter(|a| below.contains(&a.id)) {
                a.ous.push(ou.clone());
            }
        }
        let targets = org::expand(
            config,
            &accounts,
            &self.regions,
            &self.only_accounts,
            &self.only_regions,
        );
        let mut roles = lock(&self.roles);
        let mut last: Option<&AccountId> = None;
        for t in &targets {
            if last == Some(&t.account) {
                continue;
            }
            last = Some(&t.account);
            let needed = match self.probe {
                ProbeMode::All => t.account != self.admin && !t.excluded,
                ProbeMode::Needed => org::needs_role(
                    &t.account,
                    &self.admin,
                    t.excluded,
                    self.views.values().filter_map(|v| v.as_ref().ok()),
                ),
            };
            if needed {
                roles.entry(t.account.clone()).or_default();
            }
        }
        targets
    }

    /// The credentials of `account`'s role, if discovery decided it needs
    /// one: assumed by the first caller, shared with every later one.
    async fn credentials(
        &self,
        cloud: &impl Cloud,
        account: &AccountId,
    ) -> Option<Result<AccountCredentials, AwsError>> {
        let cell = lock(&self.roles).get(account).cloned()?;
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
            .await
            .clone(),
        )
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
        // A member that has not enabled this opt-in Region: nothing can run
        // there, and its calls would be refused.
        let disabled = view.is_some_and(|v| {
            v.as_ref()
                .is_ok_and(|v| v.is_region_disabled(&target.account))
        });
        // A region whose administrator view failed fails all its targets:
        // probing there would only waste calls.
        let view_failed = view.is_some_and(Result::is_err);
        !covered
            && !disabled
            && !view_failed
            && !target.excluded
            && lock(&self.roles).contains_key(&target.account)
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
                        cloud.guardduty(target.region.as_str(), target.account.as_str(), Some(&c));
                    let probe = gd.probe().await.unwrap_or_else(|e| {
                        // In an opt-in Region, an account that has not
                        // enabled it is refused as an unknown client.
                        let refused = matches!(
                            e.code.as_deref(),
                            Some("UnrecognizedClientException" | "RegionDisabledException")
                        );
                        if refused && crate::config::regions::is_opt_in(target.region.as_str()) {
                            Probe::RegionDisabled
                        } else {
                            Probe::Failed(e.to_string())
                        }
                    });
                    (probe, Some(c))
                }
            },
        };
        let placement = self.placement(&target, view, &probe);
        let detector_id = match (&placement, view, &probe) {
            (Placement::Admin, Some(Ok(v)), _) => v.detector_id.clone(),
            (Placement::Standalone(_), _, Probe::Seen { detector_id, .. }) => detector_id.clone(),
            _ => None,
        };
        Placed {
            credentials: match placement {
                Placement::Standalone(_) => own,
                _ => None,
            },
            target,
            placement,
            detector_id,
        }
    }

    /// Place every target, at most `concurrency` at once, in target order.
    pub async fn place_all(
        &self,
        cloud: &impl Cloud,
        targets: Vec<Target>,
        concurrency: usize,
    ) -> Vec<Placed> {
        stream::iter(targets)
            .map(|t| self.place(cloud, t, Ok(())))
            .buffered(concurrency.max(1))
            .collect()
            .await
    }
}

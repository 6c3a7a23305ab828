//! Discovery: from the organization and GuardDuty's views to placed targets.
//!
//! Does I/O (through [`crate::aws`]) and hands every decision to the pure
//! functions of [`crate::org`]. Reads only: it never makes a mutating call.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use futures::{StreamExt, stream};
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
/// Nothing waits for the whole organization: the accounts are listed page
/// after page from the start of the run ([`listing`]), alongside the views;
/// [`discover`] returns as soon as the views and the first page are in, and
/// each page's targets ([`Discovery::targets_of`]) are placed one by one
/// ([`Discovery::place`]) inside the fan-out, so a target is reconciled as
/// soon as its own account is listed and placed.
#[derive(Debug)]
pub struct Discovery {
    /// The Regions in scope, in order.
    pub regions: Vec<Region>,
    /// The administrator's view of each Region in scope, at the Region's
    /// place in `GUARDDUTY_REGIONS` (a target's is found without a search).
    views: Vec<Option<Result<AdminView, AwsError>>>,
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

/// One page of the organization's accounts, or why it could not be listed.
type Page = Result<Vec<OrgAccount>, AwsError>;

/// The organization's accounts a page at a time, as [`listing`] lists them.
#[derive(Debug)]
pub(crate) struct Pages(tokio::sync::mpsc::UnboundedReceiver<Page>);

impl Pages {
    /// The next page, once it is listed; `None` after the last one (or
    /// after the page that failed).
    pub(crate) async fn next(&mut self) -> Option<Page> {
        self.0.recv().await
    }
}

/// List the organization's accounts: the future lists every page back to
/// back, from the moment it is first polled to the last page (or the first
/// that fails), whatever else the run does; the pages wait in [`Pages`]
/// until the fan-out takes them. The pages are the run's longest chain of
/// calls (one after the other, 20 accounts each): nothing else holds them
/// back. It stops after the page in flight when [`Pages`] is dropped.
pub(crate) fn listing<'a, C: Cloud>(
    cloud: &'a C,
    admin: &AccountId,
) -> (impl Future<Output = ()> + Send + 'a, Pages) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let pages = cloud.organizations(admin.as_str()).account_pages();
    let listing = async move {
        let mut pages = std::pin::pin!(pages);
        while let Some(page) = pages.next().await {
            let failed = page.is_err();
            if tx.send(page).is_err() || failed {
                break;
            }
        }
    };
    (listing, Pages(rx))
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

/// Read the administrator's view of every region of `regions` in scope and
/// the OUs of `include_ous`, while [`listing`] lists the organization's
/// accounts into `pages`, and wait for its first page. Returns what places
/// targets and that first page; the others come through `pages`. A failure
/// here (the organization cannot be listed at all) stops the run before any
/// target starts.
pub(crate) async fn discover<C: Cloud>(
    cloud: &C,
    config: &Config,
    regions: Vec<Region>,
    only_accounts: &[AccountId],
    only_regions: &[Region],
    pages: &mut Pages,
) -> Result<(Discovery, Vec<OrgAccount>), DiscoverError> {
    let admin = &config.admin_account;
    let concurrency = usize::try_from(config.concurrency).unwrap_or(1);
    let regions: Vec<Region> = regions
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
        .fold(
            std::iter::repeat_with(|| None)
                .take(crate::config::regions::GUARDDUTY_REGIONS.len())
                .collect::<Vec<_>>(),
            |mut views, (region, view)| {
                if let Some(slot) = views.get_mut(region.index()) {
                    *slot = Some(view);
                }
                std::future::ready(views)
            },
        );
    let orgs = cloud.organizations(admin.as_str());
    let walking = async {
        let mut below = Vec::new();
        for ou in &config.organization.include_ous {
            below.push((ou.clone(), orgs.accounts_under(ou).await?));
        }
        Ok::<_, AwsError>(below)
    };
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
    Ok((discovery, first))
}

/// [`discover`], with every page listed: the discovery and all the targets,
/// ordered by account then region, and each account's name.
pub async fn discover_all<C: Cloud>(
    cloud: &C,
    config: &Config,
    only_accounts: &[AccountId],
    only_regions: &[Region],
) -> Result<(Discovery, Vec<Target>, BTreeMap<AccountId, Arc<str>>), DiscoverError> {
    let regions = configured_regions(cloud, config).await?;
    let (listing, mut pages) = listing(cloud, &config.admin_account);
    let discovering = async move {
        let (discovery, mut accounts) = discover(
            cloud,
            config,
            regions,
            only_accounts,
            only_regions,
            &mut pages,
        )
        .await?;
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
    };
    tokio::join!(listing, discovering).1
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
                    self.views.iter().flatten().filter_map(|v| v.as_ref().ok()),
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

    /// The administrator's view of `region`, if it is in scope.
    fn view(&self, region: &Region) -> Option<&Result<AdminView, AwsError>> {
        self.views.get(region.index()).and_then(Option::as_ref)
    }

    /// Whether placing `target` takes calls (its role, a probe).
    fn needs_calls(&self, target: &Target) -> bool {
        self.needs_calls_with(target, self.has_role(&target.account))
    }

    /// [`Discovery::needs_calls`], knowing whether the account has a role.
    fn needs_calls_with(&self, target: &Target, role: bool) -> bool {
        // The cheapest first: most targets of a large organization are in
        // accounts that need no role.
        if target.excluded || !role {
            return false;
        }
        match self.view(&target.region) {
            // A region whose administrator view failed fails all its
            // targets: probing there would only waste calls.
            Some(Err(_)) => false,
            Some(Ok(v)) => match v.relationship(&target.account) {
                // Under `probe: needed` the administrator's view settles the
                // regions where the account is an associated member: no call
                // there.
                Some(org::placement::ENABLED) => self.probe != ProbeMode::Needed,
                // A member that has not enabled this opt-in Region: nothing
                // can run there, and its calls would be refused.
                Some(org::placement::REGION_DISABLED) => false,
                _ => true,
            },
            None => true,
        }
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

    /// Before the targets of one account start (`targets`, all of that
    /// account): its role, assumed now if one of them will need it, so that
    /// none of them holds a place among the running targets while the role
    /// is assumed.
    pub(crate) async fn prepare(&self, cloud: &impl Cloud, targets: &[Target]) {
        let Some(first) = targets.first() else {
            return;
        };
        if self.has_role(&first.account) && targets.iter().any(|t| self.needs_calls_with(t, true)) {
            let _ = self.credentials(cloud, &first.account).await;
        }
    }

    /// Whether discovery decided that `account` needs its role.
    pub(crate) fn has_role(&self, account: &AccountId) -> bool {
        lock(&self.roles).contains_key(account)
    }

    /// Place `target` from the administrator's view alone, if that settles
    /// it (an associated member, an excluded account, a Region the account
    /// has not enabled, the administrator, ...): no call. Gives the target
    /// back when its placement takes calls ([`Discovery::place`]). `role`:
    /// [`Discovery::has_role`] of its account (asked once per account).
    pub(crate) fn place_at_once(&self, target: Target, role: bool) -> Result<Placed, Target> {
        if self.needs_calls_with(&target, role) {
            return Err(target);
        }
        Ok(self.placed(target, &Probe::NotProbed, None))
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
        self.placed(target, &probe, own)
    }

    /// `target` placed from its Region's view and what was seen from inside
    /// the account (`probe`, with the role's credentials `own`).
    fn placed(&self, target: Target, probe: &Probe, own: Option<AccountCredentials>) -> Placed {
        let view = self.view(&target.region);
        let placement = self.placement(&target, view, probe);
        let detector_id = match (&placement, view, probe) {
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

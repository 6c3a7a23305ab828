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
use crate::cloud::{Cloud, GuardDutyApi, MEMBERS_PER_CALL, OrganizationsApi};
use crate::config::{AccountId, Config, OuId, Probe as ProbeMode, Region, RegionScope};
use crate::org::placement::Members;
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
/// detector in each region, the OUs of `include_ous`; then, as each page of
/// the organization arrives, the administrator's view of that page's
/// accounts and which of them need a role.
///
/// Nothing waits for the whole organization, nor for the administrator's
/// whole member list: the accounts are listed page after page from the
/// start of the run ([`listing`]); [`discover`] returns as soon as the
/// detectors and the first page are in; each page's members are looked up
/// as it arrives (GetMembers, one call per Region for a page's 20 accounts,
/// [`Discovery::page`]), and its targets are placed one by one
/// ([`Discovery::place`]) inside the fan-out, so a target is reconciled as
/// soon as its own account is listed and placed.
#[derive(Debug)]
pub struct Discovery {
    /// The Regions in scope, in order.
    pub regions: Vec<Region>,
    /// The administrator's detector in each Region in scope (`None`:
    /// GuardDuty is off there), at the Region's place in `GUARDDUTY_REGIONS`.
    detectors: Vec<Option<Result<Option<String>, AwsError>>>,
    /// `include_ous`: each OU and the accounts below it.
    below: Vec<(OuId, BTreeSet<AccountId>)>,
    /// What is known of each account listed so far: its page's views and,
    /// if it needs one, its role.
    accounts: Mutex<HashMap<AccountId, Known>>,
    /// How many of a page's GetMembers calls (a batch of accounts in a
    /// Region) are in flight at once.
    concurrency: usize,
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

/// What the administrator's GetMembers answered for one page's accounts,
/// in every Region in scope. Shared by the page's accounts, and small: a
/// status is one byte ([`org::Relationship::code`]), so 10,000 accounts in
/// 34 Regions keep less than a megabyte here, in a few allocations a page.
#[derive(Debug, Default)]
struct PageView {
    /// The accounts asked about, in order (the page's targets are ordered
    /// by account).
    accounts: Vec<AccountId>,
    /// `accounts.len()` status codes per GuardDuty Region, Region after
    /// Region at its place in `GUARDDUTY_REGIONS`: 0 when the account is
    /// not a member there (or the Region is out of scope).
    codes: Vec<u8>,
    /// A status GuardDuty does not document, at its place in `codes`.
    others: Vec<(usize, org::Relationship)>,
    /// The Regions (their place in `GUARDDUTY_REGIONS`) where GetMembers failed.
    failed: Vec<(usize, AwsError)>,
}

/// A code in [`PageView::codes`] for a status kept in [`PageView::others`].
const OTHER_STATUS: u8 = u8::MAX;

impl PageView {
    /// The view of `accounts` (sorted) from GetMembers' `answers`, one a
    /// batch of accounts: for a Region (its place in `GUARDDUTY_REGIONS`),
    /// the members found among the batch, or why they could not be read (a
    /// Region where one batch failed has failed for the whole page).
    fn new(accounts: Vec<AccountId>, answers: Vec<(usize, Result<Members, AwsError>)>) -> Self {
        let regions = crate::config::regions::GUARDDUTY_REGIONS.len();
        let mut page = PageView {
            codes: vec![0; accounts.len() * regions],
            accounts,
            ..PageView::default()
        };
        for (region, found) in answers {
            let found = match found {
                Ok(found) => found,
                Err(e) => {
                    if page.failure(region).is_none() {
                        page.failed.push((region, e));
                    }
                    continue;
                }
            };
            for (account, status) in found {
                // An account it was not asked about is ignored.
                let Ok(i) = page.accounts.binary_search(&account) else {
                    continue;
                };
                let at = page.at(i, region);
                let code = status.code().unwrap_or(OTHER_STATUS);
                if code == OTHER_STATUS {
                    page.others.push((at, status));
                }
                if let Some(slot) = page.codes.get_mut(at) {
                    *slot = code;
                }
            }
        }
        page
    }

    /// Where the status of the `i`th account in the Region at `region` is in `codes`.
    fn at(&self, i: usize, region: usize) -> usize {
        region * self.accounts.len() + i
    }

    /// `account`'s relationship status in the Region at `region`, if it is a member there.
    #[cfg(test)]
    fn relationship(&self, account: &AccountId, region: usize) -> Option<&str> {
        self.relationship_at(self.accounts.binary_search(account).ok()?, region)
    }

    /// [`PageView::relationship`] of the `i`th account asked about.
    fn relationship_at(&self, i: usize, region: usize) -> Option<&str> {
        let at = self.at(i, region);
        match *self.codes.get(at)? {
            OTHER_STATUS => self
                .others
                .iter()
                .find(|(i, _)| *i == at)
                .map(|(_, r)| r.as_str()),
            code => org::Relationship::of_code(code),
        }
    }

    /// Why GetMembers failed in the Region at `region`, if it did.
    fn failure(&self, region: usize) -> Option<&AwsError> {
        self.failed
            .iter()
            .find(|(r, _)| *r == region)
            .map(|(_, e)| e)
    }
}

/// What discovery knows of one account, once its page is in: the page's
/// [`PageView`] and the account's place among the accounts asked about
/// (none for the administrator, whose own targets need only its detector,
/// nor for an excluded account) and, if the account needs one, its role
/// (assumed at most once, by the first of its targets that needs it; the
/// others wait for that one).
#[derive(Debug, Clone)]
pub(crate) struct Known {
    page: Option<(Arc<PageView>, usize)>,
    role: Option<Arc<Role>>,
}

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

/// Read the administrator's detector in every region of `regions` in scope
/// and the OUs of `include_ous`, while [`listing`] lists the organization's
/// accounts into `pages`, and wait for its first page. Returns what places
/// targets and that first page; the others come through `pages`, each
/// turned into targets by [`Discovery::page`]. A failure here (the
/// organization cannot be listed at all) stops the run before any target
/// starts.
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

    // The administrator's detector, once per region; the OUs; the first page.
    let detecting = by_region(
        stream::iter(regions.iter())
            .map(|region| async move {
                let gd = cloud.guardduty(region.as_str(), admin.as_str(), None);
                (region.index(), gd.detector_id().await)
            })
            .buffer_unordered(concurrency),
    );
    let orgs = cloud.organizations(admin.as_str());
    let walking = async {
        let mut below = Vec::new();
        for ou in &config.organization.include_ous {
            below.push((ou.clone(), orgs.accounts_under(ou).await?));
        }
        Ok::<_, AwsError>(below)
    };
    let (detectors, below, first) = tokio::join!(detecting, walking, pages.next());
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
        detectors,
        below,
        accounts: Mutex::new(HashMap::new()),
        concurrency,
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
        let mut targets = discovery.page(cloud, config, accounts).await;
        targets.sort();
        Ok((discovery, targets, names))
    };
    tokio::join!(listing, discovering).1
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Each Region's value at the Region's place in `GUARDDUTY_REGIONS`, from
/// `(place, value)` pairs; `None` for a Region not among them.
async fn by_region<T>(pairs: impl futures::Stream<Item = (usize, T)>) -> Vec<Option<T>> {
    let slots = std::iter::repeat_with(|| None)
        .take(crate::config::regions::GUARDDUTY_REGIONS.len())
        .collect();
    pairs
        .fold(slots, |mut slots: Vec<Option<T>>, (at, value)| {
            if let Some(slot) = slots.get_mut(at) {
                *slot = Some(value);
            }
            std::future::ready(slots)
        })
        .await
}

impl Discovery {
    /// The targets of a page of accounts (sorted by account then region).
    /// First the administrator's view of those accounts in every Region in
    /// scope (GetMembers, at most 50 accounts a call; the administrator and
    /// excluded accounts are not asked about), then which of them need
    /// their role: under `probe: needed`, those that are not associated
    /// members in every region in scope; under `probe: all`, every one but
    /// the administrator.
    pub(crate) async fn page<C: Cloud>(
        &self,
        cloud: &C,
        config: &Config,
        mut accounts: Vec<OrgAccount>,
    ) -> Vec<Target> {
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
        // Each account once, in order (a page's view searches them).
        let mut asked: Vec<AccountId> = targets
            .iter()
            .filter(|t| !t.excluded && t.account != self.admin)
            .map(|t| t.account.clone())
            .collect();
        asked.sort_unstable();
        asked.dedup();
        let page = Arc::new(self.page_view(cloud, asked).await);
        let mut known = lock(&self.accounts);
        let mut last: Option<&AccountId> = None;
        for t in &targets {
            if last == Some(&t.account) {
                continue;
            }
            last = Some(&t.account);
            let mut k = Known {
                page: page
                    .accounts
                    .binary_search(&t.account)
                    .ok()
                    .map(|i| (page.clone(), i)),
                role: None,
            };
            let needed = match self.probe {
                ProbeMode::All => t.account != self.admin && !t.excluded,
                ProbeMode::Needed => org::needs_role(
                    &t.account,
                    &self.admin,
                    t.excluded,
                    self.regions
                        .iter()
                        .filter_map(|r| self.view(r, Some(&k))?.ok()),
                ),
            };
            // An account listed twice keeps the role it may already have.
            let role = known.get(&t.account).and_then(|k| k.role.clone());
            k.role = role.or_else(|| needed.then(Arc::default));
            known.insert(t.account.clone(), k);
        }
        targets
    }

    /// The administrator's members among `accounts` (sorted) in every
    /// Region in scope where it has a detector (GetMembers,
    /// [`MEMBERS_PER_CALL`] accounts a call).
    async fn page_view<C: Cloud>(&self, cloud: &C, accounts: Vec<AccountId>) -> PageView {
        if accounts.is_empty() {
            return PageView::new(accounts, Vec::new());
        }
        let admin = self.admin.as_str();
        let clients: Vec<(usize, &str, C::GuardDuty)> = self
            .regions
            .iter()
            .filter_map(|region| match self.detectors.get(region.index()) {
                Some(Some(Ok(Some(id)))) => Some((
                    region.index(),
                    id.as_str(),
                    cloud.guardduty(region.as_str(), admin, None),
                )),
                _ => None,
            })
            .collect();
        // Every batch of every Region, at most `concurrency` at once: a
        // page is one batch a Region, the whole organization (a run's
        // check of `--account`) is many.
        let batches = clients.iter().flat_map(|(region, id, gd)| {
            accounts
                .chunks(MEMBERS_PER_CALL)
                .map(move |batch| (*region, *id, gd, batch))
        });
        let answers = stream::iter(batches)
            .map(|(region, id, gd, batch)| async move { (region, gd.members(id, batch).await) })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        PageView::new(accounts, answers)
    }

    /// The administrator's view of an account in `region`, from what is
    /// known of it: `None` when the Region is out of scope or the
    /// account's page is not in; the error when the administrator's
    /// detector or the page's members could not be read there.
    fn view<'a>(
        &'a self,
        region: &Region,
        known: Option<&'a Known>,
    ) -> Option<Result<AdminView<'a>, &'a AwsError>> {
        let known = known?;
        let detector = match self.detectors.get(region.index())?.as_ref()? {
            Err(e) => return Some(Err(e)),
            Ok(d) => d.as_deref(),
        };
        let page = known.page.as_ref();
        if let Some(e) = page.and_then(|(p, _)| p.failure(region.index())) {
            return Some(Err(e));
        }
        Some(Ok(AdminView {
            detector_id: detector,
            relationship: page.and_then(|(p, i)| p.relationship_at(*i, region.index())),
        }))
    }

    /// What is known of `account`, once its page is in.
    pub(crate) fn known(&self, account: &AccountId) -> Option<Known> {
        lock(&self.accounts).get(account).cloned()
    }

    /// The credentials of the account's role, if discovery decided it needs
    /// one: assumed by the first caller, shared with every later one.
    async fn credentials(
        &self,
        cloud: &impl Cloud,
        account: &AccountId,
        known: Option<&Known>,
    ) -> Option<Result<AccountCredentials, AwsError>> {
        let cell = known?.role.as_ref()?;
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

    /// Whether placing `target` takes calls (its role, a probe), given
    /// what is known of its account.
    fn needs_calls(&self, target: &Target, known: Option<&Known>) -> bool {
        // The cheapest first: most targets of a large organization are in
        // accounts that need no role.
        let Some(known) = known.filter(|k| k.role.is_some()) else {
            return false;
        };
        if target.excluded {
            return false;
        }
        match self.view(&target.region, Some(known)) {
            // A region whose administrator view failed fails all its
            // targets: probing there would only waste calls.
            Some(Err(_)) => false,
            Some(Ok(v)) => match v.relationship {
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
        view: Option<Result<AdminView<'_>, &AwsError>>,
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
    /// is assumed. Returns what is known of the account, for
    /// [`Discovery::place_at_once`].
    pub(crate) async fn prepare(&self, cloud: &impl Cloud, targets: &[Target]) -> Option<Known> {
        let first = targets.first()?;
        let known = self.known(&first.account);
        let known_ref = known.as_ref();
        if known_ref.is_some_and(|k| k.role.is_some())
            && targets.iter().any(|t| self.needs_calls(t, known_ref))
        {
            let _ = self.credentials(cloud, &first.account, known_ref).await;
        }
        known
    }

    /// Place `target` from the administrator's view alone, if that settles
    /// it (an associated member, an excluded account, a Region the account
    /// has not enabled, the administrator, ...): no call. Gives the target
    /// back when its placement takes calls ([`Discovery::place`]). `known`:
    /// [`Discovery::known`] of its account (asked once per account).
    pub(crate) fn place_at_once(
        &self,
        target: Target,
        known: Option<&Known>,
    ) -> Result<Placed, Target> {
        if self.needs_calls(&target, known) {
            return Err(target);
        }
        Ok(self.placed(target, &Probe::NotProbed, None, known))
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
        let known = self.known(&target.account);
        let known = known.as_ref();
        let (probe, own) = match calls {
            _ if !self.needs_calls(&target, known) => (Probe::NotProbed, None),
            Err(why) => (Probe::Failed(why.to_owned()), None),
            Ok(()) => match self.credentials(cloud, &target.account, known).await {
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
        self.placed(target, &probe, own, known)
    }

    /// `target` placed from its Region's view and what was seen from inside
    /// the account (`probe`, with the role's credentials `own`).
    fn placed(
        &self,
        target: Target,
        probe: &Probe,
        own: Option<AccountCredentials>,
        known: Option<&Known>,
    ) -> Placed {
        let view = self.view(&target.region, known);
        let placement = self.placement(&target, view, probe);
        let detector_id = match (&placement, view, probe) {
            (Placement::Admin, Some(Ok(v)), _) => v.detector_id.map(str::to_owned),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> AccountId {
        AccountId::parse(s).expect("an account id")
    }

    fn members(pairs: &[(&str, &str)]) -> Members {
        pairs
            .iter()
            .map(|(a, s)| (id(a), org::Relationship::from(*s)))
            .collect()
    }

    #[test]
    fn a_pages_view_keeps_each_status_where_it_was_read() {
        let (a, b, c) = ("222222222222", "333333333333", "444444444444");
        let failure = AwsError {
            account: "111111111111".to_owned(),
            region: "eu-west-1".to_owned(),
            operation: "GetMembers",
            code: Some("InternalServerErrorException".to_owned()),
            message: "injected".to_owned(),
        };
        let page = PageView::new(
            vec![id(a), id(b), id(c)],
            vec![
                // Two batches in one Region; an account not asked about is ignored.
                (0, Ok(members(&[(a, "Enabled"), (b, "Created")]))),
                (1, Ok(members(&[(a, "Enabled")]))),
                (
                    0,
                    Ok(members(&[(c, "Invited"), ("555555555555", "Enabled")])),
                ),
                // One batch of two failed: the Region has failed for the page.
                (1, Err(failure)),
                (2, Ok(members(&[(b, "SomethingNew"), (c, "Removed")]))),
            ],
        );
        let status = |account: &str, region| page.relationship(&id(account), region);
        assert_eq!(status(a, 0), Some("Enabled"));
        assert_eq!(status(b, 0), Some("Created"));
        assert_eq!(status(c, 0), Some("Invited"));
        assert_eq!(status(a, 2), None, "not a member");
        assert_eq!(status(b, 2), Some("SomethingNew"), "kept beside the codes");
        assert_eq!(status(c, 2), Some("Removed"));
        assert_eq!(status("555555555555", 0), None, "not asked about");
        for region in 3..6 {
            assert_eq!(status(a, region), None, "a Region with no answer");
        }
        assert_eq!(page.failure(1).map(|e| e.operation), Some("GetMembers"));
        assert!(page.failure(0).is_none() && page.failure(2).is_none());
        assert_eq!(
            page.codes.len(),
            3 * crate::config::regions::GUARDDUTY_REGIONS.len()
        );
    }
}

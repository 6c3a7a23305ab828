//! An in-process synthetic organization behind the [`crate::cloud`] traits:
//! the engine's scale benchmark (`benches/scale.rs`, 10,000 accounts × 34
//! Regions) and tests of the engine at sizes the emulator cannot serve.
//!
//! It models what discovery and the fan-out read and write: the accounts
//! (pages of 20), the administrator's detector in each Region and its
//! members among each page's accounts (GetMembers), AssumeRole, the view from inside an account, and the ThreatIntelSets
//! and filters of every managed detector. Every call is counted (the
//! report's call budget is filled from those counts) and waits `latency`. A detector nobody wrote to is in the [`Baseline`] state, so an
//! organization of any size costs memory only where a run changed something.
//! It does not model alerts: SNS and EventBridge answer that nothing exists,
//! and refuse writes (run it without `alerts`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::Stream;

use crate::app::RunOptions;
use crate::cloud::AwsError;
use crate::cloud::{AccountCredentials, SetStatus};
use crate::cloud::{Cloud, EventsApi, GuardDutyApi, OrganizationsApi, SnsApi};
use crate::cloud::{Filter, FilterSpec, ListSet, NewSet, SetKind};
use crate::cloud::{NewRule, Rule, Target};
use crate::cloud::{Subscription, Topic};
use crate::config::{AccountId, Condition, Config, OuId, Region, SuppressionRule};
use crate::error::Error;
use crate::org::{OrgAccount, Probe};
use crate::publish;
use crate::reconcile::lists::{self, Desired};
use crate::reconcile::plan::{OWNER_TAG, OWNER_VALUE};
use crate::report::{ListReport, Mode, Report};

/// The administrator account of every synthetic organization.
pub const ADMIN: &str = "111111111111";

/// The sha256 of the list the synthetic runs put in place (a placeholder).
pub(crate) const LIST_SHA256: &str =
    "5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f";

/// The list every managed target should use, for `config`.
pub fn desired(config: &Config) -> Desired {
    let bucket = config.bucket.name.as_str();
    let key = publish::object_key(&config.bucket.prefix, LIST_SHA256);
    Desired {
        name: config.threat_lists[0].name.clone(),
        location: publish::guardduty_location(bucket, &key),
        bucket: bucket.to_owned(),
        key,
        sha256: LIST_SHA256.to_owned(),
        settle: std::time::Duration::from_secs(u64::from(config.threat_lists[0].settle_seconds)),
    }
}

/// A configuration for the synthetic organization: its administrator and
/// Regions, `concurrency`, `probe`, and `rules` suppression rules.
pub fn config(regions: &[Region], concurrency: u32, probe: &str, rules: usize) -> Config {
    let regions: Vec<&str> = regions.iter().map(Region::as_str).collect();
    let mut yaml = format!(
        "admin: {{account_id: \"{ADMIN}\"}}\n\
         organization: {{probe: {probe}}}\n\
         regions: [{}]\n\
         concurrency: {concurrency}\n\
         bucket: {{name: org-threat-lists-{ADMIN}, region: {}}}\n",
        regions.join(", "),
        regions.first().copied().unwrap_or("us-east-1"),
    );
    if rules > 0 {
        yaml.push_str("suppression_rules:\n");
        for i in 0..rules {
            yaml.push_str(&format!(
                "  - name: rule-{i}\n    rank: {}\n    criteria:\n      \
                 type: {{equals: [\"Recon:EC2/Portscan\"]}}\n      \
                 service.action.networkConnectionAction.remoteIpDetails.ipAddressV4: \
                 {{equals: [\"198.51.100.{i}\"]}}\n",
                i + 1
            ));
        }
    }
    crate::config::parse(&yaml, "synthetic.yaml".as_ref(), "synthetic.yaml")
        .unwrap_or_else(|e| unreachable!("the synthetic configuration is valid: {e}"))
}

/// Run `mode` over the synthetic organization exactly as `guardsync plan`
/// or `apply` fans out (discovery, waves, every target), and assemble the
/// report the same way: every target, the summary, and the calls.
pub async fn run(sim: &Synthetic, config: &Config, mode: Mode) -> Result<Report, Error> {
    let before = sim.table();
    let options = RunOptions {
        mode,
        accounts: Vec::new(),
        regions: Vec::new(),
        retry_failed: false,
        deadline: None,
        stop: None,
    };
    let desired = desired(config);
    let location = publish::s3_url(&desired.bucket, &desired.key);
    let lists = crate::reconcile::DesiredLists {
        threat: vec![desired],
        trusted: None,
    };
    let out = crate::app::fan_out(sim, config, &options, lists, &[], &[], None).await?;
    let calls: crate::cloud::calls::Table = sim
        .table()
        .into_iter()
        .filter_map(|(k, mut c)| {
            let b = before.get(&k).map_or(0, |b| b.calls);
            c.calls -= b;
            c.attempts -= b;
            (c.calls > 0).then_some((k, c))
        })
        .collect();
    let list = ListReport {
        sha256: LIST_SHA256.to_owned(),
        entries: 0,
        addresses: 0,
        location,
        changed: false,
        rebuilt: false,
        name: config.threat_lists[0].name.clone(),
        parts: Vec::new(),
    };
    let mut report = crate::app::report(mode, list, out);
    report.count_calls(calls);
    Ok(report)
}

/// The scheduled job over the synthetic organization, for the Lambda entry
/// point of a build with the `sim` feature: `spec` is
/// `ACCOUNTS,REGIONS,STANDALONE_PERCENT,DENIED_PERCENT` (from
/// `GUARDSYNC_SIMULATE`). An apply with the synthetic configuration, then
/// [`crate::lambda::finish`] exactly as a real invocation: the full report
/// goes to the configured bucket (the emulator's), the summary is the
/// response. How the response and the log lines stay within Lambda's limits
/// at the scale benchmark's size is tested this way.
pub async fn lambda_invoke(spec: &str) -> Result<serde_json::Value, crate::lambda::Failure> {
    let n: Vec<usize> = spec
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect();
    let [accounts, regions, standalone, denied] = n[..] else {
        return Err(crate::lambda::Failure {
            kind: "Usage",
            message: format!(
                "GUARDSYNC_SIMULATE={spec:?}: want ACCOUNTS,REGIONS,STANDALONE%,DENIED%"
            ),
        });
    };
    let region_list: Vec<Region> = crate::config::regions::GUARDDUTY_REGIONS
        .iter()
        .take(regions.clamp(1, 34))
        .filter_map(|r| Region::parse(r).ok())
        .collect();
    let config = config(&region_list, 64, "needed", 1);
    let shape = Shape {
        accounts,
        regions,
        standalone_percent: standalone,
        no_detector_percent: 0,
        baseline: Baseline::Converged,
        latency: Duration::ZERO,
        fail_listing_at_page: None,
        denied_roles_percent: denied,
    };
    let report = run(&Synthetic::new(shape, &config), &config, Mode::Apply)
        .await
        .map_err(crate::lambda::Failure::from)?;
    let aws = crate::aws::Aws::load(config.retry_max_attempts).await;
    crate::lambda::finish(&aws, &config, report, None).await
}

/// What a detector holds before any write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// The desired set, ACTIVE, and the configured rules: nothing to change.
    Converged,
    /// guardsync's set points at an earlier list: a content change.
    Outdated,
    /// Nothing of guardsync's: a first apply.
    Empty,
}

/// The organization's shape.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Accounts, the administrator included.
    pub accounts: usize,
    /// How many of GuardDuty's commercial Regions (1 to 34), in table order.
    pub regions: usize,
    /// Per cent of accounts that are standalone (a detector, no administrator).
    pub standalone_percent: usize,
    /// Per cent of accounts with no detector anywhere.
    pub no_detector_percent: usize,
    /// What every managed detector holds before the run.
    pub baseline: Baseline,
    /// Added to every call.
    pub latency: Duration,
    /// ListAccounts fails from this page on (1 is the first), as a listing
    /// that keeps failing after the SDK's retries.
    pub fail_listing_at_page: Option<usize>,
    /// Per cent of accounts (among the standalone ones, which come first)
    /// whose member role cannot be assumed: their targets fail.
    pub denied_roles_percent: usize,
}

/// What an account is, everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Admin,
    Member,
    Standalone,
    NoDetector,
}

/// A detector's state. The simulated AWS keeps one per detector a run
/// writes to (34,000 at 10,000 accounts in 34 Regions when a list changes),
/// so it is kept small: its memory is AWS's, not guardsync's, and should
/// not weigh in the benchmark's peak.
#[derive(Debug, Clone, Default)]
struct Detector {
    sets: Vec<Stored>,
    /// The IPSets (none in any baseline).
    ip_sets: Vec<Stored>,
    /// `None`: the baseline's filters, built when read (a filter's criteria
    /// take kilobytes; a content change writes only the sets).
    filters: Option<Vec<Filter>>,
}

/// A set as the simulated AWS keeps it: a [`ListSet`] whose tags are a
/// short list rather than a map (a map's first node takes half a
/// kilobyte; a set has two or three tags), and whose texts but its id are
/// shared with every other set that has the same ([`Org::text`]: 34,000
/// sets point at one list, with one digest).
#[derive(Debug, Clone)]
struct Stored {
    id: Box<str>,
    name: Arc<str>,
    location: Arc<str>,
    status: SetStatus,
    tags: Vec<(Arc<str>, Arc<str>)>,
}

impl Stored {
    fn of(set: ListSet, text: impl Fn(&str) -> Arc<str>) -> Self {
        Stored {
            id: set.id.into(),
            name: text(&set.name),
            location: text(&set.location),
            status: set.status,
            tags: set.tags.iter().map(|(k, v)| (text(k), text(v))).collect(),
        }
    }

    fn set(&self) -> ListSet {
        ListSet {
            id: self.id.to_string(),
            name: self.name.to_string(),
            location: self.location.to_string(),
            status: self.status.clone(),
            tags: self
                .tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Add `tags`, replacing the values of those it already has.
    fn tag(&mut self, tags: &BTreeMap<String, String>, text: impl Fn(&str) -> Arc<str>) {
        for (k, v) in tags {
            match self.tags.iter_mut().find(|(have, _)| **have == **k) {
                Some((_, value)) => *value = text(v),
                None => self.tags.push((text(k), text(v))),
            }
        }
    }
}

/// Where a detector is kept: the account's number and the Region's name.
type At = (u64, Region);

fn at(account: &str, region: &str) -> Option<At> {
    Some((account.parse().ok()?, Region::parse(region).ok()?))
}

/// The synthetic organization (see the module's documentation). Clones
/// share one organization.
#[derive(Debug, Clone)]
pub struct Synthetic(Arc<Org>);

#[derive(Debug)]
struct Org {
    shape: Shape,
    regions: Vec<Region>,
    desired: Desired,
    rules: Vec<SuppressionRule>,
    /// Detectors a run wrote to, by (account, region).
    written: Mutex<HashMap<At, Detector>>,
    /// The texts of the sets kept in `written`, each once.
    texts: crate::util::Texts,
    /// Nanoseconds spent in the simulated AWS's own work (answering calls,
    /// outside their latency), to tell it apart from guardsync's.
    busy_ns: AtomicU64,
    /// AssumeRole calls in flight now, and at most.
    assuming: (AtomicUsize, AtomicUsize),
    /// `service:Operation` -> calls.
    calls: Mutex<BTreeMap<&'static str, u64>>,
    /// Every call with its start and end, once [`Synthetic::log_calls`]
    /// turned the log on (`logging`).
    log: Mutex<Option<CallLog>>,
    logging: AtomicBool,
}

/// The calls of a run, each with when it started and ended.
#[derive(Debug)]
struct CallLog {
    since: tokio::time::Instant,
    calls: Vec<LoggedCall>,
}

/// One call of the log ([`Synthetic::log_calls`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoggedCall {
    /// `service:Operation`.
    pub op: &'static str,
    /// The account it was made in (the administrator's for discovery).
    pub account: String,
    /// Its Region (empty for the organization and STS).
    pub region: String,
    /// When it started and ended, in milliseconds since the log was turned on.
    pub start_ms: f64,
    /// See `start_ms`.
    pub end_ms: f64,
}

impl Synthetic {
    /// An organization of `shape` whose converged state is what `config`
    /// asks for: the list [`LIST_SHA256`] under `threat_list.name`, and the
    /// `suppression_rules`.
    pub fn new(shape: Shape, config: &Config) -> Self {
        let desired = desired(config);
        let rules = config.suppression_rules.clone();
        let regions = crate::config::regions::GUARDDUTY_REGIONS
            .iter()
            .take(shape.regions.clamp(1, 34))
            .filter_map(|r| Region::parse(r).ok())
            .collect();
        Synthetic(Arc::new(Org {
            shape,
            regions,
            desired,
            rules,
            written: Mutex::new(HashMap::new()),
            texts: crate::util::Texts::default(),
            assuming: (AtomicUsize::new(0), AtomicUsize::new(0)),
            busy_ns: AtomicU64::new(0),
            calls: Mutex::new(BTreeMap::new()),
            log: Mutex::new(None),
            logging: AtomicBool::new(false),
        }))
    }

    /// Log every call from now on, with its start and end
    /// ([`Synthetic::logged_calls`]): where a run's time goes.
    pub fn log_calls(&self) {
        *lock(&self.0.log) = Some(CallLog {
            since: tokio::time::Instant::now(),
            calls: Vec::new(),
        });
        self.0.logging.store(true, Ordering::Relaxed);
    }

    /// The calls logged since [`Synthetic::log_calls`], in the order they ended.
    pub fn logged_calls(&self) -> Vec<LoggedCall> {
        lock(&self.0.log)
            .as_ref()
            .map(|l| l.calls.clone())
            .unwrap_or_default()
    }

    /// Its shape.
    pub fn shape(&self) -> &Shape {
        &self.0.shape
    }

    /// The Regions of the organization, in order.
    pub fn regions(&self) -> &[Region] {
        &self.0.regions
    }

    /// Calls made so far, per operation.
    pub fn calls(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.0.calls)
            .iter()
            .map(|(&key, &n)| (key.split_once(':').map_or(key, |(_, op)| op), n))
            .collect()
    }

    /// Calls made so far, per `service:Operation`, as a report counts them.
    fn table(&self) -> crate::cloud::calls::Table {
        lock(&self.0.calls)
            .iter()
            .map(|(&key, &n)| {
                (
                    key.to_owned(),
                    crate::cloud::calls::Count {
                        calls: n,
                        attempts: n,
                    },
                )
            })
            .collect()
    }

    /// How many detectors a run wrote to.
    pub fn written(&self) -> usize {
        lock(&self.0.written).len()
    }

    /// Time spent in the simulated AWS's own work so far (building its
    /// answers, keeping its state, counting calls), outside the latency.
    pub fn busy(&self) -> Duration {
        Duration::from_nanos(self.0.busy_ns.load(Ordering::Relaxed))
    }

    /// The most AssumeRole calls that were in flight at once.
    pub fn most_roles_in_flight(&self) -> usize {
        self.0.assuming.1.load(Ordering::SeqCst)
    }

    /// The id of the `i`-th account (0: the administrator).
    pub fn account_id(i: usize) -> String {
        if i == 0 {
            ADMIN.to_owned()
        } else {
            format!("{:012}", 200_000_000_000 + i)
        }
    }
}

impl Org {
    fn kind(&self, account: &str) -> Kind {
        if account == ADMIN {
            return Kind::Admin;
        }
        let i = account.parse::<usize>().unwrap_or(0) % 100;
        let s = self.shape.standalone_percent;
        if i < s {
            Kind::Standalone
        } else if i < s + self.shape.no_detector_percent {
            Kind::NoDetector
        } else {
            Kind::Member
        }
    }

    /// One call in `account` and `region`: counted, then `latency`.
    async fn call(&self, key: &'static str, account: &str, region: &str) {
        self.busy(|| *lock(&self.calls).entry(key).or_default() += 1);
        let logging = self.logging.load(Ordering::Relaxed);
        let start = logging.then(tokio::time::Instant::now);
        if !self.shape.latency.is_zero() {
            tokio::time::sleep(self.shape.latency).await;
        }
        if let Some(start) = start {
            self.busy(|| {
                if let Some(log) = lock(&self.log).as_mut() {
                    let ms = |t: tokio::time::Instant| (t - log.since).as_secs_f64() * 1000.0;
                    let call = LoggedCall {
                        op: key,
                        account: account.to_owned(),
                        region: region.to_owned(),
                        start_ms: ms(start),
                        end_ms: ms(tokio::time::Instant::now()),
                    };
                    log.calls.push(call);
                }
            });
        }
    }

    /// Run `f` as the simulated AWS's own work.
    fn busy<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let out = f();
        let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.busy_ns.fetch_add(ns, Ordering::Relaxed);
        out
    }

    fn detector_id(account: &str, region: &str) -> String {
        format!("d{account}{}", region.len())
    }

    /// `text`, shared with every set that holds the same.
    fn text(&self, text: &str) -> Arc<str> {
        self.texts.get(text)
    }

    /// A detector as it stands before any write.
    fn baseline(&self, account: &str) -> Detector {
        let set = |location: String, sha: &str| Stored {
            id: format!("s{account}").into(),
            name: self.text(&self.desired.name),
            location: self.text(&location),
            status: SetStatus::Active,
            tags: vec![
                (self.text(OWNER_TAG), self.text(OWNER_VALUE)),
                (self.text(lists::SHA_TAG), self.text(sha)),
            ],
        };
        match self.shape.baseline {
            Baseline::Converged => Detector {
                sets: vec![set(self.desired.location.clone(), &self.desired.sha256)],
                ip_sets: Vec::new(),
                filters: None,
            },
            Baseline::Outdated => Detector {
                sets: vec![set(
                    format!("s3://{}/earlier.txt", self.desired.bucket),
                    "earlier",
                )],
                ip_sets: Vec::new(),
                filters: None,
            },
            Baseline::Empty => Detector {
                sets: Vec::new(),
                ip_sets: Vec::new(),
                filters: Some(Vec::new()),
            },
        }
    }

    /// The filters of a detector nobody wrote filters to.
    fn baseline_filters(&self) -> Vec<Filter> {
        match self.shape.baseline {
            Baseline::Empty => Vec::new(),
            Baseline::Converged | Baseline::Outdated => self
                .rules
                .iter()
                .map(|r| Filter {
                    name: r.name.as_str().to_owned(),
                    description: r.description.clone().unwrap_or_default(),
                    rank: i32::from(r.rank),
                    action: "ARCHIVE".to_owned(),
                    criteria: r.criteria.clone(),
                    tags: owner_tags(),
                })
                .collect(),
        }
    }

    /// The filters of (account, region).
    fn filters(&self, account: &str, region: &str) -> Vec<Filter> {
        self.read(account, region, |d| d.filters.clone())
            .unwrap_or_else(|| self.busy(|| self.baseline_filters()))
    }

    /// Change the filters of (account, region).
    fn write_filters<T>(
        &self,
        account: &str,
        region: &str,
        f: impl FnOnce(&mut Vec<Filter>) -> T,
    ) -> T {
        let baseline = self.read(account, region, |d| d.filters.is_none());
        let initial = baseline.then(|| self.baseline_filters());
        self.write(account, region, |d| {
            if let Some(i) = initial {
                d.filters.get_or_insert(i);
            }
            f(d.filters.get_or_insert_with(Vec::new))
        })
    }

    /// Read the detector of (account, region).
    fn read<T>(&self, account: &str, region: &str, f: impl FnOnce(&Detector) -> T) -> T {
        self.busy(|| {
            let written = lock(&self.written);
            match at(account, region).and_then(|at| written.get(&at)) {
                Some(d) => f(d),
                None => f(&self.baseline(account)),
            }
        })
    }

    /// Change the detector of (account, region).
    fn write<T>(&self, account: &str, region: &str, f: impl FnOnce(&mut Detector) -> T) -> T {
        self.busy(|| {
            let mut written = lock(&self.written);
            match at(account, region) {
                Some(at) => f(written.entry(at).or_insert_with(|| self.baseline(account))),
                // Not an account or Region of the organization: written
                // nowhere, as a call there would change nothing.
                None => f(&mut self.baseline(account)),
            }
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn owner_tags() -> BTreeMap<String, String> {
    BTreeMap::from([(OWNER_TAG.to_owned(), OWNER_VALUE.to_owned())])
}

impl Cloud for Synthetic {
    type GuardDuty = SimGuardDuty;
    type Sns = SimAlerts;
    type Events = SimAlerts;
    type Organizations = SimOrganizations;

    fn organizations(&self, _caller: &str) -> Self::Organizations {
        SimOrganizations {
            sim: self.0.clone(),
        }
    }

    async fn enabled_regions(&self, region: &str, _account: &str) -> Result<Vec<String>, AwsError> {
        self.0.call("account:ListRegions", ADMIN, region).await;
        Ok(self.0.regions.iter().map(ToString::to_string).collect())
    }

    async fn assume(
        &self,
        account: &str,
        _region: &str,
        role: &str,
        _external_id: Option<&str>,
        _session_name: &str,
    ) -> Result<AccountCredentials, AwsError> {
        let (now, most) = &self.0.assuming;
        most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
        self.0.call("sts:AssumeRole", account, "").await;
        now.fetch_sub(1, Ordering::SeqCst);
        if account.parse::<usize>().unwrap_or(0) % 100 < self.0.shape.denied_roles_percent {
            return Err(AwsError {
                account: ADMIN.to_owned(),
                region: _region.to_owned(),
                operation: "AssumeRole",
                code: Some("AccessDenied".to_owned()),
                message: format!(
                    "User: arn:aws:sts::{ADMIN}:assumed-role/GuardSyncAdministratorRole/guardsync \
                     is not authorized to perform: sts:AssumeRole on resource: {}",
                    crate::aws::sts::role_arn("aws", account, role)
                ),
            });
        }
        // Nothing signs the synthetic organization's calls: no handle.
        Ok(AccountCredentials::new(
            crate::aws::sts::role_arn("aws", account, role),
            (),
        ))
    }

    fn guardduty(
        &self,
        region: &str,
        account: &str,
        _credentials: Option<&AccountCredentials>,
    ) -> Self::GuardDuty {
        SimGuardDuty {
            sim: self.0.clone(),
            account: account.to_owned(),
            region: region.to_owned(),
        }
    }

    fn sns(&self, region: &str, account: &str) -> SimAlerts {
        SimAlerts {
            sim: self.0.clone(),
            account: account.to_owned(),
            region: region.to_owned(),
        }
    }

    fn events(&self, region: &str, account: &str) -> SimAlerts {
        self.sns(region, account)
    }
}

/// Organizations of the synthetic organization.
#[derive(Debug)]
pub struct SimOrganizations {
    sim: Arc<Org>,
}

impl OrganizationsApi for SimOrganizations {
    fn account_pages(self) -> impl Stream<Item = Result<Vec<OrgAccount>, AwsError>> + Send {
        let n = self.sim.shape.accounts;
        futures::stream::unfold(0, move |from| {
            let sim = self.sim.clone();
            async move {
                if from >= n {
                    return None;
                }
                sim.call("organizations:ListAccounts", ADMIN, "").await;
                let to = (from + 20).min(n);
                if sim.shape.fail_listing_at_page == Some(from / 20 + 1) {
                    return Some((
                        Err(AwsError {
                            account: ADMIN.to_owned(),
                            region: "us-east-1".to_owned(),
                            operation: "ListAccounts",
                            code: Some("ServiceException".to_owned()),
                            message: "ServiceException: injected".to_owned(),
                        }),
                        n,
                    ));
                }
                let page = sim.busy(|| {
                    (from..to)
                        .filter_map(|i| {
                            let id = Synthetic::account_id(i);
                            Some(OrgAccount {
                                id: AccountId::parse(&id).ok()?,
                                name: format!("account-{i}"),
                                state: "ACTIVE".to_owned(),
                                ous: Vec::new(),
                            })
                        })
                        .collect()
                });
                Some((Ok(page), to))
            }
        })
    }

    async fn accounts_under(&self, _ou: &OuId) -> Result<BTreeSet<AccountId>, AwsError> {
        self.sim.call("organizations:ListChildren", ADMIN, "").await;
        Ok(BTreeSet::new())
    }
}

/// GuardDuty in one account and Region of the synthetic organization.
#[derive(Debug)]
pub struct SimGuardDuty {
    sim: Arc<Org>,
    account: String,
    region: String,
}

impl SimGuardDuty {
    async fn call(&self, key: &'static str) {
        self.sim.call(key, &self.account, &self.region).await;
    }

    fn not_found(&self, operation: &'static str, what: &str) -> AwsError {
        AwsError {
            account: self.account.clone(),
            region: self.region.clone(),
            operation,
            code: Some("BadRequestException".to_owned()),
            message: format!("BadRequestException: {what} does not exist"),
        }
    }
}

impl GuardDutyApi for SimGuardDuty {
    async fn detector_id(&self) -> Result<Option<String>, AwsError> {
        self.call("guardduty:ListDetectors").await;
        let kind = self.sim.busy(|| self.sim.kind(&self.account));
        Ok((kind != Kind::NoDetector).then(|| Org::detector_id(&self.account, &self.region)))
    }

    async fn members(
        &self,
        _detector_id: &str,
        accounts: &[AccountId],
    ) -> Result<crate::org::placement::Members, AwsError> {
        self.call("guardduty:GetMembers").await;
        Ok(self.sim.busy(|| {
            accounts
                .iter()
                .filter(|id| self.sim.kind(id.as_str()) == Kind::Member)
                .map(|id| (id.clone(), "Enabled".into()))
                .collect()
        }))
    }

    async fn probe(&self) -> Result<Probe, AwsError> {
        self.call("guardduty:ListDetectors").await;
        let kind = self.sim.busy(|| self.sim.kind(&self.account));
        if kind != Kind::NoDetector {
            self.call("guardduty:GetAdministratorAccount").await;
        }
        Ok(self.sim.busy(|| match kind {
            Kind::NoDetector => Probe::Seen {
                detector_id: None,
                administrator: None,
            },
            kind => Probe::Seen {
                detector_id: Some(Org::detector_id(&self.account, &self.region)),
                administrator: (kind == Kind::Member).then(|| {
                    (
                        AccountId::parse(ADMIN).unwrap_or_else(|_| unreachable!()),
                        "Enabled".to_owned(),
                    )
                }),
            },
        }))
    }

    async fn sets(&self, kind: SetKind, _detector_id: &str) -> Result<Vec<ListSet>, AwsError> {
        self.call(op(kind, Op::List)).await;
        let sets = self.sim.read(&self.account, &self.region, |d| {
            of_kind(d, kind).iter().map(Stored::set).collect::<Vec<_>>()
        });
        for _ in &sets {
            self.call(op(kind, Op::Get)).await;
        }
        Ok(sets)
    }

    async fn threat_entity_set_count(&self, _detector_id: &str) -> Result<usize, AwsError> {
        // The synthetic organization has no threat entity lists.
        self.call("guardduty:ListThreatEntitySets").await;
        Ok(0)
    }

    async fn set(&self, kind: SetKind, _detector_id: &str, id: &str) -> Result<ListSet, AwsError> {
        self.call(op(kind, Op::Get)).await;
        self.sim
            .read(&self.account, &self.region, |d| {
                of_kind(d, kind)
                    .iter()
                    .find(|s| &*s.id == id)
                    .map(Stored::set)
            })
            .ok_or_else(|| self.not_found(op(kind, Op::Get).trim_start_matches("guardduty:"), id))
    }

    async fn create_set(
        &self,
        kind: SetKind,
        _detector_id: &str,
        set: &NewSet<'_>,
    ) -> Result<String, AwsError> {
        self.call(op(kind, Op::Create)).await;
        let id = format!("s{}-{}", self.account, set.name);
        self.sim.write(&self.account, &self.region, |d| {
            let set = ListSet {
                id: id.clone(),
                name: set.name.to_owned(),
                location: set.location.to_owned(),
                status: SetStatus::Active,
                tags: set.tags.clone(),
            };
            of_kind_mut(d, kind).push(Stored::of(set, |t| self.sim.text(t)));
        });
        Ok(id)
    }

    async fn activate_set(
        &self,
        kind: SetKind,
        _detector_id: &str,
        id: &str,
        location: &str,
        _bucket_owner: &str,
    ) -> Result<(), AwsError> {
        self.call(op(kind, Op::Update)).await;
        self.sim
            .write(&self.account, &self.region, |d| {
                of_kind_mut(d, kind)
                    .iter_mut()
                    .find(|s| &*s.id == id)
                    .map(|s| {
                        s.location = self.sim.text(location);
                        s.status = SetStatus::Active;
                    })
            })
            .ok_or_else(|| {
                self.not_found(op(kind, Op::Update).trim_start_matches("guardduty:"), id)
            })
    }

    async fn tag_set(
        &self,
        kind: SetKind,
        _detector_id: &str,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        self.call("guardduty:TagResource").await;
        self.sim
            .write(&self.account, &self.region, |d| {
                of_kind_mut(d, kind)
                    .iter_mut()
                    .find(|s| &*s.id == id)
                    .map(|s| s.tag(tags, |t| self.sim.text(t)))
            })
            .ok_or_else(|| self.not_found("TagResource", id))
    }

    async fn delete_set(
        &self,
        kind: SetKind,
        _detector_id: &str,
        id: &str,
    ) -> Result<(), AwsError> {
        self.call(op(kind, Op::Delete)).await;
        self.sim.write(&self.account, &self.region, |d| {
            of_kind_mut(d, kind).retain(|s| &*s.id != id);
        });
        Ok(())
    }

    fn set_arn(&self, kind: SetKind, detector_id: &str, id: &str) -> String {
        let path = match kind {
            SetKind::ThreatIntel => "threatintelset",
            SetKind::Ip => "ipset",
        };
        format!(
            "arn:aws:guardduty:{}:{}:detector/{detector_id}/{path}/{id}",
            self.region, self.account
        )
    }

    fn filter_arn(&self, detector_id: &str, name: &str) -> String {
        format!(
            "arn:aws:guardduty:{}:{}:detector/{detector_id}/filter/{name}",
            self.region, self.account
        )
    }

    async fn filters(&self, _detector_id: &str) -> Result<Vec<Filter>, AwsError> {
        self.call("guardduty:ListFilters").await;
        let filters = self.sim.filters(&self.account, &self.region);
        for _ in &filters {
            self.call("guardduty:GetFilter").await;
        }
        Ok(filters)
    }

    async fn create_filter(
        &self,
        _detector_id: &str,
        spec: &FilterSpec<'_>,
        tags: &BTreeMap<String, String>,
        _client_token: &str,
    ) -> Result<(), AwsError> {
        self.call("guardduty:CreateFilter").await;
        self.sim
            .write_filters(&self.account, &self.region, |filters| {
                filters.push(Filter {
                    name: spec.name.to_owned(),
                    description: spec.description.to_owned(),
                    rank: spec.rank.unwrap_or(1),
                    action: "ARCHIVE".to_owned(),
                    criteria: spec.criteria.clone(),
                    tags: tags.clone(),
                });
            });
        Ok(())
    }

    async fn update_filter(
        &self,
        _detector_id: &str,
        spec: &FilterSpec<'_>,
    ) -> Result<(), AwsError> {
        self.call("guardduty:UpdateFilter").await;
        self.sim
            .write_filters(&self.account, &self.region, |filters| {
                filters.iter_mut().find(|f| f.name == spec.name).map(|f| {
                    f.description = spec.description.to_owned();
                    if let Some(rank) = spec.rank {
                        f.rank = rank;
                    }
                    f.action = "ARCHIVE".to_owned();
                    f.criteria = spec.criteria.clone();
                })
            })
            .ok_or_else(|| self.not_found("UpdateFilter", spec.name))
    }

    async fn delete_filter(&self, _detector_id: &str, name: &str) -> Result<(), AwsError> {
        self.call("guardduty:DeleteFilter").await;
        self.sim
            .write_filters(&self.account, &self.region, |filters| {
                filters.retain(|f| f.name != name);
            });
        Ok(())
    }

    async fn finding_ids(
        &self,
        _detector_id: &str,
        _criteria: &BTreeMap<String, Condition>,
    ) -> Result<Vec<String>, AwsError> {
        // The synthetic organization has no findings.
        self.call("guardduty:ListFindings").await;
        Ok(Vec::new())
    }

    async fn archive_findings(&self, _detector_id: &str, _ids: &[String]) -> Result<(), AwsError> {
        self.call("guardduty:ArchiveFindings").await;
        Ok(())
    }
}

/// The operations on sets, by kind.
#[derive(Debug, Clone, Copy)]
enum Op {
    List,
    Get,
    Create,
    Update,
    Delete,
}

/// The call-log key of `op` on a set of `kind`.
fn op(kind: SetKind, op: Op) -> &'static str {
    match (kind, op) {
        (SetKind::ThreatIntel, Op::List) => "guardduty:ListThreatIntelSets",
        (SetKind::ThreatIntel, Op::Get) => "guardduty:GetThreatIntelSet",
        (SetKind::ThreatIntel, Op::Create) => "guardduty:CreateThreatIntelSet",
        (SetKind::ThreatIntel, Op::Update) => "guardduty:UpdateThreatIntelSet",
        (SetKind::ThreatIntel, Op::Delete) => "guardduty:DeleteThreatIntelSet",
        (SetKind::Ip, Op::List) => "guardduty:ListIPSets",
        (SetKind::Ip, Op::Get) => "guardduty:GetIPSet",
        (SetKind::Ip, Op::Create) => "guardduty:CreateIPSet",
        (SetKind::Ip, Op::Update) => "guardduty:UpdateIPSet",
        (SetKind::Ip, Op::Delete) => "guardduty:DeleteIPSet",
    }
}

fn of_kind(d: &Detector, kind: SetKind) -> &Vec<Stored> {
    match kind {
        SetKind::ThreatIntel => &d.sets,
        SetKind::Ip => &d.ip_sets,
    }
}

fn of_kind_mut(d: &mut Detector, kind: SetKind) -> &mut Vec<Stored> {
    match kind {
        SetKind::ThreatIntel => &mut d.sets,
        SetKind::Ip => &mut d.ip_sets,
    }
}

/// SNS and EventBridge of the synthetic organization: nothing exists, and
/// nothing may be written (alerts are not modelled).
#[derive(Debug)]
pub struct SimAlerts {
    sim: Arc<Org>,
    account: String,
    region: String,
}

impl SimAlerts {
    fn refused(&self, operation: &'static str) -> AwsError {
        AwsError {
            account: self.account.clone(),
            region: self.region.clone(),
            operation,
            code: None,
            message: "the synthetic organization does not model alerts; run it without `alerts`"
                .to_owned(),
        }
    }
}

impl SnsApi for SimAlerts {
    fn topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{}:{}:{name}", self.region, self.account)
    }
    async fn topic(&self, _arn: &str) -> Result<Option<Topic>, AwsError> {
        Ok(None)
    }
    async fn policy(&self, _arn: &str) -> Result<Option<String>, AwsError> {
        Ok(None)
    }
    async fn subscriptions(&self, _arn: &str) -> Result<Vec<Subscription>, AwsError> {
        Ok(Vec::new())
    }
    async fn create_topic(
        &self,
        _name: &str,
        _tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        Err(self.refused("CreateTopic"))
    }
    async fn set_policy(&self, _arn: &str, _policy: &str) -> Result<(), AwsError> {
        Err(self.refused("SetTopicAttributes"))
    }
    async fn subscribe_email(&self, _arn: &str, _email: &str) -> Result<(), AwsError> {
        Err(self.refused("Subscribe"))
    }
    async fn unsubscribe(&self, _subscription_arn: &str) -> Result<(), AwsError> {
        Err(self.refused("Unsubscribe"))
    }
    async fn delete_topic(&self, _arn: &str) -> Result<(), AwsError> {
        Err(self.refused("DeleteTopic"))
    }
}

impl EventsApi for SimAlerts {
    fn rule_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:rule/{name}",
            self.region, self.account
        )
    }
    async fn rule(&self, _name: &str) -> Result<Option<Rule>, AwsError> {
        self.sim
            .call("events:DescribeRule", &self.account, &self.region)
            .await;
        Ok(None)
    }
    async fn put_rule(&self, _rule: &NewRule<'_>) -> Result<String, AwsError> {
        Err(self.refused("PutRule"))
    }
    async fn put_target(&self, _rule: &str, _target: &Target) -> Result<(), AwsError> {
        Err(self.refused("PutTargets"))
    }
    async fn remove_targets(&self, _rule: &str, _ids: &[String]) -> Result<(), AwsError> {
        Err(self.refused("RemoveTargets"))
    }
    async fn delete_rule(&self, _name: &str) -> Result<(), AwsError> {
        Err(self.refused("DeleteRule"))
    }
}

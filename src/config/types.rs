//! Validated configuration types: once built, every value is known to be good.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use ipnet::Ipv4Net;

/// The feed used when `feeds` is absent.
pub const DEFAULT_FEED_URL: &str = "https://iplists.firehol.org/files/firehol_level1.netset";

/// A 12-digit AWS account id, held as its 12 digits: no allocation, and
/// copied for every one of an account's targets (10,000 accounts in 34
/// Regions make 340,000 of them). Its order, equality and hash are those of
/// its text.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountId(pub(crate) [u8; 12]);

impl AccountId {
    /// Parse a 12-digit account id.
    pub fn parse(s: &str) -> Result<Self, String> {
        match <[u8; 12]>::try_from(s.as_bytes()) {
            Ok(digits) if digits.iter().all(u8::is_ascii_digit) => Ok(AccountId(digits)),
            _ => Err(format!("must be a 12-digit AWS account id, got {s:?}")),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits get in (`parse`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The id's twelve ASCII digits.
    pub fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }

    /// The digits as one number whose order is the text's: every id has
    /// twelve of them.
    fn key(&self) -> u128 {
        let mut wide = [0u8; 16];
        wide[4..].copy_from_slice(&self.0);
        u128::from_be_bytes(wide)
    }
}

impl Ord for AccountId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for AccountId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for AccountId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // What `str` hashes (`Hasher::write_str`), without a UTF-8 check.
        state.write(&self.0);
        state.write_u8(0xff);
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AccountId").field(&self.as_str()).finish()
    }
}

/// Maps keyed by account are looked up with the id as text (its order and
/// hash are those of the text).
impl std::borrow::Borrow<str> for AccountId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::ops::Deref for AccountId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for AccountId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for AccountId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An AWS Region where GuardDuty is offered: its place in
/// [`super::regions::GUARDDUTY_REGIONS`] (one byte, no allocation). Its
/// order is that of its code.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Region(u8);

impl Region {
    /// Parse a GuardDuty Region name.
    pub fn parse(s: &str) -> Result<Self, String> {
        match super::regions::guardduty_region(s).and_then(|i| u8::try_from(i).ok()) {
            Some(i) => Ok(Region(i)),
            None => {
                let mut m = format!("{s:?} is not an AWS Region where GuardDuty is offered");
                if let Some(near) = crate::util::nearest(s, super::regions::GUARDDUTY_REGIONS) {
                    m.push_str(&format!("; did you mean {near:?}?"));
                }
                Err(m)
            }
        }
    }

    /// The Region code.
    pub fn as_str(&self) -> &'static str {
        super::regions::GUARDDUTY_REGIONS
            .get(usize::from(self.0))
            .copied()
            .unwrap_or_default()
    }

    /// Its place in [`super::regions::GUARDDUTY_REGIONS`], from 0.
    pub(crate) fn index(&self) -> usize {
        usize::from(self.0)
    }
}

impl Ord for Region {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |r: &Region| super::regions::RANKS.get(r.index()).copied();
        rank(self).cmp(&rank(other))
    }
}

impl PartialOrd for Region {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Region").field(&self.as_str()).finish()
    }
}

impl std::ops::Deref for Region {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Region {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Region {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An organizational unit id (`ou-xxxx-yyyyyyyy`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OuId(pub(crate) String);

impl OuId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A GuardDuty filter name: 3-64 characters of `[A-Za-z0-9._-]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FilterName(pub(crate) String);

impl FilterName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub source: PathBuf,
    /// The GuardDuty delegated administrator account, where guardsync runs.
    pub admin_account: AccountId,
    /// How to reach and scope the organization's accounts.
    pub organization: Organization,
    /// Which Regions are in scope.
    pub regions: RegionScope,
    /// How many targets run at once.
    pub concurrency: u32,
    /// Attempts per AWS call, for throttling and 5xx answers.
    pub retry_max_attempts: u32,
    /// Where the list comes from.
    pub feeds: Vec<Feed>,
    /// The threat lists (`threat_lists`, or `threat_list` + `feeds` as one
    /// list): at least one, at most six, names unique.
    pub threat_lists: Vec<ThreatList>,
    /// GuardDuty's trusted IP list (an IPSet), when configured.
    pub trusted_list: Option<TrustedList>,
    /// Where the list is published.
    pub bucket: Bucket,
    /// GuardDuty filters with action ARCHIVE, by name.
    pub suppression_rules: Vec<SuppressionRule>,
    /// Finding alerts in the administrator account, when configured.
    pub alerts: Option<Alerts>,
    /// Waves of the rollout; `None` is one wave with every target.
    pub rollout: Option<Rollout>,
}

/// `organization`.
#[derive(Debug, Clone)]
pub struct Organization {
    /// Role name, or `path/name`, assumed in other accounts.
    pub member_role: String,
    /// Optional external id for AssumeRole.
    pub external_id: Option<String>,
    /// Fixed session name, so a SOC can recognise the tool in CloudTrail.
    pub session_name: String,
    /// Empty: every ACTIVE account.
    pub include_accounts: Vec<AccountId>,
    /// Accounts reported as `excluded`.
    pub exclude_accounts: Vec<AccountId>,
    /// Accounts below these OUs, recursively.
    pub include_ous: Vec<OuId>,
    /// Where roles are assumed.
    pub probe: Probe,
}

/// `organization.probe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Assume a role only where the administrator's view is not enough.
    Needed,
    /// Assume a role in every account and check each region from inside.
    All,
}

/// `regions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionScope {
    /// Every GuardDuty Region enabled in the administrator account.
    Enabled,
    /// These Regions, in this order.
    List(Vec<Region>),
}

/// One entry of `feeds`.
#[derive(Debug, Clone)]
pub struct Feed {
    /// Short name used in reports and the manifest.
    pub name: String,
    /// `https://`, `http://` or `file://`.
    pub url: url::Url,
}

/// One threat list: an entry of `threat_lists`, or `threat_list`.
#[derive(Debug, Clone)]
pub struct ThreatList {
    /// ThreatIntelSet name, the same everywhere it is managed (a list split
    /// in parts is managed as `NAME-1`, `NAME-2`, ...).
    pub name: String,
    /// The names of its feeds (entries of [`Config::feeds`]), in order.
    pub feeds: Vec<String>,
    /// Drop special-purpose address space.
    pub strip_reserved: bool,
    /// Never listed, whatever the feeds say.
    pub allowlist: Vec<Ipv4Net>,
    /// Refuse to publish a smaller list.
    pub min_entries: u32,
    /// Refuse a list that lost more than this share of entries; `None` = off.
    pub max_shrink_percent: Option<u8>,
    /// Refuse feeds whose header date is older; `None` = off.
    pub max_age_hours: Option<u32>,
    /// How long `apply` waits for GuardDuty to load a set before it reports
    /// the set `activating` (seconds, 0-840).
    pub settle_seconds: u32,
}

/// `trusted_list`: GuardDuty's trusted IP list (an IPSet, one per detector).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedList {
    /// IPSet name, the same everywhere it is managed.
    pub name: String,
    /// The trusted networks (at most 2,000); also subtracted from every threat list.
    pub cidrs: Vec<Ipv4Net>,
}

impl Config {
    /// The feeds of one threat list, in its order.
    pub fn feeds_of(&self, list: &ThreatList) -> Vec<&Feed> {
        list.feeds
            .iter()
            .filter_map(|n| self.feeds.iter().find(|f| &f.name == n))
            .collect()
    }
}

/// `bucket`.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// Bucket name.
    pub name: String,
    /// Bucket Region.
    pub region: Region,
    /// Key prefix, empty or ending with `/`.
    pub prefix: String,
    /// Put the org-read, TLS-only bucket policy.
    pub manage_policy: bool,
    /// How many full reports of the scheduled job to keep under
    /// `<prefix>state/reports/` (the newest).
    pub keep_reports: u32,
}

/// One suppression rule (a GuardDuty filter with action ARCHIVE).
#[derive(Debug, Clone, PartialEq)]
pub struct SuppressionRule {
    /// Filter name.
    pub name: FilterName,
    /// Filter description.
    pub description: Option<String>,
    /// Evaluation order, 1-100.
    pub rank: u8,
    /// Also archive the current findings that match (ArchiveFindings);
    /// otherwise only new findings are archived.
    pub archive_existing: bool,
    /// Finding attribute -> conditions (all must hold).
    pub criteria: BTreeMap<String, Condition>,
}

/// The operators on one finding attribute (GuardDuty `Condition`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Condition {
    /// `Equals`.
    pub equals: Option<Vec<String>>,
    /// `NotEquals`.
    pub not_equals: Option<Vec<String>>,
    /// `GreaterThan`.
    pub greater_than: Option<i64>,
    /// `GreaterThanOrEqual`.
    pub greater_than_or_equal: Option<i64>,
    /// `LessThan`.
    pub less_than: Option<i64>,
    /// `LessThanOrEqual`.
    pub less_than_or_equal: Option<i64>,
    /// `Matches` (at most 5 values).
    pub matches: Option<Vec<String>>,
    /// `NotMatches` (at most 5 values).
    pub not_matches: Option<Vec<String>>,
}

/// `alerts`.
#[derive(Debug, Clone, PartialEq)]
pub struct Alerts {
    /// Findings at or above this severity are sent.
    pub min_severity: f64,
    /// SNS topic name.
    pub topic_name: String,
    /// E-mail subscriptions.
    pub emails: Vec<String>,
}

/// `rollout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// Ordered waves.
    pub waves: Vec<Wave>,
    /// Failures allowed per wave before the rollout stops.
    pub failure_tolerance: Tolerance,
}

/// One wave of the rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wave {
    /// Targets matching these Regions and/or accounts (an empty list matches all).
    Select {
        /// Regions of the wave; empty = any.
        regions: Vec<Region>,
        /// Accounts of the wave; empty = any.
        accounts: Vec<AccountId>,
    },
    /// Every target not in an earlier wave.
    Rest,
}

/// `rollout.failure_tolerance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    /// At most this many failed targets per wave.
    Count(u32),
    /// At most this percentage of a wave's targets.
    Percent(u8),
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::super::regions::GUARDDUTY_REGIONS;
    use super::{AccountId, Region};

    #[test]
    fn regions_compare_as_their_codes_do() {
        for a in GUARDDUTY_REGIONS {
            for b in GUARDDUTY_REGIONS {
                let (ra, rb) = (Region::parse(a), Region::parse(b));
                let (ra, rb) = (ra.expect("a Region"), rb.expect("a Region"));
                assert_eq!(ra.cmp(&rb), a.cmp(b), "{a} / {b}");
                assert_eq!(ra == rb, a == b);
                assert_eq!(ra.as_str(), *a);
            }
        }
        assert!(Region::parse("mars-north-1").is_err());
    }

    #[test]
    fn an_account_id_orders_compares_and_hashes_as_its_text() {
        let ids = [
            "000000000001",
            "111111111111",
            "200000000009",
            "200000000010",
            "999999999999",
        ];
        for a in ids {
            for b in ids {
                let (x, y) = (AccountId::parse(a), AccountId::parse(b));
                let (x, y) = (x.expect("an id"), y.expect("an id"));
                assert_eq!(x.cmp(&y), a.cmp(b), "{a} / {b}");
                assert_eq!(x == y, a == b);
            }
        }
        // Maps keyed by account are looked up with the text.
        let by_id: HashMap<AccountId, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, a)| (AccountId::parse(a).expect("an id"), i))
            .collect();
        let ordered: BTreeMap<AccountId, usize> = by_id.clone().into_iter().collect();
        for (i, a) in ids.iter().enumerate() {
            assert_eq!(by_id.get(*a), Some(&i));
            assert_eq!(ordered.get(*a), Some(&i));
        }
        assert_eq!(
            format!("{:?}", AccountId::parse("111111111111").expect("an id")),
            "AccountId(\"111111111111\")"
        );
        assert!(AccountId::parse("11111111111").is_err());
        assert!(AccountId::parse("11111111111x").is_err());
        assert!(AccountId::parse("1111111111111").is_err());
    }
}

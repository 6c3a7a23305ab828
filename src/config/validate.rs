//! Raw YAML shapes -> validated [`Config`], collecting every problem (pure).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ipnet::Ipv4Net;
use serde_saphyr::Location;

use super::errors::{ConfigError, ConfigErrors};
use super::raw::{self, RawConfig, RawRegions, RawTolerance, RawWave, S};
use super::types::*;
use crate::util::nearest;

/// GuardDuty quotas and API limits the configuration must respect.
/// <https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_limits.html>
const MAX_FILTERS: usize = 100;
const MAX_LIST_ENTRIES: i64 = 250_000;
const MAX_MATCH_VALUES: usize = 5;
/// ThreatIntelSets per account and Region: the most threat lists, and the
/// most parts one list may be split in.
const MAX_THREAT_LISTS: usize = 6;
/// ThreatIntelSet and IPSet `Name`: 1-300 characters (GuardDuty API
/// reference, CreateThreatIntelSet and CreateIPSet).
const MAX_SET_NAME: usize = 300;
/// A threat list name leaves room for its last possible part suffix, `-6`.
const MAX_LIST_NAME: usize = MAX_SET_NAME - "-6".len();
/// Addresses and CIDRs in a trusted IP list.
const MAX_TRUSTED_ENTRIES: usize = 2000;

/// The name of the feed used when `feeds` is absent.
const DEFAULT_FEED_NAME: &str = "firehol_level1";

/// Collects errors with their location.
struct Ctx<'a> {
    file: &'a str,
    /// The line of each top-level key, where known.
    key_lines: &'a BTreeMap<String, u64>,
    errors: Vec<ConfigError>,
}

impl Ctx<'_> {
    fn err(&mut self, at: Location, path: impl Into<String>, message: impl Into<String>) {
        self.err_line(at.line(), path, message);
    }

    fn err_line(&mut self, line: u64, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.to_owned(),
            line,
            path: path.into(),
            message: message.into(),
        });
    }

    /// The line of the top-level `key`, else of its value `at`.
    fn key_line(&self, key: &str, at: Location) -> u64 {
        self.key_lines.get(key).copied().unwrap_or(at.line())
    }
}

/// Validate a parsed document; `file` labels every error.
/// `key_lines` holds the line of each top-level key, where known.
pub(crate) fn validate(
    raw: RawConfig,
    source: &Path,
    file: &str,
    key_lines: &BTreeMap<String, u64>,
) -> Result<Config, ConfigErrors> {
    let mut cx = Ctx {
        file,
        key_lines,
        errors: Vec::new(),
    };
    let admin_account = account(&mut cx, &raw.admin.value.account_id, "admin.account_id");
    let organization = organization(&mut cx, raw.organization.as_ref(), admin_account.as_ref());
    let regions = regions(&mut cx, &raw.regions);
    let concurrency = int_in(
        &mut cx,
        raw.concurrency.as_ref(),
        "concurrency",
        32,
        1,
        10_000,
    );
    let retry_max_attempts = int_in(
        &mut cx,
        raw.retry
            .as_ref()
            .and_then(|r| r.value.max_attempts.as_ref()),
        "retry.max_attempts",
        8,
        1,
        20,
    );
    let feeds = feeds(&mut cx, raw.feeds.as_ref());
    let threat_lists = threat_lists(&mut cx, &raw, &feeds);
    let trusted_list = trusted_list(&mut cx, raw.trusted_list.as_ref(), &threat_lists);
    let bucket = bucket(&mut cx, &raw.bucket.value);
    let suppression_rules = rules(&mut cx, raw.suppression_rules.as_ref());
    let alerts = raw.alerts.as_ref().and_then(|a| alerts(&mut cx, &a.value));
    let rollout = raw
        .rollout
        .as_ref()
        .and_then(|r| rollout(&mut cx, &r.value, regions.as_ref()));

    if !cx.errors.is_empty() {
        return Err(ConfigErrors(cx.errors));
    }
    // Every Option below is Some when no error was recorded.
    match (admin_account, regions, bucket) {
        (Some(admin_account), Some(regions), Some(bucket)) => Ok(Config {
            source: source.to_path_buf(),
            admin_account,
            organization,
            regions,
            concurrency,
            retry_max_attempts,
            feeds,
            threat_lists,
            trusted_list,
            bucket,
            suppression_rules,
            alerts,
            rollout,
        }),
        _ => Err(ConfigErrors(vec![ConfigError {
            file: file.to_owned(),
            line: 0,
            path: String::new(),
            message: "internal error: validation failed without a message".into(),
        }])),
    }
}

fn account(cx: &mut Ctx<'_>, v: &S<String>, path: &str) -> Option<AccountId> {
    AccountId::parse(&v.value)
        .map_err(|m| cx.err(v.referenced, path, m))
        .ok()
}

fn accounts(cx: &mut Ctx<'_>, list: Option<&Vec<S<String>>>, path: &str) -> Vec<AccountId> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, v) in list.into_iter().flatten().enumerate() {
        let p = format!("{path}[{i}]");
        if let Some(id) = account(cx, v, &p) {
            if seen.insert(id.clone()) {
                out.push(id);
            } else {
                cx.err(v.referenced, p, format!("account {id} is listed twice"));
            }
        }
    }
    out
}

/// A value in `lo..=hi`, or `default` when the key is absent.
fn int_in(cx: &mut Ctx<'_>, v: Option<&S<i64>>, path: &str, default: u32, lo: i64, hi: i64) -> u32 {
    match v {
        None => default,
        Some(v) if (lo..=hi).contains(&v.value) => u32::try_from(v.value).unwrap_or(default),
        Some(v) => {
            cx.err(
                v.referenced,
                path,
                format!("must be an integer from {lo} to {hi}, got {}", v.value),
            );
            default
        }
    }
}

/// IAM names: `[\w+=,.@-]` (the AWS IAM API reference, RoleName and RoleSessionName).
fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn organization(
    cx: &mut Ctx<'_>,
    raw: Option<&S<raw::RawOrganization>>,
    admin: Option<&AccountId>,
) -> Organization {
    let r = raw.map(|r| &r.value);
    let member_role = match r.and_then(|r| r.member_role.as_ref()) {
        None => "GuardSyncMemberRole".to_owned(),
        Some(v) => {
            // IAM writes paths as `/a/b/`; accept `a/b/Name` and `/a/b/Name`.
            let text = v.value.trim_start_matches('/');
            let (path, name) = text.rsplit_once('/').unwrap_or(("", text));
            let path_ok = path.is_empty()
                || path
                    .split('/')
                    .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_graphic()));
            let name_ok =
                !name.is_empty() && name.len() <= 64 && name.chars().all(is_iam_name_char);
            if !(path_ok && name_ok) {
                cx.err(
                    v.referenced,
                    "organization.member_role",
                    format!(
                        "must be an IAM role name (1-64 of [A-Za-z0-9_+=,.@-]) or path/name, got {:?}",
                        v.value
                    ),
                );
            }
            text.to_owned()
        }
    };
    let external_id = r.and_then(|r| r.external_id.as_ref()).map(|v| {
        let ok = (2..=1224).contains(&v.value.len())
            && v.value
                .chars()
                .all(|c| is_iam_name_char(c) || c == ':' || c == '/');
        if !ok {
            cx.err(
                v.referenced,
                "organization.external_id",
                "must be 2-1224 characters of [A-Za-z0-9_+=,.@:/-]",
            );
        }
        v.value.clone()
    });
    let session_name = match r.and_then(|r| r.session_name.as_ref()) {
        None => "guardsync".to_owned(),
        Some(v) => {
            if !((2..=64).contains(&v.value.len()) && v.value.chars().all(is_iam_name_char)) {
                cx.err(
                    v.referenced,
                    "organization.session_name",
                    format!("must match [\\w+=,.@-]{{2,64}}, got {:?}", v.value),
                );
            }
            v.value.clone()
        }
    };
    let include_accounts = accounts(
        cx,
        r.and_then(|r| r.include_accounts.as_ref()),
        "organization.include_accounts",
    );
    let exclude_accounts = accounts(
        cx,
        r.and_then(|r| r.exclude_accounts.as_ref()),
        "organization.exclude_accounts",
    );
    for (i, v) in r
        .and_then(|r| r.exclude_accounts.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let path = format!("organization.exclude_accounts[{i}]");
        if admin.is_some_and(|a| a.as_str() == v.value) {
            cx.err(
                v.referenced,
                path,
                "the administrator account cannot be excluded: its list and rules cover every member",
            );
        } else if include_accounts.iter().any(|a| a.as_str() == v.value) {
            cx.err(
                v.referenced,
                path,
                format!("account {} is both included and excluded", v.value),
            );
        }
    }
    let mut include_ous = Vec::new();
    for (i, v) in r
        .and_then(|r| r.include_ous.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
    {
        if is_ou_id(&v.value) {
            include_ous.push(OuId(v.value.clone()));
        } else {
            cx.err(
                v.referenced,
                format!("organization.include_ous[{i}]"),
                format!("must be an OU id like ou-ab12-cd34ef56 (ou-[0-9a-z]{{4,32}}-[a-z0-9]{{8,32}}), got {:?}", v.value),
            );
        }
    }
    let probe = match r.and_then(|r| r.probe.as_ref()) {
        None => Probe::Needed,
        Some(v) => match v.value.as_str() {
            "needed" => Probe::Needed,
            "all" => Probe::All,
            other => {
                cx.err(
                    v.referenced,
                    "organization.probe",
                    format!("must be `needed` or `all`, got {other:?}"),
                );
                Probe::Needed
            }
        },
    };
    Organization {
        member_role,
        external_id,
        session_name,
        include_accounts,
        exclude_accounts,
        include_ous,
        probe,
    }
}

/// `ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}` (Organizations API reference, OrganizationalUnitId).
fn is_ou_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("ou-") else {
        return false;
    };
    let Some((a, b)) = rest.split_once('-') else {
        return false;
    };
    let part = |p: &str, lo: usize| {
        (lo..=32).contains(&p.len())
            && p.bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    };
    part(a, 4) && part(b, 8)
}

fn region(cx: &mut Ctx<'_>, v: &S<String>, path: &str) -> Option<Region> {
    match Region::parse(&v.value) {
        Ok(r) => Some(r),
        Err(m) => {
            cx.err(v.referenced, path, m);
            None
        }
    }
}

fn regions(cx: &mut Ctx<'_>, raw: &S<RawRegions>) -> Option<RegionScope> {
    match &raw.value {
        RawRegions::Word(w) if w == "enabled" => Some(RegionScope::Enabled),
        RawRegions::Word(w) => {
            cx.err(
                raw.referenced,
                "regions",
                format!("must be a list of region names or the word `enabled`, got {w:?}"),
            );
            None
        }
        RawRegions::List(list) if list.is_empty() => {
            cx.err(
                raw.referenced,
                "regions",
                "must name at least one region (or be `enabled`)",
            );
            None
        }
        RawRegions::List(list) => {
            let mut out = Vec::new();
            let mut ok = true;
            for (i, v) in list.iter().enumerate() {
                let path = format!("regions[{i}]");
                match region(cx, v, &path) {
                    Some(r) if out.contains(&r) => {
                        cx.err(v.referenced, path, format!("region {r} is listed twice"));
                        ok = false;
                    }
                    Some(r) => out.push(r),
                    None => ok = false,
                }
            }
            ok.then_some(RegionScope::List(out))
        }
    }
}

/// Names of feeds, reports and rules: `[A-Za-z0-9._-]`.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn feeds(cx: &mut Ctx<'_>, raw: Option<&S<Vec<S<raw::RawFeed>>>>) -> Vec<Feed> {
    let Some(raw) = raw else {
        return vec![Feed {
            name: DEFAULT_FEED_NAME.into(),
            url: default_feed_url(),
        }];
    };
    if raw.value.is_empty() {
        cx.err(raw.referenced, "feeds", "must list at least one feed");
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (i, f) in raw.value.iter().enumerate() {
        let f = &f.value;
        if !is_name(&f.name.value) || f.name.value.len() > 64 {
            cx.err(
                f.name.referenced,
                format!("feeds[{i}].name"),
                format!(
                    "must be 1-64 characters of [A-Za-z0-9._-], got {:?}",
                    f.name.value
                ),
            );
        } else if !names.insert(f.name.value.clone()) {
            cx.err(
                f.name.referenced,
                format!("feeds[{i}].name"),
                format!("feed {:?} is defined twice", f.name.value),
            );
        }
        match url::Url::parse(&f.url.value) {
            Ok(u) if matches!(u.scheme(), "https" | "http" | "file") => out.push(Feed {
                name: f.name.value.clone(),
                url: u,
            }),
            Ok(u) => cx.err(
                f.url.referenced,
                format!("feeds[{i}].url"),
                format!("scheme must be https, http or file, got {:?}", u.scheme()),
            ),
            Err(e) => cx.err(
                f.url.referenced,
                format!("feeds[{i}].url"),
                format!("is not a valid URL ({e}): {:?}", f.url.value),
            ),
        }
    }
    out
}

fn default_feed_url() -> url::Url {
    #[expect(clippy::expect_used, reason = "a constant URL that a unit test parses")]
    url::Url::parse(DEFAULT_FEED_URL).expect("the default feed URL is valid")
}

/// The keys that `threat_list` and an entry of `threat_lists` share.
struct ListKeys<'a> {
    strip_reserved: Option<&'a S<bool>>,
    allowlist: Option<&'a Vec<S<String>>>,
    min_entries: Option<&'a S<i64>>,
    max_shrink_percent: Option<&'a Option<S<i64>>>,
    max_age_hours: Option<&'a Option<S<i64>>>,
    settle_seconds: Option<&'a S<i64>>,
}

impl<'a> ListKeys<'a> {
    fn of_threat_list(r: Option<&'a raw::RawThreatList>) -> Self {
        ListKeys {
            strip_reserved: r.and_then(|r| r.strip_reserved.as_ref()),
            allowlist: r.and_then(|r| r.allowlist.as_ref()),
            min_entries: r.and_then(|r| r.min_entries.as_ref()),
            max_shrink_percent: r.and_then(|r| r.max_shrink_percent.as_ref()),
            max_age_hours: r.and_then(|r| r.max_age_hours.as_ref()),
            settle_seconds: r.and_then(|r| r.settle_seconds.as_ref()),
        }
    }

    fn of_entry(r: &'a raw::RawListEntry) -> Self {
        ListKeys {
            strip_reserved: r.strip_reserved.as_ref(),
            allowlist: r.allowlist.as_ref(),
            min_entries: r.min_entries.as_ref(),
            max_shrink_percent: r.max_shrink_percent.as_ref(),
            max_age_hours: r.max_age_hours.as_ref(),
            settle_seconds: r.settle_seconds.as_ref(),
        }
    }
}

/// The names a threat list may be managed under: its own, and its parts'
/// when it is split (`feed::split::part_names`), at most one per set
/// GuardDuty allows.
fn part_names(name: &str) -> impl Iterator<Item = String> + '_ {
    (1..=MAX_THREAT_LISTS).map(move |i| format!("{name}-{i}"))
}

/// A threat list name (`path` names the key): not blank, and short enough
/// that its last possible part name, `NAME-6`, fits GuardDuty's 300.
fn list_name(cx: &mut Ctx<'_>, v: &S<String>, path: &str) -> bool {
    let ok = !v.value.trim().is_empty() && v.value.len() <= MAX_LIST_NAME;
    if !ok {
        cx.err(
            v.referenced,
            path,
            format!(
                "must be 1-{MAX_LIST_NAME} characters (GuardDuty allows {MAX_SET_NAME}, and a \
                 list split in parts is managed as NAME-1 to NAME-{MAX_THREAT_LISTS}), got {}",
                v.value.len()
            ),
        );
    }
    ok
}

/// `threat_list`, or `threat_lists`, or the default list: the threat lists.
/// `feeds` are the validated feeds (the single list takes them all).
fn threat_lists(cx: &mut Ctx<'_>, raw: &RawConfig, feeds: &[Feed]) -> Vec<ThreatList> {
    let Some(many) = &raw.threat_lists else {
        let mut one = threat_list(cx, raw.threat_list.as_ref());
        one.feeds = feeds.iter().map(|f| f.name.clone()).collect();
        return vec![one];
    };
    let both = raw.threat_list.is_some();
    if both {
        cx.err_line(
            cx.key_line("threat_lists", many.referenced),
            "threat_lists",
            "`threat_list` and `threat_lists` are both set: use `threat_list` for one list \
             of every feed, or `threat_lists`, not both",
        );
        // Its own problems too, every one at once.
        threat_list(cx, raw.threat_list.as_ref());
    }
    if many.value.is_empty() {
        cx.err(
            many.referenced,
            "threat_lists",
            "must list at least one threat list",
        );
    } else if many.value.len() > MAX_THREAT_LISTS {
        cx.err(
            many.referenced,
            "threat_lists",
            format!(
                "GuardDuty allows at most {MAX_THREAT_LISTS} threat lists per account and \
                 Region, got {}",
                many.value.len()
            ),
        );
    }
    // The feeds a list may name: every `feeds[].name` as written (a feed
    // with a bad URL is reported once, at its URL), or the default feed.
    let declared: Vec<&str> = match &raw.feeds {
        Some(f) => f
            .value
            .iter()
            .map(|f| f.value.name.value.as_str())
            .collect(),
        None => vec![DEFAULT_FEED_NAME],
    };
    let mut used = BTreeSet::new();
    let mut named: Vec<(usize, &str)> = Vec::new();
    let mut out = Vec::new();
    for (i, entry) in many.value.iter().enumerate() {
        let e = &entry.value;
        let base = format!("threat_lists[{i}]");
        let name = &e.name.value;
        if list_name(cx, &e.name, &format!("{base}.name")) {
            if let Some(message) = list_name_clash(name, &named) {
                cx.err(e.name.referenced, format!("{base}.name"), message);
            }
            named.push((i, name));
        }
        if e.feeds.value.is_empty() {
            cx.err(
                e.feeds.referenced,
                format!("{base}.feeds"),
                "must name at least one feed of `feeds`",
            );
        }
        let mut list_feeds: Vec<String> = Vec::new();
        for (j, f) in e.feeds.value.iter().enumerate() {
            let path = format!("{base}.feeds[{j}]");
            if !declared.contains(&f.value.as_str()) {
                cx.err(f.referenced, path, unknown_feed(&f.value, &declared, raw));
            } else if list_feeds.contains(&f.value) {
                cx.err(
                    f.referenced,
                    path,
                    format!("feed {:?} is listed twice", f.value),
                );
            } else {
                used.insert(f.value.as_str());
                list_feeds.push(f.value.clone());
            }
        }
        out.push(list_settings(
            cx,
            ListKeys::of_entry(e),
            &base,
            name.clone(),
            list_feeds,
        ));
    }
    // Top-level `feeds` is where feeds are declared, and each is downloaded:
    // one that no list uses is a mistake (a typo, a list left out).
    if let (Some(f), false, false) = (&raw.feeds, both, many.value.is_empty()) {
        let mut reported = BTreeSet::new();
        for (i, feed) in f.value.iter().enumerate() {
            let n = &feed.value.name;
            if !used.contains(n.value.as_str()) && reported.insert(n.value.as_str()) {
                cx.err(
                    n.referenced,
                    format!("feeds[{i}].name"),
                    format!(
                        "feed {:?} is in no threat list: it would be downloaded for nothing; \
                         name it in the `feeds` of an entry of `threat_lists`, or remove it",
                        n.value
                    ),
                );
            }
        }
    }
    out
}

/// Why `name` cannot stand beside the earlier lists `named`, if it cannot:
/// the same name, or a name one of them takes when split in parts.
fn list_name_clash(name: &str, named: &[(usize, &str)]) -> Option<String> {
    for (k, other) in named {
        if name == *other {
            return Some(format!(
                "threat list {name:?} is already defined at threat_lists[{k}]"
            ));
        }
        let (whole, part) = if name.len() < other.len() {
            (name, *other)
        } else {
            (*other, name)
        };
        if part_names(whole).any(|p| p == part) {
            return Some(format!(
                "threat list {name:?} may clash with threat_lists[{k}] ({other:?}): a list \
                 too large for one GuardDuty set is managed in parts named \
                 {whole}-1 to {whole}-{MAX_THREAT_LISTS}"
            ));
        }
    }
    None
}

/// The message for a list's feed that `feeds` does not declare.
fn unknown_feed(name: &str, declared: &[&str], raw: &RawConfig) -> String {
    let what = if raw.feeds.is_some() {
        "must be the name of an entry of `feeds`".to_owned()
    } else {
        format!(
            "must be the name of an entry of `feeds` ({DEFAULT_FEED_NAME} when `feeds` is absent)"
        )
    };
    match nearest(name, declared) {
        Some(near) => format!("unknown feed {name:?}: {what}; did you mean {near:?}?"),
        None if raw.feeds.is_some() && !declared.is_empty() => {
            format!("unknown feed {name:?}: {what} ({})", declared.join(", "))
        }
        None => format!("unknown feed {name:?}: {what}"),
    }
}

fn threat_list(cx: &mut Ctx<'_>, raw: Option<&S<raw::RawThreatList>>) -> ThreatList {
    let r = raw.map(|r| &r.value);
    let name = match r.and_then(|r| r.name.as_ref()) {
        None => "FireHOL-Level1".to_owned(),
        Some(v) => {
            list_name(cx, v, "threat_list.name");
            v.value.clone()
        }
    };
    list_settings(
        cx,
        ListKeys::of_threat_list(r),
        "threat_list",
        name,
        Vec::new(),
    )
}

/// A threat list's keys besides `name` and `feeds`; `base` prefixes paths.
fn list_settings(
    cx: &mut Ctx<'_>,
    r: ListKeys<'_>,
    base: &str,
    name: String,
    feeds: Vec<String>,
) -> ThreatList {
    let strip_reserved = r.strip_reserved.is_none_or(|v| v.value);
    let mut allowlist = Vec::new();
    for (i, v) in r.allowlist.into_iter().flatten().enumerate() {
        match parse_cidr(&v.value) {
            Ok(net) => allowlist.push(net),
            Err(m) => cx.err(v.referenced, format!("{base}.allowlist[{i}]"), m),
        }
    }
    let min_entries = int_in(
        cx,
        r.min_entries,
        &format!("{base}.min_entries"),
        100,
        1,
        MAX_LIST_ENTRIES,
    );
    let max_shrink_percent = match r.max_shrink_percent {
        None => Some(50),
        Some(None) => None,
        Some(Some(v)) => u8::try_from(int_in(
            cx,
            Some(v),
            &format!("{base}.max_shrink_percent"),
            50,
            0,
            100,
        ))
        .ok(),
    };
    let max_age_hours = match r.max_age_hours {
        None => Some(48),
        Some(None) => None,
        Some(Some(v)) => Some(int_in(
            cx,
            Some(v),
            &format!("{base}.max_age_hours"),
            48,
            1,
            8760,
        )),
    };
    // GuardDuty estimates that loading a list takes up to 15 minutes, in
    // some cases 40 (user guide, "Important considerations for GuardDuty
    // lists"): nobody can wait that long, and a Lambda has 15 minutes (900 s)
    // in all. 840 s leaves a Lambda its last minute for the report.
    let settle_seconds = int_in(
        cx,
        r.settle_seconds,
        &format!("{base}.settle_seconds"),
        60,
        0,
        840,
    );
    ThreatList {
        name,
        feeds,
        strip_reserved,
        allowlist,
        min_entries,
        max_shrink_percent,
        max_age_hours,
        settle_seconds,
    }
}

/// `trusted_list`, checked against the threat lists' names.
fn trusted_list(
    cx: &mut Ctx<'_>,
    raw: Option<&S<raw::RawTrustedList>>,
    lists: &[ThreatList],
) -> Option<TrustedList> {
    let r = &raw?.value;
    let name = &r.name.value;
    if name.trim().is_empty() || name.len() > MAX_SET_NAME {
        cx.err(
            r.name.referenced,
            "trusted_list.name",
            format!(
                "must be 1-{MAX_SET_NAME} characters (GuardDuty's limit on an IPSet name), got {}",
                name.len()
            ),
        );
    }
    for l in lists {
        if *name == l.name {
            cx.err(
                r.name.referenced,
                "trusted_list.name",
                format!(
                    "threat list {:?} has this name already; the names must differ",
                    l.name
                ),
            );
        } else if part_names(&l.name).any(|p| p == *name) {
            cx.err(
                r.name.referenced,
                "trusted_list.name",
                format!(
                    "{name:?} may clash with threat list {:?}: a list too large for one \
                     GuardDuty set is managed in parts named {}-1 to {}-{MAX_THREAT_LISTS}; \
                     the names must differ",
                    l.name, l.name, l.name
                ),
            );
        }
    }
    let n = r.cidrs.value.len();
    if n == 0 {
        cx.err(
            r.cidrs.referenced,
            "trusted_list.cidrs",
            "must list at least one IPv4 address or CIDR",
        );
    } else if n > MAX_TRUSTED_ENTRIES {
        cx.err(
            r.cidrs.referenced,
            "trusted_list.cidrs",
            format!(
                "GuardDuty takes at most {MAX_TRUSTED_ENTRIES} addresses and CIDRs in a \
                 trusted IP list, got {n}"
            ),
        );
    }
    let mut cidrs = Vec::with_capacity(n);
    for (i, v) in r.cidrs.value.iter().enumerate() {
        match parse_cidr(&v.value) {
            Ok(net) => cidrs.push(net),
            Err(m) => cx.err(v.referenced, format!("trusted_list.cidrs[{i}]"), m),
        }
    }
    Some(TrustedList {
        name: name.clone(),
        cidrs,
    })
}

/// An IPv4 address or CIDR with no host bits set.
pub(crate) fn parse_cidr(s: &str) -> Result<Ipv4Net, String> {
    let text = s.trim();
    let net = if text.contains('/') {
        text.parse::<Ipv4Net>().map_err(|_| {
            format!("must be an IPv4 address or CIDR such as 203.0.113.0/24, got {s:?}")
        })?
    } else {
        let addr = text.parse::<std::net::Ipv4Addr>().map_err(|_| {
            format!("must be an IPv4 address or CIDR such as 203.0.113.0/24, got {s:?}")
        })?;
        Ipv4Net::from(addr)
    };
    if net.trunc() != net {
        return Err(format!(
            "{s:?} has host bits set; did you mean {}?",
            net.trunc()
        ));
    }
    Ok(net)
}

fn bucket(cx: &mut Ctx<'_>, r: &raw::RawBucket) -> Option<Bucket> {
    let name = &r.name.value;
    if !is_bucket_name(name) {
        cx.err(
            r.name.referenced,
            "bucket.name",
            format!("must be a valid S3 bucket name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit), got {name:?}"),
        );
    }
    let region = region(cx, &r.region, "bucket.region");
    // guardsync asks STS for every account's credentials through this
    // Region's endpoint: an opt-in Region refuses the accounts that have not
    // enabled it (IAM user guide, "Manage AWS STS in an AWS Region").
    if let Some(opt_in) = region
        .as_ref()
        .filter(|r| super::regions::is_opt_in(r.as_str()))
    {
        cx.err(
            r.region.referenced,
            "bucket.region",
            format!(
                "must be a Region enabled by default in every account, not the opt-in Region \
                 {opt_in}: guardsync asks STS for member accounts' credentials there, and STS \
                 refuses accounts that have not enabled it"
            ),
        );
    }
    let prefix = match &r.prefix {
        None => "guardduty/".to_owned(),
        Some(v) => {
            if v.value.starts_with('/') || (!v.value.is_empty() && !v.value.ends_with('/')) {
                cx.err(
                    v.referenced,
                    "bucket.prefix",
                    format!(
                        "must be empty or end with `/` and not start with one, got {:?}",
                        v.value
                    ),
                );
            }
            v.value.clone()
        }
    };
    let manage_policy = r.manage_policy.as_ref().is_none_or(|v| v.value);
    let keep_reports = int_in(
        cx,
        r.keep_reports.as_ref(),
        "bucket.keep_reports",
        DEFAULT_KEEP_REPORTS,
        1,
        1000,
    );
    Some(Bucket {
        name: name.clone(),
        region: region?,
        prefix,
        manage_policy,
        keep_reports,
    })
}

/// `bucket.keep_reports` when the configuration does not say.
pub(crate) const DEFAULT_KEEP_REPORTS: u32 = 30;

/// S3 general purpose bucket naming rules (S3 user guide, "Bucket naming rules").
fn is_bucket_name(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && !s.contains("..")
        && s.parse::<std::net::Ipv4Addr>().is_err()
}

fn rules(cx: &mut Ctx<'_>, raw: Option<&S<Vec<S<raw::RawRule>>>>) -> Vec<SuppressionRule> {
    let Some(raw) = raw else { return Vec::new() };
    if raw.value.len() > MAX_FILTERS {
        cx.err(
            raw.referenced,
            "suppression_rules",
            format!(
                "GuardDuty allows at most {MAX_FILTERS} filters per account and region, got {}",
                raw.value.len()
            ),
        );
    }
    let mut names = BTreeMap::new();
    let mut out = Vec::new();
    for (i, r) in raw.value.iter().enumerate() {
        let r = &r.value;
        let base = format!("suppression_rules[{i}]");
        let name = &r.name.value;
        let name_ok = (3..=64).contains(&name.len()) && is_name(name);
        if !name_ok {
            cx.err(
                r.name.referenced,
                format!("{base}.name"),
                format!("must be 3-64 characters of [A-Za-z0-9._-], got {name:?}"),
            );
        } else if let Some(first) = names.insert(name.clone(), i) {
            cx.err(
                r.name.referenced,
                format!("{base}.name"),
                format!("rule {name:?} is already defined at suppression_rules[{first}]"),
            );
        }
        if let Some(d) = &r.description {
            // Filter Description: at most 512 characters (GuardDuty API reference, CreateFilter).
            if d.value.chars().count() > 512 {
                cx.err(
                    d.referenced,
                    format!("{base}.description"),
                    "must be at most 512 characters",
                );
            }
        }
        let rank_ok = (1..=100).contains(&r.rank.value);
        if !rank_ok {
            cx.err(
                r.rank.referenced,
                format!("{base}.rank"),
                format!("must be an integer from 1 to 100, got {}", r.rank.value),
            );
        }
        let criteria = criteria(cx, &r.criteria, &base);
        if name_ok && rank_ok {
            out.push(SuppressionRule {
                name: FilterName(name.clone()),
                description: r.description.as_ref().map(|d| d.value.clone()),
                rank: u8::try_from(r.rank.value).unwrap_or(1),
                archive_existing: r.archive_existing.as_ref().is_some_and(|v| v.value),
                criteria,
            });
        }
    }
    out
}

fn criteria(
    cx: &mut Ctx<'_>,
    raw: &S<BTreeMap<String, S<raw::RawCondition>>>,
    base: &str,
) -> BTreeMap<String, Condition> {
    if raw.value.is_empty() {
        cx.err(
            raw.referenced,
            format!("{base}.criteria"),
            "must have at least one criterion",
        );
    }
    let mut out = BTreeMap::new();
    for (field, c) in &raw.value {
        let path = format!("{base}.criteria.{field}");
        if !super::finding_fields::is_finding_field(field) {
            let hint = field_hint(field)
                .map(|h| format!("; did you mean {h:?}?"))
                .unwrap_or_default();
            cx.err(
                c.referenced,
                &path,
                format!(
                    "not a GuardDuty finding attribute that filters accept \
                     (such as type, severity or service.action.actionType){hint}"
                ),
            );
        }
        let r = &c.value;
        let mut list = |name: &str,
                        v: &Option<S<Vec<S<String>>>>,
                        max: Option<usize>|
         -> Option<Vec<String>> {
            let v = v.as_ref()?;
            if v.value.is_empty() {
                cx.err(
                    v.referenced,
                    format!("{path}.{name}"),
                    "must list at least one value",
                );
            }
            if let Some(max) = max
                && v.value.len() > max
            {
                cx.err(
                    v.referenced,
                    format!("{path}.{name}"),
                    format!("takes at most {max} values, got {}", v.value.len()),
                );
            }
            Some(v.value.iter().map(|s| s.value.clone()).collect())
        };
        let cond = Condition {
            equals: list("equals", &r.equals, None),
            not_equals: list("not_equals", &r.not_equals, None),
            matches: list("matches", &r.matches, Some(MAX_MATCH_VALUES)),
            not_matches: list("not_matches", &r.not_matches, Some(MAX_MATCH_VALUES)),
            greater_than: r.greater_than.as_ref().map(|v| v.value),
            greater_than_or_equal: r.greater_than_or_equal.as_ref().map(|v| v.value),
            less_than: r.less_than.as_ref().map(|v| v.value),
            less_than_or_equal: r.less_than_or_equal.as_ref().map(|v| v.value),
        };
        if cond == Condition::default() {
            cx.err(
                c.referenced,
                &path,
                "needs an operator: equals, not_equals, greater_than, greater_than_or_equal, less_than, less_than_or_equal, matches or not_matches",
            );
        }
        out.insert(field.clone(), cond);
    }
    out
}

fn alerts(cx: &mut Ctx<'_>, r: &raw::RawAlerts) -> Option<Alerts> {
    let sev = r.min_severity.value;
    // GuardDuty severities run from 1.0 to 10.0 (Critical is 9.0-10.0).
    if !(1.0..=10.0).contains(&sev) {
        cx.err(
            r.min_severity.referenced,
            "alerts.min_severity",
            format!("must be a number from 1.0 to 10.0, got {sev}"),
        );
    }
    let topic_name = match &r.topic_name {
        None => "guardsync-findings".to_owned(),
        Some(v) => {
            // SNS topic names: 1-256 of [A-Za-z0-9_-] (SNS API reference, CreateTopic).
            let ok = (1..=256).contains(&v.value.len())
                && v.value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                cx.err(
                    v.referenced,
                    "alerts.topic_name",
                    format!(
                        "must be 1-256 characters of [A-Za-z0-9_-], got {:?}",
                        v.value
                    ),
                );
            }
            v.value.clone()
        }
    };
    let mut emails = Vec::new();
    for (i, v) in r.emails.iter().flatten().enumerate() {
        let ok = v.value.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !host.starts_with('.') && !host.ends_with('.')
        }) && !v.value.chars().any(char::is_whitespace);
        if !ok {
            cx.err(
                v.referenced,
                format!("alerts.emails[{i}]"),
                format!("must be an e-mail address, got {:?}", v.value),
            );
        } else if emails.contains(&v.value) {
            cx.err(
                v.referenced,
                format!("alerts.emails[{i}]"),
                format!("{} is listed twice", v.value),
            );
        } else {
            emails.push(v.value.clone());
        }
    }
    Some(Alerts {
        min_severity: sev,
        topic_name,
        emails,
    })
}

fn rollout(cx: &mut Ctx<'_>, r: &raw::RawRollout, scope: Option<&RegionScope>) -> Option<Rollout> {
    if r.waves.value.is_empty() {
        cx.err(
            r.waves.referenced,
            "rollout.waves",
            "must list at least one wave",
        );
    }
    let last = r.waves.value.len().saturating_sub(1);
    let mut waves: Vec<(usize, Wave, Location)> = Vec::new();
    for (i, w) in r.waves.value.iter().enumerate() {
        let path = format!("rollout.waves[{i}]");
        match &w.value {
            RawWave::Word(word) if word == "rest" => {
                if i != last {
                    cx.err(w.referenced, &path, "`rest` must be the last wave");
                }
                waves.push((i, Wave::Rest, w.referenced));
            }
            RawWave::Word(word) => cx.err(
                w.referenced,
                &path,
                format!("must be a mapping with `regions` and/or `accounts`, or the word `rest`, got {word:?}"),
            ),
            RawWave::Selector(sel) => {
                let mut regions = Vec::new();
                for (j, v) in sel.regions.iter().flatten().enumerate() {
                    let rpath = format!("{path}.regions[{j}]");
                    if let Some(reg) = region(cx, v, &rpath) {
                        if let Some(RegionScope::List(list)) = scope
                            && !list.contains(&reg)
                        {
                            cx.err(v.referenced, &rpath, format!("region {reg} is not in `regions`"));
                        }
                        regions.push(reg);
                    }
                }
                let accounts = accounts(cx, sel.accounts.as_ref(), &format!("{path}.accounts"));
                if regions.is_empty() && accounts.is_empty() {
                    cx.err(w.referenced, &path, "a wave needs `regions` and/or `accounts` (or is the word `rest`)");
                } else {
                    waves.push((i, Wave::Select { regions, accounts }, w.referenced));
                }
            }
        }
    }
    // A target may belong to one wave only.
    for (k, (i, a, _)) in waves.iter().enumerate() {
        for (j, b, at) in waves.iter().skip(k + 1) {
            if let Some(example) = overlap(a, b) {
                cx.err(
                    *at,
                    format!("rollout.waves[{j}]"),
                    format!("overlaps rollout.waves[{i}]: {example} would be in both"),
                );
            }
        }
    }
    let failure_tolerance = match &r.failure_tolerance {
        None => Tolerance::Count(0),
        Some(v) => match &v.value {
            RawTolerance::Count(n) if (0..=i64::from(u32::MAX)).contains(n) => {
                Tolerance::Count(u32::try_from(*n).unwrap_or(0))
            }
            RawTolerance::Text(t)
                if t.ends_with('%')
                    && t[..t.len() - 1]
                        .trim()
                        .parse::<u8>()
                        .is_ok_and(|p| p <= 100) =>
            {
                Tolerance::Percent(t[..t.len() - 1].trim().parse::<u8>().unwrap_or(0))
            }
            other => {
                let got = match other {
                    RawTolerance::Count(n) => n.to_string(),
                    RawTolerance::Text(t) => format!("{t:?}"),
                };
                cx.err(
                    v.referenced,
                    "rollout.failure_tolerance",
                    format!("must be a count (0 or more) or a percentage from \"0%\" to \"100%\", got {got}"),
                );
                Tolerance::Count(0)
            }
        },
    };
    Some(Rollout {
        waves: waves.into_iter().map(|(_, w, _)| w).collect(),
        failure_tolerance,
    })
}

/// An example target that both selectors match, if any.
fn overlap(a: &Wave, b: &Wave) -> Option<String> {
    let (
        Wave::Select {
            regions: ra,
            accounts: aa,
        },
        Wave::Select {
            regions: rb,
            accounts: ab,
        },
    ) = (a, b)
    else {
        return None;
    };
    let region = match (ra.is_empty(), rb.is_empty()) {
        (true, true) => Some("any region".to_owned()),
        (true, false) => rb.first().map(ToString::to_string),
        (false, true) => ra.first().map(ToString::to_string),
        (false, false) => ra.iter().find(|r| rb.contains(r)).map(ToString::to_string),
    }?;
    let account = match (aa.is_empty(), ab.is_empty()) {
        (true, true) => Some("any account".to_owned()),
        (true, false) => ab.first().map(|a| format!("account {a}")),
        (false, true) => aa.first().map(|a| format!("account {a}")),
        (false, false) => aa
            .iter()
            .find(|x| ab.contains(x))
            .map(|a| format!("account {a}")),
    }?;
    Some(format!("{account} in {region}"))
}

/// The candidate closest to `word` by edit distance, when it is close enough to be a typo.
/// A documented attribute close to `field`: a near miss (a typo, a case
/// slip, a missing `V4`), or the one attribute whose path ends like it.
fn field_hint(field: &str) -> Option<&'static str> {
    let fields = &super::finding_fields::FINDING_FIELDS;
    let lower = field.to_ascii_lowercase();
    if let Some(f) = fields.iter().find(|f| f.to_ascii_lowercase() == lower) {
        return Some(f);
    }
    if let Some(f) = nearest(field, fields) {
        return Some(f);
    }
    let tail = format!(".{field}");
    let mut ends = fields.iter().filter(|f| f.ends_with(&tail));
    match (ends.next(), ends.next()) {
        (Some(f), None) => Some(f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("ou-ab12-cd34ef56", true; "shortest parts")]
    #[test_case("ou-0000-00000000", true; "digits")]
    #[test_case("ou-abc-cd34ef56", false; "first part too short")]
    #[test_case("ou-ab12-cd34ef5", false; "second part too short")]
    #[test_case("ou-AB12-cd34ef56", false; "upper case")]
    #[test_case("r-ab12", false; "a root id")]
    #[test_case("ou-ab12cd34ef56", false; "no second dash")]
    fn ou_ids(s: &str, ok: bool) {
        assert_eq!(is_ou_id(s), ok);
    }

    #[test_case("203.0.113.0/24", Ok("203.0.113.0/24"); "cidr")]
    #[test_case("198.51.100.7", Ok("198.51.100.7/32"); "bare address is a /32")]
    #[test_case("0.0.0.0/0", Ok("0.0.0.0/0"); "everything")]
    #[test_case("203.0.113.7/24", Err("\"203.0.113.7/24\" has host bits set; did you mean 203.0.113.0/24?"); "host bits")]
    #[test_case("203.0.113.0/33", Err("must be an IPv4 address or CIDR such as 203.0.113.0/24, got \"203.0.113.0/33\""); "prefix too long")]
    #[test_case("010.0.0.1", Err("must be an IPv4 address or CIDR such as 203.0.113.0/24, got \"010.0.0.1\""); "octal-looking")]
    #[test_case("example.com", Err("must be an IPv4 address or CIDR such as 203.0.113.0/24, got \"example.com\""); "host name")]
    fn cidrs(s: &str, want: Result<&str, &str>) {
        let got = parse_cidr(s).map(|n| n.to_string());
        assert_eq!(got.as_deref().map_err(String::as_str), want);
    }

    #[test_case("org-threat-lists-111111111111", true; "typical")]
    #[test_case("ab", false; "too short")]
    #[test_case("a..b", false; "double dot")]
    #[test_case("-abc", false; "leading dash")]
    #[test_case("192.168.1.1", false; "ip address")]
    #[test_case("Abc", false; "upper case")]
    fn bucket_names(s: &str, ok: bool) {
        assert_eq!(is_bucket_name(s), ok);
    }

    #[test_case("eu-wst-1", Some("eu-west-1"); "one letter missing")]
    #[test_case("us-east-3", Some("us-east-1"); "wrong digit")]
    #[test_case("mars-north-1", None; "nothing close")]
    fn nearest_region(s: &str, want: Option<&str>) {
        assert_eq!(nearest(s, super::super::regions::GUARDDUTY_REGIONS), want);
    }

    fn sel(regions: &[&str], accounts: &[&str]) -> Wave {
        Wave::Select {
            regions: regions
                .iter()
                .map(|r| Region::parse(r).expect("a Region"))
                .collect(),
            accounts: accounts
                .iter()
                .map(|a| AccountId::parse(a).expect("an account id"))
                .collect(),
        }
    }

    #[test]
    fn waves_overlap_only_when_a_target_matches_both() {
        let a = sel(&["us-east-1"], &[]);
        let b = sel(&["eu-west-1"], &[]);
        let c = sel(&[], &["222222222222"]);
        let d = sel(&["us-east-1"], &["333333333333"]);
        let e = sel(&["eu-west-1"], &["333333333333"]);
        assert_eq!(overlap(&a, &b), None);
        assert_eq!(
            overlap(&a, &c).as_deref(),
            Some("account 222222222222 in us-east-1")
        );
        assert_eq!(overlap(&d, &e), None);
        assert_eq!(
            overlap(&a, &d).as_deref(),
            Some("account 333333333333 in us-east-1")
        );
        assert_eq!(overlap(&a, &Wave::Rest), None);
    }

    #[test]
    fn every_region_in_the_table_parses_and_is_unique() {
        let table = super::super::regions::GUARDDUTY_REGIONS;
        let unique: BTreeSet<_> = table.iter().collect();
        assert_eq!(unique.len(), table.len());
        for r in table {
            assert!(Region::parse(r).is_ok());
        }
    }
}

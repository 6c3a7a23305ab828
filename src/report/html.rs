//! The report as one self-contained HTML page. Pure.
//!
//! [`View`] is what the page shows, whatever the input: a JSON report
//! ([`View::from_json`], what `plan`/`apply --format json` print), a report
//! in memory ([`View::from_report`]) or the run record in the bucket (mapped
//! by `html_report`). [`render`] writes the page: the run and its list, the
//! counts, the coverage grid (one row per account, one column per Region,
//! each cell coloured and coded by placement and status), then the failures,
//! the coverage gaps and the standalone accounts. Inline CSS and a little
//! inline JavaScript (the filters); nothing is loaded from anywhere, and the
//! page reads without JavaScript.
//!
//! At 10,000 accounts × 34 Regions the accounts that are covered members in
//! every Region (or where an opt-in Region is not enabled) are not drawn: they
//! are counted in a collapsed `<details>` per pattern, with their ids. The
//! grid draws at most [`MAX_GRID_CELLS`] cells, problems first; the lists
//! below it at most [`MAX_LIST_ROWS`] rows each, and say how many more there
//! are.

use super::text::thousands;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use serde::Deserialize;

use super::{Mode, PlacementKind, Report, Status};

/// The most cells the grid draws (its rows are cut to fit, problems
/// first): about 4 MB of page.
pub const MAX_GRID_CELLS: usize = 100_000;

/// The most rows of each list (failures, gaps, standalone accounts).
pub const MAX_LIST_ROWS: usize = 1_000;

/// What the page shows: one run, from whichever input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// Where it was read, in words (`the JSON report apply.json`).
    pub source: String,
    /// `plan` or `apply`.
    pub mode: Mode,
    /// When the run finished, or its file was written, as far as known.
    pub when: When,
    /// When the page is made (Unix seconds): ages count up to it.
    pub now: i64,
    /// The organization id, when the input has it.
    pub organization_id: Option<String>,
    /// The list the run put (apply) or would put (plan) in place (the
    /// first threat list).
    pub list: List,
    /// The other lists, each with its label (`List "Abuse-Feodo"`,
    /// `Trusted list "guardsync-trusted"`).
    pub more_lists: Vec<(String, List)>,
    /// The Regions, in the report's order.
    pub regions: Vec<String>,
    /// One per (account, Region).
    pub targets: Vec<Target>,
    /// Account id -> name, for the accounts whose name is known.
    pub names: HashMap<String, String>,
    /// Whether the input carries account names at all (the run record does not).
    pub names_known: bool,
    /// The report's warnings.
    pub warnings: Vec<String>,
    /// `apply --retry-failed`: the run it repaired.
    pub retry_of: Option<String>,
    /// AWS calls made and attempts beyond the first, when known.
    pub calls: Option<(u64, u64)>,
}

/// When the run happened, as far as the input says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// The run record's `finished_at` (Unix seconds).
    Finished(i64),
    /// The JSON report has no time; its file was last written then.
    FileWritten(i64),
    /// Not known (a JSON report read from stdin).
    Unknown,
}

/// The list of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// sha256 of the list object.
    pub sha256: String,
    /// CIDR entries.
    pub entries: u64,
    /// Addresses covered.
    pub addresses: u64,
    /// `s3://bucket/key` (or the key alone when the bucket is not known).
    pub location: String,
    /// Whether the run uploaded (would upload) it, when known.
    pub changed: Option<bool>,
}

/// One (account, Region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The account.
    pub account_id: String,
    /// The Region.
    pub region: String,
    /// Where it stands.
    pub placement: PlacementKind,
    /// What happened (would happen).
    pub status: Status,
    /// Why it failed.
    pub error: Option<String>,
    /// Not run: an earlier wave stopped the rollout.
    pub not_run: bool,
    /// Why the placement is what it is, when the input says.
    pub note: Option<String>,
}

/// A placement as the report names it (`no_detector`).
pub fn placement(s: &str) -> Option<PlacementKind> {
    Some(match s {
        "admin" => PlacementKind::Admin,
        "member" => PlacementKind::Member,
        "standalone" => PlacementKind::Standalone,
        "no_detector" => PlacementKind::NoDetector,
        "other_admin" => PlacementKind::OtherAdmin,
        "excluded" => PlacementKind::Excluded,
        "region_disabled" => PlacementKind::RegionDisabled,
        "unknown" => PlacementKind::Unknown,
        _ => return None,
    })
}

/// A status as the report names it (`unchanged`).
pub fn status(s: &str) -> Option<Status> {
    Some(match s {
        "unchanged" => Status::Unchanged,
        "changed" => Status::Changed,
        "activating" => Status::Activating,
        "pending" => Status::Pending,
        "failed" => Status::Failed,
        "skipped" => Status::Skipped,
        _ => return None,
    })
}

/// The fields of the JSON report the page reads (docs/REFERENCE.md); the
/// others are left alone.
#[derive(Deserialize)]
struct JsonReport {
    mode: String,
    list: JsonList,
    #[serde(default)]
    lists: Vec<JsonList>,
    #[serde(default)]
    trusted_list: Option<JsonList>,
    #[serde(default)]
    organization_id: Option<String>,
    regions: Vec<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    retry_of: Option<String>,
    targets: Vec<JsonTarget>,
    #[serde(default)]
    summary: Option<JsonSummary>,
}

#[derive(Deserialize)]
struct JsonList {
    #[serde(default)]
    name: String,
    sha256: String,
    entries: u64,
    addresses: u64,
    location: String,
    #[serde(default)]
    changed: Option<bool>,
}

#[derive(Deserialize)]
struct JsonTarget {
    account_id: String,
    #[serde(default)]
    account_name: Option<String>,
    region: String,
    placement: String,
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    not_run: bool,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
struct JsonSummary {
    #[serde(default)]
    api_calls: u64,
    #[serde(default)]
    api_retries: u64,
}

impl JsonList {
    fn view(self) -> List {
        List {
            sha256: self.sha256,
            entries: self.entries,
            addresses: self.addresses,
            location: self.location,
            changed: self.changed,
        }
    }
}

impl List {
    /// A list of a report in memory.
    pub fn of(l: &crate::report::ListReport) -> List {
        List {
            sha256: l.sha256.clone(),
            entries: l.entries,
            addresses: l.addresses,
            location: l.location.clone(),
            changed: Some(l.changed),
        }
    }
}

impl View {
    /// The view of a JSON report (`plan`/`apply --format json`); the error
    /// says what is wrong and where.
    pub fn from_json(bytes: &[u8], source: String, when: When, now: i64) -> Result<View, String> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let r: JsonReport = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                format!("{}", e.inner())
            } else {
                format!("{path}: {}", e.inner())
            }
        })?;
        let mode = match r.mode.as_str() {
            "plan" => Mode::Plan,
            "apply" => Mode::Apply,
            m => return Err(format!("mode: `{m}` is neither plan nor apply")),
        };
        let mut names = HashMap::new();
        let mut targets = Vec::with_capacity(r.targets.len());
        for (i, t) in r.targets.into_iter().enumerate() {
            let placement = placement(&t.placement).ok_or_else(|| {
                format!(
                    "targets[{i}].placement: unknown placement `{}`",
                    t.placement
                )
            })?;
            let status = status(&t.status)
                .ok_or_else(|| format!("targets[{i}].status: unknown status `{}`", t.status))?;
            if let Some(n) = t.account_name
                && !names.contains_key(&t.account_id)
            {
                names.insert(t.account_id.clone(), n);
            }
            targets.push(Target {
                account_id: t.account_id,
                region: t.region,
                placement,
                status,
                error: t.error,
                not_run: t.not_run,
                note: t.note,
            });
        }
        Ok(View {
            source,
            mode,
            when,
            now,
            organization_id: r.organization_id,
            more_lists: r
                .lists
                .into_iter()
                .skip(1)
                .map(|l| (format!("List {:?}", l.name), l.view()))
                .chain(
                    r.trusted_list
                        .map(|l| (format!("Trusted list {:?}", l.name), l.view())),
                )
                .collect(),
            list: r.list.view(),
            regions: r.regions,
            targets,
            names,
            names_known: true,
            warnings: r.warnings,
            retry_of: r.retry_of,
            calls: r.summary.map(|s| (s.api_calls, s.api_retries)),
        })
    }

    /// The view of a report in memory (the benchmark renders the page of
    /// the report it builds).
    pub fn from_report(r: &Report, source: String, when: When, now: i64) -> View {
        let mut names = HashMap::new();
        let targets = r
            .targets
            .iter()
            .map(|t| {
                if let Some(n) = &t.account_name {
                    names
                        .entry(t.account_id.to_string())
                        .or_insert_with(|| n.to_string());
                }
                Target {
                    account_id: t.account_id.to_string(),
                    region: t.region.to_string(),
                    placement: t.placement,
                    status: t.status,
                    error: t.error.as_deref().map(str::to_owned),
                    not_run: t.not_run,
                    note: t.note.as_ref().map(|n| n.to_string()),
                }
            })
            .collect();
        View {
            source,
            mode: r.mode,
            when,
            now,
            organization_id: r.organization_id.clone(),
            list: List::of(&r.list),
            more_lists: r
                .lists
                .iter()
                .skip(1)
                .map(|l| (format!("List {:?}", l.name), List::of(l)))
                .chain(
                    r.trusted_list
                        .iter()
                        .map(|l| (format!("Trusted list {:?}", l.name), List::of(l))),
                )
                .collect(),
            regions: r.regions.clone(),
            targets,
            names,
            names_known: true,
            warnings: r.warnings.clone(),
            retry_of: r.retry_of.clone(),
            calls: Some((r.summary.api_calls, r.summary.api_retries)),
        }
    }
}

/// `2026-12-06T13:20:00Z` (what the run record writes; a fraction of a
/// second is allowed) as Unix seconds.
pub fn parse_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || !s.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = &s[19..s.len() - 1];
    if !(rest.is_empty() || rest.starts_with('.') && rest[1..].bytes().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec)
}

fn utc(unix: i64) -> String {
    crate::feed::parse::FileDate { unix }.to_string()
}

/// `3 h 12 min`, `2 days 4 h`, `under a minute`.
fn age(secs: i64) -> String {
    if secs < 0 {
        return "in the future of this page's clock".to_owned();
    }
    let (d, h, m) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => "under a minute".to_owned(),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (1, h, _) => format!("1 day {h} h"),
        (d, h, _) => format!("{d} days {h} h"),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// `s` with `&`, `<`, `>`, `"` and `'` escaped, onto `out`.
fn esc_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `s`, HTML-escaped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    esc_into(&mut out, s);
    out
}

/// At most `n` characters of `s`, with `…` when cut.
fn cut(s: &str, n: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]).into(),
        None => s.into(),
    }
}

/// What a grid cell shows: its colour class, in order of severity (the
/// grid's rows sort by their most severe cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Class {
    Failed,
    NotRun,
    Gap,
    Activating,
    Pending,
    Standalone,
    Excluded,
    Admin,
    Disabled,
    Member,
    Missing,
}

impl Class {
    const ALL: [Class; 11] = [
        Class::Failed,
        Class::NotRun,
        Class::Gap,
        Class::Activating,
        Class::Pending,
        Class::Standalone,
        Class::Excluded,
        Class::Admin,
        Class::Disabled,
        Class::Member,
        Class::Missing,
    ];

    fn of(t: &Target) -> Class {
        if t.not_run {
            return Class::NotRun;
        }
        match (t.status, t.placement) {
            (Status::Failed, _) | (_, PlacementKind::Unknown) => Class::Failed,
            (Status::Activating, _) => Class::Activating,
            (Status::Pending | Status::Changed, _) => Class::Pending,
            (_, PlacementKind::NoDetector | PlacementKind::OtherAdmin) => Class::Gap,
            (_, PlacementKind::Standalone) => Class::Standalone,
            (_, PlacementKind::Excluded) => Class::Excluded,
            (_, PlacementKind::Admin) => Class::Admin,
            (_, PlacementKind::RegionDisabled) => Class::Disabled,
            (_, PlacementKind::Member) => Class::Member,
        }
    }

    /// Its CSS class, and the letter of the status filter.
    fn css(self) -> char {
        match self {
            Class::Failed => 'f',
            Class::NotRun => 'n',
            Class::Gap => 'g',
            Class::Activating => 'v',
            Class::Pending => 'p',
            Class::Standalone => 's',
            Class::Excluded => 'x',
            Class::Admin => 'a',
            Class::Disabled => 'd',
            Class::Member => 'm',
            Class::Missing => 'e',
        }
    }

    /// The legend's words, and the filter's.
    fn words(self, mode: Mode) -> &'static str {
        match (self, mode) {
            (Class::Failed, _) => "failed",
            (Class::NotRun, _) => "not run (a wave stopped the rollout)",
            (Class::Gap, _) => "coverage gap (no detector, or another administrator)",
            (Class::Activating, _) => "activating (GuardDuty still loading the list)",
            (Class::Pending, Mode::Plan) => "pending (changes to make)",
            (Class::Pending, Mode::Apply) => "changed",
            (Class::Standalone, _) => "standalone, in place (own list)",
            (Class::Excluded, _) => "excluded by configuration",
            (Class::Admin, _) => "administrator, in place",
            (Class::Disabled, _) => "opt-in Region not enabled",
            (Class::Member, _) => "member, covered by the administrator",
            (Class::Missing, _) => "not in this run",
        }
    }

    /// The status filter's words.
    fn filter(self, mode: Mode) -> &'static str {
        match (self, mode) {
            (Class::Failed, _) => "failed",
            (Class::NotRun, _) => "not run",
            (Class::Gap, _) => "coverage gaps",
            (Class::Activating, _) => "activating",
            (Class::Pending, Mode::Plan) => "pending",
            (Class::Pending, Mode::Apply) => "changed",
            (Class::Standalone, _) => "standalone",
            (Class::Excluded, _) => "excluded",
            (Class::Admin, _) => "administrator",
            (Class::Disabled, _) => "opt-in Region not enabled",
            (Class::Member, _) => "members",
            (Class::Missing, _) => "not in this run",
        }
    }

    /// A cell of this class in the legend: its code.
    fn sample(self, mode: Mode) -> &'static str {
        match (self, mode) {
            (Class::Failed, _) => "S!",
            (Class::NotRun, _) => "S-",
            (Class::Gap, _) => "N",
            (Class::Activating, _) => "S*",
            (Class::Pending, Mode::Plan) => "S~",
            (Class::Pending, Mode::Apply) => "S+",
            (Class::Standalone, _) => "S",
            (Class::Excluded, _) => "X",
            (Class::Admin, _) => "A",
            (Class::Disabled, _) => "D",
            (Class::Member, _) => "M",
            (Class::Missing, _) => "",
        }
    }
}

/// The letter of a placement in a cell.
fn letter(p: PlacementKind) -> char {
    match p {
        PlacementKind::Admin => 'A',
        PlacementKind::Member => 'M',
        PlacementKind::Standalone => 'S',
        PlacementKind::NoDetector => 'N',
        PlacementKind::OtherAdmin => 'O',
        PlacementKind::Excluded => 'X',
        PlacementKind::RegionDisabled => 'D',
        PlacementKind::Unknown => 'U',
    }
}

/// A placement in words.
fn placement_words(p: PlacementKind) -> &'static str {
    match p {
        PlacementKind::Admin => "administrator",
        PlacementKind::Member => "member",
        PlacementKind::Standalone => "standalone",
        PlacementKind::NoDetector => "no detector (coverage gap)",
        PlacementKind::OtherAdmin => "another administrator (coverage gap)",
        PlacementKind::Excluded => "excluded",
        PlacementKind::RegionDisabled => "opt-in Region not enabled",
        PlacementKind::Unknown => "unknown placement",
    }
}

/// The status mark after the placement letter.
fn mark(t: &Target) -> &'static str {
    if t.not_run {
        return "-";
    }
    match t.status {
        Status::Unchanged | Status::Skipped => "",
        Status::Changed => "+",
        Status::Pending => "~",
        Status::Activating => "*",
        Status::Failed => "!",
    }
}

/// One account of the grid.
struct Row<'a> {
    account: &'a str,
    cells: Vec<Option<&'a Target>>,
    /// Its most severe cell.
    worst: Class,
    /// The classes of its cells.
    classes: Vec<Class>,
}

impl Row<'_> {
    /// Covered member wherever the Region is enabled: not drawn, counted.
    fn is_quiet(&self) -> bool {
        self.classes.contains(&Class::Member)
            && self
                .classes
                .iter()
                .all(|c| matches!(c, Class::Member | Class::Disabled))
    }

    /// The Regions where the account has not enabled GuardDuty's opt-in Region.
    fn disabled<'r>(&self, regions: &'r [String]) -> Vec<&'r str> {
        self.cells
            .iter()
            .zip(regions)
            .filter(|(c, _)| c.is_some_and(|t| Class::of(t) == Class::Disabled))
            .map(|(_, r)| r.as_str())
            .collect()
    }
}

const STYLE: &str = r#"
:root{color-scheme:light}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0 1.5rem 3rem;color:#1a1a1a;background:#fff}
h1{font-size:1.45rem;margin:1rem 0 .3rem}
h2{font-size:1.15rem;margin:1.8rem 0 .5rem;padding-bottom:.2rem;border-bottom:1px solid #ddd}
h3{font-size:1rem;margin:1rem 0 .3rem}
code,.id,.grid td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
code{font-size:.92em;word-break:break-all}
[hidden]{display:none!important}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.4rem 0}
dl.meta dt{color:#555}
dl.meta dd{margin:0}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;margin:.6rem 0;padding:0;list-style:none}
.counts li{border:1px solid #ccc;border-radius:6px;padding:.25rem .7rem;min-width:7rem}
.counts b{display:block;font-size:1.3rem}
.counts .bad{border-color:#c62828;background:#ffebee}
.counts .warn{border-color:#ef6c00;background:#fff3e0}
.counts .ok{border-color:#2e7d32;background:#e8f5e9}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1.1rem;margin:.4rem 0 .8rem;padding:0;list-style:none;font-size:13px}
.legend li{display:flex;align-items:center;gap:.35rem}
.legend .c{display:inline-block;width:2.3em;height:1.5em;line-height:1.5em;text-align:center;border-radius:3px;font:600 12px/1.5em ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace}
.filters{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:.3rem 0 .6rem;padding:.4rem .6rem;background:#f5f5f5;border-radius:6px}
.filters input{width:18rem}
.scroll{overflow:auto;max-height:80vh;width:fit-content;max-width:100%;border:1px solid #e0e0e0}
.grid{border-collapse:separate;border-spacing:2px}
.grid th{font-weight:normal;text-align:left;white-space:nowrap}
.grid thead th{position:sticky;top:0;background:#fff;z-index:2;vertical-align:bottom}
.grid thead th.r{writing-mode:vertical-rl;transform:rotate(180deg);padding:.3rem 0;font-size:12px}
.grid thead th:first-child{left:0;z-index:3}
.grid tbody th{position:sticky;left:0;background:#fff;z-index:1;padding-right:.7rem}
.grid tbody th .id{font-size:12.5px}
.grid tbody th .nm{color:#444;margin-left:.4rem}
.grid td{min-width:2.3em;height:1.55em;text-align:center;font-weight:600;font-size:12px;border-radius:3px;padding:0 .15em}
.f{background:#c62828;color:#fff}
.n{background:#f8bbd0;color:#880e4f}
.g{background:#ef6c00;color:#fff}
.v{background:#9575cd;color:#fff}
.p{background:#fdd835;color:#000}
.s{background:#4db6ac;color:#00332e}
.x{background:#b0bec5;color:#263238}
.a{background:#1b5e20;color:#fff}
.d{background:repeating-linear-gradient(45deg,#f5f5f5 0 4px,#e0e0e0 4px 8px);color:#616161}
.m{background:#a5d6a7;color:#1b5e20}
.e{background:#fff;color:#999;outline:1px dashed #bbb}
details{margin:.4rem 0}
summary{cursor:pointer}
ul.ids{columns:20rem;column-gap:1.5rem;margin:.3rem 0;padding-left:1.2rem;font-size:13px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
table.list{border-collapse:collapse;margin:.3rem 0}
table.list th,table.list td{border-bottom:1px solid #e8e8e8;padding:.2rem .7rem .2rem 0;text-align:left;vertical-align:top}
table.list th{font-weight:600;background:#fafafa}
table.list td.why{max-width:60rem}
.more{color:#555;font-style:italic}
footer{margin-top:2.5rem;color:#666;font-size:12px}
"#;

/// The filters: by account id or name, and by the kind of cell a row has;
/// kept in the address (`#q=shop&st=f`) so that a filtered page can be
/// shared. Without JavaScript they stay hidden and every row shows.
const SCRIPT: &str = r#"
(function(){
var box=document.getElementById('filters');box.hidden=false;
var q=document.getElementById('q'),st=document.getElementById('st'),shown=document.getElementById('shown');
function rows(sel){return Array.prototype.map.call(document.querySelectorAll(sel),function(e){return [e,e.firstElementChild.textContent.toLowerCase(),' '+(e.getAttribute('data-k')||'')+' '];});}
var grid=rows('#grid tbody tr'),lists=rows('table.list:not(.reasons) tbody tr'),quiet=document.querySelectorAll('details.quiet');
var qli=Array.prototype.map.call(quiet,function(d){return [d,Array.prototype.map.call(d.querySelectorAll('li'),function(l){return [l,l.textContent.toLowerCase()];})];});
function go(){
var t=q.value.trim().toLowerCase(),k=st.value,n=0,i,r;
for(i=0;i<grid.length;i++){r=grid[i];var ok=(!k||r[2].indexOf(' '+k+' ')>=0)&&(!t||r[1].indexOf(t)>=0);r[0].hidden=!ok;if(ok)n++;}
for(i=0;i<lists.length;i++){r=lists[i];r[0].hidden=!!t&&r[1].indexOf(t)<0;}
qli.forEach(function(g){var m=0;g[1].forEach(function(l){var ok=!t||l[1].indexOf(t)>=0;l[0].hidden=!ok;if(ok)m++;});
var show=(!k||k==='m'||k==='d')&&m>0;g[0].hidden=!show;if(show){n+=m;}if(t&&show)g[0].open=true;});
shown.textContent=(t||k)?n+' accounts match':'';
}
function keep(){try{var h=[];if(q.value)h.push('q='+encodeURIComponent(q.value));if(st.value)h.push('st='+st.value);history.replaceState(null,'',h.length?'#'+h.join('&'):location.pathname);}catch(e){}}
q.addEventListener('input',function(){go();keep();});st.addEventListener('change',function(){go();keep();});
location.hash.slice(1).split('&').forEach(function(p){var i=p.indexOf('=');if(i<0)return;var k=p.slice(0,i),v=decodeURIComponent(p.slice(i+1));if(k==='q')q.value=v;if(k==='st')st.value=v;});
if(q.value||st.value)go();
})();
"#;

/// The page.
pub fn render(v: &View) -> String {
    // Regions of the targets that the report's list lacks (none in a
    // report guardsync wrote) are drawn after the listed ones.
    let mut regions: Vec<String> = v.regions.clone();
    let mut region_index: HashMap<&str, usize> = HashMap::new();
    for (i, r) in v.regions.iter().enumerate() {
        region_index.entry(r.as_str()).or_insert(i);
    }
    for t in &v.targets {
        if !region_index.contains_key(t.region.as_str()) {
            region_index.insert(t.region.as_str(), regions.len());
            regions.push(t.region.clone());
        }
    }

    let mut by_account: BTreeMap<&str, Vec<Option<&Target>>> = BTreeMap::new();
    for t in &v.targets {
        let cells = by_account
            .entry(t.account_id.as_str())
            .or_insert_with(|| vec![None; regions.len()]);
        if let Some(&i) = region_index.get(t.region.as_str()) {
            cells[i] = Some(t);
        }
    }
    let mut rows: Vec<Row<'_>> = by_account
        .into_iter()
        .map(|(account, cells)| {
            let mut classes: Vec<Class> = cells
                .iter()
                .map(|c| c.map_or(Class::Missing, Class::of))
                .collect();
            classes.sort();
            classes.dedup();
            let worst = classes.first().copied().unwrap_or(Class::Missing);
            Row {
                account,
                cells,
                worst,
                classes,
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.worst, a.account).cmp(&(b.worst, b.account)));
    let (quiet, loud): (Vec<Row<'_>>, Vec<Row<'_>>) = rows.into_iter().partition(Row::is_quiet);

    let mut out = String::with_capacity(16_384 + loud.len() * regions.len() * 48);
    head(&mut out, v);
    counts(&mut out, v, &regions, quiet.len() + loud.len());
    if !v.warnings.is_empty() {
        out.push_str("<h2 id=\"warnings\">Warnings</h2>\n<ul>\n");
        for w in v.warnings.iter().take(MAX_LIST_ROWS) {
            out.push_str("<li>");
            esc_into(&mut out, w);
            out.push_str("</li>\n");
        }
        more(&mut out, v.warnings.len(), MAX_LIST_ROWS, "warnings");
        out.push_str("</ul>\n");
    }
    grid(&mut out, v, &regions, &loud, &quiet);
    failures(&mut out, v, &regions);
    gaps(&mut out, v, &regions);
    standalone(&mut out, v, &regions);
    excluded(&mut out, v);
    let _ = write!(
        out,
        "<footer>Made by guardsync {} from {} at {}. Self-contained: no script, font, \
         style or image is loaded from anywhere.</footer>\n<script>{SCRIPT}</script>\n\
         </body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&v.source),
        utc(v.now)
    );
    out
}

/// "N more ... are not shown" when `total` exceeds `shown`.
fn more(out: &mut String, total: usize, shown: usize, what: &str) {
    if total > shown {
        let _ = writeln!(
            out,
            "<p class=\"more\">{} more {what} are not shown here; the JSON report \
             (<code>--format json</code>) has every one.</p>",
            thousands(total - shown)
        );
    }
}

fn head(out: &mut String, v: &View) {
    let mode = v.mode.as_str();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>guardsync {mode} report{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>guardsync {mode} report</h1>\n<dl class=\"meta\">\n",
        v.organization_id
            .as_deref()
            .map(|o| format!(" — {}", esc(o)))
            .unwrap_or_default()
    );
    let row = |out: &mut String, dt: &str, dd: &str| {
        let _ = writeln!(out, "<dt>{dt}</dt><dd>{dd}</dd>");
    };
    row(
        out,
        "Run",
        &match v.mode {
            Mode::Plan => {
                "plan: nothing was written; <em>pending</em> marks what apply would change"
                    .to_owned()
            }
            Mode::Apply => "apply: <em>changed</em> marks what it changed".to_owned(),
        },
    );
    let when = match v.when {
        When::Finished(t) => format!("finished {} ({} before this page)", utc(t), age(v.now - t)),
        When::FileWritten(t) => format!(
            "not in the JSON report; its file was written {} ({} before this page)",
            utc(t),
            age(v.now - t)
        ),
        When::Unknown => "not in the JSON report (read from stdin)".to_owned(),
    };
    row(out, "When", &when);
    if let Some(r) = &v.retry_of {
        row(out, "Retry of", &format!("<code>{}</code>", esc(r)));
    }
    row(
        out,
        "Organization",
        &match &v.organization_id {
            Some(o) => format!("<code>{}</code>", esc(o)),
            None if !v.names_known => "not in the run record".to_owned(),
            None => "not in the report".to_owned(),
        },
    );
    row(
        out,
        "List",
        &format!(
            "{} entries, {} addresses, at <code>{}</code>",
            thousands(v.list.entries),
            thousands(v.list.addresses),
            esc(&v.list.location)
        ),
    );
    row(
        out,
        "sha256",
        &format!("<code>{}</code>", esc(&v.list.sha256)),
    );
    for (label, l) in &v.more_lists {
        row(
            out,
            &esc(label),
            &format!(
                "{} entries, {} addresses, at <code>{}</code>, sha256 <code>{}</code>",
                thousands(l.entries),
                thousands(l.addresses),
                esc(&l.location),
                esc(&l.sha256)
            ),
        );
    }
    let list_age = match (v.when, v.list.changed, v.mode) {
        (When::Finished(t), _, _) => format!(
            "in place since {} at the latest (the recorded apply put it there): {}",
            utc(t),
            age(v.now - t)
        ),
        (When::FileWritten(t), Some(true), Mode::Apply) => format!(
            "uploaded by this apply, before its report was written {} ({} before this page)",
            utc(t),
            age(v.now - t)
        ),
        (_, Some(true), Mode::Plan) => "new content: this plan would upload it".to_owned(),
        (_, Some(false), _) => {
            "not known: the list was already in the bucket before this run, and the report \
             does not say since when"
                .to_owned()
        }
        _ => "not known: the JSON report has no time".to_owned(),
    };
    row(out, "List age", &list_age);
    row(out, "Read from", &esc(&v.source));
    out.push_str("</dl>\n");
}

fn counts(out: &mut String, v: &View, regions: &[String], accounts: usize) {
    let mut n: HashMap<Class, usize> = HashMap::new();
    let (mut failed, mut not_run, mut gaps, mut standalone) = (0, 0, 0, 0);
    let (mut changed, mut pending, mut unchanged, mut activating, mut skipped) = (0, 0, 0, 0, 0);
    for t in &v.targets {
        *n.entry(Class::of(t)).or_insert(0) += 1;
        match t.status {
            Status::Failed => failed += 1,
            Status::Changed => changed += 1,
            Status::Pending => pending += 1,
            Status::Unchanged => unchanged += 1,
            Status::Activating => activating += 1,
            Status::Skipped => skipped += 1,
        }
        not_run += usize::from(t.not_run);
        gaps += usize::from(matches!(
            t.placement,
            PlacementKind::NoDetector | PlacementKind::OtherAdmin
        ));
        standalone += usize::from(t.placement == PlacementKind::Standalone);
    }
    out.push_str("<h2 id=\"summary\">Summary</h2>\n<ul class=\"counts\">\n");
    let item = |out: &mut String, class: &str, n: usize, what: &str| {
        let _ = writeln!(
            out,
            "<li class=\"{class}\"><b>{}</b>{what}</li>",
            thousands(n)
        );
    };
    item(out, "", v.targets.len(), "targets");
    item(out, "", accounts, "accounts");
    item(out, "", regions.len(), "Regions");
    match v.mode {
        Mode::Apply => item(out, if changed > 0 { "ok" } else { "" }, changed, "changed"),
        Mode::Plan => item(
            out,
            if pending > 0 { "warn" } else { "" },
            pending,
            "pending",
        ),
    }
    item(out, "", unchanged, "unchanged");
    if activating > 0 {
        item(out, "warn", activating, "activating");
    }
    item(
        out,
        if failed > 0 { "bad" } else { "ok" },
        failed,
        &if not_run > 0 {
            format!("failed ({} not run)", thousands(not_run))
        } else {
            "failed".to_owned()
        },
    );
    item(out, "", skipped, "skipped");
    item(
        out,
        if gaps > 0 { "warn" } else { "ok" },
        gaps,
        "coverage gaps",
    );
    item(out, "", standalone, "standalone");
    if let Some((calls, retries)) = v.calls {
        item(
            out,
            "",
            usize::try_from(calls).unwrap_or(usize::MAX),
            &format!(
                "AWS calls ({} retried)",
                thousands(usize::try_from(retries).unwrap_or(usize::MAX))
            ),
        );
    }
    out.push_str("</ul>\n");
}

fn grid(out: &mut String, v: &View, regions: &[String], loud: &[Row<'_>], quiet: &[Row<'_>]) {
    out.push_str("<h2 id=\"coverage\">Coverage</h2>\n");
    let _ = writeln!(
        out,
        "<p>One row per account, one column per Region. A cell's letter is the \
         placement, its mark the status: <b>A</b> administrator, <b>M</b> member, \
         <b>S</b> standalone, <b>N</b> no detector, <b>O</b> another administrator, \
         <b>X</b> excluded, <b>D</b> opt-in Region not enabled, <b>U</b> unknown; \
         <b>!</b> failed, <b>-</b> not run, <b>{}</b> {}, <b>*</b> activating. \
         Accounts with a problem come first; each cell's title says it in words.</p>",
        if v.mode == Mode::Plan { "~" } else { "+" },
        if v.mode == Mode::Plan {
            "pending"
        } else {
            "changed"
        },
    );
    out.push_str("<ul class=\"legend\">\n");
    for c in Class::ALL {
        if c == Class::Missing {
            continue;
        }
        let _ = writeln!(
            out,
            "<li><span class=\"c {}\">{}</span>{}</li>",
            c.css(),
            esc(c.sample(v.mode)),
            c.words(v.mode)
        );
    }
    out.push_str("</ul>\n");
    out.push_str(
        "<div id=\"filters\" class=\"filters\" hidden><label>Account \
         <input id=\"q\" type=\"search\" placeholder=\"id or name\" autocomplete=\"off\"></label>\
         <label>Show <select id=\"st\"><option value=\"\">every account</option>",
    );
    for c in Class::ALL {
        if c == Class::Missing {
            continue;
        }
        let _ = write!(
            out,
            "<option value=\"{}\">{}</option>",
            c.css(),
            c.filter(v.mode)
        );
    }
    out.push_str("</select></label><span id=\"shown\"></span></div>\n");

    let max_rows = (MAX_GRID_CELLS / regions.len().max(1)).max(200);
    let drawn = &loud[..loud.len().min(max_rows)];
    if drawn.is_empty() {
        out.push_str("<p>No account needs attention.</p>\n");
    } else {
        out.push_str(
            "<div class=\"scroll\"><table class=\"grid\" id=\"grid\">\n<thead><tr><th scope=\"col\">Account</th>",
        );
        for r in regions {
            out.push_str("<th scope=\"col\" class=\"r\">");
            esc_into(out, r);
            out.push_str("</th>");
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in drawn {
            out.push_str("<tr data-k=\"");
            for (i, c) in row.classes.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push(c.css());
            }
            out.push_str("\"><th scope=\"row\">");
            account(out, v, row.account);
            out.push_str("</th>");
            for cell in &row.cells {
                match cell {
                    None => out.push_str("<td class=\"e\" title=\"not in this run\"></td>"),
                    Some(t) => {
                        let c = Class::of(t);
                        let _ = write!(out, "<td class=\"{}\" title=\"", c.css());
                        esc_into(out, placement_words(t.placement));
                        if !matches!(t.status, Status::Unchanged | Status::Skipped) || t.not_run {
                            out.push_str(", ");
                            out.push_str(if t.not_run {
                                "not run"
                            } else {
                                t.status.as_str()
                            });
                        }
                        if let Some(e) = &t.error {
                            out.push_str(": ");
                            esc_into(out, &cut(e, 160));
                        }
                        let _ = write!(out, "\">{}{}</td>", letter(t.placement), mark(t));
                    }
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table></div>\n");
    }
    if loud.len() > drawn.len() {
        let rest = &loud[drawn.len()..];
        let _ = writeln!(
            out,
            "<details class=\"rest\"><summary>{} more accounts with something to show are \
             not drawn (the grid draws at most {} cells, the most severe first)</summary>\n\
             <ul class=\"ids\">",
            thousands(rest.len()),
            thousands(MAX_GRID_CELLS)
        );
        for row in rest {
            out.push_str("<li>");
            account(out, v, row.account);
            let words: Vec<&str> = row.classes.iter().map(|c| c.words(v.mode)).collect();
            out.push_str(": ");
            esc_into(out, &words.join(", "));
            out.push_str("</li>\n");
        }
        out.push_str("</ul></details>\n");
    }

    // The quiet accounts, one group per pattern of Regions not enabled.
    let mut groups: BTreeMap<Vec<&str>, Vec<&Row<'_>>> = BTreeMap::new();
    for row in quiet {
        groups.entry(row.disabled(regions)).or_default().push(row);
    }
    for (disabled, rows) in &groups {
        let what = if disabled.is_empty() {
            format!(
                "{} fully covered as members (every Region)",
                plural(rows.len(), "account", "accounts")
            )
        } else {
            format!(
                "{} covered as members where enabled; opt-in {} not enabled: {}",
                plural(rows.len(), "account", "accounts"),
                if disabled.len() == 1 {
                    "Region"
                } else {
                    "Regions"
                },
                esc(&disabled.join(", "))
            )
        };
        let _ = writeln!(
            out,
            "<details class=\"quiet\"><summary>{what}</summary>\n<ul class=\"ids\">"
        );
        // Thousands of them: id and name as plain text.
        for row in rows {
            out.push_str("<li>");
            esc_into(out, row.account);
            if let Some(n) = v.names.get(row.account) {
                out.push(' ');
                esc_into(out, n);
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul></details>\n");
    }
    if !v.names_known {
        out.push_str(
            "<p class=\"more\">The run record has no account names; a JSON report of \
             <code>guardsync apply --format json</code> has them.</p>\n",
        );
    }
}

/// An account's id and, when known, its name.
fn account(out: &mut String, v: &View, id: &str) {
    out.push_str("<span class=\"id\">");
    esc_into(out, id);
    out.push_str("</span>");
    if let Some(n) = v.names.get(id) {
        out.push_str(" <span class=\"nm\">");
        esc_into(out, n);
        out.push_str("</span>");
    }
}

/// Groups of targets of one account that share a key, with their Regions
/// (in the order of `regions`), in account order.
fn by_account<'a, K: Ord + Clone>(
    targets: impl Iterator<Item = &'a Target>,
    regions: &[String],
    key: impl Fn(&'a Target) -> K,
) -> Vec<(&'a str, K, Vec<&'a str>)> {
    let mut groups: BTreeMap<(&str, K), Vec<&str>> = BTreeMap::new();
    for t in targets {
        groups
            .entry((t.account_id.as_str(), key(t)))
            .or_default()
            .push(t.region.as_str());
    }
    let rank = |r: &str| regions.iter().position(|x| x == r).unwrap_or(usize::MAX);
    groups
        .into_iter()
        .map(|((a, k), mut rs)| {
            rs.sort_by_key(|r| rank(r));
            (a, k, rs)
        })
        .collect()
}

/// `eu-west-1, us-east-1`, or `every Region` when they are all there.
fn region_list(rs: &[&str], regions: &[String]) -> String {
    if regions.len() > 1 && rs.len() == regions.len() {
        format!("every Region ({})", regions.len())
    } else {
        rs.join(", ")
    }
}

/// Why a target is where it is, when the input does not say (the run
/// record keeps no notes).
fn default_note(p: PlacementKind) -> &'static str {
    match p {
        PlacementKind::NoDetector => "GuardDuty is not enabled here: findings go unwatched",
        PlacementKind::OtherAdmin => "associated with another GuardDuty administrator",
        PlacementKind::Standalone => "not an associated member: has its own list",
        _ => "",
    }
}

/// An error with its account ids and Regions put in words, so that the
/// same failure in many places counts as one reason.
fn reason_of(e: &str, regions: &HashSet<&str>) -> String {
    let mut out = String::with_capacity(e.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.len() == 12 && word.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str("ACCOUNT");
        } else if regions.contains(word.as_str()) {
            out.push_str("REGION");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in e.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn failures(out: &mut String, v: &View, regions: &[String]) {
    let failed: Vec<&Target> = v
        .targets
        .iter()
        .filter(|t| t.status == Status::Failed && !t.not_run)
        .collect();
    let not_run: Vec<&Target> = v.targets.iter().filter(|t| t.not_run).collect();
    out.push_str("<h2 id=\"failures\">Failures</h2>\n");
    if failed.is_empty() && not_run.is_empty() {
        out.push_str("<p>No target failed.</p>\n");
        return;
    }
    if !failed.is_empty() {
        let groups = by_account(failed.iter().copied(), regions, |t| t.error.as_deref());
        let accounts: HashSet<&str> = groups.iter().map(|g| g.0).collect();
        let _ = writeln!(
            out,
            "<p>{} failed in {}.</p>",
            plural(failed.len(), "target", "targets"),
            plural(accounts.len(), "account", "accounts")
        );
        // Many failures: what they have in common first.
        if groups.len() > 5 {
            let region_set: HashSet<&str> = regions.iter().map(String::as_str).collect();
            let mut reasons: HashMap<String, usize> = HashMap::new();
            let mut seen: HashMap<&str, String> = HashMap::new();
            for t in &failed {
                let e = t.error.as_deref().unwrap_or("no reason given");
                let r = seen
                    .entry(e)
                    .or_insert_with(|| reason_of(e, &region_set))
                    .clone();
                *reasons.entry(r).or_insert(0) += 1;
            }
            let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            out.push_str(
                "<h3>Reasons</h3>\n<p>The same reason in many places counts once, with its \
                 account ids and Regions left out.</p>\n<table class=\"reasons list\"><thead><tr>\
                 <th>targets</th><th>reason</th></tr></thead><tbody>\n",
            );
            for (r, n) in reasons.iter().take(20) {
                let _ = write!(out, "<tr><td>{}</td><td class=\"why\">", thousands(*n));
                esc_into(out, &cut(r, 600));
                out.push_str("</td></tr>\n");
            }
            out.push_str("</tbody></table>\n");
            more(out, reasons.len(), 20, "reasons");
        }
        out.push_str(
            "<h3>Failed targets</h3>\n<table class=\"list\"><thead><tr><th>account</th>\
             <th>Regions</th><th>reason</th></tr></thead><tbody>\n",
        );
        for (a, e, rs) in groups.iter().take(MAX_LIST_ROWS) {
            out.push_str("<tr><td>");
            account(out, v, a);
            out.push_str("</td><td>");
            esc_into(out, &region_list(rs, regions));
            out.push_str("</td><td class=\"why\">");
            esc_into(out, &cut(e.unwrap_or("no reason given"), 2_000));
            out.push_str("</td></tr>\n");
        }
        out.push_str("</tbody></table>\n");
        more(out, groups.len(), MAX_LIST_ROWS, "rows of failures");
    }
    if !not_run.is_empty() {
        let accounts: HashSet<&str> = not_run.iter().map(|t| t.account_id.as_str()).collect();
        let _ = write!(
            out,
            "<p>{} in {} not run: ",
            plural(not_run.len(), "target", "targets"),
            plural(accounts.len(), "account", "accounts"),
        );
        esc_into(
            out,
            not_run[0]
                .error
                .as_deref()
                .unwrap_or("an earlier wave stopped the rollout"),
        );
        out.push_str(". They are retried by <code>guardsync apply --retry-failed</code>.</p>\n");
    }
}

fn gaps(out: &mut String, v: &View, regions: &[String]) {
    let gaps: Vec<&Target> = v
        .targets
        .iter()
        .filter(|t| {
            matches!(
                t.placement,
                PlacementKind::NoDetector | PlacementKind::OtherAdmin
            )
        })
        .collect();
    out.push_str("<h2 id=\"gaps\">Coverage gaps</h2>\n");
    if gaps.is_empty() {
        out.push_str(
            "<p>None: every account in scope has GuardDuty under this administrator, \
             or is excluded.</p>\n",
        );
        return;
    }
    let _ = writeln!(
        out,
        "<p>{}: GuardDuty is off, or the account answers to another administrator; \
         findings there go unwatched by this list.</p>",
        plural(gaps.len(), "target", "targets")
    );
    let groups = by_account(gaps.into_iter(), regions, |t| {
        (t.placement, t.note.as_deref())
    });
    out.push_str(
        "<table class=\"list\"><thead><tr><th>account</th><th>Regions</th><th>gap</th>\
         <th>why</th></tr></thead><tbody>\n",
    );
    for (a, (p, note), rs) in groups.iter().take(MAX_LIST_ROWS) {
        out.push_str("<tr><td>");
        account(out, v, a);
        out.push_str("</td><td>");
        esc_into(out, &region_list(rs, regions));
        let _ = write!(out, "</td><td>{}</td><td class=\"why\">", p.as_str());
        esc_into(out, note.unwrap_or(default_note(*p)));
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table>\n");
    more(out, groups.len(), MAX_LIST_ROWS, "accounts with gaps");
}

fn standalone(out: &mut String, v: &View, regions: &[String]) {
    let st: Vec<&Target> = v
        .targets
        .iter()
        .filter(|t| t.placement == PlacementKind::Standalone)
        .collect();
    out.push_str("<h2 id=\"standalone\">Standalone accounts</h2>\n");
    if st.is_empty() {
        out.push_str("<p>None: every detector in scope is an associated member.</p>\n");
        return;
    }
    let groups = by_account(st.into_iter(), regions, |t| t.note.as_deref());
    let accounts: HashSet<&str> = groups.iter().map(|g| g.0).collect();
    let _ = writeln!(
        out,
        "<p>{} with a detector that is not an associated member: guardsync gives \
         each its own list (and rules); their findings are not centralised.</p>",
        plural(accounts.len(), "account", "accounts")
    );
    out.push_str(
        "<table class=\"list\"><thead><tr><th>account</th><th>Regions</th><th>why</th>\
         </tr></thead><tbody>\n",
    );
    for (a, note, rs) in groups.iter().take(MAX_LIST_ROWS) {
        out.push_str("<tr><td>");
        account(out, v, a);
        out.push_str("</td><td>");
        esc_into(out, &region_list(rs, regions));
        out.push_str("</td><td class=\"why\">");
        esc_into(out, note.unwrap_or(default_note(PlacementKind::Standalone)));
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table>\n");
    more(out, groups.len(), MAX_LIST_ROWS, "standalone accounts");
}

fn excluded(out: &mut String, v: &View) {
    let mut accounts: Vec<&str> = v
        .targets
        .iter()
        .filter(|t| t.placement == PlacementKind::Excluded)
        .map(|t| t.account_id.as_str())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    if accounts.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"excluded\">Excluded accounts</h2>\n<p>");
    for (i, a) in accounts.iter().take(MAX_LIST_ROWS).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        account(out, v, a);
    }
    out.push_str(
        ": left alone by configuration (<code>organization.exclude_accounts</code>).</p>\n",
    );
    more(out, accounts.len(), MAX_LIST_ROWS, "excluded accounts");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(account: &str, region: &str, placement: PlacementKind, status: Status) -> Target {
        Target {
            account_id: account.into(),
            region: region.into(),
            placement,
            status,
            error: None,
            not_run: false,
            note: None,
        }
    }

    fn view(targets: Vec<Target>, regions: &[&str]) -> View {
        View {
            source: "the JSON report test.json".into(),
            mode: Mode::Apply,
            when: When::Finished(1_790_000_000),
            now: 1_790_003_600,
            organization_id: Some("o-abc123".into()),
            list: List {
                sha256: "ab".repeat(32),
                entries: 4_321,
                addresses: 600_000_000,
                location: "s3://bucket/guardduty/lists/x.txt".into(),
                changed: Some(true),
            },
            more_lists: vec![(
                "Trusted list \"corp-<trusted>\"".into(),
                List {
                    sha256: "cd".repeat(32),
                    entries: 2,
                    addresses: 257,
                    location: "s3://bucket/guardduty/lists/y.txt".into(),
                    changed: Some(false),
                },
            )],
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            targets,
            names: HashMap::new(),
            names_known: true,
            warnings: Vec::new(),
            retry_of: None,
            calls: Some((74, 0)),
        }
    }

    const R: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

    #[test]
    fn every_list_has_its_row() {
        let page = render(&view(Vec::new(), &R));
        assert!(
            page.contains(
                "Trusted list &quot;corp-&lt;trusted&gt;&quot;</dt><dd>2 entries, 257 addresses, \
                 at <code>s3://bucket/guardduty/lists/y.txt</code>"
            ),
            "{page}"
        );
    }

    #[test]
    fn names_and_errors_are_escaped() {
        let mut failed = t(
            "222222222222",
            "us-east-1",
            PlacementKind::Standalone,
            Status::Failed,
        );
        failed.error = Some("denied <img src=x onerror=alert(1)> & \"quoted\"".into());
        let mut v = view(
            vec![
                t(
                    "111111111111",
                    "us-east-1",
                    PlacementKind::Admin,
                    Status::Unchanged,
                ),
                failed,
            ],
            &R[..1],
        );
        v.names
            .insert("111111111111".into(), "<script>alert('x')</script>".into());
        v.warnings.push("a <b>warning</b>".into());
        let page = render(&v);
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(!page.contains("<img"));
        assert!(
            page.contains("denied &lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;")
        );
        assert!(page.contains("a &lt;b&gt;warning&lt;/b&gt;"));
        // The page's own one script, and nothing else.
        assert_eq!(page.matches("<script>").count(), 1);
    }

    #[test]
    fn every_account_and_region_appears() {
        let mut targets = Vec::new();
        let placements = [
            PlacementKind::Admin,
            PlacementKind::Member,
            PlacementKind::Standalone,
            PlacementKind::NoDetector,
            PlacementKind::OtherAdmin,
            PlacementKind::Excluded,
            PlacementKind::RegionDisabled,
        ];
        for (i, p) in placements.iter().enumerate() {
            for r in R {
                let status = match p {
                    PlacementKind::Standalone if r == "eu-west-1" => Status::Changed,
                    PlacementKind::Admin | PlacementKind::Member | PlacementKind::Standalone => {
                        Status::Unchanged
                    }
                    _ => Status::Skipped,
                };
                targets.push(t(&format!("{:012}", i + 1), r, *p, status));
            }
        }
        let page = render(&view(targets, &R));
        for i in 1..=placements.len() {
            assert!(page.contains(&format!("{:012}", i)), "account {i}");
        }
        for r in R {
            assert!(
                page.contains(&format!("<th scope=\"col\" class=\"r\">{r}</th>")),
                "{r}"
            );
        }
        for class in ["a", "s", "g", "x", "d", "p"] {
            assert!(page.contains(&format!("<td class=\"{class}\"")), "{class}");
        }
    }

    #[test]
    fn covered_members_are_grouped_and_problems_come_first() {
        let mut targets = Vec::new();
        for i in 0..50 {
            for r in R {
                targets.push(t(
                    &format!("{:012}", 500_000 + i),
                    r,
                    PlacementKind::Member,
                    Status::Unchanged,
                ));
            }
        }
        // Members where enabled: a group of their own.
        for i in 0..3 {
            for r in R {
                let p = if r == "ap-southeast-2" {
                    PlacementKind::RegionDisabled
                } else {
                    PlacementKind::Member
                };
                targets.push(t(&format!("{:012}", 600_000 + i), r, p, Status::Unchanged));
            }
        }
        let mut bad = t(
            "999999999999",
            "eu-west-1",
            PlacementKind::Standalone,
            Status::Failed,
        );
        bad.error = Some("AccessDenied".into());
        targets.push(t(
            "999999999999",
            "us-east-1",
            PlacementKind::Member,
            Status::Unchanged,
        ));
        targets.push(bad);
        targets.push(t(
            "999999999999",
            "ap-southeast-2",
            PlacementKind::Member,
            Status::Unchanged,
        ));
        targets.push(t(
            "000000000001",
            "us-east-1",
            PlacementKind::Admin,
            Status::Unchanged,
        ));
        let page = render(&view(targets, &R));
        assert!(
            page.contains("50 accounts fully covered as members (every Region)"),
            "{page}"
        );
        assert!(page.contains(
            "3 accounts covered as members where enabled; opt-in Region not enabled: ap-southeast-2"
        ));
        assert_eq!(page.matches("<details class=\"quiet\">").count(), 2);
        // Neither group is open, and none of their accounts has a grid row.
        assert!(!page.contains("<details class=\"quiet\" open"));
        assert!(!page.contains("<th scope=\"row\"><span class=\"id\">000000500000"));
        // The failed account is the first row, the administrator after it.
        let failed = page
            .find("<th scope=\"row\"><span class=\"id\">999999999999")
            .expect("row");
        let admin = page
            .find("<th scope=\"row\"><span class=\"id\">000000000001")
            .expect("row");
        assert!(failed < admin);
        assert!(page.contains("AccessDenied"));
    }

    #[test]
    fn nothing_is_loaded_from_anywhere() {
        let mut targets = Vec::new();
        for r in R {
            targets.push(t("111111111111", r, PlacementKind::Admin, Status::Changed));
            let mut f = t("222222222222", r, PlacementKind::Standalone, Status::Failed);
            // An error may name a URL: it is text, never a reference.
            f.error = Some("https://example.com/x failed".into());
            targets.push(f);
        }
        let page = render(&view(targets, &R));
        let lower = page.to_ascii_lowercase();
        for banned in [
            "src=",
            "href=",
            "@import",
            "url(",
            "<link",
            "<img",
            "<iframe",
            "<object",
            "<embed",
            "@font-face",
            "http://",
            "//cdn",
        ] {
            assert!(!lower.contains(banned), "{banned} in the page");
        }
        // The only https:// is the error's text, in cell titles and the lists.
        assert!(
            lower
                .match_indices("https://")
                .all(|(i, _)| lower[i..].starts_with("https://example.com/x failed"))
        );
    }

    #[test]
    fn the_grid_is_bounded_and_says_what_it_left_out() {
        let regions: Vec<String> = (0..34).map(|i| format!("r-{i}")).collect();
        let rs: Vec<&str> = regions.iter().map(String::as_str).collect();
        let mut targets = Vec::new();
        for a in 0..4_000 {
            for r in &rs {
                targets.push(t(
                    &format!("{a:012}"),
                    r,
                    PlacementKind::Standalone,
                    Status::Unchanged,
                ));
            }
        }
        let page = render(&view(targets, &rs));
        let rows = page.matches("<th scope=\"row\">").count();
        assert_eq!(rows, MAX_GRID_CELLS / 34);
        assert!(page.contains(&format!(
            "{} more accounts with something to show",
            thousands(4_000 - rows)
        )));
        // Every account is still in the page.
        assert!(page.contains("000000003999"));
        assert!(page.len() < 8_000_000, "{} bytes", page.len());
    }

    #[test]
    fn reasons_leave_out_accounts_and_regions() {
        let regions: HashSet<&str> = ["eu-west-1"].into_iter().collect();
        assert_eq!(
            reason_of(
                "111111111111 eu-west-1: failed to assume arn:aws:iam::111111111111:role/R",
                &regions
            ),
            "ACCOUNT REGION: failed to assume arn:aws:iam::ACCOUNT:role/R"
        );
    }

    #[test]
    fn json_reports_are_read_and_bad_ones_say_where() {
        let json = r#"{"mode":"plan","list":{"sha256":"ab","entries":1,"addresses":2,
            "location":"s3://b/k","changed":true,"rebuilt":true},"organization_id":"o-1",
            "regions":["eu-west-1"],"waves":[],"warnings":[],"retry_of":null,
            "targets":[{"account_id":"111111111111","account_name":"sec","region":"eu-west-1",
            "placement":"admin","wave":1,"status":"pending","changes":[],"error":null,
            "not_run":false,"note":null,"unmanaged":[],"warnings":[]}],
            "summary":{"api_calls":7,"api_retries":1},"calls":{}}"#;
        let v = View::from_json(json.as_bytes(), "x".into(), When::Unknown, 0).expect("view");
        assert_eq!(v.mode, Mode::Plan);
        assert_eq!(v.names["111111111111"], "sec");
        assert_eq!(v.targets[0].status, Status::Pending);
        assert_eq!(v.calls, Some((7, 1)));
        let bad = json.replace("\"pending\"", "\"sideways\"");
        let e = View::from_json(bad.as_bytes(), "x".into(), When::Unknown, 0).expect_err("bad");
        assert_eq!(e, "targets[0].status: unknown status `sideways`");
        let e =
            View::from_json(b"{\"mode\":\"plan\"}", "x".into(), When::Unknown, 0).expect_err("bad");
        assert!(e.contains("missing field"), "{e}");
    }

    #[test]
    fn times_read_and_ages_print() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2026-11-30T08:00:00Z"), Some(1_796_025_600));
        assert_eq!(parse_utc("2026-11-30T08:00:00.250Z"), Some(1_796_025_600));
        assert_eq!(parse_utc("2026-11-30 08:00:00"), None);
        assert_eq!(utc(1_796_025_600), "2026-11-30T08:00:00Z");
        assert_eq!(age(30), "under a minute");
        assert_eq!(age(3 * 3600 + 12 * 60), "3 h 12 min");
        assert_eq!(age(2 * 86_400 + 3600), "2 days 1 h");
        assert_eq!(thousands(9_412), "9,412");
        assert_eq!(thousands(340_000), "340,000");
        assert_eq!(thousands(12), "12");
    }
}

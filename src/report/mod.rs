//! The run's report: one value that both renderers read. Pure.
//!
//! [`Report`] serialises to the JSON of docs/REFERENCE.md, the JSON report (`--format json`); the
//! [`text`] module renders the same value the way terraform prints a plan.
//! Keys beyond the documented are additions, never renames.

pub mod emf;
pub mod html;
pub mod markdown;
pub mod text;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

pub use crate::config::{AccountId, Region};
pub use crate::org::PlacementKind;

/// `plan` or `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Nothing written; `pending` marks what would change.
    Plan,
    /// Changes made; `changed` marks what did.
    Apply,
}

impl Mode {
    /// The command name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Plan => "plan",
            Mode::Apply => "apply",
        }
    }
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `plan` or `apply`.
    pub mode: Mode,
    /// The list this run puts in place (the first threat list).
    pub list: ListReport,
    /// Every threat list this run puts in place, the first one included.
    pub lists: Vec<ListReport>,
    /// The trusted list, when one is configured.
    pub trusted_list: Option<ListReport>,
    /// The organization id, when it could be read.
    pub organization_id: Option<String>,
    /// The regions in scope, in order.
    pub regions: Vec<String>,
    /// The rollout waves, in order (one wave without `rollout`).
    pub waves: Vec<WaveReport>,
    /// Things a reviewer should know that are not changes (for instance that
    /// suppressed findings never alert).
    pub warnings: Vec<String>,
    /// Set by `apply --retry-failed`: the run it repairs.
    pub retry_of: Option<String>,
    /// One entry per (account, region), ordered by account then region.
    pub targets: Vec<TargetReport>,
    /// Counts over `targets`.
    pub summary: Summary,
    /// The AWS calls the run made, per `service:Operation`, with their
    /// attempts (retries included).
    pub calls: crate::cloud::calls::Table,
}

/// How a rollout wave went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaveReport {
    /// From 1.
    pub wave: u32,
    /// What it selects (`regions us-east-1`, `rest`, ...).
    pub selects: String,
    /// Targets in it.
    pub targets: usize,
    /// Of which failed (not counting those not run).
    pub failed: usize,
    /// `done`, `stopped` (its failures exceeded the tolerance), or
    /// `not_started` (an earlier wave stopped the rollout).
    pub outcome: WaveOutcome,
}

/// How a wave ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaveOutcome {
    /// Every target ran (plan: would run).
    Done,
    /// It ran, and its failures exceeded `rollout.failure_tolerance`.
    Stopped,
    /// Not started: an earlier wave stopped the rollout.
    NotStarted,
}

/// The published list (docs/REFERENCE.md, the JSON report `list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ListReport {
    /// The list's name (`threat_lists[].name`, `trusted_list.name`).
    pub name: String,
    /// Lowercase hex sha256 of the list object.
    pub sha256: String,
    /// CIDR entries.
    pub entries: u64,
    /// Addresses covered.
    pub addresses: u64,
    /// `s3://bucket/key`.
    pub location: String,
    /// Whether this run uploads (plan) or uploaded (apply) new content.
    pub changed: bool,
    /// Whether the feeds were downloaded again (`false` when every feed
    /// answered "not modified" and the published list was reused).
    pub rebuilt: bool,
    /// The parts of a list split to fit GuardDuty's limits (each its own
    /// set and object), in address order; empty when it is one set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartReport>,
}

/// One part of a split list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartReport {
    /// The set's name, `NAME-1`, `NAME-2`, ...
    pub name: String,
    /// sha256 of the part's object.
    pub sha256: String,
    /// Its entries.
    pub entries: u64,
    /// `s3://bucket/key`.
    pub location: String,
}

/// What happened (apply) or would happen (plan) in one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Already as desired (includes covered `member` targets).
    Unchanged,
    /// apply changed something.
    Changed,
    /// GuardDuty is still loading a list (apply stopped waiting after
    /// `threat_list.settle_seconds`; the next plan or apply checks it).
    Activating,
    /// plan: changes to make.
    Pending,
    /// The target did not reach its desired state; `error` says why.
    Failed,
    /// Nothing to do by placement: `no_detector`, `other_admin`, `excluded`.
    Skipped,
}

impl Status {
    /// The report's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unchanged => "unchanged",
            Status::Changed => "changed",
            Status::Activating => "activating",
            Status::Pending => "pending",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// The kind of resource a change touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// A GuardDuty ThreatIntelSet (a threat list).
    ThreatIntelSet,
    /// A GuardDuty IPSet (the trusted list).
    IpSet,
    /// A GuardDuty filter (suppression rule).
    Filter,
    /// The EventBridge rule of the alerts.
    AlertRule,
    /// The SNS topic of the alerts.
    AlertTopic,
    /// The list bucket's policy.
    BucketPolicy,
}

impl Resource {
    /// The name used in both renderers.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::ThreatIntelSet => "threat_intel_set",
            Resource::IpSet => "ip_set",
            Resource::Filter => "filter",
            Resource::AlertRule => "alert_rule",
            Resource::AlertTopic => "alert_topic",
            Resource::BucketPolicy => "bucket_policy",
        }
    }
}

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Create the resource.
    Create,
    /// Change it in place.
    Update,
    /// Activate it again (same settings): a ThreatIntelSet not ACTIVE.
    Activate,
    /// Delete it.
    Delete,
    /// Archive the current findings a suppression rule matches
    /// (`archive_existing`).
    Archive,
}

impl Action {
    /// The terraform-like sign of the text plan.
    pub(crate) fn sign(self) -> char {
        match self {
            Action::Create => '+',
            Action::Update => '~',
            Action::Activate => '>',
            Action::Delete => '-',
            Action::Archive => '#',
        }
    }

    /// The verb of the text plan.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Activate => "activate",
            Action::Delete => "delete",
            Action::Archive => "archive",
        }
    }

    /// The verb once done (apply's logs and report).
    pub fn past(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Activate => "activated",
            Action::Delete => "deleted",
            Action::Archive => "archived",
        }
    }
}

impl TargetReport {
    /// The target in one log sentence: where, what it is, what happened.
    /// `111111111111 eu-west-1 (admin): changed: created threat_intel_set
    /// "FireHOL-Level1", created filter "internal-scanner"`. Written
    /// straight into the log's line (a changed target's every apply logs
    /// one), not built as a string first.
    pub fn log_line(&self, mode: Mode) -> LogLine<'_> {
        LogLine { target: self, mode }
    }
}

/// [`TargetReport::log_line`].
pub struct LogLine<'a> {
    target: &'a TargetReport,
    mode: Mode,
}

impl std::fmt::Display for LogLine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = self.target;
        write!(
            f,
            "{} {} ({}): ",
            t.account_id,
            t.region,
            t.placement.as_str()
        )?;
        if t.error.is_some() {
            f.write_str("failed")?;
        } else {
            f.write_str(t.status.as_str())?;
        }
        for (i, c) in t.changes.iter().enumerate() {
            let verb = match self.mode {
                Mode::Apply => c.action.past(),
                Mode::Plan => c.action.as_str(),
            };
            let lead = match (i, &t.error) {
                (0, Some(_)) => " after it ",
                (0, None) => ": ",
                _ => ", ",
            };
            write!(f, "{lead}{verb} {} {:?}", c.resource.as_str(), c.name)?;
        }
        match &t.error {
            Some(e) => write!(f, ": {e}"),
            None => Ok(()),
        }
    }
}

/// One change to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What kind of resource.
    pub resource: Resource,
    /// Its name.
    pub name: String,
    /// What is done to it.
    pub action: Action,
    /// Why, and what changes, in a few words a reviewer can read
    /// (for instance `location s3://b/old.txt -> s3://b/new.txt`).
    pub detail: Vec<String>,
}

/// One (account, region). A run holds one per target until its report is
/// written (340,000 at 10,000 accounts in 34 Regions): the account and
/// Region are copied, not allocated, and the lists most targets leave empty
/// take one word each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetReport {
    /// The account.
    pub account_id: AccountId,
    /// The account's name in the organization, when known (shared by the
    /// account's targets).
    #[serde(serialize_with = "shared_str")]
    pub account_name: Option<Arc<str>>,
    /// The region.
    pub region: Region,
    /// `admin`, `member`, `standalone`, `no_detector`, `other_admin`,
    /// `excluded` or `unknown`.
    pub placement: PlacementKind,
    /// The rollout wave, from 1.
    pub wave: u32,
    /// The outcome.
    pub status: Status,
    /// The changes made (apply) or to make (plan).
    pub changes: ThinVec<Change>,
    /// Why the target failed, when it did (a boxed text: two words, not
    /// three, in each of a run's reports).
    pub error: Option<Box<str>>,
    /// The target was not run: an earlier wave stopped the rollout
    /// (its status is `failed`, so that it counts and is retried).
    pub not_run: bool,
    /// Why a placement is what it is, for gaps and skips
    /// (for instance `associated with administrator 123412341234`).
    #[serde(serialize_with = "shared_str")]
    pub note: Option<Arc<str>>,
    /// Resources found there that guardsync does not own and left alone.
    pub unmanaged: ThinVec<Unmanaged>,
    /// What a reviewer should know about this target that is not a change
    /// (for instance an e-mail subscription still waiting for confirmation).
    pub warnings: ThinVec<String>,
}

/// A vector that takes one word when empty, as most of a report's are
/// (the changes, unmanaged resources and warnings of 340,000 targets); it
/// reads as a slice and serialises as a JSON array.
#[derive(Clone, PartialEq, Eq)]
// The box is the point: one word (a null pointer) for an empty list, where
// a `Vec` takes three.
#[allow(clippy::box_collection)]
pub struct ThinVec<T>(Option<Box<Vec<T>>>);

impl<T: Serialize> Serialize for ThinVec<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<T> ThinVec<T> {
    /// An empty one (no allocation).
    pub const fn new() -> Self {
        ThinVec(None)
    }

    /// Add `item` at the end.
    pub fn push(&mut self, item: T) {
        self.0.get_or_insert_with(Box::default).push(item);
    }

    /// The items, as a vector.
    pub fn into_vec(self) -> Vec<T> {
        self.0.map(|v| *v).unwrap_or_default()
    }
}

impl<T> Default for ThinVec<T> {
    fn default() -> Self {
        ThinVec::new()
    }
}

impl<T> std::ops::Deref for ThinVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl<T> std::ops::DerefMut for ThinVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.0.as_deref_mut().map_or(&mut [], Vec::as_mut_slice)
    }
}

impl<T> From<Vec<T>> for ThinVec<T> {
    fn from(v: Vec<T>) -> Self {
        ThinVec((!v.is_empty()).then(|| Box::new(v)))
    }
}

impl<T> FromIterator<T> for ThinVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Vec::from_iter(items).into()
    }
}

impl<T> Extend<T> for ThinVec<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for item in items {
            self.push(item);
        }
    }
}

impl<T> IntoIterator for ThinVec<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl<'a, T> IntoIterator for &'a ThinVec<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for ThinVec<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        **self == **other
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[T; N]> for ThinVec<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        **self == *other
    }
}

impl<T: fmt::Debug> fmt::Debug for ThinVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A shared string as a JSON string.
fn shared_str<S: serde::Serializer>(v: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_some(&**v),
        None => s.serialize_none(),
    }
}

/// A resource guardsync found and does not own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmanaged {
    /// What kind.
    pub resource: Resource,
    /// Its name.
    pub name: String,
}

/// Counts over the targets (docs/REFERENCE.md, the JSON report `summary`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Every target.
    pub targets: usize,
    /// apply: targets changed.
    pub changed: usize,
    /// Targets already as desired.
    pub unchanged: usize,
    /// plan: targets with changes to make.
    pub pending: usize,
    /// Targets whose list GuardDuty is still loading.
    pub activating: usize,
    /// Targets that failed (including those not run).
    pub failed: usize,
    /// Of the failed targets, those not run because a wave stopped the rollout.
    pub not_run: usize,
    /// Targets skipped by placement.
    pub skipped: usize,
    /// `no_detector` and `other_admin` targets.
    pub coverage_gaps: usize,
    /// Changes to create, update (including activate) and delete.
    pub creates: usize,
    /// See `creates`.
    pub updates: usize,
    /// See `creates`.
    pub deletes: usize,
    /// Changes that archive the current findings of an `archive_existing`
    /// rule (one per rule and target).
    pub archives: usize,
    /// AWS calls the run made.
    pub api_calls: u64,
    /// Attempts beyond the first (throttling, 5xx, transport errors).
    pub api_retries: u64,
}

impl Summary {
    /// Count `targets`.
    pub fn of(targets: &[TargetReport]) -> Summary {
        let mut s = Summary {
            targets: targets.len(),
            ..Summary::default()
        };
        for t in targets {
            match t.status {
                Status::Unchanged => s.unchanged += 1,
                Status::Changed => s.changed += 1,
                Status::Activating => s.activating += 1,
                Status::Pending => s.pending += 1,
                Status::Failed => s.failed += 1,
                Status::Skipped => s.skipped += 1,
            }
            if t.not_run {
                s.not_run += 1;
            }
            if t.placement.is_coverage_gap() {
                s.coverage_gaps += 1;
            }
            for c in &t.changes {
                match c.action {
                    Action::Create => s.creates += 1,
                    Action::Update | Action::Activate => s.updates += 1,
                    Action::Delete => s.deletes += 1,
                    Action::Archive => s.archives += 1,
                }
            }
        }
        s
    }
}

impl Report {
    /// Whether this run uploads (plan) or uploaded (apply) any list.
    pub fn any_list_changed(&self) -> bool {
        self.list.changed
            || self.lists.iter().any(|l| l.changed)
            || self.trusted_list.as_ref().is_some_and(|l| l.changed)
    }

    /// Put the run's call budget (`calls`) into the report and its summary.
    pub(crate) fn count_calls(&mut self, calls: crate::cloud::calls::Table) {
        self.summary.api_calls = calls.values().map(|c| c.calls).sum();
        self.summary.api_retries = calls
            .values()
            .map(|c| c.attempts.saturating_sub(c.calls))
            .sum();
        self.calls = calls;
    }

    /// The JSON report, pretty-printed, with a final newline.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail, nor can serialising plain strings
        // and numbers.
        let _ = self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The JSON report, streamed to `w` (an organization of 10,000 accounts
    /// in 34 Regions has 340,000 targets: the text is never held whole).
    ///
    /// The bytes are those of `serde_json::to_writer_pretty(w, report)`:
    /// everything but the targets goes through serde (a few kilobytes); the
    /// targets are written here, their constant parts (keys, indentation,
    /// account ids, Region codes, placements, statuses) without serde's
    /// escaping of each byte, and the rest through serde.
    pub fn write_json(&self, mut w: impl std::io::Write) -> std::io::Result<()> {
        if self.targets.is_empty() {
            serde_json::to_writer_pretty(&mut w, self)?;
            return w.write_all(b"\n");
        }
        let shell = Report {
            mode: self.mode,
            list: self.list.clone(),
            lists: self.lists.clone(),
            trusted_list: self.trusted_list.clone(),
            organization_id: self.organization_id.clone(),
            regions: self.regions.clone(),
            waves: self.waves.clone(),
            warnings: self.warnings.clone(),
            retry_of: self.retry_of.clone(),
            targets: Vec::new(),
            summary: self.summary,
            calls: self.calls.clone(),
        };
        let text = serde_json::to_vec_pretty(&shell)?;
        // A key at the top level is the only one indented by two spaces, and
        // a JSON string holds no raw newline.
        const EMPTY: &[u8] = b"\n  \"targets\": []";
        let Some(at) = text.windows(EMPTY.len()).position(|x| x == EMPTY) else {
            serde_json::to_writer_pretty(&mut w, self)?;
            return w.write_all(b"\n");
        };
        let open = at + EMPTY.len() - 1;
        w.write_all(&text[..open])?;
        let mut buf = Vec::with_capacity(1024);
        let mut clean = Clean::default();
        for (i, t) in self.targets.iter().enumerate() {
            buf.clear();
            buf.extend_from_slice(if i == 0 { b"\n    {" } else { b",\n    {" });
            t.write_pretty(&mut buf, &mut clean)?;
            buf.extend_from_slice(b"\n    }");
            w.write_all(&buf)?;
        }
        w.write_all(b"\n  ")?;
        w.write_all(&text[open..])?;
        w.write_all(b"\n")
    }
}

impl TargetReport {
    /// The fields of the target as `serde_json`'s pretty printer writes
    /// them for an element of the report's `targets` (its braces aside).
    /// `clean`: the texts already found to need no escaping.
    fn write_pretty(&self, out: &mut Vec<u8>, clean: &mut Clean) -> std::io::Result<()> {
        // Keys and punctuation as serde writes them; account ids, Region
        // codes and the names of placements and statuses need no escaping.
        out.extend_from_slice(b"\n      \"account_id\": \"");
        out.extend_from_slice(self.account_id.as_bytes());
        out.extend_from_slice(b"\",\n      \"account_name\": ");
        clean.text(out, 0, self.account_name.as_deref())?;
        out.extend_from_slice(b",\n      \"region\": \"");
        out.extend_from_slice(self.region.as_bytes());
        out.extend_from_slice(b"\",\n      \"placement\": \"");
        out.extend_from_slice(self.placement.as_str().as_bytes());
        out.extend_from_slice(b"\",\n      \"wave\": ");
        write_number(out, self.wave);
        out.extend_from_slice(b",\n      \"status\": \"");
        out.extend_from_slice(self.status.as_str().as_bytes());
        out.extend_from_slice(b"\",\n      \"changes\": ");
        write_changes(out, &self.changes)?;
        out.extend_from_slice(b",\n      \"error\": ");
        clean.text(out, 1, self.error.as_deref())?;
        out.extend_from_slice(if self.not_run {
            b",\n      \"not_run\": true,\n      \"note\": "
        } else {
            b",\n      \"not_run\": false,\n      \"note\": "
        });
        clean.text(out, 2, self.note.as_deref())?;
        out.extend_from_slice(b",\n      \"unmanaged\": ");
        nested(out, &self.unmanaged)?;
        out.extend_from_slice(b",\n      \"warnings\": ");
        nested(out, &self.warnings)
    }
}

/// For each text field of the targets (name, error, note), the last text
/// found to need no escaping, by address and length: an account's targets
/// share its name, most targets one note.
#[derive(Default)]
struct Clean([(usize, usize); 3]);

impl Clean {
    /// `text` (field `field`) as JSON: `null`, or a string.
    fn text(&mut self, out: &mut Vec<u8>, field: usize, text: Option<&str>) -> std::io::Result<()> {
        let Some(text) = text else {
            out.extend_from_slice(b"null");
            return Ok(());
        };
        let seen = (text.as_ptr() as usize, text.len());
        match self.0.get_mut(field) {
            Some(last) if *last == seen => {
                out.push(b'"');
                out.extend_from_slice(text.as_bytes());
                out.push(b'"');
            }
            Some(last) => {
                if json_string(out, text)? {
                    *last = seen;
                }
            }
            None => {
                json_string(out, text)?;
            }
        }
        Ok(())
    }
}

/// `n` in decimal, as serde writes a number (without `fmt`'s machinery: a
/// wave number for each of 340,000 targets).
pub(crate) fn write_number(out: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    loop {
        at -= 1;
        // A digit: `n % 10` fits in a byte.
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// `text` as a JSON string, as serde writes it: as it is between quotes
/// when nothing in it needs escaping (a quote, a backslash, a control
/// character), as most notes and names are; else through serde. Says
/// whether it was written as it is.
pub(crate) fn json_string(out: &mut Vec<u8>, text: &str) -> std::io::Result<bool> {
    // Without an early exit, the check runs many bytes at a time.
    let escape = text.bytes().fold(false, |escape, b| {
        escape | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if escape {
        serde_json::to_writer(&mut *out, text).map_err(std::io::Error::from)?;
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
    Ok(!escape)
}

/// A target's changes as [`nested`] writes them (serde's pretty text, three
/// levels deep), without serde's per-byte escaping: after a list change,
/// 34,034 targets of 340,000 have one. Resources and actions are names
/// that need no escaping; the names and details go through [`json_string`].
fn write_changes(out: &mut Vec<u8>, changes: &[Change]) -> std::io::Result<()> {
    if changes.is_empty() {
        out.extend_from_slice(b"[]");
        return Ok(());
    }
    out.push(b'[');
    for (i, c) in changes.iter().enumerate() {
        out.extend_from_slice(if i == 0 {
            b"\n        {"
        } else {
            b",\n        {"
        });
        out.extend_from_slice(b"\n          \"resource\": \"");
        out.extend_from_slice(c.resource.as_str().as_bytes());
        out.extend_from_slice(b"\",\n          \"name\": ");
        json_string(out, &c.name)?;
        out.extend_from_slice(b",\n          \"action\": \"");
        out.extend_from_slice(c.action.as_str().as_bytes());
        out.extend_from_slice(b"\",\n          \"detail\": ");
        if c.detail.is_empty() {
            out.extend_from_slice(b"[]");
        } else {
            out.push(b'[');
            for (j, d) in c.detail.iter().enumerate() {
                out.extend_from_slice(if j == 0 {
                    b"\n            "
                } else {
                    b",\n            "
                });
                json_string(out, d)?;
            }
            out.extend_from_slice(b"\n          ]");
        }
        out.extend_from_slice(b"\n        }");
    }
    out.extend_from_slice(b"\n      ]");
    Ok(())
}

/// A list inside a target, pretty-printed three levels deep: `[]` when
/// empty (most are), else serde's own text, indented.
fn nested<T: Serialize>(out: &mut Vec<u8>, items: &[T]) -> std::io::Result<()> {
    if items.is_empty() {
        out.extend_from_slice(b"[]");
        return Ok(());
    }
    let text = serde_json::to_vec_pretty(items)?;
    // Every newline of pretty JSON is followed by its indentation.
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\n      ");
        }
        out.extend_from_slice(line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(account: &str, region: &str) -> TargetReport {
        TargetReport {
            account_id: AccountId::parse(account).expect("an account id"),
            account_name: None,
            region: Region::parse(region).expect("a Region"),
            placement: PlacementKind::Member,
            wave: 1,
            status: Status::Unchanged,
            changes: ThinVec::new(),
            error: None,
            not_run: false,
            note: Some("covered by the administrator's list and rules".into()),
            unmanaged: ThinVec::new(),
            warnings: ThinVec::new(),
        }
    }

    #[test]
    fn a_target_report_stays_small() {
        // A run holds one per target until its report is written: 340,000
        // at 10,000 accounts in 34 Regions.
        assert_eq!(std::mem::size_of::<TargetReport>(), 96);
    }

    #[test]
    fn a_log_line_says_where_what_and_what_happened() {
        let change = |action, resource, name: &str| Change {
            resource,
            name: name.into(),
            action,
            detail: vec!["a detail the log leaves out".into()],
        };
        let mut t = target("111111111111", "eu-west-1");
        t.placement = PlacementKind::Admin;
        assert_eq!(
            t.log_line(Mode::Apply).to_string(),
            "111111111111 eu-west-1 (admin): unchanged"
        );
        t.status = Status::Changed;
        t.changes = vec![
            change(Action::Create, Resource::ThreatIntelSet, "FireHOL-Level1"),
            change(Action::Delete, Resource::Filter, "old-rule"),
        ]
        .into();
        assert_eq!(
            t.log_line(Mode::Apply).to_string(),
            "111111111111 eu-west-1 (admin): changed: created threat_intel_set \"FireHOL-Level1\", \
             deleted filter \"old-rule\""
        );
        t.status = Status::Pending;
        assert_eq!(
            t.log_line(Mode::Plan).to_string(),
            "111111111111 eu-west-1 (admin): pending: create threat_intel_set \"FireHOL-Level1\", \
             delete filter \"old-rule\""
        );
        t.status = Status::Failed;
        t.error = Some("AccessDenied".into());
        assert_eq!(
            t.log_line(Mode::Apply).to_string(),
            "111111111111 eu-west-1 (admin): failed after it created threat_intel_set \
             \"FireHOL-Level1\", deleted filter \"old-rule\": AccessDenied"
        );
        t.changes = ThinVec::new();
        assert_eq!(
            t.log_line(Mode::Apply).to_string(),
            "111111111111 eu-west-1 (admin): failed: AccessDenied"
        );
    }

    fn report(targets: Vec<TargetReport>) -> Report {
        Report {
            mode: Mode::Apply,
            list: ListReport {
                name: "FireHOL-Level1".into(),
                ..ListReport::default()
            },
            lists: vec![ListReport::default()],
            trusted_list: None,
            organization_id: Some("o-abc".into()),
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            waves: Vec::new(),
            warnings: vec!["a \"quoted\" warning".into()],
            retry_of: None,
            summary: Summary::of(&targets),
            targets,
            calls: Default::default(),
        }
    }

    #[test]
    fn resources_and_actions_are_named_as_serde_names_them() {
        use Resource::*;
        for r in [
            ThreatIntelSet,
            IpSet,
            Filter,
            AlertRule,
            AlertTopic,
            BucketPolicy,
        ] {
            assert_eq!(
                serde_json::to_string(&r).expect("serde"),
                format!("\"{}\"", r.as_str())
            );
        }
        for a in [
            Action::Create,
            Action::Update,
            Action::Activate,
            Action::Delete,
            Action::Archive,
        ] {
            assert_eq!(
                serde_json::to_string(&a).expect("serde"),
                format!("\"{}\"", a.as_str())
            );
        }
    }

    #[test]
    fn the_streamed_json_report_is_serdes_text() {
        let mut admin = target("111111111111", "eu-west-1");
        admin.placement = PlacementKind::Admin;
        admin.status = Status::Changed;
        admin.account_name = Some("sécurité \"prod\"\n\u{1}".into());
        admin.note = None;
        admin.changes = ThinVec::from(vec![
            Change {
                resource: Resource::ThreatIntelSet,
                name: "FireHOL-Level1".into(),
                action: Action::Update,
                detail: vec![
                    "location s3://b/old.txt -> s3://b/new.txt".into(),
                    "\t".into(),
                ],
            },
            Change {
                resource: Resource::Filter,
                name: "scanner".into(),
                action: Action::Create,
                detail: Vec::new(),
            },
            Change {
                resource: Resource::AlertTopic,
                name: "a \"quoted\" name".into(),
                action: Action::Delete,
                detail: vec!["one".into(), "two\\".into(), "three".into()],
            },
        ]);
        admin.warnings = ThinVec::from(vec!["pending confirmation".to_owned()]);
        let mut standalone = target("222222222222", "us-east-1");
        standalone.placement = PlacementKind::Standalone;
        standalone.status = Status::Failed;
        standalone.wave = 12;
        standalone.not_run = true;
        standalone.error = Some("AccessDenied: \\ \"x\" </script>".into());
        standalone.note = Some("not an associated member (x)".into());
        standalone.unmanaged = ThinVec::from(vec![Unmanaged {
            resource: Resource::IpSet,
            name: "theirs".into(),
        }]);
        let member = target("333333333333", "eu-west-1");
        let mut other_region = member.clone();
        other_region.region = Region::parse("us-east-1").expect("a Region");
        for targets in [
            Vec::new(),
            vec![member.clone()],
            // Texts repeated from target to target (the same name, note or
            // error), some that need escaping, some not.
            vec![
                admin.clone(),
                admin,
                standalone.clone(),
                standalone,
                member,
                other_region,
            ],
        ] {
            let r = report(targets);
            let mut want = serde_json::to_vec_pretty(&r).expect("serde");
            want.push(b'\n');
            let mut got = Vec::new();
            r.write_json(&mut got).expect("write");
            assert_eq!(
                String::from_utf8(got).expect("utf-8"),
                String::from_utf8(want).expect("utf-8")
            );
        }
    }
}

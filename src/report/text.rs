//! The text renderer: the report for people, the way terraform prints a plan.
//! Pure: it builds a `String` and never writes anywhere.
//!
//! The layout, top to bottom: a header (mode, organization, the list), a
//! legend, one block per `account · region` that has something to say, the
//! coverage table with its gaps, every failure with its reason, and one
//! summary line.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt::{Display, Write as _};

use super::{Action, Change, Mode, Report, Status, TargetReport, Unmanaged, WaveOutcome};

/// Whether to colour (ANSI) the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// No escape codes at all (files, pipes, `NO_COLOR`).
    Plain,
    /// ANSI colours and bold for a terminal.
    Color,
}

/// Render the report for people, the way terraform prints a plan.
pub fn render(report: &Report, style: Style) -> String {
    let paint = Paint(style);
    let mut out = Out::default();
    header(&mut out, report, paint);
    rollout(&mut out, report, paint);
    if report.targets.iter().any(|t| !t.changes.is_empty()) {
        let archives = report
            .targets
            .iter()
            .flat_map(|t| &t.changes)
            .any(|c| c.action == Action::Archive);
        legend(&mut out, report.mode, archives, paint);
    }
    // One sort for every list of targets below.
    let ordered = in_order(report);
    blocks(&mut out, report, &ordered, paint);
    coverage(&mut out, report, &ordered, paint);
    failures(&mut out, &ordered, paint);
    activating(&mut out, report, paint);
    not_run(&mut out, report, paint);
    let per_target: Vec<(String, String)> = report
        .targets
        .iter()
        .flat_map(|t| t.warnings.iter().map(move |w| (key(t), paint.yellow(w))))
        .collect();
    if !report.warnings.is_empty() || !per_target.is_empty() {
        out.blank();
        out.line(paint.bold("Warnings:"));
        for w in &report.warnings {
            out.line(format!("  {}", paint.yellow(w)));
        }
        keyed_lines(&mut out, per_target.into_iter());
    }
    out.blank();
    out.line(summary_line(report, paint));
    if report.summary.api_calls > 0 {
        out.line(format!(
            "{} ({} retried)",
            counted(report.summary.api_calls, "AWS call", "AWS calls"),
            thousands(report.summary.api_retries)
        ));
    }
    out.0
}

/// The text being built, one line at a time.
#[derive(Default)]
struct Out(String);

impl Out {
    fn line(&mut self, line: impl AsRef<str>) {
        self.0.push_str(line.as_ref());
        self.0.push('\n');
    }

    fn blank(&mut self) {
        self.0.push('\n');
    }
}

/// ANSI styling that vanishes in [`Style::Plain`].
#[derive(Clone, Copy)]
struct Paint(Style);

impl Paint {
    fn with(self, code: &str, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 9);
        self.open(&mut out, code);
        out.push_str(text);
        self.close(&mut out);
        out
    }

    fn bold(self, text: &str) -> String {
        self.with("1", text)
    }

    /// The opening escape of `code` (with [`Paint::close`]: the text
    /// between is written in place, not copied).
    fn open(self, out: &mut String, code: &str) {
        if self.0 == Style::Color {
            out.push_str("\x1b[");
            out.push_str(code);
            out.push('m');
        }
    }

    fn close(self, out: &mut String) {
        if self.0 == Style::Color {
            out.push_str("\x1b[0m");
        }
    }

    fn green(self, text: &str) -> String {
        self.with("32", text)
    }

    fn yellow(self, text: &str) -> String {
        self.with("33", text)
    }

    fn red(self, text: &str) -> String {
        self.with("31", text)
    }

    fn bold_red(self, text: &str) -> String {
        self.with("1;31", text)
    }

    /// An action's sign in its colour: green adds, yellow alters, red removes.
    fn sign(self, action: Action) -> String {
        let sign = action.sign().to_string();
        match action {
            Action::Create => self.green(&sign),
            Action::Update | Action::Activate | Action::Archive => self.yellow(&sign),
            Action::Delete => self.red(&sign),
        }
    }
}

/// How many accounts `targets` are in: counted along the targets when they
/// are ordered by account (as a run's are), else through a set.
fn count_accounts(targets: &[TargetReport]) -> usize {
    if targets.is_sorted_by(|a, b| a.account_id <= b.account_id) {
        targets
            .chunk_by(|a, b| a.account_id == b.account_id)
            .count()
    } else {
        targets
            .iter()
            .map(|t| &t.account_id)
            .collect::<BTreeSet<_>>()
            .len()
    }
}

/// Mode, organization, scope and the list.
fn header(out: &mut Out, report: &Report, paint: Paint) {
    let accounts = count_accounts(&report.targets);
    let mut title = format!("guardsync {}", report.mode.as_str());
    if let Some(org) = &report.organization_id {
        title.push_str(&format!(" · organization {org}"));
    }
    title.push_str(&format!(
        " · {} · {}",
        counted(accounts, "account", "accounts"),
        counted(report.regions.len(), "region", "regions"),
    ));
    out.line(paint.bold(&title));
    out.blank();

    let several = report.lists.len() > 1
        || report.trusted_list.is_some()
        || report.lists.iter().any(|l| !l.parts.is_empty());
    if !several {
        list_block(out, &report.list, "List", "", report.mode, paint);
        return;
    }
    for l in &report.lists {
        list_block(out, l, "List", &l.name, report.mode, paint);
    }
    if let Some(t) = &report.trusted_list {
        list_block(out, t, "Trusted list", &t.name, report.mode, paint);
    }
}

/// One list of the header: where it is, what it holds, whether it changed,
/// and the parts of a split list.
fn list_block(
    out: &mut Out,
    list: &crate::report::ListReport,
    what: &str,
    name: &str,
    mode: Mode,
    paint: Paint,
) {
    let sha: String = list.sha256.chars().take(12).collect();
    let head = if name.is_empty() {
        paint.bold(what)
    } else {
        format!("{} {name:?}", paint.bold(what))
    };
    out.line(format!("{head}  {}", list.location));
    out.line(format!(
        "      sha256 {sha} · {} · {}",
        counted(list.entries, "entry", "entries"),
        counted(list.addresses, "address", "addresses"),
    ));
    for p in &list.parts {
        out.line(format!(
            "      part {:?} · {} · {}",
            p.name,
            counted(p.entries, "entry", "entries"),
            p.location
        ));
    }
    let mut content = match (list.changed, mode) {
        (true, Mode::Plan) => format!("{} upload (new content)", paint.green("+")),
        (true, Mode::Apply) => format!("{} uploaded (new content)", paint.green("+")),
        (false, _) => "= unchanged".to_owned(),
    };
    if !list.rebuilt {
        content.push_str(" (feeds not modified, list reused)");
    }
    out.line(format!("      {content}"));
}

/// Every action sign, always these four (and archive when findings are
/// archived), in the mode's tense; shown only when some target has a
/// change, since it explains nothing otherwise.
fn legend(out: &mut Out, mode: Mode, archives: bool, paint: Paint) {
    let actions = [
        Action::Create,
        Action::Update,
        Action::Activate,
        Action::Delete,
    ];
    let items: Vec<String> = actions
        .iter()
        .chain(archives.then_some(&Action::Archive))
        .map(|&a| format!("{} {}", paint.sign(a), verb(a, mode)))
        .collect();
    out.blank();
    out.line(items.join("   "));
}

/// The verb of an action: what will be done (plan) or what was done (apply).
fn verb(action: Action, mode: Mode) -> &'static str {
    match (mode, action) {
        (Mode::Plan, _) => action.as_str(),
        (Mode::Apply, _) => action.past(),
    }
}

/// Whether the target failed, by status or by a recorded error.
fn is_failed(t: &TargetReport) -> bool {
    t.status == Status::Failed || t.error.is_some()
}

/// `ACCOUNT · REGION`, the key of every per-target line.
fn key(t: &TargetReport) -> String {
    Key(t).to_string()
}

/// [`key`], written where it goes (a block's title).
struct Key<'a>(&'a TargetReport);

impl std::fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} · {}", self.0.account_id, self.0.region)
    }
}

/// The error of a failed target, or a stand-in when none was recorded.
fn reason(t: &TargetReport) -> &str {
    t.error.as_deref().unwrap_or("no reason recorded")
}

/// The targets in reading order: by wave (when there are several), then by
/// account, then by Region in the configuration's order (as the coverage
/// table has them).
pub(crate) fn in_order(report: &Report) -> Vec<&TargetReport> {
    // A target's Region's place in the configuration, by the Region's place
    // in GuardDuty's table: looked up once per target, not at every
    // comparison (340,000 targets at 10,000 accounts in 34 Regions).
    let mut region_at = [usize::MAX; crate::config::regions::GUARDDUTY_REGIONS.len()];
    for (i, r) in report.regions.iter().enumerate() {
        if let Some(at) = crate::config::Region::parse(r)
            .ok()
            .and_then(|r| region_at.get_mut(r.index()))
        {
            *at = i;
        }
    }
    let waves = report.waves.len() > 1;
    let mut all: Vec<(u32, usize, &TargetReport)> = report
        .targets
        .iter()
        .map(|t| {
            let wave = if waves { t.wave } else { 0 };
            let region = region_at
                .get(t.region.index())
                .copied()
                .unwrap_or(usize::MAX);
            (wave, region, t)
        })
        .collect();
    if all.is_sorted_by(|(wa, _, a), (wb, _, b)| (wa, &a.account_id) <= (wb, &b.account_id)) {
        // Already by wave and account (as a run's report is): only each
        // account's Regions move.
        for account in
            all.chunk_by_mut(|(wa, _, a), (wb, _, b)| (wa, &a.account_id) == (wb, &b.account_id))
        {
            account.sort_by(|(_, ra, a), (_, rb, b)| (ra, &a.region).cmp(&(rb, &b.region)));
        }
    } else {
        all.sort_by(|(wa, ra, a), (wb, rb, b)| {
            (wa, &a.account_id, ra, &a.region).cmp(&(wb, &b.account_id, rb, &b.region))
        });
    }
    all.into_iter().map(|(_, _, t)| t).collect()
}

/// One block per target with changes, a failure or unmanaged resources.
fn blocks(out: &mut Out, report: &Report, ordered: &[&TargetReport], paint: Paint) {
    let shown = ordered
        .iter()
        .copied()
        .filter(|t| !t.not_run)
        .filter(|t| !t.changes.is_empty() || is_failed(t) || !t.unmanaged.is_empty());
    let waves = report.waves.len() > 1;
    for t in shown {
        out.blank();
        // Written in place: a list that changed everywhere makes a block
        // per managed target (34,000 at 10,000 accounts in 34 Regions).
        let s = &mut out.0;
        paint.open(s, "1");
        let _ = write!(s, "{}  ({}", Key(t), t.placement);
        if let Some(name) = &t.account_name {
            let _ = write!(s, ", {name}");
        }
        if waves {
            let _ = write!(s, ", wave {}", t.wave);
        }
        s.push(')');
        paint.close(s);
        s.push('\n');
        for change in &t.changes {
            change_lines(out, change, report.mode, paint);
        }
        if is_failed(t) {
            out.line(format!(
                "  {}",
                paint.red(&format!("! failed: {}", reason(t)))
            ));
        } else if t.changes.is_empty() {
            out.line("  = no changes");
        }
        for u in &t.unmanaged {
            out.line(unmanaged_line(u));
        }
    }
}

/// `  + threat_intel_set "name"` and its detail lines (after an apply, in
/// the past tense: what was done).
fn change_lines(out: &mut Out, change: &Change, mode: Mode, paint: Paint) {
    let s = &mut out.0;
    let _ = writeln!(
        s,
        "  {} {} \"{}\"",
        paint.sign(change.action),
        change.resource.as_str(),
        change.name
    );
    for detail in &change.detail {
        let _ = match mode {
            Mode::Plan => writeln!(s, "      {detail}"),
            Mode::Apply => writeln!(s, "      {}", done(detail)),
        };
    }
}

/// A plan's detail line as done: the verbs the reconcilers start a detail
/// with, or end one with, put in the past tense (`format TXT, activate` ->
/// `format TXT, activated`; `subscribe a@b (SNS mails ...)` -> `subscribed
/// a@b (SNS mailed ...)`). Lines without such a verb are facts and stay.
fn done(detail: &str) -> Cow<'_, str> {
    const VERBS: [(&str, &str); 8] = [
        ("subscribe ", "subscribed "),
        ("unsubscribe ", "unsubscribed "),
        ("delete ", "deleted "),
        ("remove ", "removed "),
        ("add ", "added "),
        ("move ", "moved "),
        ("activate ", "activated "),
        ("put back ", "put back "),
    ];
    let mut out = Cow::Borrowed(detail);
    for (now, then) in VERBS {
        if let Some(rest) = detail.strip_prefix(now) {
            out = Cow::Owned(format!("{then}{rest}"));
            break;
        }
    }
    if let Some(head) = out.strip_suffix(", activate") {
        out = Cow::Owned(format!("{head}, activated"));
    }
    const MAILS: &str = "(SNS mails a confirmation link";
    if out.contains(MAILS) {
        out = Cow::Owned(out.replace(MAILS, "(SNS mailed a confirmation link"));
    }
    out
}

/// A resource found and left alone.
fn unmanaged_line(u: &Unmanaged) -> String {
    format!(
        "  · unmanaged {} \"{}\" (left alone)",
        u.resource.as_str(),
        u.name
    )
}

/// Every placement, in the order of the coverage table's columns.
const PLACEMENTS: [&str; 8] = [
    "admin",
    "member",
    "standalone",
    "no_detector",
    "other_admin",
    "excluded",
    "region_disabled",
    "unknown",
];

/// Columns shown even when no target has them: the normal shapes of coverage.
const ALWAYS_SHOWN: [&str; 3] = ["admin", "member", "standalone"];

/// `items` in order, then whatever `extra` adds that `items` lacks, in the
/// order it first appears.
fn ordered<'a>(items: &[&'a str], extra: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut all = items.to_vec();
    for x in extra {
        if !all.contains(&x) {
            all.push(x);
        }
    }
    all
}

/// The region × placement table of target counts, its gaps and the
/// standalone reminder.
fn coverage(out: &mut Out, report: &Report, in_reading_order: &[&TargetReport], paint: Paint) {
    let targets = &report.targets;
    // Counted in one pass into a table (340,000 targets at 10,000 accounts
    // in 34 Regions), noting each Region and placement where it first
    // appears.
    const KINDS: usize = PLACEMENTS.len();
    let mut table = vec![[0usize; KINDS]; crate::config::regions::GUARDDUTY_REGIONS.len()];
    let mut by_kind: Vec<((&crate::config::Region, super::PlacementKind), usize)> = Vec::new();
    let mut seen_regions: Vec<&str> = Vec::new();
    let mut seen_placements: Vec<&str> = Vec::new();
    for t in targets {
        let Some(count) = table
            .get_mut(t.region.index())
            .and_then(|row| row.get_mut(t.placement as usize))
        else {
            continue;
        };
        if *count == 0 {
            by_kind.push(((&t.region, t.placement), 0));
            for (seen, x) in [
                (&mut seen_regions, t.region.as_str()),
                (&mut seen_placements, t.placement.as_str()),
            ] {
                if !seen.contains(&x) {
                    seen.push(x);
                }
            }
        }
        *count += 1;
    }
    for ((region, placement), n) in &mut by_kind {
        *n = table
            .get(region.index())
            .and_then(|row| row.get(*placement as usize))
            .copied()
            .unwrap_or(0);
    }
    let mut counts: HashMap<(&str, &str), usize> = HashMap::new();
    let mut totals: HashMap<&str, usize> = HashMap::new();
    for ((region, placement), n) in by_kind {
        *counts
            .entry((region.as_str(), placement.as_str()))
            .or_default() += n;
        *totals.entry(placement.as_str()).or_default() += n;
    }
    let total = |placement: &str| totals.get(placement).copied().unwrap_or(0);

    // Placements outside the documented list still get a column, so every target
    // is counted somewhere.
    let columns: Vec<&str> = ordered(&PLACEMENTS, seen_placements.into_iter())
        .into_iter()
        .filter(|p| ALWAYS_SHOWN.contains(p) || total(p) > 0)
        .collect();
    let report_regions: Vec<&str> = report.regions.iter().map(String::as_str).collect();
    let regions = ordered(&report_regions, seen_regions.into_iter());

    let mut rows: Vec<(String, Vec<usize>)> = regions
        .iter()
        .map(|r| {
            let cells = columns
                .iter()
                .map(|p| counts.get(&(*r, *p)).copied().unwrap_or(0))
                .collect();
            ((*r).to_owned(), cells)
        })
        .collect();
    if regions.len() > 1 {
        rows.push((
            "total".to_owned(),
            columns.iter().map(|p| total(p)).collect(),
        ));
    }

    let first = rows
        .iter()
        .map(|(r, _)| r.chars().count())
        .chain(["region".len()])
        .max()
        .unwrap_or(0);
    out.blank();
    out.line(paint.bold("Coverage (targets by region and placement):"));
    let head: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
    out.line(format!("  {:<first$}  {}", "region", head.join("  ")));
    for (region, cells) in &rows {
        let cells: Vec<String> = columns
            .iter()
            .zip(cells)
            .map(|(c, n)| format!("{:>w$}", thousands(n), w = c.len()))
            .collect();
        out.line(format!("  {region:<first$}  {}", cells.join("  ")));
    }

    gaps(out, report, in_reading_order, paint);
    accounts(out, in_reading_order, paint);
}

/// The accounts a reviewer should know by name: the standalone ones (with
/// why each is not an associated member, and where) and the excluded ones.
fn accounts(out: &mut Out, ordered: &[&TargetReport], paint: Paint) {
    // Account -> (name, [(reason, regions)]), in reading order.
    let mut standalone: Vec<(&str, Option<&str>, Reasons<'_>)> = Vec::new();
    let mut excluded: Vec<(&str, Option<&str>)> = Vec::new();
    // An account's standalone targets mostly share one note: read once.
    let mut last_note: Option<(&str, String)> = None;
    for &t in ordered {
        let name = t.account_name.as_deref();
        match t.placement.as_str() {
            "standalone" => {
                let note = t.note.as_deref().unwrap_or_default();
                let why = match &last_note {
                    Some((n, why)) if *n == note => why.clone(),
                    _ => {
                        let why = standalone_reason(note);
                        last_note = Some((note, why.clone()));
                        why
                    }
                };
                if standalone
                    .last()
                    .is_none_or(|(a, _, _)| *a != t.account_id.as_str())
                {
                    standalone.push((&t.account_id, name, Vec::new()));
                }
                if let Some((_, _, reasons)) = standalone.last_mut() {
                    match reasons.iter_mut().find(|(w, _)| *w == why) {
                        Some((_, regions)) => regions.push(&t.region),
                        None => reasons.push((why, vec![&t.region])),
                    }
                }
            }
            "excluded"
                if excluded
                    .last()
                    .is_none_or(|(a, _)| *a != t.account_id.as_str()) =>
            {
                excluded.push((&t.account_id, name));
            }
            _ => {}
        }
    }
    let label = |id: &str, name: Option<&str>| match name {
        Some(n) => format!("{id} {n}"),
        None => id.to_owned(),
    };
    if !standalone.is_empty() {
        out.blank();
        out.line(paint.bold(
            "Standalone accounts (their own list and rules; their findings are not centralised \
             in the administrator):",
        ));
        let lines = standalone.iter().flat_map(|(id, name, reasons)| {
            reasons.iter().enumerate().map(move |(i, (why, regions))| {
                let key = if i == 0 {
                    label(id, *name)
                } else {
                    String::new()
                };
                let text = if why.is_empty() {
                    regions.join(", ")
                } else {
                    format!("{}: {why}", regions.join(", "))
                };
                (key, text)
            })
        });
        keyed_lines(out, lines);
    }
    if !excluded.is_empty() {
        out.blank();
        out.line(paint.bold("Excluded by configuration (not looked at):"));
        let names: Vec<String> = excluded.iter().map(|(id, n)| label(id, *n)).collect();
        out.line(format!("  {}", names.join(", ")));
    }
}

/// Why, and in which Regions.
type Reasons<'a> = Vec<(String, Vec<&'a str>)>;

/// The reason inside a standalone target's note ("not an associated member
/// (REASON): has its own list; ..."), or the whole note.
fn standalone_reason(note: &str) -> String {
    note.strip_prefix("not an associated member (")
        .and_then(|rest| rest.split_once("): has its own list"))
        .map_or_else(|| note.to_owned(), |(why, _)| why.to_owned())
}

/// `Coverage gaps:` and one line per `no_detector` / `other_admin` target.
/// A retry only looked at the targets it retried: it says so instead.
fn gaps(out: &mut Out, report: &Report, ordered: &[&TargetReport], paint: Paint) {
    let gaps: Vec<&TargetReport> = ordered
        .iter()
        .copied()
        .filter(|t| t.placement.is_coverage_gap())
        .collect();
    out.blank();
    if report.retry_of.is_some() {
        out.line(format!(
            "{} not checked: this run looked only at the {} it retried; `guardsync plan` \
             shows the whole organization",
            paint.bold("Coverage gaps:"),
            counted(report.targets.len(), "target", "targets")
        ));
        return;
    }
    if gaps.is_empty() {
        out.line(format!("{} none", paint.bold("Coverage gaps:")));
        return;
    }
    out.line(paint.bold("Coverage gaps:"));
    let lines = gaps.iter().map(|t| {
        let mut why = String::new();
        paint.open(&mut why, "33");
        let _ = write!(why, "{}", t.placement);
        if let Some(note) = &t.note {
            let _ = write!(why, ": {note}");
        }
        paint.close(&mut why);
        (key(t), why)
    });
    keyed_lines(out, lines);
}

/// `Failed targets:` and every failure with its reason.
/// The waves, when there is more than one, and how each went; and, for a
/// retry, which run it repairs.
fn rollout(out: &mut Out, report: &Report, paint: Paint) {
    if let Some(when) = &report.retry_of {
        out.blank();
        out.line(format!(
            "Retry: only the targets that failed or were not run in the apply of {when}"
        ));
    }
    if report.waves.len() < 2 {
        return;
    }
    out.blank();
    out.line(paint.bold("Rollout:"));
    let width = report
        .waves
        .iter()
        .map(|w| w.selects.chars().count())
        .max()
        .unwrap_or(0);
    let lines = report.waves.iter().map(|w| {
        let outcome = match (w.outcome, report.mode) {
            (WaveOutcome::Done, Mode::Plan) => String::new(),
            (WaveOutcome::Done, Mode::Apply) if w.failed == 0 => "done".to_owned(),
            (WaveOutcome::Done, Mode::Apply) => {
                format!(
                    "done, {} within tolerance",
                    counted(w.failed, "failure", "failures")
                )
            }
            (WaveOutcome::Stopped, _) => paint.red(&format!(
                "stopped the rollout: {} failed",
                thousands(w.failed)
            )),
            (WaveOutcome::NotStarted, _) => paint.yellow("not started"),
        };
        (
            format!("wave {}", w.wave),
            format!(
                "{:<width$}  {:>11}  {outcome}",
                w.selects,
                counted(w.targets, "target", "targets")
            )
            .trim_end()
            .to_owned(),
        )
    });
    keyed_lines(out, lines);
}

/// Targets an earlier wave kept from running, in one list.
fn not_run(out: &mut Out, report: &Report, paint: Paint) {
    let skipped: Vec<&TargetReport> = report.targets.iter().filter(|t| t.not_run).collect();
    if skipped.is_empty() {
        return;
    }
    out.blank();
    out.line(paint.bold_red(&format!(
        "Not run ({}; `guardsync apply --retry-failed` runs them):",
        reason(skipped[0]).trim_start_matches("not run: ")
    )));
    let lines = skipped
        .iter()
        .map(|t| (key(t), format!("({}) wave {}", t.placement, t.wave)));
    keyed_lines(out, lines);
}

fn failures(out: &mut Out, ordered: &[&TargetReport], paint: Paint) {
    let failed: Vec<&TargetReport> = ordered
        .iter()
        .copied()
        .filter(|t| is_failed(t) && !t.not_run)
        .collect();
    if failed.is_empty() {
        return;
    }
    out.blank();
    out.line(paint.bold_red("Failed targets:"));
    let lines = failed.iter().map(|t| {
        let why = format!("({}) {}", t.placement, reason(t));
        (key(t), paint.red(&why))
    });
    keyed_lines(out, lines);
}

/// `  KEY  text` lines with the keys padded to one width.
/// The targets whose list GuardDuty is still loading: not failures, and the
/// next plan or apply looks again.
fn activating(out: &mut Out, report: &Report, paint: Paint) {
    let loading: Vec<&TargetReport> = report
        .targets
        .iter()
        .filter(|t| t.status == Status::Activating)
        .collect();
    if loading.is_empty() {
        return;
    }
    out.blank();
    out.line(paint.bold(
        "Activating (GuardDuty is still loading the list, which can take 15 minutes or more; \
         the next plan or apply checks it):",
    ));
    let lines = loading
        .iter()
        .map(|t| (key(t), format!("({})", t.placement)));
    keyed_lines(out, lines);
}

fn keyed_lines(out: &mut Out, lines: impl Iterator<Item = (String, String)>) {
    let lines: Vec<(String, String)> = lines.collect();
    let width = lines
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (k, text) in lines {
        let _ = writeln!(out.0, "  {k:<width$}  {text}");
    }
}

/// The terraform-like last line, without colour (the Markdown summary's too).
pub(crate) fn plain_summary(report: &Report) -> String {
    summary_line(report, Paint(Style::Plain))
}

/// The terraform-like last line.
fn summary_line(report: &Report, paint: Paint) -> String {
    let s = &report.summary;
    let mut tail = counted(s.coverage_gaps, "coverage gap", "coverage gaps");
    if s.failed > s.not_run {
        tail.push_str(&format!(
            ", {}",
            paint.red(&format!("{} failed", thousands(s.failed - s.not_run)))
        ));
    }
    if s.not_run > 0 {
        tail.push_str(&format!(
            ", {}",
            paint.red(&format!("{} not run", thousands(s.not_run)))
        ));
    }
    if s.activating > 0 {
        tail.push_str(&format!(", {} activating", thousands(s.activating)));
    }
    let across = counted(s.targets, "target", "targets");
    match report.mode {
        Mode::Plan
            if s.creates + s.updates + s.deletes + s.archives == 0
                && !report.any_list_changed() =>
        {
            let ok = s.targets - s.failed;
            let up_to_date = if s.failed > 0 {
                format!("{} of {across} are up to date", thousands(ok))
            } else if ok == 1 {
                format!("{across} is up to date")
            } else {
                format!("{across} are up to date")
            };
            format!("{} {up_to_date}; {tail}.", paint.bold("No changes."))
        }
        Mode::Plan => format!(
            "{} {} to create, {} to update, {} to delete{} across {across}; {tail}.",
            paint.bold("Plan:"),
            thousands(s.creates),
            thousands(s.updates),
            thousands(s.deletes),
            archives(s.archives, "to archive"),
        ),
        Mode::Apply => {
            let label = if s.failed > 0 {
                paint.bold_red("Apply finished with failures:")
            } else {
                paint.bold("Apply complete:")
            };
            format!(
                "{label} {} created, {} updated, {} deleted{} across {across}; {tail}.",
                thousands(s.creates),
                thousands(s.updates),
                thousands(s.deletes),
                archives(s.archives, "archived"),
            )
        }
    }
}

/// `, 2 to archive` when rules archive current findings (archive changes).
fn archives(n: usize, what: &str) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {} {what}", thousands(n))
    }
}

/// `1 target`, `19,712,345 addresses`.
fn counted<N: Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let noun = if n == N::from(1) { one } else { many };
    format!("{} {noun}", thousands(n))
}

/// An unsigned count with a comma every three digits: `19712345` -> `19,712,345`.
pub(crate) fn thousands(n: impl Display) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;
    use crate::report::{ListReport, Resource, Summary};
    use crate::report::{PlacementKind, ThinVec, WaveReport};

    const ADMIN: &str = "111111111111";

    fn list(changed: bool, rebuilt: bool) -> ListReport {
        ListReport {
            sha256: "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8".to_owned(),
            entries: 1934,
            addresses: 19_712_345,
            location: "s3://guardsync-lists/firehol/3f2a9c1b7d4e.txt".to_owned(),
            changed,
            rebuilt,
            name: "FireHOL-Level1".to_owned(),
            parts: Vec::new(),
        }
    }

    /// The kind the report names `name`.
    fn kind(name: &str) -> PlacementKind {
        [
            PlacementKind::Admin,
            PlacementKind::Member,
            PlacementKind::Standalone,
            PlacementKind::NoDetector,
            PlacementKind::OtherAdmin,
            PlacementKind::Excluded,
            PlacementKind::RegionDisabled,
            PlacementKind::Unknown,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
        .expect("a placement name")
    }

    fn target(
        account: &str,
        region: &str,
        placement: &'static str,
        status: Status,
    ) -> TargetReport {
        TargetReport {
            account_id: crate::config::AccountId::parse(account).expect("an account id"),
            account_name: None,
            region: crate::config::Region::parse(region).expect("a Region"),
            placement: kind(placement),
            wave: 1,
            status,
            changes: Default::default(),
            error: None,
            not_run: false,
            warnings: Default::default(),
            note: None,
            unmanaged: Default::default(),
        }
    }

    fn change(resource: Resource, name: &str, action: Action, detail: &[&str]) -> Change {
        Change {
            resource,
            name: name.to_owned(),
            action,
            detail: detail.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    fn report(mode: Mode, list: ListReport, targets: Vec<TargetReport>) -> Report {
        Report {
            mode,
            list,
            organization_id: Some("o-a1b2c3d4e5".to_owned()),
            regions: vec!["eu-west-1".to_owned(), "us-east-1".to_owned()],
            waves: Vec::new(),
            warnings: Vec::new(),
            retry_of: None,
            lists: Vec::new(),
            trusted_list: None,
            summary: Summary::of(&targets),
            calls: Default::default(),
            targets,
        }
    }

    /// An organization with every placement, in two regions.
    fn mixed_targets(status: Status) -> Vec<TargetReport> {
        let mut admin = target(ADMIN, "eu-west-1", "admin", status);
        admin.account_name = Some("security-tooling".into());
        admin.changes = ThinVec::from(vec![
            change(
                Resource::ThreatIntelSet,
                "FireHOL-Level1",
                Action::Create,
                &[
                    "location s3://guardsync-lists/firehol/3f2a9c1b7d4e.txt",
                    "format TXT",
                ],
            ),
            change(
                Resource::Filter,
                "guardsync-firehol-low",
                Action::Create,
                &[],
            ),
            change(
                Resource::BucketPolicy,
                "guardsync-lists",
                Action::Update,
                &["allow read by 2 more accounts"],
            ),
        ]);
        let mut admin_us = target(ADMIN, "us-east-1", "admin", status);
        admin_us.account_name = Some("security-tooling".into());
        admin_us.changes = ThinVec::from(vec![change(
            Resource::ThreatIntelSet,
            "FireHOL-Level1",
            Action::Activate,
            &["status DEACTIVATED -> ACTIVE"],
        )]);
        let member = target("222222222222", "eu-west-1", "member", Status::Unchanged);
        let member_us = target("222222222222", "us-east-1", "member", Status::Unchanged);
        let mut standalone = target("333333333333", "eu-west-1", "standalone", status);
        standalone.account_name = Some("payments-prod".into());
        standalone.changes = ThinVec::from(vec![
            change(
                Resource::ThreatIntelSet,
                "FireHOL-Level1",
                Action::Update,
                &[
                    "location s3://guardsync-lists/firehol/0aa1bb2cc3dd.txt",
                    "      -> s3://guardsync-lists/firehol/3f2a9c1b7d4e.txt",
                ],
            ),
            change(Resource::Filter, "guardsync-old-rule", Action::Delete, &[]),
        ]);
        let mut standalone_us =
            target("333333333333", "us-east-1", "standalone", Status::Unchanged);
        standalone_us.account_name = Some("payments-prod".into());
        standalone_us.unmanaged = ThinVec::from(vec![Unmanaged {
            resource: Resource::ThreatIntelSet,
            name: "partner-list".to_owned(),
        }]);
        let mut failed = target("444444444444", "eu-west-1", "unknown", Status::Failed);
        failed.error = Some(
            "failed to assume role arn:aws:iam::444444444444:role/guardsync-member: AccessDenied"
                .into(),
        );
        let mut no_detector = target("555555555555", "us-east-1", "no_detector", Status::Skipped);
        no_detector.note = Some("GuardDuty is not enabled".into());
        let mut other_admin = target("666666666666", "eu-west-1", "other_admin", Status::Skipped);
        other_admin.note = Some("associated with administrator 999999999999".into());
        let excluded = target("777777777777", "eu-west-1", "excluded", Status::Skipped);
        vec![
            admin,
            admin_us,
            member,
            member_us,
            standalone,
            standalone_us,
            failed,
            no_detector,
            other_admin,
            excluded,
        ]
    }

    #[test_case("format TXT, activate", "format TXT, activated" ; "activate at the end")]
    #[test_case("subscribe a@example.com (SNS mails a confirmation link; no alerts until it is followed)", "subscribed a@example.com (SNS mailed a confirmation link; no alerts until it is followed)" ; "subscribe")]
    #[test_case("unsubscribe b@example.com", "unsubscribed b@example.com" ; "unsubscribe")]
    #[test_case("remove targets t1", "removed targets t1" ; "remove")]
    #[test_case("rank 1 (after the filters already there), action ARCHIVE", "rank 1 (after the filters already there), action ARCHIVE" ; "a fact stays")]
    fn apply_details_read_as_done(plan: &str, apply: &str) {
        assert_eq!(done(plan), apply);
    }

    /// Blocks by account, then Region in the configuration's order (not
    /// alphabetical); with waves, wave 1 first; standalone accounts named
    /// with why; a retry does not claim the organization has no gaps.
    #[test]
    fn reading_order_names_and_retries() {
        let mut a = target("333333333333", "us-east-1", "standalone", Status::Pending);
        a.note = Some(
            "not an associated member (its membership was removed (relationship Removed)): has \
             its own list; its findings are not centralised"
                .into(),
        );
        a.changes = ThinVec::from(vec![change(Resource::Filter, "r", Action::Create, &[])]);
        let mut b = a.clone();
        b.region = crate::config::Region::parse("eu-west-1").expect("a Region");
        let mut c = target(ADMIN, "us-east-1", "admin", Status::Pending);
        c.changes = a.changes.clone();
        c.wave = 2;
        let mut r = report(
            Mode::Plan,
            list(false, false),
            vec![c.clone(), a.clone(), b],
        );
        let text = render(&r, Style::Plain);
        let at = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{needle}:\n{text}"))
        };
        assert!(at("111111111111 · us-east-1") < at("333333333333 · eu-west-1"));
        assert!(at("333333333333 · eu-west-1") < at("333333333333 · us-east-1"));
        assert!(text.contains(
            "  333333333333  eu-west-1, us-east-1: its membership was removed (relationship Removed)"
        ));
        // Waves: wave 1 before wave 2, whatever the account.
        r.waves = vec![
            WaveReport {
                wave: 1,
                selects: "standalone".into(),
                targets: 2,
                failed: 0,
                outcome: WaveOutcome::Done,
            },
            WaveReport {
                wave: 2,
                selects: "rest".into(),
                targets: 1,
                failed: 0,
                outcome: WaveOutcome::Done,
            },
        ];
        let text = render(&r, Style::Plain);
        assert!(text.find("333333333333 · eu-west-1") < text.find("111111111111 · us-east-1"));
        // A retry looked at its own targets only.
        r.retry_of = Some("2026-12-06T00:00:00Z".into());
        let text = render(&r, Style::Plain);
        assert!(
            text.contains(
                "Coverage gaps: not checked: this run looked only at the 3 targets it retried"
            ),
            "{text}"
        );
    }

    #[test]
    fn plan_with_every_placement() {
        let r = report(Mode::Plan, list(true, true), mixed_targets(Status::Pending));
        insta::assert_snapshot!(render(&r, Style::Plain));
    }

    #[test]
    fn plan_without_changes() {
        let mut admin = target(ADMIN, "eu-west-1", "admin", Status::Unchanged);
        admin.account_name = Some("security-tooling".into());
        let mut no_detector = target("555555555555", "eu-west-1", "no_detector", Status::Skipped);
        no_detector.note = Some("GuardDuty is not enabled".into());
        let targets = vec![
            admin,
            target("222222222222", "eu-west-1", "member", Status::Unchanged),
            no_detector,
        ];
        let mut r = report(Mode::Plan, list(false, false), targets);
        r.regions = vec!["eu-west-1".to_owned()];
        r.organization_id = None;
        insta::assert_snapshot!(render(&r, Style::Plain));
    }

    #[test]
    fn apply_with_a_failure() {
        let r = report(
            Mode::Apply,
            list(true, true),
            mixed_targets(Status::Changed),
        );
        insta::assert_snapshot!(render(&r, Style::Plain));
    }

    #[test]
    fn apply_stopped_by_a_canary_wave() {
        let mut canary = target(ADMIN, "us-east-1", "admin", Status::Failed);
        canary.error = Some("GuardDuty could not use the new ThreatIntelSet: status ERROR".into());
        let mut later = target(ADMIN, "eu-west-1", "admin", Status::Failed);
        later.wave = 2;
        later.not_run = true;
        later.error = Some(
            "not run: wave 1 stopped the rollout: 1 of 1 targets failed, \
             rollout.failure_tolerance is 0"
                .into(),
        );
        let mut member = target("222222222222", "eu-west-1", "member", Status::Unchanged);
        member.wave = 2;
        let mut r = report(Mode::Apply, list(true, true), vec![later, canary, member]);
        r.waves = vec![
            WaveReport {
                wave: 1,
                selects: "regions us-east-1".into(),
                targets: 1,
                failed: 1,
                outcome: WaveOutcome::Stopped,
            },
            WaveReport {
                wave: 2,
                selects: "rest".into(),
                targets: 2,
                failed: 0,
                outcome: WaveOutcome::NotStarted,
            },
        ];
        insta::assert_snapshot!(render(&r, Style::Plain));
    }

    #[test]
    fn color_has_escapes_and_plain_has_none() {
        let r = report(Mode::Plan, list(true, true), mixed_targets(Status::Pending));
        assert!(render(&r, Style::Color).contains("\x1b["));
        assert!(!render(&r, Style::Plain).contains('\x1b'));
    }

    #[test_case(Mode::Plan, 0, 0 => "No changes. 3 targets are up to date; 0 coverage gaps."; "plan, nothing")]
    #[test_case(Mode::Plan, 0, 1 => "No changes. 2 of 3 targets are up to date; 0 coverage gaps, 1 failed."; "plan, nothing but a failure")]
    #[test_case(Mode::Plan, 1, 0 => "Plan: 1 to create, 0 to update, 0 to delete across 3 targets; 0 coverage gaps."; "plan, one create")]
    #[test_case(Mode::Apply, 1, 0 => "Apply complete: 1 created, 0 updated, 0 deleted across 3 targets; 0 coverage gaps."; "apply")]
    #[test_case(Mode::Apply, 1, 2 => "Apply finished with failures: 1 created, 0 updated, 0 deleted across 3 targets; 0 coverage gaps, 2 failed."; "apply, failures")]
    fn summary(mode: Mode, creates: usize, failed: usize) -> String {
        let mut r = report(mode, list(false, true), Vec::new());
        r.summary = Summary {
            targets: 3,
            failed,
            creates,
            ..Summary::default()
        };
        summary_line(&r, Paint(Style::Plain))
    }

    #[test]
    fn one_target_one_gap_reads_in_the_singular() {
        let mut r = report(Mode::Plan, list(false, true), Vec::new());
        r.summary = Summary {
            targets: 1,
            coverage_gaps: 1,
            ..Summary::default()
        };
        assert_eq!(
            summary_line(&r, Paint(Style::Plain)),
            "No changes. 1 target is up to date; 1 coverage gap."
        );
    }

    #[test_case(0 => "0")]
    #[test_case(7 => "7")]
    #[test_case(999 => "999")]
    #[test_case(1_000 => "1,000")]
    #[test_case(12_345 => "12,345")]
    #[test_case(123_456 => "123,456")]
    #[test_case(1_234_567 => "1,234,567")]
    #[test_case(u64::MAX => "18,446,744,073,709,551,615")]
    fn thousands_separators(n: u64) -> String {
        thousands(n)
    }
}

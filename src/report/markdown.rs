//! The report as Markdown for a pull request comment (`--format markdown`):
//! the list change, one table row per target that has changes or failed,
//! the failures, the coverage gaps and the totals. Long tables fold into
//! `<details>`; no ANSI codes; rows in a fixed order (account, then Region
//! in the configuration's order), so that two plans diff line by line.
//! Pure.

use std::fmt::Write as _;

use super::text::{in_order, plain_summary, thousands};
use super::{Mode, Report, Status, TargetReport};

/// A table longer than this folds into `<details>`.
const FOLD_AFTER: usize = 10;

/// Render `report` as Markdown.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let title = match report.mode {
        Mode::Plan if s.pending == 0 && s.failed == 0 && !report.any_list_changed() => {
            "no changes".to_owned()
        }
        Mode::Plan => format!("{} targets to change", thousands(s.pending)),
        Mode::Apply => format!("{} targets changed", thousands(s.changed)),
    };
    let failed = if s.failed > 0 {
        format!(", {} failed", thousands(s.failed))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "### guardsync {}: {title}{failed}\n",
        report.mode.as_str()
    );

    let several = report.lists.len() > 1
        || report.trusted_list.is_some()
        || report.lists.iter().any(|l| !l.parts.is_empty());
    let lists: Vec<(&str, &crate::report::ListReport)> = if several {
        report
            .lists
            .iter()
            .map(|l| ("List", l))
            .chain(report.trusted_list.iter().map(|l| ("Trusted list", l)))
            .collect()
    } else {
        vec![("List", &report.list)]
    };
    for (what, l) in lists {
        let sha: String = l.sha256.chars().take(12).collect();
        let change = match (l.changed, report.mode) {
            (true, Mode::Plan) => "new content, to upload",
            (true, Mode::Apply) => "new content, uploaded",
            (false, _) => "unchanged",
        };
        let name = if several {
            format!(" `{}`", cell(&l.name))
        } else {
            String::new()
        };
        let parts = if l.parts.is_empty() {
            String::new()
        } else {
            format!(", in {} parts (one set each)", l.parts.len())
        };
        let _ = writeln!(
            out,
            "**{what}**{name} `{sha}`: {} entries, {} addresses{parts}, {change}  \n`{}`\n",
            thousands(l.entries),
            thousands(l.addresses),
            l.location
        );
    }

    let ordered = in_order(report);
    let changed: Vec<&&TargetReport> = ordered
        .iter()
        .filter(|t| !t.changes.is_empty() || t.status == Status::Failed)
        .collect();
    if changed.is_empty() {
        out.push_str("No target has changes.\n\n");
    } else {
        let mut table = String::from(
            "| account | name | region | placement | changes |\n|---|---|---|---|---|\n",
        );
        for t in &changed {
            let changes: Vec<String> = t
                .changes
                .iter()
                .map(|c| {
                    let verb = match report.mode {
                        Mode::Plan => c.action.as_str(),
                        Mode::Apply => c.action.past(),
                    };
                    format!("{verb} {} `{}`", c.resource.as_str(), cell(&c.name))
                })
                .chain((t.status == Status::Failed).then(|| "**failed** (below)".to_owned()))
                .collect();
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} |",
                t.account_id,
                cell(t.account_name.as_deref().unwrap_or("")),
                t.region,
                t.placement.as_str(),
                changes.join("<br>")
            );
        }
        fold(
            &mut out,
            &format!("Targets with changes: {}", thousands(changed.len())),
            &table,
            changed.len(),
        );
    }

    let failures: Vec<&&TargetReport> = ordered
        .iter()
        .filter(|t| t.status == Status::Failed)
        .collect();
    if !failures.is_empty() {
        let table = why_table(&failures, "error", |t| {
            t.error.as_deref().unwrap_or("no reason recorded")
        });
        fold(
            &mut out,
            &format!("Failed: {}", thousands(failures.len())),
            &table,
            failures.len(),
        );
    }

    let gaps: Vec<&&TargetReport> = ordered
        .iter()
        .filter(|t| t.placement.is_coverage_gap())
        .collect();
    if report.retry_of.is_some() {
        out.push_str(
            "Coverage gaps: not checked (this run retried the targets that failed; \
             `guardsync plan` shows the whole organization).\n\n",
        );
    } else if gaps.is_empty() {
        out.push_str("Coverage gaps: none.\n\n");
    } else {
        let table = why_table(&gaps, "why", |t| t.note.as_deref().unwrap_or(""));
        // Gaps are known and often long: always folded.
        let _ = write!(
            out,
            "<details><summary>Coverage gaps: {}</summary>\n\n{table}\n</details>\n\n",
            thousands(gaps.len())
        );
    }

    let _ = writeln!(
        out,
        "**Totals:** {} ({} AWS calls, {} retried)",
        plain_summary(report),
        thousands(s.api_calls),
        thousands(s.api_retries)
    );
    out
}

/// `| account | region | placement | COLUMN |`, one row per target, the
/// last cell from `why`.
fn why_table(
    targets: &[&&TargetReport],
    column: &str,
    why: impl Fn(&TargetReport) -> &str,
) -> String {
    let mut table = format!("| account | region | placement | {column} |\n|---|---|---|---|\n");
    for t in targets {
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} |",
            t.account_id,
            t.region,
            t.placement.as_str(),
            cell(why(t))
        );
    }
    table
}

/// A table under a bold title, folded into `<details>` when long.
fn fold(out: &mut String, title: &str, table: &str, rows: usize) {
    if rows > FOLD_AFTER {
        let _ = write!(
            out,
            "<details><summary>{title}</summary>\n\n{table}\n</details>\n\n"
        );
    } else {
        let _ = write!(out, "**{title}**\n\n{table}\n");
    }
}

/// Text safe in a table cell: no line breaks, `|` escaped, no HTML.
fn cell(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc <x>"), "a\\|b c &lt;x&gt;");
    }
}

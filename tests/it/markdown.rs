//! `--format markdown`, the summary for a pull request comment: snapshots of
//! a first plan, its apply, a plan with nothing to do, and an apply with a
//! failed target, against the emulator's organizations. Rows come in a
//! fixed order whatever order the targets finished in, so the snapshots are
//! stable (and two plans diff line by line); no ANSI escape anywhere.

use crate::common::emulator;
use crate::common::gs::{config, guardsync, seed_demo, seed_fast};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const RULE: &str = "suppression_rules:\n  - name: internal-scanner\n    rank: 1\n    \
                    criteria:\n      type: { equals: [\"Recon:EC2/Portscan\"] }\n";

fn markdown(emu: &crate::common::Emulator, cmd: &str, cfg: &std::path::Path, code: i32) -> String {
    let c = cfg.to_str().expect("utf-8");
    let out = guardsync(emu, &[cmd, "--config", c, "--format", "markdown"]);
    assert_eq!(out.code, code, "{cmd}: {}", out.stderr);
    assert!(
        !out.stdout.contains('\x1b'),
        "ANSI escape in:\n{}",
        out.stdout
    );
    // The number of calls depends on timing (polls while GuardDuty loads a
    // list); docs/CALLS.md's tests count them exactly.
    out.stdout
        .lines()
        .map(|l| match l.rfind(" (") {
            Some(at) if l.starts_with("**Totals:**") && l.ends_with(" retried)") => {
                format!("{} (N AWS calls)", &l[..at])
            }
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[tokio::test]
async fn plan_apply_and_no_changes() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "", "", RULE);
    insta::assert_snapshot!("markdown_first_plan", markdown(emu, "plan", &cfg, 0));
    insta::assert_snapshot!("markdown_apply", markdown(emu, "apply", &cfg, 0));
    insta::assert_snapshot!("markdown_no_changes", markdown(emu, "plan", &cfg, 0));
}

#[tokio::test]
async fn an_apply_with_a_failed_target() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_fast(emu, "failures").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "", "", RULE);
    insta::assert_snapshot!("markdown_failure", markdown(emu, "apply", &cfg, 3));
}

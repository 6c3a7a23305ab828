//! `guardsync report --html`: the page of a real apply on the demo
//! organization, from its JSON report and from the run record in the
//! bucket; what the command says without an input, without a record and
//! with a file that is not a report; and the page as a real browser
//! (Debian's chromium, headless) sees and draws it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::gs::{BUCKET, config, guardsync, run, seed_demo};
use crate::common::run::Run;
use crate::common::{Emulator, emulator, python, repo};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

/// The demo's configuration (config/demo.yaml's scope: one account excluded).
fn demo_config(dir: &Path) -> PathBuf {
    config(
        dir,
        &REGIONS,
        "",
        "",
        "organization:\n  exclude_accounts: [\"131313131313\"]\n",
    )
}

/// `cmd` (plan or apply) with `--format json` on the emulator's current
/// organization; its JSON report, also written to `dir/CMD.json`.
fn json_run(emu: &Emulator, cmd: &str, cfg: &Path, code: i32) -> (PathBuf, Value) {
    let out = run(emu, cmd, cfg);
    assert_eq!(out.code, code, "{cmd}: {}", out.stderr);
    let path = cfg.with_file_name(format!("{cmd}.json"));
    std::fs::write(&path, &out.stdout).expect("write the report");
    (path, out.json())
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every account id and every Region of `report` is in `page`.
fn assert_complete(page: &str, report: &Value) {
    let targets = report["targets"].as_array().expect("targets");
    assert!(!targets.is_empty());
    for t in targets {
        let id = t["account_id"].as_str().expect("account_id");
        assert!(page.contains(id), "account {id} is not in the page");
    }
    for r in report["regions"].as_array().expect("regions") {
        let r = r.as_str().expect("region");
        assert!(page.contains(r), "Region {r} is not in the page");
    }
}

#[tokio::test]
async fn html_from_the_json_report_and_from_the_run_record() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = demo_config(dir.path());
    let page = dir.path().join("report.html");

    // Before any apply there is no record to show.
    let out = guardsync(emu, &["report", "--html", s(&page), "--config", s(&cfg)]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let record = format!("s3://{BUCKET}/guardduty/state/last-run.json");
    assert!(
        out.stderr
            .contains(&format!("failed to find a run record at {record}"))
            && out.stderr.contains("run `guardsync apply` first"),
        "{}",
        out.stderr
    );
    assert!(!page.exists());

    // A plan: what apply would change.
    let (json, report) = json_run(emu, "plan", &cfg, 0);
    let out = guardsync(emu, &["report", "--html", s(&page), "--from", s(&json)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = std::fs::read_to_string(&page).expect("the page");
    assert_complete(&html, &report);
    assert!(html.contains("guardsync plan report"));
    assert!(html.contains("pending (changes to make)"));
    assert!(html.contains("title=\"standalone, pending\">S~</td>"));

    let (json, report) = json_run(emu, "apply", &cfg, 0);

    // From the JSON report: names too.
    let out = guardsync(emu, &["report", "--html", s(&page), "--from", s(&json)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.starts_with("wrote "), "{}", out.stderr);
    let html = std::fs::read_to_string(&page).expect("the page");
    assert_complete(&html, &report);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("guardsync apply report"));
    for name in ["security", "shop-prod", "partner-managed", "legacy-lab"] {
        assert!(html.contains(name), "{name}");
    }
    assert!(html.contains(report["list"]["sha256"].as_str().expect("sha256")));
    assert!(html.contains("title=\"standalone, changed\">S+</td>"));
    // No failure; the gaps with their reasons; the standalone accounts.
    assert!(html.contains("<p>No target failed.</p>"));
    assert!(html.contains("no_detector") && html.contains("other_admin"));
    assert!(html.contains("associated with another GuardDuty administrator, 123412341234"));
    assert!(html.contains("<h2 id=\"standalone\">Standalone accounts</h2>"));
    assert!(html.contains("fully covered as members"));

    // The same report on stdin, and the page on stdout.
    let mut child = Command::new(env!("CARGO_BIN_EXE_guardsync"))
        .args(["report", "--html", "-", "--from", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run guardsync");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&std::fs::read(&json).expect("read"))
        .expect("write stdin");
    let out = Run::from(child.wait_with_output().expect("wait"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_complete(&out.stdout, &report);
    assert!(
        out.stdout
            .contains("not in the JSON report (read from stdin)")
    );

    // From the run record in the bucket: ids, no names.
    let from_record = dir.path().join("record.html");
    let out = guardsync(
        emu,
        &["report", "--html", s(&from_record), "--config", s(&cfg)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = std::fs::read_to_string(&from_record).expect("the page");
    assert_complete(&html, &report);
    assert!(html.contains(&format!("the run record {record}")));
    assert!(html.contains("The run record has no account names"));
    assert!(
        html.contains("<dt>When</dt><dd>finished 20"),
        "the record's time"
    );
    assert!(html.contains("title=\"standalone, changed\">S+</td>"));

    // The record downloaded from the bucket reads as well.
    let object = crate::common::gs::s3(emu)
        .await
        .get_object()
        .bucket(BUCKET)
        .key("guardduty/state/last-run.json")
        .send()
        .await
        .expect("get the run record");
    let bytes = object
        .body
        .collect()
        .await
        .expect("record body")
        .into_bytes();
    let file = dir.path().join("last-run.json");
    std::fs::write(&file, &bytes).expect("write the record");
    let out = guardsync(emu, &["report", "--html", s(&page), "--from", s(&file)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = std::fs::read_to_string(&page).expect("the page");
    assert_complete(&html, &report);
    assert!(html.contains(&format!("the run record {}", file.display())));
}

#[test]
fn html_usage_errors_name_what_to_pass_and_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("out.html");
    let bare = |args: &[&str]| {
        Run::from(
            Command::new(env!("CARGO_BIN_EXE_guardsync"))
                .args(args)
                .output()
                .expect("run guardsync"),
        )
    };
    let out = bare(&["report", "--html", s(&page)]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("pass --from FILE") && out.stderr.contains("or --config FILE"),
        "{}",
        out.stderr
    );

    let missing = dir.path().join("nope.json");
    let out = bare(&["report", "--html", s(&page), "--from", s(&missing)]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("failed to read {}", missing.display()))
    );

    let wrong = dir.path().join("wrong.json");
    std::fs::write(&wrong, r#"{"mode": "plan", "targets": []}"#).expect("write");
    let out = bare(&["report", "--html", s(&page), "--from", s(&wrong)]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "failed to read {}: not a guardsync JSON report",
            wrong.display()
        )) && out.stderr.contains("missing field `list`"),
        "{}",
        out.stderr
    );
    assert!(!page.exists());

    let config = dir.path().join("missing.yaml");
    let out = bare(&["report", "--html", s(&page), "--config", s(&config)]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&config.display().to_string()),
        "{}",
        out.stderr
    );
}

/// Debian's chromium; the test fails without it: CI installs it
/// (scripts/setup --lint, which scripts/test runs).
fn chromium() -> PathBuf {
    let found = std::env::var_os("GUARDSYNC_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|d| d.join("chromium"))
                .find(|p| p.is_file())
        });
    match found {
        Some(p) if p.is_file() => p,
        _ => panic!(
            "chromium is not installed: run scripts/setup --lint (as root on Debian it runs \
             apt-get install --no-install-recommends chromium), or set GUARDSYNC_CHROMIUM; \
             the browser test of `guardsync report --html` needs it"
        ),
    }
}

/// Run headless chromium on `url` with `args`, in a profile of its own.
fn headless(profile: &Path, args: &[&str], url: &str) -> Run {
    Run::from(
        Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .arg(url)
            .output()
            .expect("run chromium"),
    )
}

#[tokio::test]
async fn html_in_a_real_browser() {
    let browser = chromium();
    let dir = tempfile::tempdir().expect("tempdir");
    // The demo organization where 444444444444 refuses guardsync's
    // AssumeRole in eu-west-1: one failure, as scripts/demo shows it.
    let (json, report) = {
        let emu = emulator();
        let _guard = emu.lock().await;
        crate::common::gs::seed_fast(emu, "failures").await;
        json_run(emu, "apply", &demo_config(dir.path()), 3)
    };
    assert!(!crate::common::gs::failures(&report).is_empty());
    let page = dir.path().join("report.html");
    let out = guardsync(
        emulator(),
        &["report", "--html", s(&page), "--from", s(&json)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");

    // The DOM as the browser built it, after the page's script ran: every
    // account and Region, and the filters shown (the script ran through).
    let dom = headless(&profile, &["--dump-dom"], &url);
    assert_eq!(dom.code, 0, "{}: {}", browser.display(), dom.stderr);
    assert_complete(&dom.stdout, &report);
    assert!(
        dom.stdout
            .contains("<div id=\"filters\" class=\"filters\"><label>"),
        "the filters are still hidden: the script did not run\n{}",
        dom.stderr
    );
    // A filter in the address: only the failed accounts' rows stay.
    let failed = headless(&profile, &["--dump-dom"], &format!("{url}#st=f"));
    assert_eq!(failed.code, 0, "{}", failed.stderr);
    let rows = |dom: &str, hidden: bool| {
        dom.lines()
            .filter(|l| l.starts_with("<tr data-k="))
            .filter(|l| l.contains(" hidden=\"\"") == hidden)
            .count()
    };
    assert!(rows(&failed.stdout, false) >= 1, "{}", failed.stdout);
    assert!(rows(&failed.stdout, true) >= 1, "{}", failed.stdout);
    assert_eq!(rows(&dom.stdout, true), 0);
    // And one by name: a single row.
    let named = headless(&profile, &["--dump-dom"], &format!("{url}#q=shop-dev"));
    assert_eq!(named.code, 0, "{}", named.stderr);
    assert_eq!(rows(&named.stdout, false), 1, "{}", named.stdout);

    // What it draws: a screenshot that is not blank.
    let png = dir.path().join("report.png");
    let shot = headless(
        &profile,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1400,1000",
        ],
        &url,
    );
    assert_eq!(shot.code, 0, "{}", shot.stderr);
    let check = Run::from(
        Command::new(python())
            .arg(repo().join("tests/png_check.py"))
            .arg(&png)
            .args(["--min-colours", "64", "--max-share", "0.97"])
            .output()
            .expect("run tests/png_check.py"),
    );
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    let seen: Value = serde_json::from_str(&check.stdout).expect("png_check's JSON");
    assert_eq!(seen["width"], 1400, "{seen}");
}

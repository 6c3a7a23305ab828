//! `docs/report.schema.json` describes the JSON report exactly: real reports
//! of plan and apply (changes, failures, a second apply without changes)
//! validate against it, and a report with an unknown key or a wrong enum
//! value does not. Validated by `docs/validate_report.py` (jsonschema, in
//! the emulator's venv).

use std::path::Path;
use std::process::Command;

use crate::common::gs::{config, run};
use crate::common::run::Run;
use crate::common::{emulator, python, repo};
use serde_json::Value;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

fn validate(reports: &[&Path]) -> Run {
    Run::from(
        Command::new(python())
            .arg(repo().join("docs/validate_report.py"))
            .arg(repo().join("docs/report.schema.json"))
            .args(reports)
            .output()
            .expect("run docs/validate_report.py"),
    )
}

#[tokio::test]
async fn real_reports_validate_and_a_wrong_one_does_not() {
    let emu = emulator();
    let _guard = emu.lock().await;
    crate::common::gs::seed_fast(emu, "failures").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        &REGIONS,
        "",
        "",
        "alerts:\n  min_severity: 7\n  emails: [secops@example.com]\n\
         rollout:\n  waves:\n    - regions: [us-east-1]\n    - rest\n  failure_tolerance: 5\n",
    );
    let mut files = Vec::new();
    for (i, (cmd, code)) in [("plan", 3), ("apply", 3), ("apply", 3), ("plan", 3)]
        .into_iter()
        .enumerate()
    {
        let out = run(emu, cmd, &cfg);
        assert_eq!(out.code, code, "{cmd}: {}", out.stderr);
        let path = dir.path().join(format!("{i}-{cmd}.json"));
        std::fs::write(&path, &out.stdout).expect("write the report");
        files.push(path);
    }
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let ok = validate(&paths);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);

    // The schema is strict: an unknown key, a wrong enum value.
    let mut report: Value =
        serde_json::from_slice(&std::fs::read(&files[1]).expect("read")).expect("JSON");
    report["targets"][0]["colour"] = "blue".into();
    report["summary"]["changed"] = (-1).into();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, report.to_string()).expect("write");
    let out = validate(&[&bad]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("$.targets[0]"), "{}", out.stderr);
    assert!(out.stderr.contains("$.summary.changed"), "{}", out.stderr);
}

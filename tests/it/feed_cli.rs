//! `guardsync list merge` and `guardsync list build` as whole processes:
//! stdout, stderr and exit codes as the README's Commands and Exit codes pins them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/firehol")
        .join(name)
}

fn guardsync(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guardsync"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run guardsync");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

#[test]
fn merge_is_byte_identical_to_iprange() {
    let l1 = fixture("firehol_level1.netset");
    let l2 = fixture("firehol_level2.netset");
    let wc = fixture("firehol_webclient.netset");
    let (l1, l2, wc) = (
        l1.to_str().expect("utf-8"),
        l2.to_str().expect("utf-8"),
        wc.to_str().expect("utf-8"),
    );
    let out = guardsync(&["list", "merge", l1, l2, "--except", wc], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout,
        crate::common::iprange::run(&[l1, l2, "--except", wc])
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn merge_reads_stdin_as_dash() {
    let out = guardsync(&["list", "merge", "-"], Some(b"10.0.0.1\n10.0.0.0\n# c\n"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"10.0.0.0/31\n");
}

#[test]
fn merge_of_a_missing_file_exits_2() {
    let out = guardsync(&["list", "merge", "/nonexistent/list"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed to read /nonexistent/list"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn merge_warns_about_bad_lines_and_goes_on() {
    let out = guardsync(&["list", "merge", "-"], Some(b"1.2.3\n1.2.3.4\n"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"1.2.3.4\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("-:1: skipped: fewer than four octets"),
        "{stderr}"
    );
}

fn config(dir: &Path, threat_list_extra: &str) -> PathBuf {
    let fixtures = fixture("");
    let text = format!(
        r#"admin:
  account_id: "111111111111"
organization:
  member_role: GuardSyncMemberRole
regions: [us-east-1]
feeds:
  - name: level1
    url: file://{}/firehol_level1.netset
threat_list:
  name: FireHOL-Level1
  allowlist: ["2.56.247.0/24"]
{threat_list_extra}
bucket:
  name: org-threat-lists-111111111111
  region: us-east-1
"#,
        fixtures.display().to_string().trim_end_matches('/')
    );
    let path = dir.join("guardsync.yaml");
    std::fs::write(&path, text).expect("write config");
    path
}

#[test]
fn build_writes_the_list_and_prints_a_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "  max_age_hours: null");
    let list = dir.path().join("list.txt");
    let out = guardsync(
        &[
            "list",
            "build",
            "--config",
            cfg.to_str().expect("utf-8"),
            "--out",
            list.to_str().expect("utf-8"),
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&list).expect("list written");
    assert!(stdout.contains("feed level1 (file://"), "{stdout}");
    assert!(stdout.contains("1947 entries"), "{stdout}");
    assert!(
        stdout.contains("file date 2024-01-23T09:17:57Z"),
        "{stdout}"
    );
    assert!(
        stdout.contains("removed 592708608 reserved and 256 allowlisted addresses"),
        "{stdout}"
    );
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    assert!(
        stdout.contains(&format!("list: {lines} entries")),
        "{stdout}"
    );
    assert!(!bytes.starts_with(b"0.0.0.0/8"), "reserved space stripped");
}

#[test]
fn build_to_stdout_keeps_the_summary_on_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "  max_age_hours: null");
    let out = guardsync(
        &[
            "list",
            "build",
            "--config",
            cfg.to_str().expect("utf-8"),
            "--out",
            "-",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.starts_with(b"1.10.16.0/20\n"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sha256 "));
}

#[test]
fn build_with_a_stale_feed_aborts_with_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "  max_age_hours: 48");
    let out = guardsync(
        &["list", "build", "--config", cfg.to_str().expect("utf-8")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("guard max_age_hours tripped: feed level1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the last published list stays in force"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

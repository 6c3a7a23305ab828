//! Crash safety, interruption and one run at a time (issue #8, parts 3-4),
//! with real processes against the emulator's demo organization:
//!
//! - SIGKILL at many points of an apply: the next run converges, with no
//!   duplicate set or filter and no set pointing at a missing object;
//! - SIGINT: no new target starts, the ones in flight finish, the rest are
//!   reported as not started, the lease is given back, and `--retry-failed`
//!   finishes the job;
//! - two applies at once: the second is refused by the lease and changes
//!   nothing; a lease left by a dead run expires; `plan` takes no lease.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::gs::{RUN_RECORD, config, emulator_env, mutating_calls, run, seed_demo};
use crate::common::run::Run;
use crate::common::{ADMIN, Emulator, emulator};
use serde_json::Value;

const BUCKET: &str = "org-threat-lists-111111111111";
const LEASE: &str = "guardduty/state/lease.json";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// The demo organization, with sets activating after `activation_ms`, and
/// a configuration for it (keep the directory alive while it is used).
async fn start(emu: &Emulator, activation_ms: u64) -> (tempfile::TempDir, PathBuf) {
    seed_demo(emu).await;
    emu.configure(serde_json::json!({ "activation_delay_ms": activation_ms }))
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = crash_config(dir.path());
    (dir, cfg)
}

fn crash_config(dir: &Path) -> PathBuf {
    config(
        dir,
        &REGIONS,
        "",
        "",
        "organization:\n  exclude_accounts: [\"131313131313\"]\n\
         suppression_rules:\n  - name: internal-scanner\n    rank: 1\n    criteria:\n      type: { equals: [\"Recon:EC2/Portscan\"] }\n",
    )
}

/// `guardsync apply` started in the background, JSON on stdout.
fn spawn_apply(emu: &Emulator, cfg: &Path, extra: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guardsync"));
    emulator_env(&mut cmd, emu)
        .args([
            "apply",
            "--config",
            cfg.to_str().expect("utf-8"),
            "--format",
            "json",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start guardsync apply")
}

fn finish(child: Child) -> Run {
    Run::from(child.wait_with_output().expect("wait for guardsync"))
}

fn s3(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}

async fn lease_exists(emu: &Emulator) -> bool {
    s3(&emu.sdk("us-east-1").await)
        .head_object()
        .bucket(BUCKET)
        .key(LEASE)
        .send()
        .await
        .is_ok()
}

/// Every managed detector: name -> count of sets and filters, and whether
/// each set's object exists.
async fn inventory(emu: &Emulator) -> BTreeMap<String, (usize, usize, bool)> {
    let client = s3(&emu.sdk("us-east-1").await);
    let mut out = BTreeMap::new();
    for account in [ADMIN, "777777777777", "444444444444"] {
        for region in REGIONS {
            let v = emu.guardduty(account, region).await;
            let sets: Vec<&Value> = v["threat_intel_sets"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            if v["detector_id"].is_null() || (account == "444444444444" && region == "us-east-1") {
                continue;
            }
            let mut objects_exist = true;
            for s in &sets {
                let location = s["location"].as_str().unwrap_or_default();
                let key = location
                    .split_once(&format!("{BUCKET}/"))
                    .map(|(_, k)| k.to_owned())
                    .unwrap_or_default();
                objects_exist &= client
                    .head_object()
                    .bucket(BUCKET)
                    .key(&key)
                    .send()
                    .await
                    .is_ok();
            }
            let filters = v["filters"].as_array().map_or(0, Vec::len);
            out.insert(
                format!("{account} {region}"),
                (sets.len(), filters, objects_exist),
            );
        }
    }
    out
}

fn converged() -> BTreeMap<String, (usize, usize, bool)> {
    [
        "111111111111 eu-west-1",
        "111111111111 us-east-1",
        "444444444444 eu-west-1",
        "777777777777 eu-west-1",
        "777777777777 us-east-1",
    ]
    .into_iter()
    .map(|k| (k.to_owned(), (1, 1, true)))
    .collect()
}

#[tokio::test]
async fn killed_at_any_point_the_next_run_converges() {
    let emu = emulator();
    let _guard = emu.lock().await;
    let (_dir, cfg) = start(emu, 150).await;
    // A dead run's lease expires after 1 s here (30 min by default).
    let env = [("GUARDSYNC_LEASE_TTL_SECS", "1")];
    // Fixed points, from before the first write to the middle of activations.
    for delay_ms in [30, 120, 250, 400, 600, 900, 1300] {
        let mut child = spawn_apply(emu, &cfg, &["--concurrency", "2"], &env);
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().expect("SIGKILL guardsync");
        let _ = child.wait();
        std::thread::sleep(Duration::from_millis(1100));
    }
    let out = finish(spawn_apply(emu, &cfg, &[], &env));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(inventory(emu).await, converged());
    emu.clear_calls().await;
    let again = finish(spawn_apply(emu, &cfg, &[], &env));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(mutating_calls(emu).await, [RUN_RECORD]);
}

#[tokio::test]
async fn sigint_stops_starting_targets_and_retry_failed_finishes_the_job() {
    let emu = emulator();
    let _guard = emu.lock().await;
    // Each set takes 1.5 s to activate; one target at a time.
    let (_dir, cfg) = start(emu, 1500).await;
    let child = spawn_apply(emu, &cfg, &["--concurrency", "1"], &[]);
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("send SIGINT");
    assert!(status.success());
    let out = finish(child);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    let managed: Vec<&Value> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["placement"] == "admin" || t["placement"] == "standalone")
        .collect();
    let done = managed.iter().filter(|t| t["status"] == "changed").count();
    let stopped = managed
        .iter()
        .filter(|t| {
            t["not_run"] == true
                && t["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("not started: guardsync was interrupted"))
        })
        .count();
    assert!(done >= 1, "the target in flight finished: {report}");
    assert!(stopped >= 1, "later targets did not start: {report}");
    assert_eq!(done + stopped, managed.len(), "{report}");
    assert!(out.stderr.contains("stop requested"), "{}", out.stderr);
    assert!(!lease_exists(emu).await, "the lease was given back");

    emu.configure(serde_json::json!({"activation_delay_ms": 20}))
        .await;
    let c = cfg.to_str().expect("utf-8");
    let retry = crate::common::gs::guardsync(
        emu,
        &["apply", "--config", c, "--retry-failed", "--format", "json"],
    );
    assert_eq!(retry.code, 0, "{}\n{}", retry.stdout, retry.stderr);
    assert_eq!(inventory(emu).await, converged());
}

#[tokio::test]
async fn two_applies_never_interleave() {
    let emu = emulator();
    let _guard = emu.lock().await;
    let (_dir, cfg) = start(emu, 1500).await;
    let first = spawn_apply(emu, &cfg, &[], &[]);
    // Wait until the first run holds the lease.
    for _ in 0..100 {
        if lease_exists(emu).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(lease_exists(emu).await, "the first apply took the lease");
    let second = run(emu, "apply", &cfg);
    assert_eq!(second.code, 1, "{}\n{}", second.stdout, second.stderr);
    assert!(
        second.stderr.contains(&format!(
            "another guardsync run holds the lease s3://{BUCKET}/{LEASE} (apply by "
        )),
        "{}",
        second.stderr
    );
    assert!(
        second
            .stderr
            .contains(&format!("aws s3 rm s3://{BUCKET}/{LEASE}")),
        "{}",
        second.stderr
    );
    // plan takes no lease and runs beside an apply.
    let plan = run(emu, "plan", &cfg);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let first = finish(first);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(!lease_exists(emu).await, "released at the end");
}

#[tokio::test]
async fn a_lease_left_by_a_dead_run_expires_and_a_foreign_one_is_explained() {
    let emu = emulator();
    let _guard = emu.lock().await;
    let (_dir, cfg) = start(emu, 20).await;
    let client = s3(&emu.sdk("us-east-1").await);
    let put = |body: String| {
        let client = client.clone();
        async move {
            client
                .put_object()
                .bucket(BUCKET)
                .key(LEASE)
                .body(body.into_bytes().into())
                .send()
                .await
                .expect("put a lease");
        }
    };
    // Expired an hour ago: taken over, with a warning.
    put(r#"{"owner": "dead-host/pid 1/00000000", "command": "apply", "acquired_at": "2026-01-01T00:00:00Z", "expires_unix": 1767229200}"#.to_owned()).await;
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the run lease lapsed without being released"),
        "{}",
        out.stderr
    );
    assert!(!lease_exists(emu).await);
    // Not guardsync's: never expires; the message says to delete it.
    put("garbage".to_owned()).await;
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the lease object is not guardsync's JSON"),
        "{}",
        out.stderr
    );
}

/// The lease of a live run is renewed (its heartbeat) and never taken over,
/// however long the run takes; the lease of a killed run lapses within its
/// time to live of the kill (3 s here, 2 minutes by default), and the next
/// apply takes it over without anyone deleting it.
#[tokio::test]
async fn a_live_run_keeps_its_lease_and_a_killed_one_lets_it_lapse() {
    let emu = emulator();
    let _guard = emu.lock().await;
    // Sets take 15 s to load: the first apply waits for them, holding the lease.
    let (_dir, cfg) = start(emu, 15_000).await;
    let ttl = 3;
    let env = [("GUARDSYNC_LEASE_TTL_SECS", "3")];
    let mut first = spawn_apply(emu, &cfg, &[], &env);
    for _ in 0..200 {
        if lease_exists(emu).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let taken = lease(emu).await;
    // Two lifetimes later the first run still holds its lease, renewed.
    tokio::time::sleep(Duration::from_secs(2 * ttl + 1)).await;
    assert_eq!(
        first.try_wait().expect("poll"),
        None,
        "the first apply still runs"
    );
    let second = finish(spawn_apply(emu, &cfg, &[], &env));
    assert_eq!(second.code, 1, "{}\n{}", second.stdout, second.stderr);
    assert!(
        second
            .stderr
            .contains("another guardsync run holds the lease"),
        "{}",
        second.stderr
    );
    let renewed = lease(emu).await;
    assert_eq!(renewed["owner"], taken["owner"], "never taken over");
    assert!(renewed["renewed_at"].is_string(), "{renewed}");
    assert!(renewed["expires_unix"].as_u64() > taken["expires_unix"].as_u64());

    // SIGKILL: nothing gives the lease back.
    first.kill().expect("kill the first apply");
    first.wait().expect("reap it");
    let killed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let dead = lease(emu).await;
    assert_eq!(dead["owner"], taken["owner"]);
    let lapses = dead["expires_unix"].as_u64().expect("expires_unix");
    assert!(
        lapses <= killed + ttl,
        "lapses at {lapses}, killed at {killed}"
    );
    // The next apply is refused only until then, and takes the lease over.
    let mut refused = 0;
    let out = loop {
        let out = finish(spawn_apply(emu, &cfg, &[], &env));
        if out.code != 1 || !out.stderr.contains("holds the lease") {
            break out;
        }
        refused += 1;
        assert!(refused < 60, "still refused: {}", out.stderr);
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("the run lease lapsed without being released"),
        "{}",
        out.stderr
    );
    assert!(!lease_exists(emu).await, "given back at the end");
}

/// The lease object as JSON.
async fn lease(emu: &Emulator) -> Value {
    serde_json::from_slice(&crate::common::gs::s3_object(emu, LEASE).await).expect("lease JSON")
}

/// The lease is taken while the lists are read and the organization is
/// listed (reads go ahead), but the first write of an apply is the lease:
/// the list objects, the bucket policy, the manifest and every target wait
/// for it. An apply refused the lease writes nothing at all.
#[tokio::test]
async fn nothing_is_written_before_the_lease_and_nothing_without_it() {
    let emu = emulator();
    let _guard = emu.lock().await;
    let (_dir, cfg) = start(emu, 20).await;
    emu.clear_calls().await;
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let writes: Vec<(String, Option<String>)> = emu
        .calls()
        .await
        .into_iter()
        .filter(|c| c.mutating)
        .map(|c| (c.operation.unwrap_or_default(), c.resource))
        .collect();
    assert!(writes.len() > 10, "a first apply writes: {writes:?}");
    assert_eq!(
        writes[0],
        ("PutObject".to_owned(), Some(format!("/{BUCKET}/{LEASE}"))),
        "{writes:?}"
    );

    // A lease held by another run: exit 1, no write of any kind.
    let holder = serde_json::json!({
        "owner": "elsewhere/pid 1/00000000", "command": "apply",
        "acquired_at": "2026-12-06T00:00:00Z", "expires_unix": 4_102_444_800_u64
    });
    s3(&emu.sdk("us-east-1").await)
        .put_object()
        .bucket(BUCKET)
        .key(LEASE)
        .body(holder.to_string().into_bytes().into())
        .send()
        .await
        .expect("put a foreign lease");
    emu.clear_calls().await;
    let refused = run(emu, "apply", &cfg);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("holds the lease"),
        "{}",
        refused.stderr
    );
    // Its one write is the refused attempt at the lease (a conditional put).
    let writes: Vec<String> = emu
        .calls()
        .await
        .into_iter()
        .filter(|c| c.mutating)
        .map(|c| {
            format!(
                "{} {} {}",
                c.operation.unwrap_or_default(),
                c.resource.unwrap_or_default(),
                c.status
            )
        })
        .collect();
    assert_eq!(writes, [format!("PutObject /{BUCKET}/{LEASE} 412")]);
}

//! The local AWS for integration tests: a small pool of emulator processes
//! shared by the test binary.
//!
//! Each emulator (moto 5.2.5 plus guardsync's extension, `tests/emulator/`)
//! is started on a free 127.0.0.1 port the first time a test needs it, and
//! exits when this test process does (it watches its stdin). A test gets one
//! emulator of the pool for its whole run ([`emulator`]); tests that touch it
//! take [`Emulator::lock`], reset it and seed the scenario they need.

pub(crate) mod gs;
pub(crate) mod iam;
pub(crate) mod iprange;
pub(crate) mod run;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_types::retry::RetryConfig;

/// The administrator account: the emulator attributes the base test
/// credentials to it (`--default-account`).
pub(crate) const ADMIN: &str = "111111111111";

/// A running emulator.
pub(crate) struct Emulator {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    _child: Mutex<Child>,
    serial: tokio::sync::Mutex<()>,
    /// What a test left in place for the tests after it to reuse (see
    /// [`Emulator::scenario`]); every reset forgets it.
    scenario: Mutex<Option<&'static str>>,
}

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn python() -> PathBuf {
    if let Ok(p) = std::env::var("GUARDSYNC_PYTHON") {
        return PathBuf::from(p);
    }
    let p = repo().join(".venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup (or scripts/test) to create the emulator's venv",
        p.display()
    );
    p
}

/// How many emulators the tests share (`GUARDSYNC_TEST_EMULATORS`, default
/// 2): each is one single-threaded process, so two let two tests that need
/// AWS run at once, one per core.
fn pool_size() -> usize {
    static SIZE: OnceLock<usize> = OnceLock::new();
    *SIZE.get_or_init(|| {
        std::env::var("GUARDSYNC_TEST_EMULATORS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n| (1..=8).contains(n))
            .unwrap_or(2)
    })
}

/// The emulators, each started on first use, and how many running tests
/// hold each.
struct Pool {
    emulators: Vec<OnceLock<Emulator>>,
    holders: Vec<AtomicUsize>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        emulators: (0..pool_size()).map(|_| OnceLock::new()).collect(),
        holders: (0..pool_size()).map(|_| AtomicUsize::new(0)).collect(),
    })
}

/// A test's hold on one emulator of the pool, for the life of its thread
/// (libtest runs each test on a thread of its own).
struct Hold(usize);

impl Drop for Hold {
    fn drop(&mut self) {
        pool().holders[self.0].fetch_sub(1, Ordering::SeqCst);
    }
}

thread_local! {
    static HOLD: Hold = {
        let p = pool();
        let i = (0..p.holders.len())
            .min_by_key(|&i| p.holders[i].load(Ordering::SeqCst))
            .unwrap_or(0);
        p.holders[i].fetch_add(1, Ordering::SeqCst);
        Hold(i)
    };
}

/// The emulator of the running test: the least used of the pool when the
/// test first asks, then the same one for the whole test (its helpers
/// included). Tests that touch it take [`Emulator::lock`] and seed their own
/// scenario.
pub(crate) fn emulator() -> &'static Emulator {
    let i = HOLD.with(|h| h.0);
    pool().emulators[i].get_or_init(start)
}

fn start() -> Emulator {
    let mut child = Command::new(python())
        .arg(repo().join("tests/emulator/server.py"))
        .args([
            "--port",
            "0",
            "--default-account",
            ADMIN,
            "--exit-on-stdin-eof",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the emulator");
    let stdout = child.stdout.take().expect("emulator stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the emulator's ready line");
    let endpoint = line
        .trim()
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("unexpected emulator ready line: {line:?}"))
        .to_owned();
    Emulator {
        endpoint,
        _child: Mutex::new(child),
        serial: tokio::sync::Mutex::new(()),
        scenario: Mutex::new(None),
    }
}

/// One emulator call, from its call log.
#[derive(Debug, Clone, serde::Deserialize, PartialEq, Eq)]
pub(crate) struct Call {
    pub seq: u64,
    pub account: Option<String>,
    pub region: Option<String>,
    pub service: Option<String>,
    pub operation: Option<String>,
    pub status: u16,
    pub mutating: bool,
    /// S3: the request path (`/bucket/key`).
    #[serde(default)]
    pub resource: Option<String>,
}

impl Emulator {
    /// Serialise the tests of this binary that use the emulator.
    pub(crate) async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.serial.lock().await
    }

    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let client = reqwest::Client::new();
        let mut req = client.request(method, format!("{}/_guardsync/{path}", self.endpoint));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("emulator control call");
        let status = resp.status();
        let text = resp.text().await.expect("emulator control body");
        assert!(status.is_success(), "emulator {path}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// Forget everything: AWS state, call log, faults and knobs.
    pub(crate) async fn reset(&self) {
        self.set_scenario(None);
        self.control(reqwest::Method::POST, "reset", None).await;
    }

    /// The state a test built and named with [`Emulator::set_scenario`], if
    /// no reset came after it: tests of one suite that share a costly state
    /// (under the lock) build it once per emulator, and again after any other
    /// test reset it.
    pub(crate) fn scenario(&self) -> Option<&'static str> {
        *self
            .scenario
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Name the state the emulator holds now (see [`Emulator::scenario`]).
    pub(crate) fn set_scenario(&self, name: Option<&'static str>) {
        *self
            .scenario
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = name;
    }

    /// Reset, then seed `tests/emulator/scenarios/NAME.yaml`; returns the seed summary.
    pub(crate) async fn seed(&self, name: &str) -> serde_json::Value {
        self.reset().await;
        let path = repo().join(format!("tests/emulator/scenarios/{name}.yaml"));
        let out = Command::new(python())
            .arg(repo().join("tests/emulator/seed.py"))
            .arg(&path)
            .args(["--endpoint", &self.endpoint])
            .output()
            .expect("run seed.py");
        assert!(
            out.status.success(),
            "seed {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("seed summary is JSON")
    }

    /// Set runtime knobs (`activation_delay_ms`, `secure_transport`, `org_empty_pages`).
    pub(crate) async fn configure(&self, knobs: serde_json::Value) {
        self.control(reqwest::Method::POST, "config", Some(knobs))
            .await;
    }

    /// End every ACTIVATING or DEACTIVATING phase now, as GuardDuty would
    /// once it has loaded the lists; how many sets were in one.
    pub(crate) async fn finish_activations(&self) -> u64 {
        let v = self
            .control(reqwest::Method::POST, "activations/finish", None)
            .await;
        v["finished"].as_u64().expect("a count")
    }

    /// Add threat entity lists named `names` to a detector (they take threat
    /// list slots); their ids.
    pub(crate) async fn add_threat_entity_sets(
        &self,
        account: &str,
        region: &str,
        names: &[&str],
    ) -> Vec<String> {
        let v = self
            .control(
                reqwest::Method::POST,
                "threat_entity_sets",
                Some(serde_json::json!({"account": account, "region": region, "names": names})),
            )
            .await;
        serde_json::from_value(v["ids"].clone()).expect("ids")
    }

    /// Add findings to (account, region) (the emulator's short form:
    /// `{"type", "severity", "remote_ip", "count", "archived"}`); their ids.
    pub(crate) async fn add_findings(
        &self,
        account: &str,
        region: &str,
        findings: serde_json::Value,
    ) -> Vec<String> {
        let v = self
            .control(
                reqwest::Method::POST,
                "findings",
                Some(
                    serde_json::json!({"account": account, "region": region, "findings": findings}),
                ),
            )
            .await;
        serde_json::from_value(v["findingIds"].clone()).expect("finding ids")
    }

    /// The findings (account, region) holds, with `archived` only those
    /// archived or not.
    pub(crate) async fn findings(
        &self,
        account: &str,
        region: &str,
        archived: Option<bool>,
    ) -> Vec<serde_json::Value> {
        let filter = archived.map_or(String::new(), |a| format!("&archived={a}"));
        let v = self
            .control(
                reqwest::Method::GET,
                &format!("findings?account={account}&region={region}{filter}"),
                None,
            )
            .await;
        serde_json::from_value(v["findings"].clone()).expect("findings")
    }

    /// Replace the fault rules.
    pub(crate) async fn faults(&self, rules: serde_json::Value) {
        self.control(reqwest::Method::POST, "faults", Some(rules))
            .await;
    }

    /// The call log so far.
    pub(crate) async fn calls(&self) -> Vec<Call> {
        let v = self.control(reqwest::Method::GET, "calls", None).await;
        serde_json::from_value(v["calls"].clone()).expect("call log shape")
    }

    /// Empty the call log.
    pub(crate) async fn clear_calls(&self) {
        self.control(reqwest::Method::DELETE, "calls", None).await;
    }

    /// What the emulator holds for GuardDuty in one account and region.
    pub(crate) async fn guardduty(&self, account: &str, region: &str) -> serde_json::Value {
        self.control(
            reqwest::Method::GET,
            &format!("guardduty?account={account}&region={region}"),
            None,
        )
        .await
    }

    /// SDK configuration for the administrator's base credentials in `region`,
    /// pointed at the emulator with a short retry backoff.
    pub(crate) async fn sdk(&self, region: &str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(
                "AKIAGUARDSYNCTEST",
                "secret",
                None,
                None,
                "test",
            ))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(4)
                    .with_initial_backoff(Duration::from_millis(5)),
            )
            .load()
            .await
    }
}

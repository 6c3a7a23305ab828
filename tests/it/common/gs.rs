//! Running the guardsync binary against the emulator, and reading back what
//! it did: the report, the sets the emulator holds, the mutating calls.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::run::Run;
use super::{ADMIN, Emulator};

/// The demo's list bucket.
pub(crate) const BUCKET: &str = "org-threat-lists-111111111111";

/// The one write of an apply that changes nothing: its run record
/// (`<prefix>state/last-run.json`), as the call log shows it.
pub(crate) const RUN_RECORD: &str = "111111111111 us-east-1 PutObject";

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/firehol")
}

/// A configuration for the demo organization: `threat_list` gets `list`
/// appended, `bucket` gets `bucket`, and `extra` is appended as is.
pub(crate) fn config(
    dir: &Path,
    regions: &[&str],
    list: &str,
    bucket: &str,
    extra: &str,
) -> PathBuf {
    let yaml = format!(
        "admin:\n  account_id: \"{ADMIN}\"\n\
         regions: [{}]\n\
         feeds:\n  - name: firehol_level1\n    url: file://{}/firehol_level1.netset\n\
         threat_list:\n  name: FireHOL-Level1\n  max_age_hours: null\n{list}\
         bucket:\n  name: {BUCKET}\n  region: us-east-1\n{bucket}{extra}",
        regions.join(", "),
        fixtures().display()
    );
    let path = dir.join("guardsync.yaml");
    std::fs::write(&path, yaml).expect("write config");
    path
}

/// A clean environment that points every AWS call of `cmd` at the emulator,
/// with the administrator's credentials and a short retry backoff.
pub(crate) fn emulator_env<'a>(cmd: &'a mut Command, emu: &Emulator) -> &'a mut Command {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", &emu.endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIAGUARDSYNCTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("GUARDSYNC_RETRY_INITIAL_BACKOFF_MS", "5")
        // Feeds are served from 127.0.0.1: 3 s is plenty, and a feed that
        // never answers is given up in seconds, not minutes.
        .env("GUARDSYNC_FEED_TIMEOUT_MS", "3000")
}

/// Run the guardsync binary against the emulator.
pub(crate) fn guardsync(emu: &Emulator, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guardsync"));
    let out = emulator_env(&mut cmd, emu)
        .args(args)
        .output()
        .expect("run guardsync");
    Run::from(out)
}

pub(crate) fn run(emu: &Emulator, cmd: &str, config: &Path) -> Run {
    let c = config.to_str().expect("utf-8 path");
    guardsync(emu, &[cmd, "--config", c, "--format", "json"])
}

/// (account, region) -> (placement, status) of the report.
pub(crate) fn outcomes(report: &Value) -> Vec<String> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            format!(
                "{} {} {} {}",
                t["account_id"].as_str().unwrap_or("?"),
                t["region"].as_str().unwrap_or("?"),
                t["placement"].as_str().unwrap_or("?"),
                t["status"].as_str().unwrap_or("?"),
            )
        })
        .collect()
}

/// The sets the emulator holds in one account and region: (name, location, status, owned).
pub(crate) async fn sets(
    emu: &Emulator,
    account: &str,
    region: &str,
) -> Vec<(String, String, String, bool)> {
    of_kind(emu, account, region, "threat_intel_sets").await
}

/// The IPSets the emulator holds in one account and region: (name, location, status, owned).
pub(crate) async fn ip_sets(
    emu: &Emulator,
    account: &str,
    region: &str,
) -> Vec<(String, String, String, bool)> {
    of_kind(emu, account, region, "ip_sets").await
}

/// The sets of one kind (`threat_intel_sets`, `ip_sets`) of the emulator's
/// GuardDuty view of one account and region.
async fn of_kind(
    emu: &Emulator,
    account: &str,
    region: &str,
    kind: &str,
) -> Vec<(String, String, String, bool)> {
    let v = emu.guardduty(account, region).await;
    v[kind]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_owned(),
                s["location"].as_str().unwrap_or_default().to_owned(),
                s["status"].as_str().unwrap_or_default().to_owned(),
                s["tags"]["managed-by"] == "guardsync",
            )
        })
        .collect()
}

/// The mutating calls of the call log, as `ACCOUNT REGION Operation`,
/// leaving out the run lease's (taken and given back by every apply; its
/// own tests look at it).
pub(crate) async fn mutating_calls(emu: &Emulator) -> Vec<String> {
    emu.calls()
        .await
        .into_iter()
        .filter(|c| c.mutating)
        .filter(|c| {
            !c.resource
                .as_deref()
                .is_some_and(|r| r.ends_with("/state/lease.json"))
        })
        .map(|c| {
            format!(
                "{} {} {}",
                c.account.unwrap_or_default(),
                c.region.unwrap_or_default(),
                c.operation.unwrap_or_default()
            )
        })
        .collect()
}

/// Reset the emulator to the demo organization, with GuardDuty activating
/// sets after 20 ms (fast tests).
pub(crate) async fn seed_demo(emu: &Emulator) -> Value {
    seed_fast(emu, "demo").await
}

/// Reset the emulator to `scenario`, with GuardDuty activating sets after
/// 20 ms.
pub(crate) async fn seed_fast(emu: &Emulator, scenario: &str) -> Value {
    let seed = emu.seed(scenario).await;
    emu.configure(serde_json::json!({"activation_delay_ms": 20}))
        .await;
    seed
}

/// `ACCOUNT REGION: error` for every failed target of a report.
pub(crate) fn failures(report: &Value) -> Vec<String> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["status"] == "failed")
        .map(|t| {
            format!(
                "{} {}: {}",
                t["account_id"].as_str().unwrap_or(""),
                t["region"].as_str().unwrap_or(""),
                t["error"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Someone narrows the bucket policy to the object `key` only: GuardDuty in
/// the other accounts of organization `org` can read that list and no other.
pub(crate) async fn narrow_bucket_policy(emu: &Emulator, org: &str, key: &str) {
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{BUCKET}/{key}"),
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}}]});
    s3(emu)
        .await
        .put_bucket_policy()
        .bucket(BUCKET)
        .policy(policy.to_string())
        .send()
        .await
        .expect("put the narrowed policy");
}

/// The S3 client of the administrator account, path-style for the emulator.
pub(crate) async fn s3(emu: &Emulator) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&emu.sdk("us-east-1").await)
            .force_path_style(true)
            .build(),
    )
}

/// The bytes of `key` in the list bucket.
pub(crate) async fn s3_object(emu: &Emulator, key: &str) -> Vec<u8> {
    s3(emu)
        .await
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"))
        .body
        .collect()
        .await
        .expect("read the body")
        .into_bytes()
        .to_vec()
}

/// Credentials of `account` through STS AssumeRole, as guardsync gets them.
pub(crate) async fn assume(conf: &aws_config::SdkConfig, account: &str) -> aws_config::SdkConfig {
    let sts = aws_sdk_sts::Client::new(conf);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/GuardSyncMemberRole"))
        .role_session_name("guardsync")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    );
    conf.to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build()
}

/// The demo organization after a first apply in `regions`: its organization
/// id and the key of the list that apply published (the "previous" list of
/// the tests that publish another one).
pub(crate) async fn demo_after_first_apply(
    emu: &Emulator,
    dir: &Path,
    regions: &[&str],
) -> (String, String) {
    let seed = seed_demo(emu).await;
    let org = seed["organization_id"]
        .as_str()
        .expect("organization id")
        .to_owned();
    let first = run(emu, "apply", &config(dir, regions, "", "", ""));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let key = format!(
        "guardduty/lists/{}.txt",
        first.json()["list"]["sha256"].as_str().expect("sha")
    );
    (org, key)
}

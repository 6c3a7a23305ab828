//! No secrets in output (issue #8): guardsync's stdout, its stderr (the logs)
//! and what it writes to the bucket (the run record, the manifest, the list)
//! never hold a credential.
//!
//! Each case runs a full `plan` and `apply` against the demo organization in
//! text and JSON, and a failing `apply` (AssumeRole denied in one account, so
//! AWS error messages reach the report and the logs). The scan looks for the
//! base credentials the binary was given (a long, unique secret access key
//! and access key id); every credential moto issued for guardsync's
//! AssumeRole calls, exactly (read back from the emulator); and, by shape,
//! anything that looks like one: moto's session-token prefix (learned by
//! calling AssumeRole here), a secret-key-like run of 40 base64 characters,
//! an `ASIA…` temporary access key id, and the pieces of a SigV4 signature
//! (`AWS4-HMAC-SHA256`, `Credential=`, `Signature=`) or its headers
//! (`Authorization`, `X-Amz-Security-Token`).
//!
//! At the default level, `-v` and `-vv` nothing of that appears (`-vv`
//! keeps the two SDK log sources that name access key ids at info). With
//! `RUST_LOG=trace`, which overrides guardsync's filter, the AWS SDK's own
//! logs print access key ids and the names of the signing headers, their
//! values redacted: that case checks that no secret key, session token or
//! signature appears.

use std::process::Command;

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::ProvideCredentials;

use crate::common::gs::{BUCKET, config, emulator_env, seed_demo};
use crate::common::run::Run;
use crate::common::{Emulator, emulator};

/// The base credentials given to the binary: long and unique, so that any
/// occurrence in the output is theirs.
const ACCESS_KEY_ID: &str = "AKIAGSSCANTESTKEY7Q2";
const SECRET_ACCESS_KEY: &str = "gsTEST/secret+KEY0123456789abcdefghijklmnop";

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// A rule and alerts, so that every kind of resource is written.
const EXTRA: &str = "suppression_rules:\n  - name: internal-scanner\n    rank: 1\n    \
                     criteria: {type: {equals: [\"Recon:EC2/Portscan\"]}}\n\
                     alerts: {min_severity: 7.0, emails: [\"secops@example.com\"]}\n";

/// What a scan flags.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Secret keys, session tokens and signatures.
    Secrets,
    /// Those, access key ids and the names of the signing headers too.
    Strict,
}

/// The credentials in play: access key ids, and secret keys and session tokens.
#[derive(Default)]
struct Known {
    ids: Vec<String>,
    secrets: Vec<String>,
}

/// One run: command, `--format`, expected exit code.
type Step = (&'static str, &'static str, i32);

/// Run the binary with the base credentials above and `RUST_LOG` if given.
fn guardsync(emu: &Emulator, args: &[&str], rust_log: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guardsync"));
    emulator_env(&mut cmd, emu)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY);
    if let Some(filter) = rust_log {
        cmd.env("RUST_LOG", filter);
    }
    Run::from(cmd.args(args).output().expect("run guardsync"))
}

/// Add every credential moto has issued since the last reset (its
/// AssumeRole records) to `known`.
async fn issued_credentials(emu: &Emulator, known: &mut Known) {
    let data: serde_json::Value = reqwest::get(format!("{}/moto-api/data.json", emu.endpoint))
        .await
        .expect("moto data")
        .json()
        .await
        .expect("moto data is JSON");
    for role in data["sts"]["AssumedRole"].as_array().into_iter().flatten() {
        let field = |k: &str| role[k].as_str().expect("a credential field").to_owned();
        known.ids.push(field("access_key_id"));
        known.secrets.push(field("secret_access_key"));
        known.secrets.push(field("session_token"));
    }
}

/// Every object of the bucket, as text: the list, the manifest, the run record.
async fn bucket_objects(emu: &Emulator) -> Vec<(String, String)> {
    let conf = emu.sdk("us-east-1").await;
    let path_style = aws_sdk_s3::config::Builder::from(&conf).force_path_style(true);
    let s3 = aws_sdk_s3::Client::from_conf(path_style.build());
    let listed = s3.list_objects_v2().bucket(BUCKET).send().await;
    let mut out = Vec::new();
    for object in listed.expect("list the bucket").contents() {
        let key = object.key().expect("a key");
        let got = s3.get_object().bucket(BUCKET).key(key).send().await;
        let body = got.expect("get an object").body.collect().await;
        let text =
            String::from_utf8_lossy(&body.expect("read an object").into_bytes()).into_owned();
        out.push((format!("s3://{BUCKET}/{key}"), text));
    }
    out
}

/// The shape of moto's temporary credentials, learned from two AssumeRole
/// calls of our own (as guardsync makes them): the prefix their session
/// tokens share.
async fn session_token_prefix(emu: &Emulator) -> String {
    let conf = emu.sdk("us-east-1").await;
    let mut tokens = Vec::new();
    for account in ["222222222222", "333333333333"] {
        let arn = format!("arn:aws:iam::{account}:role/ShapeProbe");
        let provider = AssumeRoleProvider::builder(arn).session_name("shape-probe");
        let c = provider
            .configure(&conf)
            .build()
            .await
            .provide_credentials()
            .await;
        let c = c.expect("assume a role");
        assert!(
            c.access_key_id().starts_with("ASIA"),
            "{}",
            c.access_key_id()
        );
        assert_eq!(c.secret_access_key().len(), 40);
        tokens.push(c.session_token().expect("a session token").to_owned());
    }
    let prefix: String = tokens[0]
        .chars()
        .zip(tokens[1].chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    assert!(
        prefix.len() >= 12,
        "moto's session tokens share no prefix: {tokens:?}"
    );
    prefix
}

/// Maximal runs of characters that `keep` accepts.
fn runs(text: &str, keep: impl Fn(char) -> bool) -> impl Iterator<Item = &str> {
    text.split(move |c: char| !keep(c))
        .filter(|r| !r.is_empty())
}

/// What in `text` looks like a credential or a signature: `(what, line)`.
fn leaks(text: &str, known: &Known, token_prefix: &str, scan: Scan) -> Vec<(String, String)> {
    let lower = text.to_lowercase();
    let mut found = Vec::new();
    let mut hit = |what: String, at: usize| {
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        found.push((what, text[start..end].chars().take(400).collect()));
    };
    let strict = scan == Scan::Strict;
    let ids = known.ids.iter().filter(|_| strict);
    for (kind, value) in known
        .secrets
        .iter()
        .map(|s| ("a secret key or session token", s))
        .chain(ids.map(|s| ("an access key id", s)))
    {
        if let Some(at) = text.find(value.as_str()) {
            hit(format!("{kind} issued to guardsync"), at);
        }
    }
    if let Some(at) = text.find(token_prefix) {
        hit("moto's session-token prefix".into(), at);
    }
    let headers = ["authorization", "x-amz-security-token"];
    let signature = ["aws4-hmac-sha256", "credential=", "signature="];
    for piece in signature.iter().chain(headers.iter().filter(|_| strict)) {
        if let Some(at) = lower.find(piece) {
            hit(format!("{piece:?}"), at);
        }
    }
    let base = text.as_ptr() as usize;
    // A secret access key: 40 of base64's alphabet, mixed case and digits
    // (hex digests and paths are not mixed case; request ids are longer).
    for run in runs(text, |c| c.is_ascii_alphanumeric() || c == '+' || c == '/') {
        let mixed = run.chars().any(|c| c.is_ascii_uppercase())
            && run.chars().any(|c| c.is_ascii_lowercase())
            && run.chars().any(|c| c.is_ascii_digit());
        if run.len() == 40 && mixed {
            hit(
                format!("a secret-like run {run:?}"),
                run.as_ptr() as usize - base,
            );
        }
    }
    // An `ASIA…` temporary access key id: ASIA and 16 more of [A-Z0-9].
    for run in runs(text, |c| c.is_ascii_uppercase() || c.is_ascii_digit()).filter(|_| strict) {
        if run.len() >= 20 && run.contains("ASIA") {
            hit(
                format!("an access key id {run:?}"),
                run.as_ptr() as usize - base,
            );
        }
    }
    found
}

/// Plan and apply (text and JSON) against the demo organization, then a
/// failing apply (the `failures` scenario denies AssumeRole into
/// 444444444444), with `level` (`[]`, `["-v"]`, `["-vv"]`) and `RUST_LOG`;
/// scan all that was printed and written.
async fn nothing_leaks(level: &[&str], rust_log: Option<&str>, scan: Scan) {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let token_prefix = session_token_prefix(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "", "", EXTRA);
    let c = cfg.to_str().expect("utf-8 path");
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut known = Known {
        ids: vec![ACCESS_KEY_ID.to_owned()],
        secrets: vec![SECRET_ACCESS_KEY.to_owned()],
    };
    let steps: [(&str, &[Step]); 3] = [
        (
            "demo",
            &[
                ("plan", "text", 0),
                ("plan", "json", 0),
                ("apply", "text", 0),
            ],
        ),
        ("demo", &[("apply", "json", 0), ("plan", "text", 0)]),
        ("failures", &[("apply", "json", 3), ("apply", "text", 3)]),
    ];
    for (i, (scenario, runs)) in steps.iter().enumerate() {
        if i > 0 {
            emu.seed(scenario).await;
            emu.configure(serde_json::json!({"activation_delay_ms": 20}))
                .await;
        }
        for (cmd, format, code) in *runs {
            let mut args = vec![*cmd, "--config", c, "--format", format];
            args.extend_from_slice(level);
            let out = guardsync(emu, &args, rust_log);
            let label = format!("{scenario}: guardsync {}", args.join(" "));
            assert_eq!(out.code, *code, "{label}\n{}\n{}", out.stdout, out.stderr);
            texts.push((format!("{label}: stdout"), out.stdout));
            texts.push((format!("{label}: stderr"), out.stderr));
        }
        texts.extend(bucket_objects(emu).await);
        issued_credentials(emu, &mut known).await;
    }
    // The logs asked for were there (not a vacuous scan)...
    let marker = match (rust_log, level) {
        (Some(_), _) => " TRACE ",
        (None, ["-vv"]) => " DEBUG ",
        _ => " INFO ",
    };
    assert!(
        texts.iter().any(|(_, t)| t.contains(marker)),
        "no{marker}lines"
    );
    // ...guardsync did assume roles, and its error messages were exercised.
    assert!(known.ids.len() > 6, "{} access key ids", known.ids.len());
    assert!(
        texts
            .iter()
            .any(|(_, t)| t.contains("AccessDenied") && t.contains("444444444444")),
        "the failing run did not report the denied role"
    );
    let found: Vec<String> = texts
        .iter()
        .flat_map(|(label, text)| {
            leaks(text, &known, &token_prefix, scan)
                .into_iter()
                .map(move |(what, line)| format!("{label}: {what} in: {line}"))
        })
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[tokio::test]
async fn nothing_leaks_at_the_default_level() {
    nothing_leaks(&[], None, Scan::Strict).await;
}

#[tokio::test]
async fn nothing_leaks_at_v() {
    nothing_leaks(&["-v"], None, Scan::Strict).await;
}

#[tokio::test]
async fn no_secret_key_token_or_signature_at_vv() {
    nothing_leaks(&["-vv"], None, Scan::Secrets).await;
}

#[tokio::test]
async fn no_access_key_id_at_vv() {
    nothing_leaks(&["-vv"], None, Scan::Strict).await;
}

#[tokio::test]
async fn no_secret_key_token_or_signature_with_rust_log_trace() {
    nothing_leaks(&[], Some("trace"), Scan::Secrets).await;
}

#[test]
fn the_scan_finds_what_it_looks_for() {
    let known = Known {
        ids: vec![ACCESS_KEY_ID.to_owned()],
        secrets: vec![SECRET_ACCESS_KEY.to_owned()],
    };
    let prefix = "FQoGZXIvYXdzEBYaD";
    let found = |t: &str, scan| leaks(t, &known, prefix, scan).len();
    for scan in [Scan::Secrets, Scan::Strict] {
        assert_eq!(found(&format!("key {SECRET_ACCESS_KEY} here"), scan), 1);
        assert_eq!(found("token=FQoGZXIvYXdzEBYaDAOu7", scan), 1);
        assert_eq!(
            found("secret N/8urRV8dYBlkNtT2HB10jXv1LPGCdsL7bzJtQHL.", scan),
            1
        );
        assert_eq!(found("AWS4-HMAC-SHA256 Credential=x, Signature=y", scan), 3);
    }
    assert_eq!(found(&format!("id {ACCESS_KEY_ID}"), Scan::Secrets), 0);
    assert_eq!(found(&format!("id {ACCESS_KEY_ID}"), Scan::Strict), 1);
    assert_eq!(found("id ASIA3KFZLBRYR3GC5LNF.", Scan::Strict), 1);
    assert_eq!(found("authorization: ** redacted **", Scan::Strict), 1);
    assert_eq!(
        found("x-amz-security-token: ** redacted **", Scan::Strict),
        1
    );
    // What guardsync prints legitimately.
    let sha = "2bed565ce8f2e5e77c76348ffe31cca1457c3da29e111e95131f1fce21fc27af";
    let denied =
        "User: arn:aws:iam::111111111111:root is not authorized to perform: sts:AssumeRole";
    for scan in [Scan::Secrets, Scan::Strict] {
        assert_eq!(
            found(&format!("s3://{BUCKET}/guardduty/lists/{sha}.txt"), scan),
            0
        );
        assert_eq!(found(denied, scan), 0);
    }
}

//! Publishing against the local emulator (the README's "What guardsync puts in the bucket"; the README's Security section): the
//! content-addressed list object, the manifest, the bucket policy and who can
//! read the list under it; and, on a recording fake S3, that every call
//! carries `ExpectedBucketOwner` (the emulator's call log keeps no headers).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, UNIX_EPOCH};

use crate::common::{ADMIN, emulator};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use guardsync::aws::Aws;
use guardsync::aws::s3::S3;
use guardsync::feed::{BuiltList, FeedReport};
use guardsync::publish::{self, Manifest, PublishError, policy};
use sha2::{Digest, Sha256};
use tokio::sync::MutexGuard;

const BUCKET: &str = "org-threat-lists-111111111111";
const PREFIX: &str = "guardduty/";
/// Not an associated member anywhere in `basic`: needs its own set, reading the central bucket.
const STANDALONE: &str = "444444444444";
/// Not an account of the organization.
const OUTSIDER: &str = "123456789012";

fn built(bytes: &[u8]) -> BuiltList {
    BuiltList {
        bytes: bytes.to_vec(),
        sha256: hex::encode(Sha256::digest(bytes)),
        entries: bytes.iter().filter(|&&b| b == b'\n').count() as u64,
        addresses: 257,
        feeds: vec![FeedReport {
            name: "firehol_level1".to_owned(),
            url: "https://iplists.firehol.org/files/firehol_level1.netset".to_owned(),
            etag: Some("\"5f3c\"".to_owned()),
            last_modified: None,
            file_date: Some("2026-11-30T07:00:00Z".to_owned()),
            age_hours: Some(1.0),
            entries: 2,
            rejected: 0,
            first_rejects: Vec::new(),
            ipv6_dropped: 0,
            host_bits_cleared: 0,
            addresses: 257,
        }],
        union_addresses: 257,
        removed_reserved: 0,
        removed_allowlisted: 0,
        settings_digest: "digest".to_owned(),
    }
}

const LIST: &[u8] = b"198.51.100.7\n203.0.113.0/24\n";

/// The emulator, locked, reset and seeded with `basic`; the adapter as the
/// administrator; the seed summary.
async fn seeded() -> (MutexGuard<'static, ()>, S3, serde_json::Value) {
    let emu = emulator();
    let guard = emu.lock().await;
    let summary = emu.seed("basic").await;
    let s3 = S3::new(&emu.sdk("us-east-1").await, ADMIN);
    (guard, s3, summary)
}

/// SDK configuration with the credentials of `account` (AssumeRole).
async fn config_as(account: &str, region: &str) -> SdkConfig {
    let aws = Aws::from_config(emulator().sdk(region).await);
    let creds = guardsync::aws::sts::assume(
        &aws,
        account,
        region,
        "GuardSyncMemberRole",
        None,
        "guardsync",
    )
    .await
    .expect("AssumeRole");
    aws.config_for(region, Some(&creds))
}

/// Store `body` as the manifest and return the error reading it gives.
async fn manifest_error(s3: &S3, body: &[u8]) -> PublishError {
    let sha = hex::encode(Sha256::digest(body));
    s3.put(
        BUCKET,
        "guardduty/manifest.json",
        body.to_vec(),
        "application/json",
        &sha,
    )
    .await
    .expect("PutObject");
    publish::read_manifest(s3, BUCKET, PREFIX)
        .await
        .expect_err("an unusable manifest")
}

#[tokio::test]
async fn the_list_is_uploaded_content_addressed_and_reads_back() {
    let (_g, s3, _) = seeded().await;
    let emu = emulator();
    emu.clear_calls().await;
    let list = built(LIST);
    let key = publish::object_key(PREFIX, &list.sha256);
    assert_eq!(
        key,
        format!("guardduty/lists/{}.txt", hex::encode(Sha256::digest(LIST)))
    );
    assert!(!s3.exists(BUCKET, &key).await.expect("HeadObject"));
    assert_eq!(s3.get(BUCKET, &key).await.expect("GetObject"), None);

    publish::upload_list(&s3, BUCKET, PREFIX, &list)
        .await
        .expect("upload");
    assert!(s3.exists(BUCKET, &key).await.expect("HeadObject"));
    assert_eq!(
        s3.get(BUCKET, &key).await.expect("GetObject"),
        Some(LIST.to_vec())
    );

    let raw = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&emu.sdk("us-east-1").await)
            .force_path_style(true)
            .build(),
    );
    let head = raw
        .head_object()
        .bucket(BUCKET)
        .key(&key)
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.content_type(), Some("text/plain"));

    // Every call went to S3 as the administrator; the missing key was no error to the caller.
    let calls: Vec<(String, u16)> = emu
        .calls()
        .await
        .into_iter()
        .map(|c| {
            assert_eq!(c.service.as_deref(), Some("s3"));
            assert_eq!(c.account.as_deref(), Some(ADMIN));
            (c.operation.unwrap_or_default(), c.status)
        })
        .collect();
    let ops: Vec<(&str, u16)> = calls.iter().map(|(o, s)| (o.as_str(), *s)).collect();
    assert_eq!(
        ops,
        [
            ("HeadObject", 404),
            ("GetObject", 404),
            ("PutObject", 200),
            ("HeadObject", 200),
            ("GetObject", 200),
            ("HeadObject", 200),
        ]
    );
}

#[tokio::test]
async fn the_manifest_round_trips_and_a_corrupt_one_says_how_to_recover() {
    let (_g, s3, _) = seeded().await;
    assert_eq!(
        publish::read_manifest(&s3, BUCKET, PREFIX)
            .await
            .expect("read"),
        None
    );

    let list = built(LIST);
    let key = publish::object_key(PREFIX, &list.sha256);
    let at = UNIX_EPOCH + Duration::from_secs(1_796_025_600);
    let manifest = Manifest::new(&list, &key, at);
    assert_eq!(manifest.built_at, "2026-11-30T08:00:00Z");
    publish::write_manifest(&s3, BUCKET, PREFIX, &manifest)
        .await
        .expect("write");
    let read = publish::read_manifest(&s3, BUCKET, PREFIX)
        .await
        .expect("read");
    assert_eq!(read.as_ref(), Some(&manifest));
    let stored = s3
        .get(BUCKET, "guardduty/manifest.json")
        .await
        .expect("GetObject")
        .expect("the manifest");
    assert_eq!(stored, manifest.to_json());

    let err = manifest_error(&s3, b"{\"sha256\": \"trunc").await;
    assert!(
        matches!(err, PublishError::CorruptManifest { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "failed to read the manifest s3://org-threat-lists-111111111111/guardduty/manifest.json: not JSON"
        ),
        "{text}"
    );
    assert!(text.contains("delete that object to start over"), "{text}");
}

#[tokio::test]
async fn a_newer_manifest_is_refused() {
    let (_g, s3, _) = seeded().await;
    let err = manifest_error(
        &s3,
        br#"{"format": 2, "generator": "guardsync 9.9.9", "lists": []}"#,
    )
    .await;
    assert!(matches!(err, PublishError::NewerManifest { .. }), "{err:?}");
    assert!(err.to_string().contains("guardsync 9.9.9"), "{err}");
}

#[tokio::test]
async fn the_policy_lets_the_organization_read_the_list_and_nobody_else() {
    let (_g, s3, seed) = seeded().await;
    let org = seed["organization_id"].as_str().expect("organization id");
    let emu = emulator();
    emu.configure(serde_json::json!({"activation_delay_ms": 0}))
        .await;
    let list = built(LIST);
    let key = publish::object_key(PREFIX, &list.sha256);
    publish::upload_list(&s3, BUCKET, PREFIX, &list)
        .await
        .expect("upload");

    // Without the policy, another account of the organization cannot read it.
    assert_eq!(s3.policy(BUCKET).await.expect("GetBucketPolicy"), None);
    let standalone = S3::new(&config_as(STANDALONE, "us-east-1").await, ADMIN);
    let refused = denied(standalone.get(BUCKET, &key).await);
    assert!(
        refused
            .to_string()
            .contains(&format!("s3://{BUCKET}/{key}")),
        "{refused}"
    );
    let location = publish::guardduty_location(BUCKET, &key);
    assert_eq!(location, format!("s3://{BUCKET}/{key}"));
    assert_eq!(
        threat_list_status(STANDALONE, "us-east-1", &location).await,
        "ERROR"
    );

    let plan = policy::reconcile(None, "aws", BUCKET, PREFIX, org).expect("reconcile");
    assert!(plan.change.is_some());
    s3.put_policy(BUCKET, &plan.policy)
        .await
        .expect("PutBucketPolicy");
    let current = s3.policy(BUCKET).await.expect("GetBucketPolicy");
    let again =
        policy::reconcile(current.as_deref(), "aws", BUCKET, PREFIX, org).expect("reconcile");
    assert_eq!(again.change, None, "{current:?}");

    // The organization reads it, directly and through GuardDuty; outsiders do not.
    assert_eq!(
        standalone.get(BUCKET, &key).await.expect("org read"),
        Some(LIST.to_vec())
    );
    assert_eq!(
        threat_list_status(STANDALONE, "eu-west-1", &location).await,
        "ACTIVE"
    );
    let outsider = S3::new(&config_as(OUTSIDER, "us-east-1").await, ADMIN);
    denied(outsider.get(BUCKET, &key).await);

    // TLS only: without TLS even the owner is refused.
    emu.configure(serde_json::json!({"secure_transport": false}))
        .await;
    denied(s3.get(BUCKET, &key).await);
}

/// The error of a refused read: S3 says `AccessDenied`; moto answers a bare 403.
fn denied(read: Result<Option<Vec<u8>>, guardsync::aws::AwsError>) -> guardsync::aws::AwsError {
    let e = read.expect_err("a refused read");
    assert!(
        e.code.as_deref() == Some("AccessDenied")
            || e.message.ends_with(": HTTP 403 without an error code"),
        "{e:?}"
    );
    e
}

/// Create a ThreatIntelSet at `location` in `account` (assumed role) and
/// return its status once GuardDuty has tried to read the list.
async fn threat_list_status(account: &str, region: &str, location: &str) -> String {
    let gd = aws_sdk_guardduty::Client::new(&config_as(account, region).await);
    let detectors = gd.list_detectors().send().await.expect("ListDetectors");
    let detector = detectors.detector_ids().first().expect("a detector");
    gd.create_threat_intel_set()
        .detector_id(detector)
        .name("FireHOL-Level1")
        .format(aws_sdk_guardduty::types::ThreatIntelSetFormat::Txt)
        .location(location)
        .activate(true)
        .expected_bucket_owner(ADMIN)
        .send()
        .await
        .expect("CreateThreatIntelSet");
    let view = emulator().guardduty(account, region).await;
    view["threat_intel_sets"][0]["status"]
        .as_str()
        .expect("a status")
        .to_owned()
}

/// A one-thread HTTP server that answers every request with `200` (S3 shapes
/// good enough for the SDK) and sends each request's head to the channel.
fn recording_s3() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line.to_ascii_lowercase());
            }
            let header = |name: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .map(str::to_owned)
            };
            if header("expect").as_deref() == Some("100-continue") {
                let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
            let length: usize = header("content-length")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            // Recorded before the answer: the caller may look once it has it.
            let first_line = head.lines().next().unwrap_or_default().to_owned();
            let _ = tx.send(head);
            let answer: &[u8] = if first_line.starts_with("get /bucket/?policy") {
                br#"{"Version":"2012-10-17","Statement":[]}"#
            } else if first_line.starts_with("get ") {
                b"198.51.100.7\n"
            } else {
                b""
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                answer.len()
            );
            if !first_line.starts_with("head ") {
                let _ = stream.write_all(answer);
            }
        }
    });
    (endpoint, rx)
}

#[tokio::test]
async fn every_s3_call_carries_the_expected_bucket_owner() {
    let (endpoint, requests) = recording_s3();
    let conf: SdkConfig = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&endpoint)
        .credentials_provider(Credentials::new("AKIATEST", "secret", None, None, "test"))
        .load()
        .await;
    let s3 = S3::new(&conf, ADMIN);
    let body = LIST.to_vec();
    let sha = hex::encode(Sha256::digest(&body));
    s3.put("bucket", "guardduty/x.txt", body, "text/plain", &sha)
        .await
        .expect("PutObject");
    s3.get("bucket", "guardduty/x.txt")
        .await
        .expect("GetObject");
    s3.exists("bucket", "guardduty/x.txt")
        .await
        .expect("HeadObject");
    s3.policy("bucket").await.expect("GetBucketPolicy");
    s3.put_policy("bucket", "{}")
        .await
        .expect("PutBucketPolicy");

    let heads: Vec<String> = requests.try_iter().collect();
    let lines: Vec<&str> = heads
        .iter()
        .map(|h| h.lines().next().unwrap_or_default())
        .collect();
    let starts = [
        "put /bucket/guardduty/x.txt",
        "get /bucket/guardduty/x.txt",
        "head /bucket/guardduty/x.txt",
        "get /bucket/?policy",
        "put /bucket/?policy",
    ];
    assert_eq!(lines.len(), starts.len(), "{lines:?}");
    for (line, start) in lines.iter().zip(starts) {
        assert!(line.starts_with(start), "{line:?} (path-style {start:?})");
    }
    for head in &heads {
        assert!(
            head.contains("\r\nx-amz-expected-bucket-owner: 111111111111\r\n"),
            "{head}"
        );
    }
    // S3 verifies the uploaded bytes against the SHA-256 the caller computed.
    let checksum = aws_smithy_types::base64::encode(Sha256::digest(LIST)).to_ascii_lowercase();
    assert!(
        heads[0].contains(&format!("\r\nx-amz-checksum-sha256: {checksum}\r\n")),
        "{}",
        heads[0]
    );
    assert!(
        heads[0].contains("\r\ncontent-type: text/plain\r\n"),
        "{}",
        heads[0]
    );
    assert!(!heads[0].contains("x-amz-checksum-crc32"), "{}", heads[0]);
}

//! The AWS SDK for Rust against the local emulator: the wire format, paging,
//! per-account credentials and GuardDuty's administrator/member rules, as the
//! code of later issues will meet them. Each test asserts on emulator state or
//! on exact SDK output, so a wrong wire key (silently dropped by the SDK) fails.

use std::time::Duration;

use crate::common::gs::assume;
use crate::common::{ADMIN, emulator};
use aws_sdk_guardduty::types::ThreatIntelSetFormat;

const BUCKET: &str = "org-threat-lists-111111111111";
const MEMBER: &str = "222222222222";
/// Where the tests put a list object, in the form GuardDuty accepts.
const LOCATION: &str = "https://s3.amazonaws.com/org-threat-lists-111111111111/guardduty/list.txt";

fn s3(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    // moto serves buckets path-style: `bucket.localhost` does not resolve.
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    )
}

async fn detector(gd: &aws_sdk_guardduty::Client) -> String {
    let ids = gd.list_detectors().send().await.expect("ListDetectors");
    ids.detector_ids().first().cloned().expect("a detector")
}

async fn get_set(
    gd: &aws_sdk_guardduty::Client,
    detector: &str,
    id: &str,
) -> aws_sdk_guardduty::operation::get_threat_intel_set::GetThreatIntelSetOutput {
    gd.get_threat_intel_set()
        .detector_id(detector)
        .threat_intel_set_id(id)
        .send()
        .await
        .expect("GetThreatIntelSet")
}

#[tokio::test]
async fn organizations_pages_are_flattened_and_state_is_read() {
    let emu = emulator();
    let _g = emu.lock().await;
    emu.seed("basic").await;
    // Real Organizations may answer with an empty page and a NextToken.
    emu.configure(serde_json::json!({"org_empty_pages": true}))
        .await;
    let conf = emu.sdk("us-east-1").await;
    let org = aws_sdk_organizations::Client::new(&conf);
    let pages: Vec<_> = org
        .list_accounts()
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("ListAccounts pages");
    assert!(pages.len() >= 2, "an empty first page, then the accounts");
    assert!(pages[0].accounts().is_empty());
    let mut accounts: Vec<(String, String)> = pages
        .iter()
        .flat_map(|p| p.accounts())
        .map(|a| {
            (
                a.id().unwrap_or_default().to_owned(),
                a.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            )
        })
        .collect();
    accounts.sort();
    let want: Vec<(String, String)> = [
        ("111111111111", "ACTIVE"),
        ("222222222222", "ACTIVE"),
        ("333333333333", "ACTIVE"),
        ("444444444444", "ACTIVE"),
        ("555555555555", "ACTIVE"),
        ("666666666666", "SUSPENDED"),
        ("999999999999", "ACTIVE"),
    ]
    .iter()
    .map(|(a, s)| ((*a).to_owned(), (*s).to_owned()))
    .collect();
    assert_eq!(accounts, want);
}

#[tokio::test]
async fn threat_intel_set_lifecycle_and_member_rules_over_the_wire() {
    let emu = emulator();
    let _g = emu.lock().await;
    emu.seed("basic").await;
    emu.configure(serde_json::json!({"activation_delay_ms": 100}))
        .await;
    let conf = emu.sdk("us-east-1").await;

    s3(&conf)
        .put_object()
        .bucket(BUCKET)
        .key("guardduty/list.txt")
        .expected_bucket_owner(ADMIN)
        .body(b"198.51.100.7\n203.0.113.0/24\n".to_vec().into())
        .send()
        .await
        .expect("PutObject");

    let gd = aws_sdk_guardduty::Client::new(&conf);
    let det = detector(&gd).await;
    let created = gd
        .create_threat_intel_set()
        .detector_id(&det)
        .name("FireHOL-Level1")
        .format(ThreatIntelSetFormat::Txt)
        .location(LOCATION)
        .activate(true)
        .expected_bucket_owner(ADMIN)
        .tags("managed-by", "guardsync")
        .send()
        .await
        .expect("CreateThreatIntelSet");
    let set_id = created.threat_intel_set_id().expect("set id").to_owned();

    let first = get_set(&gd, &det, &set_id).await;
    assert_eq!(first.status().map(|s| s.as_str()), Some("ACTIVATING"));
    assert_eq!(first.name(), Some("FireHOL-Level1"));
    assert_eq!(first.format().map(|f| f.as_str()), Some("TXT"));
    assert_eq!(
        first
            .tags()
            .and_then(|t| t.get("managed-by"))
            .map(String::as_str),
        Some("guardsync")
    );

    // No change while ACTIVATING (GuardDuty API reference, UpdateThreatIntelSet).
    let busy = gd
        .update_threat_intel_set()
        .detector_id(&det)
        .threat_intel_set_id(&set_id)
        .activate(true)
        .send()
        .await
        .expect_err("update while ACTIVATING");
    assert_eq!(
        busy.as_service_error().and_then(|e| e.meta().code()),
        Some("BadRequestException")
    );

    tokio::time::sleep(Duration::from_millis(250)).await;
    let later = get_set(&gd, &det, &set_id).await;
    assert_eq!(later.status().map(|s| s.as_str()), Some("ACTIVE"));

    // An associated member cannot manage lists, and sees the administrator's.
    let member = assume(&conf, MEMBER).await;
    let mgd = aws_sdk_guardduty::Client::new(&member);
    let mdet = detector(&mgd).await;
    let denied = mgd
        .create_threat_intel_set()
        .detector_id(&mdet)
        .name("own-list")
        .format(ThreatIntelSetFormat::Txt)
        .location(LOCATION)
        .activate(true)
        .send()
        .await
        .expect_err("a member cannot create a set");
    assert_eq!(
        denied.as_service_error().and_then(|e| e.meta().code()),
        Some("BadRequestException")
    );
    let listed = mgd
        .list_threat_intel_sets()
        .detector_id(&mdet)
        .send()
        .await
        .expect("member List");
    assert_eq!(listed.threat_intel_set_ids(), std::slice::from_ref(&set_id));

    // The call log attributes each call to its account and region.
    let calls = emu.calls().await;
    let denied_call = calls
        .iter()
        .find(|c| c.operation.as_deref() == Some("CreateThreatIntelSet") && c.status == 400)
        .expect("the denied call is logged");
    assert_eq!(denied_call.account.as_deref(), Some(MEMBER));
    assert_eq!(denied_call.region.as_deref(), Some("us-east-1"));
    assert!(denied_call.mutating);

    let state = emu.guardduty(ADMIN, "us-east-1").await;
    let sets = state["threat_intel_sets"].as_array().expect("sets");
    assert_eq!(sets.len(), 1, "{state}");
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_and_logged() {
    let emu = emulator();
    let _g = emu.lock().await;
    emu.seed("basic").await;
    emu.faults(serde_json::json!({"rules": [
        {"service": "guardduty", "operation": "ListDetectors", "throttle_count": 2}
    ]}))
    .await;
    emu.clear_calls().await;
    let conf = emu.sdk("eu-west-1").await;
    let gd = aws_sdk_guardduty::Client::new(&conf);
    let det = detector(&gd).await;
    assert!(!det.is_empty());
    let statuses: Vec<(String, u16, bool)> = emu
        .calls()
        .await
        .into_iter()
        .map(|c| (c.operation.unwrap_or_default(), c.status, c.mutating))
        .collect();
    assert_eq!(
        statuses,
        [
            ("ListDetectors".to_owned(), 429, false),
            ("ListDetectors".to_owned(), 429, false),
            ("ListDetectors".to_owned(), 200, false),
        ]
    );
}

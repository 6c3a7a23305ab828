//! Tests of [`assemble`]: the whole build decision without a network.

use std::time::{Duration, UNIX_EPOCH};

use super::*;

const LEVEL1_HEAD: &str = "# This File Date  : Tue Jan 23 09:17:57 UTC 2024\n";

/// 2024-01-23T09:17:57Z plus `hours`.
fn at(hours: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_706_001_477 + hours * 3600)
}

fn settings() -> BuildSettings {
    BuildSettings {
        feeds: vec![],
        strip_reserved: true,
        allowlist: vec![],
        min_entries: 1,
        max_shrink_percent: Some(50),
        max_age_hours: Some(48),
    }
}

fn body(name: &str, text: &str) -> FeedBody {
    FeedBody {
        name: name.to_owned(),
        url: format!("file:///feeds/{name}"),
        bytes: text.as_bytes().to_vec(),
        validators: Validators::default(),
    }
}

#[test]
fn builds_union_minus_reserved_and_allowlist() {
    let mut s = settings();
    s.allowlist = vec!["8.8.8.8/32".parse().expect("net")];
    let feeds = vec![
        body(
            "a",
            &format!("{LEVEL1_HEAD}10.0.0.0/8\n8.8.8.0/24\n1.1.1.1\n"),
        ),
        body("b", "1.1.1.0/24\n::1\n"),
    ];
    let built = assemble(&s, None, at(1), feeds).expect("builds");
    assert_eq!(
        String::from_utf8(built.bytes.clone()).expect("ascii"),
        "1.1.1.0/24\n8.8.8.0/29\n8.8.8.9\n8.8.8.10/31\n8.8.8.12/30\n8.8.8.16/28\n8.8.8.32/27\n8.8.8.64/26\n8.8.8.128/25\n"
    );
    assert_eq!(built.entries, 9);
    assert_eq!(built.addresses, 256 + 255);
    assert_eq!(built.removed_reserved, 1 << 24);
    assert_eq!(built.removed_allowlisted, 1);
    assert_eq!(built.union_addresses, (1 << 24) + 512);
    assert_eq!(built.sha256, hex::encode(Sha256::digest(&built.bytes)));
    assert_eq!(
        built.feeds[0].file_date.as_deref(),
        Some("2024-01-23T09:17:57Z")
    );
    assert_eq!(built.feeds[0].age_hours, Some(1.0));
    assert_eq!(built.feeds[1].ipv6_dropped, 1);
    assert_eq!(built.feeds[1].file_date, None);
}

#[test]
fn same_addresses_same_bytes_whatever_the_order() {
    let a = assemble(
        &settings(),
        None,
        at(0),
        vec![body("a", "2.2.2.2\n1.1.1.1\n")],
    );
    let b = assemble(
        &settings(),
        None,
        at(0),
        vec![body("b", "1.1.1.1\n"), body("c", "2.2.2.2\n1.1.1.1\n")],
    );
    assert_eq!(a.expect("a").sha256, b.expect("b").sha256);
}

#[test]
fn stale_feed_trips_max_age() {
    let e = assemble(
        &settings(),
        None,
        at(49),
        vec![body("a", &format!("{LEVEL1_HEAD}1.1.1.1\n"))],
    )
    .expect_err("stale");
    let text = e.to_string();
    assert!(!e.is_usage());
    assert!(
        text.starts_with(
            "failed to build the list: guard max_age_hours tripped: feed a (file:///feeds/a)"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("the last published list stays in force"),
        "{text}"
    );
    // Off: passes.
    let mut s = settings();
    s.max_age_hours = None;
    assert!(
        assemble(
            &s,
            None,
            at(49),
            vec![body("a", &format!("{LEVEL1_HEAD}1.1.1.1\n"))]
        )
        .is_ok()
    );
}

#[test]
fn shrink_guard_uses_the_previous_manifest() {
    let previous = PreviousList {
        entries: 10,
        ..PreviousList::default()
    };
    let e = assemble(
        &settings(),
        Some(&previous),
        at(0),
        vec![body("a", "1.1.1.1\n2.2.2.2\n")],
    )
    .expect_err("shrank 80%");
    assert_eq!(
        e.to_string(),
        "failed to build the list: guard max_shrink_percent tripped: the list shrank by 80.0% (from 10 to 2 entries), more than the 50% allowed (from feed a: 2 entries, 0 rejected); the last published list stays in force"
    );
}

#[test]
fn min_entries_counts_after_hygiene() {
    let mut s = settings();
    s.min_entries = 2;
    let e =
        assemble(&s, None, at(0), vec![body("a", "10.0.0.1\n1.1.1.1\n")]).expect_err("one left");
    assert!(e.to_string().contains(
        "guard min_entries tripped: the list has 1 entries, 1 fewer than the minimum of 2"
    ));
}

#[test]
fn garbage_feed_is_refused_with_its_name_and_first_bad_line() {
    let e = assemble(
        &settings(),
        None,
        at(0),
        vec![body("web", "<html>\n<body>busy</body>\n</html>\n")],
    )
    .expect_err("html");
    assert_eq!(
        e.to_string(),
        "failed to use feed web (file:///feeds/web): 3 of its 3 data lines are not valid entries, more than the 1% allowed (first: line 1: not an IPv4 address, CIDR or range: \"<html>\"); the last published list stays in force"
    );
}

#[test]
fn over_the_entry_quota_is_built_whole_for_the_split() {
    // 250,001 separate addresses (every other one, so nothing merges): one
    // over GuardDuty's quota per list, which the split, not a refusal, meets.
    let text: String = (0..250_001u32)
        .map(|i| format!("{}\n", std::net::Ipv4Addr::from(0x0100_0000 + i * 2)))
        .collect();
    let built = assemble(&settings(), None, at(0), vec![body("big", &text)]).expect("builds");
    assert_eq!(built.entries, 250_001);
    let parts = split::split(&built.bytes, split::MAX_ENTRIES, split::MAX_BYTES);
    assert_eq!(parts.len(), 2);
    assert_eq!(&built.bytes[parts[1].clone()], b"1.7.161.32\n");
}

#[test]
fn digest_ignores_allowlist_order_but_not_content() {
    let mut a = settings();
    a.allowlist = vec![
        "1.1.1.0/24".parse().expect("net"),
        "2.2.2.2/32".parse().expect("net"),
    ];
    let mut b = a.clone();
    b.allowlist.reverse();
    assert_eq!(a.digest(), b.digest());
    b.strip_reserved = false;
    assert_ne!(a.digest(), b.digest());
}

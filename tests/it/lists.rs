//! Several threat lists, the trusted list, lists split past GuardDuty's
//! limits and `archive_existing`, end to end: the binary against the demo
//! organization, asserting on the sets and IPSets the emulator holds, the
//! objects in the bucket (byte for byte what `guardsync list build` prints),
//! the findings and the call log.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::gs::{
    BUCKET, RUN_RECORD, assume, failures, fixtures, guardsync, ip_sets, mutating_calls, run,
    s3_object, seed_demo, sets,
};
use crate::common::{ADMIN, Emulator, emulator};
use serde_json::Value;

const STANDALONE: &str = "777777777777";

/// A configuration for the demo organization with `lists` (the YAML of
/// `feeds`, `threat_lists` and `trusted_list`) and `extra`.
fn lists_config(dir: &Path, regions: &[&str], lists: &str, extra: &str) -> PathBuf {
    let yaml = format!(
        "admin:\n  account_id: \"{ADMIN}\"\n\
         regions: [{}]\n\
         organization:\n  exclude_accounts: [\"131313131313\"]\n\
         {lists}\
         bucket:\n  name: {BUCKET}\n  region: us-east-1\n{extra}",
        regions.join(", ")
    );
    let path = dir.join("guardsync.yaml");
    std::fs::write(&path, yaml).expect("write config");
    path
}

/// Two threat lists from two FireHOL fixtures, and a trusted list holding
/// `trusted` (also taken out of both threat lists).
fn two_lists(trusted: &str) -> String {
    let f = fixtures();
    format!(
        "feeds:\n\
         \x20 - name: firehol_level1\n    url: file://{f}/firehol_level1.netset\n\
         \x20 - name: blocklist_de\n    url: file://{f}/blocklist_de.ipset\n\
         threat_lists:\n\
         \x20 - name: FireHOL-Level1\n    feeds: [firehol_level1]\n    max_age_hours: null\n\
         \x20 - name: Blocklist-DE\n    feeds: [blocklist_de]\n    max_age_hours: null\n\
         trusted_list:\n  name: guardsync-trusted\n  cidrs: [\"{trusted}\"]\n",
        f = f.display()
    )
}

/// What `guardsync list build --list NAME --out FILE` writes.
fn built(emu: &Emulator, cfg: &Path, name: &str) -> Vec<u8> {
    let out = cfg.with_file_name(format!("{name}.txt"));
    let c = cfg.to_str().expect("utf-8");
    let o = out.to_str().expect("utf-8");
    let r = guardsync(
        emu,
        &["list", "build", "--config", c, "--list", name, "--out", o],
    );
    assert_eq!(r.code, 0, "list build {name}: {}", r.stderr);
    std::fs::read(out).expect("read the built list")
}

/// The key of an `s3://BUCKET/KEY` location.
fn key_of(location: &str) -> &str {
    location
        .strip_prefix(&format!("s3://{BUCKET}/"))
        .unwrap_or_else(|| panic!("not in the bucket: {location}"))
}

/// (account, region, placement) of every target of a report.
fn placements(report: &Value) -> Vec<(String, String, String)> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            (
                t["account_id"].as_str().unwrap_or_default().to_owned(),
                t["region"].as_str().unwrap_or_default().to_owned(),
                t["placement"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The names of the sets guardsync owns in a detector, with their status.
async fn owned(emu: &Emulator, account: &str, region: &str) -> (Vec<String>, Vec<String>) {
    let names = |v: Vec<(String, String, String, bool)>| {
        let mut n: Vec<String> = v
            .into_iter()
            .filter(|s| s.3)
            .map(|s| format!("{} {}", s.0, s.2))
            .collect();
        n.sort();
        n
    };
    (
        names(sets(emu, account, region).await),
        names(ip_sets(emu, account, region).await),
    )
}

/// A public network of the FireHOL level 1 fixture, as listed there.
fn a_listed_network() -> String {
    let text = std::fs::read_to_string(fixtures().join("firehol_level1.netset")).expect("fixture");
    text.lines()
        .filter(|l| !l.starts_with("0.") && l.starts_with(|c: char| c.is_ascii_digit()))
        .find(|l| {
            l.parse::<ipnet::Ipv4Net>()
                .is_ok_and(|n| !n.network().is_private() && n.prefix_len() >= 16)
        })
        .expect("a public network in the fixture")
        .to_owned()
}

/// Whether any entry of a list covers `addr`.
fn covers(list: &[u8], addr: std::net::Ipv4Addr) -> bool {
    String::from_utf8_lossy(list).lines().any(|l| {
        let net: ipnet::Ipv4Net = if l.contains('/') {
            l.parse().expect("a CIDR")
        } else {
            ipnet::Ipv4Net::new(l.parse().expect("an address"), 32).expect("a /32")
        };
        net.contains(&addr)
    })
}

#[tokio::test]
async fn several_lists_and_the_trusted_list_go_to_every_admin_and_standalone_target_only() {
    let emu = emulator();
    let _g = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let trusted = a_listed_network();
    let inside: ipnet::Ipv4Net = trusted.parse().expect("a network");
    let regions = ["us-east-1", "eu-west-1"];
    let cfg = lists_config(dir.path(), &regions, &two_lists(&trusted), "");

    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let report = apply.json();
    let names: Vec<&str> = report["lists"]
        .as_array()
        .expect("lists")
        .iter()
        .map(|l| l["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["FireHOL-Level1", "Blocklist-DE"]);
    assert_eq!(report["list"], report["lists"][0]);
    assert_eq!(report["trusted_list"]["name"], "guardsync-trusted");

    // Every list object is exactly what `list build` prints for it, and the
    // trusted address is in none of the threat lists.
    let expected: Vec<(String, Vec<u8>)> = ["FireHOL-Level1", "Blocklist-DE", "guardsync-trusted"]
        .iter()
        .map(|n| ((*n).to_owned(), built(emu, &cfg, n)))
        .collect();
    assert_eq!(expected[2].1, format!("{trusted}\n").into_bytes());
    for (name, bytes) in &expected[..2] {
        for addr in [inside.network(), inside.broadcast()] {
            assert!(!covers(bytes, addr), "{name} lists {addr}");
        }
    }
    let by_report: Vec<&Value> = report["lists"]
        .as_array()
        .expect("lists")
        .iter()
        .chain(std::iter::once(&report["trusted_list"]))
        .collect();
    for (l, (name, bytes)) in by_report.iter().zip(&expected) {
        let location = l["location"].as_str().expect("location");
        assert_eq!(&s3_object(emu, key_of(location)).await, bytes, "{name}");
    }

    // Every admin and standalone target has the three, ACTIVE, pointing at
    // those objects; no other detector has any of guardsync's.
    let want_sets = vec![
        "Blocklist-DE ACTIVE".to_owned(),
        "FireHOL-Level1 ACTIVE".to_owned(),
    ];
    let want_ip = vec!["guardsync-trusted ACTIVE".to_owned()];
    let mut managed = 0;
    for (account, region, placement) in placements(&report) {
        let got = owned(emu, &account, &region).await;
        if placement == "admin" || placement == "standalone" {
            managed += 1;
            assert_eq!(
                got,
                (want_sets.clone(), want_ip.clone()),
                "{account} {region}"
            );
            for (name, location, ..) in sets(emu, &account, &region).await {
                let i = usize::from(name != "FireHOL-Level1");
                assert_eq!(
                    key_of(&location),
                    key_of(by_report[i]["location"].as_str().unwrap_or_default())
                );
            }
        } else {
            assert_eq!(
                got,
                (Vec::new(), Vec::new()),
                "{account} {region} ({placement})"
            );
        }
    }
    // The administrator in both regions, 777 in both, 444 in eu-west-1.
    assert_eq!(managed, 5);

    // A second apply makes no mutating call; a plan sees nothing to do.
    emu.clear_calls().await;
    let again = run(emu, "apply", &cfg);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(mutating_calls(emu).await, [RUN_RECORD]);
    let c = cfg.to_str().expect("utf-8");
    let plan = guardsync(emu, &["plan", "--config", c, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);

    // One list and the trusted list leave the configuration: their sets go
    // wherever guardsync owns them, and nothing else changes.
    let f = fixtures();
    let one = format!(
        "feeds:\n  - name: firehol_level1\n    url: file://{}/firehol_level1.netset\n\
         threat_lists:\n  - name: FireHOL-Level1\n    feeds: [firehol_level1]\n    max_age_hours: null\n",
        f.display()
    );
    let cfg = lists_config(dir.path(), &regions, &one, "");
    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let report = apply.json();
    for (account, region, placement) in placements(&report) {
        if placement == "admin" || placement == "standalone" {
            assert_eq!(
                owned(emu, &account, &region).await,
                (vec!["FireHOL-Level1 ACTIVE".to_owned()], Vec::new()),
                "{account} {region}"
            );
        }
    }
    let admin = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["account_id"] == ADMIN && t["region"] == "eu-west-1")
        .expect("the administrator's target");
    let changes: BTreeSet<String> = admin["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["action"].as_str().unwrap_or_default(),
                c["resource"].as_str().unwrap_or_default(),
                c["name"].as_str().unwrap_or_default()
            )
        })
        .collect();
    // The FireHOL list lost the trusted address's subtraction: new content.
    assert_eq!(
        changes,
        BTreeSet::from([
            "delete ip_set guardsync-trusted".to_owned(),
            "delete threat_intel_set Blocklist-DE".to_owned(),
            "update threat_intel_set FireHOL-Level1".to_owned(),
        ])
    );
    let m1 = s3_object(emu, "guardduty/manifest.json").await;
    emu.clear_calls().await;
    let again = run(emu, "apply", &cfg);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let m2 = s3_object(emu, "guardduty/manifest.json").await;
    assert_eq!(String::from_utf8_lossy(&m1), String::from_utf8_lossy(&m2));
    assert_eq!(mutating_calls(emu).await, [RUN_RECORD]);

    // The removed lists' objects stay until the next publication of a list,
    // which retires them (the lifecycle rule's tag).
    let removed = [
        key_of(by_report[1]["location"].as_str().unwrap_or_default()).to_owned(),
        key_of(by_report[2]["location"].as_str().unwrap_or_default()).to_owned(),
    ];
    for key in &removed {
        assert!(!retired(emu, key).await, "{key}");
    }
    let cfg = lists_config(
        dir.path(),
        &regions,
        &one.replace(
            "max_age_hours: null\n",
            "max_age_hours: null\n    allowlist: [\"2.56.192.0/22\"]\n",
        ),
        "",
    );
    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(apply.json()["list"]["changed"], true);
    for key in &removed {
        assert!(retired(emu, key).await, "{key}");
    }
}

/// Whether the object `key` carries guardsync's retired tag.
async fn retired(emu: &Emulator, key: &str) -> bool {
    crate::common::gs::s3(emu)
        .await
        .get_object_tagging()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("tags of {key}: {e:?}"))
        .tag_set()
        .iter()
        .any(|t| t.key() == "guardsync-retired" && t.value() == "true")
}

/// Create a TXT set of `kind` in `account`'s detector in `region`, not
/// guardsync's.
async fn foreign(emu: &Emulator, account: &str, region: &str, ip: bool, name: &str) -> String {
    let base = emu.sdk(region).await;
    let conf = if account == ADMIN {
        base
    } else {
        assume(&base, account).await
    };
    let gd = aws_sdk_guardduty::Client::new(&conf);
    let det = gd.list_detectors().send().await.expect("detectors");
    let det = det.detector_ids().first().expect("a detector").clone();
    let location = format!("s3://{BUCKET}/partner/{name}.txt");
    if ip {
        gd.create_ip_set()
            .detector_id(det)
            .name(name)
            .format(aws_sdk_guardduty::types::IpSetFormat::Txt)
            .location(location)
            .activate(false)
            .send()
            .await
            .expect("create a foreign IPSet")
            .ip_set_id()
            .unwrap_or_default()
            .to_owned()
    } else {
        gd.create_threat_intel_set()
            .detector_id(det)
            .name(name)
            .format(aws_sdk_guardduty::types::ThreatIntelSetFormat::Txt)
            .location(location)
            .activate(false)
            .send()
            .await
            .expect("create a foreign set")
            .threat_intel_set_id()
            .unwrap_or_default()
            .to_owned()
    }
}

#[tokio::test]
async fn a_foreign_ipset_is_a_conflict_until_it_is_tagged_for_guardsync() {
    let emu = emulator();
    let _g = emu.lock().await;
    seed_demo(emu).await;
    let id = foreign(emu, ADMIN, "eu-west-1", true, "corp-trusted").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = lists_config(dir.path(), &["eu-west-1"], &two_lists("198.51.100.7"), "");

    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 3, "{}\n{}", apply.stdout, apply.stderr);
    let arn = format!("arn:aws:guardduty:eu-west-1:{ADMIN}:detector/");
    let [failed] = failures(&apply.json()).try_into().expect("one failure");
    assert!(
        failed.starts_with("111111111111 eu-west-1: an IPSet named \"corp-trusted\" (id ")
            && failed.contains(&arn)
            && failed.contains("--tags managed-by=guardsync")
            && failed.contains("set trusted_list.name to \"corp-trusted\""),
        "{failed}"
    );
    // The threat lists went in all the same; the IPSet is left alone.
    let (threat, ip) = owned(emu, ADMIN, "eu-west-1").await;
    assert_eq!(threat.len(), 2, "{threat:?}");
    assert_eq!(ip, Vec::<String>::new());
    assert_eq!(ip_sets(emu, ADMIN, "eu-west-1").await.len(), 1);

    // Tagged for guardsync: it is replaced by the trusted list.
    let gd = aws_sdk_guardduty::Client::new(&emu.sdk("eu-west-1").await);
    let det = gd.list_detectors().send().await.expect("detectors");
    let det = det.detector_ids().first().expect("a detector").clone();
    gd.tag_resource()
        .resource_arn(format!("{arn}{det}/ipset/{id}"))
        .tags("managed-by", "guardsync")
        .send()
        .await
        .expect("tag");
    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let all = ip_sets(emu, ADMIN, "eu-west-1").await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (all[0].0.as_str(), all[0].2.as_str(), all[0].3),
        ("guardsync-trusted", "ACTIVE", true)
    );
}

/// A feed of `n` addresses that do not aggregate: every other address from
/// 11.0.0.0 (public space).
fn wide_feed(path: &Path, n: u32) {
    let start = u32::from(std::net::Ipv4Addr::new(11, 0, 0, 0));
    let mut text = String::with_capacity(n as usize * 12);
    for i in 0..n {
        text.push_str(&std::net::Ipv4Addr::from(start + 2 * i).to_string());
        text.push('\n');
    }
    std::fs::write(path, text).expect("write the feed");
}

fn wide_lists(feed: &Path, more: &str) -> String {
    format!(
        "feeds:\n  - name: wide\n    url: file://{}\n{more}\
         threat_lists:\n  - name: Wide\n    feeds: [wide]\n    max_age_hours: null\n    max_shrink_percent: null\n",
        feed.display()
    )
}

#[tokio::test]
async fn a_list_past_250000_entries_is_split_within_the_free_slots_and_shrinks_back() {
    let emu = emulator();
    let _g = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let feed = dir.path().join("wide.txt");
    wide_feed(&feed, 300_000);
    // 777 has five threat lists of someone else's in eu-west-1: one slot.
    for i in 1..=5 {
        foreign(emu, STANDALONE, "eu-west-1", false, &format!("theirs-{i}")).await;
    }
    emu.clear_calls().await;
    let cfg = lists_config(dir.path(), &["eu-west-1"], &wide_lists(&feed, ""), "");
    let plan = run(emu, "plan", &cfg);
    assert_eq!(plan.code, 3, "{}\n{}", plan.stdout, plan.stderr);
    assert_eq!(mutating_calls(emu).await, Vec::<String>::new());

    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 3, "{}\n{}", apply.stdout, apply.stderr);
    let report = apply.json();
    assert_eq!(
        failures(&report),
        [format!(
            "{STANDALONE} eu-west-1: needs 2 threat list slot(s) for \"Wide-1\", \"Wide-2\" but \
             has 1 free: GuardDuty allows 6 per detector and 5 not managed by guardsync \
             (\"theirs-1\", \"theirs-2\", \"theirs-3\", \"theirs-4\", \"theirs-5\") take the \
             others; nothing was changed here: configure fewer lists, or delete the lists that \
             are no longer used"
        )]
    );
    assert_eq!(
        owned(emu, STANDALONE, "eu-west-1").await.0,
        Vec::<String>::new()
    );

    // Elsewhere: two sets whose objects, in order, are exactly the list.
    let list = &report["lists"][0];
    assert_eq!(list["entries"], 300_000);
    let parts = list["parts"].as_array().expect("parts");
    assert_eq!(
        parts
            .iter()
            .map(|p| (
                p["name"].as_str().unwrap_or_default(),
                p["entries"].as_u64().unwrap_or_default()
            ))
            .collect::<Vec<_>>(),
        [("Wide-1", 250_000), ("Wide-2", 50_000)]
    );
    let whole = built(emu, &cfg, "Wide");
    let mut joined = Vec::new();
    for p in parts {
        joined.extend(s3_object(emu, key_of(p["location"].as_str().unwrap_or_default())).await);
    }
    assert_eq!(joined, whole);
    for account in [ADMIN, "444444444444"] {
        assert_eq!(
            owned(emu, account, "eu-west-1").await.0,
            ["Wide-1 ACTIVE", "Wide-2 ACTIVE"],
            "{account}"
        );
        let by_name: std::collections::BTreeMap<String, String> = sets(emu, account, "eu-west-1")
            .await
            .into_iter()
            .map(|s| (s.0, s.1))
            .collect();
        for p in parts {
            assert_eq!(
                by_name[p["name"].as_str().unwrap_or_default()],
                p["location"].as_str().unwrap_or_default()
            );
        }
    }

    // Back under the limit: one set, the parts are gone.
    wide_feed(&feed, 1_000);
    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    for account in [ADMIN, "444444444444"] {
        assert_eq!(
            owned(emu, account, "eu-west-1").await.0,
            ["Wide ACTIVE"],
            "{account}"
        );
    }
    // 777 has its one free slot for it now.
    assert_eq!(owned(emu, STANDALONE, "eu-west-1").await.0, ["Wide ACTIVE"]);
    assert_eq!(failures(&apply.json()), Vec::<String>::new());
}

#[tokio::test]
async fn lists_that_need_more_than_six_sets_stop_before_any_write() {
    let emu = emulator();
    let _g = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let feed = dir.path().join("wide.txt");
    wide_feed(&feed, 300_000);
    let mut more = String::new();
    for i in 1..=5 {
        more.push_str(&format!(
            "  - name: Small-{i}\n    feeds: [firehol_level1]\n    max_age_hours: null\n"
        ));
    }
    let lists = format!(
        "{}{more}",
        wide_lists(
            &feed,
            &format!(
                "  - name: firehol_level1\n    url: file://{}/firehol_level1.netset\n",
                fixtures().display()
            )
        )
    );
    let cfg = lists_config(dir.path(), &["eu-west-1"], &lists, "");
    emu.clear_calls().await;
    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains(
            "the threat lists need 7 sets (\"Wide\": 2, \"Small-1\": 1, \"Small-2\": 1, \
             \"Small-3\": 1, \"Small-4\": 1, \"Small-5\": 1;"
        ) && apply
            .stderr
            .contains("GuardDuty allows 6 threat lists per detector; nothing was written"),
        "{}",
        apply.stderr
    );
    assert_eq!(mutating_calls(emu).await, Vec::<String>::new());
}

#[tokio::test]
async fn archive_existing_archives_what_a_rule_matches_once() {
    let emu = emulator();
    let _g = emu.lock().await;
    seed_demo(emu).await;
    // 777 (standalone) has a Portscan of its own in us-east-1.
    emu.add_findings(
        STANDALONE,
        "us-east-1",
        serde_json::json!([{"type": "Recon:EC2/Portscan", "severity": 5.0, "remote_ip": "198.51.100.9"}]),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let f = fixtures();
    let rules = |archive: bool| {
        format!(
            "feeds:\n  - name: firehol_level1\n    url: file://{}/firehol_level1.netset\n\
             threat_list:\n  max_age_hours: null\n\
             suppression_rules:\n  - name: internal-scanner\n    rank: 1\n    archive_existing: {archive}\n\
             \x20   criteria:\n      type: {{ equals: [\"Recon:EC2/Portscan\"] }}\n",
            f.display()
        )
    };
    let open = |account: &'static str| async move {
        emu.findings(account, "us-east-1", Some(false))
            .await
            .into_iter()
            .filter(|f| f["type"] == "Recon:EC2/Portscan")
            .count()
    };

    // Without archive_existing, apply says what the rule matches and that it stays.
    let cfg = lists_config(dir.path(), &["us-east-1"], &rules(false), "");
    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let detail = |report: &Value, account: &str, action: &str| -> Vec<String> {
        report["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .filter(|t| t["account_id"] == account && t["region"] == "us-east-1")
            .flat_map(|t| t["changes"].as_array().cloned().unwrap_or_default())
            .filter(|c| c["resource"] == "filter" && c["action"] == action)
            .flat_map(|c| c["detail"].as_array().cloned().unwrap_or_default())
            .filter_map(|d| d.as_str().map(str::to_owned))
            .filter(|d| d.contains("current finding"))
            .collect()
    };
    assert_eq!(
        detail(&apply.json(), ADMIN, "create"),
        [
            "matches 3 current findings (they stay; GuardDuty archives only new ones; \
          archive_existing: true archives them too)"
        ]
    );
    assert_eq!((open("222222222222").await, open(STANDALONE).await), (3, 1));

    // With it: the administrator archives its members', 777 its own.
    let cfg = lists_config(dir.path(), &["us-east-1"], &rules(true), "");
    let plan = run(emu, "plan", &cfg);
    assert_eq!(
        detail(&plan.json(), ADMIN, "archive"),
        ["3 current findings the rule matches (archive_existing)"]
    );
    assert_eq!((open("222222222222").await, open(STANDALONE).await), (3, 1));
    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let report = apply.json();
    assert_eq!(
        detail(&report, ADMIN, "archive"),
        ["3 current findings the rule matches (archive_existing)"]
    );
    assert_eq!(
        detail(&report, STANDALONE, "archive"),
        ["1 current finding the rule matches (archive_existing)"]
    );
    assert_eq!((open("222222222222").await, open(STANDALONE).await), (0, 0));
    // The other findings stay open.
    assert_eq!(
        emu.findings("333333333333", "us-east-1", Some(false))
            .await
            .len(),
        2
    );

    // A second apply archives nothing more.
    emu.clear_calls().await;
    let again = run(emu, "apply", &cfg);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(mutating_calls(emu).await, [RUN_RECORD]);
}

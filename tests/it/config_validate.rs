//! `guardsync validate` on the example and on broken configurations: exit code
//! 2, every problem on its own line with the key path and the line number
//! (snapshotted), and no network (the command has no AWS endpoint to call).

use std::process::Command;

use crate::common::run::Run;

use test_case::test_case;

/// A minimal valid configuration that the cases below break one key at a time.
const BASE: &str = r#"admin:
  account_id: "111111111111"
regions: [us-east-1, eu-west-1]
bucket:
  name: org-threat-lists-111111111111
  region: us-east-1
"#;

/// Run `guardsync validate` on `yaml` written as `guardsync.yaml` in a fresh directory.
fn validate(yaml: &str) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("guardsync.yaml"), yaml).expect("write config");
    let out = Command::new(env!("CARGO_BIN_EXE_guardsync"))
        .args(["validate", "--config", "guardsync.yaml"])
        .current_dir(dir.path())
        // Proof of "no network": any AWS call would go to a closed port and fail.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("RUST_LOG", "off")
        .output()
        .expect("run guardsync");
    Run::from(out)
}

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn example_configuration_is_valid() {
    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.yaml"))
        .expect("read config/example.yaml");
    let run = validate(&yaml);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "");
    insta::assert_snapshot!("example_summary", run.stdout);
}

#[test]
fn minimal_configuration_gets_the_documented_defaults() {
    let c = guardsync::config::parse(BASE, "g.yaml".as_ref(), "g.yaml").expect("valid");
    assert_eq!(c.concurrency, 32);
    assert_eq!(c.retry_max_attempts, 8);
    assert_eq!(c.organization.member_role, "GuardSyncMemberRole");
    assert_eq!(c.organization.session_name, "guardsync");
    assert_eq!(c.organization.probe, guardsync::config::Probe::Needed);
    assert_eq!(c.feeds.len(), 1);
    assert_eq!(c.feeds[0].name, "firehol_level1");
    assert_eq!(c.feeds[0].url.as_str(), guardsync::config::DEFAULT_FEED_URL);
    assert_eq!(c.threat_lists[0].name, "FireHOL-Level1");
    assert!(c.threat_lists[0].strip_reserved);
    assert_eq!(c.threat_lists[0].min_entries, 100);
    assert_eq!(c.threat_lists[0].max_shrink_percent, Some(50));
    assert_eq!(c.threat_lists[0].max_age_hours, Some(48));
    assert_eq!(c.bucket.prefix, "guardduty/");
    assert!(c.bucket.manage_policy);
    assert!(c.suppression_rules.is_empty());
    assert!(c.alerts.is_none());
    assert!(c.rollout.is_none());
}

#[test]
fn null_turns_the_optional_guards_off() {
    let c = guardsync::config::parse(
        &with("threat_list:\n  max_shrink_percent: null\n  max_age_hours: null\n"),
        "g.yaml".as_ref(),
        "g.yaml",
    )
    .expect("valid");
    assert_eq!(c.threat_lists[0].max_shrink_percent, None);
    assert_eq!(c.threat_lists[0].max_age_hours, None);
}

#[test]
fn unquoted_account_id_with_a_leading_zero_keeps_its_digits() {
    let c = guardsync::config::parse(
        "admin:\n  account_id: 011111111111\nregions: enabled\nbucket: {name: abc, region: us-east-1}\n",
        "g.yaml".as_ref(),
        "g.yaml",
    )
    .expect("valid");
    assert_eq!(c.admin_account.as_str(), "011111111111");
    assert_eq!(c.regions, guardsync::config::RegionScope::Enabled);
}

#[test_case("empty_file", ""; "empty file")]
#[test_case("only_comments", "# nothing here\n\n# still nothing\n"; "only comments")]
#[test_case("yaml_syntax_error", "admin:\n  account_id: \"111111111111\"\nregions: [us-east-1\nbucket: x\n"; "yaml syntax error")]
#[test_case("top_level_not_a_mapping", "- admin\n- regions\n"; "top level not a mapping")]
#[test_case("unknown_top_level_key", &with("regoins: [us-east-1]\n"); "unknown top-level key")]
#[test_case("unknown_nested_key", "admin:\n  acount_id: \"111111111111\"\nregions: [us-east-1]\nbucket: {name: abc, region: us-east-1}\n"; "unknown nested key")]
#[test_case("duplicate_key", &with("concurrency: 4\nconcurrency: 8\n"); "duplicate key")]
#[test_case("keys_all_at_once", "admin:\n  acount_id: \"111111111111\"\nregoins: [us-east-1]\norganization:\n  prob: all\nsuppression_rules:\n  - name: scanner\n    criteria: {type: {equal: [a]}}\n"; "every unknown and missing key at once")]
#[test_case("missing_bucket", "admin:\n  account_id: \"111111111111\"\nregions: [us-east-1]\n"; "missing required section")]
#[test_case("account_id_11_digits", "admin:\n  account_id: \"11111111111\"\nregions: [us-east-1]\nbucket: {name: abc, region: us-east-1}\n"; "account id with 11 digits")]
#[test_case("region_typo", "admin:\n  account_id: \"111111111111\"\nregions: [us-east-1, eu-wst-1]\nbucket: {name: abc, region: us-east-1}\n"; "region typo")]
#[test_case("regions_empty", "admin:\n  account_id: \"111111111111\"\nregions: []\nbucket: {name: abc, region: us-east-1}\n"; "regions empty")]
#[test_case("regions_wrong_word", "admin:\n  account_id: \"111111111111\"\nregions: all\nbucket: {name: abc, region: us-east-1}\n"; "regions wrong word")]
#[test_case("session_name_bad", &with("organization:\n  session_name: \"guard sync!\"\n"); "session name with a space")]
#[test_case("ou_id_bad", &with("organization:\n  include_ous: [ou-root, ou-ab12-cd34ef56]\n"); "bad OU id")]
#[test_case("probe_unknown", &with("organization:\n  probe: sometimes\n"); "unknown probe mode")]
#[test_case("exclude_admin_and_both", &with("organization:\n  include_accounts: [\"222222222222\"]\n  exclude_accounts: [\"111111111111\", \"222222222222\"]\n"); "exclude the administrator and an included account")]
#[test_case("concurrency_zero", &with("concurrency: 0\n"); "concurrency zero")]
#[test_case("concurrency_not_a_number", &with("concurrency: lots\n"); "concurrency not a number")]
#[test_case("retry_out_of_range", &with("retry:\n  max_attempts: 21\n"); "retry out of range")]
#[test_case("feed_scheme_ftp", &with("feeds:\n  - name: level1\n    url: ftp://example.com/list.netset\n"); "feed with ftp scheme")]
#[test_case("feed_duplicate_and_bad_url", &with("feeds:\n  - name: level1\n    url: https://example.com/a\n  - name: level1\n    url: \"not a url\"\n"); "duplicate feed and bad url")]
#[test_case("allowlist_host_bits_and_ipv6", &with("threat_list:\n  allowlist: [\"203.0.113.7/24\", \"2001:db8::/32\", \"10.0.0.1\"]\n"); "allowlist host bits and ipv6")]
#[test_case("guards_out_of_range", &with("threat_list:\n  min_entries: 0\n  max_shrink_percent: 101\n  max_age_hours: 0\n"); "guards out of range")]
#[test_case("rule_rank_zero", &with("suppression_rules:\n  - name: internal-scanner\n    rank: 0\n    criteria:\n      type: { equals: [\"Recon:EC2/Portscan\"] }\n"); "rule rank zero")]
#[test_case("rule_rank_not_integer", &with("suppression_rules:\n  - name: internal-scanner\n    rank: high\n    criteria:\n      type: { equals: [\"Recon:EC2/Portscan\"] }\n"); "rule rank not an integer")]
#[test_case("rule_names_bad_and_duplicate", &with("suppression_rules:\n  - name: ab\n    rank: 1\n    criteria: {type: {equals: [a]}}\n  - name: scanner\n    rank: 2\n    criteria: {type: {equals: [a]}}\n  - name: scanner\n    rank: 3\n    criteria: {type: {equals: [a]}}\n  - name: \"has space\"\n    rank: 4\n    criteria: {type: {equals: [a]}}\n"); "rule names bad and duplicate")]
#[test_case("rule_unknown_operator", &with("suppression_rules:\n  - name: scanner\n    rank: 1\n    criteria:\n      type: { eq: [\"Recon:EC2/Portscan\"] }\n"); "criteria with the deprecated eq operator")]
#[test_case("rule_criteria_fields", &with("suppression_rules:\n  - name: scanner\n    rank: 1\n    criteria:\n      Type: { equals: [\"Recon:EC2/Portscan\"] }\n      service.action.networkConnectionAction.remoteIpDetails.ipAddress: { equals: [\"198.51.100.7\"] }\n      remoteIpDetails.ipAddressV6: { equals: [\"2001:db8::1\"] }\n      service.nonsense: { equals: [x] }\n"); "criteria field names with did-you-mean")]
#[test_case("rule_criteria_limits", &with("suppression_rules:\n  - name: scanner\n    rank: 1\n    criteria:\n      type: { matches: [a, b, c, d, e, f] }\n      severity: {}\n      resource.instanceDetails.tags.value: { equals: [] }\n  - name: empty\n    rank: 2\n    criteria: {}\n"); "criteria limits")]
#[test_case("alerts_bad", &with("alerts:\n  min_severity: 11\n  topic_name: \"guardsync findings\"\n  emails: [\"secops@example.com\", \"not-an-address\", \"secops@example.com\"]\n"); "alerts bad values")]
#[test_case("rollout_bad", &with("rollout:\n  waves:\n    - rest\n    - regions: [us-east-1]\n    - regions: [us-east-1, ap-south-1]\n    - {}\n  failure_tolerance: \"150%\"\n"); "rollout rest not last, overlap, region out of scope")]
#[test_case("bucket_bad", "admin:\n  account_id: \"111111111111\"\nregions: [us-east-1]\nbucket:\n  name: Org_Lists\n  region: mars-north-1\n  prefix: /lists\n"; "bucket name, region and prefix")]
#[test_case("many_errors_at_once", "admin:\n  account_id: \"12345\"\nregions: [us-east-1, eu-wst-1]\nconcurrency: 0\nbucket:\n  name: B\n  region: us-east-1\nsuppression_rules:\n  - name: x\n    rank: 101\n    criteria: {type: {equals: [a]}}\n"; "many errors at once")]
fn broken_configuration_is_refused(name: &str, yaml: &str) {
    let run = validate(yaml);
    assert_eq!(
        run.code, 2,
        "{name}: stdout: {} stderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(
        run.stdout, "",
        "{name}: nothing on stdout for a broken configuration"
    );
    for line in run.stderr.lines() {
        assert!(
            line.starts_with("guardsync.yaml"),
            "{name}: every line names the file: {line}"
        );
    }
    insta::assert_snapshot!(name, run.stderr);
}

#[test]
fn alias_bomb_fails_fast() {
    // "Billion laughs": ten levels of nine aliases each would expand to 9^10
    // strings; the parser must refuse it instead of materialising it.
    let mut yaml = String::from(
        "admin:\n  account_id: \"111111111111\"\nbucket: {name: abc, region: us-east-1}\n",
    );
    yaml.push_str("regions: &l0 [us-east-1, us-east-1, us-east-1, us-east-1, us-east-1, us-east-1, us-east-1, us-east-1, us-east-1]\n");
    yaml.push_str(
        "organization:\n  include_accounts: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]\n",
    );
    for i in 2..10 {
        let prev = i - 1;
        yaml.push_str(&format!(
            "  exclude_accounts: &l{i} [*l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}, *l{prev}]\n"
        ));
    }
    let run = validate(&yaml);
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert!(run.stderr.starts_with("guardsync.yaml:"), "{}", run.stderr);
}

#[test]
fn oversized_file_is_refused_before_parsing() {
    let run = validate(&"#".repeat(2 << 20));
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("oversized_file", run.stderr);
}

#[test]
fn missing_file_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_guardsync"))
        .args(["validate", "--config", "nope.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("run guardsync");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "nope.yaml: there is no such file: name the configuration with --config FILE"
        ),
        "{stderr}"
    );
}

#[test_case("GuardSyncMemberRole", "GuardSyncMemberRole"; "a name")]
#[test_case("security/GuardSyncMemberRole", "security/GuardSyncMemberRole"; "path and name")]
#[test_case("/security/tools/GuardSyncMemberRole", "security/tools/GuardSyncMemberRole"; "path written the IAM way")]
fn member_role_accepts_names_and_paths(role: &str, want: &str) {
    let c = guardsync::config::parse(
        &with(&format!("organization:\n  member_role: \"{role}\"\n")),
        "g.yaml".as_ref(),
        "g.yaml",
    )
    .expect("valid");
    assert_eq!(c.organization.member_role, want);
}

//! `guardsync policies` (issue #6): the committed `policies/*.json` are what
//! the command renders from `config/example.yaml`, and the rendered IAM
//! policies allow every call guardsync makes.
//!
//! The coverage test runs plan and apply against the demo organization in
//! the local emulator through every call path (threat list created then
//! moved to a new object, suppression rules created, changed and deleted,
//! alerts created, an address unsubscribed, then alerts removed, `regions:
//! enabled`), and checks each call of the emulator's log against the policy
//! of the account that made it: the administrator's calls (and its
//! AssumeRole into member roles) against `administrator-role.json`, calls
//! made with a member role's credentials against `member-role.json`. Calls
//! the emulator answered with an error still need their permission: they
//! are checked like the others.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::gs::{config, failures, run, seed_demo};
use crate::common::{ADMIN, Call, Emulator, emulator};
use guardsync::policies::{Options, allows, render};
use serde_json::Value;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const FILES: [&str; 4] = [
    "bucket-policy.json",
    "administrator-role.json",
    "member-role.json",
    "member-trust.json",
];
const REGENERATE: &str =
    "cargo run --bin guardsync -- policies --config config/example.yaml --out policies";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `guardsync ARGS` without AWS (the policies command makes no call).
fn policies_cmd(args: &[&str]) -> crate::common::run::Run {
    Command::new(env!("CARGO_BIN_EXE_guardsync"))
        .arg("policies")
        .args(args)
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run guardsync policies")
        .into()
}

#[test]
fn committed_policies_are_rendered_from_the_example_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("rendered");
    let run = policies_cmd(&[
        "--config",
        "config/example.yaml",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in FILES {
        let rendered = std::fs::read_to_string(out.join(name)).expect("rendered file");
        let committed = std::fs::read_to_string(repo().join("policies").join(name))
            .unwrap_or_else(|e| panic!("policies/{name}: {e}; create it with `{REGENERATE}`"));
        assert!(
            rendered == committed,
            "policies/{name} is not what config/example.yaml renders; regenerate it with \
             `{REGENERATE}` and review the diff.\n--- rendered\n{rendered}"
        );
    }
}

#[test]
fn stdout_holds_the_four_documents_and_the_placeholder_is_said() {
    let run = policies_cmd(&["--config", "config/example.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = run.json();
    let keys: Vec<&str> = all
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    for (key, name) in [
        "bucket-policy",
        "administrator-role",
        "member-role",
        "member-trust",
    ]
    .iter()
    .zip(FILES)
    {
        let committed: Value = serde_json::from_str(
            &std::fs::read_to_string(repo().join("policies").join(name)).expect("committed"),
        )
        .expect("committed JSON");
        assert_eq!(all[key], committed, "{key}");
    }
    assert!(
        run.stderr.contains("o-EXAMPLE") && run.stderr.contains("--organization-id"),
        "{}",
        run.stderr
    );

    let run = policies_cmd(&[
        "--config",
        "config/example.yaml",
        "--organization-id",
        "o-abcdefghij",
        "--admin-role",
        "ops/GuardSync",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = run.json();
    assert_eq!(
        all["bucket-policy"]["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
        "o-abcdefghij"
    );
    assert_eq!(
        all["member-trust"]["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111111111111:role/ops/GuardSync"
    );
    assert!(!run.stderr.contains("o-EXAMPLE"), "{}", run.stderr);
}

#[test]
fn bad_flags_and_bad_configurations_are_usage_errors() {
    let bad_org = policies_cmd(&[
        "--config",
        "config/example.yaml",
        "--organization-id",
        "o-1",
    ]);
    assert_eq!(bad_org.code, 2, "{}", bad_org.stderr);
    assert!(
        bad_org.stderr.contains("organization id"),
        "{}",
        bad_org.stderr
    );
    let bad_role = policies_cmd(&["--config", "config/example.yaml", "--admin-role", "a b"]);
    assert_eq!(bad_role.code, 2, "{}", bad_role.stderr);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(&cfg, "admin:\n  acount_id: \"111111111111\"\n").expect("write");
    let bad_config = policies_cmd(&["--config", cfg.to_str().expect("utf-8")]);
    assert_eq!(bad_config.code, 2, "{}", bad_config.stderr);
    assert_eq!(bad_config.stdout, "");
}

/// The names a call's resource ARN is built from.
struct Names {
    bucket: String,
    prefix: String,
    member_role: String,
    topic: String,
}

impl Names {
    fn of(path: &Path) -> Names {
        let c = guardsync::config::load(path).expect("valid config");
        Names {
            bucket: c.bucket.name.clone(),
            prefix: c.bucket.prefix.clone(),
            member_role: c.organization.member_role.clone(),
            topic: c
                .alerts
                .as_ref()
                .map_or("guardsync-findings".to_owned(), |a| a.topic_name.clone()),
        }
    }
}

/// The `(IAM action, resource)` pairs one logged call needs: its own action
/// and the ones AWS checks on its behalf. `members`: the accounts whose member
/// role the administrator may have assumed (AssumeRole's log entry does not
/// say which).
fn needs(call: &Call, n: &Names, members: &BTreeSet<String>) -> Vec<(String, String)> {
    let account = call.account.as_deref().unwrap_or("?");
    let region = call.region.as_deref().unwrap_or("?");
    let service = call.service.as_deref().unwrap_or("?");
    let op = call.operation.as_deref().unwrap_or("?");
    let slr = format!(
        "arn:aws:iam::{account}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty"
    );
    let detector = format!("arn:aws:guardduty:{region}:{account}:detector/0123456789abcdef");
    let set = format!("{detector}/threatintelset/0123456789abcdef");
    let ip_set = format!("{detector}/ipset/0123456789abcdef");
    let filter = format!("{detector}/filter/internal-scanner");
    let topic = format!("arn:aws:sns:{region}:{account}:{}", n.topic);
    let rule = format!("arn:aws:events:{region}:{account}:rule/guardsync-findings");
    let bucket = format!("arn:aws:s3:::{}", n.bucket);
    // The object the call touched (the call log records S3 paths), else the manifest.
    let object = call
        .resource
        .as_deref()
        .and_then(|p| p.strip_prefix('/'))
        .filter(|p| p.contains('/'))
        .map_or_else(
            || format!("{bucket}/{}manifest.json", n.prefix),
            |p| format!("arn:aws:s3:::{p}"),
        );
    let own = |resource: &str| vec![(format!("{service}:{op}"), resource.to_owned())];
    let mut need = match (service, op) {
        // S3 authorizes HeadObject as s3:GetObject.
        ("s3", "GetObject" | "HeadObject") => vec![("s3:GetObject".to_owned(), object.clone())],
        ("s3", "PutObject" | "DeleteObject" | "PutObjectTagging") => own(&object),
        ("s3", _) => own(&bucket),
        ("sts", "AssumeRole") => members
            .iter()
            .map(|a| {
                (
                    "sts:AssumeRole".to_owned(),
                    format!("arn:aws:iam::{a}:role/{}", n.member_role),
                )
            })
            .collect(),
        (
            "guardduty",
            "ListDetectors"
            | "GetMembers"
            | "ListThreatIntelSets"
            | "ListFilters"
            | "ListFindings"
            | "GetAdministratorAccount"
            | "CreateThreatIntelSet"
            | "ListIPSets"
            | "CreateIPSet"
            | "ArchiveFindings",
        ) => own("*"),
        (
            "guardduty",
            "GetThreatIntelSet" | "UpdateThreatIntelSet" | "DeleteThreatIntelSet" | "TagResource",
        ) => own(&set),
        ("guardduty", "GetIPSet" | "UpdateIPSet" | "DeleteIPSet") => own(&ip_set),
        ("guardduty", "CreateFilter" | "GetFilter" | "UpdateFilter" | "DeleteFilter") => {
            own(&filter)
        }
        ("sns", "Unsubscribe") => own("*"),
        ("sns", _) => own(&topic),
        ("events", _) => own(&rule),
        // Organizations, Account and anything new: the policy must name it on "*".
        _ => own("*"),
    };
    // What AWS checks on the call's behalf.
    match (service, op) {
        // A missing key answers 404 (not 403) only with s3:ListBucket.
        ("s3", "GetObject" | "HeadObject") if call.status == 404 => {
            need.push(("s3:ListBucket".to_owned(), bucket));
        }
        // GuardDuty puts an inline policy on its service-linked role to read the list.
        (
            "guardduty",
            "CreateThreatIntelSet" | "UpdateThreatIntelSet" | "CreateIPSet" | "UpdateIPSet",
        ) => {
            need.push(("iam:PutRolePolicy".to_owned(), slr.clone()));
            need.push(("iam:DeleteRolePolicy".to_owned(), slr));
            if op == "CreateThreatIntelSet" {
                need.push(("guardduty:TagResource".to_owned(), set));
            }
            if op == "CreateIPSet" {
                need.push(("guardduty:TagResource".to_owned(), ip_set));
            }
        }
        // Tags on create are authorized as TagResource too.
        ("guardduty", "CreateFilter") => need.push(("guardduty:TagResource".to_owned(), filter)),
        ("sns", "CreateTopic") => need.push(("sns:TagResource".to_owned(), topic)),
        ("events", "PutRule") => need.push(("events:TagResource".to_owned(), rule)),
        _ => {}
    }
    need
}

/// Every (call, permission) the policies do not allow, one line each.
fn denied(calls: &[Call], admin: &Value, member: &Value, n: &Names) -> Vec<String> {
    let members: BTreeSet<String> = calls
        .iter()
        .filter_map(|c| c.account.clone())
        .filter(|a| a != ADMIN)
        .collect();
    let mut out = Vec::new();
    for c in calls {
        let (who, policy) = match c.account.as_deref() {
            Some(ADMIN) => ("administrator-role", admin),
            Some(_) => ("member-role", member),
            None => {
                out.push(format!("{c:?}: no caller account in the log"));
                continue;
            }
        };
        for (action, resource) in needs(c, n, &members) {
            if !allows(policy, &action, &resource) {
                out.push(format!(
                    "{} {} {}:{} ({}) needs {action} on {resource} ({who})",
                    c.account.as_deref().unwrap_or("?"),
                    c.region.as_deref().unwrap_or("?"),
                    c.service.as_deref().unwrap_or("?"),
                    c.operation.as_deref().unwrap_or("?"),
                    c.status
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The rendered identity policies of a configuration, as JSON.
fn rendered(cfg: &Path) -> (Value, Value) {
    let c = guardsync::config::load(cfg).expect("valid config");
    let p = render(&c, &Options::default());
    (
        serde_json::to_value(&p.administrator_role).expect("JSON"),
        serde_json::to_value(&p.member_role).expect("JSON"),
    )
}

/// Confirm `email`'s subscription to the alerts topic in every region (the
/// emulator's confirmation token is the address).
async fn confirm(emu: &Emulator, email: &str) {
    for region in REGIONS {
        aws_sdk_sns::Client::new(&emu.sdk(region).await)
            .confirm_subscription()
            .topic_arn(format!("arn:aws:sns:{region}:{ADMIN}:guardsync-findings"))
            .token(email)
            .send()
            .await
            .expect("confirm");
    }
}

const RULES: &str = "suppression_rules:
  - {name: internal-scanner, rank: 1, criteria: {type: {equals: [\"Recon:EC2/Portscan\"]}}}
  - {name: noisy-low, rank: 2, criteria: {severity: {less_than: 4}}}
";

/// internal-scanner changed, noisy-low removed, trusted-partner added.
const RULES_CHANGED: &str = "suppression_rules:
  - {name: internal-scanner, rank: 2, criteria: {type: {equals: [\"Recon:EC2/Portscan\"]},
     service.action.networkConnectionAction.remoteIpDetails.ipAddressV4: {equals: [\"198.51.100.7\"]}}}
  - {name: trusted-partner, rank: 1, criteria: {
     service.action.networkConnectionAction.remoteIpDetails.ipAddressV4: {equals: [\"203.0.113.9\"]}}}
";

/// One phase of the scenario: runs `commands` with the configuration and
/// returns the calls they made, checked against the policies rendered from it.
struct Phase {
    calls: Vec<Call>,
    names: Names,
    admin: Value,
    member: Value,
}

async fn phase(emu: &Emulator, cfg: &Path, commands: &[(&str, &[i32])]) -> Phase {
    emu.clear_calls().await;
    for (cmd, codes) in commands {
        let r = run(emu, cmd, cfg);
        assert!(
            codes.contains(&r.code),
            "{cmd}: exit {}\n{}\n{}",
            r.code,
            r.stderr,
            serde_json::from_str::<Value>(&r.stdout)
                .map(|v| failures(&v).join("\n"))
                .unwrap_or(r.stdout.clone())
        );
    }
    let (admin, member) = rendered(cfg);
    Phase {
        calls: emu.calls().await,
        names: Names::of(cfg),
        admin,
        member,
    }
}

#[tokio::test]
async fn every_call_of_plan_and_apply_is_allowed_by_the_rendered_policies() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // A list built with or without an allowlisted FireHOL range (a new list
    // object), the rules, and alerts to these addresses (none: no alerts).
    let write = |allowlist: &str, rules: &str, emails: &str| {
        let list = if allowlist.is_empty() {
            String::new()
        } else {
            format!("  allowlist: [\"{allowlist}\"]\n")
        };
        let alerts = if emails.is_empty() {
            String::new()
        } else {
            format!("alerts:\n  min_severity: 7.0\n  emails: [{emails}]\n")
        };
        config(dir.path(), &REGIONS, &list, "", &format!("{rules}{alerts}"))
    };
    let plan_apply: &[(&str, &[i32])] = &[("plan", &[0]), ("apply", &[0])];
    let mut phases = Vec::new();

    // 1. First plan and apply: list published, bucket policy put, sets,
    // filters, topic, subscriptions and rule created everywhere.
    let cfg = write("", RULES, "a@example.com, b@example.com");
    phases.push(phase(emu, &cfg, plan_apply).await);

    // 2. A new list (moved sets, new sha tag), rules changed and deleted, a
    // confirmed address removed (Unsubscribe).
    confirm(emu, "a@example.com").await;
    let cfg = write("2.56.247.0/24", RULES_CHANGED, "b@example.com");
    phases.push(phase(emu, &cfg, plan_apply).await);

    // 3. Alerts removed: rule targets, rule and topic deleted; a third list,
    // which retires the first (PutObjectTagging).
    let cfg = write("2.57.122.0/24", RULES_CHANGED, "");
    phases.push(phase(emu, &cfg, plan_apply).await);

    // 3b. Two threat lists, a trusted list and a rule that archives what it
    // matches (the administrator its members', 777 its own); 3c. the trusted
    // list changes (UpdateIPSet); 3d. the second list and the trusted list
    // go (DeleteThreatIntelSet, DeleteIPSet).
    emu.add_findings(
        "777777777777",
        "us-east-1",
        serde_json::json!([{"type": "Recon:EC2/Portscan", "severity": 5.0}]),
    )
    .await;
    let lists = |trusted: Option<&str>, second: bool| {
        let f = crate::common::gs::fixtures();
        let f = f.display();
        let mut y = format!(
            "admin:\n  account_id: \"{ADMIN}\"\nregions: [{}]\n\
             feeds:\n  - name: firehol_level1\n    url: file://{f}/firehol_level1.netset\n",
            REGIONS.join(", ")
        );
        if second {
            y.push_str(&format!(
                "  - name: blocklist_de\n    url: file://{f}/blocklist_de.ipset\n"
            ));
        }
        y.push_str(
            "threat_lists:\n  - name: FireHOL-Level1\n    feeds: [firehol_level1]\n    \
             max_age_hours: null\n    allowlist: [\"2.57.122.0/24\"]\n",
        );
        if second {
            y.push_str(
                "  - name: Blocklist-DE\n    feeds: [blocklist_de]\n    max_age_hours: null\n",
            );
        }
        if let Some(t) = trusted {
            y.push_str(&format!(
                "trusted_list:\n  name: guardsync-trusted\n  cidrs: [\"{t}\"]\n"
            ));
        }
        y.push_str(&format!(
            "bucket:\n  name: {}\n  region: us-east-1\n\
             suppression_rules:\n  - {{name: internal-scanner, rank: 1, archive_existing: true, \
             criteria: {{type: {{equals: [\"Recon:EC2/Portscan\"]}}}}}}\n",
            crate::common::gs::BUCKET
        ));
        let path = dir.path().join("lists.yaml");
        std::fs::write(&path, y).expect("write config");
        path
    };
    for (trusted, second) in [
        (Some("198.51.100.7"), true),
        (Some("198.51.100.8"), true),
        (None, false),
    ] {
        phases.push(phase(emu, &lists(trusted, second), plan_apply).await);
    }

    // 4. `regions: enabled` (Account ListRegions). The demo administrator has
    // no detector in me-south-1, so that region's targets fail: exit 3.
    let text = std::fs::read_to_string(&cfg).expect("config").replace(
        "regions: [us-east-1, eu-west-1, ap-southeast-2]",
        "regions: enabled",
    );
    std::fs::write(&cfg, text).expect("write config");
    phases.push(phase(emu, &cfg, &[("plan", &[0, 3])]).await);

    let mut violations = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut errors: BTreeSet<String> = BTreeSet::new();
    for p in &phases {
        violations.extend(denied(&p.calls, &p.admin, &p.member, &p.names));
        for c in &p.calls {
            let who = if c.account.as_deref() == Some(ADMIN) {
                "admin"
            } else {
                "member"
            };
            let name = format!(
                "{who} {}:{}",
                c.service.as_deref().unwrap_or("?"),
                c.operation.as_deref().unwrap_or("?")
            );
            // Answered with an error: still checked above, listed here.
            if (400..500).contains(&c.status) {
                errors.insert(format!("{name} {}", c.status));
            }
            seen.insert(name);
        }
    }
    eprintln!("operations answered with a 4xx (checked like the others): {errors:#?}");
    assert_eq!(violations, Vec::<String>::new());

    // The scenario went through every call path guardsync has (the
    // Organizations ListChildren of `include_ous` aside).
    let expected = [
        "admin account:ListRegions",
        "admin events:DeleteRule",
        "admin events:DescribeRule",
        "admin events:ListTagsForResource",
        "admin events:ListTargetsByRule",
        "admin events:PutRule",
        "admin events:PutTargets",
        "admin events:RemoveTargets",
        "admin guardduty:ArchiveFindings",
        "admin guardduty:CreateFilter",
        "admin guardduty:CreateIPSet",
        "admin guardduty:CreateThreatIntelSet",
        "admin guardduty:DeleteFilter",
        "admin guardduty:DeleteIPSet",
        "admin guardduty:DeleteThreatIntelSet",
        "admin guardduty:GetFilter",
        "admin guardduty:GetIPSet",
        "admin guardduty:GetMembers",
        "admin guardduty:GetThreatIntelSet",
        "admin guardduty:ListDetectors",
        "admin guardduty:ListFilters",
        "admin guardduty:ListFindings",
        "admin guardduty:ListIPSets",
        "admin guardduty:ListThreatEntitySets",
        "admin guardduty:ListThreatIntelSets",
        "admin guardduty:TagResource",
        "admin guardduty:UpdateFilter",
        "admin guardduty:UpdateIPSet",
        "admin guardduty:UpdateThreatIntelSet",
        "admin organizations:DescribeOrganization",
        "admin organizations:ListAccounts",
        "admin s3:DeleteObject",
        "admin s3:GetBucketPolicy",
        "admin s3:GetObject",
        "admin s3:HeadObject",
        "admin s3:PutBucketPolicy",
        "admin s3:PutObject",
        "admin s3:PutObjectTagging",
        "admin sns:CreateTopic",
        "admin sns:DeleteTopic",
        "admin sns:GetTopicAttributes",
        "admin sns:ListSubscriptionsByTopic",
        "admin sns:ListTagsForResource",
        "admin sns:SetTopicAttributes",
        "admin sns:Subscribe",
        "admin sns:Unsubscribe",
        "admin sts:AssumeRole",
        "member guardduty:ArchiveFindings",
        "member guardduty:CreateFilter",
        "member guardduty:CreateIPSet",
        "member guardduty:CreateThreatIntelSet",
        "member guardduty:DeleteFilter",
        "member guardduty:DeleteIPSet",
        "member guardduty:DeleteThreatIntelSet",
        "member guardduty:GetAdministratorAccount",
        "member guardduty:GetFilter",
        "member guardduty:GetIPSet",
        "member guardduty:GetThreatIntelSet",
        "member guardduty:ListDetectors",
        "member guardduty:ListFilters",
        "member guardduty:ListFindings",
        "member guardduty:ListIPSets",
        "member guardduty:ListThreatEntitySets",
        "member guardduty:ListThreatIntelSets",
        "member guardduty:TagResource",
        "member guardduty:UpdateFilter",
        "member guardduty:UpdateIPSet",
        "member guardduty:UpdateThreatIntelSet",
    ];
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|e| !seen.contains(*e))
        .collect();
    assert_eq!(missing, Vec::<&str>::new(), "seen: {seen:#?}");

    // The checker catches a missing action: without guardduty:UpdateFilter the
    // administrator's calls to it are denied, and nothing else.
    let p = &phases[1];
    let mut admin = p.admin.clone();
    for st in admin["Statement"].as_array_mut().expect("statements") {
        if let Some(actions) = st["Action"].as_array_mut() {
            actions.retain(|a| a != "guardduty:UpdateFilter");
        }
    }
    let denied_now = denied(&p.calls, &admin, &p.member, &p.names);
    assert!(!denied_now.is_empty());
    for line in &denied_now {
        assert!(
            line.starts_with(&format!("{ADMIN} "))
                && line.contains("guardduty:UpdateFilter (200) needs guardduty:UpdateFilter"),
            "{line}"
        );
    }
}

fn call(account: &str, service: &str, operation: &str, status: u16) -> Call {
    Call {
        seq: 1,
        account: Some(account.to_owned()),
        region: Some("eu-west-1".to_owned()),
        service: Some(service.to_owned()),
        operation: Some(operation.to_owned()),
        status,
        mutating: false,
        resource: None,
    }
}

#[test]
fn the_checker_maps_calls_to_actions_and_dependencies() {
    let (admin, member) = rendered(&repo().join("config/example.yaml"));
    let n = Names::of(&repo().join("config/example.yaml"));
    let ok = [
        call(ADMIN, "s3", "HeadObject", 404),
        call(ADMIN, "s3", "PutBucketPolicy", 204),
        call(ADMIN, "sts", "AssumeRole", 200),
        call(ADMIN, "sns", "Unsubscribe", 200),
        call(ADMIN, "events", "PutRule", 200),
        call("777777777777", "guardduty", "CreateThreatIntelSet", 200),
        call("777777777777", "guardduty", "GetAdministratorAccount", 200),
    ];
    assert_eq!(denied(&ok, &admin, &member, &n), Vec::<String>::new());
    let members: BTreeSet<String> = ["777777777777".to_owned()].into();
    assert_eq!(
        needs(&call(ADMIN, "s3", "HeadObject", 404), &n, &members),
        [
            (
                "s3:GetObject".to_owned(),
                "arn:aws:s3:::org-threat-lists-111111111111/guardduty/manifest.json".to_owned()
            ),
            (
                "s3:ListBucket".to_owned(),
                "arn:aws:s3:::org-threat-lists-111111111111".to_owned()
            ),
        ]
    );
    // What the policies do not grant: members get no alerts, S3 or
    // Organizations; the administrator never calls TestEventPattern or
    // DeleteDetector.
    let not_ok = [
        call("777777777777", "sns", "CreateTopic", 200),
        call("777777777777", "s3", "GetObject", 200),
        call("777777777777", "organizations", "ListAccounts", 200),
        call(ADMIN, "events", "TestEventPattern", 200),
        call(ADMIN, "guardduty", "DeleteDetector", 200),
    ];
    assert_eq!(denied(&not_ok, &admin, &member, &n).len(), 6);
}

//! Discovery and placement against the local demo organization (the placement table of the README):
//! every case of the placement table, the roles assumed, and no mutating call.

use crate::common::emulator;
use guardsync::aws::Aws;
use guardsync::config::{AccountId, Config};

fn config(probe: &str, exclude: &str) -> Config {
    let yaml = format!(
        "admin:\n  account_id: \"111111111111\"\norganization:\n  probe: {probe}\n  exclude_accounts: [{exclude}]\nregions: [us-east-1, eu-west-1, ap-southeast-2]\nbucket: {{name: org-threat-lists-111111111111, region: us-east-1}}\n"
    );
    guardsync::config::parse(&yaml, "t.yaml".as_ref(), "t.yaml").expect("valid")
}

async fn placements(cfg: &Config) -> Vec<String> {
    let aws = Aws::from_config(emulator().sdk("us-east-1").await);
    let (found, targets, _) = guardsync::discover::discover_all(&aws, cfg, &[], &[])
        .await
        .expect("discover");
    let placed = found.place_all(&aws, targets, 8).await;
    placed
        .iter()
        .map(|p| {
            format!(
                "{} {} {}{}",
                p.target.account,
                p.target.region,
                p.placement,
                if p.credentials.is_some() {
                    " (role)"
                } else {
                    ""
                }
            )
        })
        .collect()
}

#[tokio::test]
async fn demo_organization_is_placed_as_spec_section_2_says() {
    let emu = emulator();
    let _g = emu.lock().await;
    emu.seed("demo").await;
    emu.clear_calls().await;
    let got = placements(&config("needed", "\"222222222222\"")).await;
    let want = [
        "101010101010 ap-southeast-2 member",
        "101010101010 eu-west-1 member",
        "101010101010 us-east-1 member",
        "111111111111 ap-southeast-2 admin",
        "111111111111 eu-west-1 admin",
        "111111111111 us-east-1 admin",
        // Never enrolled in ap-southeast-2: standalone there.
        "121212121212 ap-southeast-2 standalone (role)",
        "121212121212 eu-west-1 member",
        "121212121212 us-east-1 member",
        "131313131313 ap-southeast-2 no_detector",
        "131313131313 eu-west-1 no_detector",
        "131313131313 us-east-1 standalone (role)",
        "222222222222 ap-southeast-2 excluded",
        "222222222222 eu-west-1 excluded",
        "222222222222 us-east-1 excluded",
        // Members everywhere: covered, no role assumed.
        "333333333333 ap-southeast-2 member",
        "333333333333 eu-west-1 member",
        "333333333333 us-east-1 member",
        // Disassociated in one region: the role is assumed once for the account
        // (AssumeRole is counted below); only the standalone target uses it.
        "444444444444 ap-southeast-2 member",
        "444444444444 eu-west-1 standalone (role)",
        "444444444444 us-east-1 member",
        // No detector in ap-southeast-2: a coverage gap.
        "555555555555 ap-southeast-2 no_detector",
        "555555555555 eu-west-1 member",
        "555555555555 us-east-1 member",
        "666666666666 ap-southeast-2 other_admin",
        "666666666666 eu-west-1 other_admin",
        "666666666666 us-east-1 other_admin",
        "777777777777 ap-southeast-2 standalone (role)",
        "777777777777 eu-west-1 standalone (role)",
        "777777777777 us-east-1 standalone (role)",
        // 888888888888 is SUSPENDED: not a target.
        "999999999999 ap-southeast-2 no_detector",
        "999999999999 eu-west-1 no_detector",
        "999999999999 us-east-1 no_detector",
    ];
    assert_eq!(got, want);

    let calls = emu.calls().await;
    let mutating: Vec<_> = calls.iter().filter(|c| c.mutating).collect();
    assert!(mutating.is_empty(), "discovery is read-only: {mutating:?}");
    let assumed: Vec<_> = calls
        .iter()
        .filter(|c| c.operation.as_deref() == Some("AssumeRole"))
        .collect();
    assert_eq!(
        assumed.len(),
        7,
        "one AssumeRole per account that needs one"
    );
    let members_calls = calls
        .iter()
        .filter(|c| c.operation.as_deref() == Some("GetMembers"))
        .count();
    assert_eq!(
        members_calls, 3,
        "one GetMembers per region for the organization's one page"
    );
    // Probed from inside: only the non-member regions that have a detector
    // (121212 ap-southeast-2, 131313 us-east-1, 444 eu-west-1, 666 x3, 777 x3),
    // never a region the administrator covers.
    let admin_lookups = calls
        .iter()
        .filter(|c| c.operation.as_deref() == Some("GetAdministratorAccount"))
        .count();
    assert_eq!(admin_lookups, 9);
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_fails_only_that_account() {
    let emu = emulator();
    let _g = emu.lock().await;
    emu.seed("denied-role").await;
    let aws = Aws::from_config(emu.sdk("us-east-1").await);
    let cfg = config("needed", "");
    let cfg = Config {
        regions: guardsync::config::RegionScope::List(vec![
            guardsync::config::Region::parse("us-east-1").expect("region"),
        ]),
        ..cfg
    };
    let (found, targets, _) = guardsync::discover::discover_all(&aws, &cfg, &[], &[])
        .await
        .expect("discover");
    let placed = found.place_all(&aws, targets, 8).await;
    let by_account = |id: &str| {
        placed
            .iter()
            .find(|p| p.target.account == AccountId::parse(id).expect("id"))
            .map(|p| p.placement.clone())
            .expect("target")
    };
    match by_account("444444444444") {
        guardsync::org::Placement::Unknown(reason) => assert!(
            reason.contains("failed to assume arn:aws:iam::444444444444:role/GuardSyncMemberRole"),
            "{reason}"
        ),
        other => panic!("expected unknown, got {other:?}"),
    }
    assert_eq!(by_account("111111111111").as_str(), "admin");
    assert_eq!(by_account("222222222222").as_str(), "member");
    assert_eq!(by_account("555555555555").as_str(), "no_detector");
}

#[tokio::test]
async fn include_ous_selects_accounts_below_them_recursively() {
    let emu = emulator();
    let _g = emu.lock().await;
    let summary = emu.seed("demo").await;
    let workloads = summary["ous"]["Workloads"]
        .as_str()
        .expect("Workloads OU id")
        .to_owned();
    let yaml = format!(
        "admin:\n  account_id: \"111111111111\"\norganization:\n  include_ous: [{workloads}]\nregions: [us-east-1]\nbucket: {{name: org-threat-lists-111111111111, region: us-east-1}}\n"
    );
    let cfg = guardsync::config::parse(&yaml, "t.yaml".as_ref(), "t.yaml").expect("valid");
    let aws = Aws::from_config(emu.sdk("us-east-1").await);
    let (found, targets, _) = guardsync::discover::discover_all(&aws, &cfg, &[], &[])
        .await
        .expect("discover");
    let placed = found.place_all(&aws, targets, 8).await;
    let accounts: Vec<&str> = placed.iter().map(|p| p.target.account.as_str()).collect();
    // Workloads (666), Workloads/Prod (121212, 333, 555), Workloads/Dev (444), and the administrator.
    assert_eq!(
        accounts,
        [
            "111111111111",
            "121212121212",
            "333333333333",
            "444444444444",
            "555555555555",
            "666666666666"
        ]
    );
}

#[tokio::test]
async fn regions_enabled_are_the_guardduty_regions_enabled_in_the_administrator_account() {
    let emu = emulator();
    let _g = emu.lock().await;
    emu.seed("demo").await;
    emu.clear_calls().await;
    let yaml = "admin:\n  account_id: \"111111111111\"\nregions: enabled\nbucket: {name: org-threat-lists-111111111111, region: us-east-1}\n";
    let cfg = guardsync::config::parse(yaml, "t.yaml".as_ref(), "t.yaml").expect("valid");
    let aws = Aws::from_config(emu.sdk("us-east-1").await);
    let regions = guardsync::discover::configured_regions(&aws, &cfg)
        .await
        .expect("regions");
    let names: Vec<&str> = regions.iter().map(|r| r.as_str()).collect();
    // Opted in (me-south-1) or enabled by default; ap-east-1 is disabled.
    assert_eq!(
        names,
        ["ap-southeast-2", "eu-west-1", "me-south-1", "us-east-1"]
    );
    let ops: Vec<String> = emu
        .calls()
        .await
        .into_iter()
        .filter_map(|c| c.operation)
        .collect();
    assert_eq!(ops, ["ListRegions"]);
}

//! What the organization can read in the bucket, and the move from the
//! layout of an older guardsync (list objects directly under the prefix,
//! an org-read statement over the whole prefix) to `<prefix>lists/`.
//!
//! Readability is proven twice: by evaluating the statements of the
//! rendered and of the applied bucket policy for a principal of another
//! account of the organization ([`crate::common::iam`]), and by that
//! account's own reads against the emulator, which evaluates the policy too.

use crate::common::gs::{
    BUCKET, RUN_RECORD, assume, config, mutating_calls, run, s3, seed_demo, sets,
};
use crate::common::iam::{Request, allows};
use crate::common::{ADMIN, emulator};
use guardsync::policies::{Options, render};
use serde_json::Value;

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
/// A standalone account of the demo organization (its own set, in eu-west-1).
const STANDALONE: &str = "444444444444";
/// An account outside the organization.
const OUTSIDER: &str = "123456789012";

/// Every key in the bucket.
async fn keys(client: &aws_sdk_s3::Client) -> Vec<String> {
    let out = client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .expect("ListObjectsV2");
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// The bucket's policy document, as text.
async fn policy_text(client: &aws_sdk_s3::Client) -> String {
    client
        .get_bucket_policy()
        .bucket(BUCKET)
        .send()
        .await
        .expect("GetBucketPolicy")
        .policy
        .expect("a policy")
}

async fn put(client: &aws_sdk_s3::Client, key: &str, body: &[u8]) {
    client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(body.to_vec().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

#[tokio::test]
async fn another_account_of_the_organization_may_read_the_list_objects_and_nothing_else() {
    let emu = emulator();
    let _guard = emu.lock().await;
    let seed = seed_demo(emu).await;
    let org = seed["organization_id"].as_str().expect("organization id");
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "", "", "");
    let admin = s3(emu).await;
    // What the bucket holds besides the lists: the configuration (as the
    // administrator template's ConfigKey may put it under the prefix), a
    // full report of the scheduled job, and the lease of a run.
    put(&admin, "guardduty/config/guardsync.yaml", b"admin: {}\n").await;
    put(
        &admin,
        "guardduty/state/reports/20261206T000000Z-apply-0.json",
        b"{}",
    )
    .await;
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 0, "{}", out.stderr);
    put(&admin, "guardduty/state/lease.json", b"{}").await;
    let all = keys(&admin).await;
    let lists: Vec<&String> = all
        .iter()
        .filter(|k| k.starts_with("guardduty/lists/"))
        .collect();
    assert_eq!(lists.len(), 1, "{all:?}");
    assert!(
        all.contains(&"guardduty/manifest.json".to_owned()),
        "{all:?}"
    );
    assert!(
        all.contains(&"guardduty/state/last-run.json".to_owned()),
        "{all:?}"
    );

    let c = guardsync::config::load(&cfg).expect("config");
    let rendered = serde_json::to_value(
        render(
            &c,
            &Options {
                organization_id: Some(org.to_owned()),
                ..Options::default()
            },
        )
        .bucket_policy,
    )
    .expect("JSON");
    let applied: Value = serde_json::from_str(&policy_text(&admin).await).expect("policy JSON");
    let bucket_arn = format!("arn:aws:s3:::{BUCKET}");
    for (name, policy) in [("rendered", &rendered), ("applied", &applied)] {
        for key in &all {
            let object = format!("{bucket_arn}/{key}");
            for action in [
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:PutObjectTagging",
            ] {
                let member = Request {
                    account: STANDALONE,
                    org_id: Some(org),
                    action,
                    resource: &object,
                    tls: true,
                };
                let want = action == "s3:GetObject" && key.starts_with("guardduty/lists/");
                assert_eq!(allows(policy, &member), want, "{name}: {action} {key}");
                let outsider = Request {
                    account: OUTSIDER,
                    org_id: Some("o-someoneelse"),
                    ..member
                };
                assert!(
                    !allows(policy, &outsider),
                    "{name}: outsider {action} {key}"
                );
                let plain = Request {
                    tls: false,
                    ..member
                };
                assert!(
                    !allows(policy, &plain),
                    "{name}: without TLS {action} {key}"
                );
            }
        }
        let list_bucket = Request {
            account: STANDALONE,
            org_id: Some(org),
            action: "s3:ListBucket",
            resource: &bucket_arn,
            tls: true,
        };
        assert!(!allows(policy, &list_bucket), "{name}: ListBucket");
    }

    // The same, asked of the emulator by the standalone account itself.
    let member = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&assume(&emu.sdk("us-east-1").await, STANDALONE).await)
            .force_path_style(true)
            .build(),
    );
    for key in &all {
        let read = member.get_object().bucket(BUCKET).key(key).send().await;
        assert_eq!(
            read.is_ok(),
            key.starts_with("guardduty/lists/"),
            "{STANDALONE} reading {key}: {read:?}"
        );
    }
}

#[tokio::test]
async fn the_layout_of_an_older_guardsync_moves_to_lists() {
    let emu = emulator();
    let _guard = emu.lock().await;
    let seed = seed_demo(emu).await;
    let org = seed["organization_id"].as_str().expect("organization id");
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "", "", "");
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let admin = s3(emu).await;

    // Turn the bucket and the sets back into what an older guardsync left:
    // the list directly under the prefix, the manifest naming it, the
    // org-read statement over the whole prefix, every set pointing there.
    let listed = keys(&admin).await;
    let new_key = listed
        .iter()
        .find(|k| k.starts_with("guardduty/lists/"))
        .expect("the list object")
        .clone();
    let old_key = new_key.replace("guardduty/lists/", "guardduty/");
    let body = crate::common::gs::s3_object(emu, &new_key).await;
    put(&admin, &old_key, &body).await;
    admin
        .delete_object()
        .bucket(BUCKET)
        .key(&new_key)
        .send()
        .await
        .expect("delete");
    let manifest =
        String::from_utf8(crate::common::gs::s3_object(emu, "guardduty/manifest.json").await)
            .expect("utf-8")
            .replace(&new_key, &old_key);
    put(&admin, "guardduty/manifest.json", manifest.as_bytes()).await;
    let policy = policy_text(&admin)
        .await
        .replace("guardduty/lists/*", "guardduty/*");
    admin
        .put_bucket_policy()
        .bucket(BUCKET)
        .policy(policy)
        .send()
        .await
        .expect("PutBucketPolicy");
    let managed = [
        (ADMIN, "us-east-1"),
        (ADMIN, "eu-west-1"),
        (STANDALONE, "eu-west-1"),
    ];
    for (account, region) in managed {
        let base = emu.sdk(region).await;
        let conf = if account == ADMIN {
            base
        } else {
            assume(&base, account).await
        };
        let gd = aws_sdk_guardduty::Client::new(&conf);
        let detector = gd
            .list_detectors()
            .send()
            .await
            .expect("ListDetectors")
            .detector_ids()[0]
            .clone();
        let ids = gd
            .list_threat_intel_sets()
            .detector_id(&detector)
            .send()
            .await
            .expect("ListThreatIntelSets");
        gd.update_threat_intel_set()
            .detector_id(&detector)
            .threat_intel_set_id(&ids.threat_intel_set_ids()[0])
            .location(format!("s3://{BUCKET}/{old_key}"))
            .send()
            .await
            .expect("UpdateThreatIntelSet");
    }
    emu.finish_activations().await;

    // The plan says what moves; the apply moves it; nothing is left behind.
    let plan: Value = serde_json::from_str(&run(emu, "plan", &cfg).stdout).expect("plan JSON");
    let home = plan["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["account_id"] == ADMIN && t["region"] == "us-east-1")
        .expect("the administrator's home target");
    let policy_change = home["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["resource"] == "bucket_policy")
        .expect("a bucket policy change");
    assert_eq!(policy_change["action"], "update");
    assert_eq!(
        policy_change["detail"][0],
        "statement GuardSyncOrgRead from an older guardsync lets the organization read \
         everything under the prefix: narrowing it to the list objects"
    );
    assert_eq!(plan["list"]["location"], format!("s3://{BUCKET}/{new_key}"));
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 0, "{}", out.stderr);
    emu.finish_activations().await;
    for (account, region) in managed {
        let s = sets(emu, account, region).await;
        assert_eq!(s.len(), 1, "{account} {region}: {s:?}");
        assert_eq!(
            s[0].1,
            format!("s3://{BUCKET}/{new_key}"),
            "{account} {region}"
        );
    }
    let manifest: Value =
        serde_json::from_slice(&crate::common::gs::s3_object(emu, "guardduty/manifest.json").await)
            .expect("manifest JSON");
    assert_eq!(manifest["key"], new_key.as_str());
    assert_eq!(manifest["previous_key"], old_key.as_str());
    let policy: Value = serde_json::from_str(&policy_text(&admin).await).expect("JSON");
    let read = Request {
        account: STANDALONE,
        org_id: Some(org),
        action: "s3:GetObject",
        resource: &format!("arn:aws:s3:::{BUCKET}/guardduty/manifest.json"),
        tls: true,
    };
    assert!(
        !allows(&policy, &read),
        "the manifest is the administrator's again"
    );
    emu.clear_calls().await;
    let again = run(emu, "apply", &cfg);
    assert_eq!(again.code, 0, "{}", again.stderr);
    // Only the run record is written again: no set, policy or list moves.
    assert_eq!(mutating_calls(emu).await, [RUN_RECORD]);
}

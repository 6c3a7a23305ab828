//! Slow activations: GuardDuty documents that loading a list takes up to 15
//! minutes, in some cases 40. `apply` waits at most
//! `threat_list.settle_seconds`, reports what is still loading as
//! `activating` (not a failure, exit 0), and the next run looks again.

use serde_json::{Value, json};

use crate::common::emulator;
use crate::common::gs::{
    config, failures, mutating_calls, narrow_bucket_policy, outcomes, run, seed_demo,
};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

/// The demo organization's managed targets (`admin` and `standalone`).
const MANAGED: [&str; 9] = [
    "111111111111 ap-southeast-2 admin",
    "111111111111 eu-west-1 admin",
    "111111111111 us-east-1 admin",
    "121212121212 ap-southeast-2 standalone",
    "131313131313 us-east-1 standalone",
    "444444444444 eu-west-1 standalone",
    "777777777777 ap-southeast-2 standalone",
    "777777777777 eu-west-1 standalone",
    "777777777777 us-east-1 standalone",
];

/// `MANAGED` with each target's status in `report` (in report order).
fn managed(report: &Value) -> Vec<String> {
    outcomes(report)
        .into_iter()
        .filter(|o| MANAGED.iter().any(|m| o.starts_with(m)))
        .collect()
}

fn with_status(status: &str) -> Vec<String> {
    let mut all: Vec<String> = MANAGED.iter().map(|m| format!("{m} {status}")).collect();
    all.sort();
    all
}

#[tokio::test]
async fn apply_stops_waiting_after_settle_seconds_and_the_run_after_the_activations_sees_them_done()
{
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    // Half an hour per activation: nothing finishes while the test runs.
    emu.configure(json!({"activation_delay_ms": 30 * 60 * 1000}))
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &REGIONS, "  settle_seconds: 1\n", "", "");

    // apply: every managed target's set is created and still loading: the
    // targets are `activating`, nothing failed, exit 0.
    let apply = run(emu, "apply", &cfg);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let report = apply.json();
    assert_eq!(failures(&report), Vec::<String>::new());
    assert_eq!(managed(&report), with_status("activating"));
    assert_eq!(report["summary"]["activating"], 9);
    assert_eq!(report["summary"]["failed"], 0);

    // plan while GuardDuty is still loading: `activating`, no change, and
    // --detailed-exitcode says nothing is pending.
    emu.clear_calls().await;
    let c = cfg.to_str().expect("utf-8 path");
    let plan = crate::common::gs::guardsync(
        emu,
        &[
            "plan",
            "--config",
            c,
            "--format",
            "json",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let report = plan.json();
    assert_eq!(managed(&report), with_status("activating"));
    assert_eq!(report["summary"]["pending"], 0);
    assert_eq!(mutating_calls(emu).await, Vec::<String>::new());

    // GuardDuty finishes: the next plan reports every target up to date.
    assert_eq!(emu.finish_activations().await, 9);
    let plan = crate::common::gs::guardsync(
        emu,
        &[
            "plan",
            "--config",
            c,
            "--format",
            "json",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let report = plan.json();
    assert_eq!(managed(&report), with_status("unchanged"));
    assert_eq!(report["summary"]["activating"], 0);
}

#[tokio::test]
async fn the_text_report_lists_what_is_still_activating() {
    let emu = emulator();
    let _guard = emu.lock().await;
    seed_demo(emu).await;
    emu.configure(json!({"activation_delay_ms": 30 * 60 * 1000}))
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), &["us-east-1"], "  settle_seconds: 0\n", "", "");
    let c = cfg.to_str().expect("utf-8 path");
    let apply = crate::common::gs::guardsync(emu, &["apply", "--config", c]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let text = apply.stdout;
    assert!(
        text.contains(
            "Activating (GuardDuty is still loading the list, which can take 15 minutes or more; \
             the next plan or apply checks it):"
        ),
        "{text}"
    );
    assert!(text.contains("111111111111 · us-east-1  (admin)"), "{text}");
    assert!(
        text.contains("131313131313 · us-east-1  (standalone)"),
        "{text}"
    );
    assert!(
        text.contains("777777777777 · us-east-1  (standalone)"),
        "{text}"
    );
    assert!(text.contains(", 3 activating."), "{text}");
}

/// GuardDuty ends an activation in ERROR after the apply stopped waiting:
/// the next plan says the set goes back to the list it read before, and the
/// next apply puts it back and fails that target with GuardDuty's status.
#[tokio::test]
async fn an_activation_that_ends_in_error_after_the_apply_goes_back_to_the_previous_list() {
    let emu = emulator();
    let _guard = emu.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let regions = ["eu-west-1"];
    let (org, old_key) = crate::common::gs::demo_after_first_apply(emu, dir.path(), &regions).await;

    // GuardDuty in the standalone accounts can read the old list only, and
    // activations now take half an hour.
    narrow_bucket_policy(emu, &org, &old_key).await;
    emu.configure(json!({"activation_delay_ms": 30 * 60 * 1000}))
        .await;
    let cfg = config(
        dir.path(),
        &regions,
        "  allowlist: [\"1.10.16.0/20\"]\n  settle_seconds: 1\n",
        "  manage_policy: false\n",
        "",
    );
    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.json()["summary"]["activating"], 3);

    // GuardDuty finishes: the standalone sets are in ERROR.
    emu.finish_activations().await;
    let plan = run(emu, "plan", &cfg);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let standalone: Vec<String> = outcomes(&plan.json())
        .into_iter()
        .filter(|o| o.contains(" standalone "))
        .collect();
    assert_eq!(
        standalone,
        [
            "444444444444 eu-west-1 standalone pending",
            "777777777777 eu-west-1 standalone pending",
        ]
    );

    let out = run(emu, "apply", &cfg);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let failed = failures(&out.json());
    assert_eq!(failed.len(), 2, "{failed:?}");
    for f in &failed {
        assert!(
            f.contains(&format!(
                "; put back the previous location s3://{}/{old_key}",
                crate::common::gs::BUCKET
            )),
            "{f}"
        );
    }
    for account in ["444444444444", "777777777777"] {
        let sets = crate::common::gs::sets(emu, account, "eu-west-1").await;
        assert_eq!(
            sets[0].1,
            format!("s3://{}/{old_key}", crate::common::gs::BUCKET),
            "{account}"
        );
    }
}

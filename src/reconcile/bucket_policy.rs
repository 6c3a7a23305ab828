//! The list bucket's policy, reconciled like every other resource kind:
//! [`observe`] reads it, [`plan`] merges guardsync's two statements into it
//! (the document itself is built by `publish::policy`, pure), [`apply`] puts
//! it. It is the administrator's, once per run, before the fan-out; its
//! change is reported on the administrator's target in `bucket.region`.

use super::plan::Plan;
use crate::aws::s3::S3;
use crate::cloud::AwsError;
use crate::publish::policy::{self, PolicyError};

/// The one write: put the whole policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Put this policy (JSON text).
    Put {
        /// The whole document.
        policy: String,
    },
}

/// The bucket's current policy, if it has one.
pub(crate) async fn observe(s3: &S3, bucket: &str) -> Result<Option<String>, AwsError> {
    s3.policy(bucket).await
}

/// Decide the policy of `bucket` (in `bucket_region`, whose partition the
/// ARNs carry) from the `current` one: at most one step, the change it
/// makes, and (as notes) the foreign statements a reviewer should look at.
pub(crate) fn plan(
    current: Option<&str>,
    bucket_region: &str,
    bucket: &str,
    prefix: &str,
    organization_id: &str,
) -> Result<Plan<Step>, PolicyError> {
    let partition = crate::cloud::partition(bucket_region);
    let merged = policy::reconcile(current, partition, bucket, prefix, organization_id)?;
    let steps = match merged.change {
        Some(_) => vec![Step::Put {
            policy: merged.policy,
        }],
        None => Vec::new(),
    };
    Ok(Plan {
        steps,
        changes: merged.change.into_iter().collect(),
        unmanaged: Vec::new(),
        notes: merged.warnings,
        ..Plan::default()
    })
}

/// Put the policy, when the plan says so.
pub(crate) async fn apply(s3: &S3, bucket: &str, plan: &Plan<Step>) -> Result<(), AwsError> {
    for Step::Put { policy } in &plan.steps {
        s3.put_policy(bucket, policy).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Resource;

    #[test]
    fn a_policy_already_in_place_plans_nothing() {
        let first = plan(None, "us-east-1", "b", "p/", "o-abcdefghij").expect("plan");
        let [Step::Put { policy }] = first.steps.as_slice() else {
            panic!("{first:?}");
        };
        assert_eq!(first.changes[0].resource, Resource::BucketPolicy);
        let again = plan(Some(policy), "us-east-1", "b", "p/", "o-abcdefghij").expect("plan");
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn the_arns_carry_the_buckets_partition() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
        ] {
            let p = plan(None, region, "b", "p/", "o-abcdefghij").expect("plan");
            let [Step::Put { policy }] = p.steps.as_slice() else {
                panic!("{p:?}");
            };
            let doc: serde_json::Value = serde_json::from_str(policy).expect("JSON");
            let resources: Vec<String> = doc["Statement"]
                .as_array()
                .expect("statements")
                .iter()
                .flat_map(|s| match &s["Resource"] {
                    serde_json::Value::Array(a) => a.clone(),
                    one => vec![one.clone()],
                })
                .map(|r| r.as_str().unwrap_or_default().to_owned())
                .collect();
            assert!(
                resources
                    .iter()
                    .all(|r| r.starts_with(&format!("arn:{partition}:s3:::b"))),
                "{region}: {resources:?}"
            );
        }
    }

    #[test]
    fn a_policy_that_is_not_json_is_refused() {
        assert!(matches!(
            plan(Some("{"), "us-east-1", "b", "p/", "o-abcdefghij"),
            Err(PolicyError::NotJson(_))
        ));
    }
}

//! The list bucket's policy (the README's Security section): guardsync's two statements, found
//! by `Sid`, put to their desired form; every other statement kept. Pure.
//!
//! Foreign statements are never removed or edited, even one that makes
//! objects public (an Allow to `"Principal": "*"` without a condition):
//! guardsync never makes the bucket public itself, but the policy is shared
//! and deleting someone else's statement could break what they rely on. Such
//! a statement is reported as a warning instead ([`PolicyPlan::warnings`],
//! and in the change's `detail` when there is a change).

use serde_json::{Map, Value, json};

use crate::report::{Action, Change, Resource};

/// `Sid` of the statement that lets the organization read the list objects.
pub(crate) const SID_ORG_READ: &str = "GuardSyncOrgRead";
/// `Sid` of the statement that denies every request made without TLS.
pub(crate) const SID_TLS_ONLY: &str = "GuardSyncDenyInsecureTransport";

/// The policy language version of a policy guardsync creates.
const VERSION: &str = "2012-10-17";

/// Why the current bucket policy cannot be reconciled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The current policy is not JSON.
    #[error("the current bucket policy is not JSON: {0}")]
    NotJson(String),
    /// The current policy is JSON but not a policy document.
    #[error("the current bucket policy is not a policy document: {0}")]
    NotAPolicy(&'static str),
}

/// The policy to put and what putting it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyPlan {
    /// The whole policy document to put (JSON, keys sorted).
    pub policy: String,
    /// The change, or `None` when the current policy already is the desired
    /// one (compared as JSON values: whitespace and key order do not count).
    pub change: Option<Change>,
    /// Statements guardsync did not write and leaves in place, but that a
    /// reviewer should look at (one that makes objects public).
    pub warnings: Vec<String>,
}

/// guardsync's two statements for `bucket` (in `partition`: `aws`,
/// `aws-cn`, `aws-us-gov`), `prefix` and `organization_id`.
pub(crate) fn desired_statements(
    partition: &str,
    bucket: &str,
    prefix: &str,
    organization_id: &str,
) -> [Value; 2] {
    [
        json!({
            "Sid": SID_ORG_READ,
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:{partition}:s3:::{bucket}/{}*", super::keys::lists_prefix(prefix)),
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id}},
        }),
        json!({
            "Sid": SID_TLS_ONLY,
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [
                format!("arn:{partition}:s3:::{bucket}"),
                format!("arn:{partition}:s3:::{bucket}/*")
            ],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }),
    ]
}

/// The desired bucket policy given the current one: guardsync's two
/// statements (found by `Sid`) put to their desired form, every other
/// statement kept as is and in order.
pub fn reconcile(
    current: Option<&str>,
    partition: &str,
    bucket: &str,
    prefix: &str,
    organization_id: &str,
) -> Result<PolicyPlan, PolicyError> {
    let mut doc = match current {
        None => Map::from_iter([("Version".to_owned(), Value::from(VERSION))]),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(doc)) => doc,
            Ok(_) => return Err(PolicyError::NotAPolicy("not a JSON object")),
            Err(e) => return Err(PolicyError::NotJson(e.to_string())),
        },
    };
    // AWS accepts a single statement object as well as an array.
    let statements = match doc.remove("Statement") {
        None => Vec::new(),
        Some(Value::Array(list)) => list,
        Some(one @ Value::Object(_)) => vec![one],
        Some(_) => {
            return Err(PolicyError::NotAPolicy(
                "Statement is neither an object nor an array",
            ));
        }
    };

    let desired = desired_statements(partition, bucket, prefix, organization_id);
    let mut found = [false; 2];
    let mut detail = Vec::new();
    let mut warnings = Vec::new();
    let mut kept = 0usize;
    let mut out = Vec::with_capacity(statements.len() + 2);
    for (i, st) in statements.into_iter().enumerate() {
        let ours = [SID_ORG_READ, SID_TLS_ONLY]
            .iter()
            .position(|sid| st.get("Sid").and_then(Value::as_str) == Some(sid));
        match ours {
            // S3 refuses duplicate Sids, but a policy is only text until then.
            Some(n) if found[n] => detail.push(format!(
                "statement {} duplicated: removing the copy",
                sid_of(&desired[n])
            )),
            Some(n) => {
                found[n] = true;
                if normalized(&st) != normalized(&desired[n]) {
                    let older = format!("arn:{partition}:s3:::{bucket}/{prefix}*");
                    detail.push(
                        if n == 0 && st.get("Resource").and_then(Value::as_str) == Some(&older) {
                            format!(
                                "statement {} from an older guardsync lets the organization read \
                                 everything under the prefix: narrowing it to the list objects",
                                sid_of(&desired[n])
                            )
                        } else {
                            format!(
                                "statement {} drifted: someone changed it; putting it back",
                                sid_of(&desired[n])
                            )
                        },
                    );
                }
                out.push(desired[n].clone());
            }
            None => {
                kept += 1;
                if is_public(&st) {
                    let name = st
                        .get("Sid")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("#{}", i + 1), |s| format!("{s:?}"));
                    warnings.push(format!(
                        "warning: statement {name}, not written by guardsync, allows \
                         Principal \"*\" without a condition: the bucket may be public; \
                         guardsync leaves it in place"
                    ));
                }
                out.push(st);
            }
        }
    }
    for (n, st) in desired.iter().enumerate() {
        if !found[n] {
            detail.push(format!("statement {} added: {}", sid_of(st), purpose(n)));
            out.push(st.clone());
        }
    }

    let change = (!detail.is_empty()).then(|| {
        if kept > 0 {
            detail.push(match kept {
                1 => "1 statement not written by guardsync is kept".to_owned(),
                n => format!("{n} statements not written by guardsync are kept"),
            });
        }
        detail.extend(warnings.iter().cloned());
        Change {
            resource: Resource::BucketPolicy,
            name: bucket.to_owned(),
            action: if current.is_some() {
                Action::Update
            } else {
                Action::Create
            },
            detail,
        }
    });
    doc.insert("Statement".to_owned(), Value::Array(out));
    // Keys of a serde_json map are sorted: the text is stable.
    let policy = serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default();
    Ok(PolicyPlan {
        policy,
        change,
        warnings,
    })
}

fn sid_of(statement: &Value) -> &str {
    statement
        .get("Sid")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// What each of guardsync's statements is for, by index in [`desired_statements`].
fn purpose(n: usize) -> &'static str {
    if n == 0 {
        "accounts of the organization may read the list objects"
    } else {
        "requests without TLS are denied"
    }
}

/// A statement in a form where equivalent spellings compare equal: a
/// one-element array is its element, and arrays of strings are sets.
fn normalized(v: &Value) -> Value {
    match v {
        Value::Array(list) if list.len() == 1 => normalized(&list[0]),
        Value::Array(list) => {
            let mut items: Vec<Value> = list.iter().map(normalized).collect();
            if items.iter().all(Value::is_string) {
                items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether a statement allows everyone without a condition.
fn is_public(st: &Value) -> bool {
    let everyone = |p: &Value| match normalized(p) {
        Value::String(s) => s == "*",
        Value::Object(m) => m.get("AWS").is_some_and(|a| *a == "*"),
        _ => false,
    };
    st.get("Effect").and_then(Value::as_str) == Some("Allow")
        && st.get("Principal").is_some_and(everyone)
        && st
            .get("Condition")
            .is_none_or(|c| c.as_object().is_some_and(Map::is_empty))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKET: &str = "org-threat-lists-111111111111";
    const ORG: &str = "o-exampleorg1";

    fn plan(current: Option<&str>) -> PolicyPlan {
        reconcile(current, "aws", BUCKET, "guardduty/", ORG).expect("reconcile")
    }

    fn statements(policy: &str) -> Vec<Value> {
        let v: Value = serde_json::from_str(policy).expect("json");
        v["Statement"].as_array().expect("array").clone()
    }

    /// Reconciling `current` updates it to exactly the policy made from
    /// scratch, for the reasons in `detail`.
    fn assert_restored(current: &str, detail: &[&str]) {
        let p = plan(Some(current));
        let change = p.change.expect("a change");
        assert_eq!(change.action, Action::Update);
        assert_eq!(change.detail, detail);
        assert_eq!(p.policy, plan(None).policy);
    }

    fn foreign() -> Value {
        json!({"Sid": "LogDelivery", "Effect": "Allow",
               "Principal": {"Service": "logging.s3.amazonaws.com"},
               "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{BUCKET}/logs/*")})
    }

    #[test]
    fn no_policy_creates_both_statements() {
        let p = plan(None);
        let change = p.change.expect("a change");
        assert_eq!(change.action, Action::Create);
        assert_eq!(change.resource, Resource::BucketPolicy);
        assert_eq!(change.name, BUCKET);
        assert_eq!(
            change.detail,
            [
                "statement GuardSyncOrgRead added: accounts of the organization may read the list objects",
                "statement GuardSyncDenyInsecureTransport added: requests without TLS are denied",
            ]
        );
        let v: Value = serde_json::from_str(&p.policy).expect("json");
        assert_eq!(v["Version"], "2012-10-17");
        assert_eq!(
            v["Statement"],
            Value::Array(desired_statements("aws", BUCKET, "guardduty/", ORG).to_vec())
        );
        assert_eq!(
            v["Statement"][0]["Resource"],
            "arn:aws:s3:::org-threat-lists-111111111111/guardduty/lists/*"
        );
        assert_eq!(
            v["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
            ORG
        );
    }

    #[test]
    fn desired_policy_in_other_whitespace_and_key_order_is_no_change() {
        let desired = plan(None).policy;
        assert_eq!(plan(Some(&desired)).change, None);
        // Compact, keys reversed, single-element arrays and Resource reordered.
        let [org, tls] = desired_statements("aws", BUCKET, "guardduty/", ORG);
        let reorder = |v: &Value| {
            let m = v.as_object().expect("object");
            let mut s = String::from("{");
            for (i, (k, v)) in m.iter().rev().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(&format!("{k:?}:{v}"));
            }
            s + "}"
        };
        let mut tls = tls;
        tls["Action"] = json!(["s3:*"]);
        tls["Resource"].as_array_mut().expect("array").reverse();
        let text = format!(
            r#"{{"Statement":[{},{}],"Version":"2012-10-17"}}"#,
            reorder(&org),
            reorder(&tls)
        );
        assert_eq!(plan(Some(&text)).change, None);
    }

    #[test]
    fn drifted_org_id_is_put_back() {
        let drifted = plan(None).policy.replace(ORG, "o-someoneelse");
        assert_restored(
            &drifted,
            &["statement GuardSyncOrgRead drifted: someone changed it; putting it back"],
        );
    }

    #[test]
    fn an_older_guardsync_statement_is_narrowed_in_place() {
        let older = plan(None)
            .policy
            .replace("guardduty/lists/*", "guardduty/*");
        assert_restored(
            &older,
            &[
                "statement GuardSyncOrgRead from an older guardsync lets the organization read \
               everything under the prefix: narrowing it to the list objects",
            ],
        );
    }

    #[test]
    fn missing_deny_is_added_after_the_rest() {
        let [org, _] = desired_statements("aws", BUCKET, "guardduty/", ORG);
        let current = json!({"Version": "2012-10-17", "Statement": [org, foreign()]}).to_string();
        let p = plan(Some(&current));
        let change = p.change.expect("a change");
        assert_eq!(
            change.detail,
            [
                "statement GuardSyncDenyInsecureTransport added: requests without TLS are denied",
                "1 statement not written by guardsync is kept",
            ]
        );
        let sids: Vec<String> = statements(&p.policy)
            .iter()
            .map(|s| sid_of(s).to_owned())
            .collect();
        assert_eq!(sids, [SID_ORG_READ, "LogDelivery", SID_TLS_ONLY]);
    }

    #[test]
    fn foreign_statements_are_kept_as_is_and_in_order() {
        let a = foreign();
        let b = json!({"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                       "Action": ["s3:DeleteObject"], "Resource": format!("arn:aws:s3:::{BUCKET}/*"),
                       "Custom": {"kept": [1, 2]}});
        let current =
            json!({"Version": "2008-10-17", "Id": "Theirs", "Statement": [a, b]}).to_string();
        let p = plan(Some(&current));
        let change = p.change.expect("a change");
        assert_eq!(
            change.detail.last().map(String::as_str),
            Some("2 statements not written by guardsync are kept")
        );
        let got = statements(&p.policy);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], foreign());
        assert_eq!(got[1], b);
        let v: Value = serde_json::from_str(&p.policy).expect("json");
        assert_eq!(v["Version"], "2008-10-17", "the policy's own keys are kept");
        assert_eq!(v["Id"], "Theirs");
        assert!(p.warnings.is_empty());
        // Reconciling the result again changes nothing.
        assert_eq!(plan(Some(&p.policy)).change, None);
    }

    #[test]
    fn a_public_foreign_statement_is_kept_with_a_warning() {
        let public = json!({"Sid": "Website", "Effect": "Allow", "Principal": {"AWS": ["*"]},
                            "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{BUCKET}/*")});
        let current = json!({"Statement": [public]}).to_string();
        let p = plan(Some(&current));
        let want = "warning: statement \"Website\", not written by guardsync, allows Principal \"*\" \
                    without a condition: the bucket may be public; guardsync leaves it in place";
        assert_eq!(p.warnings, [want]);
        assert_eq!(
            p.change
                .expect("a change")
                .detail
                .last()
                .map(String::as_str),
            Some(want)
        );
        assert_eq!(statements(&p.policy)[0], public);
        // Still warned about when nothing else changes.
        let again = plan(Some(&p.policy));
        assert_eq!(again.change, None);
        assert_eq!(again.warnings, [want]);
    }

    #[test]
    fn a_single_statement_object_is_accepted() {
        let [org, _] = desired_statements("aws", BUCKET, "guardduty/", ORG);
        let current = json!({"Version": "2012-10-17", "Statement": org}).to_string();
        assert_restored(
            &current,
            &["statement GuardSyncDenyInsecureTransport added: requests without TLS are denied"],
        );
    }

    #[test]
    fn a_duplicated_statement_is_removed() {
        let [org, tls] = desired_statements("aws", BUCKET, "guardduty/", ORG);
        let current =
            json!({"Version": "2012-10-17", "Statement": [org.clone(), tls, org]}).to_string();
        assert_restored(
            &current,
            &["statement GuardSyncOrgRead duplicated: removing the copy"],
        );
    }

    #[test_case::test_case("{not json", "not JSON" ; "not json")]
    #[test_case::test_case("[]", "not a JSON object" ; "array")]
    #[test_case::test_case(r#"{"Statement": "Allow"}"#, "neither an object nor an array" ; "statement string")]
    fn a_malformed_policy_is_an_error(current: &str, want: &str) {
        let err =
            reconcile(Some(current), "aws", BUCKET, "guardduty/", ORG).expect_err("malformed");
        assert!(err.to_string().contains(want), "{err}");
    }
}

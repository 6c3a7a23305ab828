//! A resource policy evaluator for the bucket policy tests: does a policy
//! let this principal make this request? It follows IAM's evaluation logic
//! for a request from another account (the resource policy alone decides:
//! an explicit Deny wins, then an Allow must match, else the implicit deny),
//! for the elements guardsync's and the templates' policies use. Anything
//! else (another condition operator, `NotPrincipal`, `NotAction`,
//! `NotResource`) panics, so that a policy it cannot judge never passes.
//! (IAM user guide, "Policy evaluation logic" and "IAM JSON policy elements".)

use serde_json::Value;

/// A request: who asks, for what, on which resource, how.
pub(crate) struct Request<'a> {
    /// The caller's account.
    pub account: &'a str,
    /// The caller's organization (`aws:PrincipalOrgID`), if any.
    pub org_id: Option<&'a str>,
    /// `s3:GetObject`, ...
    pub action: &'a str,
    /// `arn:aws:s3:::bucket/key` or `arn:aws:s3:::bucket`.
    pub resource: &'a str,
    /// `aws:SecureTransport`.
    pub tls: bool,
}

/// Whether `policy` allows `request`.
pub(crate) fn allows(policy: &Value, request: &Request<'_>) -> bool {
    let statements: Vec<&Value> = match &policy["Statement"] {
        Value::Array(list) => list.iter().collect(),
        one @ Value::Object(_) => vec![one],
        other => panic!("no statements: {other}"),
    };
    let matching = |effect: &str| {
        statements
            .iter()
            .filter(|st| st["Effect"] == effect)
            .any(|st| applies(st, request))
    };
    !matching("Deny") && matching("Allow")
}

fn applies(st: &Value, r: &Request<'_>) -> bool {
    for unsupported in ["NotPrincipal", "NotAction", "NotResource"] {
        assert!(st.get(unsupported).is_none(), "{unsupported} in {st}");
    }
    let principal = match &st["Principal"] {
        Value::String(s) if s == "*" => true,
        Value::Object(m) => strings(m.get("AWS").unwrap_or(&Value::Null))
            .iter()
            .any(|p| *p == "*" || *p == r.account || p.ends_with(&format!("::{}:root", r.account))),
        other => panic!("principal {other}"),
    };
    let action = strings(&st["Action"])
        .iter()
        .any(|a| glob(&a.to_ascii_lowercase(), &r.action.to_ascii_lowercase()));
    let resource = strings(&st["Resource"]).iter().any(|p| glob(p, r.resource));
    principal && action && resource && conditions(&st["Condition"], r)
}

fn conditions(c: &Value, r: &Request<'_>) -> bool {
    let Some(ops) = c.as_object() else {
        assert!(c.is_null(), "condition {c}");
        return true;
    };
    ops.iter().all(|(op, keys)| {
        keys.as_object()
            .unwrap_or_else(|| panic!("{op}: {keys}"))
            .iter()
            .all(|(key, want)| {
                let have = match key.to_ascii_lowercase().as_str() {
                    "aws:principalorgid" => r.org_id.map(str::to_owned),
                    "aws:securetransport" => Some(r.tls.to_string()),
                    other => panic!("condition key {other}"),
                };
                let want = strings(want);
                match op.as_str() {
                    // A missing key matches no StringEquals/Bool.
                    "StringEquals" | "Bool" => have.is_some_and(|h| want.contains(&h.as_str())),
                    other => panic!("condition operator {other}"),
                }
            })
    })
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(list) => list.iter().map(|x| x.as_str().expect("string")).collect(),
        Value::Bool(_) => panic!("booleans must be strings in policies: {v}"),
        other => panic!("not a string or list: {other}"),
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut i, mut j, mut star) = (0, 0, None);
    while j < t.len() {
        match p.get(i) {
            Some(b'*') => {
                star = Some((i, j));
                i += 1;
            }
            Some(&c) if c == b'?' || c == t[j] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    star = Some((si, sj + 1));
                    i = si + 1;
                    j = sj + 1;
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

#[test]
fn the_evaluator_knows_deny_allow_and_conditions() {
    let policy = serde_json::json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::b/p/lists/*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    let r = |org, action, resource, tls| Request {
        account: "222222222222",
        org_id: org,
        action,
        resource,
        tls,
    };
    let list = "arn:aws:s3:::b/p/lists/x.txt";
    assert!(allows(&policy, &r(Some("o-1"), "s3:GetObject", list, true)));
    assert!(allows(&policy, &r(Some("o-1"), "S3:getobject", list, true)));
    assert!(!allows(
        &policy,
        &r(Some("o-2"), "s3:GetObject", list, true)
    ));
    assert!(!allows(&policy, &r(None, "s3:GetObject", list, true)));
    assert!(!allows(
        &policy,
        &r(Some("o-1"), "s3:GetObject", list, false)
    ));
    assert!(!allows(
        &policy,
        &r(Some("o-1"), "s3:PutObject", list, true)
    ));
    let manifest = "arn:aws:s3:::b/p/manifest.json";
    assert!(!allows(
        &policy,
        &r(Some("o-1"), "s3:GetObject", manifest, true)
    ));
    // The pre-`lists/` statement allowed everything under the prefix.
    let mut older = policy.clone();
    older["Statement"][0]["Resource"] = "arn:aws:s3:::b/p/*".into();
    assert!(allows(
        &older,
        &r(Some("o-1"), "s3:GetObject", manifest, true)
    ));
}

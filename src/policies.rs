//! `guardsync policies`: the bucket policy and the IAM policies guardsync
//! needs, rendered from the configuration.
//!
//! Four documents: the list bucket's policy (exactly what `bucket.manage_policy`
//! puts, from [`crate::publish::policy`]), the identity policy of the role
//! guardsync runs as in the administrator account, the identity policy of the
//! member role it assumes in other accounts, and that member role's trust
//! policy. Each grants only the actions guardsync calls (plus the ones AWS
//! checks on its behalf), on the narrowest resources IAM can name for them:
//! the Service Authorization Reference lists GuardDuty's account-level calls
//! (`ListDetectors`, `ListFilters`, `CreateThreatIntelSet`, ...), Organizations'
//! reads and `sns:Unsubscribe` without a resource type, so those need `"*"`.
//!
//! [`render`] and [`allows`] (a small evaluator of Allow/Deny statements with
//! action and resource wildcards) are pure; [`command`] is the thin I/O.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Config;
use crate::error::{Error, ExitCode};

/// The role guardsync runs as in the administrator account, unless `--admin-role` says otherwise.
pub(crate) const DEFAULT_ADMIN_ROLE: &str = "GuardSyncAdministratorRole";

/// What the bucket policy names without `--organization-id`.
pub(crate) const PLACEHOLDER_ORGANIZATION_ID: &str = "o-EXAMPLE";

/// `alerts.topic_name` when the configuration has no `alerts` (or no name):
/// guardsync's default topic, which it removes when `alerts` goes away.
const DEFAULT_TOPIC: &str = "guardsync-findings";

/// The policy language version.
const VERSION: &str = "2012-10-17";

/// GuardDuty's service-linked role, below `role/`: GuardDuty puts an inline
/// policy on it to read a threat list, so whoever adds, activates or moves a
/// list needs `iam:PutRolePolicy` and `iam:DeleteRolePolicy` on it
/// (<https://docs.aws.amazon.com/guardduty/latest/ug/guardduty-lists-prerequisites.html>).
const GUARDDUTY_SLR: &str =
    "aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty";

/// GuardDuty calls whose IAM action has no resource type (`Resource: "*"`).
const GUARDDUTY_ACCOUNT_LEVEL: [&str; 9] = [
    "guardduty:ArchiveFindings",
    "guardduty:CreateIPSet",
    "guardduty:CreateThreatIntelSet",
    "guardduty:ListDetectors",
    "guardduty:ListFilters",
    "guardduty:ListFindings",
    "guardduty:ListIPSets",
    "guardduty:ListThreatEntitySets",
    "guardduty:ListThreatIntelSets",
];

/// GuardDuty calls authorized on a detector's filter, threat intel set or
/// IP set (`arn:...:detector/ID/filter/NAME`, `.../threatintelset/ID`,
/// `.../ipset/ID`). `TagResource`: GuardDuty also checks it for the tags of
/// CreateFilter, CreateThreatIntelSet and CreateIPSet, and guardsync tags
/// sets itself.
const GUARDDUTY_DETECTOR_RESOURCES: [&str; 11] = [
    "guardduty:CreateFilter",
    "guardduty:DeleteFilter",
    "guardduty:DeleteIPSet",
    "guardduty:DeleteThreatIntelSet",
    "guardduty:GetFilter",
    "guardduty:GetIPSet",
    "guardduty:GetThreatIntelSet",
    "guardduty:TagResource",
    "guardduty:UpdateFilter",
    "guardduty:UpdateIPSet",
    "guardduty:UpdateThreatIntelSet",
];

/// A policy document, with its keys in the order people write them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Document {
    /// The policy language version.
    pub version: String,
    /// The statements.
    pub statement: Vec<Statement>,
}

/// One statement of a [`Document`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// Statement id (IAM: letters and digits only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Who (resource and trust policies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Value>,
    /// One action or a list.
    pub action: Value,
    /// One resource or a list (absent in a trust policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

impl Statement {
    /// An Allow of `actions` on `resources`.
    fn allow(sid: &str, actions: &[&str], resources: &[&str]) -> Statement {
        let one_or_list = |items: &[&str]| match items {
            [one] => Value::from(*one),
            many => Value::from(many.to_vec()),
        };
        Statement {
            sid: Some(sid.to_owned()),
            effect: "Allow".to_owned(),
            principal: None,
            action: Value::from(actions.to_vec()),
            resource: Some(one_or_list(resources)),
            condition: None,
        }
    }
}

/// The four documents, named as `guardsync policies` prints and writes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policies {
    /// The list bucket's policy (`bucket-policy.json`).
    #[serde(rename = "bucket-policy")]
    pub bucket_policy: Document,
    /// The administrator role's identity policy (`administrator-role.json`).
    #[serde(rename = "administrator-role")]
    pub administrator_role: Document,
    /// The member role's identity policy (`member-role.json`).
    #[serde(rename = "member-role")]
    pub member_role: Document,
    /// The member role's trust policy (`member-trust.json`).
    #[serde(rename = "member-trust")]
    pub member_trust: Document,
}

impl Policies {
    /// `(file name, document)` of each policy, in output order.
    pub fn files(&self) -> [(&'static str, &Document); 4] {
        [
            ("bucket-policy.json", &self.bucket_policy),
            ("administrator-role.json", &self.administrator_role),
            ("member-role.json", &self.member_role),
            ("member-trust.json", &self.member_trust),
        ]
    }

    /// All four as one JSON object (what `policies` prints without `--out`).
    pub fn to_json(&self) -> String {
        pretty(self)
    }
}

/// Pretty JSON with a final newline.
pub(crate) fn pretty<T: Serialize>(value: &T) -> String {
    // Documents hold only strings, arrays and string-keyed maps: nothing
    // serde_json can refuse to serialize.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// What the configuration does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The organization id for the bucket policy; `None`: [`PLACEHOLDER_ORGANIZATION_ID`].
    pub organization_id: Option<String>,
    /// Name (or `path/name`) of the role guardsync runs as in the administrator account.
    pub admin_role: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            organization_id: None,
            admin_role: DEFAULT_ADMIN_ROLE.to_owned(),
        }
    }
}

/// Render the four policies for `config`.
pub fn render(config: &Config, options: &Options) -> Policies {
    let p = crate::cloud::partition(config.bucket.region.as_str());
    let admin = config.admin_account.as_str();
    let org = options
        .organization_id
        .as_deref()
        .unwrap_or(PLACEHOLDER_ORGANIZATION_ID);
    let (bucket, prefix) = (config.bucket.name.as_str(), config.bucket.prefix.as_str());

    let bucket_policy = Document {
        version: VERSION.to_owned(),
        statement: crate::publish::policy::desired_statements(p, bucket, prefix, org)
            .into_iter()
            .filter_map(|st| serde_json::from_value(st).ok())
            .collect(),
    };

    let bucket_arn = format!("arn:{p}:s3:::{bucket}");
    let objects = format!("{bucket_arn}/{prefix}*");
    let topic = config
        .alerts
        .as_ref()
        .map_or(DEFAULT_TOPIC, |a| a.topic_name.as_str());
    let mut admin_statements = vec![
        // The list objects, the manifest and the run record under `state/`.
        Statement::allow(
            "ListObjectsManifestAndRunRecord",
            &["s3:GetObject", "s3:PutObject"],
            &[&objects],
        ),
        // The run lease, given back at the end of a run.
        Statement::allow(
            "RunLease",
            &["s3:DeleteObject"],
            &[&format!("{bucket_arn}/{prefix}state/lease.json")],
        ),
        // A list two publications back is tagged for the lifecycle rule.
        Statement::allow(
            "RetireOldLists",
            &["s3:PutObjectTagging"],
            &[&format!("{bucket_arn}/{prefix}lists/*")],
        ),
        // The scheduled job keeps the newest `bucket.keep_reports` reports.
        Statement::allow(
            "OldReports",
            &["s3:DeleteObject"],
            &[&format!("{bucket_arn}/{prefix}state/reports/*")],
        ),
        // S3 answers a read of a missing key (no manifest or run record yet)
        // with 404 only to callers allowed to list the bucket; others get 403
        // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
        Statement::allow(
            "MissingObjectsAnswerNotFound",
            &["s3:ListBucket"],
            &[&bucket_arn],
        ),
    ];
    if config.bucket.manage_policy {
        admin_statements.push(Statement::allow(
            "BucketPolicy",
            &["s3:GetBucketPolicy", "s3:PutBucketPolicy"],
            &[&bucket_arn],
        ));
    }
    admin_statements.extend([
        Statement::allow(
            "AssumeMemberRole",
            &["sts:AssumeRole"],
            &[&role_arn(p, "*", &config.organization.member_role)],
        ),
        Statement::allow(
            "ReadOrganization",
            &[
                "organizations:DescribeOrganization",
                "organizations:ListAccounts",
                "organizations:ListChildren",
            ],
            &["*"],
        ),
        Statement::allow("ListEnabledRegions", &["account:ListRegions"], &["*"]),
        Statement::allow(
            "GuardDutyAccountLevel",
            &with(&GUARDDUTY_ACCOUNT_LEVEL, "guardduty:GetMembers"),
            &["*"],
        ),
        Statement::allow(
            "GuardDutyDetectorResources",
            &GUARDDUTY_DETECTOR_RESOURCES,
            &[&format!("arn:{p}:guardduty:*:{admin}:detector/*")],
        ),
        Statement::allow(
            "GuardDutyThreatListRolePolicy",
            &["iam:DeleteRolePolicy", "iam:PutRolePolicy"],
            &[&role_arn(p, admin, GUARDDUTY_SLR)],
        ),
        // Always, whether or not `alerts` is configured: removing the key
        // makes guardsync delete what it created.
        Statement::allow(
            "AlertsTopic",
            &[
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
                "sns:ListTagsForResource",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:TagResource",
            ],
            &[&format!("arn:{p}:sns:*:{admin}:{topic}")],
        ),
        // sns:Unsubscribe has no resource type.
        Statement::allow("AlertsUnsubscribe", &["sns:Unsubscribe"], &["*"]),
        Statement::allow(
            "AlertsRule",
            &[
                "events:DeleteRule",
                "events:DescribeRule",
                "events:ListTagsForResource",
                "events:ListTargetsByRule",
                "events:PutRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:TagResource",
            ],
            &[&format!(
                "arn:{p}:events:*:{admin}:rule/{}",
                crate::reconcile::alerts::RULE_NAME
            )],
        ),
    ]);

    // The member role is the same in every account (a StackSet deploys it):
    // `*` for the account, which an identity policy cannot reach past anyway.
    let member_role = Document {
        version: VERSION.to_owned(),
        statement: vec![
            Statement::allow(
                "GuardDutyAccountLevel",
                &with(
                    &GUARDDUTY_ACCOUNT_LEVEL,
                    "guardduty:GetAdministratorAccount",
                ),
                &["*"],
            ),
            Statement::allow(
                "GuardDutyDetectorResources",
                &GUARDDUTY_DETECTOR_RESOURCES,
                &[&format!("arn:{p}:guardduty:*:*:detector/*")],
            ),
            Statement::allow(
                "GuardDutyThreatListRolePolicy",
                &["iam:DeleteRolePolicy", "iam:PutRolePolicy"],
                &[&role_arn(p, "*", GUARDDUTY_SLR)],
            ),
        ],
    };

    let member_trust = Document {
        version: VERSION.to_owned(),
        statement: vec![Statement {
            sid: Some("GuardSyncAdministrator".to_owned()),
            effect: "Allow".to_owned(),
            principal: Some(json!({"AWS": role_arn(p, admin, &options.admin_role)})),
            action: Value::from("sts:AssumeRole"),
            resource: None,
            condition: config
                .organization
                .external_id
                .as_ref()
                .map(|x| json!({"StringEquals": {"sts:ExternalId": x}})),
        }],
    };

    Policies {
        bucket_policy,
        administrator_role: Document {
            version: VERSION.to_owned(),
            statement: admin_statements,
        },
        member_role,
        member_trust,
    }
}

/// `actions` and `extra`, sorted.
fn with(actions: &[&'static str], extra: &'static str) -> Vec<&'static str> {
    let mut all = actions.to_vec();
    all.push(extra);
    all.sort_unstable();
    all
}

/// The ARN of `role` (a name or `path/name`) in `account` (or `*`).
fn role_arn(partition: &str, account: &str, role: &str) -> String {
    format!(
        "arn:{partition}:iam::{account}:role/{}",
        role.trim_start_matches('/')
    )
}

/// `--organization-id`: `o-` and 10 to 32 of `[a-z0-9]` (Organizations API reference).
pub(crate) fn parse_organization_id(s: &str) -> Result<String, String> {
    let rest = s.strip_prefix("o-").unwrap_or_default();
    if (10..=32).contains(&rest.len())
        && rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "must be an organization id (o- and 10 to 32 of [a-z0-9]), got {s:?}"
        ))
    }
}

/// `--admin-role`: an IAM role name (1-64 of `[A-Za-z0-9_+=,.@-]`), optionally after a path.
pub(crate) fn parse_role(s: &str) -> Result<String, String> {
    let text = s.trim_start_matches('/');
    let name = text.rsplit('/').next().unwrap_or_default();
    let name_ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if name_ok && !text.contains("//") {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "must be an IAM role name (1-64 of [A-Za-z0-9_+=,.@-]) or path/name, got {s:?}"
        ))
    }
}

/// Whether the identity policy `policy` (a policy document as JSON) allows
/// `action` on `resource`: an Allow statement matches both and no Deny does.
///
/// `Action` and `Resource` may be a string or a list, with `*` and `?`
/// wildcards; actions compare without regard to case, as IAM does. A request
/// for an action without a resource type is `resource` `"*"`, which only
/// `"Resource": "*"` matches. Conditions are not evaluated (a statement with
/// one counts as matching), nor are `NotAction`/`NotResource` (a statement
/// with them never matches).
pub fn allows(policy: &Value, action: &str, resource: &str) -> bool {
    let statements = match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let applies = |st: &Value| {
        let any = |key: &str, value: &str, fold: bool| {
            let items = match st.get(key) {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            items.iter().any(|pattern| {
                if fold {
                    glob(&pattern.to_ascii_lowercase(), &value.to_ascii_lowercase())
                } else {
                    glob(pattern, value)
                }
            })
        };
        any("Action", action, true) && any("Resource", resource, false)
    };
    let effect = |st: &&Value, e: &str| st.get("Effect").and_then(Value::as_str) == Some(e);
    let allowed = statements
        .iter()
        .filter(|st| effect(st, "Allow"))
        .any(|st| applies(st));
    let denied = statements
        .iter()
        .filter(|st| effect(st, "Deny"))
        .any(|st| applies(st));
    allowed && !denied
}

/// IAM's wildcard match: `*` any run of characters (`/` and `:` included),
/// `?` any one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut i, mut j) = (0, 0);
    // Where the last `*` was, and how much of the text it has taken.
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        match p.get(i) {
            Some('*') => {
                star = Some((i, j));
                i += 1;
            }
            Some(&c) if c == '?' || c == t[j] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// `guardsync policies`: render from the configuration; print the four
/// documents as one JSON object, or (`--out DIR`) write one file each.
pub fn command(config: &Path, options: &Options, out: Option<&Path>) -> Result<ExitCode, Error> {
    let config = crate::config::load(config)?;
    if options.organization_id.is_none() {
        tracing::warn!(
            "no --organization-id: bucket-policy.json names the placeholder {PLACEHOLDER_ORGANIZATION_ID}; \
             pass the id that `aws organizations describe-organization --query Organization.Id` prints"
        );
    }
    let policies = render(&config, options);
    match out {
        None => print!("{}", policies.to_json()),
        Some(dir) => {
            write_all(dir, &policies)?;
        }
    }
    Ok(ExitCode::Success)
}

/// Write each policy to `dir/NAME.json` (creating `dir`), and say which.
fn write_all(dir: &Path, policies: &Policies) -> Result<(), Error> {
    let file_error = |action, path: &Path| {
        let path = path.to_owned();
        move |source| Error::File {
            action,
            path,
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(file_error("create", dir))?;
    for (name, doc) in policies.files() {
        let path = dir.join(name);
        std::fs::write(&path, pretty(doc)).map_err(file_error("write", &path))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn config(yaml_extra: &str) -> Config {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("guardsync.yaml");
        let yaml = format!(
            "admin:\n  account_id: \"111111111111\"\nregions: [us-east-1]\n\
             bucket:\n  name: lists\n  region: us-east-1\n  prefix: gd/\n{yaml_extra}"
        );
        std::fs::write(&path, yaml).expect("write config");
        crate::config::load(&path).expect("valid config")
    }

    fn doc(d: &Document) -> Value {
        serde_json::to_value(d).expect("document as JSON")
    }

    fn sids(d: &Document) -> Vec<&str> {
        d.statement
            .iter()
            .filter_map(|s| s.sid.as_deref())
            .collect()
    }

    #[test_case("s3:GetObject", "arn:aws:s3:::lists/gd/abc.txt" => true ; "list object")]
    #[test_case("s3:PutObject", "arn:aws:s3:::lists/gd/state/last-run.json" => true ; "run record")]
    #[test_case("s3:PutObject", "arn:aws:s3:::lists/other/x" => false ; "outside the prefix")]
    #[test_case("s3:ListBucket", "arn:aws:s3:::lists" => true ; "list bucket")]
    #[test_case("s3:PutBucketPolicy", "arn:aws:s3:::lists" => true ; "bucket policy")]
    #[test_case("s3:DeleteObject", "arn:aws:s3:::lists/gd/lists/abc.txt" => false ; "no list deletes")]
    #[test_case("s3:DeleteObject", "arn:aws:s3:::lists/gd/manifest.json" => false ; "no manifest delete")]
    #[test_case("s3:DeleteObject", "arn:aws:s3:::lists/gd/state/lease.json" => true ; "lease")]
    #[test_case("s3:DeleteObject", "arn:aws:s3:::lists/gd/state/reports/r.json" => true ; "old reports")]
    #[test_case("s3:PutObjectTagging", "arn:aws:s3:::lists/gd/lists/abc.txt" => true ; "retire a list")]
    #[test_case("s3:PutObjectTagging", "arn:aws:s3:::lists/gd/manifest.json" => false ; "tag only lists")]
    #[test_case("sts:AssumeRole", "arn:aws:iam::222222222222:role/GuardSyncMemberRole" => true ; "member role")]
    #[test_case("sts:AssumeRole", "arn:aws:iam::222222222222:role/Admin" => false ; "other role")]
    #[test_case("guardduty:ListDetectors", "*" => true ; "account level")]
    #[test_case("guardduty:UpdateFilter", "arn:aws:guardduty:eu-west-1:111111111111:detector/d1/filter/f" => true ; "own filter")]
    #[test_case("guardduty:UpdateFilter", "arn:aws:guardduty:eu-west-1:222222222222:detector/d1/filter/f" => false ; "other account")]
    #[test_case("guardduty:UpdateFilter", "*" => false ; "resource action against star")]
    #[test_case("iam:PutRolePolicy", "arn:aws:iam::111111111111:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty" => true ; "slr")]
    #[test_case("iam:PutRolePolicy", "arn:aws:iam::111111111111:role/GuardSyncAdministratorRole" => false ; "not itself")]
    #[test_case("sns:Subscribe", "arn:aws:sns:ap-southeast-2:111111111111:guardsync-findings" => true ; "default topic")]
    #[test_case("sns:Subscribe", "arn:aws:sns:ap-southeast-2:111111111111:other" => false ; "other topic")]
    #[test_case("events:PutTargets", "arn:aws:events:us-east-1:111111111111:rule/guardsync-findings" => true ; "rule")]
    #[test_case("events:TestEventPattern", "*" => false ; "never called")]
    #[test_case("guardduty:GetAdministratorAccount", "*" => false ; "admin never probes itself")]
    fn administrator_role(action: &str, resource: &str) -> bool {
        let p = render(&config(""), &Options::default());
        allows(&doc(&p.administrator_role), action, resource)
    }

    #[test_case("guardduty:GetAdministratorAccount", "*" => true ; "probe")]
    #[test_case("guardduty:CreateThreatIntelSet", "*" => true ; "own set")]
    #[test_case("guardduty:TagResource", "arn:aws:guardduty:us-east-1:777777777777:detector/d/threatintelset/s" => true ; "tag set")]
    #[test_case("iam:DeleteRolePolicy", "arn:aws:iam::777777777777:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty" => true ; "slr")]
    #[test_case("guardduty:GetMembers", "*" => false ; "members are the administrator's")]
    #[test_case("sns:CreateTopic", "arn:aws:sns:us-east-1:777777777777:guardsync-findings" => false ; "no alerts in members")]
    #[test_case("s3:GetObject", "arn:aws:s3:::lists/gd/x.txt" => false ; "no s3")]
    fn member_role(action: &str, resource: &str) -> bool {
        let p = render(&config(""), &Options::default());
        allows(&doc(&p.member_role), action, resource)
    }

    #[test]
    fn bucket_policy_is_what_manage_policy_puts() {
        let c = config("");
        let p = render(
            &c,
            &Options {
                organization_id: Some("o-abcdefghij".to_owned()),
                ..Options::default()
            },
        );
        let put = crate::publish::policy::reconcile(None, "aws", "lists", "gd/", "o-abcdefghij")
            .expect("a policy");
        let put: Value = serde_json::from_str(&put.policy).expect("JSON");
        assert_eq!(doc(&p.bucket_policy), put);
        let placeholder = render(&c, &Options::default());
        assert!(pretty(&placeholder.bucket_policy).contains("\"o-EXAMPLE\""));
    }

    #[test]
    fn bucket_policy_statements_only_with_manage_policy() {
        let with = render(&config(""), &Options::default());
        assert!(sids(&with.administrator_role).contains(&"BucketPolicy"));
        let without = render(&config("  manage_policy: false\n"), &Options::default());
        assert!(!sids(&without.administrator_role).contains(&"BucketPolicy"));
        assert!(!allows(
            &doc(&without.administrator_role),
            "s3:PutBucketPolicy",
            "arn:aws:s3:::lists"
        ));
    }

    #[test]
    fn alerts_statements_follow_the_topic_name() {
        let c = config(
            "alerts:\n  min_severity: 7.0\n  topic_name: soc-alerts\n  emails: [a@example.com]\n",
        );
        let p = doc(&render(&c, &Options::default()).administrator_role);
        assert!(allows(
            &p,
            "sns:DeleteTopic",
            "arn:aws:sns:eu-west-1:111111111111:soc-alerts"
        ));
        assert!(!allows(
            &p,
            "sns:DeleteTopic",
            "arn:aws:sns:eu-west-1:111111111111:guardsync-findings"
        ));
    }

    #[test]
    fn member_trust_names_the_admin_role_and_the_external_id() {
        let c = config("organization:\n  external_id: soc-2024\n");
        let p = render(
            &c,
            &Options {
                organization_id: None,
                admin_role: "ops/GuardSync".to_owned(),
            },
        );
        assert_eq!(
            doc(&p.member_trust),
            json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "GuardSyncAdministrator",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:role/ops/GuardSync"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "soc-2024"}},
            }]})
        );
        let plain = render(&config(""), &Options::default());
        assert_eq!(plain.member_trust.statement[0].condition, None);
    }

    #[test]
    fn member_role_path_is_kept_in_the_assume_role_resource() {
        let c = config("organization:\n  member_role: /security/GuardSyncMember\n");
        let p = doc(&render(&c, &Options::default()).administrator_role);
        assert!(allows(
            &p,
            "sts:AssumeRole",
            "arn:aws:iam::222222222222:role/security/GuardSyncMember"
        ));
    }

    #[test]
    fn output_keys_in_order_and_sids_are_iam_sids() {
        let p = render(&config(""), &Options::default());
        let text = p.to_json();
        let at = |k: &str| text.find(&format!("\"{k}\"")).expect(k);
        assert!(at("bucket-policy") < at("administrator-role"));
        assert!(at("administrator-role") < at("member-role"));
        assert!(at("member-role") < at("member-trust"));
        for (_, d) in p.files() {
            for sid in sids(d) {
                assert!(sid.chars().all(|c| c.is_ascii_alphanumeric()), "{sid}");
            }
            let back: Document = serde_json::from_str(&pretty(d)).expect("round trip");
            assert_eq!(&back, d);
        }
    }

    #[test_case("*", "anything:at/all" => true)]
    #[test_case("arn:aws:s3:::b/p*", "arn:aws:s3:::b/p/state/x.json" => true)]
    #[test_case("arn:aws:s3:::b/p*", "arn:aws:s3:::b" => false)]
    #[test_case("a*b*c", "axxbyyc" => true)]
    #[test_case("a*b*c", "axxbyy" => false)]
    #[test_case("a?c", "abc" => true)]
    #[test_case("a?c", "ac" => false)]
    #[test_case("abc", "abc" => true)]
    #[test_case("", "" => true)]
    #[test_case("**", "" => true)]
    fn wildcards(pattern: &str, text: &str) -> bool {
        glob(pattern, text)
    }

    #[test]
    fn evaluator_actions_fold_case_deny_wins_and_single_statements() {
        let p = json!({"Statement": [
            {"Effect": "Allow", "Action": "guardduty:Get*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["guardduty:GetFindings"], "Resource": ["*"]},
        ]});
        assert!(allows(&p, "GuardDuty:getfilter", "*"));
        assert!(!allows(&p, "guardduty:GetFindings", "*"));
        assert!(!allows(&p, "guardduty:ListFilters", "*"));
        let one = json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}});
        assert!(allows(&one, "s3:PutObject", "arn:aws:s3:::b/k"));
        assert!(!allows(&one, "s3:PutObject", "arn:aws:s3:::c/k"));
        assert!(!allows(&json!({}), "s3:PutObject", "*"));
    }

    #[test_case("o-abcdefghij" => true)]
    #[test_case("o-EXAMPLE" => false)]
    #[test_case("o-abc" => false)]
    #[test_case("abcdefghijkl" => false)]
    fn organization_ids(s: &str) -> bool {
        parse_organization_id(s).is_ok()
    }

    #[test_case("GuardSyncAdministratorRole" => Ok("GuardSyncAdministratorRole".to_owned()))]
    #[test_case("/ops/GuardSync" => Ok("ops/GuardSync".to_owned()))]
    #[test_case("" => matches Err(_))]
    #[test_case("has space" => matches Err(_))]
    #[test_case("a//b" => matches Err(_))]
    fn role_names(s: &str) -> Result<String, String> {
        parse_role(s)
    }
}

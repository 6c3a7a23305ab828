//! Suppression rules of one target: GuardDuty filters with action ARCHIVE.
//! The filters guardsync owns (tag `managed-by=guardsync`) are made equal to
//! `suppression_rules`; the others are never touched. Observe, [`plan`]
//! (pure), [`findings`] (what each rule reaches among the current findings,
//! and the ones `archive_existing` archives) and
//! [`apply`].

use std::collections::BTreeMap;

use super::plan::{
    Failure, OWNER_TAG, OWNER_VALUE, Outcome, Plan, TargetError, client_token, owner_tags,
};
use crate::cloud::GuardDutyApi;
use crate::cloud::{Filter, FilterSpec};
use crate::config::{Condition, SuppressionRule};
use crate::report::{Action, Change, Resource, Unmanaged};

/// GuardDuty's limit of filters per account per region.
pub(crate) const MAX_FILTERS: usize = 100;
/// The action of a suppression rule.
pub(crate) const ARCHIVE: &str = "ARCHIVE";

/// One write. A plan's writes run in order: deletes (they free room and
/// close their positions), updates in place, then the creates and moves that
/// put guardsync's rules in order at the end of the detector's filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Delete an owned filter no rule names any more.
    Delete(String),
    /// Put an owned filter back to its rule (description, action, criteria)
    /// and, with a `rank`, move it to that position (the last one).
    Update {
        /// The filter.
        name: String,
        /// Where to move it, if it moves.
        rank: Option<i32>,
        /// Whether its description, action or criteria change.
        content: bool,
    },
    /// Create the filter of a rule at `rank`, the position after every
    /// filter there (GuardDuty refuses a rank past the count + 1).
    Create {
        /// The filter.
        name: String,
        /// Its position.
        rank: i32,
    },
    /// Archive the current findings a rule with `archive_existing` matches
    /// (after the filter writes).
    Archive {
        /// The rule's filter.
        name: String,
        /// The findings, not archived yet.
        ids: Vec<String>,
    },
}

impl Step {
    /// The name of the filter it writes.
    fn name(&self) -> &str {
        match self {
            Step::Delete(n)
            | Step::Update { name: n, .. }
            | Step::Create { name: n, .. }
            | Step::Archive { name: n, .. } => n,
        }
    }
}

/// A decision being written: writes with the change each reports.
#[derive(Debug, Default)]
struct Draft {
    steps: Vec<(Step, Change)>,
    errors: Vec<Failure>,
    unmanaged: Vec<Unmanaged>,
}

/// Whether guardsync owns a filter.
pub(crate) fn is_owned(f: &Filter) -> bool {
    super::plan::is_owned(&f.tags)
}

/// A condition with its value lists sorted: the order of values means
/// nothing to GuardDuty, so it must not make a rule look changed.
fn normal(c: &Condition) -> Condition {
    let sorted = |v: &Option<Vec<String>>| {
        v.as_ref().map(|v| {
            let mut v = v.clone();
            v.sort();
            v.dedup();
            v
        })
    };
    Condition {
        equals: sorted(&c.equals),
        not_equals: sorted(&c.not_equals),
        matches: sorted(&c.matches),
        not_matches: sorted(&c.not_matches),
        ..c.clone()
    }
}

fn normal_all(c: &BTreeMap<String, Condition>) -> BTreeMap<String, Condition> {
    c.iter().map(|(k, v)| (k.clone(), normal(v))).collect()
}

/// `equals [a, b]; greater_than 3`, for the plan.
pub(crate) fn describe(c: &Condition) -> String {
    let mut parts = Vec::new();
    let mut list = |name: &str, v: &Option<Vec<String>>| {
        if let Some(v) = v {
            parts.push(format!("{name} [{}]", v.join(", ")));
        }
    };
    list("equals", &c.equals);
    list("not_equals", &c.not_equals);
    list("matches", &c.matches);
    list("not_matches", &c.not_matches);
    for (name, v) in [
        ("greater_than", c.greater_than),
        ("greater_than_or_equal", c.greater_than_or_equal),
        ("less_than", c.less_than),
        ("less_than_or_equal", c.less_than_or_equal),
    ] {
        if let Some(v) = v {
            parts.push(format!("{name} {v}"));
        }
    }
    parts.join("; ")
}

/// What differs between a rule and its filter, one line each; empty when equal.
fn differences(rule: &SuppressionRule, f: &Filter) -> Vec<String> {
    let mut out = Vec::new();
    let want_desc = rule.description.as_deref().unwrap_or_default();
    if f.description != want_desc {
        out.push(format!(
            "description {:?} -> {:?}",
            f.description, want_desc
        ));
    }
    if f.action != ARCHIVE {
        out.push(format!("action {} -> {ARCHIVE}", f.action));
    }
    if f.criteria == rule.criteria {
        // The same criteria, value for value: nothing to normalise.
        return out;
    }
    let (have, want) = (normal_all(&f.criteria), normal_all(&rule.criteria));
    let fields: std::collections::BTreeSet<&String> = have.keys().chain(want.keys()).collect();
    for field in fields {
        match (have.get(field), want.get(field)) {
            (Some(h), Some(w)) if h != w => {
                out.push(format!("{field}: {} -> {}", describe(h), describe(w)));
            }
            (Some(h), None) => out.push(format!("- {field}: {}", describe(h))),
            (None, Some(w)) => out.push(format!("+ {field}: {}", describe(w))),
            _ => {}
        }
    }
    out
}

/// Decide what to do with the filters found in one detector.
///
/// The plan's `changes[i]` is what `steps[i]` does; deletes come first, to
/// free room for creates.
pub fn plan(
    rules: &[SuppressionRule],
    found: &[Filter],
    arn_of: impl Fn(&str) -> String,
) -> Plan<Step> {
    let mut p = Draft::default();
    let by_name: BTreeMap<&str, &Filter> = found.iter().map(|f| (f.name.as_str(), f)).collect();
    let wanted: BTreeMap<&str, &SuppressionRule> =
        rules.iter().map(|r| (r.name.as_str(), r)).collect();
    for f in found {
        if !is_owned(f) {
            p.unmanaged.push(Unmanaged {
                resource: Resource::Filter,
                name: f.name.clone(),
            });
        } else if !wanted.contains_key(f.name.as_str()) {
            let change = Change {
                resource: Resource::Filter,
                name: f.name.clone(),
                action: Action::Delete,
                detail: vec!["no suppression rule of that name any more".into()],
            };
            p.steps.push((Step::Delete(f.name.clone()), change));
        }
    }
    let mut content: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut new: Vec<&SuppressionRule> = Vec::new();
    for rule in rules {
        let name = rule.name.as_str();
        match by_name.get(name) {
            Some(f) if !is_owned(f) => p.errors.push(Failure::Conflict(format!(
                "a filter named {name:?} exists and is not managed by guardsync; guardsync \
                 never adopts silently: to let it manage this filter, tag it \
                 (aws guardduty tag-resource --resource-arn {} --tags {OWNER_TAG}={OWNER_VALUE}), \
                 or rename the rule",
                arn_of(name)
            ))),
            Some(f) => {
                let diff = differences(rule, f);
                if !diff.is_empty() {
                    content.insert(name, diff);
                }
            }
            None => new.push(rule),
        }
    }
    let deletes = p.steps.len();
    let after = found.len() + new.len() - deletes;
    if !new.is_empty() && after > MAX_FILTERS {
        let foreign = found.iter().filter(|f| !is_owned(f)).count();
        p.errors.push(Failure::Limit(format!(
            "cannot create {} filter(s): the detector would hold {after} filters, \
             GuardDuty's limit is {MAX_FILTERS} ({} exist, {foreign} of them not managed by guardsync)",
            new.len(),
            found.len()
        )));
        new.clear();
    }
    order(&mut p, rules, found, &content, &new);
    let (steps, changes) = p.steps.into_iter().unzip();
    Plan {
        steps,
        changes,
        unmanaged: p.unmanaged,
        notes: Vec::new(),
        blocked: p
            .errors
            .into_iter()
            .map(|e| TargetError::new(Resource::Filter, e))
            .collect(),
        activating: Vec::new(),
    }
}

/// The updates, creates and moves after the deletes already in `p`.
///
/// GuardDuty's ranks are positions without gaps (API_CreateFilter: a rank
/// past the count + 1 is "out-of-bounds"; an insert shifts the filters after
/// it). guardsync keeps only the relative order of its own rules (by
/// `rank`, then name) and never moves a filter it does not own: the rules
/// already in order stay where they are, whatever other tools' filters do
/// around them; new rules go after the filters already there; and when the
/// order is wrong, the fewest trailing rules in the desired order are moved
/// to the end, one after the other.
fn order(
    p: &mut Draft,
    rules: &[SuppressionRule],
    found: &[Filter],
    content: &BTreeMap<&str, Vec<String>>,
    new: &[&SuppressionRule],
) {
    let is_new = |name: &str| new.iter().any(|r| r.name.as_str() == name);
    let owned: BTreeMap<&str, &Filter> = found
        .iter()
        .filter(|f| is_owned(f))
        .map(|f| (f.name.as_str(), f))
        .collect();
    // The desired order of guardsync's rules that are (or will be) there.
    let mut desired: Vec<&SuppressionRule> = rules
        .iter()
        .filter(|r| owned.contains_key(r.name.as_str()) || is_new(r.name.as_str()))
        .collect();
    desired.sort_by(|a, b| (a.rank, a.name.as_str()).cmp(&(b.rank, b.name.as_str())));
    // Their order once the new ones are appended: the existing by position.
    let mut existing: Vec<&Filter> = desired
        .iter()
        .filter_map(|r| owned.get(r.name.as_str()).copied())
        .collect();
    existing.sort_by_key(|f| f.rank);
    let current: Vec<&str> = existing
        .iter()
        .map(|f| f.name.as_str())
        .chain(
            desired
                .iter()
                .map(|r| r.name.as_str())
                .filter(|n| is_new(n)),
        )
        .collect();
    let kept = kept_in_order(desired.iter().map(|r| r.name.as_str()), &current);
    let deletes = p.steps.len();
    let mut count = i32::try_from(found.len() - deletes).unwrap_or(i32::MAX);
    // Rules in order that only change in place.
    for r in &desired[..kept] {
        if let Some(diff) = content.get(r.name.as_str()) {
            p.steps.push((
                Step::Update {
                    name: r.name.as_str().to_owned(),
                    rank: None,
                    content: true,
                },
                change(r.name.as_str(), Action::Update, diff.clone()),
            ));
        }
    }
    // New rules that already fall in order, then every rule from the first
    // one out of order on, each put last.
    let tail = desired[kept..].iter();
    for r in desired[..kept]
        .iter()
        .filter(|r| is_new(r.name.as_str()))
        .chain(tail)
    {
        let name = r.name.as_str();
        match owned.get(name).map(|f| f.rank) {
            None => {
                count += 1;
                let mut detail = vec![format!(
                    "rank {count} (after the filters already there), action {ARCHIVE}"
                )];
                detail.extend(
                    r.criteria
                        .iter()
                        .map(|(k, c)| format!("{k}: {}", describe(c))),
                );
                p.steps.push((
                    Step::Create {
                        name: name.to_owned(),
                        rank: count,
                    },
                    change(name, Action::Create, detail),
                ));
            }
            Some(from) => {
                let mut detail = vec![format!(
                    "rank {from} -> {count} (after the filters already there, to keep \
                     suppression_rules' order)"
                )];
                let diff = content.get(name);
                detail.extend(diff.into_iter().flatten().cloned());
                p.steps.push((
                    Step::Update {
                        name: name.to_owned(),
                        rank: Some(count),
                        content: diff.is_some(),
                    },
                    change(name, Action::Update, detail),
                ));
            }
        }
    }
}

/// A change to the filter `name`.
fn change(name: &str, action: Action, detail: Vec<String>) -> Change {
    Change {
        resource: Resource::Filter,
        name: name.to_owned(),
        action,
        detail,
    }
}

/// Every filter of the detector, with its details.
pub(crate) async fn observe(
    gd: &impl GuardDutyApi,
    detector: &str,
) -> Result<Vec<Filter>, TargetError> {
    gd.filters(detector)
        .await
        .map_err(|e| TargetError::new(Resource::Filter, e))
}

/// How many of `desired` (names, in the desired order), from the first,
/// `current` (names, in their order on the detector) already holds in that
/// order: the longest prefix whose places in `current` increase. A name
/// `current` lacks ends the prefix.
fn kept_in_order<'a>(desired: impl Iterator<Item = &'a str>, current: &[&str]) -> usize {
    let mut kept = 0;
    let mut after: Option<usize> = None;
    for name in desired {
        let Some(at) = current.iter().position(|n| *n == name) else {
            break;
        };
        if after.is_some_and(|a| at < a) {
            break;
        }
        after = Some(at);
        kept += 1;
    }
    kept
}

/// The filter a rule asks for, at `rank` (a position) or where it is.
fn spec(rule: &SuppressionRule, rank: Option<i32>) -> FilterSpec<'_> {
    FilterSpec {
        name: rule.name.as_str(),
        description: rule.description.as_deref().unwrap_or_default(),
        rank,
        criteria: &rule.criteria,
    }
}

/// The rule a create or update step writes.
fn rule_of<'a>(rules: &'a [SuppressionRule], step: &Step) -> Option<&'a SuppressionRule> {
    match step {
        Step::Create { name, .. } | Step::Update { name, .. } => {
            rules.iter().find(|r| r.name.as_str() == name)
        }
        Step::Delete(_) | Step::Archive { .. } => None,
    }
}

/// The idempotency token of a filter's create: over the whole filter, so that
/// a rule deleted and added again with other criteria is a new request, not
/// a retry of the old one (which GuardDuty would refuse, or answer with the
/// old filter).
fn create_token(account: &str, region: &str, spec: &FilterSpec<'_>) -> String {
    let criteria: Vec<String> = normal_all(spec.criteria)
        .iter()
        .map(|(field, c)| format!("{field}:{c:?}"))
        .collect();
    client_token(&format!(
        "{account}|{region}|filter|{}|{}|{}|{}",
        spec.name,
        spec.rank.unwrap_or_default(),
        spec.description,
        criteria.join("|")
    ))
}

/// The findings the rules reach, read before any write (plan and apply
/// alike):
///
/// - a rule with `archive_existing` archives the current findings it matches
///   (not archived yet): one [`Step::Archive`] after the filter writes, when
///   there are any, so a second apply archives nothing more;
/// - any other rule to create or change says how many current findings it
///   matches, and that they stay: GuardDuty archives the new findings a rule
///   matches, not the ones already there.
///
/// A read that fails blocks the plan there: the changes after it are not
/// reported.
pub(crate) async fn findings(
    gd: &impl GuardDutyApi,
    detector: &str,
    rules: &[SuppressionRule],
    plan: &mut Plan<Step>,
) {
    let current = |rule: &SuppressionRule| {
        let mut criteria = rule.criteria.clone();
        criteria.insert(
            "service.archived".into(),
            Condition {
                equals: Some(vec!["false".into()]),
                ..Default::default()
            },
        );
        criteria
    };
    for i in 0..plan.steps.len() {
        // A pure move changes no finding's fate.
        if matches!(plan.steps[i], Step::Update { content: false, .. }) {
            continue;
        }
        let Some(rule) = rule_of(rules, &plan.steps[i]).filter(|r| !r.archive_existing) else {
            continue;
        };
        match gd
            .finding_ids(detector, &current(rule))
            .await
            .map(|ids| ids.len())
        {
            // A suppression rule archives new findings only: the current
            // ones it matches stay as they are.
            Ok(n) => plan.changes[i].detail.push(format!(
                "matches {n} current finding{} (they stay; GuardDuty archives only new ones; \
                 archive_existing: true archives them too)",
                if n == 1 { "" } else { "s" }
            )),
            Err(e) => {
                plan.steps.truncate(i);
                plan.changes.truncate(i);
                plan.blocked.push(TargetError::new(Resource::Filter, e));
                return;
            }
        }
    }
    for rule in rules.iter().filter(|r| r.archive_existing) {
        match gd.finding_ids(detector, &current(rule)).await {
            Ok(ids) if ids.is_empty() => {}
            Ok(ids) => {
                let n = ids.len();
                plan.changes.push(Change {
                    resource: Resource::Filter,
                    name: rule.name.as_str().to_owned(),
                    action: Action::Archive,
                    detail: vec![format!(
                        "{n} current finding{} the rule matches (archive_existing)",
                        if n == 1 { "" } else { "s" }
                    )],
                });
                plan.steps.push(Step::Archive {
                    name: rule.name.as_str().to_owned(),
                    ids,
                });
            }
            Err(e) => {
                plan.blocked.push(TargetError::new(Resource::Filter, e));
                return;
            }
        }
    }
}

/// Carry out `plan` in the detector of `account` in `region`, in order; the
/// first write that fails stops the rest, and only the writes made are
/// reported.
pub(crate) async fn apply(
    gd: &impl GuardDutyApi,
    detector: &str,
    rules: &[SuppressionRule],
    (account, region): (&str, &str),
    plan: Plan<Step>,
) -> Outcome {
    let mut out = Outcome {
        unmanaged: plan.unmanaged,
        notes: plan.notes,
        errors: plan.blocked,
        ..Outcome::default()
    };
    for (step, change) in plan.steps.into_iter().zip(plan.changes) {
        let rule = rule_of(rules, &step);
        let done = match (&step, rule) {
            (Step::Delete(name), _) => gd.delete_filter(detector, name).await,
            (Step::Archive { ids, .. }, _) => archive(gd, detector, ids).await,
            (Step::Update { rank, .. }, Some(rule)) => {
                gd.update_filter(detector, &spec(rule, *rank)).await
            }
            (Step::Create { rank, .. }, Some(rule)) => {
                let spec = spec(rule, Some(*rank));
                let token = create_token(account, region, &spec);
                gd.create_filter(detector, &spec, &owner_tags(), &token)
                    .await
            }
            (_, None) => Ok(()),
        };
        match done {
            Ok(()) => out.changes.push(change),
            Err(e) => {
                tracing::debug!(filter = step.name(), "filter write failed");
                out.errors.push(TargetError::new(Resource::Filter, e));
                break;
            }
        }
    }
    out
}

/// Archive `ids`, [`crate::cloud::ARCHIVE_BATCH`] at a time.
async fn archive(
    gd: &impl GuardDutyApi,
    detector: &str,
    ids: &[String],
) -> Result<(), crate::cloud::AwsError> {
    for batch in ids.chunks(crate::cloud::ARCHIVE_BATCH) {
        gd.archive_findings(detector, batch).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FilterName;

    fn rule(name: &str, rank: u8, types: &[&str]) -> SuppressionRule {
        SuppressionRule {
            name: FilterName(name.into()),
            description: Some("ours".into()),
            rank,
            archive_existing: false,
            criteria: BTreeMap::from([(
                "type".to_owned(),
                Condition {
                    equals: Some(types.iter().map(|t| (*t).to_owned()).collect()),
                    ..Condition::default()
                },
            )]),
        }
    }

    fn filter(r: &SuppressionRule, owned: bool) -> Filter {
        let mut tags = BTreeMap::new();
        if owned {
            tags.insert(OWNER_TAG.to_owned(), OWNER_VALUE.to_owned());
        }
        Filter {
            name: r.name.as_str().to_owned(),
            description: r.description.clone().unwrap_or_default(),
            rank: i32::from(r.rank),
            action: ARCHIVE.into(),
            criteria: r.criteria.clone(),
            tags,
        }
    }

    fn arn(name: &str) -> String {
        format!("arn:filter/{name}")
    }

    /// The decision of [`super::plan`] with each step beside its change.
    #[derive(Debug, Default, PartialEq)]
    struct FiltersPlan {
        steps: Vec<(Step, Change)>,
        errors: Vec<String>,
        unmanaged: Vec<Unmanaged>,
    }

    fn plan(
        rules: &[SuppressionRule],
        found: &[Filter],
        arn_of: fn(&str) -> String,
    ) -> FiltersPlan {
        let p = super::plan(rules, found, arn_of);
        assert_eq!(p.steps.len(), p.changes.len());
        FiltersPlan {
            steps: p.steps.into_iter().zip(p.changes).collect(),
            errors: p.blocked.iter().map(ToString::to_string).collect(),
            unmanaged: p.unmanaged,
        }
    }

    fn steps(p: &FiltersPlan) -> Vec<Step> {
        p.steps.iter().map(|(s, _)| s.clone()).collect()
    }

    #[test]
    fn the_create_token_covers_the_whole_filter() {
        let token = |r: &SuppressionRule| {
            create_token(
                "111111111111",
                "us-east-1",
                &spec(r, Some(i32::from(r.rank))),
            )
        };
        let a = rule("scanner", 1, &["a", "b"]);
        assert_eq!(token(&a), token(&rule("scanner", 1, &["b", "a"])));
        assert_ne!(token(&a), token(&rule("scanner", 1, &["c"])));
        let mut described = a.clone();
        described.description = Some("other".into());
        assert_ne!(token(&a), token(&described));
        assert_ne!(token(&a), token(&rule("scanner", 2, &["a", "b"])));
    }

    #[test]
    fn the_rules_kept_in_place_are_the_longest_prefix_in_order() {
        // The definition: the longest prefix of the desired order that
        // `current`, filtered to that prefix's names, lists as it is.
        fn by_prefixes(desired: &[&str], current: &[&str]) -> usize {
            (0..desired.len())
                .take_while(|&k| {
                    let prefix = &desired[..=k];
                    let seen: Vec<&str> = current
                        .iter()
                        .copied()
                        .filter(|n| prefix.contains(n))
                        .collect();
                    seen == prefix
                })
                .count()
        }
        fn orders(names: &[&'static str]) -> Vec<Vec<&'static str>> {
            if names.is_empty() {
                return vec![Vec::new()];
            }
            let mut out = Vec::new();
            for (i, n) in names.iter().enumerate() {
                let mut rest = names.to_vec();
                rest.remove(i);
                for mut o in orders(&rest) {
                    o.insert(0, n);
                    out.push(o);
                }
            }
            out
        }
        let names = ["a", "b", "c", "d"];
        let mut checked = 0;
        for n in 0..=names.len() {
            for desired in orders(&names[..n]) {
                // `current`: the same names in any order, with or without a
                // filter guardsync does not own among them.
                for current in orders(&names[..n]) {
                    for with_other in [false, true] {
                        let mut current = current.clone();
                        if with_other {
                            current.insert(current.len() / 2, "theirs");
                        }
                        assert_eq!(
                            kept_in_order(desired.iter().copied(), &current),
                            by_prefixes(&desired, &current),
                            "desired {desired:?}, current {current:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 2 * (1 + 1 + 4 + 36 + 576));
        // A desired name missing from `current` ends the prefix.
        assert_eq!(kept_in_order(["a", "x", "b"].into_iter(), &["a", "b"]), 1);
    }

    #[test]
    fn equal_rules_need_nothing_whatever_the_order_of_values() {
        let r = rule("scanner", 1, &["a", "b"]);
        let mut f = filter(&r, true);
        f.criteria = rule("scanner", 1, &["b", "a"]).criteria;
        let p = plan(&[r], &[f], arn);
        assert_eq!(p, FiltersPlan::default());
    }

    /// `name` at position `rank`, owned or not.
    fn at(name: &str, rank: i32, owned: bool) -> Filter {
        let mut f = filter(&rule(name, 1, &["a"]), owned);
        f.rank = rank;
        f
    }

    #[test]
    fn creates_updates_and_deletes_only_what_it_owns() {
        let keep = rule("keep", 1, &["a"]);
        let changed = rule("changed", 2, &["b"]);
        let found = [
            at("keep", 1, true),
            at("changed", 2, true),
            at("gone", 3, true),
            at("theirs", 4, false),
        ];
        let new = rule("new", 3, &["x"]);
        let p = plan(&[keep, changed, new], &found, arn);
        assert_eq!(
            steps(&p),
            [
                Step::Delete("gone".into()),
                Step::Update {
                    name: "changed".into(),
                    rank: None,
                    content: true
                },
                // After the 3 filters left: never past the count + 1.
                Step::Create {
                    name: "new".into(),
                    rank: 4
                }
            ]
        );
        assert_eq!(p.steps[1].1.detail, ["type: equals [a] -> equals [b]"]);
        assert_eq!(p.unmanaged[0].name, "theirs");
        assert!(p.errors.is_empty());
    }

    /// Foreign filters before, between and after guardsync's: only the
    /// relative order of guardsync's own rules counts.
    #[test]
    fn foreign_filters_anywhere_never_make_it_rewrite_its_own() {
        let rules = [rule("one", 1, &["a"]), rule("two", 2, &["a"])];
        for found in [
            vec![at("x", 1, false), at("one", 2, true), at("two", 3, true)],
            vec![at("one", 1, true), at("x", 2, false), at("two", 3, true)],
            vec![at("one", 1, true), at("two", 2, true), at("x", 3, false)],
            vec![
                at("x", 1, false),
                at("one", 2, true),
                at("y", 3, false),
                at("two", 4, true),
                at("z", 5, false),
            ],
        ] {
            let p = plan(&rules, &found, arn);
            assert_eq!(steps(&p), [], "{found:?}");
        }
    }

    #[test]
    fn new_rules_go_after_the_filters_there_and_out_of_order_ones_move_to_the_end() {
        // "zero" must run first among guardsync's rules: created last, and
        // the rules after it in the configured order move behind it.
        let rules = [
            rule("zero", 1, &["a"]),
            rule("one", 2, &["a"]),
            rule("two", 3, &["a"]),
        ];
        let found = [at("x", 1, false), at("one", 2, true), at("two", 3, true)];
        let p = plan(&rules, &found, arn);
        assert_eq!(
            steps(&p),
            [
                Step::Create {
                    name: "zero".into(),
                    rank: 4
                },
                Step::Update {
                    name: "one".into(),
                    rank: Some(4),
                    content: false
                },
                Step::Update {
                    name: "two".into(),
                    rank: Some(4),
                    content: false
                },
            ]
        );
        // A new rule that falls in order is only created, at the end.
        let p = plan(&rules[1..], &found[..2], arn);
        assert_eq!(
            steps(&p),
            [Step::Create {
                name: "two".into(),
                rank: 3
            }]
        );
        // Two of guardsync's rules swapped: the fewest move.
        let swapped = [at("two", 1, true), at("x", 2, false), at("one", 3, true)];
        let p = plan(&rules[1..], &swapped, arn);
        assert_eq!(
            steps(&p),
            [Step::Update {
                name: "two".into(),
                rank: Some(3),
                content: false
            }]
        );
    }

    #[test]
    fn criteria_changes_are_shown_field_by_field() {
        let r = rule("scanner", 1, &["a"]);
        let mut f = filter(&r, true);
        f.criteria.insert(
            "severity".into(),
            Condition {
                greater_than_or_equal: Some(4),
                ..Condition::default()
            },
        );
        f.criteria.get_mut("type").expect("type").equals = Some(vec!["b".into()]);
        let p = plan(&[r], &[f], arn);
        assert_eq!(
            p.steps[0].1.detail,
            [
                "- severity: greater_than_or_equal 4",
                "type: equals [b] -> equals [a]"
            ]
        );
    }

    #[test]
    fn a_foreign_filter_with_a_rules_name_is_a_conflict() {
        let r = rule("scanner", 1, &["a"]);
        let p = plan(std::slice::from_ref(&r), &[filter(&r, false)], arn);
        assert!(p.steps.is_empty());
        assert!(
            p.errors[0].contains("--resource-arn arn:filter/scanner"),
            "{:?}",
            p.errors
        );
    }

    #[test]
    fn the_limit_counts_filters_it_does_not_own() {
        let found: Vec<Filter> = (0..100)
            .map(|i| filter(&rule(&format!("f{i:03}"), 1, &["a"]), i < 1))
            .collect();
        // f000 is ours and goes away: room for exactly one new rule.
        let p = plan(&[rule("one", 1, &["a"])], &found, arn);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let p = plan(
            &[rule("one", 1, &["a"]), rule("two", 2, &["a"])],
            &found,
            arn,
        );
        assert!(
            p.errors[0].contains("would hold 101 filters"),
            "{:?}",
            p.errors
        );
        assert_eq!(steps(&p), [Step::Delete("f000".into())]);
    }
}

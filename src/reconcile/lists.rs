//! The lists of one target: GuardDuty's ThreatIntelSets (threat lists) and
//! its IPSet (the trusted list). Both kinds have the same API shape,
//! statuses and activation rules, so one planner serves them; what differs
//! (slots, the resource's name in the report, the configuration key) is a
//! [`ListKind`] (in `plan.rs`), defined in each kind's own file (`threat_set.rs`,
//! `ip_set.rs`).
//!
//! Observe the detector's sets of the kind, decide what to do ([`plan`],
//! pure) and carry it out ([`apply`]), waiting until GuardDuty uses each
//! list. GuardDuty does not watch the list object: a set must be pointed at
//! the new object and activated again after every content change, and
//! nothing may be changed while it is ACTIVATING, DEACTIVATING or
//! DELETE_PENDING
//! (<https://docs.aws.amazon.com/guardduty/latest/APIReference/API_UpdateThreatIntelSet.html>).

use std::collections::BTreeMap;
use std::time::Duration;

use super::plan::{
    Failure, ListKind, OWNER_TAG, OWNER_VALUE, Outcome, Plan, TargetError, Timing, client_token,
};
use crate::cloud::GuardDutyApi;
use crate::cloud::{ListSet, NewSet, SetStatus};
use crate::publish::parse_location;
use crate::report::{Action, Change, Unmanaged};

/// The tag that records the sha256 of the list a set points at.
pub(crate) const SHA_TAG: &str = "guardsync-sha256";
/// The tag that records where a set pointed before guardsync's last update,
/// so that a later run can put it back if GuardDuty could not read the new
/// list (an activation can end in ERROR long after the apply that made it).
pub(crate) const PREVIOUS_TAG: &str = "guardsync-previous";

/// One set every managed target should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// The set's name (`threat_lists[].name`, `NAME-1`... for a split list,
    /// `trusted_list.name`).
    pub name: String,
    /// The URL given to GuardDuty.
    pub location: String,
    /// The object's bucket and key, to compare with any URL form.
    pub bucket: String,
    /// See `bucket`.
    pub key: String,
    /// sha256 of the object.
    pub sha256: String,
    /// How long apply waits for GuardDuty to load it (`settle_seconds`).
    pub settle: Duration,
}

impl Desired {
    /// The tags a set guardsync creates carries.
    pub fn tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (OWNER_TAG.to_owned(), OWNER_VALUE.to_owned()),
            (SHA_TAG.to_owned(), self.sha256.clone()),
        ])
    }
}

/// Whether guardsync owns a set.
pub(crate) fn is_owned(set: &ListSet) -> bool {
    super::plan::is_owned(&set.tags)
}

/// One write to one set. A plan's steps: the deletes (first when the new
/// sets need their slots, else last), then one step per desired set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing: the set points at the list and is ACTIVE.
    Nothing {
        /// The set's name.
        name: String,
        /// The set's id.
        id: String,
    },
    /// Create the set, activated.
    Create {
        /// The set's name.
        name: String,
    },
    /// Point the set at the list and activate it.
    Update {
        /// The set's name.
        name: String,
        /// The set's id.
        id: String,
        /// Where it pointed, to put back if GuardDuty cannot read the new object.
        previous: String,
    },
    /// Same location; activate it again.
    Activate {
        /// The set's name.
        name: String,
        /// The set's id.
        id: String,
    },
    /// GuardDuty could not read the list (ERROR): point the set back at the
    /// list it read before, and fail the target with GuardDuty's status.
    Rollback {
        /// The set's name.
        name: String,
        /// The set's id.
        id: String,
        /// Where it pointed before guardsync's last update.
        previous: String,
    },
    /// The set is changing status: wait for it, then look again.
    Wait {
        /// The set's name.
        name: String,
        /// The set's id.
        id: String,
    },
    /// Delete a set guardsync owns that no configured list names any more
    /// (a list removed from the configuration, or the extra parts of a list
    /// that shrank).
    Delete {
        /// The set's name.
        name: String,
        /// The set's id.
        id: String,
    },
}

impl Step {
    /// The set the step writes.
    pub(crate) fn name(&self) -> &str {
        match self {
            Step::Nothing { name, .. }
            | Step::Create { name }
            | Step::Update { name, .. }
            | Step::Activate { name, .. }
            | Step::Rollback { name, .. }
            | Step::Wait { name, .. }
            | Step::Delete { name, .. } => name,
        }
    }
}

/// The lists of one kind in a detector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Found {
    /// Every set of the kind, with its details.
    pub sets: Vec<ListSet>,
    /// How many threat entity lists there are (they may take the same six
    /// slots); only counted when a threat list is to be created.
    pub entity_lists: usize,
}

/// Every set of the kind in the detector and, when a desired set is missing
/// (a create is coming) and the kind shares its slots with threat entity
/// lists, how many of those there are: a steady-state run makes no extra
/// call.
pub(crate) async fn observe(
    gd: &impl GuardDutyApi,
    kind: &ListKind,
    detector: &str,
    desired: &[Desired],
) -> Result<Found, TargetError> {
    let label = |e| TargetError::new(kind.resource, e);
    let sets = gd.sets(kind.set, detector).await.map_err(label)?;
    let missing = desired.iter().any(|d| {
        !sets
            .iter()
            .any(|s| s.name == d.name && s.status != SetStatus::Deleted)
    });
    let entity_lists = if missing && kind.entity_lists_count {
        gd.threat_entity_set_count(detector).await.map_err(label)?
    } else {
        0
    };
    Ok(Found { sets, entity_lists })
}

/// Decide what to do with the sets of one kind found in one detector, for
/// every desired set. A conflict, a set going away or too few slots blocks
/// the whole kind: no write is made to any of its sets.
pub(crate) fn plan(
    kind: &ListKind,
    desired: &[Desired],
    found: &Found,
    arn_of: impl Fn(&str) -> String,
) -> Plan<Step> {
    // A DELETED set is gone: it neither blocks its name nor takes a slot.
    let live: Vec<&ListSet> = found
        .sets
        .iter()
        .filter(|s| s.status != SetStatus::Deleted)
        .collect();
    let wanted = |name: &str| desired.iter().any(|d| d.name == name);
    let foreign: Vec<&ListSet> = live
        .iter()
        .copied()
        .filter(|s| !is_owned(s) && !wanted(&s.name))
        .collect();
    let unmanaged = foreign
        .iter()
        .map(|s| Unmanaged {
            resource: kind.resource,
            name: s.name.clone(),
        })
        .collect();
    let mut plan = Plan {
        unmanaged,
        ..Plan::default()
    };
    let block = |mut plan: Plan<Step>, f: Failure| {
        plan.blocked.push(TargetError::new(kind.resource, f));
        plan
    };

    // Slots: every live set guardsync does not manage here, every threat
    // entity list (when they share the slots) and every desired set.
    let entity = if kind.entity_lists_count {
        found.entity_lists
    } else {
        0
    };
    let needed = foreign.len() + entity + desired.len();
    // One slot (the trusted list), taken by a list guardsync does not own:
    // a conflict, with how to hand it over.
    if let ([theirs], 1, false) = (foreign.as_slice(), kind.slots, desired.is_empty()) {
        let api = kind.set.api_name();
        return block(
            plan,
            Failure::Conflict(format!(
                "an {api} named {:?} (id {}) exists and is not managed by guardsync, and \
                 GuardDuty allows one per detector; guardsync never adopts silently: to let it \
                 replace that list with {:?}, tag it (aws guardduty tag-resource \
                 --resource-arn {} --tags {OWNER_TAG}={OWNER_VALUE}); to keep its name, set \
                 {} to {:?} and tag it",
                theirs.name,
                theirs.id,
                desired[0].name,
                arn_of(&theirs.id),
                kind.config_key,
                theirs.name,
            )),
        );
    }
    if needed > kind.slots && !desired.is_empty() {
        return block(
            plan,
            Failure::Limit(slots_message(kind, desired, &foreign, entity)),
        );
    }

    // Owned sets no desired list names: deleted (when nothing blocks).
    let deletes: Vec<Step> = live
        .iter()
        .filter(|s| is_owned(s) && !wanted(&s.name))
        .map(|s| Step::Delete {
            name: s.name.clone(),
            id: s.id.clone(),
        })
        .collect();
    let mut steps = Vec::new();
    let mut changes = Vec::new();
    for d in desired {
        let (step, change) = decide(kind, d, &live, &arn_of);
        match step {
            Ok(s) => steps.push(s),
            Err(e) => return block(plan, e),
        }
        changes.extend(change);
        // GuardDuty is still loading the set (a run that stopped waiting
        // for it left it so): nothing to do but look again later.
        if live
            .iter()
            .any(|s| s.name == d.name && s.status == SetStatus::Activating && is_owned(s))
        {
            plan.activating.push(d.name.clone());
        }
    }
    let delete_changes = deletes.iter().map(|s| Change {
        resource: kind.resource,
        name: s.name().to_owned(),
        action: Action::Delete,
        detail: vec!["guardsync owns it and no configured list names it any more".into()],
    });
    // Deletes go first when the sets to create need their slots, else last
    // (the detector is never without a list in between).
    let creates = steps
        .iter()
        .filter(|s| matches!(s, Step::Create { .. }))
        .count();
    if live.len() + entity + creates > kind.slots {
        changes.splice(0..0, delete_changes);
        steps.splice(0..0, deletes);
    } else {
        changes.extend(delete_changes);
        steps.extend(deletes);
    }
    plan.steps = steps;
    plan.changes = changes;
    plan
}

/// Why the desired sets do not fit: what takes the slots.
fn slots_message(
    kind: &ListKind,
    desired: &[Desired],
    foreign: &[&ListSet],
    entity: usize,
) -> String {
    let names = |v: Vec<&str>| {
        v.iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut taken = Vec::new();
    if !foreign.is_empty() {
        taken.push(format!(
            "{} not managed by guardsync ({})",
            foreign.len(),
            names(foreign.iter().map(|s| s.name.as_str()).collect())
        ));
    }
    if entity > 0 {
        taken.push(format!("{entity} threat entity list(s)"));
    }
    format!(
        "needs {} {} slot(s) for {} but has {} free: GuardDuty allows {} per detector and {} \
         take the others; nothing was changed here: configure fewer lists, or delete the \
         lists that are no longer used",
        desired.len(),
        kind.plural,
        names(desired.iter().map(|d| d.name.as_str()).collect()),
        kind.slots.saturating_sub(foreign.len() + entity),
        kind.slots,
        taken.join(" and "),
    )
}

/// A location as `s3://bucket/key` when it is an S3 URL: shorter, and the
/// same form whichever URL style the set was created with.
fn readable(location: &str) -> String {
    // Already so (as every location guardsync writes is): the same text.
    if location.starts_with("s3://") && !location.contains('%') {
        return location.to_owned();
    }
    parse_location(location).map_or_else(
        || location.to_owned(),
        |(b, k)| crate::publish::s3_url(b, &k),
    )
}

fn change(
    kind: &ListKind,
    desired: &Desired,
    action: Action,
    detail: Vec<String>,
) -> Option<Change> {
    Some(Change {
        resource: kind.resource,
        name: desired.name.clone(),
        action,
        detail,
    })
}

/// What to do with one desired set.
fn decide(
    kind: &ListKind,
    desired: &Desired,
    found: &[&ListSet],
    arn_of: impl Fn(&str) -> String,
) -> (Result<Step, Failure>, Option<Change>) {
    let api = kind.set.api_name();
    let name = desired.name.clone();
    let Some(set) = found.iter().find(|s| s.name == desired.name) else {
        let detail = vec![
            format!("location {}", readable(&desired.location)),
            "format TXT, activate".into(),
        ];
        return (
            Ok(Step::Create { name }),
            change(kind, desired, Action::Create, detail),
        );
    };
    if !is_owned(set) {
        return (
            Err(Failure::Conflict(format!(
                "a{} {api} named {:?} (id {}) exists and is not managed by guardsync; \
                 guardsync never adopts silently: to let it manage this set, tag it \
                 (aws guardduty tag-resource --resource-arn {} --tags {OWNER_TAG}={OWNER_VALUE}), \
                 or choose another {}",
                if api.starts_with('I') { "n" } else { "" },
                set.name,
                set.id,
                arn_of(&set.id),
                kind.config_key,
            ))),
            None,
        );
    }
    let status = &set.status;
    if status.is_going() {
        return (
            Err(Failure::Status(format!(
                "{api} {:?} (id {}) is {status}: GuardDuty is deleting it; \
                 run again once it is gone",
                set.name, set.id
            ))),
            None,
        );
    }
    let points_at_list =
        parse_location(&set.location).is_some_and(|(b, k)| b == desired.bucket && k == desired.key);
    let id = set.id.clone();
    if !points_at_list {
        let why = match set.tags.get(SHA_TAG) {
            Some(sha) if *sha != desired.sha256 => "the list changed",
            _ => "the set points elsewhere",
        };
        let detail = vec![
            format!(
                "location {} -> {}",
                readable(&set.location),
                readable(&desired.location)
            ),
            format!("{why}; activate again (status {status})"),
        ];
        // Busy sets cannot be changed yet: wait first, then decide again.
        let step = if status.is_busy() {
            Step::Wait { name, id }
        } else {
            Step::Update {
                name,
                id,
                previous: set.location.clone(),
            }
        };
        return (Ok(step), change(kind, desired, Action::Update, detail));
    }
    // ERROR at the list, with the list it read before on record: put that
    // one back (a run that stopped waiting left the set so).
    let previous = set.tags.get(PREVIOUS_TAG).filter(|p| {
        parse_location(p).is_some_and(|(b, k)| !(b == desired.bucket && k == desired.key))
    });
    if let (SetStatus::Error, Some(previous)) = (status, previous) {
        let detail = vec![
            format!(
                "status ERROR: GuardDuty could not read {}",
                readable(&desired.location)
            ),
            format!(
                "location {} -> {} (the list it read before); the target fails until the cause is fixed",
                readable(&set.location),
                readable(previous)
            ),
        ];
        return (
            Ok(Step::Rollback {
                name,
                id,
                previous: previous.clone(),
            }),
            change(kind, desired, Action::Update, detail),
        );
    }
    match status {
        SetStatus::Active => (Ok(Step::Nothing { name, id }), None),
        // Already on its way to ACTIVE (or INACTIVE) at the right location.
        s if s.is_busy() => (Ok(Step::Wait { name, id }), None),
        other => (
            Ok(Step::Activate { name, id }),
            change(
                kind,
                desired,
                Action::Activate,
                vec![format!("status {other} -> ACTIVE")],
            ),
        ),
    }
}

/// Where and how [`apply`] writes: one managed target's detector.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Writer<'a, G> {
    /// GuardDuty in the target, with its credentials.
    pub gd: &'a G,
    /// The kind of list.
    pub kind: &'a ListKind,
    /// The target's detector.
    pub detector: &'a str,
    /// The sets it should have.
    pub desired: &'a [Desired],
    /// The account that owns the bucket (`ExpectedBucketOwner`).
    pub bucket_owner: &'a str,
    /// The target's account and region, for the idempotency token.
    pub account: &'a str,
    /// See `account`.
    pub region: &'a str,
    /// How long to wait for GuardDuty: `settle_timeout` is already cut to
    /// the time the target has left (each set waits at most its own
    /// `settle` within it).
    pub timing: Timing,
}

/// Where a set stands once guardsync stops waiting for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loaded {
    /// GuardDuty uses the list.
    Active,
    /// GuardDuty is still loading it: the target is reported `activating`.
    Activating,
}

/// Carry out `plan`: the deletes in their place, and every desired set at
/// once, each waiting at most its `settle` for GuardDuty to use the list; a
/// set still ACTIVATING then is reported as activating, not as a failure
/// (GuardDuty documents up to 15 minutes, in some cases 40). A delete that
/// fails stops the writes after it.
pub(crate) async fn apply<G: GuardDutyApi>(w: &Writer<'_, G>, plan: Plan<Step>) -> Outcome {
    if !plan.blocked.is_empty() {
        return plan.outcome();
    }
    let deletes_first = matches!(plan.steps.first(), Some(Step::Delete { .. }));
    let (deletes, sets): (Vec<Step>, Vec<Step>) = plan
        .steps
        .iter()
        .cloned()
        .partition(|s| matches!(s, Step::Delete { .. }));
    let mut out = plan.outcome();
    out.activating.clear();
    let delete_all = || async {
        for s in &deletes {
            if let Step::Delete { id, .. } = s {
                w.gd.delete_set(w.kind.set, w.detector, id).await?;
            }
        }
        Ok::<(), Failure>(())
    };
    if deletes_first && let Err(e) = delete_all().await {
        out.errors.push(TargetError::new(w.kind.resource, e));
        return out;
    }
    let results = futures::future::join_all(sets.into_iter().filter_map(|step| {
        let d = w.desired.iter().find(|d| d.name == step.name())?;
        Some(async move { (d, one(w, d, step).await) })
    }))
    .await;
    for (d, r) in results {
        match r {
            Ok(Loaded::Activating) => out.activating.push(d.name.clone()),
            Ok(Loaded::Active) => {}
            Err(e) => out.errors.push(TargetError::new(w.kind.resource, e)),
        }
    }
    if !deletes_first
        && out.errors.is_empty()
        && let Err(e) = delete_all().await
    {
        out.errors.push(TargetError::new(w.kind.resource, e));
    }
    out
}

/// One desired set: its step, then (a set busy at the start) wait, look
/// again and decide again; guardsync's own activation is waited for inside
/// its round, so three rounds are plenty.
async fn one<G: GuardDutyApi>(
    w: &Writer<'_, G>,
    d: &Desired,
    step: Step,
) -> Result<Loaded, Failure> {
    let mut step = step;
    for round in 0..3 {
        if round > 0 {
            let sets = w.gd.sets(w.kind.set, w.detector).await?;
            let live: Vec<&ListSet> = sets
                .iter()
                .filter(|s| s.status != SetStatus::Deleted)
                .collect();
            step = decide(w.kind, d, &live, |id| {
                w.gd.set_arn(w.kind.set, w.detector, id)
            })
            .0?;
        }
        match &step {
            Step::Nothing { .. } | Step::Delete { .. } => return Ok(Loaded::Active),
            Step::Wait { id, .. } => match settle(w, d, id).await? {
                // Still loading: stop here, the next run looks again.
                SetStatus::Activating => return Ok(Loaded::Activating),
                _ => continue,
            },
            Step::Create { .. } => return create(w, d).await,
            Step::Update { id, previous, .. } => return update(w, d, id, Some(previous)).await,
            Step::Activate { id, .. } => return update(w, d, id, None).await,
            Step::Rollback { id, previous, .. } => return rollback(w, d, id, previous).await,
        }
    }
    Err(Failure::Status(format!(
        "the {} {:?} kept changing status; run again",
        w.kind.set.api_name(),
        d.name
    )))
}

/// What an ERROR status most often means.
const READ_HINT: &str = " (GuardDuty in this account must be able to read the object: \
                         bucket.manage_policy grants the organization read access; a list \
                         over GuardDuty's size limits also ends in ERROR)";

async fn create<G: GuardDutyApi>(w: &Writer<'_, G>, d: &Desired) -> Result<Loaded, Failure> {
    let tags = d.tags();
    let token = client_token(&format!(
        "{}|{}|{}|{}|{}",
        w.account,
        w.region,
        w.kind.set.api_name(),
        d.name,
        d.sha256
    ));
    let id =
        w.gd.create_set(
            w.kind.set,
            w.detector,
            &NewSet {
                name: &d.name,
                location: &d.location,
                bucket_owner: w.bucket_owner,
                tags: &tags,
                client_token: &token,
            },
        )
        .await?;
    tracing::debug!(set = id.as_str(), "created {}", w.kind.set.api_name());
    match settle(w, d, &id).await? {
        SetStatus::Active => Ok(Loaded::Active),
        SetStatus::Activating => Ok(Loaded::Activating),
        s => Err(Failure::Status(format!(
            "GuardDuty could not use the new {} {:?}: status {s} reading {}{}",
            w.kind.set.api_name(),
            d.name,
            d.location,
            READ_HINT
        ))),
    }
}

/// Point the set at the list (again) and activate it; on ERROR put back
/// `previous` so GuardDuty keeps the last list it could read.
async fn update<G: GuardDutyApi>(
    w: &Writer<'_, G>,
    d: &Desired,
    id: &str,
    previous: Option<&str>,
) -> Result<Loaded, Failure> {
    let kind = w.kind.set;
    w.gd.activate_set(kind, w.detector, id, &d.location, w.bucket_owner)
        .await?;
    if let Some(prev) = previous {
        let mut tags = d.tags();
        // Tag values are at most 256 characters: a longer location is not
        // kept (a later ERROR is then activated again instead).
        if prev.len() <= 256 {
            tags.insert(PREVIOUS_TAG.to_owned(), prev.to_owned());
        }
        w.gd.tag_set(kind, w.detector, id, &tags).await?;
    }
    let status = settle(w, d, id).await?;
    match status {
        SetStatus::Active => return Ok(Loaded::Active),
        SetStatus::Activating => return Ok(Loaded::Activating),
        _ => {}
    }
    let mut msg = format!(
        "GuardDuty could not use {} {:?} after activation: status {status} reading {}{}",
        kind.api_name(),
        d.name,
        d.location,
        READ_HINT
    );
    if let (SetStatus::Error, Some(prev)) = (&status, previous) {
        msg.push_str(&put_back(w, id, prev).await);
    }
    Err(Failure::Status(msg))
}

/// Point the set back at `previous`; what came of it, for the message.
async fn put_back<G: GuardDutyApi>(w: &Writer<'_, G>, id: &str, previous: &str) -> String {
    match w
        .gd
        .activate_set(w.kind.set, w.detector, id, previous, w.bucket_owner)
        .await
    {
        Ok(()) => format!("; put back the previous location {previous}"),
        Err(e) => format!("; could not put back {previous}: {e}"),
    }
}

/// Point a set in ERROR back at `previous`, the list it read before, and fail
/// with GuardDuty's status: a later apply (or `--retry-failed`) tries the new
/// list again once the cause is fixed.
async fn rollback<G: GuardDutyApi>(
    w: &Writer<'_, G>,
    d: &Desired,
    id: &str,
    previous: &str,
) -> Result<Loaded, Failure> {
    let msg = format!(
        "GuardDuty could not use {} {:?}: status ERROR reading {}{}{}",
        w.kind.set.api_name(),
        d.name,
        d.location,
        READ_HINT,
        put_back(w, id, previous).await
    );
    Err(Failure::Status(msg))
}

/// Poll the set until it leaves ACTIVATING/DEACTIVATING, for at most its
/// `settle` (within the target's time); its status then (ACTIVATING when
/// GuardDuty is still loading it). A set still DEACTIVATING cannot be
/// changed: that fails.
async fn settle<G: GuardDutyApi>(
    w: &Writer<'_, G>,
    d: &Desired,
    id: &str,
) -> Result<SetStatus, Failure> {
    let t = w.timing;
    let limit = t.settle_timeout.min(d.settle);
    let start = tokio::time::Instant::now();
    let mut pause = t.poll_initial;
    loop {
        let set = w.gd.set(w.kind.set, w.detector, id).await?;
        if !set.status.is_busy() {
            return Ok(set.status);
        }
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            if set.status == SetStatus::Activating {
                tracing::debug!(
                    set = set.name.as_str(),
                    "GuardDuty is still loading the list; the next plan or apply checks it"
                );
                return Ok(set.status);
            }
            return Err(Failure::Status(format!(
                "{} {:?} was still {} after {}s",
                w.kind.set.api_name(),
                set.name,
                set.status,
                limit.as_secs()
            )));
        }
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause.mul_f32(1.5)).min(t.poll_max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Resource;
    use test_case::test_case;

    const KEY: &str = "guardduty/new.txt";
    const THREAT: ListKind = super::super::threat_set::KIND;
    const TRUSTED: ListKind = super::super::ip_set::KIND;

    fn desired() -> Desired {
        named("FireHOL-Level1", KEY)
    }

    #[test_case("s3://b/guardduty/x.txt", "s3://b/guardduty/x.txt" ; "s3 uri as it is")]
    #[test_case("s3://b/lists%20dir/x.txt", "s3://b/lists dir/x.txt" ; "s3 uri decoded")]
    #[test_case("https://s3.eu-west-1.amazonaws.com/b/k.txt", "s3://b/k.txt" ; "path style")]
    #[test_case("https://b.s3.amazonaws.com/k%2Bx.txt", "s3://b/k+x.txt" ; "virtual hosted")]
    #[test_case("https://example.com/b/k.txt", "https://example.com/b/k.txt" ; "not s3 kept")]
    #[test_case("s3://b", "s3://b" ; "s3 without key kept")]
    fn locations_read_as_s3_uris(location: &str, shown: &str) {
        assert_eq!(readable(location), shown);
    }

    fn named(name: &str, key: &str) -> Desired {
        Desired {
            name: name.into(),
            location: format!("https://s3.us-east-1.amazonaws.com/bucket/{key}"),
            bucket: "bucket".into(),
            key: key.into(),
            sha256: format!("sha-{key}"),
            settle: Duration::from_secs(60),
        }
    }

    /// The decision of [`super::plan`] for one desired set as one step or
    /// one reason, and one change.
    struct Decision {
        step: Result<Step, String>,
        change: Option<Change>,
        unmanaged: Vec<Unmanaged>,
    }

    fn plan(desired: &Desired, found: &[ListSet], arn_of: fn(&str) -> String) -> Decision {
        let p = super::plan(
            &THREAT,
            std::slice::from_ref(desired),
            &found_of(found),
            arn_of,
        );
        assert!(p.steps.len() + p.blocked.len() == 1, "{p:?}");
        Decision {
            step: match p.blocked.first() {
                Some(e) => Err(e.to_string()),
                None => Ok(p.steps[0].clone()),
            },
            change: p.changes.into_iter().next(),
            unmanaged: p.unmanaged,
        }
    }

    /// `sets` and no threat entity list.
    fn found_of(sets: &[ListSet]) -> Found {
        Found {
            sets: sets.to_vec(),
            entity_lists: 0,
        }
    }

    fn set(name: &str, location: &str, status: &str, owned: bool) -> ListSet {
        let mut tags = BTreeMap::new();
        if owned {
            tags.insert(OWNER_TAG.into(), OWNER_VALUE.into());
            tags.insert(SHA_TAG.into(), "old".into());
        }
        ListSet {
            id: format!("id-{name}"),
            name: name.into(),
            location: location.into(),
            status: SetStatus::parse(status),
            tags,
        }
    }

    fn arn(id: &str) -> String {
        format!("arn:{id}")
    }

    fn fl() -> String {
        "FireHOL-Level1".into()
    }

    fn id() -> String {
        "id-FireHOL-Level1".into()
    }

    #[test]
    fn threat_entity_lists_take_slots_too() {
        let others: Vec<_> = (0..4)
            .map(|i| set(&format!("s{i}"), "s3://x/y", "ACTIVE", false))
            .collect();
        let found = Found {
            sets: others,
            entity_lists: 2,
        };
        let p = super::plan(&THREAT, &[desired()], &found, arn);
        let [e] = p.blocked.as_slice() else {
            panic!("{p:?}");
        };
        assert_eq!(
            e.to_string(),
            "needs 1 threat list slot(s) for \"FireHOL-Level1\" but has 0 free: \
             GuardDuty allows 6 per detector and 4 not managed by guardsync (\"s0\", \"s1\", \
             \"s2\", \"s3\") and 2 threat entity list(s) take the others; nothing was changed \
             here: configure fewer lists, or delete the lists that are no longer used"
        );
        assert!(p.steps.is_empty());
    }

    #[test]
    fn creates_when_absent() {
        let p = plan(&desired(), &[], arn);
        assert_eq!(p.step, Ok(Step::Create { name: fl() }));
        assert_eq!(p.change.map(|c| c.action), Some(Action::Create));
    }

    #[test_case("s3://bucket/guardduty/new.txt" ; "s3 url")]
    #[test_case("https://s3.amazonaws.com/bucket/guardduty/new.txt" ; "global path style")]
    #[test_case("https://bucket.s3.us-east-1.amazonaws.com/guardduty/new.txt" ; "virtual host")]
    fn same_object_in_any_url_form_is_unchanged(location: &str) {
        let p = plan(
            &desired(),
            &[set("FireHOL-Level1", location, "ACTIVE", true)],
            arn,
        );
        assert_eq!(
            p.step,
            Ok(Step::Nothing {
                name: fl(),
                id: id()
            })
        );
        assert_eq!(p.change, None);
    }

    #[test]
    fn new_content_updates_and_remembers_the_previous_location() {
        let old = "https://s3.us-east-1.amazonaws.com/bucket/guardduty/old.txt";
        let p = plan(
            &desired(),
            &[set("FireHOL-Level1", old, "ACTIVE", true)],
            arn,
        );
        assert_eq!(
            p.step,
            Ok(Step::Update {
                name: fl(),
                id: id(),
                previous: old.into()
            })
        );
        let c = p.change.expect("a change");
        assert_eq!(c.action, Action::Update);
        assert!(
            c.detail[1].starts_with("the list changed"),
            "{:?}",
            c.detail
        );
    }

    #[test_case("ERROR" ; "error")]
    #[test_case("INACTIVE" ; "inactive")]
    fn not_active_at_the_right_place_is_activated(status: &str) {
        let loc = desired().location;
        let p = plan(
            &desired(),
            &[set("FireHOL-Level1", &loc, status, true)],
            arn,
        );
        assert_eq!(
            p.step,
            Ok(Step::Activate {
                name: fl(),
                id: id()
            })
        );
        assert_eq!(p.change.map(|c| c.action), Some(Action::Activate));
    }

    #[test_case("ACTIVATING", true ; "activating at the list")]
    #[test_case("DEACTIVATING", false ; "deactivating elsewhere")]
    fn busy_sets_are_waited_for(status: &str, at_list: bool) {
        let loc = if at_list {
            desired().location
        } else {
            "s3://bucket/other.txt".into()
        };
        let p = plan(
            &desired(),
            &[set("FireHOL-Level1", &loc, status, true)],
            arn,
        );
        assert_eq!(
            p.step,
            Ok(Step::Wait {
                name: fl(),
                id: id()
            })
        );
        assert_eq!(p.change.is_some(), !at_list);
    }

    #[test]
    fn a_set_guardduty_is_still_loading_is_activating_with_nothing_to_do_but_wait() {
        let loc = desired().location;
        let found = [set("FireHOL-Level1", &loc, "ACTIVATING", true)];
        let p = super::plan(&THREAT, &[desired()], &found_of(&found), arn);
        assert_eq!(
            p.steps,
            [Step::Wait {
                name: fl(),
                id: id()
            }]
        );
        assert_eq!(p.changes, []);
        assert_eq!(p.activating, ["FireHOL-Level1"]);
        let active = [set("FireHOL-Level1", &loc, "ACTIVE", true)];
        assert!(
            super::plan(&THREAT, &[desired()], &found_of(&active), arn)
                .activating
                .is_empty()
        );
    }

    #[test]
    fn a_set_in_error_with_its_previous_list_on_record_goes_back_to_it() {
        let loc = desired().location;
        let mut s = set("FireHOL-Level1", &loc, "ERROR", true);
        s.tags
            .insert(PREVIOUS_TAG.into(), "s3://bucket/guardduty/old.txt".into());
        let p = plan(&desired(), &[s], arn);
        assert_eq!(
            p.step,
            Ok(Step::Rollback {
                name: fl(),
                id: id(),
                previous: "s3://bucket/guardduty/old.txt".into()
            })
        );
        assert_eq!(p.change.map(|c| c.action), Some(Action::Update));
        // The record pointing at the list itself is no rollback.
        let mut s = set("FireHOL-Level1", &loc, "ERROR", true);
        s.tags.insert(PREVIOUS_TAG.into(), loc.clone());
        let p = plan(&desired(), &[s], arn);
        assert_eq!(
            p.step,
            Ok(Step::Activate {
                name: fl(),
                id: id()
            })
        );
    }

    #[test]
    fn a_deleted_set_is_absent() {
        let loc = desired().location;
        let mut found: Vec<_> = (0..5)
            .map(|i| set(&format!("s{i}"), "s3://x/y", "ACTIVE", false))
            .collect();
        found.push(set("FireHOL-Level1", &loc, "DELETED", true));
        found.push(set("other", "s3://x/y", "DELETED", false));
        let p = plan(&desired(), &found, arn);
        assert_eq!(p.step, Ok(Step::Create { name: fl() }));
        assert_eq!(p.unmanaged.len(), 5);
    }

    #[test]
    fn a_set_going_away_fails_the_target() {
        let loc = desired().location;
        let p = plan(
            &desired(),
            &[set("FireHOL-Level1", &loc, "DELETE_PENDING", true)],
            arn,
        );
        assert!(p.step.expect_err("fails").contains("DELETE_PENDING"));
    }

    #[test]
    fn a_foreign_set_with_our_name_is_a_conflict_with_the_adoption_hint() {
        let p = plan(
            &desired(),
            &[set("FireHOL-Level1", "s3://x/y", "ACTIVE", false)],
            arn,
        );
        let e = p.step.expect_err("conflict");
        assert!(e.contains("not managed by guardsync"), "{e}");
        assert!(
            e.contains("--resource-arn arn:id-FireHOL-Level1 --tags managed-by=guardsync"),
            "{e}"
        );
        assert!(e.ends_with("or choose another threat_lists[].name"), "{e}");
        assert_eq!(p.change, None);
    }

    #[test]
    fn foreign_sets_are_reported_unmanaged_and_count_towards_the_limit() {
        let others: Vec<_> = (0..6)
            .map(|i| set(&format!("s{i}"), "s3://x/y", "ACTIVE", false))
            .collect();
        let p = plan(&desired(), &others, arn);
        assert!(p.step.expect_err("limit").contains("GuardDuty allows 6"));
        assert_eq!(p.unmanaged.len(), 6);
        assert_eq!(p.unmanaged[1].name, "s1");
        let p = plan(&desired(), &others[..5], arn);
        assert_eq!(p.step, Ok(Step::Create { name: fl() }));
    }

    #[test]
    fn owned_sets_no_list_names_are_deleted_after_the_new_ones_when_slots_allow() {
        // Was FireHOL-Level1 in two parts, now one list: the new set first,
        // then the parts go.
        let found = [
            set("FireHOL-Level1-1", "s3://bucket/a.txt", "ACTIVE", true),
            set("FireHOL-Level1-2", "s3://bucket/b.txt", "ACTIVE", true),
            set("Theirs", "s3://x/y", "ACTIVE", false),
        ];
        let p = super::plan(&THREAT, &[desired()], &found_of(&found), arn);
        assert_eq!(
            p.steps,
            [
                Step::Create { name: fl() },
                Step::Delete {
                    name: "FireHOL-Level1-1".into(),
                    id: "id-FireHOL-Level1-1".into()
                },
                Step::Delete {
                    name: "FireHOL-Level1-2".into(),
                    id: "id-FireHOL-Level1-2".into()
                },
            ]
        );
        assert_eq!(
            p.changes
                .iter()
                .map(|c| (c.name.as_str(), c.action))
                .collect::<Vec<_>>(),
            [
                ("FireHOL-Level1", Action::Create),
                ("FireHOL-Level1-1", Action::Delete),
                ("FireHOL-Level1-2", Action::Delete)
            ]
        );
        assert_eq!(p.unmanaged.len(), 1);
    }

    #[test]
    fn deletes_go_first_when_the_new_sets_need_their_slots() {
        // Four foreign lists and an owned one of a removed list: two parts
        // fit only once it is gone.
        let mut found: Vec<_> = (0..4)
            .map(|i| set(&format!("s{i}"), "s3://x/y", "ACTIVE", false))
            .collect();
        found.push(set("Old", "s3://bucket/old.txt", "ACTIVE", true));
        let parts = [named("L-1", "k1"), named("L-2", "k2")];
        let p = super::plan(&THREAT, &parts, &found_of(&found), arn);
        assert_eq!(
            p.steps,
            [
                Step::Delete {
                    name: "Old".into(),
                    id: "id-Old".into()
                },
                Step::Create { name: "L-1".into() },
                Step::Create { name: "L-2".into() },
            ]
        );
        // A third part does not fit: nothing is written, not even the delete.
        let parts = [named("L-1", "k1"), named("L-2", "k2"), named("L-3", "k3")];
        let p = super::plan(&THREAT, &parts, &found_of(&found), arn);
        assert!(p.steps.is_empty());
        assert!(
            p.blocked[0].to_string().contains(
                "needs 3 threat list slot(s) for \"L-1\", \"L-2\", \"L-3\" but has 2 free"
            ),
            "{:?}",
            p.blocked
        );
    }

    #[test]
    fn six_lists_fill_the_detector_and_no_desired_set_means_removal() {
        let six: Vec<Desired> = (1..=6)
            .map(|i| named(&format!("L{i}"), &format!("k{i}")))
            .collect();
        let p = super::plan(&THREAT, &six, &Found::default(), arn);
        assert_eq!(p.steps.len(), 6);
        assert!(p.blocked.is_empty());
        let owned = [set("L1", "s3://bucket/k1", "ACTIVE", true)];
        let p = super::plan(&THREAT, &[], &found_of(&owned), arn);
        assert_eq!(
            p.steps,
            [Step::Delete {
                name: "L1".into(),
                id: "id-L1".into()
            }]
        );
    }

    #[test]
    fn the_trusted_list_has_one_slot_and_a_foreign_ipset_is_a_conflict_to_adopt() {
        let d = named("guardsync-trusted", "t");
        let theirs = [set("corp-trusted", "s3://x/y", "ACTIVE", false)];
        let p = super::plan(&TRUSTED, std::slice::from_ref(&d), &found_of(&theirs), arn);
        assert!(p.steps.is_empty());
        let e = p.blocked[0].to_string();
        assert_eq!(
            e,
            "an IPSet named \"corp-trusted\" (id id-corp-trusted) exists and is not managed by \
             guardsync, and GuardDuty allows one per detector; guardsync never adopts silently: \
             to let it replace that list with \"guardsync-trusted\", tag it (aws guardduty \
             tag-resource --resource-arn arn:id-corp-trusted --tags managed-by=guardsync); to \
             keep its name, set trusted_list.name to \"corp-trusted\" and tag it"
        );
        assert_eq!(p.unmanaged[0].resource, Resource::IpSet);
        let same_name = [set("guardsync-trusted", "s3://x/y", "ACTIVE", false)];
        let p = super::plan(
            &TRUSTED,
            std::slice::from_ref(&d),
            &found_of(&same_name),
            arn,
        );
        let e = p.blocked[0].to_string();
        assert!(e.contains("an IPSet named \"guardsync-trusted\""), "{e}");
        assert!(e.ends_with("or choose another trusted_list.name"), "{e}");
        // Renamed in the configuration: the old one goes first (one slot).
        let ours = [set("old-trusted", "s3://bucket/t", "ACTIVE", true)];
        let p = super::plan(&TRUSTED, std::slice::from_ref(&d), &found_of(&ours), arn);
        assert_eq!(
            p.steps,
            [
                Step::Delete {
                    name: "old-trusted".into(),
                    id: "id-old-trusted".into()
                },
                Step::Create {
                    name: "guardsync-trusted".into()
                }
            ]
        );
    }
}

//! The ThreatIntelSet of one target: observe the detector's sets, decide what
//! to do ([`plan`], pure) and carry it out ([`apply`]), waiting until
//! GuardDuty uses the list.
//!
//! GuardDuty does not watch the list object: a set must be pointed at the new
//! object and activated again after every content change, and nothing may be
//! changed while it is ACTIVATING, DEACTIVATING or DELETE_PENDING
//! (<https://docs.aws.amazon.com/guardduty/latest/APIReference/API_UpdateThreatIntelSet.html>).

use std::collections::BTreeMap;

use super::plan::{
    Failure, OWNER_TAG, OWNER_VALUE, Outcome, Plan, TargetError, Timing, client_token,
};
use crate::cloud::GuardDutyApi;
use crate::cloud::{NewSet, SetStatus, ThreatIntelSet};
use crate::publish::parse_location;
use crate::report::{Action, Change, Resource, Unmanaged};

/// The tag that records the sha256 of the list a set points at.
pub(crate) const SHA_TAG: &str = "guardsync-sha256";
/// The tag that records where a set pointed before guardsync's last update,
/// so that a later run can put it back if GuardDuty could not read the new
/// list (an activation can end in ERROR long after the apply that made it).
pub(crate) const PREVIOUS_TAG: &str = "guardsync-previous";
/// GuardDuty's limit of threat lists per account per region.
pub(crate) const MAX_SETS: usize = 6;

/// The set every managed target should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// `threat_list.name`.
    pub name: String,
    /// The URL given to GuardDuty.
    pub location: String,
    /// The object's bucket and key, to compare with any URL form.
    pub bucket: String,
    /// See `bucket`.
    pub key: String,
    /// sha256 of the object.
    pub sha256: String,
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
pub(crate) fn is_owned(set: &ThreatIntelSet) -> bool {
    super::plan::is_owned(&set.tags)
}

/// What to do with the set of one target (a plan holds exactly one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing: the set points at the list and is ACTIVE.
    Nothing {
        /// The set's id.
        id: String,
    },
    /// Create the set, activated.
    Create,
    /// Point the set at the list and activate it.
    Update {
        /// The set's id.
        id: String,
        /// Where it pointed, to put back if GuardDuty cannot read the new object.
        previous: String,
    },
    /// Same location; activate it again.
    Activate {
        /// The set's id.
        id: String,
    },
    /// GuardDuty could not read the list (ERROR): point the set back at the
    /// list it read before, and fail the target with GuardDuty's status.
    Rollback {
        /// The set's id.
        id: String,
        /// Where it pointed before guardsync's last update.
        previous: String,
    },
    /// The set is changing status: wait for it, then look again.
    Wait {
        /// The set's id.
        id: String,
    },
}

/// The threat lists of a detector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Found {
    /// Every ThreatIntelSet, with its details.
    pub sets: Vec<ThreatIntelSet>,
    /// How many threat entity lists there are (they may take the same six
    /// slots); only counted when the set is to be created.
    pub entity_lists: usize,
}

/// Every ThreatIntelSet of the detector and, when none is named `name` (a
/// create is coming), how many threat entity lists it has: a steady-state
/// run makes no extra call.
pub(crate) async fn observe(
    gd: &impl GuardDutyApi,
    detector: &str,
    name: &str,
) -> Result<Found, TargetError> {
    let label = |e| TargetError::new(Resource::ThreatIntelSet, e);
    let sets = gd.threat_intel_sets(detector).await.map_err(label)?;
    let ours = sets
        .iter()
        .any(|s| s.name == name && s.status != SetStatus::Deleted);
    let entity_lists = if ours {
        0
    } else {
        gd.threat_entity_set_count(detector).await.map_err(label)?
    };
    Ok(Found { sets, entity_lists })
}

/// Decide what to do with the sets found in one detector.
pub(crate) fn plan(
    desired: &Desired,
    found: &Found,
    arn_of: impl Fn(&str) -> String,
) -> Plan<Step> {
    let entity_lists = found.entity_lists;
    // A DELETED set is gone: it neither blocks its name nor takes a slot.
    let live: Vec<ThreatIntelSet> = found
        .sets
        .iter()
        .filter(|s| s.status != SetStatus::Deleted)
        .cloned()
        .collect();
    let found = live.as_slice();
    let unmanaged = found
        .iter()
        .filter(|s| s.name != desired.name)
        .map(|s| Unmanaged {
            resource: Resource::ThreatIntelSet,
            name: if is_owned(s) {
                format!(
                    "{} (tagged {OWNER_TAG}={OWNER_VALUE}, another list name)",
                    s.name
                )
            } else {
                s.name.clone()
            },
        })
        .collect();
    let (step, change) = decide(desired, found, entity_lists, arn_of);
    let (steps, blocked) = match step {
        Ok(s) => (vec![s], Vec::new()),
        Err(e) => (
            Vec::new(),
            vec![TargetError::new(Resource::ThreatIntelSet, e)],
        ),
    };
    // GuardDuty is still loading the set (a run that stopped waiting for it
    // left it so): nothing to do but look again later.
    let activating = found
        .iter()
        .filter(|s| s.name == desired.name && s.status == SetStatus::Activating && is_owned(s))
        .map(|s| s.name.clone())
        .collect();
    Plan {
        steps,
        changes: change.into_iter().collect(),
        unmanaged,
        notes: Vec::new(),
        blocked,
        activating,
    }
}

/// A location as `s3://bucket/key` when it is an S3 URL: shorter, and the
/// same form whichever URL style the set was created with.
fn readable(location: &str) -> String {
    parse_location(location).map_or_else(
        || location.to_owned(),
        |(b, k)| crate::publish::s3_url(&b, &k),
    )
}

fn change(desired: &Desired, action: Action, detail: Vec<String>) -> Option<Change> {
    Some(Change {
        resource: Resource::ThreatIntelSet,
        name: desired.name.clone(),
        action,
        detail,
    })
}

fn decide(
    desired: &Desired,
    found: &[ThreatIntelSet],
    entity_lists: usize,
    arn_of: impl Fn(&str) -> String,
) -> (Result<Step, Failure>, Option<Change>) {
    let Some(set) = found.iter().find(|s| s.name == desired.name) else {
        let lists = found.len() + entity_lists;
        if lists >= MAX_SETS {
            let entity = match entity_lists {
                0 => String::new(),
                n => format!(" ({n} of them threat entity lists)"),
            };
            return (
                Err(Failure::Limit(format!(
                    "cannot create ThreatIntelSet {:?}: the detector already has {lists} threat \
                     lists{entity}, GuardDuty's limit is {MAX_SETS}; delete one that is no longer used",
                    desired.name,
                ))),
                None,
            );
        }
        let detail = vec![
            format!("location {}", readable(&desired.location)),
            "format TXT, activate".into(),
        ];
        return (Ok(Step::Create), change(desired, Action::Create, detail));
    };
    if !is_owned(set) {
        return (
            Err(Failure::Conflict(format!(
                "a ThreatIntelSet named {:?} (id {}) exists and is not managed by guardsync; \
                 guardsync never adopts silently: to let it manage this set, tag it \
                 (aws guardduty tag-resource --resource-arn {} --tags {OWNER_TAG}={OWNER_VALUE}), \
                 or choose another threat_list.name",
                set.name,
                set.id,
                arn_of(&set.id)
            ))),
            None,
        );
    }
    let status = &set.status;
    if status.is_going() {
        return (
            Err(Failure::Status(format!(
                "ThreatIntelSet {:?} (id {}) is {status}: GuardDuty is deleting it; \
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
            Step::Wait { id }
        } else {
            Step::Update {
                id,
                previous: set.location.clone(),
            }
        };
        return (Ok(step), change(desired, Action::Update, detail));
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
                id,
                previous: previous.clone(),
            }),
            change(desired, Action::Update, detail),
        );
    }
    match status {
        SetStatus::Active => (Ok(Step::Nothing { id }), None),
        // Already on its way to ACTIVE (or INACTIVE) at the right location.
        s if s.is_busy() => (Ok(Step::Wait { id }), None),
        other => (
            Ok(Step::Activate { id }),
            change(
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
    /// The target's detector.
    pub detector: &'a str,
    /// The set it should have.
    pub desired: &'a Desired,
    /// The account that owns the bucket (`ExpectedBucketOwner`).
    pub bucket_owner: &'a str,
    /// The target's account and region, for the idempotency token.
    pub account: &'a str,
    /// See `account`.
    pub region: &'a str,
    /// How long to wait for GuardDuty: `settle_timeout` is already cut to
    /// the time the target has left.
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

/// Carry out `plan`, waiting at most `settle_timeout` for GuardDuty to use
/// the list; a set still ACTIVATING then is reported as activating, not as a
/// failure (GuardDuty documents up to 15 minutes, in some cases 40). A set
/// busy at the start is waited for the same way, then observed and planned
/// again; guardsync's own activation is waited for inside its round, so
/// three rounds are plenty.
pub(crate) async fn apply<G: GuardDutyApi>(w: &Writer<'_, G>, plan: Plan<Step>) -> Outcome {
    let mut plan = plan;
    for round in 0..3 {
        if round > 0 {
            plan = match observe(w.gd, w.detector, &w.desired.name).await {
                Ok(found) => self::plan(w.desired, &found, |id| {
                    w.gd.threat_intel_set_arn(w.detector, id)
                }),
                Err(e) => return Outcome::failed(e),
            };
        }
        if !plan.blocked.is_empty() {
            return plan.outcome();
        }
        let done = match plan.steps.first() {
            None | Some(Step::Nothing { .. }) => Ok(Some(Loaded::Active)),
            Some(Step::Wait { id }) => match settle(w, id).await {
                // Still loading: stop here, the next run looks again.
                Ok(SetStatus::Activating) => Ok(Some(Loaded::Activating)),
                Ok(_) => Ok(None),
                Err(e) => Err(e),
            },
            Some(Step::Create) => create(w).await.map(Some),
            Some(Step::Update { id, previous }) => update(w, id, Some(previous)).await.map(Some),
            Some(Step::Activate { id }) => update(w, id, None).await.map(Some),
            Some(Step::Rollback { id, previous }) => rollback(w, id, previous).await.map(Some),
        };
        if let Ok(None) = done {
            continue;
        }
        let mut out = plan.outcome();
        out.activating.clear();
        match done {
            Err(e) => out
                .errors
                .push(TargetError::new(Resource::ThreatIntelSet, e)),
            Ok(Some(Loaded::Activating)) => out.activating.push(w.desired.name.clone()),
            Ok(_) => {}
        }
        return out;
    }
    Outcome::failed(TargetError::new(
        Resource::ThreatIntelSet,
        Failure::Status("the ThreatIntelSet kept changing status; run again".into()),
    ))
}

/// What an ERROR status most often means.
const READ_HINT: &str = " (GuardDuty in this account must be able to read the object: \
                         bucket.manage_policy grants the organization read access)";

async fn create<G: GuardDutyApi>(w: &Writer<'_, G>) -> Result<Loaded, Failure> {
    let d = w.desired;
    let tags = d.tags();
    let token = client_token(&format!(
        "{}|{}|{}|{}",
        w.account, w.region, d.name, d.sha256
    ));
    let id =
        w.gd.create_threat_intel_set(
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
    tracing::debug!(set = id.as_str(), "created ThreatIntelSet");
    match settle(w, &id).await? {
        SetStatus::Active => Ok(Loaded::Active),
        SetStatus::Activating => Ok(Loaded::Activating),
        s => Err(Failure::Status(format!(
            "GuardDuty could not use the new ThreatIntelSet {:?}: status {s} reading {}{}",
            d.name, d.location, READ_HINT
        ))),
    }
}

/// Point the set at the list (again) and activate it; on ERROR put back
/// `previous` so GuardDuty keeps the last list it could read.
async fn update<G: GuardDutyApi>(
    w: &Writer<'_, G>,
    id: &str,
    previous: Option<&str>,
) -> Result<Loaded, Failure> {
    let d = w.desired;
    w.gd.activate_threat_intel_set(w.detector, id, &d.location, w.bucket_owner)
        .await?;
    if let Some(prev) = previous {
        let mut tags = d.tags();
        // Tag values are at most 256 characters: a longer location is not
        // kept (a later ERROR is then activated again instead).
        if prev.len() <= 256 {
            tags.insert(PREVIOUS_TAG.to_owned(), prev.to_owned());
        }
        w.gd.tag_threat_intel_set(w.detector, id, &tags).await?;
    }
    let status = settle(w, id).await?;
    match status {
        SetStatus::Active => return Ok(Loaded::Active),
        SetStatus::Activating => return Ok(Loaded::Activating),
        _ => {}
    }
    let mut msg = format!(
        "GuardDuty could not use ThreatIntelSet {:?} after activation: status {status} reading {}{}",
        d.name, d.location, READ_HINT
    );
    if let (SetStatus::Error, Some(prev)) = (&status, previous) {
        match w
            .gd
            .activate_threat_intel_set(w.detector, id, prev, w.bucket_owner)
            .await
        {
            Ok(()) => msg.push_str(&format!("; put back the previous location {prev}")),
            Err(e) => msg.push_str(&format!("; could not put back {prev}: {e}")),
        }
    }
    Err(Failure::Status(msg))
}

/// Point a set in ERROR back at `previous`, the list it read before, and fail
/// with GuardDuty's status: a later apply (or `--retry-failed`) tries the new
/// list again once the cause is fixed.
async fn rollback<G: GuardDutyApi>(
    w: &Writer<'_, G>,
    id: &str,
    previous: &str,
) -> Result<Loaded, Failure> {
    let d = w.desired;
    let mut msg = format!(
        "GuardDuty could not use ThreatIntelSet {:?}: status ERROR reading {}{}",
        d.name, d.location, READ_HINT
    );
    match w
        .gd
        .activate_threat_intel_set(w.detector, id, previous, w.bucket_owner)
        .await
    {
        Ok(()) => msg.push_str(&format!("; put back the previous location {previous}")),
        Err(e) => msg.push_str(&format!("; could not put back {previous}: {e}")),
    }
    Err(Failure::Status(msg))
}

/// Poll the set until it leaves ACTIVATING/DEACTIVATING, for at most
/// `settle_timeout`; its status then (ACTIVATING when GuardDuty is still
/// loading it). A set still DEACTIVATING cannot be changed: that fails.
async fn settle<G: GuardDutyApi>(w: &Writer<'_, G>, id: &str) -> Result<SetStatus, Failure> {
    let t = w.timing;
    let start = tokio::time::Instant::now();
    let mut pause = t.poll_initial;
    loop {
        let set = w.gd.threat_intel_set(w.detector, id).await?;
        if !set.status.is_busy() {
            return Ok(set.status);
        }
        let left = t.settle_timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            if set.status == SetStatus::Activating {
                tracing::debug!(
                    set = set.name.as_str(),
                    "GuardDuty is still loading the list; the next plan or apply checks it"
                );
                return Ok(set.status);
            }
            return Err(Failure::Status(format!(
                "ThreatIntelSet {:?} was still {} after {}s",
                set.name,
                set.status,
                t.settle_timeout.as_secs()
            )));
        }
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause.mul_f32(1.5)).min(t.poll_max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    const KEY: &str = "guardduty/new.txt";

    fn desired() -> Desired {
        Desired {
            name: "FireHOL-Level1".into(),
            location: format!("https://s3.us-east-1.amazonaws.com/bucket/{KEY}"),
            bucket: "bucket".into(),
            key: KEY.into(),
            sha256: "new".into(),
        }
    }

    /// The decision of [`super::plan`] as one step or one reason, and one change.
    struct Decision {
        step: Result<Step, String>,
        change: Option<Change>,
        unmanaged: Vec<Unmanaged>,
    }

    fn plan(desired: &Desired, found: &[ThreatIntelSet], arn_of: fn(&str) -> String) -> Decision {
        let p = super::plan(desired, &found_of(found), arn_of);
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
    fn found_of(sets: &[ThreatIntelSet]) -> Found {
        Found {
            sets: sets.to_vec(),
            entity_lists: 0,
        }
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
        let p = super::plan(&desired(), &found, arn);
        let [e] = p.blocked.as_slice() else {
            panic!("{p:?}");
        };
        assert!(
            e.to_string()
                .contains("already has 6 threat lists (2 of them threat entity lists)"),
            "{e}"
        );
    }

    fn set(name: &str, location: &str, status: &str, owned: bool) -> ThreatIntelSet {
        let mut tags = BTreeMap::new();
        if owned {
            tags.insert(OWNER_TAG.into(), OWNER_VALUE.into());
            tags.insert(SHA_TAG.into(), "old".into());
        }
        ThreatIntelSet {
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

    #[test]
    fn creates_when_absent() {
        let p = plan(&desired(), &[], arn);
        assert_eq!(p.step, Ok(Step::Create));
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
                id: "id-FireHOL-Level1".into()
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
                id: "id-FireHOL-Level1".into(),
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
                id: "id-FireHOL-Level1".into()
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
                id: "id-FireHOL-Level1".into()
            })
        );
        assert_eq!(p.change.is_some(), !at_list);
    }

    #[test]
    fn a_set_guardduty_is_still_loading_is_activating_with_nothing_to_do_but_wait() {
        let loc = desired().location;
        let found = [set("FireHOL-Level1", &loc, "ACTIVATING", true)];
        let p = super::plan(&desired(), &found_of(&found), arn);
        assert_eq!(
            p.steps,
            [Step::Wait {
                id: "id-FireHOL-Level1".into()
            }]
        );
        assert_eq!(p.changes, []);
        assert_eq!(p.activating, ["FireHOL-Level1"]);
        let active = [set("FireHOL-Level1", &loc, "ACTIVE", true)];
        assert!(
            super::plan(&desired(), &found_of(&active), arn)
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
                id: "id-FireHOL-Level1".into(),
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
                id: "id-FireHOL-Level1".into()
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
        assert_eq!(p.step, Ok(Step::Create));
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
        assert_eq!(p.change, None);
    }

    #[test]
    fn other_sets_are_reported_unmanaged_and_count_towards_the_limit() {
        let others: Vec<_> = (0..6)
            .map(|i| set(&format!("s{i}"), "s3://x/y", "ACTIVE", i == 0))
            .collect();
        let p = plan(&desired(), &others, arn);
        assert!(
            p.step
                .expect_err("limit")
                .contains("GuardDuty's limit is 6")
        );
        assert_eq!(p.unmanaged.len(), 6);
        assert!(p.unmanaged[0].name.contains("another list name"));
        assert_eq!(p.unmanaged[1].name, "s1");
        let p = plan(&desired(), &others[..5], arn);
        assert_eq!(p.step, Ok(Step::Create));
    }
}

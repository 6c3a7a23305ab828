//! The threat lists of a target: GuardDuty ThreatIntelSets, one per
//! configured threat list (or per part of a list split to fit GuardDuty's
//! limits). Planned and applied by [`super::lists`]; this file says what
//! sets the kind apart.

use super::plan::ListKind;
use crate::cloud::SetKind;
use crate::report::Resource;

/// GuardDuty's limit of threat lists per account per region.
pub(crate) const MAX_SETS: usize = 6;

/// ThreatIntelSets: six slots, which threat entity lists may share (the
/// documentation is unclear: guardsync counts them).
pub(crate) const KIND: ListKind = ListKind {
    set: SetKind::ThreatIntel,
    resource: Resource::ThreatIntelSet,
    slots: MAX_SETS,
    entity_lists_count: true,
    config_key: "threat_lists[].name",
    plural: "threat list",
};

//! The trusted list of a target: GuardDuty's IPSet (trusted IP list), at
//! most one per detector, managed like the threat lists (administrator-only
//! for associated members, the same statuses and activation rules).
//! Planned and applied by [`super::lists`]; this file says what sets the
//! kind apart.

use super::plan::ListKind;
use crate::cloud::SetKind;
use crate::report::Resource;

/// IPSets: one per detector.
pub(crate) const KIND: ListKind = ListKind {
    set: SetKind::Ip,
    resource: Resource::IpSet,
    slots: 1,
    entity_lists_count: false,
    config_key: "trusted_list.name",
    plural: "trusted IP list",
};

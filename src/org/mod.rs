//! The organization as guardsync sees it: which (account, region) targets are
//! in scope, where each one stands with GuardDuty (its placement), and in
//! which rollout wave it runs.
//!
//! Everything here is pure: discovery (through the `cloud` traits) produces
//! the observations, these functions decide.

pub mod placement;
pub mod targets;
pub mod waves;

pub use placement::{AdminView, Placement, PlacementKind, Probe, Relationship, needs_role, place};
pub use targets::{OrgAccount, Target, expand};

//! guardsync keeps IP threat lists (and a trusted IP list) alive in Amazon
//! GuardDuty across a whole AWS Organization.
//!
//! docs/ARCHITECTURE.md describes the layers, the reconcile shape and the
//! files a new resource kind touches.
//!
//! The program is a pipeline with one direction of travel:
//!
//! ```text
//! config ──> publication (per list: feed builds it, split in parts; the trusted list)
//!        ──> publish (S3) ──> org (targets, credentials)
//!        ──> reconcile (observe ─> plan ─> apply, per account·region) ──> report
//! ```
//!
//! Module map:
//!
//! - [`config`]: the YAML configuration, parsed strictly into validated types
//!   (pure; the only I/O is reading the file).
//! - [`feed`]: FireHOL feeds in, one aggregated IPv4 list out (and its parts
//!   when it is over GuardDuty's limits).
//! - [`publish`]: the content-addressed list objects, their manifest, the bucket
//!   policy, the run lease and the run record in the central bucket (keys,
//!   policy and record merging pure; S3 I/O).
//! - [`org`]: target expansion, placement and rollout waves (pure).
//! - [`cloud`]: the engine's view of AWS: the types it reasons about (sets,
//!   filters, topics, rules, errors, credentials), the narrow traits through
//!   which discovery and the fan-out reach AWS, and the call budget (pure).
//! - [`aws`]: thin adapters over the AWS SDK that implement [`cloud`]'s
//!   traits (I/O); SDK types stop there; every client counts its calls.
//! - [`discover`]: organization and GuardDuty views -> placed targets (I/O, read-only).
//! - [`reconcile`]: one shape for every resource kind (observe -> plan, pure ->
//!   apply), one file each: the lists (one planner, `lists.rs`, for the
//!   ThreatIntelSets and the IPSet, whose kinds `threat_set.rs` and
//!   `ip_set.rs` define), the suppression rules (and the findings
//!   `archive_existing` archives), the alerts and the bucket policy; a
//!   target's whole plan; the waves and the bounded fan-out (I/O through
//!   [`cloud`]).
//! - [`error`]: the error kinds and their one mapping to the exit codes.
//! - [`report`]: the run's report, rendered as terraform-like text or JSON (pure).
//! - [`policies`]: the bucket policy and the IAM policies guardsync needs, rendered
//!   from the configuration (pure), and the `policies` command that prints or writes them.
//! - `sim` (only with the `sim` feature: test support, not shipped): an
//!   in-process synthetic organization behind the [`cloud`] traits, for the
//!   engine's scale benchmark and tests (I/O-free).
//! - [`lambda`]: the scheduled job's entry point: one invocation, one plan or apply (I/O).
//! - [`logs`]: the text logs' format without a terminal (a leaf: tracing only).
//! - [`tuning`]: the time settings tests shorten through the environment.
//! - [`util`]: leaf helpers (error chains).
//! - `publication`: the lists of a run: each threat list built from its
//!   feeds and split past GuardDuty's limits, the trusted list, the manifest
//!   and what it retires, the sets every target should have (I/O: feeds, S3).
//! - [`app`]: the one place that wires the phases together for each command.
//! - [`cli`]: the command-line surface (clap), shared by `main.rs` and the docs.

pub mod app;
pub mod aws;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod discover;
pub mod error;
pub mod feed;
pub mod html_report;
pub mod lambda;
pub mod logs;
pub mod org;
pub mod policies;
pub(crate) mod publication;
pub mod publish;
pub mod reconcile;
pub mod report;
#[cfg(feature = "sim")]
pub mod sim;
pub(crate) mod tuning;
pub(crate) mod util;

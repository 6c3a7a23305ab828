//! guardsync keeps one IP threat list alive in Amazon GuardDuty across a whole
//! AWS Organization.
//!
//! The program is a pipeline with one direction of travel:
//!
//! ```text
//! config ──> feed (build the list) ──> publish (S3) ──> org (targets, credentials)
//!        ──> reconcile (observe ─> plan ─> apply, per account·region) ──> report
//! ```
//!
//! Module map:
//!
//! - [`config`]: the YAML configuration, parsed strictly into validated types
//!   (pure; the only I/O is reading the file).
//! - [`feed`]: FireHOL feeds in, one aggregated IPv4 list out.
//! - [`publish`]: the content-addressed list object, its manifest, the bucket
//!   policy, the run lease and the run record in the central bucket (keys,
//!   policy and record merging pure; S3 I/O).
//! - [`org`]: target expansion, placement and rollout waves (pure).
//! - [`aws`]: thin adapters over the AWS SDK (I/O); SDK types stop there; the
//!   call budget counted on every client.
//! - [`cloud`]: the narrow traits through which discovery and the fan-out
//!   reach AWS ([`aws::Aws`] implements them; so does [`sim`]).
//! - [`discover`]: organization and GuardDuty views -> placed targets (I/O, read-only).
//! - [`reconcile`]: per target observe -> plan (pure) -> apply for the ThreatIntelSet,
//!   the suppression rules and the alerts; the waves and the bounded fan-out (I/O).
//! - [`error`]: the error kinds and their one mapping to the exit codes of SPEC.md.
//! - [`report`]: the run's report, rendered as terraform-like text or JSON (pure).
//! - [`policies`]: the bucket policy and the IAM policies guardsync needs, rendered
//!   from the configuration (pure), and the `policies` command that prints or writes them.
//! - [`sim`]: an in-process synthetic organization behind the [`cloud`] traits,
//!   for the engine's scale benchmark and tests (I/O-free).
//! - [`lambda`]: the scheduled job's entry point: one invocation, one plan or apply (I/O).
//! - [`tuning`]: the time settings tests shorten through the environment.
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
pub mod lambda;
pub mod org;
pub mod policies;
pub mod publish;
pub mod reconcile;
pub mod report;
pub mod sim;
pub mod tuning;

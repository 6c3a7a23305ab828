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
//! - [`publish`]: the content-addressed list object, its manifest and the bucket
//!   policy in the central bucket (keys and policy pure; uploads I/O).
//! - [`org`]: target expansion and placement (pure; discovery adapters come with issue #4).
//! - [`aws`]: thin adapters over the AWS SDK (I/O); SDK types stop there.
//! - [`discover`]: organization and GuardDuty views -> placed targets (I/O, read-only).
//! - [`reconcile`]: per target observe -> plan (pure) -> apply, and the bounded fan-out (I/O).
//! - [`error`]: the error kinds and their one mapping to the exit codes of SPEC.md.
//! - [`report`]: the run's report, rendered as terraform-like text or JSON (pure).
//! - [`policies`]: the bucket policy and the IAM policies guardsync needs, rendered
//!   from the configuration (pure), and the `policies` command that prints or writes them.
//! - [`lambda`]: the scheduled job's entry point: one invocation, one plan or apply (I/O).
//! - [`app`]: the one place that wires the phases together for each command.
//! - [`cli`]: the command-line surface (clap), shared by `main.rs` and the docs.

pub mod app;
pub mod aws;
pub mod cli;
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

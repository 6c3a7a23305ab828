//! guardsync's integration tests, as one test binary: each module below was
//! a binary of its own, and each linked the whole AWS SDK again. They share
//! one emulator (moto with guardsync's extension, started on first use by
//! [`common::emulator`]); the tests that touch it take its lock, reset it and
//! seed their own scenario, so they run one at a time while the others
//! (feeds, configuration, the simulation) run beside them.

mod common;

mod activation;
mod alerts;
mod bucket_layout;
mod calls;
mod config_validate;
mod crash;
mod discover;
mod emulator_sdk;
mod fanout;
mod faults;
mod feed_build;
mod feed_cli;
mod feed_faults;
mod feed_merge;
mod first_hour;
mod fuzz_inputs;
mod html;
mod lambda;
mod lists;
mod markdown;
mod policies;
mod publish;
mod report_schema;
mod rollout;
mod rules;
mod scope;
mod secrets;
mod sim;

//! The interceptor that counts every SDK call and attempt into the call
//! budget of `crate::cloud::calls`.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::cloud::calls::bump;

/// The interceptor every client carries.
pub fn counter() -> Counter {
    Counter
}

/// Counts each operation's calls and attempts into the process table.
#[derive(Debug, Clone, Copy)]
pub struct Counter;

fn key(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>().map_or_else(
        || "unknown:Unknown".to_owned(),
        |m| format!("{}:{}", service_prefix(m.service()), m.name()),
    )
}

/// The IAM-style prefix of an SDK service name (`GuardDuty` -> `guardduty`).
fn service_prefix(service: &str) -> String {
    match service {
        "EventBridge" => "events".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "guardsync-call-counter"
    }

    // The operation's metadata is in the bag only once the operation's own
    // configuration is layered in: count the call when it ends (successful
    // or not), the attempts as they start.
    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        bump(key(cfg), 1, 0);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        bump(key(cfg), 0, 1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_prefixes() {
        assert_eq!(service_prefix("GuardDuty"), "guardduty");
        assert_eq!(service_prefix("EventBridge"), "events");
        assert_eq!(service_prefix("S3"), "s3");
    }
}

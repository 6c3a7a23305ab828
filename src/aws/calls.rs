//! The interceptor that counts every SDK call and attempt into the call
//! budget of `crate::cloud::calls`, and says when a call is retried: one
//! warning per retry, with the operation, the account (where the client
//! knows it), the Region, the attempt and what
//! the attempt before it got (a throttling code, an HTTP status, a refused
//! connection), so that a slow run is never silent.

use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

use crate::cloud::calls::bump;

/// The interceptor every client carries; `account`: the account the
/// client calls as, named in its retry warnings (discovery's probes and the
/// publication's calls run outside any target's span).
pub fn counter(account: Option<&str>) -> Counter {
    Counter {
        account: account.map(Arc::from),
    }
}

/// Counts each operation's calls and attempts into the process table.
#[derive(Debug, Clone)]
pub struct Counter {
    account: Option<Arc<str>>,
}

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
        let key = key(cfg);
        let attempt = cfg
            .load::<RequestAttempts>()
            .map_or(1, RequestAttempts::attempts);
        if attempt > 1 {
            let region = cfg
                .load::<aws_config::Region>()
                .map_or_else(|| "its Region".to_owned(), ToString::to_string);
            let before = cfg
                .load::<LastAttempt>()
                .map_or("an error", |l| l.0.as_str());
            let of = cfg
                .load::<aws_smithy_types::retry::RetryConfig>()
                .map(|r| format!(" of {}", r.max_attempts()))
                .unwrap_or_default();
            let account = self
                .account
                .as_deref()
                .map(|a| format!(" as {a}"))
                .unwrap_or_default();
            tracing::warn!(
                "retrying {key}{account} in {region} (attempt {attempt}{of}) after {before}"
            );
        }
        bump(key, 0, 1);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let got = match (context.response(), context.output_or_error()) {
            (Some(r), _) => {
                let status = r.status().as_u16();
                let code = r
                    .headers()
                    .get("x-amzn-errortype")
                    .map(|c| c.split(':').next().unwrap_or(c).to_owned());
                match code {
                    Some(c) => format!("HTTP {status} {c}"),
                    None => format!("HTTP {status}"),
                }
            }
            (None, Some(Err(e))) => innermost(e),
            (None, _) => "no answer".to_owned(),
        };
        cfg.interceptor_state().store_put(LastAttempt(got));
        Ok(())
    }
}

/// What the last attempt of the call in progress got.
#[derive(Debug, Clone)]
struct LastAttempt(String);

impl Storable for LastAttempt {
    type Storer = StoreReplace<Self>;
}

/// The last cause of an error's chain ("Connection refused (os error 111)").
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
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

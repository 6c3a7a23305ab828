//! Thin adapters over the AWS SDK: SDK types stop here.
//!
//! [`Aws`] holds the one base `SdkConfig` (standard credential chain, explicit
//! retry and timeouts) from which every client is built; each adapter turns
//! SDK errors into [`AwsError`] naming the account, region and operation.
//! Everything here does I/O.

pub mod account;
pub mod calls;
pub mod events;
pub mod guardduty;
pub mod organizations;
pub mod s3;
pub mod sns;
pub mod sts;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_guardduty::error::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

/// A failed AWS call, with where it failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("failed to call {operation} in account {account}, {region}: {message}")]
pub struct AwsError {
    /// The account whose credentials made the call.
    pub account: String,
    /// The region of the endpoint.
    pub region: String,
    /// The API operation.
    pub operation: &'static str,
    /// The AWS error code, when the service answered.
    pub code: Option<String>,
    /// What AWS (or the transport) said.
    pub message: String,
}

/// Where an adapter's calls go: the account whose credentials sign them and
/// the region of the endpoint. It labels every error the adapter returns.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub account: String,
    pub region: String,
}

impl Site {
    /// An SDK error as an [`AwsError`] at this site.
    pub(crate) fn err<E, R>(
        &self,
        err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
        operation: &'static str,
    ) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let service = err.as_service_error();
        let code = service.and_then(|e| e.code()).map(str::to_owned);
        let message = match service.map(|e| (e.code(), e.message())) {
            Some((Some(c), Some(m))) => format!("{c}: {m}"),
            Some((Some(c), None)) => c.to_owned(),
            // Transport failures: the chain of causes, without the SDK's
            // Debug dump of the whole error.
            _ => crate::error::chain(err),
        };
        AwsError {
            account: self.account.clone(),
            region: self.region.clone(),
            operation,
            code,
            message,
        }
    }

    /// The site of a client built from `conf` for `account`.
    pub(crate) fn of(conf: &aws_config::SdkConfig, account: &str) -> Site {
        Site {
            account: account.to_owned(),
            region: conf.region().map(|r| r.to_string()).unwrap_or_default(),
        }
    }

    /// The ARN of `resource` of `service` at this site.
    pub(crate) fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            partition(&self.region),
            self.region,
            self.account
        )
    }

    /// `tags` as the SDK's tags, built by `build` (the SDKs' tag types differ).
    pub(crate) fn tags<T, E: std::fmt::Display>(
        &self,
        operation: &'static str,
        tags: &BTreeMap<String, String>,
        build: impl Fn(&str, &str) -> Result<T, E>,
    ) -> Result<Vec<T>, AwsError> {
        tags.iter()
            .map(|(k, v)| build(k, v).map_err(|e| self.failed(operation, None, e.to_string())))
            .collect()
    }

    /// An error AWS answered inside a successful response (a failed entry),
    /// or a request the SDK could not build, as an [`AwsError`] at this site.
    pub(crate) fn failed(
        &self,
        operation: &'static str,
        code: Option<&str>,
        message: impl Into<String>,
    ) -> AwsError {
        AwsError {
            account: self.account.clone(),
            region: self.region.clone(),
            operation,
            code: code.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// The ARN partition of a region.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The base SDK configuration every client is built from.
#[derive(Debug, Clone)]
pub struct Aws {
    base: SdkConfig,
}

impl Aws {
    /// Load the standard AWS chain (`AWS_PROFILE`, `AWS_REGION`,
    /// `AWS_ENDPOINT_URL`, ...) with `max_attempts` per call.
    pub async fn load(max_attempts: u32) -> Self {
        let backoff = crate::tuning::duration(
            "GUARDSYNC_RETRY_INITIAL_BACKOFF_MS",
            Duration::from_millis,
            Duration::from_secs(1),
        );
        let base = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(max_attempts)
                    .with_initial_backoff(backoff),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            )
            .load()
            .await;
        Aws { base }
    }

    /// Wrap an existing configuration (tests).
    pub fn from_config(base: SdkConfig) -> Self {
        Aws { base }
    }

    /// The base configuration.
    pub fn config(&self) -> &SdkConfig {
        &self.base
    }

    /// The base configuration in `region`, with `credentials` when given
    /// (an assumed role) or the tool's own.
    pub fn config_for(
        &self,
        region: &str,
        credentials: Option<&sts::AccountCredentials>,
    ) -> SdkConfig {
        let mut b = self
            .base
            .to_builder()
            .region(aws_config::Region::new(region.to_owned()));
        if let Some(c) = credentials {
            b = b.credentials_provider(c.provider());
        }
        b.build()
    }
}

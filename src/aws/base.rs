//! The one base `SdkConfig` (standard credential chain, explicit retry and
//! timeouts) from which every client is built.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

use crate::cloud::AccountCredentials;

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
    pub fn config_for(&self, region: &str, credentials: Option<&AccountCredentials>) -> SdkConfig {
        let mut b = self
            .base
            .to_builder()
            .region(aws_config::Region::new(region.to_owned()));
        if let Some(p) =
            credentials.and_then(AccountCredentials::handle::<SharedCredentialsProvider>)
        {
            b = b.credentials_provider(p.clone());
        }
        b.build()
    }
}

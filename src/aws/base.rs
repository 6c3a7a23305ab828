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
            .http_client(shared_http_client())
            .load()
            .await;
        Aws { base }
    }

    /// Resolve the tool's own credentials once, before any call, so that a
    /// missing or broken setup is one clear message naming where the chain
    /// looked, instead of an SDK error per call.
    pub async fn check_credentials(&self) -> Result<(), String> {
        use aws_credential_types::provider::ProvideCredentials;
        let Some(provider) = self.base.credentials_provider() else {
            return Err(no_credentials("no credentials provider is configured"));
        };
        provider
            .provide_credentials()
            .await
            .map(drop)
            .map_err(|e| no_credentials(&innermost(&e)))
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

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, the proxy
/// from `HTTPS_PROXY`/`NO_PROXY`), made once for the whole run. Without it,
/// every SDK client (one per service, Region and account) makes its own,
/// with its own connection pool: each call to a new account or Region opened
/// a new connection, a TLS handshake against AWS. Shared, a connection to an
/// endpoint serves every account that calls it.
fn shared_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// The last cause in an error's chain: the one that says what went wrong.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    let full = last.to_string();
    // The chain's own summary lists each provider on a line of its own:
    // guardsync's message already names them.
    let text = full
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches(" Attempted:");
    match text.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// What to tell a user whose AWS chain yields no credentials: where guardsync
/// looked (the AWS CLI's order) and what to set.
fn no_credentials(cause: &str) -> String {
    let profile = match std::env::var("AWS_PROFILE") {
        Ok(p) if !p.is_empty() => format!(
            "the profile `{p}` (AWS_PROFILE) in ~/.aws/config and ~/.aws/credentials: is it \
             spelled as there? (`aws configure list-profiles` lists them)"
        ),
        _ => "the `default` profile in ~/.aws/config and ~/.aws/credentials (no AWS_PROFILE \
              is set)"
            .to_owned(),
    };
    format!(
        "no AWS credentials found. guardsync reads them as the AWS CLI does, and tried: the \
         environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); {profile}; web identity \
         (AWS_WEB_IDENTITY_TOKEN_FILE); the ECS container; the EC2 instance metadata service. \
         Set AWS_PROFILE to a profile for which `aws sts get-caller-identity` works (after \
         `aws sso login` for SSO), or export the keys. Last cause: {cause}"
    )
}

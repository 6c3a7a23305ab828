//! The one base `SdkConfig` (standard credential chain, explicit retry and
//! timeouts) from which every client is built.

use std::sync::OnceLock;
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
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
fn shared_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    let hyper = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    SharedHttpClient::new(CheckedOnce::new(hyper))
}

/// An HTTP client shared by every SDK client of a run, whose check of a new
/// SDK client's configuration is made once, by the first.
///
/// The SDK asks its HTTP client to check the configuration of each client
/// built from it. The hyper client answers by building a whole connector and
/// dropping it, so that the system's root certificates are read when a
/// client is made rather than at its first call: a TLS configuration with
/// every root certificate parsed again, about 0.7 M instructions, for each
/// of the run's SDK clients (one per service, account and Region). Against
/// the emulator, that was a third of a plan's instructions. The answer
/// cannot change from one SDK client to the next: the hyper client's check
/// reads neither the SDK client's components nor its configuration, only
/// its own settings, which every SDK client of the run shares.
#[derive(Debug)]
struct CheckedOnce {
    inner: SharedHttpClient,
    checked: OnceLock<Result<(), String>>,
}

impl CheckedOnce {
    fn new(inner: SharedHttpClient) -> Self {
        CheckedOnce {
            inner,
            checked: OnceLock::new(),
        }
    }
}

impl HttpClient for CheckedOnce {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.inner.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.checked
            .get_or_init(|| {
                HttpClient::validate_base_client_config(&self.inner, components, cfg)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(Into::into)
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        HttpClient::validate_final_config(&self.inner, components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// An HTTP client that counts the checks of client configurations it is
    /// asked for, and makes no call.
    #[derive(Debug, Default)]
    struct Counting(Arc<AtomicUsize>);

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            unreachable!("the test makes no call")
        }

        fn validate_base_client_config(
            &self,
            _: &RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    /// Build clients of three services in two Regions from one
    /// configuration whose HTTP client is `http`.
    fn checks_of_six_clients(http: SharedHttpClient) {
        let base = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .http_client(http)
            .build();
        let aws = Aws::from_config(base);
        for region in ["us-east-1", "eu-west-1"] {
            let conf = aws.config_for(region, None);
            let _ = aws_sdk_guardduty::Client::new(&conf);
            let _ = aws_sdk_sts::Client::new(&conf);
            let _ = aws_sdk_s3::Client::new(&conf);
        }
    }

    #[test]
    fn a_shared_http_client_checks_the_configuration_once_for_every_sdk_client() {
        // The SDK asks for a check per client it builds...
        let counted = Arc::new(AtomicUsize::new(0));
        checks_of_six_clients(SharedHttpClient::new(Counting(counted.clone())));
        assert_eq!(counted.load(Ordering::SeqCst), 6);
        // ...which the client guardsync shares answers once.
        let counted = Arc::new(AtomicUsize::new(0));
        let once = CheckedOnce::new(SharedHttpClient::new(Counting(counted.clone())));
        checks_of_six_clients(SharedHttpClient::new(once));
        assert_eq!(counted.load(Ordering::SeqCst), 1);
    }
}

//! Credentials per account: one AssumeRole per account that needs one.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider, future};

use super::base::Aws;
use super::site::Site;
use crate::cloud::{AccountCredentials, AwsError};

/// The ARN of `role` (a name or `path/name`) in `account`, in `partition`
/// (`aws`, `aws-cn`, `aws-us-gov`).
pub fn role_arn(partition: &str, account: &str, role: &str) -> String {
    format!(
        "arn:{partition}:iam::{account}:role/{}",
        role.trim_start_matches('/')
    )
}

/// Assume `role` in `account` through the regional STS endpoint of `region`,
/// and check at once that it works, so that a missing or untrusted role fails
/// this account with a message naming the role ARN.
pub async fn assume(
    aws: &Aws,
    account: &str,
    region: &str,
    role: &str,
    external_id: Option<&str>,
    session_name: &str,
) -> Result<AccountCredentials, AwsError> {
    // The STS Region (bucket.region) is in the administrator's partition,
    // and so are the organization's accounts.
    let arn = role_arn(crate::cloud::partition(region), account, role);
    let conf = aws.config_for(region, None);
    let mut b = aws_config::sts::AssumeRoleProvider::builder(&arn)
        .session_name(session_name)
        .region(aws_config::Region::new(region.to_owned()))
        .configure(&conf);
    if let Some(x) = external_id {
        b = b.external_id(x);
    }
    let provider = Refreshing {
        inner: Arc::new(b.build().await),
        cached: Arc::new(tokio::sync::Mutex::new(None)),
    };
    // The first call proves the role works; later calls reuse the credentials.
    provider.fetch().await.map_err(|e| AwsError {
        account: account.to_owned(),
        region: region.to_owned(),
        operation: "AssumeRole",
        code: None,
        message: {
            let reason = sts_reason(&e);
            let hint = if reason.contains("AccessDenied") {
                format!(
                    "; is the member role there, trusting guardsync's role? deploy/member-role.yaml \
                     creates it (a service-managed StackSet reaches every account of the \
                     organization), and organization.member_role must name it ({role})"
                )
            } else {
                String::new()
            };
            format!("failed to assume {arn}: {reason}{hint}")
        },
    })?;
    Ok(AccountCredentials::new(
        arn,
        SharedCredentialsProvider::new(provider),
    ))
}

/// The account of the tool's own credentials (GetCallerIdentity).
pub(crate) async fn caller_account(aws: &Aws) -> Result<String, AwsError> {
    let region = aws
        .config()
        .region()
        .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
    let client = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&aws.config_for(&region, None))
            .interceptor(super::calls::counter(None))
            .build(),
    );
    let out = client.get_caller_identity().send().await.map_err(|e| {
        Site {
            account: String::new(),
            region: region.clone(),
        }
        .err(&e, "GetCallerIdentity")
    })?;
    Ok(out.account().unwrap_or_default().to_owned())
}

/// STS's own words (`AccessDenied: User ... is not authorized ...`) when
/// STS answered, rather than the SDK's debug dump of the whole response.
fn sts_reason(e: &aws_credential_types::provider::error::CredentialsError) -> String {
    use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(sdk) = s.downcast_ref::<SdkError<AssumeRoleError>>() {
            if let Some(service) = sdk.as_service_error() {
                return match (service.code(), service.message()) {
                    (Some(c), Some(m)) => format!("{c}: {m}"),
                    (Some(c), None) => c.to_owned(),
                    _ => service.to_string(),
                };
            }
            return crate::util::chain(sdk);
        }
        source = s.source();
    }
    crate::util::chain(e)
}

/// Refresh this long before the credentials expire, so that no call of a long
/// run goes out with credentials about to lapse.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// One AssumeRole per account, shared by every client of that account
/// (each region's client would otherwise assume the role again).
#[derive(Debug, Clone)]
struct Refreshing {
    inner: Arc<aws_config::sts::AssumeRoleProvider>,
    cached: Arc<tokio::sync::Mutex<Option<Credentials>>>,
}

impl Refreshing {
    async fn fetch(&self) -> provider::Result {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let fresh = c
                .expiry()
                .is_none_or(|e| e > SystemTime::now() + REFRESH_MARGIN);
            if fresh {
                return Ok(c.clone());
            }
        }
        // The provider's own STS client is out of the interceptor's reach.
        crate::cloud::calls::record("sts:AssumeRole");
        let c = self.inner.provide_credentials().await?;
        *cached = Some(c.clone());
        Ok(c)
    }
}

impl ProvideCredentials for Refreshing {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.fetch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_carry_the_partition() {
        assert_eq!(
            role_arn("aws", "222222222222", "/ops/GuardSyncMember"),
            "arn:aws:iam::222222222222:role/ops/GuardSyncMember"
        );
        assert_eq!(
            role_arn(crate::cloud::partition("cn-north-1"), "222222222222", "R"),
            "arn:aws-cn:iam::222222222222:role/R"
        );
        assert_eq!(
            role_arn(
                crate::cloud::partition("us-gov-west-1"),
                "222222222222",
                "R"
            ),
            "arn:aws-us-gov:iam::222222222222:role/R"
        );
    }
}

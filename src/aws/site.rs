//! Where an adapter's calls go, and how an SDK error becomes an [`AwsError`]
//! that names the account, region and operation. Every adapter uses it.

use std::collections::BTreeMap;

use aws_sdk_guardduty::error::ProvideErrorMetadata;

use crate::cloud::{AwsError, partition};

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
            _ => crate::util::chain(err),
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

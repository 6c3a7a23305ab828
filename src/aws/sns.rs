//! SNS for the alerts: a topic, its policy and tags, its subscriptions.
//! Does I/O; SDK types stop here.

use std::collections::BTreeMap;

use aws_sdk_sns::Client;
use aws_sdk_sns::types::Tag;

use super::site::Site;
use crate::cloud::SnsApi;
use crate::cloud::{AwsError, Subscription, Topic};

/// The `SubscriptionArn` SNS lists for a subscription that waits for its
/// confirmation (<https://docs.aws.amazon.com/sns/latest/api/API_Subscription.html>).
pub(crate) const PENDING: &str = "PendingConfirmation";

/// SNS in one account and region.
pub struct Sns {
    client: Client,
    site: Site,
}

impl Sns {
    /// A client for `account` in `region`, from a configuration built by [`super::Aws::config_for`].
    pub fn new(conf: &aws_config::SdkConfig, account: &str) -> Self {
        Sns {
            client: Client::from_conf(
                aws_sdk_sns::config::Builder::from(conf)
                    .interceptor(super::calls::counter(Some(account)))
                    .build(),
            ),
            site: Site::of(conf, account),
        }
    }
}

impl SnsApi for Sns {
    /// The ARN of the topic `name` of this account and region (known before it exists).
    fn topic_arn(&self, name: &str) -> String {
        self.site.arn("sns", name)
    }

    /// The topic `arn` with its policy and tags, if it exists.
    async fn topic(&self, arn: &str) -> Result<Option<Topic>, AwsError> {
        let policy = match self
            .client
            .get_topic_attributes()
            .topic_arn(arn)
            .send()
            .await
        {
            Ok(out) => out.attributes().and_then(|a| a.get("Policy").cloned()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(self.site.err(&e, "GetTopicAttributes")),
        };
        let tags = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "ListTagsForResource"))?
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        Ok(Some(Topic {
            arn: arn.to_owned(),
            name: arn.rsplit(':').next().unwrap_or(arn).to_owned(),
            policy,
            tags,
        }))
    }

    /// The topic's access policy (JSON text), if it has one.
    async fn policy(&self, arn: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .get_topic_attributes()
            .topic_arn(arn)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "GetTopicAttributes"))?;
        Ok(out.attributes().and_then(|a| a.get("Policy").cloned()))
    }

    /// Every subscription of the topic.
    async fn subscriptions(&self, arn: &str) -> Result<Vec<Subscription>, AwsError> {
        let mut subs = Vec::new();
        let mut pages = self
            .client
            .list_subscriptions_by_topic()
            .topic_arn(arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.site.err(&e, "ListSubscriptionsByTopic"))?;
            subs.extend(page.subscriptions().iter().map(|s| {
                Subscription {
                    protocol: s.protocol().unwrap_or_default().to_owned(),
                    endpoint: s.endpoint().unwrap_or_default().to_owned(),
                    arn: s
                        .subscription_arn()
                        .filter(|a| *a != PENDING)
                        .map(str::to_owned),
                }
            }));
        }
        Ok(subs)
    }

    /// Create the topic `name` with `tags`; returns its ARN.
    async fn create_topic(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        let sdk_tags = self.site.tags("CreateTopic", tags, |k, v| {
            Tag::builder().key(k).value(v).build()
        })?;
        let out = self
            .client
            .create_topic()
            .name(name)
            .set_tags(Some(sdk_tags))
            .send()
            .await
            .map_err(|e| self.site.err(&e, "CreateTopic"))?;
        Ok(out
            .topic_arn()
            .map_or_else(|| self.topic_arn(name), str::to_owned))
    }

    /// Replace the topic's access policy.
    async fn set_policy(&self, arn: &str, policy: &str) -> Result<(), AwsError> {
        self.client
            .set_topic_attributes()
            .topic_arn(arn)
            .attribute_name("Policy")
            .attribute_value(policy)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "SetTopicAttributes"))?;
        Ok(())
    }

    /// Subscribe an e-mail address (SNS mails it a confirmation link).
    async fn subscribe_email(&self, arn: &str, email: &str) -> Result<(), AwsError> {
        self.client
            .subscribe()
            .topic_arn(arn)
            .protocol("email")
            .endpoint(email)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "Subscribe"))?;
        Ok(())
    }

    /// Delete a confirmed subscription.
    async fn unsubscribe(&self, subscription_arn: &str) -> Result<(), AwsError> {
        self.client
            .unsubscribe()
            .subscription_arn(subscription_arn)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "Unsubscribe"))?;
        Ok(())
    }

    /// Delete the topic.
    async fn delete_topic(&self, arn: &str) -> Result<(), AwsError> {
        self.client
            .delete_topic()
            .topic_arn(arn)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "DeleteTopic"))?;
        Ok(())
    }
}

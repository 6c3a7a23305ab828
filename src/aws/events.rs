//! EventBridge for the alerts: one rule on the default event bus, its tags
//! and its targets. Does I/O; SDK types stop here.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::{InputTransformer, RuleState, Tag, Target as SdkTarget};

use super::site::Site;
use crate::cloud::EventsApi;
use crate::cloud::{AwsError, NewRule, Rule, Target, Transformer};

/// EventBridge in one account and region.
pub struct EventBridge {
    client: Client,
    site: Site,
}

impl EventBridge {
    /// A client for `account` in `region`, from a configuration built by [`super::Aws::config_for`].
    pub fn new(conf: &aws_config::SdkConfig, account: &str) -> Self {
        EventBridge {
            client: Client::from_conf(
                aws_sdk_eventbridge::config::Builder::from(conf)
                    .interceptor(super::calls::counter(Some(account)))
                    .build(),
            ),
            site: Site::of(conf, account),
        }
    }

    /// Every target of a rule.
    async fn targets(&self, rule: &str) -> Result<Vec<Target>, AwsError> {
        // The SDK has no paginator for ListTargetsByRule: follow NextToken.
        let mut targets = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_targets_by_rule()
                .rule(rule)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.site.err(&e, "ListTargetsByRule"))?;
            targets.extend(page.targets().iter().map(|t| Target {
                id: t.id().to_owned(),
                arn: t.arn().to_owned(),
                transformer: t.input_transformer().map(|x| {
                    Transformer {
                        paths: x
                            .input_paths_map()
                            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default(),
                        template: x.input_template().to_owned(),
                    }
                }),
                other_input: t.input().is_some() || t.input_path().is_some(),
            }));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(targets),
            }
        }
    }

    /// The first failed entry of a batch answer (target id, code, message) as an error.
    fn entries(
        &self,
        operation: &'static str,
        failed: Option<(Option<&str>, Option<&str>, Option<&str>)>,
    ) -> Result<(), AwsError> {
        match failed {
            Some((id, code, message)) => Err(self.site.failed(
                operation,
                code,
                format!(
                    "target {}: {}",
                    id.unwrap_or_default(),
                    message.unwrap_or("failed")
                ),
            )),
            None => Ok(()),
        }
    }

    /// Whether `event` (JSON text) matches `pattern`, as EventBridge decides it.
    pub async fn test_event_pattern(&self, pattern: &str, event: &str) -> Result<bool, AwsError> {
        let out = self
            .client
            .test_event_pattern()
            .event_pattern(pattern)
            .event(event)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "TestEventPattern"))?;
        Ok(out.result())
    }
}

impl EventsApi for EventBridge {
    /// The ARN of a rule of the default bus (known before the rule exists).
    fn rule_arn(&self, name: &str) -> String {
        self.site.arn("events", &format!("rule/{name}"))
    }

    /// The rule `name` of the default bus with its tags and targets, if it exists.
    async fn rule(&self, name: &str) -> Result<Option<Rule>, AwsError> {
        let out = match self.client.describe_rule().name(name).send().await {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(self.site.err(&e, "DescribeRule")),
        };
        let arn = out.arn().map_or_else(|| self.rule_arn(name), str::to_owned);
        let tags = self
            .client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "ListTagsForResource"))?
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        Ok(Some(Rule {
            name: name.to_owned(),
            pattern: out.event_pattern().map(str::to_owned),
            state: out
                .state()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            description: out.description().map(str::to_owned),
            tags,
            targets: self.targets(name).await?,
            arn,
        }))
    }

    /// Create the rule, enabled, or update its pattern, description and state; returns its ARN.
    async fn put_rule(&self, rule: &NewRule<'_>) -> Result<String, AwsError> {
        let tags = self.site.tags("PutRule", rule.tags, |k, v| {
            Tag::builder().key(k).value(v).build()
        })?;
        let out = self
            .client
            .put_rule()
            .name(rule.name)
            .event_pattern(rule.pattern)
            .description(rule.description)
            .state(RuleState::Enabled)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| self.site.err(&e, "PutRule"))?;
        Ok(out
            .rule_arn()
            .map_or_else(|| self.rule_arn(rule.name), str::to_owned))
    }

    /// Put one target on a rule (a target with the same id is replaced).
    async fn put_target(&self, rule: &str, target: &Target) -> Result<(), AwsError> {
        let fail = |e: aws_smithy_types::error::operation::BuildError| {
            self.site.failed("PutTargets", None, e.to_string())
        };
        let mut b = SdkTarget::builder().id(&target.id).arn(&target.arn);
        if let Some(x) = &target.transformer {
            let transformer = InputTransformer::builder()
                .set_input_paths_map(Some(x.paths.clone().into_iter().collect()))
                .input_template(&x.template)
                .build()
                .map_err(fail)?;
            b = b.input_transformer(transformer);
        }
        let out = self
            .client
            .put_targets()
            .rule(rule)
            .targets(b.build().map_err(fail)?)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "PutTargets"))?;
        // PutTargets answers 200 and lists the targets it could not put.
        self.entries(
            "PutTargets",
            out.failed_entries()
                .first()
                .map(|f| (f.target_id(), f.error_code(), f.error_message())),
        )
    }

    /// Remove targets from a rule.
    async fn remove_targets(&self, rule: &str, ids: &[String]) -> Result<(), AwsError> {
        let out = self
            .client
            .remove_targets()
            .rule(rule)
            .set_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|e| self.site.err(&e, "RemoveTargets"))?;
        self.entries(
            "RemoveTargets",
            out.failed_entries()
                .first()
                .map(|f| (f.target_id(), f.error_code(), f.error_message())),
        )
    }

    /// Delete a rule (it must have no targets left).
    async fn delete_rule(&self, name: &str) -> Result<(), AwsError> {
        self.client
            .delete_rule()
            .name(name)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "DeleteRule"))?;
        Ok(())
    }
}

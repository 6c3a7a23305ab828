//! GuardDuty in one account and region: the administrator's view and the
//! view from inside an account (placement), the ThreatIntelSets, the
//! filters and the findings count of a managed target. Does I/O; SDK types
//! stop here.

use std::collections::BTreeMap;

use aws_sdk_guardduty::Client;

use super::site::Site;
use crate::cloud::GuardDutyApi;
use crate::cloud::{AwsError, Filter, FilterSpec, ListSet, NewSet, SetKind, SetStatus};
use crate::config::AccountId;
use crate::org::Probe;
use crate::org::placement::Members;

/// GuardDuty in one account and region.
pub struct GuardDuty {
    client: Client,
    site: Site,
}

impl GuardDuty {
    /// A client for `account` in `region`, from a configuration built by [`super::Aws::config_for`].
    pub fn new(conf: &aws_config::SdkConfig, account: &str) -> Self {
        GuardDuty {
            client: Client::from_conf(
                aws_sdk_guardduty::config::Builder::from(conf)
                    .interceptor(super::calls::counter(Some(account)))
                    .build(),
            ),
            site: Site::of(conf, account),
        }
    }

    /// The detector of this account and region, if GuardDuty is on
    /// (there is at most one per account per region).
    pub async fn detector(&self) -> Result<Option<String>, AwsError> {
        let mut pages = self.client.list_detectors().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.site.err(&e, "ListDetectors"))?;
            if let Some(id) = page.detector_ids().first() {
                return Ok(Some(id.clone()));
            }
        }
        Ok(None)
    }
}

fn to_sdk_criteria(
    criteria: &BTreeMap<String, crate::config::Condition>,
) -> aws_sdk_guardduty::types::FindingCriteria {
    use aws_sdk_guardduty::types::{Condition, FindingCriteria};
    let criterion = criteria
        .iter()
        .map(|(field, c)| {
            let cond = Condition::builder()
                .set_equals(c.equals.clone())
                .set_not_equals(c.not_equals.clone())
                .set_greater_than(c.greater_than)
                .set_greater_than_or_equal(c.greater_than_or_equal)
                .set_less_than(c.less_than)
                .set_less_than_or_equal(c.less_than_or_equal)
                .set_matches(c.matches.clone())
                .set_not_matches(c.not_matches.clone())
                .build();
            (field.clone(), cond)
        })
        .collect();
    FindingCriteria::builder()
        .set_criterion(Some(criterion))
        .build()
}

#[expect(
    deprecated,
    reason = "filters made by other tools may still use Eq/Gt/...; they are read into the current names, never written"
)]
fn from_sdk_condition(c: &aws_sdk_guardduty::types::Condition) -> crate::config::Condition {
    let list = |new: &[String], old: &[String]| {
        let v: Vec<String> = if new.is_empty() {
            old.to_vec()
        } else {
            new.to_vec()
        };
        (!v.is_empty()).then_some(v)
    };
    crate::config::Condition {
        equals: list(c.equals(), c.eq()),
        not_equals: list(c.not_equals(), c.neq()),
        greater_than: c.greater_than().or(c.gt().map(i64::from)),
        greater_than_or_equal: c.greater_than_or_equal().or(c.gte().map(i64::from)),
        less_than: c.less_than().or(c.lt().map(i64::from)),
        less_than_or_equal: c.less_than_or_equal().or(c.lte().map(i64::from)),
        matches: list(c.matches(), &[]),
        not_matches: list(c.not_matches(), &[]),
    }
}

impl GuardDutyApi for GuardDuty {
    /// The account's detector in this Region, if GuardDuty is on.
    async fn detector_id(&self) -> Result<Option<String>, AwsError> {
        self.detector().await
    }

    /// The members among `accounts` (at most 50) with their relationship
    /// status, associated or not; an account that is not a member comes
    /// back in `unprocessedAccounts` and is left out.
    async fn members(
        &self,
        detector_id: &str,
        accounts: &[AccountId],
    ) -> Result<Members, AwsError> {
        let out = self
            .client
            .get_members()
            .detector_id(detector_id)
            .set_account_ids(Some(
                accounts.iter().map(|a| a.as_str().to_owned()).collect(),
            ))
            .send()
            .await
            .map_err(|e| self.site.err(&e, "GetMembers"))?;
        Ok(out
            .members()
            .iter()
            .filter_map(|m| {
                let id = AccountId::parse(m.account_id().unwrap_or_default()).ok()?;
                Some((id, m.relationship_status().unwrap_or_default().into()))
            })
            .collect())
    }

    /// The view from inside the account: its detector and its administrator.
    async fn probe(&self) -> Result<Probe, AwsError> {
        let Some(detector_id) = self.detector().await? else {
            return Ok(Probe::Seen {
                detector_id: None,
                administrator: None,
            });
        };
        let out = self
            .client
            .get_administrator_account()
            .detector_id(&detector_id)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "GetAdministratorAccount"))?;
        let administrator = out.administrator().and_then(|a| {
            let id = AccountId::parse(a.account_id()?).ok()?;
            Some((id, a.relationship_status().unwrap_or_default().to_owned()))
        });
        Ok(Probe::Seen {
            detector_id: Some(detector_id),
            administrator,
        })
    }

    /// Every set of `kind` in the detector, with its details.
    async fn sets(&self, kind: SetKind, detector_id: &str) -> Result<Vec<ListSet>, AwsError> {
        let mut ids = Vec::new();
        match kind {
            SetKind::ThreatIntel => {
                let mut pages = self
                    .client
                    .list_threat_intel_sets()
                    .detector_id(detector_id)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| self.site.err(&e, "ListThreatIntelSets"))?;
                    ids.extend(page.threat_intel_set_ids().iter().cloned());
                }
            }
            SetKind::Ip => {
                let mut pages = self
                    .client
                    .list_ip_sets()
                    .detector_id(detector_id)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| self.site.err(&e, "ListIPSets"))?;
                    ids.extend(page.ip_set_ids().iter().cloned());
                }
            }
        }
        let mut sets = Vec::with_capacity(ids.len());
        for id in ids {
            sets.push(self.set(kind, detector_id, &id).await?);
        }
        Ok(sets)
    }

    /// How many threat entity lists the detector has (every page).
    async fn threat_entity_set_count(&self, detector_id: &str) -> Result<usize, AwsError> {
        let mut pages = self
            .client
            .list_threat_entity_sets()
            .detector_id(detector_id)
            .into_paginator()
            .send();
        let mut n = 0;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.site.err(&e, "ListThreatEntitySets"))?;
            n += page.threat_entity_set_ids().len();
        }
        Ok(n)
    }

    /// One set.
    async fn set(&self, kind: SetKind, detector_id: &str, id: &str) -> Result<ListSet, AwsError> {
        let tags = |t: Option<&std::collections::HashMap<String, String>>| {
            t.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        Ok(match kind {
            SetKind::ThreatIntel => {
                let out = self
                    .client
                    .get_threat_intel_set()
                    .detector_id(detector_id)
                    .threat_intel_set_id(id)
                    .send()
                    .await
                    .map_err(|e| self.site.err(&e, "GetThreatIntelSet"))?;
                ListSet {
                    id: id.to_owned(),
                    name: out.name().unwrap_or_default().to_owned(),
                    location: out.location().unwrap_or_default().to_owned(),
                    status: SetStatus::parse(out.status().map_or("", |s| s.as_str())),
                    tags: tags(out.tags()),
                }
            }
            SetKind::Ip => {
                let out = self
                    .client
                    .get_ip_set()
                    .detector_id(detector_id)
                    .ip_set_id(id)
                    .send()
                    .await
                    .map_err(|e| self.site.err(&e, "GetIPSet"))?;
                ListSet {
                    id: id.to_owned(),
                    name: out.name().unwrap_or_default().to_owned(),
                    location: out.location().unwrap_or_default().to_owned(),
                    status: SetStatus::parse(out.status().map_or("", |s| s.as_str())),
                    tags: tags(out.tags()),
                }
            }
        })
    }

    /// Create a TXT set and activate it; returns its id.
    async fn create_set(
        &self,
        kind: SetKind,
        detector_id: &str,
        set: &NewSet<'_>,
    ) -> Result<String, AwsError> {
        let tags = Some(set.tags.clone().into_iter().collect());
        Ok(match kind {
            SetKind::ThreatIntel => self
                .client
                .create_threat_intel_set()
                .detector_id(detector_id)
                .name(set.name)
                .format(aws_sdk_guardduty::types::ThreatIntelSetFormat::Txt)
                .location(set.location)
                .activate(true)
                .expected_bucket_owner(set.bucket_owner)
                .client_token(set.client_token)
                .set_tags(tags)
                .send()
                .await
                .map_err(|e| self.site.err(&e, "CreateThreatIntelSet"))?
                .threat_intel_set_id()
                .unwrap_or_default()
                .to_owned(),
            SetKind::Ip => self
                .client
                .create_ip_set()
                .detector_id(detector_id)
                .name(set.name)
                .format(aws_sdk_guardduty::types::IpSetFormat::Txt)
                .location(set.location)
                .activate(true)
                .expected_bucket_owner(set.bucket_owner)
                .client_token(set.client_token)
                .set_tags(tags)
                .send()
                .await
                .map_err(|e| self.site.err(&e, "CreateIPSet"))?
                .ip_set_id()
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// Point a set at `location` and activate it (GuardDuty reads the object again).
    async fn activate_set(
        &self,
        kind: SetKind,
        detector_id: &str,
        id: &str,
        location: &str,
        bucket_owner: &str,
    ) -> Result<(), AwsError> {
        match kind {
            SetKind::ThreatIntel => {
                self.client
                    .update_threat_intel_set()
                    .detector_id(detector_id)
                    .threat_intel_set_id(id)
                    .location(location)
                    .activate(true)
                    .expected_bucket_owner(bucket_owner)
                    .send()
                    .await
                    .map_err(|e| self.site.err(&e, "UpdateThreatIntelSet"))?;
            }
            SetKind::Ip => {
                self.client
                    .update_ip_set()
                    .detector_id(detector_id)
                    .ip_set_id(id)
                    .location(location)
                    .activate(true)
                    .expected_bucket_owner(bucket_owner)
                    .send()
                    .await
                    .map_err(|e| self.site.err(&e, "UpdateIPSet"))?;
            }
        }
        Ok(())
    }

    /// Put `tags` on the set (adds or overwrites those keys only).
    async fn tag_set(
        &self,
        kind: SetKind,
        detector_id: &str,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        self.client
            .tag_resource()
            .resource_arn(self.set_arn(kind, detector_id, id))
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| self.site.err(&e, "TagResource"))?;
        Ok(())
    }

    /// Delete a set.
    async fn delete_set(&self, kind: SetKind, detector_id: &str, id: &str) -> Result<(), AwsError> {
        match kind {
            SetKind::ThreatIntel => {
                self.client
                    .delete_threat_intel_set()
                    .detector_id(detector_id)
                    .threat_intel_set_id(id)
                    .send()
                    .await
                    .map_err(|e| self.site.err(&e, "DeleteThreatIntelSet"))?;
            }
            SetKind::Ip => {
                self.client
                    .delete_ip_set()
                    .detector_id(detector_id)
                    .ip_set_id(id)
                    .send()
                    .await
                    .map_err(|e| self.site.err(&e, "DeleteIPSet"))?;
            }
        }
        Ok(())
    }

    /// The ARN of a set (GuardDuty's Get calls do not return it).
    fn set_arn(&self, kind: SetKind, detector_id: &str, id: &str) -> String {
        let path = match kind {
            SetKind::ThreatIntel => "threatintelset",
            SetKind::Ip => "ipset",
        };
        self.site
            .arn("guardduty", &format!("detector/{detector_id}/{path}/{id}"))
    }

    /// The ARN of a filter.
    fn filter_arn(&self, detector_id: &str, name: &str) -> String {
        self.site.arn(
            "guardduty",
            &format!("detector/{detector_id}/filter/{name}"),
        )
    }

    /// Every filter of the detector, with its details.
    async fn filters(&self, detector_id: &str) -> Result<Vec<Filter>, AwsError> {
        let mut names = Vec::new();
        let mut pages = self
            .client
            .list_filters()
            .detector_id(detector_id)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.site.err(&e, "ListFilters"))?;
            names.extend(page.filter_names().iter().cloned());
        }
        let mut filters = Vec::with_capacity(names.len());
        for name in names {
            let out = self
                .client
                .get_filter()
                .detector_id(detector_id)
                .filter_name(&name)
                .send()
                .await
                .map_err(|e| self.site.err(&e, "GetFilter"))?;
            filters.push(Filter {
                name,
                description: out.description().unwrap_or_default().to_owned(),
                rank: out.rank().unwrap_or_default(),
                action: out
                    .action()
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
                criteria: out
                    .finding_criteria()
                    .and_then(|c| c.criterion())
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), from_sdk_condition(v)))
                            .collect()
                    })
                    .unwrap_or_default(),
                tags: out
                    .tags()
                    .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            });
        }
        Ok(filters)
    }

    /// Create an ARCHIVE filter with `tags`.
    async fn create_filter(
        &self,
        detector_id: &str,
        spec: &FilterSpec<'_>,
        tags: &BTreeMap<String, String>,
        client_token: &str,
    ) -> Result<(), AwsError> {
        self.client
            .create_filter()
            .detector_id(detector_id)
            .name(spec.name)
            .description(spec.description)
            .action(aws_sdk_guardduty::types::FilterAction::Archive)
            .set_rank(spec.rank)
            .finding_criteria(to_sdk_criteria(spec.criteria))
            .client_token(client_token)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| self.site.err(&e, "CreateFilter"))?;
        Ok(())
    }

    /// Put an existing filter to `spec`, action ARCHIVE.
    async fn update_filter(
        &self,
        detector_id: &str,
        spec: &FilterSpec<'_>,
    ) -> Result<(), AwsError> {
        self.client
            .update_filter()
            .detector_id(detector_id)
            .filter_name(spec.name)
            .description(spec.description)
            .action(aws_sdk_guardduty::types::FilterAction::Archive)
            .set_rank(spec.rank)
            .finding_criteria(to_sdk_criteria(spec.criteria))
            .send()
            .await
            .map_err(|e| self.site.err(&e, "UpdateFilter"))?;
        Ok(())
    }

    /// Delete a filter.
    async fn delete_filter(&self, detector_id: &str, name: &str) -> Result<(), AwsError> {
        self.client
            .delete_filter()
            .detector_id(detector_id)
            .filter_name(name)
            .send()
            .await
            .map_err(|e| self.site.err(&e, "DeleteFilter"))?;
        Ok(())
    }

    /// The ids of the findings of the detector that match `criteria` (all
    /// pages of ListFindings).
    async fn finding_ids(
        &self,
        detector_id: &str,
        criteria: &BTreeMap<String, crate::config::Condition>,
    ) -> Result<Vec<String>, AwsError> {
        let mut ids = Vec::new();
        let mut pages = self
            .client
            .list_findings()
            .detector_id(detector_id)
            .finding_criteria(to_sdk_criteria(criteria))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.site.err(&e, "ListFindings"))?;
            ids.extend(page.finding_ids().iter().cloned());
        }
        Ok(ids)
    }

    /// Archive these findings.
    async fn archive_findings(&self, detector_id: &str, ids: &[String]) -> Result<(), AwsError> {
        self.client
            .archive_findings()
            .detector_id(detector_id)
            .set_finding_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|e| self.site.err(&e, "ArchiveFindings"))?;
        Ok(())
    }
}

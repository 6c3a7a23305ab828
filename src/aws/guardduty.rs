//! GuardDuty reads for placement: the administrator's view of a region and
//! the view from inside an account.

use std::collections::BTreeMap;

use aws_sdk_guardduty::Client;

use super::{AwsError, Site};
use crate::config::AccountId;
use crate::org::{AdminView, Probe};

/// GuardDuty in one account and region.
pub struct GuardDuty {
    client: Client,
    site: Site,
}

impl GuardDuty {
    /// A client for `account` in `region`, from a configuration built by [`super::Aws::config_for`].
    pub fn new(conf: &aws_config::SdkConfig, account: &str) -> Self {
        GuardDuty {
            client: Client::new(conf),
            site: Site {
                account: account.to_owned(),
                region: conf.region().map(|r| r.to_string()).unwrap_or_default(),
            },
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

    /// The administrator's view: its detector and every member with its
    /// relationship status (associated or not).
    pub async fn admin_view(&self) -> Result<AdminView, AwsError> {
        let Some(detector_id) = self.detector().await? else {
            return Ok(AdminView::default());
        };
        let mut members = BTreeMap::new();
        let mut pages = self
            .client
            .list_members()
            .detector_id(&detector_id)
            .only_associated("false")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.site.err(&e, "ListMembers"))?;
            for m in page.members() {
                if let Ok(id) = AccountId::parse(m.account_id().unwrap_or_default()) {
                    members.insert(id, m.relationship_status().unwrap_or_default().to_owned());
                }
            }
        }
        Ok(AdminView {
            detector_id: Some(detector_id),
            members,
        })
    }

    /// The view from inside the account: its detector and its administrator.
    pub async fn probe(&self) -> Result<Probe, AwsError> {
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
}

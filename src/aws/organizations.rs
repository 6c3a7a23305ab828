//! AWS Organizations: the organization id, its accounts and OU membership.

use std::collections::BTreeSet;

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::ChildType;
use futures::StreamExt;

use super::base::Aws;
use super::site::Site;
use crate::cloud::AwsError;
use crate::cloud::OrganizationsApi;
use crate::config::{AccountId, OuId};
use crate::org::OrgAccount;

/// Organizations is a global service, served from us-east-1 in the aws partition.
const REGION: &str = "us-east-1";

/// Read-only access to the organization, as the administrator account.
pub struct Organizations {
    client: Client,
    site: Site,
}

impl Organizations {
    /// A client with the tool's own credentials; `caller` labels errors.
    pub fn new(aws: &Aws, caller: &str) -> Self {
        Organizations {
            client: Client::from_conf(
                aws_sdk_organizations::config::Builder::from(&aws.config_for(REGION, None))
                    .interceptor(super::calls::counter(Some(caller)))
                    .build(),
            ),
            site: Site {
                account: caller.to_owned(),
                region: REGION.to_owned(),
            },
        }
    }

    /// The organization id (`o-...`).
    pub async fn organization_id(&self) -> Result<String, AwsError> {
        let out = self
            .client
            .describe_organization()
            .send()
            .await
            .map_err(|e| self.site.err(&e, "DescribeOrganization"))?;
        Ok(out
            .organization()
            .and_then(|o| o.id())
            .unwrap_or_default()
            .to_owned())
    }

    /// The ids of `parent`'s children of one type, every page.
    async fn children(&self, parent: &str, kind: ChildType) -> Result<Vec<String>, AwsError> {
        let mut pages = self
            .client
            .list_children()
            .parent_id(parent)
            .child_type(kind)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.site.err(&e, "ListChildren"))?;
            out.extend(
                page.children()
                    .iter()
                    .filter_map(|c| c.id())
                    .map(str::to_owned),
            );
        }
        Ok(out)
    }
}

impl OrganizationsApi for Organizations {
    /// Every account, with its `State`, a page at a time as Organizations
    /// answers (at most 20 a page, in its order; an empty page is skipped).
    fn account_pages(
        self,
    ) -> impl futures::Stream<Item = Result<Vec<OrgAccount>, AwsError>> + Send {
        let pages = self.client.list_accounts().into_paginator().send();
        futures::stream::unfold((pages, self.site), |(mut pages, site)| async move {
            let page = pages.next().await?;
            let page = page.map_err(|e| site.err(&e, "ListAccounts")).map(|page| {
                page.accounts()
                    .iter()
                    .filter_map(|a| {
                        // `Status` is retired; `State` is the field to read (docs/AWS.md).
                        let (Some(id), Some(state)) = (a.id(), a.state()) else {
                            return None;
                        };
                        Some(OrgAccount {
                            id: AccountId::parse(id).ok()?,
                            name: a.name().unwrap_or_default().to_owned(),
                            state: state.as_str().to_owned(),
                            ous: Vec::new(),
                        })
                    })
                    .collect::<Vec<_>>()
            });
            Some((page, (pages, site)))
        })
        .filter(|p| std::future::ready(!matches!(p, Ok(v) if v.is_empty())))
    }

    /// Every account below `ou`, recursively.
    async fn accounts_under(&self, ou: &OuId) -> Result<BTreeSet<AccountId>, AwsError> {
        let mut out = BTreeSet::new();
        let mut stack = vec![ou.as_str().to_owned()];
        while let Some(parent) = stack.pop() {
            let accounts = self.children(&parent, ChildType::Account).await?;
            out.extend(accounts.iter().filter_map(|id| AccountId::parse(id).ok()));
            stack.extend(
                self.children(&parent, ChildType::OrganizationalUnit)
                    .await?,
            );
        }
        Ok(out)
    }
}

//! The Account API: which Regions are enabled in the administrator account
//! (`regions: enabled`). Does I/O.

use aws_sdk_account::Client;
use aws_sdk_account::types::RegionOptStatus;

use super::site::Site;
use crate::cloud::AwsError;

/// The Regions enabled in the calling account (opted in, or enabled by
/// default), as the Account API lists them.
pub(crate) async fn enabled_regions(
    conf: &aws_config::SdkConfig,
    account: &str,
) -> Result<Vec<String>, AwsError> {
    let site = Site::of(conf, account);
    let client = Client::from_conf(
        aws_sdk_account::config::Builder::from(conf)
            .interceptor(super::calls::counter(Some(account)))
            .build(),
    );
    let mut regions = Vec::new();
    let mut pages = client
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| site.err(&e, "ListRegions"))?;
        regions.extend(
            page.regions()
                .iter()
                .filter_map(|r| r.region_name().map(str::to_owned)),
        );
    }
    Ok(regions)
}

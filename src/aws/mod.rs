//! Thin adapters over the AWS SDK: SDK types stop here.
//!
//! [`Aws`] holds the one base `SdkConfig` (standard credential chain, explicit
//! retry and timeouts) from which every client is built; each adapter
//! implements a client trait of [`crate::cloud`] and turns SDK errors into
//! [`AwsError`]s naming the account, region and operation. Everything here
//! does I/O.

pub mod account;
mod base;
pub mod calls;
pub mod events;
pub mod guardduty;
pub mod organizations;
pub mod s3;
mod site;
pub mod sns;
pub mod sts;

pub use crate::cloud::AwsError;
pub use base::Aws;

use crate::cloud::AccountCredentials;
use crate::cloud::Cloud;
use events::EventBridge;
use guardduty::GuardDuty;
use organizations::Organizations;
use sns::Sns;

impl Cloud for Aws {
    type GuardDuty = GuardDuty;
    type Sns = Sns;
    type Events = EventBridge;
    type Organizations = Organizations;

    fn organizations(&self, caller: &str) -> Organizations {
        Organizations::new(self, caller)
    }

    async fn enabled_regions(&self, region: &str, account: &str) -> Result<Vec<String>, AwsError> {
        account::enabled_regions(&self.config_for(region, None), account).await
    }

    async fn assume(
        &self,
        account: &str,
        region: &str,
        role: &str,
        external_id: Option<&str>,
        session_name: &str,
    ) -> Result<AccountCredentials, AwsError> {
        sts::assume(self, account, region, role, external_id, session_name).await
    }

    fn guardduty(
        &self,
        region: &str,
        account: &str,
        credentials: Option<&AccountCredentials>,
    ) -> GuardDuty {
        GuardDuty::new(&self.config_for(region, credentials), account)
    }

    fn sns(&self, region: &str, account: &str) -> Sns {
        Sns::new(&self.config_for(region, None), account)
    }

    fn events(&self, region: &str, account: &str) -> EventBridge {
        EventBridge::new(&self.config_for(region, None), account)
    }
}

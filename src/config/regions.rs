//! The AWS Regions where GuardDuty is offered (pure data).
//!
//! Source: "Amazon GuardDuty endpoints and quotas" in the AWS General Reference
//! (<https://docs.aws.amazon.com/general/latest/gr/guardduty.html>). Opt-in
//! Regions are listed too: `regions: enabled` intersects this table with the
//! Regions enabled in the administrator account.

/// Every Region code with a GuardDuty endpoint, commercial partition first.
pub const GUARDDUTY_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// The opt-in Regions: launched since 20 March 2019 and off in an account
/// until it enables them ("Specify which AWS Regions your account can use",
/// AWS Account Management reference guide,
/// <https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html>).
/// STS refuses an account's credentials from such a Region's endpoint unless
/// the account enabled it (`RegionDisabledException`).
pub const OPT_IN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// Whether `name` is an opt-in Region (off until each account enables it).
pub(crate) fn is_opt_in(name: &str) -> bool {
    OPT_IN_REGIONS.contains(&name)
}

/// Each Region's place in the alphabetical order of the codes, at its
/// place in [`GUARDDUTY_REGIONS`]: Regions compare without comparing text.
pub(crate) const RANKS: [u8; GUARDDUTY_REGIONS.len()] = {
    let mut ranks = [0u8; GUARDDUTY_REGIONS.len()];
    let mut i = 0;
    while i < GUARDDUTY_REGIONS.len() {
        let mut j = 0;
        while j < GUARDDUTY_REGIONS.len() {
            if text_before(
                GUARDDUTY_REGIONS[j].as_bytes(),
                GUARDDUTY_REGIONS[i].as_bytes(),
            ) {
                ranks[i] += 1;
            }
            j += 1;
        }
        i += 1;
    }
    ranks
};

/// Whether `a` comes before `b` in byte order (a `const` comparison).
const fn text_before(a: &[u8], b: &[u8]) -> bool {
    let mut k = 0;
    while k < a.len() && k < b.len() {
        if a[k] != b[k] {
            return a[k] < b[k];
        }
        k += 1;
    }
    a.len() < b.len()
}

/// The place of `name` in [`GUARDDUTY_REGIONS`], if GuardDuty is offered there.
pub(crate) fn guardduty_region(name: &str) -> Option<usize> {
    GUARDDUTY_REGIONS.iter().position(|r| *r == name)
}

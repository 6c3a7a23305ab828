//! Placement: where one (account, region) stands with GuardDuty, decided from
//! the administrator's view and, where needed, a probe from inside the account
//! (the placement table of the README). Pure.

use std::fmt;

use crate::config::{AccountId, Region};

/// GuardDuty's relationship status for an associated member
/// (GetMembers `RelationshipStatus`).
pub const ENABLED: &str = "Enabled";

/// What the administrator sees of one account in one region: whether it
/// has a detector there, and the account's relationship with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdminView<'a> {
    /// The administrator's detector id in this region, if GuardDuty is on.
    pub detector_id: Option<&'a str>,
    /// The account's relationship status, if it is a member of that
    /// detector (associated or not), as GetMembers reports it.
    pub relationship: Option<&'a str>,
}

/// Members by account, with their relationship status (a GetMembers answer).
pub type Members = std::collections::HashMap<AccountId, Relationship, AccountHash>;

/// A quick hash for maps keyed by account id (12 digits, nothing to
/// defend against: they come from the organization).
pub type AccountHash = std::hash::BuildHasherDefault<AccountHasher>;

/// See [`AccountHash`]: FxHash's multiply-rotate, eight bytes at a time.
#[derive(Debug, Default, Clone, Copy)]
pub struct AccountHasher(u64);

impl AccountHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for AccountHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            self.add(u64::from_le_bytes(word));
        }
        let mut last = [0u8; 8];
        let rest = words.remainder();
        if !rest.is_empty() {
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A member's relationship status, as GetMembers reports it. The statuses
/// GuardDuty documents take no allocation, and discovery keeps each in a
/// byte ([`Relationship::code`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship(std::borrow::Cow<'static, str>);

/// The relationship statuses of the GuardDuty API reference (Member).
const STATUSES: &[&str] = &[
    ENABLED,
    REGION_DISABLED,
    "Created",
    "Invited",
    "Disabled",
    "Removed",
    "Resigned",
    "EmailVerificationInProgress",
    "EmailVerificationFailed",
    "AccountSuspended",
];

impl Relationship {
    /// The status as GetMembers spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Relationship {
    fn from(status: &str) -> Self {
        Relationship(match STATUSES.iter().find(|s| **s == status) {
            Some(known) => std::borrow::Cow::Borrowed(known),
            None => std::borrow::Cow::Owned(status.to_owned()),
        })
    }
}

impl Relationship {
    /// The status in one byte: its place among the statuses GuardDuty
    /// documents, plus one (0 is left for "not a member"); `None` for a
    /// status not among them.
    pub(crate) fn code(&self) -> Option<u8> {
        STATUSES
            .iter()
            .position(|s| *s == self.as_str())
            .and_then(|i| u8::try_from(i + 1).ok())
    }

    /// The status a [`Relationship::code`] stands for; `None` for 0 (not a
    /// member) or a code no status has.
    pub(crate) fn of_code(code: u8) -> Option<&'static str> {
        STATUSES.get(usize::from(code).checked_sub(1)?).copied()
    }
}

/// The relationship status of a member that has not enabled an opt-in
/// Region (GuardDuty API reference, Member).
pub const REGION_DISABLED: &str = "RegionDisabled";

/// What guardsync saw from inside an account in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Not looked at: the administrator's view was enough (`probe: needed`).
    NotProbed,
    /// The role could not be assumed or the calls failed; the reason says which.
    Failed(String),
    /// The account's calls in this opt-in Region were refused: it has not
    /// enabled the Region.
    RegionDisabled,
    /// The account's own view.
    Seen {
        /// Its detector id, if GuardDuty is on.
        detector_id: Option<String>,
        /// Its administrator and relationship status (GetAdministratorAccount).
        administrator: Option<(AccountId, String)>,
    },
}

/// Where a target stands (the placement table of the README); the `Unknown` case carries why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// The configured administrator: manages the list, rules and alerts.
    Admin,
    /// Associated member: covered by the administrator's list and rules.
    Member,
    /// Has a detector, not associated: needs its own list and rules; why it
    /// is not an associated member, in words.
    Standalone(String),
    /// GuardDuty is off here: a coverage gap.
    NoDetector,
    /// Associated with another administrator: a coverage gap.
    OtherAdmin(AccountId),
    /// Excluded by configuration.
    Excluded,
    /// The account has not enabled this opt-in Region: nothing can run here.
    RegionDisabled,
    /// Could not be classified: the target fails with this reason.
    Unknown(String),
}

impl Placement {
    /// The placement without its detail, as the report names it.
    pub fn kind(&self) -> PlacementKind {
        match self {
            Placement::Admin => PlacementKind::Admin,
            Placement::Member => PlacementKind::Member,
            Placement::Standalone(_) => PlacementKind::Standalone,
            Placement::NoDetector => PlacementKind::NoDetector,
            Placement::OtherAdmin(_) => PlacementKind::OtherAdmin,
            Placement::Excluded => PlacementKind::Excluded,
            Placement::RegionDisabled => PlacementKind::RegionDisabled,
            Placement::Unknown(_) => PlacementKind::Unknown,
        }
    }

    /// The name used in the JSON report.
    pub fn as_str(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Whether guardsync writes anything in this target.
    pub(crate) fn is_managed(&self) -> bool {
        matches!(self, Placement::Admin | Placement::Standalone(_))
    }
}

/// A placement without its detail (the other administrator, the reason it
/// is unknown): what the report carries until a renderer writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementKind {
    /// See [`Placement::Admin`].
    Admin,
    /// See [`Placement::Member`].
    Member,
    /// See [`Placement::Standalone`].
    Standalone,
    /// See [`Placement::NoDetector`].
    NoDetector,
    /// See [`Placement::OtherAdmin`].
    OtherAdmin,
    /// See [`Placement::Excluded`].
    Excluded,
    /// See [`Placement::RegionDisabled`].
    RegionDisabled,
    /// See [`Placement::Unknown`].
    Unknown,
}

impl PlacementKind {
    /// The name used in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementKind::Admin => "admin",
            PlacementKind::Member => "member",
            PlacementKind::Standalone => "standalone",
            PlacementKind::NoDetector => "no_detector",
            PlacementKind::OtherAdmin => "other_admin",
            PlacementKind::Excluded => "excluded",
            PlacementKind::RegionDisabled => "region_disabled",
            PlacementKind::Unknown => "unknown",
        }
    }

    /// Whether GuardDuty findings here go unwatched by guardsync's list
    /// (the report's `coverage_gaps`).
    pub(crate) fn is_coverage_gap(self) -> bool {
        matches!(self, PlacementKind::NoDetector | PlacementKind::OtherAdmin)
    }
}

impl fmt::Display for PlacementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `account` needs its role assumed under `probe: needed`: it is not
/// the administrator, not excluded, and not an associated member in every
/// region in scope (`views`: the administrator's view of it in each region
/// whose view could be read). One role serves every region of the account.
pub fn needs_role<'a>(
    account: &AccountId,
    admin: &AccountId,
    excluded: bool,
    views: impl IntoIterator<Item = AdminView<'a>>,
) -> bool {
    account != admin
        && !excluded
        && views
            .into_iter()
            .any(|v| !matches!(v.relationship, Some(ENABLED | REGION_DISABLED)))
}

/// Place one target.
pub fn place(
    account: &AccountId,
    region: &Region,
    admin: &AccountId,
    excluded: bool,
    view: AdminView<'_>,
    probe: &Probe,
) -> Placement {
    if excluded {
        return Placement::Excluded;
    }
    if view.detector_id.is_none() {
        return Placement::Unknown(format!(
            "the administrator account {admin} has no GuardDuty detector in {region}"
        ));
    }
    if account == admin {
        return Placement::Admin;
    }
    let status = view.relationship;
    if status == Some(REGION_DISABLED) || *probe == Probe::RegionDisabled {
        return Placement::RegionDisabled;
    }
    let enabled_member = status == Some(ENABLED);
    match probe {
        // The administrator's view is authoritative for its associated members.
        Probe::NotProbed if enabled_member => Placement::Member,
        Probe::NotProbed => Placement::Unknown(format!(
            "account {account} is not an associated member in {region} and was not probed"
        )),
        Probe::Failed(reason) => Placement::Unknown(reason.clone()),
        Probe::RegionDisabled => Placement::RegionDisabled,
        Probe::Seen {
            detector_id: None, ..
        } => Placement::NoDetector,
        Probe::Seen {
            administrator: Some((other, status)),
            ..
        } if status == ENABLED && other != admin => Placement::OtherAdmin(other.clone()),
        // Seen from inside as associated with us: the member's view confirms it.
        Probe::Seen {
            administrator: Some((ours, status)),
            ..
        } if status == ENABLED && ours == admin && enabled_member => Placement::Member,
        Probe::Seen { .. } if enabled_member => Placement::Member,
        Probe::Seen { administrator, .. } => {
            Placement::Standalone(why_standalone(status, administrator.as_ref(), admin))
        }
    }
}

/// Why an account with a detector is not an associated member, in words:
/// what the administrator's member list says, and what the account itself
/// says when it names another administrator.
fn why_standalone(
    status: Option<&str>,
    own_view: Option<&(AccountId, String)>,
    admin: &AccountId,
) -> String {
    let ours = match status {
        None => format!("not a member of the administrator {admin}"),
        Some("Removed") => "its membership was removed (relationship Removed)".to_owned(),
        Some("Resigned") => "it left the administrator (relationship Resigned)".to_owned(),
        Some("Disabled") => "its membership is disabled (relationship Disabled)".to_owned(),
        Some("Invited") => "invited, the invitation not accepted (relationship Invited)".to_owned(),
        Some("Created") => "added as a member, never invited (relationship Created)".to_owned(),
        Some(other) => format!("relationship {other}, not Enabled"),
    };
    match own_view {
        Some((other, status)) if other != admin => {
            format!("{ours}; the account names {other} as its administrator ({status})")
        }
        _ => ours,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn id(s: &str) -> AccountId {
        AccountId::parse(s).expect("an account id")
    }

    const ADMIN: &str = "111111111111";
    const ACCT: &str = "222222222222";

    fn view(detector: bool, member: Option<&'static str>) -> AdminView<'static> {
        AdminView {
            detector_id: detector.then_some("d-admin"),
            relationship: member,
        }
    }

    fn seen(detector: bool, admin: Option<(&str, &str)>) -> Probe {
        Probe::Seen {
            detector_id: detector.then(|| "d-own".to_owned()),
            administrator: admin.map(|(a, s)| (id(a), s.to_owned())),
        }
    }

    #[test_case(ADMIN, false, view(true, None), Probe::NotProbed, "admin"; "the administrator")]
    #[test_case(ACCT, false, view(true, Some("Enabled")), Probe::NotProbed, "member"; "enabled member, not probed")]
    #[test_case(ACCT, true, view(true, Some("Enabled")), Probe::NotProbed, "excluded"; "excluded wins")]
    #[test_case(ACCT, false, view(true, None), seen(true, None), "standalone"; "detector, no administrator")]
    #[test_case(ACCT, false, view(true, Some("Removed")), seen(true, Some((ADMIN, "Removed"))), "standalone"; "disassociated member")]
    #[test_case(ACCT, false, view(true, Some("Invited")), seen(true, Some((ADMIN, "Invited"))), "standalone"; "invited, not accepted")]
    #[test_case(ACCT, false, view(true, None), seen(false, None), "no_detector"; "guardduty off")]
    #[test_case(ACCT, false, view(true, None), seen(true, Some(("444444444444", "Enabled"))), "other_admin"; "another administrator")]
    #[test_case(ACCT, false, view(true, None), seen(true, Some(("444444444444", "Removed"))), "standalone"; "left another administrator")]
    #[test_case(ACCT, false, view(true, Some("Enabled")), seen(false, None), "no_detector"; "probe all sees drift: detector gone")]
    #[test_case(ACCT, false, view(true, Some("Enabled")), seen(true, Some((ADMIN, "Enabled"))), "member"; "probe all confirms member")]
    #[test_case(ACCT, false, view(true, None), Probe::Failed("failed to assume arn:aws:iam::222222222222:role/R".into()), "unknown"; "role cannot be assumed")]
    #[test_case(ACCT, false, view(false, Some("Enabled")), Probe::NotProbed, "unknown"; "administrator has no detector")]
    #[test_case(ADMIN, false, view(false, None), Probe::NotProbed, "unknown"; "administrator target without detector")]
    #[test_case(ACCT, false, view(true, None), Probe::NotProbed, "unknown"; "non-member not probed is a bug, not a guess")]
    #[test_case(ACCT, false, view(true, Some("RegionDisabled")), Probe::NotProbed, "region_disabled"; "the administrator sees the region disabled")]
    #[test_case(ACCT, false, view(true, None), Probe::RegionDisabled, "region_disabled"; "the account's own calls are refused there")]
    #[test_case(ACCT, true, view(true, Some("RegionDisabled")), Probe::NotProbed, "excluded"; "excluded wins over region disabled")]
    fn placements(account: &str, excluded: bool, view: AdminView, probe: Probe, want: &str) {
        let region = Region::parse("us-east-1").expect("a Region");
        let got = place(&id(account), &region, &id(ADMIN), excluded, view, &probe);
        assert_eq!(got.as_str(), want, "{got:?}");
    }

    #[test]
    fn unknown_placements_say_why() {
        let region = Region::parse("eu-west-1").expect("a Region");
        let got = place(
            &id(ACCT),
            &region,
            &id(ADMIN),
            false,
            view(false, None),
            &Probe::NotProbed,
        );
        assert_eq!(
            got,
            Placement::Unknown(
                "the administrator account 111111111111 has no GuardDuty detector in eu-west-1"
                    .into()
            )
        );
    }

    #[test]
    fn a_status_kept_in_a_byte_reads_back_the_same() {
        for status in STATUSES {
            let code = Relationship::from(*status)
                .code()
                .expect("a documented status");
            assert_ne!(code, 0, "0 is for accounts that are not members");
            assert_eq!(Relationship::of_code(code), Some(*status));
        }
        assert_eq!(Relationship::from("SomethingNew").code(), None);
        assert_eq!(Relationship::of_code(0), None);
        assert_eq!(Relationship::of_code(u8::MAX), None);
    }

    #[test]
    fn a_role_is_needed_only_outside_full_membership() {
        let member = view(true, Some("Enabled"));
        let not_member = view(true, None);
        assert!(!needs_role(&id(ACCT), &id(ADMIN), false, [member, member]));
        assert!(needs_role(
            &id(ACCT),
            &id(ADMIN),
            false,
            [member, not_member]
        ));
        assert!(!needs_role(&id(ADMIN), &id(ADMIN), false, [not_member]));
        assert!(!needs_role(&id(ACCT), &id(ADMIN), true, [not_member]));
    }
}

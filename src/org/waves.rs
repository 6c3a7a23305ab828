//! Staged rollout: which wave each target belongs to, and when a wave's
//! failures stop the rollout (`rollout` in config/example.yaml). Pure.
//!
//! Waves run one after the other, like a StackSet's Region order: a canary
//! wave that fails stops a bad list before it reaches the rest of the
//! organization.

use std::fmt;

use crate::config::{AccountId, Region, Rollout, Tolerance, Wave};

/// The wave (from 1) of the target (`account`, `region`). Without `rollout`
/// everything is wave 1. A target that no wave selects, when the last wave
/// is not `rest`, falls into an implicit last wave, so none is ever left out.
pub(crate) fn wave_of(rollout: Option<&Rollout>, account: &AccountId, region: &Region) -> u32 {
    let Some(r) = rollout else { return 1 };
    let number = |i: usize| u32::try_from(i + 1).unwrap_or(u32::MAX);
    for (i, w) in r.waves.iter().enumerate() {
        let hit = match w {
            Wave::Rest => true,
            Wave::Select { regions, accounts } => {
                (regions.is_empty() || regions.contains(region))
                    && (accounts.is_empty() || accounts.contains(account))
            }
        };
        if hit {
            return number(i);
        }
    }
    number(r.waves.len())
}

/// What wave `number` selects, in a few words for the plan.
pub(crate) fn describe(rollout: Option<&Rollout>, number: u32) -> String {
    let Some(r) = rollout else {
        return "every target".to_owned();
    };
    let idx = usize::try_from(number)
        .unwrap_or(usize::MAX)
        .saturating_sub(1);
    match r.waves.get(idx) {
        Some(Wave::Rest) => "rest".to_owned(),
        Some(Wave::Select { regions, accounts }) => {
            let mut parts = Vec::new();
            if !regions.is_empty() {
                let r: Vec<&str> = regions.iter().map(Region::as_str).collect();
                parts.push(format!("regions {}", r.join(", ")));
            }
            if !accounts.is_empty() {
                let a: Vec<&str> = accounts.iter().map(AccountId::as_str).collect();
                parts.push(format!("accounts {}", a.join(", ")));
            }
            parts.join("; ")
        }
        None => "rest (targets no wave selects)".to_owned(),
    }
}

/// Whether `failed` failures among `total` targets exceed the tolerance.
pub(crate) fn exceeds(tolerance: Tolerance, failed: usize, total: usize) -> bool {
    match tolerance {
        Tolerance::Count(n) => failed > usize::try_from(n).unwrap_or(usize::MAX),
        // "10%" of 7 targets allows 0.7 failures: none.
        Tolerance::Percent(p) => failed.saturating_mul(100) > usize::from(p).saturating_mul(total),
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tolerance::Count(n) => write!(f, "{n}"),
            Tolerance::Percent(p) => write!(f, "{p}%"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn acct(s: &str) -> AccountId {
        AccountId::parse(s).expect("account")
    }

    fn region(s: &str) -> Region {
        Region::parse(s).expect("region")
    }

    fn rollout(waves: Vec<Wave>) -> Rollout {
        Rollout {
            waves,
            failure_tolerance: Tolerance::Count(0),
        }
    }

    fn select(regions: &[&str], accounts: &[&str]) -> Wave {
        Wave::Select {
            regions: regions.iter().map(|r| region(r)).collect(),
            accounts: accounts.iter().map(|a| acct(a)).collect(),
        }
    }

    #[test]
    fn without_rollout_everything_is_wave_one() {
        assert_eq!(
            wave_of(None, &acct("111111111111"), &region("eu-west-1")),
            1
        );
        assert_eq!(describe(None, 1), "every target");
    }

    #[test]
    fn first_matching_wave_wins_and_rest_takes_the_others() {
        let r = rollout(vec![
            select(&["us-east-1"], &[]),
            select(&[], &["222222222222"]),
            select(&["eu-west-1"], &["333333333333"]),
            Wave::Rest,
        ]);
        let w = |a: &str, g: &str| wave_of(Some(&r), &acct(a), &region(g));
        assert_eq!(w("222222222222", "us-east-1"), 1);
        assert_eq!(w("222222222222", "eu-west-1"), 2);
        assert_eq!(w("333333333333", "eu-west-1"), 3);
        assert_eq!(w("333333333333", "ap-southeast-2"), 4);
        assert_eq!(
            describe(Some(&r), 3),
            "regions eu-west-1; accounts 333333333333"
        );
        assert_eq!(describe(Some(&r), 4), "rest");
    }

    #[test]
    fn targets_no_wave_selects_fall_into_an_implicit_last_wave() {
        let r = rollout(vec![select(&["us-east-1"], &[])]);
        assert_eq!(
            wave_of(Some(&r), &acct("222222222222"), &region("eu-west-1")),
            2
        );
        assert_eq!(describe(Some(&r), 2), "rest (targets no wave selects)");
    }

    #[test_case(Tolerance::Count(0), 0, 5 => false)]
    #[test_case(Tolerance::Count(0), 1, 5 => true)]
    #[test_case(Tolerance::Count(1), 1, 5 => false)]
    #[test_case(Tolerance::Count(1), 2, 5 => true)]
    #[test_case(Tolerance::Percent(10), 0, 7 => false)]
    #[test_case(Tolerance::Percent(10), 1, 7 => true ; "10 percent of 7 allows none")]
    #[test_case(Tolerance::Percent(10), 1, 10 => false)]
    #[test_case(Tolerance::Percent(10), 2, 10 => true)]
    #[test_case(Tolerance::Percent(100), 10, 10 => false)]
    fn tolerance(t: Tolerance, failed: usize, total: usize) -> bool {
        exceeds(t, failed, total)
    }
}

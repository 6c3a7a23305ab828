//! The configuration exactly as written in YAML (serde shapes, no meaning yet).
//!
//! Every struct denies unknown fields; leaves that can be wrong in value carry
//! their source location (`Spanned`) so that validation can name the line.
//! No `untagged` or `flatten`: they ruin error messages (STYLE.md).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

pub(crate) type S<T> = Spanned<T>;

/// The top-level document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub admin: S<RawAdmin>,
    #[serde(default)]
    pub organization: Option<S<RawOrganization>>,
    pub regions: S<RawRegions>,
    #[serde(default)]
    pub concurrency: Option<S<i64>>,
    #[serde(default)]
    pub retry: Option<S<RawRetry>>,
    #[serde(default)]
    pub feeds: Option<S<Vec<S<RawFeed>>>>,
    #[serde(default)]
    pub threat_list: Option<S<RawThreatList>>,
    #[serde(default)]
    pub threat_lists: Option<S<Vec<S<RawListEntry>>>>,
    #[serde(default)]
    pub trusted_list: Option<S<RawTrustedList>>,
    pub bucket: S<RawBucket>,
    #[serde(default)]
    pub suppression_rules: Option<S<Vec<S<RawRule>>>>,
    #[serde(default)]
    pub alerts: Option<S<RawAlerts>>,
    #[serde(default)]
    pub rollout: Option<S<RawRollout>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    pub account_id: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrganization {
    #[serde(default)]
    pub member_role: Option<S<String>>,
    #[serde(default)]
    pub external_id: Option<S<String>>,
    #[serde(default)]
    pub session_name: Option<S<String>>,
    #[serde(default)]
    pub include_accounts: Option<Vec<S<String>>>,
    #[serde(default)]
    pub exclude_accounts: Option<Vec<S<String>>>,
    #[serde(default)]
    pub include_ous: Option<Vec<S<String>>>,
    #[serde(default)]
    pub probe: Option<S<String>>,
}

/// `regions`: the word `enabled` or a list of names.
#[derive(Debug)]
pub(crate) enum RawRegions {
    Word(String),
    List(Vec<S<String>>),
}

impl<'de> Deserialize<'de> for RawRegions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawRegions;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of region names or the word `enabled`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawRegions, E> {
                Ok(RawRegions::Word(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawRegions, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<S<String>>()? {
                    out.push(item);
                }
                Ok(RawRegions::List(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetry {
    #[serde(default)]
    pub max_attempts: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFeed {
    pub name: S<String>,
    pub url: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawThreatList {
    #[serde(default)]
    pub name: Option<S<String>>,
    #[serde(default)]
    pub strip_reserved: Option<S<bool>>,
    #[serde(default)]
    pub allowlist: Option<Vec<S<String>>>,
    #[serde(default)]
    pub min_entries: Option<S<i64>>,
    /// `Some(None)` is an explicit `null`: the guard is off.
    #[serde(default, deserialize_with = "explicit_null")]
    pub max_shrink_percent: Option<Option<S<i64>>>,
    #[serde(default, deserialize_with = "explicit_null")]
    pub max_age_hours: Option<Option<S<i64>>>,
    #[serde(default)]
    pub settle_seconds: Option<S<i64>>,
}

/// One entry of `threat_lists`: `threat_list`'s keys, with `name` and
/// `feeds` required (no `flatten`: it ruins error messages).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawListEntry {
    pub name: S<String>,
    pub feeds: S<Vec<S<String>>>,
    #[serde(default)]
    pub strip_reserved: Option<S<bool>>,
    #[serde(default)]
    pub allowlist: Option<Vec<S<String>>>,
    #[serde(default)]
    pub min_entries: Option<S<i64>>,
    #[serde(default, deserialize_with = "explicit_null")]
    pub max_shrink_percent: Option<Option<S<i64>>>,
    #[serde(default, deserialize_with = "explicit_null")]
    pub max_age_hours: Option<Option<S<i64>>>,
    #[serde(default)]
    pub settle_seconds: Option<S<i64>>,
}

/// `trusted_list`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrustedList {
    pub name: S<String>,
    pub cidrs: S<Vec<S<String>>>,
}

/// Tells a missing key (`None`) from an explicit `null` (`Some(None)`).
fn explicit_null<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBucket {
    pub name: S<String>,
    pub region: S<String>,
    #[serde(default)]
    pub prefix: Option<S<String>>,
    #[serde(default)]
    pub manage_policy: Option<S<bool>>,
    #[serde(default)]
    pub keep_reports: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub name: S<String>,
    #[serde(default)]
    pub description: Option<S<String>>,
    pub rank: S<i64>,
    #[serde(default)]
    pub archive_existing: Option<S<bool>>,
    pub criteria: S<BTreeMap<String, S<RawCondition>>>,
}

/// One criterion: the operators of config/example.yaml (GuardDuty's `Condition`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCondition {
    #[serde(default)]
    pub equals: Option<S<Vec<S<String>>>>,
    #[serde(default)]
    pub not_equals: Option<S<Vec<S<String>>>>,
    #[serde(default)]
    pub greater_than: Option<S<i64>>,
    #[serde(default)]
    pub greater_than_or_equal: Option<S<i64>>,
    #[serde(default)]
    pub less_than: Option<S<i64>>,
    #[serde(default)]
    pub less_than_or_equal: Option<S<i64>>,
    #[serde(default)]
    pub matches: Option<S<Vec<S<String>>>>,
    #[serde(default)]
    pub not_matches: Option<S<Vec<S<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerts {
    pub min_severity: S<f64>,
    #[serde(default)]
    pub topic_name: Option<S<String>>,
    #[serde(default)]
    pub emails: Option<Vec<S<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRollout {
    pub waves: S<Vec<S<RawWave>>>,
    #[serde(default)]
    pub failure_tolerance: Option<S<RawTolerance>>,
}

/// A wave: a selector mapping, or the word `rest`.
#[derive(Debug)]
pub(crate) enum RawWave {
    Word(String),
    Selector(RawWaveSelector),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWaveSelector {
    #[serde(default)]
    pub regions: Option<Vec<S<String>>>,
    #[serde(default)]
    pub accounts: Option<Vec<S<String>>>,
}

impl<'de> Deserialize<'de> for RawWave {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawWave;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping with `regions` and/or `accounts`, or the word `rest`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawWave, E> {
                Ok(RawWave::Word(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawWave, A::Error> {
                RawWaveSelector::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawWave::Selector)
            }
        }
        d.deserialize_any(V)
    }
}

/// `failure_tolerance`: a count or a percentage string such as `"10%"`.
#[derive(Debug)]
pub(crate) enum RawTolerance {
    Count(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawTolerance {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawTolerance;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a count such as 2 or a percentage such as \"10%\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawTolerance, E> {
                Ok(RawTolerance::Count(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawTolerance, E> {
                Ok(RawTolerance::Count(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawTolerance, E> {
                Ok(RawTolerance::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

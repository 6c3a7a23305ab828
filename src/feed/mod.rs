//! FireHOL feeds in, one aggregated IPv4 list out.
//!
//! The pipeline, one file per step:
//!
//! - [`fetch`]: download each feed (`https`, `http`, `file`), capped, retried,
//!   conditional. The only I/O of the build.
//! - [`parse`]: read a list into IPv4 ranges, rejects with line numbers, and
//!   the FireHOL header dates (pure).
//! - [`hygiene`]: subtract the reserved table and the allowlist (pure).
//! - [`aggregate`]: the interval algebra, the optimal CIDR split and the
//!   iprange-identical rendering (pure).
//! - [`guards`]: refuse a broken feed or a suspicious list before anything is
//!   published (pure).
//! - [`split`]: cut a list over GuardDuty's quotas into parts (pure).
//! - [`commands`]: `guardsync list build` and `guardsync list merge`.
//!
//! [`build`] is the async edge (it fetches); [`assemble`] makes every
//! decision from bytes already fetched, so it can be tested without a network.

pub mod aggregate;
pub mod commands;
pub mod fetch;
pub mod guards;
pub mod hygiene;
pub mod parse;
pub mod split;

use std::time::{SystemTime, UNIX_EPOCH};

use futures::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use url::Url;

use self::aggregate::IpSet;
use self::fetch::{FetchFailure, FetchOptions, Fetched, Fetcher, Validators};
use self::guards::{Age, Tripped, Unusable};
use self::parse::{Reject, parse_bytes};

/// How many feeds are downloaded at once.
const FETCH_CONCURRENCY: usize = 4;

/// Why a list could not be built or merged.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// An input file could not be read.
    #[error("failed to read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An output file named on the command line could not be written.
    #[error("failed to write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Standard output could not be written.
    #[error("failed to write to standard output: {0}")]
    Stdout(#[source] std::io::Error),
    /// A feed could not be downloaded or read.
    #[error(
        "failed to fetch feed {feed} ({url}): {source}; the last published list stays in force"
    )]
    Fetch {
        /// The feed name.
        feed: String,
        /// The feed URL.
        url: String,
        /// What went wrong.
        #[source]
        source: FetchFailure,
    },
    /// A feed was fetched but is not fit to use.
    #[error("failed to use feed {feed} ({url}): {source}; the last published list stays in force")]
    Unusable {
        /// The feed name.
        feed: String,
        /// The feed URL.
        url: String,
        /// What is wrong with it.
        #[source]
        source: Unusable,
    },
    /// The HTTP client could not be set up (TLS roots, proxy settings).
    #[error("failed to set up the HTTP client for the feeds: {source}")]
    Client {
        /// What went wrong.
        #[source]
        source: FetchFailure,
    },
    /// A guard refused a feed (`max_age_hours`).
    #[error("failed to build the list: {0}; the last published list stays in force")]
    Guard(#[source] Tripped),
    /// A guard on the whole list tripped; `feeds` says what each feed gave,
    /// so that the operator knows which one made the list small.
    #[error(
        "failed to build the list: {tripped} (from {feeds}); the last published list stays in force"
    )]
    ListGuard {
        /// The guard.
        #[source]
        tripped: Tripped,
        /// `feed a: N entries, M rejected; feed b: ...`.
        feeds: String,
    },
}

impl FeedError {
    /// Whether this error is the user's input (exit 2) rather than an abort (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, FeedError::Read { .. } | FeedError::Write { .. })
    }
}

/// One configured feed (`feeds[]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSpec {
    /// The feed's name, used in reports and the manifest.
    pub name: String,
    /// Where to fetch it (`https`, `http` or `file`).
    pub url: Url,
}

/// Everything the build needs from the configuration (`feeds`, `threat_list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSettings {
    /// The feeds, in configuration order.
    pub feeds: Vec<FeedSpec>,
    /// Subtract the reserved table of [`hygiene::RESERVED`].
    pub strip_reserved: bool,
    /// Networks never listed, whatever the feeds say.
    pub allowlist: Vec<ipnet::Ipv4Net>,
    /// Refuse a list with fewer entries.
    pub min_entries: u32,
    /// Refuse a list that lost more than this share of entries; `None` = off.
    pub max_shrink_percent: Option<u8>,
    /// Refuse feeds whose header date is older; `None` = off.
    pub max_age_hours: Option<u32>,
}

impl BuildSettings {
    /// A digest of what shapes the list besides the feeds' contents (feed
    /// URLs, `strip_reserved`, allowlist). Remembered in the manifest: a
    /// conditional build is only sound when it has not changed.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for f in &self.feeds {
            h.update(format!("feed {}\n", f.url));
        }
        h.update(format!("strip_reserved {}\n", self.strip_reserved));
        let mut allow: Vec<String> = self
            .allowlist
            .iter()
            .map(|n| n.trunc().to_string())
            .collect();
        allow.sort();
        for a in allow {
            h.update(format!("allow {a}\n"));
        }
        hex::encode(h.finalize())
    }
}

/// The previously published manifest, when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviousList {
    /// Entries of the last published list (for `max_shrink_percent`).
    pub entries: u64,
    /// Per feed: name, ETag and Last-Modified of the last download.
    pub feeds: Vec<(String, Option<String>, Option<String>)>,
    /// [`BuildSettings::digest`] of the build that produced it, if recorded.
    pub settings_digest: Option<String>,
}

impl PreviousList {
    fn validators(&self, feed: &str) -> Option<Validators> {
        self.feeds
            .iter()
            .find(|(name, ..)| name == feed)
            .map(|(_, etag, last_modified)| Validators {
                etag: etag.clone(),
                last_modified: last_modified.clone(),
            })
            .filter(|v| v.etag.is_some() || v.last_modified.is_some())
    }
}

/// One feed's contribution, for the summary and the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedReport {
    /// The feed name.
    pub name: String,
    /// The feed URL.
    pub url: String,
    /// `ETag` of the download (HTTP only).
    pub etag: Option<String>,
    /// `Last-Modified` of the download (HTTP only).
    pub last_modified: Option<String>,
    /// `# This File Date`, RFC 3339, when the feed states one.
    pub file_date: Option<String>,
    /// The feed's age in hours by its header date.
    pub age_hours: Option<f64>,
    /// Lines with an IPv4 entry.
    pub entries: u64,
    /// Lines rejected as malformed.
    pub rejected: u64,
    /// The first rejected lines (at most [`parse::MAX_KEPT_REJECTS`]).
    pub first_rejects: Vec<Reject>,
    /// IPv6 entries dropped.
    pub ipv6_dropped: u64,
    /// CIDRs whose host bits were cleared.
    pub host_bits_cleared: u64,
    /// Addresses the feed lists.
    pub addresses: u64,
}

/// The built list and everything there is to say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltList {
    /// The list object's bytes (the README's "What guardsync puts in the bucket").
    pub bytes: Vec<u8>,
    /// Lowercase hex sha256 of `bytes`.
    pub sha256: String,
    /// CIDR entries (lines) in the list.
    pub entries: u64,
    /// Addresses the list covers.
    pub addresses: u64,
    /// Per feed, in configuration order.
    pub feeds: Vec<FeedReport>,
    /// Addresses of the feeds' union before hygiene.
    pub union_addresses: u64,
    /// Addresses removed as reserved.
    pub removed_reserved: u64,
    /// Addresses removed as allowlisted.
    pub removed_allowlisted: u64,
    /// [`BuildSettings::digest`], to record in the manifest.
    pub settings_digest: String,
}

/// The result of a conditional build.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A list was built.
    Built(BuiltList),
    /// Every feed answered `304 Not Modified` and the settings are unchanged:
    /// the previous list is still exact.
    NotModified,
}

/// A feed's downloaded bytes, the input of [`assemble`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FeedBody {
    /// The feed name.
    pub name: String,
    /// The feed URL.
    pub url: String,
    /// The body.
    pub bytes: Vec<u8>,
    /// ETag and Last-Modified of the download.
    pub validators: Validators,
}

/// Fetch every feed and build the list; always downloads everything.
pub async fn build(
    settings: &BuildSettings,
    previous: Option<&PreviousList>,
    now: SystemTime,
) -> Result<BuiltList, FeedError> {
    build_with(settings, previous, now, &FetchOptions::default()).await
}

/// [`build`] with explicit fetch options.
pub async fn build_with(
    settings: &BuildSettings,
    previous: Option<&PreviousList>,
    now: SystemTime,
    options: &FetchOptions,
) -> Result<BuiltList, FeedError> {
    // Without validators no fetch answers "not modified", so `None` cannot
    // happen here; an empty list would trip `min_entries` anyway.
    let bodies = fetch_all(settings, None, options)
        .await?
        .unwrap_or_default();
    assemble(settings, previous, now, bodies)
}

/// Like [`build`], but asks each server whether its feed changed since the
/// previous manifest. Returns [`Outcome::NotModified`] only when every feed
/// says so and the settings digest matches; if only some do, those are
/// downloaded again in full (the previous bodies are not kept anywhere).
pub async fn build_if_changed(
    settings: &BuildSettings,
    previous: &PreviousList,
    now: SystemTime,
    options: &FetchOptions,
) -> Result<Outcome, FeedError> {
    let digest_matches = previous.settings_digest.as_deref() == Some(settings.digest().as_str());
    let conditional = digest_matches
        && settings
            .feeds
            .iter()
            .all(|f| previous.validators(&f.name).is_some());
    match fetch_all(settings, conditional.then_some(previous), options).await? {
        Some(bodies) => assemble(settings, Some(previous), now, bodies).map(Outcome::Built),
        None => Ok(Outcome::NotModified),
    }
}

/// Download the feeds, a few at a time, keeping configuration order; `None`
/// when every feed answered "not modified" to a conditional request.
async fn fetch_all(
    settings: &BuildSettings,
    previous: Option<&PreviousList>,
    options: &FetchOptions,
) -> Result<Option<Vec<FeedBody>>, FeedError> {
    let fetcher = Fetcher::new(options.clone()).map_err(|source| FeedError::Client { source })?;
    let fetched: Vec<(&FeedSpec, Fetched)> = futures::stream::iter(&settings.feeds)
        .map(|spec| {
            let fetcher = &fetcher;
            let validators = previous.and_then(|p| p.validators(&spec.name));
            async move {
                fetcher
                    .fetch(&spec.url, validators.as_ref())
                    .await
                    .map(|f| (spec, f))
                    .map_err(|source| fetch_error(spec, source))
            }
        })
        .buffered(FETCH_CONCURRENCY)
        .try_collect()
        .await?;
    if !fetched.is_empty() && fetched.iter().all(|(_, f)| *f == Fetched::NotModified) {
        return Ok(None);
    }
    let mut bodies = Vec::with_capacity(fetched.len());
    for (spec, f) in fetched {
        let (bytes, validators) = match f {
            Fetched::Body { bytes, validators } => (bytes, validators),
            // Some feeds changed, this one did not: its old body is gone, so
            // download it again, unconditionally (which cannot answer 304).
            Fetched::NotModified => match fetcher.fetch(&spec.url, None).await {
                Ok(Fetched::Body { bytes, validators }) => (bytes, validators),
                Ok(Fetched::NotModified) => (Vec::new(), Validators::default()),
                Err(source) => return Err(fetch_error(spec, source)),
            },
        };
        bodies.push(FeedBody {
            name: spec.name.clone(),
            url: spec.url.to_string(),
            bytes,
            validators,
        });
    }
    Ok(Some(bodies))
}

fn fetch_error(spec: &FeedSpec, source: FetchFailure) -> FeedError {
    FeedError::Fetch {
        feed: spec.name.clone(),
        url: spec.url.to_string(),
        source,
    }
}

/// Build the list from fetched bodies: parse, check each feed, aggregate,
/// clean, render and run every guard. Pure.
pub(crate) fn assemble(
    settings: &BuildSettings,
    previous: Option<&PreviousList>,
    now: SystemTime,
    bodies: Vec<FeedBody>,
) -> Result<BuiltList, FeedError> {
    let now_unix = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut reports = Vec::with_capacity(bodies.len());
    let mut sets = Vec::with_capacity(bodies.len());
    for body in bodies {
        let parsed = parse_bytes(&body.bytes);
        drop(body.bytes);
        guards::check_feed(&parsed).map_err(|source| FeedError::Unusable {
            feed: body.name.clone(),
            url: body.url.clone(),
            source,
        })?;
        let date = parsed.header.this_file_date;
        let age = guards::check_age(
            &body.name,
            &body.url,
            date,
            now_unix,
            settings.max_age_hours,
        )
        .map_err(FeedError::Guard)?;
        warn_about(&body.name, &body.url, &parsed, age);
        let feed_set = IpSet::from_ranges(parsed.ranges);
        reports.push(FeedReport {
            name: body.name,
            url: body.url,
            etag: body.validators.etag,
            last_modified: body.validators.last_modified,
            file_date: date.map(|d| d.to_string()),
            age_hours: match age {
                Age::Dated(h) => Some(h),
                Age::Undated => None,
            },
            entries: parsed.entries,
            rejected: parsed.rejected,
            first_rejects: parsed.rejects,
            ipv6_dropped: parsed.ipv6,
            host_bits_cleared: parsed.host_bits,
            addresses: feed_set.addresses(),
        });
        sets.push(feed_set);
    }
    let union = IpSet::union_all(&sets);
    drop(sets);
    let union_addresses = union.addresses();
    let cleaned = hygiene::clean(union, settings.strip_reserved, &settings.allowlist);
    let bytes = cleaned.set.render();
    let entries = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let list_guard = |tripped| FeedError::ListGuard {
        tripped,
        feeds: reports
            .iter()
            .map(|r| {
                format!(
                    "feed {}: {} entries, {} rejected",
                    r.name, r.entries, r.rejected
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    };
    guards::check_min_entries(entries, settings.min_entries).map_err(list_guard)?;
    if let Some(p) = previous {
        guards::check_shrink(p.entries, entries, settings.max_shrink_percent)
            .map_err(list_guard)?;
    }
    Ok(BuiltList {
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes,
        entries,
        addresses: cleaned.set.addresses(),
        feeds: reports,
        union_addresses,
        removed_reserved: cleaned.removed_reserved,
        removed_allowlisted: cleaned.removed_allowlisted,
        settings_digest: settings.digest(),
    })
}

/// Log what was dropped or could not be checked in one feed.
fn warn_about(feed: &str, url: &str, parsed: &parse::Parsed, age: Age) {
    for r in &parsed.rejects {
        tracing::warn!(feed = %feed, url = %url, "rejected {r}");
    }
    if parsed.rejected > parsed.rejects.len() as u64 {
        let more = parsed.rejected - parsed.rejects.len() as u64;
        tracing::warn!(feed = %feed, url = %url, "{more} more rejected lines");
    }
    if parsed.ipv6 > 0 {
        tracing::warn!(
            feed = %feed, url = %url,
            "dropped {} IPv6 entries: GuardDuty threat lists are IPv4", parsed.ipv6
        );
    }
    if let Some(line) = parsed.first_host_bits_line {
        tracing::warn!(
            feed = %feed, url = %url,
            "{} CIDRs had host bits set and were read as their network (first on line {line})",
            parsed.host_bits
        );
    }
    if age == Age::Undated {
        match &parsed.header.unreadable_date {
            Some(text) => tracing::warn!(
                feed = %feed, url = %url,
                "cannot read the header date {text:?}: max_age_hours not checked"
            ),
            None => tracing::warn!(
                feed = %feed, url = %url,
                "no '# This File Date' header: max_age_hours not checked"
            ),
        }
    }
}

#[cfg(test)]
mod tests;

//! Publishing the list to the central bucket (the README's "What guardsync puts in the bucket"; the README's Security section): the
//! content-addressed list object, the manifest next to it, and the bucket
//! policy.
//!
//! - [`manifest`]: the manifest's JSON and its checks (pure).
//! - [`policy`]: the bucket policy's reconciliation (pure).
//!
//! The key and URL helpers here are pure; the `async` functions do the S3 I/O
//! through [`crate::aws::s3::S3`] and turn its errors into [`PublishError`],
//! naming the object or bucket.

mod keys;
pub mod lease;
pub mod manifest;
pub mod policy;
pub mod record;
pub mod reports;

use std::borrow::Cow;

use sha2::{Digest, Sha256};

pub(crate) use self::keys::legacy_object_key;
pub use self::keys::{lists_prefix, object_key};
pub use self::manifest::{Manifest, ManifestFeed};

use self::manifest::ManifestError;
use self::policy::PolicyError;
use crate::aws::s3::S3;
use crate::cloud::AwsError;
use crate::feed::BuiltList;

/// Why publishing failed; every variant names the object or the bucket.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// An S3 call failed; its message starts with `s3://bucket/key` (or
    /// `s3://bucket` for the policy).
    #[error("{source}")]
    S3 {
        /// The S3 error.
        #[from]
        source: AwsError,
    },
    /// The manifest is there but cannot be used.
    #[error(
        "failed to read the manifest {location}: {problem}; delete that object to start over \
         (the next apply uploads the list and writes a new manifest)"
    )]
    CorruptManifest {
        /// `s3://bucket/key`.
        location: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The manifest was written by a newer guardsync.
    #[error("failed to read the manifest {location}: {source}; upgrade guardsync")]
    NewerManifest {
        /// `s3://bucket/key`.
        location: String,
        /// The format found.
        #[source]
        source: ManifestError,
    },
    /// The run record is there but cannot be used.
    #[error(
        "failed to read the run record {location}: {problem}; run a full `guardsync apply` \
         (it writes a new record) instead of --retry-failed"
    )]
    CorruptRecord {
        /// `s3://bucket/key`.
        location: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The current bucket policy cannot be reconciled.
    #[error("failed to reconcile the policy of bucket {bucket}: {reason}")]
    Policy {
        /// The bucket.
        bucket: String,
        /// What is wrong with the current policy.
        #[source]
        reason: PolicyError,
    },
}

/// The S3 object tag that marks a list object no set may still point at (it
/// is neither the current list nor the one before it); the administrator
/// template's lifecycle rule expires only objects under `lists/` that carry
/// it.
pub const RETIRED_TAG: (&str, &str) = ("guardsync-retired", "true");

/// The manifest's key: `<prefix>manifest.json`.
pub(crate) fn manifest_key(prefix: &str) -> String {
    format!("{prefix}manifest.json")
}

/// `s3://bucket/key`, the report's `location`.
pub(crate) fn s3_url(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// The ThreatIntelSet `Location` of an object: its S3 URI, `s3://BUCKET/KEY`,
/// what the S3 console copies for an object and the form GuardDuty's user
/// guide tells users to paste ("Adding and activating an entity list or IP
/// list"); the same in every partition. Sets created with another form are
/// compared by bucket and key, so they are not rewritten for the form alone.
pub fn guardduty_location(bucket: &str, key: &str) -> String {
    s3_url(bucket, key)
}

/// `(bucket, key)` of a location in any form GuardDuty accepts
/// (`https://s3.amazonaws.com/B/K`, `https://s3.R.amazonaws.com/B/K`,
/// `https://s3-R.amazonaws.com/B/K`, `https://B.s3.amazonaws.com/K`,
/// `https://B.s3.R.amazonaws.com/K`, `s3://B/K`), key percent-decoded;
/// borrowed from `location` (every managed target compares its sets'
/// locations with the list's).
pub(crate) fn parse_location(location: &str) -> Option<(&str, Cow<'_, str>)> {
    let (bucket, key) = if let Some(rest) = location.strip_prefix("s3://") {
        rest.split_once('/')?
    } else {
        let (host, path) = location.strip_prefix("https://")?.split_once('/')?;
        let front = host
            .strip_suffix(".amazonaws.com")
            .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
        if is_s3_endpoint(front) {
            path.split_once('/')?
        } else {
            // Virtual-hosted: the bucket (which may hold dots) is everything
            // before the last `.s3` that an endpoint follows.
            let at = front
                .rmatch_indices(".s3")
                .map(|(i, _)| i)
                .find(|&i| is_s3_endpoint(&front[i + 1..]))?;
            (&front[..at], path)
        }
    };
    if bucket.is_empty() || bucket.contains('/') || key.is_empty() {
        return None;
    }
    Some((bucket, percent_decode(key)?))
}

/// `s3`, `s3.REGION` or `s3-REGION`.
fn is_s3_endpoint(host: &str) -> bool {
    let Some(rest) = host.strip_prefix("s3") else {
        return false;
    };
    rest.is_empty()
        || rest.strip_prefix(['.', '-']).is_some_and(|region| {
            !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Decode `%XX` escapes (a `%` not followed by two hex digits stays as is);
/// `None` when the result is not UTF-8.
fn percent_decode(s: &str) -> Option<Cow<'_, str>> {
    if !s.contains('%') {
        return Some(Cow::Borrowed(s));
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

/// The last published manifest under `prefix`, or `None` when there is none.
pub async fn read_manifest(
    s3: &S3,
    bucket: &str,
    prefix: &str,
) -> Result<Option<Manifest>, PublishError> {
    let key = manifest_key(prefix);
    let location = s3_url(bucket, &key);
    let Some(bytes) = s3.get(bucket, &key).await? else {
        return Ok(None);
    };
    let manifest = Manifest::parse(&bytes).map_err(|e| match e {
        ManifestError::Invalid(problem) => PublishError::CorruptManifest {
            location: location.clone(),
            problem,
        },
        newer @ ManifestError::Newer { .. } => PublishError::NewerManifest {
            location: location.clone(),
            source: newer,
        },
    })?;
    let want = object_key(prefix, &manifest.sha256);
    if manifest.key != want && manifest.key != legacy_object_key(prefix, &manifest.sha256) {
        return Err(PublishError::CorruptManifest {
            location,
            problem: format!(
                "key {:?} is not the list of sha256 {} under prefix {prefix:?} ({want:?})",
                manifest.key, manifest.sha256
            ),
        });
    }
    Ok(Some(manifest))
}

/// Upload the list as `<prefix>lists/<sha256>.txt` (`text/plain`).
pub async fn upload_list(
    s3: &S3,
    bucket: &str,
    prefix: &str,
    built: &BuiltList,
) -> Result<(), PublishError> {
    let key = object_key(prefix, &built.sha256);
    s3.put(
        bucket,
        &key,
        built.bytes.clone(),
        "text/plain",
        &built.sha256,
    )
    .await?;
    Ok(())
}

/// Upload one list object (a list, a part of one, or the trusted list):
/// its key is content-addressed, `<prefix>lists/<sha256>.txt`.
pub async fn upload_object(
    s3: &S3,
    bucket: &str,
    key: &str,
    bytes: Vec<u8>,
    sha256: &str,
) -> Result<(), PublishError> {
    s3.put(bucket, key, bytes, "text/plain", sha256).await?;
    Ok(())
}

/// Write the manifest as `<prefix>manifest.json` (`application/json`).
pub async fn write_manifest(
    s3: &S3,
    bucket: &str,
    prefix: &str,
    manifest: &Manifest,
) -> Result<(), PublishError> {
    let body = manifest.to_json();
    let sha256 = hex::encode(Sha256::digest(&body));
    s3.put(
        bucket,
        &manifest_key(prefix),
        body,
        "application/json",
        &sha256,
    )
    .await?;
    Ok(())
}

/// Tag a list object that no set may point at any more ([`RETIRED_TAG`]),
/// so that the administrator template's lifecycle rule may expire it. A
/// failure only delays that: it is logged, not fatal.
pub async fn retire(s3: &S3, bucket: &str, key: &str) {
    match s3.tag(bucket, key, RETIRED_TAG).await {
        Ok(true) => tracing::info!(
            "retired the list {} (tagged {}={})",
            s3_url(bucket, key),
            RETIRED_TAG.0,
            RETIRED_TAG.1
        ),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!("failed to retire the old list: {e}; it stays until tagged by hand")
        }
    }
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn keys_and_urls() {
        assert_eq!(
            object_key("guardduty/", SHA),
            format!("guardduty/lists/{SHA}.txt")
        );
        assert_eq!(object_key("", SHA), format!("lists/{SHA}.txt"));
        assert_eq!(lists_prefix("guardduty/"), "guardduty/lists/");
        assert_eq!(
            legacy_object_key("guardduty/", SHA),
            format!("guardduty/{SHA}.txt")
        );
        assert_eq!(manifest_key("guardduty/"), "guardduty/manifest.json");
        assert_eq!(s3_url("b", "guardduty/x.txt"), "s3://b/guardduty/x.txt");
    }

    #[test]
    fn guardduty_locations_are_s3_uris() {
        let want = "s3://b/guardduty/x.txt";
        assert_eq!(guardduty_location("b", "guardduty/x.txt"), want);
        assert_eq!(parse_location(want), Some(("b", "guardduty/x.txt".into())));
    }

    #[test]
    fn https_keys_are_percent_decoded() {
        let url = "https://s3.eu-west-1.amazonaws.com/b/lists%20dir/%C3%BC%2Bx.txt";
        assert_eq!(parse_location(url), Some(("b", "lists dir/ü+x.txt".into())));
    }

    // The forms of tests/emulator/gsemu/guardduty_ext.py's _LOCATION_PATTERNS.
    #[test_case("https://s3.amazonaws.com/b/k/x.txt", "b", "k/x.txt" ; "path global")]
    #[test_case("https://s3.us-east-1.amazonaws.com/b/k.txt", "b", "k.txt" ; "path regional dot")]
    #[test_case("https://s3-eu-west-1.amazonaws.com/b/k.txt", "b", "k.txt" ; "path regional dash")]
    #[test_case("https://b.s3.amazonaws.com/k/x.txt", "b", "k/x.txt" ; "virtual global")]
    #[test_case("https://b.s3.us-east-1.amazonaws.com/k.txt", "b", "k.txt" ; "virtual regional dot")]
    #[test_case("https://b.s3-us-west-2.amazonaws.com/k.txt", "b", "k.txt" ; "virtual regional dash")]
    #[test_case("https://my.bucket.s3.amazonaws.com/k.txt", "my.bucket", "k.txt" ; "virtual dotted bucket")]
    #[test_case("https://a.s3.b.s3.us-east-1.amazonaws.com/k", "a.s3.b", "k" ; "virtual bucket holding s3")]
    #[test_case("s3://b/guardduty/x.txt", "b", "guardduty/x.txt" ; "s3 scheme")]
    #[test_case("s3://b/a%20b%zz.txt", "b", "a b%zz.txt" ; "percent decoded, bad escape kept")]
    fn locations_parse(location: &str, bucket: &str, key: &str) {
        assert_eq!(parse_location(location), Some((bucket, key.into())));
    }

    #[test_case("http://s3.amazonaws.com/b/k" ; "plain http")]
    #[test_case("https://example.com/b/k" ; "other host")]
    #[test_case("https://s3.amazonaws.com/b" ; "no key")]
    #[test_case("https://s3.amazonaws.com/b/" ; "empty key")]
    #[test_case("https://s3.US-EAST-1.amazonaws.com/b/k" ; "upper case region")]
    #[test_case("https://s3.dualstack.us-east-1.amazonaws.com/b/k" ; "dotted region")]
    #[test_case("https://.s3.amazonaws.com/k" ; "empty bucket")]
    #[test_case("https://b.s4.amazonaws.com/k" ; "not s3")]
    #[test_case("s3://b" ; "s3 without key")]
    #[test_case("s3://b/%FF" ; "key not utf-8")]
    fn locations_refused(location: &str) {
        assert_eq!(parse_location(location), None);
    }

    #[test]
    fn errors_name_the_object_and_how_to_recover() {
        let e = PublishError::CorruptManifest {
            location: "s3://b/guardduty/manifest.json".to_owned(),
            problem: "not JSON: expected value at line 1 column 1".to_owned(),
        };
        assert_eq!(
            e.to_string(),
            "failed to read the manifest s3://b/guardduty/manifest.json: not JSON: expected value \
             at line 1 column 1; delete that object to start over (the next apply uploads the list \
             and writes a new manifest)"
        );
    }
}

//! `<prefix>manifest.json`: what was last published and how it was built
//! (the README's "What guardsync puts in the bucket"). Pure: the JSON shape, its checks and what the next build
//! needs from it.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::feed::parse::FileDate;
use crate::feed::{BuiltList, PreviousList};

/// The manifest format this guardsync writes and reads.
pub const FORMAT: u32 = 1;

/// The published list and its provenance, as stored next to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Lowercase hex SHA-256 of the list object.
    pub sha256: String,
    /// The list object's key, `<prefix>lists/<sha256>.txt`.
    pub key: String,
    /// CIDR entries (lines) in the list.
    pub entries: u64,
    /// Addresses the list covers.
    pub addresses: u64,
    /// When the list was built, RFC 3339 UTC (`2026-11-30T08:00:00Z`).
    pub built_at: String,
    /// Per feed, in configuration order.
    pub feeds: Vec<ManifestFeed>,
    /// The build settings digest ([`crate::feed::BuildSettings::digest`]).
    #[serde(default)]
    pub settings_digest: Option<String>,
    /// The manifest format; a reader refuses one newer than [`FORMAT`].
    #[serde(default = "format_one")]
    pub format: u32,
    /// `guardsync <version>` that wrote it.
    #[serde(default)]
    pub generator: String,
    /// The key of the list published before this one: sets that have not
    /// been updated yet may still point at it, so it is never retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_key: Option<String>,
    /// The threat list's name (in an entry of `lists`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The parts of a list split to fit GuardDuty's limits, in address
    /// order: each is its own object and set; their union is the list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
    /// The keys of the parts of the list published before this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_parts: Vec<String>,
    /// Every threat list, the first one included (its fields are also the
    /// document's own, as an older guardsync wrote them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<Manifest>,
    /// The trusted list, when one is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted: Option<TrustedManifest>,
    /// A trusted list was published, then removed from the configuration:
    /// every run still looks for guardsync's IPSets, to delete them
    /// wherever they remain (a target that failed, or was out of scope).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trusted_removed: bool,
    /// The objects of lists no longer configured: sets may still point at
    /// them until guardsync deletes those sets, so they are retired with the
    /// next publication of a list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retiring: Vec<String>,
}

/// One part of a split list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// The set's name, `NAME-1`, `NAME-2`, ...
    pub name: String,
    /// sha256 of the part's object.
    pub sha256: String,
    /// The part's object key.
    pub key: String,
    /// Its entries.
    pub entries: u64,
}

/// The published trusted list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedManifest {
    /// The IPSet's name.
    pub name: String,
    /// sha256 of the object.
    pub sha256: String,
    /// The object's key.
    pub key: String,
    /// Its entries.
    pub entries: u64,
    /// Addresses covered.
    pub addresses: u64,
    /// The key published before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_key: Option<String>,
}

fn format_one() -> u32 {
    FORMAT
}

/// One feed's contribution to the published list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFeed {
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
    /// Lines with an IPv4 entry.
    pub entries: u64,
    /// Lines rejected as malformed.
    pub rejected: u64,
}

/// Why a manifest's bytes cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not the manifest JSON, or a value in it is impossible.
    #[error("{0}")]
    Invalid(String),
    /// Written by a guardsync that knows a newer format.
    #[error(
        "written by a newer guardsync ({generator}, format {format}; this guardsync reads format {FORMAT})"
    )]
    Newer {
        /// The manifest's `format`.
        format: u64,
        /// The manifest's `generator`, as written.
        generator: String,
    },
}

impl Manifest {
    /// The manifest of `built`, uploaded as `key`, built at `built_at`.
    pub fn new(built: &BuiltList, key: &str, built_at: SystemTime) -> Manifest {
        let unix = built_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Manifest {
            sha256: built.sha256.clone(),
            key: key.to_owned(),
            entries: built.entries,
            addresses: built.addresses,
            built_at: FileDate { unix }.to_string(),
            feeds: built
                .feeds
                .iter()
                .map(|f| ManifestFeed {
                    name: f.name.clone(),
                    url: f.url.clone(),
                    etag: f.etag.clone(),
                    last_modified: f.last_modified.clone(),
                    file_date: f.file_date.clone(),
                    entries: f.entries,
                    rejected: f.rejected,
                })
                .collect(),
            settings_digest: Some(built.settings_digest.clone()),
            format: FORMAT,
            generator: concat!("guardsync ", env!("CARGO_PKG_VERSION")).to_owned(),
            previous_key: None,
            name: None,
            parts: Vec::new(),
            previous_parts: Vec::new(),
            lists: Vec::new(),
            trusted: None,
            trusted_removed: false,
            retiring: Vec::new(),
        }
    }

    /// The document for several lists: the first list's fields at the top
    /// (what an older guardsync reads), every list under `lists`.
    pub fn document(lists: Vec<Manifest>, trusted: Option<TrustedManifest>) -> Option<Manifest> {
        let mut top = lists.first()?.clone();
        top.lists = lists;
        top.trusted = trusted;
        Some(top)
    }

    /// The entry of the threat list `name`; in a manifest an older
    /// guardsync wrote (one list, no `lists`), the document itself is the
    /// entry of the `first` configured list.
    pub fn entry(&self, name: &str, first: bool) -> Option<Manifest> {
        if self.lists.is_empty() {
            return (first && self.name.as_deref().is_none_or(|n| n == name)).then(|| self.clone());
        }
        self.lists
            .iter()
            .find(|l| l.name.as_deref() == Some(name))
            .cloned()
    }

    /// Every object key this entry names: the list and its parts.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.key.as_str()).chain(self.parts.iter().map(|p| p.key.as_str()))
    }

    /// Every object key a set may point at by this document: every list's
    /// current and previous objects, and the trusted list's.
    pub fn live_keys(&self) -> std::collections::BTreeSet<String> {
        let mut keys = std::collections::BTreeSet::new();
        let lists: Vec<&Manifest> = if self.lists.is_empty() {
            vec![self]
        } else {
            self.lists.iter().collect()
        };
        for l in lists {
            keys.extend(l.keys().map(str::to_owned));
            keys.extend(l.previous_key.clone());
            keys.extend(l.previous_parts.iter().cloned());
        }
        if let Some(t) = &self.trusted {
            keys.insert(t.key.clone());
            keys.extend(t.previous_key.clone());
        }
        keys.extend(self.retiring.iter().cloned());
        keys
    }

    /// The manifest of a list published after `before` (the manifest read
    /// from the bucket, if any): it remembers `before`'s list as the one a
    /// set may still point at.
    #[must_use]
    pub fn after(mut self, before: Option<&Manifest>) -> Manifest {
        (self.previous_key, self.previous_parts) = match before {
            // The same list again (its object was gone): the one before it stays.
            Some(b) if b.key == self.key => (b.previous_key.clone(), b.previous_parts.clone()),
            Some(b) => (
                Some(b.key.clone()),
                b.parts.iter().map(|p| p.key.clone()).collect(),
            ),
            None => (None, Vec::new()),
        };
        self
    }

    /// Every object that publishing `self` over `before` retires: the list
    /// (and parts) before `before`'s, unless `self` still names them.
    pub fn retires_all<'a>(&self, before: &'a Manifest) -> Vec<&'a str> {
        let keep: Vec<&str> = self
            .keys()
            .chain(self.previous_key.as_deref())
            .chain(self.previous_parts.iter().map(String::as_str))
            .collect();
        before
            .previous_key
            .iter()
            .chain(&before.previous_parts)
            .map(String::as_str)
            .filter(|k| !keep.contains(k))
            .collect()
    }

    /// The list object that publishing `self` over `before` retires: the
    /// one before `before`'s list, unless it is one of the two a set may
    /// point at (the lists can come back: content-addressed keys repeat).
    pub fn retires<'a>(&self, before: &'a Manifest) -> Option<&'a str> {
        before
            .previous_key
            .as_deref()
            .filter(|k| Some(*k) != self.previous_key.as_deref() && *k != self.key)
    }

    /// What the next build needs to know about this list: its size (for
    /// `max_shrink_percent`), the feeds' validators and the settings digest.
    pub fn previous(&self) -> PreviousList {
        PreviousList {
            entries: self.entries,
            feeds: self
                .feeds
                .iter()
                .map(|f| (f.name.clone(), f.etag.clone(), f.last_modified.clone()))
                .collect(),
            settings_digest: self.settings_digest.clone(),
        }
    }

    /// Read a manifest; extra keys are ignored, a newer `format` is refused.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ManifestError::Invalid(format!("not JSON: {e}")))?;
        let Some(object) = value.as_object() else {
            return Err(ManifestError::Invalid("not a JSON object".to_owned()));
        };
        // The format is checked before the shape: a newer format may have
        // changed the keys this version expects.
        if let Some(format) = object.get("format").and_then(serde_json::Value::as_u64)
            && format > u64::from(FORMAT)
        {
            let generator = object.get("generator").and_then(serde_json::Value::as_str);
            return Err(ManifestError::Newer {
                format,
                generator: generator.unwrap_or("unknown generator").to_owned(),
            });
        }
        let manifest: Manifest = serde_path_to_error::deserialize(value)
            .map_err(|e| ManifestError::Invalid(format!("{}: {}", e.path(), e.inner())))?;
        if manifest.format == 0 {
            return Err(ManifestError::Invalid(
                "format: must be 1, got 0".to_owned(),
            ));
        }
        let hex =
            |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !hex(&manifest.sha256) {
            return Err(ManifestError::Invalid(format!(
                "sha256: not a lowercase hex SHA-256: {:?}",
                manifest.sha256
            )));
        }
        Ok(manifest)
    }

    /// The manifest as pretty JSON with a final newline, keys in the README's "What guardsync puts in the bucket" order.
    pub fn to_json(&self) -> Vec<u8> {
        // Strings, numbers and options of them always serialise.
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::feed::FeedReport;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn built() -> BuiltList {
        BuiltList {
            bytes: b"198.51.100.7\n".to_vec(),
            sha256: SHA.to_owned(),
            entries: 1934,
            addresses: 19_712_345,
            feeds: vec![FeedReport {
                name: "firehol_level1".to_owned(),
                url: "https://iplists.firehol.org/files/firehol_level1.netset".to_owned(),
                etag: Some("\"abc\"".to_owned()),
                last_modified: Some("Mon, 30 Nov 2026 07:00:00 GMT".to_owned()),
                file_date: Some("2026-11-30T06:59:00Z".to_owned()),
                age_hours: Some(1.0),
                entries: 1940,
                rejected: 2,
                first_rejects: Vec::new(),
                ipv6_dropped: 0,
                host_bits_cleared: 0,
                addresses: 19_712_400,
            }],
            union_addresses: 19_712_400,
            removed_reserved: 55,
            removed_allowlisted: 0,
            settings_digest: "d1g3st".to_owned(),
        }
    }

    fn manifest() -> Manifest {
        // 2026-11-30T08:00:00Z
        let at = UNIX_EPOCH + Duration::from_secs(1_796_025_600);
        Manifest::new(&built(), &format!("guardduty/{SHA}.txt"), at)
    }

    #[test]
    fn new_records_the_build() {
        let m = manifest();
        assert_eq!(m.built_at, "2026-11-30T08:00:00Z");
        assert_eq!(m.key, format!("guardduty/{SHA}.txt"));
        assert_eq!(m.entries, 1934);
        assert_eq!(m.feeds[0].rejected, 2);
        assert_eq!(m.settings_digest.as_deref(), Some("d1g3st"));
        assert_eq!(m.format, 1);
        assert_eq!(
            m.generator,
            format!("guardsync {}", env!("CARGO_PKG_VERSION"))
        );
    }

    /// Publishing lists one after another: only a list that is neither the
    /// current one nor the one before it is retired, including when a list
    /// comes back (content-addressed keys repeat).
    #[test]
    fn only_a_list_two_publications_back_is_retired() {
        let at = UNIX_EPOCH;
        let publish = |key: &str, before: Option<&Manifest>| {
            let m = Manifest::new(&built(), key, at).after(before);
            let retired = before.and_then(|b| m.retires(b)).map(str::to_owned);
            (m, retired)
        };
        let (a, r) = publish("lists/a.txt", None);
        assert_eq!((a.previous_key.as_deref(), r), (None, None));
        let (b, r) = publish("lists/b.txt", Some(&a));
        assert_eq!((b.previous_key.as_deref(), r), (Some("lists/a.txt"), None));
        let (c, r) = publish("lists/c.txt", Some(&b));
        assert_eq!(
            (c.previous_key.as_deref(), r.as_deref()),
            (Some("lists/b.txt"), Some("lists/a.txt"))
        );
        // b comes back: c is the one before it, nothing else to retire (b
        // itself was the one before c).
        let (b2, r) = publish("lists/b.txt", Some(&c));
        assert_eq!((b2.previous_key.as_deref(), r), (Some("lists/c.txt"), None));
        // c comes back right after: b2's previous is c itself, the current one.
        let (c2, r) = publish("lists/c.txt", Some(&b2));
        assert_eq!((c2.previous_key.as_deref(), r), (Some("lists/b.txt"), None));
        // The same list again (its object was gone): b stays the one before.
        let (c3, r) = publish("lists/c.txt", Some(&c2));
        assert_eq!((c3.previous_key.as_deref(), r), (Some("lists/b.txt"), None));
    }

    #[test]
    fn previous_carries_validators_and_digest() {
        let p = manifest().previous();
        assert_eq!(p.entries, 1934);
        assert_eq!(
            p.feeds,
            vec![(
                "firehol_level1".to_owned(),
                Some("\"abc\"".to_owned()),
                Some("Mon, 30 Nov 2026 07:00:00 GMT".to_owned())
            )]
        );
        assert_eq!(p.settings_digest.as_deref(), Some("d1g3st"));
    }

    #[test]
    fn json_round_trips_with_spec_keys_in_order() {
        let m = manifest();
        let json = m.to_json();
        assert_eq!(json.last(), Some(&b'\n'));
        assert_eq!(Manifest::parse(&json), Ok(m));
        let text = String::from_utf8(json).expect("utf-8");
        let pos = |k: &str| text.find(&format!("\"{k}\":")).expect(k);
        let keys = [
            "sha256",
            "key",
            "entries",
            "addresses",
            "built_at",
            "feeds",
            "name",
            "url",
            "etag",
            "last_modified",
            "file_date",
            "rejected",
            "settings_digest",
            "format",
            "generator",
        ];
        assert!(keys.windows(2).all(|w| pos(w[0]) < pos(w[1])), "{text}");
    }

    #[test]
    fn unknown_keys_are_tolerated_and_additions_default() {
        let json = format!(
            r#"{{"sha256": "{SHA}", "key": "k", "entries": 1, "addresses": 1,
                "built_at": "2026-11-30T08:00:00Z", "feeds": [], "later": {{"x": 1}}}}"#
        );
        let m = Manifest::parse(json.as_bytes()).expect("valid");
        assert_eq!(m.format, 1);
        assert_eq!(m.settings_digest, None);
    }

    #[test]
    fn newer_format_is_refused() {
        let json = r#"{"format": 2, "generator": "guardsync 9.0.0", "sha256": 7}"#;
        let err = Manifest::parse(json.as_bytes()).expect_err("newer");
        assert_eq!(
            err,
            ManifestError::Newer {
                format: 2,
                generator: "guardsync 9.0.0".to_owned()
            }
        );
        assert!(err.to_string().starts_with("written by a newer guardsync"));
    }

    #[test_case::test_case(b"not json", "not JSON" ; "garbage")]
    #[test_case::test_case(b"[1, 2]", "not a JSON object" ; "array")]
    #[test_case::test_case(br#"{"sha256": "ab"}"#, "missing field `key`" ; "missing key")]
    #[test_case::test_case(
        br#"{"sha256": "ab", "key": "k", "entries": -1, "addresses": 1, "built_at": "", "feeds": []}"#,
        "entries: invalid value" ; "negative entries")]
    #[test_case::test_case(
        br#"{"sha256": "ab", "key": "k", "entries": 1, "addresses": 1, "built_at": "", "feeds": []}"#,
        "sha256: not a lowercase hex SHA-256" ; "short sha")]
    fn invalid_manifests_say_what_is_wrong(bytes: &[u8], want: &str) {
        let err = Manifest::parse(bytes).expect_err("invalid");
        assert!(matches!(err, ManifestError::Invalid(_)));
        assert!(err.to_string().contains(want), "{err}");
    }
}

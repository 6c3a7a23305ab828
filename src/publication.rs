//! The lists a run puts in place: every threat list built from its own
//! feeds (again only when a feed changed), split in parts when it is over
//! GuardDuty's limits, and the trusted list; what to upload, the manifest to
//! write and the objects it retires; the sets every managed target should
//! have. I/O: the feeds and the bucket (read-only here; `app` uploads).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use crate::aws::s3::S3;
use crate::config::{Config, ThreatList};
use crate::error::Error;
use crate::feed::{self, BuiltList};
use crate::publish::manifest::{Part, TrustedManifest};
use crate::publish::record::{RecordList, RecordLists, RunRecord};
use crate::publish::{self, Manifest};
use crate::reconcile::threat_set::MAX_SETS;
use crate::reconcile::{DesiredLists, lists::Desired};
use crate::report::{ListReport, PartReport};

/// One list as this run puts it in place.
#[derive(Debug, Clone)]
pub(crate) struct OneList {
    /// `threat_lists[].name` or `trusted_list.name`.
    pub name: String,
    /// sha256 of the whole list.
    pub sha256: String,
    /// The whole list's object key.
    pub key: String,
    /// Entries of the whole list.
    pub entries: u64,
    /// Addresses it covers.
    pub addresses: u64,
    /// Its parts when split (each its own set); empty: one set, the whole list.
    pub parts: Vec<Part>,
    /// Objects to upload, the whole list first.
    pub uploads: Vec<Upload>,
    /// Whether the feeds were downloaded again.
    pub rebuilt: bool,
    /// How long apply waits for GuardDuty to load one of its sets.
    pub settle: Duration,
    /// The list's manifest entry (threat lists).
    entry: Option<Manifest>,
}

impl OneList {
    /// The sets of this list: one per part, or the whole list.
    pub(crate) fn desired(&self, bucket: &str) -> Vec<Desired> {
        let one = |name: &str, key: &str, sha256: &str| Desired {
            name: name.to_owned(),
            location: publish::guardduty_location(bucket, key),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            sha256: sha256.to_owned(),
            settle: self.settle,
        };
        if self.parts.is_empty() {
            vec![one(&self.name, &self.key, &self.sha256)]
        } else {
            self.parts
                .iter()
                .map(|p| one(&p.name, &p.key, &p.sha256))
                .collect()
        }
    }

    /// How many sets it takes.
    pub(crate) fn sets(&self) -> usize {
        self.parts.len().max(1)
    }

    /// The list in the report.
    pub(crate) fn report(&self, bucket: &str) -> ListReport {
        ListReport {
            name: self.name.clone(),
            sha256: self.sha256.clone(),
            entries: self.entries,
            addresses: self.addresses,
            location: publish::s3_url(bucket, &self.key),
            changed: !self.uploads.is_empty(),
            rebuilt: self.rebuilt,
            parts: self
                .parts
                .iter()
                .map(|p| PartReport {
                    name: p.name.clone(),
                    sha256: p.sha256.clone(),
                    entries: p.entries,
                    location: publish::s3_url(bucket, &p.key),
                })
                .collect(),
        }
    }

    /// The list in the run record.
    pub(crate) fn record(&self) -> RecordList {
        RecordList {
            name: self.name.clone(),
            sha256: self.sha256.clone(),
            key: self.key.clone(),
            entries: self.entries,
            addresses: self.addresses,
            parts: self.parts.clone(),
        }
    }

    /// A list already published (its manifest entry), nothing to upload.
    fn published(name: &str, m: &Manifest, rebuilt: bool, settle: Duration) -> OneList {
        let mut entry = m.clone();
        entry.name = Some(name.to_owned());
        entry.lists.clear();
        entry.trusted = None;
        OneList {
            name: name.to_owned(),
            sha256: m.sha256.clone(),
            key: m.key.clone(),
            entries: m.entries,
            addresses: m.addresses,
            parts: m.parts.clone(),
            uploads: Vec::new(),
            rebuilt,
            settle,
            entry: Some(entry),
        }
    }

    /// The list from a run record (`--retry-failed`).
    fn recorded(r: &RecordList, name: &str, settle: Duration) -> OneList {
        OneList {
            name: if r.name.is_empty() {
                name.to_owned()
            } else {
                r.name.clone()
            },
            sha256: r.sha256.clone(),
            key: r.key.clone(),
            entries: r.entries,
            addresses: r.addresses,
            parts: r.parts.clone(),
            uploads: Vec::new(),
            rebuilt: false,
            settle,
            entry: None,
        }
    }
}

/// One object to upload under `<prefix>lists/`.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    /// Its key, `<prefix>lists/<sha256>.txt`.
    pub key: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// sha256 of `bytes`.
    pub sha256: String,
}

/// Every list of a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunLists {
    /// The threat lists, in configuration order.
    pub threat: Vec<OneList>,
    /// The trusted list, when configured.
    pub trusted: Option<OneList>,
    /// A trusted list was published before and is no longer configured:
    /// guardsync's IPSets are deleted.
    pub trusted_removed: bool,
    /// The manifest to write once the objects are uploaded (`None`: unchanged).
    pub manifest: Option<Manifest>,
    /// Objects no set may point at any more, to tag for the lifecycle rule.
    pub retires: Vec<String>,
}

impl RunLists {
    /// The sets every managed target should have.
    pub(crate) fn desired(&self, bucket: &str) -> DesiredLists {
        DesiredLists {
            threat: self.threat.iter().flat_map(|l| l.desired(bucket)).collect(),
            trusted: match (&self.trusted, self.trusted_removed) {
                (Some(t), _) => Some(t.desired(bucket)),
                (None, true) => Some(Vec::new()),
                (None, false) => None,
            },
        }
    }

    /// What the run record keeps.
    pub(crate) fn record(&self) -> RecordLists {
        RecordLists {
            lists: self.threat.iter().map(OneList::record).collect(),
            trusted: self.trusted.as_ref().map(OneList::record),
        }
    }
}

/// The list builder's view of one threat list: its feeds and guards, with
/// the trusted networks subtracted like its allowlist.
pub(crate) fn build_settings(c: &Config, list: &ThreatList) -> feed::BuildSettings {
    let mut allowlist = list.allowlist.clone();
    if let Some(t) = &c.trusted_list {
        allowlist.extend(t.cidrs.iter().copied());
    }
    feed::BuildSettings {
        feeds: c
            .feeds_of(list)
            .into_iter()
            .map(|f| feed::FeedSpec {
                name: f.name.clone(),
                url: f.url.clone(),
            })
            .collect(),
        strip_reserved: list.strip_reserved,
        allowlist,
        min_entries: list.min_entries,
        max_shrink_percent: list.max_shrink_percent,
        max_age_hours: list.max_age_hours,
    }
}

fn settle_of(list: &ThreatList) -> Duration {
    Duration::from_secs(u64::from(list.settle_seconds))
}

/// The objects of a freshly built list: the whole list and, past
/// GuardDuty's limits, its parts in address order.
pub(crate) fn split_built(name: &str, prefix: &str, built: BuiltList) -> (Vec<Part>, Vec<Upload>) {
    let key = publish::object_key(prefix, &built.sha256);
    let ranges = feed::split::split(
        &built.bytes,
        feed::split::MAX_ENTRIES,
        feed::split::MAX_BYTES,
    );
    let mut uploads = Vec::with_capacity(ranges.len() + 1);
    let mut parts = Vec::new();
    if ranges.len() > 1 {
        let names = feed::split::part_names(name, ranges.len());
        for (range, name) in ranges.into_iter().zip(names) {
            let bytes = built.bytes[range].to_vec();
            let sha256 = sha256_hex(&bytes);
            let key = publish::object_key(prefix, &sha256);
            parts.push(Part {
                name,
                sha256: sha256.clone(),
                key: key.clone(),
                entries: bytes.iter().filter(|b| **b == b'\n').count() as u64,
            });
            uploads.push(Upload { key, bytes, sha256 });
        }
    }
    uploads.insert(
        0,
        Upload {
            key,
            bytes: built.bytes,
            sha256: built.sha256,
        },
    );
    (parts, uploads)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Build every list, conditionally on the last manifest when its object is
/// still there; decide what to upload, the manifest and what it retires.
/// Stops (exit 1) before any write when the lists need more than
/// GuardDuty's six sets.
pub(crate) async fn build(c: &Config, s3: &S3) -> Result<RunLists, Error> {
    let (bucket, prefix) = (c.bucket.name.as_str(), c.bucket.prefix.as_str());
    let now = SystemTime::now();
    let previous = publish::read_manifest(s3, bucket, prefix).await?;
    let builds = c.threat_lists.iter().enumerate().map(|(i, list)| {
        let before = previous.as_ref().and_then(|m| m.entry(&list.name, i == 0));
        one_threat_list(c, s3, list, before, now)
    });
    let threat = futures::future::try_join_all(builds).await?;
    let needed: usize = threat.iter().map(OneList::sets).sum();
    if needed > MAX_SETS {
        return Err(Error::TooManySets(
            threat
                .iter()
                .map(|l| format!("{:?}: {}", l.name, l.sets()))
                .collect::<Vec<_>>()
                .join(", "),
            needed,
        ));
    }
    let trusted = match &c.trusted_list {
        Some(t) => {
            let before = previous.as_ref().and_then(|m| m.trusted.as_ref());
            Some(trusted_list(s3, bucket, prefix, t, before, settle_of(&c.threat_lists[0])).await?)
        }
        None => None,
    };
    let trusted_removed = c.trusted_list.is_none()
        && previous
            .as_ref()
            .is_some_and(|m| m.trusted.is_some() || m.trusted_removed);

    // The manifest, when anything changed (a list's content, the set of
    // lists, or the trusted list).
    let entries: Vec<Manifest> = threat.iter().filter_map(|l| l.entry.clone()).collect();
    let trusted_entry = trusted.as_ref().map(|t| TrustedManifest {
        name: t.name.clone(),
        sha256: t.sha256.clone(),
        key: t.key.clone(),
        entries: t.entries,
        addresses: t.addresses,
        previous_key: match previous.as_ref().and_then(|m| m.trusted.as_ref()) {
            Some(b) if b.key != t.key => Some(b.key.clone()),
            Some(b) => b.previous_key.clone(),
            None => None,
        },
    });
    let changed = threat.iter().any(|l| !l.uploads.is_empty())
        || trusted.as_ref().is_some_and(|l| !l.uploads.is_empty());
    let document = Manifest::document(entries, trusted_entry).map(|mut doc| {
        doc.trusted_removed = trusted_removed;
        if let Some(before) = &previous {
            doc.retiring = removed_objects(before, c);
            // Retired with the next publication of a list; kept until then.
            if !changed {
                doc.retiring.extend(before.retiring.iter().cloned());
            }
            doc.retiring.sort();
            doc.retiring.dedup();
        }
        doc
    });
    // Unchanged lists are their manifest entries again: the document is
    // then the one in the bucket, and is not written again.
    let manifest = match (&previous, document) {
        (Some(before), Some(doc)) if *before == doc => None,
        (_, doc) => doc,
    };
    let retires = match (&previous, &manifest) {
        (Some(before), Some(doc)) => retired(before, doc, c, prefix, changed),
        _ => Vec::new(),
    };
    Ok(RunLists {
        threat,
        trusted,
        trusted_removed,
        manifest,
        retires,
    })
}

/// The current objects of the lists `before` names that the configuration
/// no longer has (and of a trusted list it no longer has).
fn removed_objects(before: &Manifest, c: &Config) -> Vec<String> {
    let configured = |name: &str| c.threat_lists.iter().any(|l| l.name == name);
    let mut out: Vec<String> = before
        .lists
        .iter()
        .filter(|l| l.name.as_deref().is_some_and(|n| !configured(n)))
        .flat_map(|l| l.keys().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    if c.trusted_list.is_none()
        && let Some(t) = &before.trusted
    {
        out.push(t.key.clone());
    }
    out
}

/// The objects that publishing `doc` over `before` retires: per list, the
/// objects two publications back; for a list no longer configured, its
/// previous ones; with a new list's content (`changed`), the objects of
/// lists removed earlier. Never an object `doc` still names.
fn retired(
    before: &Manifest,
    doc: &Manifest,
    c: &Config,
    prefix: &str,
    changed: bool,
) -> Vec<String> {
    let live = doc.live_keys();
    let before_lists: Vec<Manifest> = if before.lists.is_empty() {
        vec![before.clone()]
    } else {
        before.lists.clone()
    };
    let mut out: BTreeSet<String> = BTreeSet::new();
    for (i, b) in before_lists.iter().enumerate() {
        let name = b.name.clone().unwrap_or_else(|| {
            if i == 0 {
                c.threat_lists[0].name.clone()
            } else {
                String::new()
            }
        });
        let now = doc.lists.iter().find(|l| l.name.as_deref() == Some(&name));
        match now {
            Some(n) => out.extend(n.retires_all(b).into_iter().map(str::to_owned)),
            None => {
                out.extend(b.previous_key.clone());
                out.extend(b.previous_parts.iter().cloned());
            }
        }
    }
    if let Some(b) = &before.trusted
        && let Some(old) = &b.previous_key
        && doc
            .trusted
            .as_ref()
            .is_none_or(|t| Some(old) != t.previous_key.as_ref())
    {
        out.insert(old.clone());
    }
    if changed {
        out.extend(before.retiring.iter().cloned());
    }
    let lists = publish::lists_prefix(prefix);
    out.into_iter()
        .filter(|k| !live.contains(k) && k.starts_with(&lists))
        .collect()
}

/// One threat list: built again only when a feed changed.
async fn one_threat_list(
    c: &Config,
    s3: &S3,
    list: &ThreatList,
    before: Option<Manifest>,
    now: SystemTime,
) -> Result<OneList, Error> {
    let (bucket, prefix) = (c.bucket.name.as_str(), c.bucket.prefix.as_str());
    let settings = build_settings(c, list);
    let settle = settle_of(list);
    // A list an older guardsync put directly under the prefix is published
    // again under `lists/`, the only folder the organization may read.
    let published = match &before {
        Some(m) if m.key == publish::object_key(prefix, &m.sha256) => s3
            .exists(bucket, &m.key)
            .await
            .map_err(publish::PublishError::from)?,
        _ => false,
    };
    let built = match (&before, published) {
        (Some(m), true) => {
            match feed::build_if_changed(&settings, &m.previous(), now, &Default::default()).await?
            {
                feed::Outcome::NotModified => {
                    return Ok(OneList::published(&list.name, m, false, settle));
                }
                feed::Outcome::Built(b) => b,
            }
        }
        (m, _) => {
            let prev = m.as_ref().map(Manifest::previous);
            feed::build(&settings, prev.as_ref(), now).await?
        }
    };
    if let Some(m) = before
        .as_ref()
        .filter(|m| published && m.sha256 == built.sha256)
    {
        // Same bytes as the published list: nothing to upload, entry kept.
        return Ok(OneList::published(&list.name, m, true, settle));
    }
    let key = publish::object_key(prefix, &built.sha256);
    let mut entry = Manifest::new(&built, &key, now).after(before.as_ref());
    entry.name = Some(list.name.clone());
    let (sha256, entries, addresses) = (built.sha256.clone(), built.entries, built.addresses);
    let (parts, uploads) = split_built(&list.name, prefix, built);
    entry.parts = parts.clone();
    Ok(OneList {
        name: list.name.clone(),
        sha256,
        key,
        entries,
        addresses,
        parts,
        uploads,
        rebuilt: true,
        settle,
        entry: Some(entry),
    })
}

/// The trusted list: the configured networks, aggregated as the threat
/// lists are; uploaded when its content is new or its object is gone.
async fn trusted_list(
    s3: &S3,
    bucket: &str,
    prefix: &str,
    t: &crate::config::TrustedList,
    before: Option<&TrustedManifest>,
    settle: Duration,
) -> Result<OneList, Error> {
    let set = feed::hygiene::from_nets(&t.cidrs);
    let bytes = set.render();
    let sha256 = sha256_hex(&bytes);
    let key = publish::object_key(prefix, &sha256);
    let present = match before {
        Some(b) if b.sha256 == sha256 && b.key == key => s3
            .exists(bucket, &key)
            .await
            .map_err(publish::PublishError::from)?,
        _ => false,
    };
    Ok(OneList {
        name: t.name.clone(),
        sha256: sha256.clone(),
        key: key.clone(),
        entries: set.cidr_count(),
        addresses: set.addresses(),
        parts: Vec::new(),
        uploads: if present {
            Vec::new()
        } else {
            vec![Upload { key, bytes, sha256 }]
        },
        rebuilt: true,
        settle,
        entry: None,
    })
}

/// The lists the last run put in place (`--retry-failed`); says so when a
/// newer one has been published since.
pub(crate) async fn recorded(c: &Config, s3: &S3, record: &RunRecord) -> Result<RunLists, Error> {
    let (bucket, prefix) = (c.bucket.name.as_str(), c.bucket.prefix.as_str());
    let settle = settle_of(&c.threat_lists[0]);
    let threat: Vec<OneList> = record
        .threat_lists()
        .iter()
        .map(|r| {
            let s = c
                .threat_lists
                .iter()
                .find(|l| l.name == r.name)
                .map_or(settle, settle_of);
            OneList::recorded(r, &c.threat_lists[0].name, s)
        })
        .collect();
    for l in &threat {
        if !s3
            .exists(bucket, &l.key)
            .await
            .map_err(publish::PublishError::from)?
        {
            return Err(Error::RecordedListGone {
                location: publish::s3_url(bucket, &l.key),
            });
        }
    }
    if let Some(m) = publish::read_manifest(s3, bucket, prefix).await?
        && m.sha256 != record.list.sha256
    {
        let (a, b) = (&record.list.sha256, &m.sha256);
        tracing::warn!(
            "the published list changed since the last apply ({} -> {}); --retry-failed \
             puts the recorded list in place; run a full apply to roll out the new one",
            &a[..12.min(a.len())],
            &b[..12.min(b.len())]
        );
    }
    Ok(RunLists {
        threat,
        trusted: record
            .trusted
            .as_ref()
            .map(|r| OneList::recorded(r, &r.name, settle)),
        trusted_removed: false,
        manifest: None,
        retires: Vec::new(),
    })
}

//! One run at a time: a lease object, `<prefix>state/lease.json`, taken with
//! an S3 conditional write before an apply changes anything, renewed while
//! the run lives (a heartbeat) and deleted when it ends. Two applies against
//! the same bucket never interleave; a run that died stops renewing, so its
//! lease lapses within [`ttl`] (2 minutes) and the next apply takes it over.
//! The lease's shape and its expiry are pure; [`acquire`], the heartbeat and
//! [`Lease::release`] do the S3 I/O.
//!
//! S3 conditional writes (`If-None-Match: *`, `If-Match: <etag>`) are atomic:
//! of two writers, exactly one succeeds
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::aws::s3::S3;
use crate::cloud::AwsError;
use crate::feed::parse::FileDate;

/// How long a lease holds without being renewed: a dead run blocks the next
/// one for at most this long. `GUARDSYNC_LEASE_TTL_SECS` overrides it.
pub(crate) fn ttl() -> Duration {
    crate::tuning::duration("GUARDSYNC_LEASE_TTL_SECS", Duration::from_secs, DEFAULT_TTL)
}

/// [`ttl`] by default.
const DEFAULT_TTL: Duration = Duration::from_secs(120);

/// How often a live run renews its lease: four times per [`ttl`], so that
/// three renewals in a row may fail (S3 throttling, a slow network) before
/// the lease lapses under a live run.
fn heartbeat(ttl: Duration) -> Duration {
    (ttl / 4).max(Duration::from_millis(250))
}

/// The lease's key.
pub fn key(prefix: &str) -> String {
    format!("{prefix}state/lease.json")
}

/// What the lease object says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Who holds it: host, process id and a random nonce.
    pub owner: String,
    /// The command (`apply`, `apply --retry-failed`).
    pub command: String,
    /// When it was taken, RFC 3339.
    pub acquired_at: String,
    /// When the holder last renewed it, RFC 3339.
    #[serde(default)]
    pub renewed_at: Option<String>,
    /// Seconds since the epoch after which anyone may take it over: the
    /// last renewal plus [`ttl`].
    pub expires_unix: u64,
}

impl Holder {
    /// Whether the lease has lapsed at `now`.
    pub fn expired(&self, now: SystemTime) -> bool {
        unix(now) >= self.expires_unix
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn rfc3339(secs: u64) -> String {
    FileDate {
        unix: i64::try_from(secs).unwrap_or(i64::MAX),
    }
    .to_string()
}

/// Why the lease could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Another run holds it.
    #[error(
        "another guardsync run holds the lease {location} ({} by {}, since {}, until {} unless \
         renewed); nothing was changed. A live run renews its lease; one that died lets it \
         lapse within {} s: try again then, or delete it if you know that run is gone: aws s3 \
         rm {location}",
        .holder.command, .holder.owner, .holder.acquired_at, rfc3339(.holder.expires_unix),
        ttl().as_secs()
    )]
    Held {
        /// `s3://bucket/key`.
        location: String,
        /// What the lease says.
        holder: Box<Holder>,
    },
    /// S3 failed.
    #[error("failed to take the run lease: {0}")]
    S3(#[from] AwsError),
}

/// A lease this run holds; a task renews it until [`Lease::release`].
#[derive(Debug)]
pub(crate) struct Lease {
    bucket: String,
    key: String,
    heartbeat: tokio::task::JoinHandle<()>,
    /// Set by the heartbeat when another run took the lease over.
    lost: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// The lease body for `holder` renewed at `now`.
fn renewed(holder: &Holder, now: SystemTime) -> Holder {
    Holder {
        renewed_at: Some(rfc3339(unix(now))),
        expires_unix: unix(now) + ttl().as_secs(),
        ..holder.clone()
    }
}

/// Take the lease for `command`, or say who holds it.
pub(crate) async fn acquire(
    s3: &S3,
    bucket: &str,
    prefix: &str,
    command: &str,
) -> Result<Lease, LeaseError> {
    let key = key(prefix);
    let now = SystemTime::now();
    let me = Holder {
        owner: format!(
            "{}/pid {}/{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "unknown-host".into()),
            std::process::id(),
            &hex::encode(sha2::Sha256::digest(
                format!("{now:?}{}", std::process::id()).as_bytes()
            ))[..8]
        ),
        command: command.to_owned(),
        acquired_at: rfc3339(unix(now)),
        renewed_at: None,
        expires_unix: unix(now) + ttl().as_secs(),
    };
    let body = serde_json::to_vec_pretty(&me).unwrap_or_default();
    let take = |etag: String| Lease::start(s3, bucket, &key, me.clone(), etag);
    if let Some(etag) = s3.put_if(bucket, &key, body.clone(), None).await? {
        return Ok(take(etag));
    }
    // Someone holds it, or held it and died: look, and take it over only if
    // it has lapsed, on the condition that nobody else did in between.
    let location = super::s3_url(bucket, &key);
    let Some((bytes, etag)) = s3.get_with_etag(bucket, &key).await? else {
        // Released between our two calls: try once more.
        return match s3.put_if(bucket, &key, body, None).await? {
            Some(etag) => Ok(take(etag)),
            None => Err(LeaseError::Held {
                location,
                holder: Box::new(unreadable()),
            }),
        };
    };
    let holder = serde_json::from_slice::<Holder>(&bytes).unwrap_or_else(|_| unreadable());
    if !holder.expired(now) {
        return Err(LeaseError::Held {
            location,
            holder: Box::new(holder),
        });
    }
    tracing::warn!(
        owner = holder.owner.as_str(),
        "the run lease lapsed without being released (a run died?); taking it over"
    );
    if let Some(etag) = s3.put_if(bucket, &key, body, Some(&etag)).await? {
        Ok(take(etag))
    } else {
        let holder = match s3.get_with_etag(bucket, &key).await? {
            Some((b, _)) => serde_json::from_slice(&b).unwrap_or_else(|_| unreadable()),
            None => unreadable(),
        };
        Err(LeaseError::Held {
            location,
            holder: Box::new(holder),
        })
    }
}

/// A lease object guardsync cannot read: treated as held until it expires,
/// which it never does, so the message tells the user to delete it.
fn unreadable() -> Holder {
    Holder {
        owner: "unknown (the lease object is not guardsync's JSON)".into(),
        command: "unknown".into(),
        acquired_at: "unknown".into(),
        renewed_at: None,
        expires_unix: u64::MAX,
    }
}

impl Lease {
    /// Hold the lease written with `etag`: renew it every [`heartbeat`],
    /// each time on the condition that it is still the object we wrote.
    fn start(s3: &S3, bucket: &str, key: &str, me: Holder, mut etag: String) -> Lease {
        let lost = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s3, b, k, flag) = (s3.clone(), bucket.to_owned(), key.to_owned(), lost.clone());
        let heartbeat = tokio::spawn(async move {
            let every = heartbeat(ttl());
            loop {
                tokio::time::sleep(every).await;
                let body =
                    serde_json::to_vec_pretty(&renewed(&me, SystemTime::now())).unwrap_or_default();
                match s3.put_if(&b, &k, body, Some(&etag)).await {
                    Ok(Some(new)) => etag = new,
                    Ok(None) => {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                        tracing::error!(
                            "the run lease s3://{b}/{k} was taken over by another run (this one \
                             could not renew it for {} s); two applies may now overlap",
                            ttl().as_secs()
                        );
                        return;
                    }
                    Err(e) => tracing::warn!("failed to renew the run lease: {e}; trying again"),
                }
            }
        });
        Lease {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            heartbeat,
            lost,
        }
    }

    /// Give the lease back (at the end of the run, whatever its outcome),
    /// unless another run has taken it over.
    pub(crate) async fn release(self, s3: &S3) {
        self.heartbeat.abort();
        let _ = self.heartbeat.await;
        if self.lost.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        if let Err(e) = s3.delete(&self.bucket, &self.key).await {
            tracing::warn!(
                "failed to release the run lease s3://{}/{}: {e}; it expires on its own",
                self.bucket,
                self.key
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry() {
        let h = Holder {
            owner: "x".into(),
            command: "apply".into(),
            acquired_at: "t".into(),
            renewed_at: None,
            expires_unix: 100,
        };
        assert!(!h.expired(UNIX_EPOCH + Duration::from_secs(99)));
        assert!(h.expired(UNIX_EPOCH + Duration::from_secs(100)));
        assert!(!unreadable().expired(SystemTime::now()));
        let r = renewed(&h, UNIX_EPOCH + Duration::from_secs(1000));
        assert_eq!(r.expires_unix, 1000 + ttl().as_secs());
        assert_eq!(r.renewed_at.as_deref(), Some("1970-01-01T00:16:40Z"));
        assert_eq!((r.owner, r.acquired_at), (h.owner, h.acquired_at));
    }

    /// A dead run's lease lapses within 2 minutes, and a live run renews
    /// its lease often enough to miss three renewals in a row.
    #[test]
    fn a_dead_run_blocks_for_at_most_two_minutes() {
        assert!(DEFAULT_TTL <= Duration::from_secs(120));
        assert_eq!(heartbeat(DEFAULT_TTL), Duration::from_secs(30));
        assert!(heartbeat(DEFAULT_TTL) * 3 < DEFAULT_TTL);
        assert_eq!(
            heartbeat(Duration::from_secs(1)),
            Duration::from_millis(250)
        );
    }

    #[test]
    fn the_message_says_who_and_how_to_recover() {
        let e = LeaseError::Held {
            location: "s3://b/guardduty/state/lease.json".into(),
            holder: Box::new(Holder {
                owner: "host/pid 7/abcd".into(),
                command: "apply".into(),
                acquired_at: "2026-11-30T08:00:00Z".into(),
                renewed_at: None,
                expires_unix: 1_796_029_200,
            }),
        };
        assert_eq!(
            e.to_string(),
            format!(
                "another guardsync run holds the lease s3://b/guardduty/state/lease.json (apply \
                 by host/pid 7/abcd, since 2026-11-30T08:00:00Z, until 2026-11-30T09:00:00Z \
                 unless renewed); nothing was changed. A live run renews its lease; one that \
                 died lets it lapse within {} s: try again then, or delete it if you know that \
                 run is gone: aws s3 rm s3://b/guardduty/state/lease.json",
                ttl().as_secs()
            )
        );
    }
}

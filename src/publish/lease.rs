//! One run at a time: a lease object, `<prefix>state/lease.json`, taken with
//! an S3 conditional write before an apply changes anything and deleted when
//! it ends. Two applies against the same bucket never interleave; a run that
//! died leaves a lease that expires, so it cannot block the next one forever.
//! The lease's shape and its expiry are pure; [`acquire`] and [`Lease::release`]
//! do the S3 I/O.
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

/// How long a lease holds without its holder: longer than a Lambda run
/// (15 minutes) with room to spare. `GUARDSYNC_LEASE_TTL_SECS` overrides it.
pub(crate) fn ttl() -> Duration {
    crate::tuning::duration(
        "GUARDSYNC_LEASE_TTL_SECS",
        Duration::from_secs,
        Duration::from_secs(30 * 60),
    )
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
    /// Seconds since the epoch after which anyone may take it over.
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
        "another guardsync run holds the lease {location} ({} by {}, since {}, until {}); \
         nothing was changed. If that run is gone, wait for the lease to expire or delete \
         it: aws s3 rm {location}",
        .holder.command, .holder.owner, .holder.acquired_at, rfc3339(.holder.expires_unix)
    )]
    Held {
        /// `s3://bucket/key`.
        location: String,
        /// What the lease says.
        holder: Holder,
    },
    /// S3 failed.
    #[error("failed to take the run lease: {0}")]
    S3(#[from] AwsError),
}

/// A lease this run holds.
#[derive(Debug)]
pub(crate) struct Lease {
    bucket: String,
    key: String,
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
        expires_unix: unix(now) + ttl().as_secs(),
    };
    let body = serde_json::to_vec_pretty(&me).unwrap_or_default();
    let lease = Lease {
        bucket: bucket.to_owned(),
        key: key.clone(),
    };
    if s3.put_if(bucket, &key, body.clone(), None).await? {
        return Ok(lease);
    }
    // Someone holds it, or held it and died: look, and take it over only if
    // it has expired, on the condition that nobody else did in between.
    let location = super::s3_url(bucket, &key);
    let Some((bytes, etag)) = s3.get_with_etag(bucket, &key).await? else {
        // Released between our two calls: try once more.
        return if s3.put_if(bucket, &key, body, None).await? {
            Ok(lease)
        } else {
            Err(LeaseError::Held {
                location,
                holder: unreadable(),
            })
        };
    };
    let holder = serde_json::from_slice::<Holder>(&bytes).unwrap_or_else(|_| unreadable());
    if !holder.expired(now) {
        return Err(LeaseError::Held { location, holder });
    }
    tracing::warn!(
        owner = holder.owner.as_str(),
        "the run lease expired without being released (a run died?); taking it over"
    );
    if s3.put_if(bucket, &key, body, Some(&etag)).await? {
        Ok(lease)
    } else {
        let holder = match s3.get_with_etag(bucket, &key).await? {
            Some((b, _)) => serde_json::from_slice(&b).unwrap_or_else(|_| unreadable()),
            None => unreadable(),
        };
        Err(LeaseError::Held { location, holder })
    }
}

/// A lease object guardsync cannot read: treated as held until it expires,
/// which it never does, so the message tells the user to delete it.
fn unreadable() -> Holder {
    Holder {
        owner: "unknown (the lease object is not guardsync's JSON)".into(),
        command: "unknown".into(),
        acquired_at: "unknown".into(),
        expires_unix: u64::MAX,
    }
}

impl Lease {
    /// Give the lease back (at the end of the run, whatever its outcome).
    pub(crate) async fn release(self, s3: &S3) {
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
            expires_unix: 100,
        };
        assert!(!h.expired(UNIX_EPOCH + Duration::from_secs(99)));
        assert!(h.expired(UNIX_EPOCH + Duration::from_secs(100)));
        assert!(!unreadable().expired(SystemTime::now()));
    }

    #[test]
    fn the_message_says_who_and_how_to_recover() {
        let e = LeaseError::Held {
            location: "s3://b/guardduty/state/lease.json".into(),
            holder: Holder {
                owner: "host/pid 7/abcd".into(),
                command: "apply".into(),
                acquired_at: "2026-11-30T08:00:00Z".into(),
                expires_unix: 1_796_029_200,
            },
        };
        assert_eq!(
            e.to_string(),
            "another guardsync run holds the lease s3://b/guardduty/state/lease.json (apply by \
             host/pid 7/abcd, since 2026-11-30T08:00:00Z, until 2026-11-30T09:00:00Z); nothing \
             was changed. If that run is gone, wait for the lease to expire or delete it: aws s3 \
             rm s3://b/guardduty/state/lease.json"
        );
    }
}

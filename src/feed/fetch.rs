//! Fetching feeds: `https://` and `http://` with reqwest (rustls), and
//! `file://`. This module does I/O and decides nothing about the contents.
//!
//! Every download is capped at [`MAX_LIST_BYTES`](super::guards::MAX_LIST_BYTES)
//! while it streams, so an oversized (or endless) answer is refused without
//! ever being held whole in memory. Transient failures (connection errors,
//! timeouts, 408, 429 and 5xx answers) are retried with exponential backoff
//! and jitter; anything else fails at once. Conditional requests
//! (`If-None-Match`, `If-Modified-Since`) let a frequent run learn cheaply
//! that nothing changed.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use tokio::io::AsyncReadExt;
use url::Url;

use super::guards::MAX_LIST_BYTES;
use crate::util::chain;

/// How feeds are fetched.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Limit on establishing a connection.
    pub connect_timeout: Duration,
    /// Limit on a whole request, body included.
    pub timeout: Duration,
    /// Attempts per feed, the first included.
    pub attempts: u32,
    /// Wait before the first retry; doubles each time (with jitter).
    pub backoff: Duration,
    /// Largest body accepted, in bytes.
    pub max_bytes: u64,
}

impl Default for FetchOptions {
    fn default() -> Self {
        // `GUARDSYNC_FEED_TIMEOUT_MS` shortens the per-request timeout (tests
        // of a feed that never answers).
        let timeout = crate::tuning::duration(
            "GUARDSYNC_FEED_TIMEOUT_MS",
            Duration::from_millis,
            Duration::from_secs(120),
        );
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            timeout,
            attempts: 3,
            backoff: Duration::from_secs(1),
            max_bytes: MAX_LIST_BYTES,
        }
    }
}

/// The validators of a previous download, for a conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Validators {
    /// The `ETag` the server sent.
    pub etag: Option<String>,
    /// The `Last-Modified` the server sent.
    pub last_modified: Option<String>,
}

/// What a fetch brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fetched {
    /// The feed's bytes, with the validators to remember.
    Body {
        /// The whole body.
        bytes: Vec<u8>,
        /// How to ask next time whether it changed.
        validators: Validators,
    },
    /// `304 Not Modified`: unchanged since the validators given.
    NotModified,
}

/// Why a feed could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchFailure {
    /// The server answered with an error status.
    #[error("the server answered HTTP {0}")]
    Status(StatusCode),
    /// The body is over the cap.
    #[error("the feed is over the {limit}-byte limit ({seen})")]
    TooLarge {
        /// The cap.
        limit: u64,
        /// What was seen: the declared length or the bytes read so far.
        seen: String,
    },
    /// A transport error (DNS, connection, TLS, timeout, body).
    #[error("{}", chain(.0))]
    Http(#[source] reqwest::Error),
    /// The download broke off (connection reset, body shorter than its
    /// declared length, timeout while reading): worth trying again.
    #[error("the download broke off: {}", chain(.0))]
    Cut(#[source] reqwest::Error),
    /// A `file://` feed could not be read.
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// The URL cannot be fetched (scheme, or a `file://` URL that is not a path).
    #[error("unsupported URL: {0}")]
    Unsupported(String),
}

impl FetchFailure {
    /// Whether trying again may help.
    fn is_transient(&self) -> bool {
        match self {
            FetchFailure::Status(s) => {
                s.is_server_error()
                    || *s == StatusCode::TOO_MANY_REQUESTS
                    || *s == StatusCode::REQUEST_TIMEOUT
            }
            FetchFailure::Http(e) => e.is_timeout() || e.is_connect() || e.is_body(),
            // reqwest reports a body cut short as a decode error; whatever
            // broke it, a new download may succeed.
            FetchFailure::Cut(_) => true,
            FetchFailure::TooLarge { .. } | FetchFailure::Io(_) | FetchFailure::Unsupported(_) => {
                false
            }
        }
    }
}

/// Fetches feeds; one HTTP client (and its connection pool) for all of them.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    options: FetchOptions,
}

impl Fetcher {
    /// A fetcher with the given options.
    pub(crate) fn new(options: FetchOptions) -> Result<Self, FetchFailure> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("guardsync/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .build()
            .map_err(FetchFailure::Http)?;
        Ok(Fetcher { client, options })
    }

    /// Fetch one feed, retrying transient failures.
    pub(crate) async fn fetch(
        &self,
        url: &Url,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchFailure> {
        let mut attempt = 1;
        loop {
            let result = match url.scheme() {
                "http" | "https" => self.fetch_http(url, validators).await,
                "file" => self.fetch_file(url).await,
                other => return Err(FetchFailure::Unsupported(format!("scheme {other}"))),
            };
            match result {
                Err(e) if e.is_transient() && attempt < self.options.attempts => {
                    let wait = backoff(self.options.backoff, attempt);
                    tracing::warn!(url = %url, attempt, error = %e, "retrying in {wait:?}");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn fetch_http(
        &self,
        url: &Url,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchFailure> {
        let mut request = self.client.get(url.clone());
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(date) = &v.last_modified {
                request = request.header(IF_MODIFIED_SINCE, date);
            }
        }
        let mut response = request.send().await.map_err(FetchFailure::Http)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED && validators.is_some() {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchFailure::Status(status));
        }
        let limit = self.options.max_bytes;
        if let Some(len) = response.content_length().filter(|&len| len > limit) {
            return Err(FetchFailure::TooLarge {
                limit,
                seen: format!("Content-Length {len}"),
            });
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let validators = Validators {
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchFailure::Cut)? {
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchFailure::TooLarge {
                    limit,
                    seen: format!("stopped after {} bytes", bytes.len() + chunk.len()),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body { bytes, validators })
    }

    async fn fetch_file(&self, url: &Url) -> Result<Fetched, FetchFailure> {
        let path = url
            .to_file_path()
            .map_err(|()| FetchFailure::Unsupported(format!("{url} is not a local path")))?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(FetchFailure::Io)?;
        let limit = self.options.max_bytes;
        let mut bytes = Vec::new();
        // Read one byte past the cap: enough to know it is over, never more.
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(FetchFailure::Io)?;
        if bytes.len() as u64 > limit {
            return Err(FetchFailure::TooLarge {
                limit,
                seen: format!("stopped after {} bytes", bytes.len()),
            });
        }
        Ok(Fetched::Body {
            bytes,
            validators: Validators::default(),
        })
    }
}

/// `base * 2^(attempt-1)`, plus up to half of that again as jitter.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << (attempt - 1).min(16));
    // Jitter without a random-number crate: the clock's nanoseconds are
    // uncorrelated between runs, which is all jitter needs.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    exp + exp.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let base = Duration::from_millis(100);
        for attempt in 1..5 {
            let exp = base * (1 << (attempt - 1));
            let b = backoff(base, attempt);
            assert!(b >= exp && b <= exp + exp / 2, "{attempt}: {b:?}");
        }
    }

    #[test]
    fn statuses_worth_retrying() {
        let transient =
            |s: u16| FetchFailure::Status(StatusCode::from_u16(s).expect("status")).is_transient();
        assert!(transient(503) && transient(500) && transient(429) && transient(408));
        assert!(!transient(404) && !transient(403) && !transient(400));
    }
}

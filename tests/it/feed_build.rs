//! `list build` end to end through the library: `file://` feeds, and a
//! local HTTP server for conditional requests, the size cap, timeouts and
//! retries.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use guardsync::feed::fetch::FetchOptions;
use guardsync::feed::{
    BuildSettings, FeedError, FeedSpec, Outcome, PreviousList, build_if_changed, build_with,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/firehol")
        .join(name)
}

fn settings(feeds: Vec<FeedSpec>) -> BuildSettings {
    BuildSettings {
        feeds,
        strip_reserved: true,
        allowlist: vec![],
        min_entries: 1,
        max_shrink_percent: Some(50),
        max_age_hours: None,
    }
}

fn file_feed(name: &str) -> FeedSpec {
    FeedSpec {
        name: name.to_owned(),
        url: Url::from_file_path(fixture(name)).expect("absolute path"),
    }
}

fn fast() -> FetchOptions {
    FetchOptions {
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_millis(800),
        attempts: 3,
        backoff: Duration::from_millis(10),
        ..FetchOptions::default()
    }
}

#[tokio::test]
async fn file_feeds_build_what_iprange_computes() {
    let names = ["firehol_level1.netset", "blocklist_de.ipset"];
    let mut s = settings(names.iter().map(|n| file_feed(n)).collect());
    s.strip_reserved = false;
    let built = build_with(&s, None, SystemTime::now(), &fast())
        .await
        .expect("builds");
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    assert_eq!(built.bytes, crate::common::iprange::run(&refs));

    // With strip_reserved: iprange FILES --except RESERVED.
    s.strip_reserved = true;
    let built = build_with(&s, None, SystemTime::now(), &fast())
        .await
        .expect("builds");
    let dir = tempfile::tempdir().expect("tempdir");
    let reserved = dir.path().join("reserved");
    let table: String = guardsync::feed::hygiene::RESERVED
        .iter()
        .map(|b| format!("{}/{}\n", std::net::Ipv4Addr::from(b.addr), b.len))
        .collect();
    std::fs::write(&reserved, table).expect("write");
    let mut args = refs.clone();
    args.push(Path::new("--except"));
    args.push(&reserved);
    assert_eq!(built.bytes, crate::common::iprange::run(&args));
    assert!(built.removed_reserved > 0, "level1 holds bogons");
    assert_eq!(
        built.feeds[0].file_date.as_deref(),
        Some("2024-01-23T09:17:57Z")
    );
    assert_eq!(built.feeds[0].entries, 1947);
    assert_eq!(
        built.entries,
        built.bytes.iter().filter(|&&b| b == b'\n').count() as u64
    );
}

#[tokio::test]
async fn stale_file_feed_trips_the_age_guard() {
    let mut s = settings(vec![file_feed("firehol_level1.netset")]);
    s.max_age_hours = Some(48);
    let e = build_with(&s, None, SystemTime::now(), &fast())
        .await
        .expect_err("the fixture is from January 2024");
    assert!(!e.is_usage());
    assert!(
        e.to_string()
            .contains("guard max_age_hours tripped: feed firehol_level1.netset (file://"),
        "{e}"
    );
}

#[tokio::test]
async fn missing_file_feed_names_the_feed() {
    let s = settings(vec![FeedSpec {
        name: "gone".to_owned(),
        url: Url::parse("file:///nonexistent/feed.netset").expect("url"),
    }]);
    let e = build_with(&s, None, SystemTime::now(), &fast())
        .await
        .expect_err("missing");
    assert!(matches!(e, FeedError::Fetch { .. }));
    assert!(
        e.to_string()
            .starts_with("failed to fetch feed gone (file:///nonexistent/feed.netset): "),
        "{e}"
    );
}

/// What the test server answers to the n-th request (0-based) with these headers.
type Handler = dyn Fn(usize, &str) -> Reply + Send + Sync;

enum Reply {
    /// Status line, extra headers, body.
    Http(&'static str, Vec<String>, Vec<u8>),
    /// Accept the request and never answer.
    Hang,
}

fn ok(body: &str, headers: &[&str]) -> Reply {
    Reply::Http(
        "200 OK",
        headers.iter().map(|h| (*h).to_owned()).collect(),
        body.as_bytes().to_vec(),
    )
}

/// A tiny HTTP/1.1 server: one answer per connection, request heads recorded.
async fn serve(handler: Arc<Handler>) -> (Url, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = Url::parse(&format!(
        "http://{}/list.netset",
        listener.local_addr().expect("addr")
    ))
    .expect("url");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let handler = Arc::clone(&handler);
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).to_lowercase();
                let n = {
                    let mut l = log.lock().expect("lock");
                    l.push(head.clone());
                    l.len() - 1
                };
                match handler(n, &head) {
                    Reply::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
                    Reply::Http(status, headers, body) => {
                        let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
                        for h in headers {
                            out.push_str(&h);
                            out.push_str("\r\n");
                        }
                        if !out.contains("content-length") {
                            out.push_str(&format!("content-length: {}\r\n", body.len()));
                        }
                        out.push_str("\r\n");
                        let _ = sock.write_all(out.as_bytes()).await;
                        let _ = sock.write_all(&body).await;
                        let _ = sock.shutdown().await;
                    }
                }
            });
        }
    });
    (url, seen)
}

fn http_feed(name: &str, url: &Url) -> FeedSpec {
    FeedSpec {
        name: name.to_owned(),
        url: url.clone(),
    }
}

const LIST: &str = "# This File Date  : Tue Jan 23 09:17:57 UTC 2024\n1.2.3.0/24\n5.6.7.8\n";

#[tokio::test]
async fn sends_user_agent_and_remembers_validators() {
    let (url, seen) = serve(Arc::new(|_, _| {
        ok(
            LIST,
            &[
                "etag: \"v1\"",
                "last-modified: Tue, 23 Jan 2024 09:17:57 GMT",
            ],
        )
    }))
    .await;
    let s = settings(vec![http_feed("a", &url)]);
    let built = build_with(&s, None, SystemTime::now(), &fast())
        .await
        .expect("builds");
    assert_eq!(built.bytes, b"1.2.3.0/24\n5.6.7.8\n");
    assert_eq!(built.feeds[0].etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        built.feeds[0].last_modified.as_deref(),
        Some("Tue, 23 Jan 2024 09:17:57 GMT")
    );
    let heads = seen.lock().expect("lock").clone();
    assert!(
        heads[0].contains(&format!(
            "user-agent: guardsync/{}",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        heads[0]
    );
    assert!(!heads[0].contains("if-none-match"));
}

fn previous(
    built_digest: String,
    feeds: &[(&str, Option<&str>, Option<&str>)],
    entries: u64,
) -> PreviousList {
    PreviousList {
        entries,
        feeds: feeds
            .iter()
            .map(|(n, e, l)| ((*n).to_owned(), e.map(str::to_owned), l.map(str::to_owned)))
            .collect(),
        settings_digest: Some(built_digest),
    }
}

#[tokio::test]
async fn unchanged_feeds_answer_304_and_nothing_is_rebuilt() {
    let (url, seen) = serve(Arc::new(|_, head| {
        if head.contains("if-none-match: \"v1\"")
            && head.contains("if-modified-since: tue, 23 jan 2024 09:17:57 gmt")
        {
            Reply::Http("304 Not Modified", vec![], vec![])
        } else {
            ok(LIST, &["etag: \"v1\""])
        }
    }))
    .await;
    let s = settings(vec![http_feed("a", &url)]);
    let prev = previous(
        s.digest(),
        &[("a", Some("\"v1\""), Some("Tue, 23 Jan 2024 09:17:57 GMT"))],
        2,
    );
    let outcome = build_if_changed(&s, &prev, SystemTime::now(), &fast())
        .await
        .expect("asks");
    assert_eq!(outcome, Outcome::NotModified);
    assert_eq!(seen.lock().expect("lock").len(), 1);

    // Settings changed since the manifest: the 304 shortcut is not sound,
    // so the feed is downloaded in full.
    let mut changed = s.clone();
    changed.allowlist = vec!["5.6.7.8/32".parse().expect("net")];
    let outcome = build_if_changed(&changed, &prev, SystemTime::now(), &fast())
        .await
        .expect("builds");
    let Outcome::Built(built) = outcome else {
        panic!("expected a build");
    };
    assert_eq!(built.bytes, b"1.2.3.0/24\n");
}

#[tokio::test]
async fn one_changed_feed_refetches_the_unchanged_one_in_full() {
    let (url_a, seen_a) = serve(Arc::new(|_, head| {
        if head.contains("if-none-match") {
            Reply::Http("304 Not Modified", vec![], vec![])
        } else {
            ok("1.1.1.1\n", &["etag: \"a1\""])
        }
    }))
    .await;
    let (url_b, _) = serve(Arc::new(|_, _| ok("2.2.2.2\n", &["etag: \"b2\""]))).await;
    let s = settings(vec![http_feed("a", &url_a), http_feed("b", &url_b)]);
    let prev = previous(
        s.digest(),
        &[("a", Some("\"a1\""), None), ("b", Some("\"b1\""), None)],
        2,
    );
    let outcome = build_if_changed(&s, &prev, SystemTime::now(), &fast())
        .await
        .expect("builds");
    let Outcome::Built(built) = outcome else {
        panic!("b changed");
    };
    assert_eq!(built.bytes, b"1.1.1.1\n2.2.2.2\n");
    assert_eq!(built.feeds[0].etag.as_deref(), Some("\"a1\""));
    assert_eq!(built.feeds[1].etag.as_deref(), Some("\"b2\""));
    let heads = seen_a.lock().expect("lock").clone();
    assert_eq!(heads.len(), 2);
    assert!(!heads[1].contains("if-none-match"));
}

#[tokio::test]
async fn declared_oversize_is_refused_before_the_body() {
    let (url, _) = serve(Arc::new(|_, _| {
        Reply::Http(
            "200 OK",
            vec!["content-length: 999999999".to_owned()],
            b"1.2.3.4\n".to_vec(),
        )
    }))
    .await;
    let s = settings(vec![http_feed("big", &url)]);
    let e = build_with(&s, None, SystemTime::now(), &fast())
        .await
        .expect_err("too big");
    assert_eq!(
        e.to_string(),
        format!(
            "failed to fetch feed big ({url}): the feed is over the 35000000-byte limit (Content-Length 999999999); the last published list stays in force"
        )
    );
}

#[tokio::test]
async fn streamed_oversize_stops_at_the_cap() {
    // No Content-Length: the body is streamed and cut off at the cap.
    let (url, _) = serve(Arc::new(|_, _| {
        Reply::Http(
            "200 OK",
            vec![
                "transfer-encoding: identity".to_owned(),
                "content-length-x: none".to_owned(),
            ],
            "1.2.3.4\n".repeat(2000).into_bytes(),
        )
    }))
    .await;
    let s = settings(vec![http_feed("big", &url)]);
    let options = FetchOptions {
        max_bytes: 1000,
        ..fast()
    };
    let e = build_with(&s, None, SystemTime::now(), &options)
        .await
        .expect_err("too big");
    assert!(e.to_string().contains("over the 1000-byte limit"), "{e}");
}

#[tokio::test]
async fn file_feed_over_the_cap_is_refused() {
    let s = settings(vec![file_feed("blocklist_de.ipset")]);
    let options = FetchOptions {
        max_bytes: 10_000,
        ..fast()
    };
    let e = build_with(&s, None, SystemTime::now(), &options)
        .await
        .expect_err("too big");
    assert!(
        e.to_string()
            .contains("over the 10000-byte limit (stopped after 10001 bytes)"),
        "{e}"
    );
}

#[tokio::test]
async fn transient_errors_are_retried() {
    let (url, seen) = serve(Arc::new(|n, _| {
        if n < 2 {
            Reply::Http("503 Service Unavailable", vec![], b"busy".to_vec())
        } else {
            ok("1.2.3.4\n", &[])
        }
    }))
    .await;
    let s = settings(vec![http_feed("flaky", &url)]);
    let built = build_with(&s, None, SystemTime::now(), &fast())
        .await
        .expect("third time lucky");
    assert_eq!(built.bytes, b"1.2.3.4\n");
    assert_eq!(seen.lock().expect("lock").len(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (url, seen) = serve(Arc::new(|_, _| {
        Reply::Http("404 Not Found", vec![], b"no".to_vec())
    }))
    .await;
    let s = settings(vec![http_feed("gone", &url)]);
    let e = build_with(&s, None, SystemTime::now(), &fast())
        .await
        .expect_err("404");
    assert_eq!(seen.lock().expect("lock").len(), 1);
    assert!(
        e.to_string()
            .contains("the server answered HTTP 404 Not Found"),
        "{e}"
    );
}

#[tokio::test]
async fn a_hanging_server_times_out_after_the_retries() {
    let (url, seen) = serve(Arc::new(|_, _| Reply::Hang)).await;
    let s = settings(vec![http_feed("slow", &url)]);
    let options = FetchOptions {
        timeout: Duration::from_millis(200),
        attempts: 2,
        ..fast()
    };
    let started = std::time::Instant::now();
    let e = build_with(&s, None, SystemTime::now(), &options)
        .await
        .expect_err("timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(seen.lock().expect("lock").len(), 2);
    assert!(e.to_string().contains("failed to fetch feed slow"), "{e}");
    assert!(e.to_string().to_lowercase().contains("timed out"), "{e}");
}

#[tokio::test]
async fn an_html_error_page_is_refused() {
    let (url, _) = serve(Arc::new(|_, _| {
        ok("<html><body>Rate limited</body></html>\n", &[])
    }))
    .await;
    let s = settings(vec![http_feed("web", &url)]);
    let e = build_with(&s, None, SystemTime::now(), &fast())
        .await
        .expect_err("html");
    assert!(
        e.to_string().starts_with(&format!(
            "failed to use feed web ({url}): 1 of its 1 data lines are not valid entries"
        )),
        "{e}"
    );
}

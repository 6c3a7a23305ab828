//! Feed faults against a published list (issue #8, part 2): once a list is
//! published and every ThreatIntelSet is in place, a feed server that
//! misbehaves (error statuses, resets, truncated, empty, oversized or
//! nonsensical bodies, stale or shrunken lists) makes `guardsync apply` exit 1,
//! say why on stderr (naming the feed when the fault is one feed's), and
//! change nothing: no object uploaded, the manifest and every ThreatIntelSet
//! exactly as they were (see `docs/RELIABILITY.md`, "Feed faults").
//!
//! The feed comes from a local HTTP server on 127.0.0.1 (one per test
//! process); each case is a path on it, so one configuration differs from the
//! next only by its feed URL. The published state is made once and every case
//! is compared against that one snapshot. What a user reads on stderr is
//! snapshotted (`tests/it/snapshots/it__feed_faults__*.snap`) with ports, dates and
//! backoff delays masked.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::gs::{BUCKET, config, run, seed_demo};
use crate::common::{ADMIN, Emulator, emulator};
use guardsync::feed::guards::MAX_LIST_BYTES;
use guardsync::feed::parse::FileDate;
use test_case::test_case;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The demo's standalone account (a ThreatIntelSet of its own in every region).
const STANDALONE: &str = "777777777777";

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

/// The feed's name in the configuration, which every message must name.
const FEED: &str = "firehol_level1";

/// The manifest next to the list objects (`bucket.prefix` is `guardduty/`).
const MANIFEST: &str = "guardduty/manifest.json";

/// The one object an aborted apply may write: its run lease, taken and given
/// back (`<prefix>state/lease.json`, the bookkeeping the README's "What guardsync puts in the bucket" allows).
const LEASE: &str = "/org-threat-lists-111111111111/guardduty/state/lease.json";

/// How the feed server answers on one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The FireHOL level1 snapshot, dated now: what gets published.
    Healthy,
    /// `404 Not Found`.
    NotFound,
    /// `500 Internal Server Error`, every time.
    ServerError,
    /// Half the body, then the socket is closed with a TCP reset.
    Reset,
    /// Accepts the request and never answers.
    Hang,
    /// `Content-Length` of the whole list, half of it sent, then a clean close.
    Truncated,
    /// `200 OK` with an empty body.
    Empty,
    /// `200 OK` with an HTML error page.
    Html,
    /// `200 OK`, no length, a body that never ends (streamed past the 35 MB cap).
    Oversize,
    /// Only reserved space: 10.0.0.0/8 and 192.168.0.0/16.
    Reserved,
    /// The snapshot dated 72 hours ago (the limit is 48).
    Stale,
    /// Every tenth entry of the snapshot, dated now.
    Shrunk,
    /// One line of 10 MB.
    LongLine,
}

impl Fault {
    const ALL: [Fault; 13] = [
        Fault::Healthy,
        Fault::NotFound,
        Fault::ServerError,
        Fault::Reset,
        Fault::Hang,
        Fault::Truncated,
        Fault::Empty,
        Fault::Html,
        Fault::Oversize,
        Fault::Reserved,
        Fault::Stale,
        Fault::Shrunk,
        Fault::LongLine,
    ];

    /// The URL path segment and snapshot name.
    fn slug(self) -> &'static str {
        match self {
            Fault::Healthy => "healthy",
            Fault::NotFound => "http_404",
            Fault::ServerError => "http_500",
            Fault::Reset => "connection_reset",
            Fault::Hang => "timeout",
            Fault::Truncated => "truncated_body",
            Fault::Empty => "empty_body",
            Fault::Html => "html_error_page",
            Fault::Oversize => "over_the_cap",
            Fault::Reserved => "only_reserved_space",
            Fault::Stale => "stale_file_date",
            Fault::Shrunk => "shrunk_list",
            Fault::LongLine => "ten_megabyte_line",
        }
    }

    fn from_slug(slug: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.slug() == slug)
    }
}

/// The local feed server: its address and how often each path was asked for.
struct FeedServer {
    /// `http://127.0.0.1:PORT`.
    base: String,
    hits: Arc<Mutex<HashMap<&'static str, usize>>>,
}

impl FeedServer {
    fn url(&self, fault: Fault) -> String {
        format!("{}/{}/{FEED}.netset", self.base, fault.slug())
    }

    fn hits(&self, fault: Fault) -> usize {
        let hits = self.hits.lock().expect("hit counter");
        hits.get(fault.slug()).copied().unwrap_or(0)
    }
}

/// The feed server of this test process, started on first use on its own
/// thread and runtime, so that it keeps answering while a test waits for the
/// guardsync process.
fn feed_server() -> &'static FeedServer {
    static SERVER: OnceLock<FeedServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the feed server");
        listener.set_nonblocking(true).expect("non-blocking");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("feed server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                while let Ok((sock, _)) = listener.accept().await {
                    tokio::spawn(answer(sock, Arc::clone(&counter)));
                }
            });
        });
        FeedServer { base, hits }
    })
}

/// Read one request head and answer it as its path's fault says.
async fn answer(mut sock: TcpStream, hits: Arc<Mutex<HashMap<&'static str, usize>>>) {
    // `GET /SLUG/firehol_level1.netset HTTP/1.1`, then headers up to a blank line.
    let mut request = String::new();
    {
        let mut reader = BufReader::new(&mut sock);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) if request.is_empty() => request.clone_from(&line),
                Ok(_) => {}
            }
        }
    }
    let fault = request
        .split_whitespace()
        .nth(1)
        .and_then(|path| path.split('/').nth(1))
        .and_then(Fault::from_slug);
    let Some(fault) = fault else {
        let _ = respond(&mut sock, "404 Not Found", &[], b"no such case\n").await;
        return;
    };
    *hits
        .lock()
        .expect("hit counter")
        .entry(fault.slug())
        .or_default() += 1;
    let now = unix_now();
    match fault {
        Fault::Healthy => {
            let _ = respond(&mut sock, "200 OK", &[], &snapshot(now)).await;
        }
        Fault::NotFound => {
            let _ = respond(&mut sock, "404 Not Found", &[], b"Not Found\n").await;
        }
        Fault::ServerError => {
            let body = b"Internal Server Error\n";
            let _ = respond(&mut sock, "500 Internal Server Error", &[], body).await;
        }
        Fault::Reset | Fault::Truncated => {
            let body = snapshot(now);
            let length = format!("content-length: {}", body.len());
            let half = &body[..body.len() / 2];
            let _ = respond(&mut sock, "200 OK", &[&length], half).await;
            if fault == Fault::Reset {
                // SO_LINGER 0: close() sends RST instead of FIN.
                let _ = sock.set_zero_linger();
            } else {
                let _ = sock.shutdown().await;
            }
        }
        Fault::Hang => {
            // Hold the connection, silent, until the client gives up.
            let mut buf = [0u8; 64];
            while let Ok(n) = sock.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }
        Fault::Empty => {
            let _ = respond(&mut sock, "200 OK", &[], b"").await;
        }
        Fault::Html => {
            let page = "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n\
                        <body><h1>Service Unavailable</h1>\n<p>Please try again later.</p>\n\
                        </body></html>\n";
            let _ = respond(
                &mut sock,
                "200 OK",
                &["content-type: text/html"],
                page.as_bytes(),
            )
            .await;
        }
        Fault::Oversize => stream_forever(&mut sock).await,
        Fault::Reserved => {
            let body = format!("{}10.0.0.0/8\n192.168.0.0/16\n", header(now));
            let _ = respond(&mut sock, "200 OK", &[], body.as_bytes()).await;
        }
        Fault::Stale => {
            let _ = respond(&mut sock, "200 OK", &[], &snapshot(now - 72 * 3600)).await;
        }
        Fault::Shrunk => {
            let mut body = header(now).into_bytes();
            for line in entries().step_by(10) {
                body.extend_from_slice(line.as_bytes());
                body.push(b'\n');
            }
            let _ = respond(&mut sock, "200 OK", &[], &body).await;
        }
        Fault::LongLine => {
            let mut body = "1.2.3.4.".repeat(10 * 1024 * 1024 / 8).into_bytes();
            body.push(b'\n');
            let _ = respond(&mut sock, "200 OK", &[], &body).await;
        }
    }
}

/// Write a whole HTTP/1.1 answer; `Content-Length` is the body's unless given.
async fn respond(
    sock: &mut TcpStream,
    status: &str,
    headers: &[&str],
    body: &[u8],
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    if !headers.iter().any(|h| h.starts_with("content-length")) {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    sock.write_all(out.as_bytes()).await?;
    sock.write_all(body).await
}

/// A body without a length, one reused 64 KiB chunk at a time, until the
/// client hangs up (or, should it never, a megabyte past the cap).
async fn stream_forever(sock: &mut TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n";
    if sock.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = "185.220.101.0/24\n".repeat(64 * 1024 / 17).into_bytes();
    let mut sent = 0u64;
    while sent <= MAX_LIST_BYTES + 1_000_000 {
        if sock.write_all(&chunk).await.is_err() {
            return;
        }
        sent += chunk.len() as u64;
    }
    let _ = sock.shutdown().await;
}

fn unix_now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(secs).expect("fits")
}

/// `date -u` as FireHOL writes it: `Tue Jan 23 09:17:57 UTC 2024`.
fn firehol_date(unix: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // RFC 3339 from the library: 2024-01-23T09:17:57Z.
    let rfc = FileDate { unix }.to_string();
    let month: usize = rfc[5..7].parse().expect("month");
    let weekday = WEEKDAYS[usize::try_from(unix.div_euclid(86_400).rem_euclid(7)).expect("0-6")];
    format!(
        "{weekday} {} {} {} UTC {}",
        MONTHS[month - 1],
        rfc[8..10].trim_start_matches('0'),
        &rfc[11..19],
        &rfc[..4]
    )
}

fn fixture_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        std::fs::read_to_string(crate::common::gs::fixtures().join("firehol_level1.netset"))
            .expect("read the level1 fixture")
    })
}

/// The data lines of the snapshot.
fn entries() -> impl Iterator<Item = &'static str> {
    fixture_text().lines().filter(|l| !l.starts_with('#'))
}

/// The snapshot's comment header, with `# This File Date` set to `unix`.
fn header(unix: i64) -> String {
    let mut out = String::new();
    for line in fixture_text().lines().take_while(|l| l.starts_with('#')) {
        if line.starts_with("# This File Date") {
            out.push_str(&format!("# This File Date  : {}\n", firehol_date(unix)));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The whole snapshot, dated `unix`.
fn snapshot(unix: i64) -> Vec<u8> {
    let mut out = header(unix);
    for line in entries() {
        out.push_str(line);
        out.push('\n');
    }
    out.into_bytes()
}

/// A configuration for the demo organization whose feed is `fault`'s path,
/// with the age guard on at its default, 48 hours.
fn fault_config(dir: &Path, fault: Fault) -> PathBuf {
    let path = config(dir, &REGIONS, "", "", "");
    let file_url = format!(
        "file://{}/firehol_level1.netset",
        crate::common::gs::fixtures().display()
    );
    let text = std::fs::read_to_string(&path)
        .expect("read the config")
        .replace(&file_url, &feed_server().url(fault))
        .replace("max_age_hours: null", "max_age_hours: 48");
    assert!(text.contains(&feed_server().url(fault)), "{text}");
    std::fs::write(&path, text).expect("write the config");
    path
}

fn s3(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(true)
            .build(),
    )
}

/// Everything a fault must leave alone.
#[derive(Debug, Clone, PartialEq)]
struct Published {
    /// Every object of the bucket: key, ETag, size.
    objects: Vec<(String, String, i64)>,
    /// The manifest's bytes.
    manifest: String,
    /// `emu.guardduty` of the administrator and the standalone account, per region.
    guardduty: Vec<serde_json::Value>,
}

async fn published(emu: &Emulator) -> Published {
    let s3 = s3(&emu.sdk("us-east-1").await);
    let listing = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .expect("list the bucket");
    let objects = listing
        .contents()
        .iter()
        .map(|o| {
            (
                o.key().unwrap_or_default().to_owned(),
                o.e_tag().unwrap_or_default().to_owned(),
                o.size().unwrap_or_default(),
            )
        })
        .collect();
    let manifest = s3
        .get_object()
        .bucket(BUCKET)
        .key(MANIFEST)
        .send()
        .await
        .expect("the manifest is published")
        .body
        .collect()
        .await
        .expect("manifest body")
        .into_bytes();
    let mut guardduty = Vec::new();
    for account in [ADMIN, STANDALONE] {
        for region in REGIONS {
            guardduty.push(emu.guardduty(account, region).await);
        }
    }
    Published {
        objects,
        manifest: String::from_utf8(manifest.to_vec()).expect("manifest is UTF-8"),
        guardduty,
    }
}

/// The published state every case starts from and must leave as it was:
/// made once per test process, by a successful apply of the healthy feed.
async fn baseline(emu: &Emulator) -> Published {
    /// The state every fault is checked against, per emulator of the pool.
    static BASELINES: Mutex<BTreeMap<String, Published>> = Mutex::new(BTreeMap::new());
    const SCENARIO: &str = "feed_faults: demo organization after a healthy apply";
    let known = || {
        BASELINES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&emu.endpoint)
            .cloned()
    };
    if emu.scenario() == Some(SCENARIO)
        && let Some(state) = known()
    {
        return state;
    }
    seed_demo(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let first = run(emu, "apply", &fault_config(dir.path(), Fault::Healthy));
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    let report = first.json();
    assert_eq!(report["list"]["changed"], true);
    assert_eq!(report["list"]["entries"], 1934);
    let state = published(emu).await;
    assert!(state.manifest.contains(&feed_server().url(Fault::Healthy)));
    for sets in &state.guardduty {
        let ours: Vec<_> = sets["threat_intel_sets"]
            .as_array()
            .expect("sets")
            .iter()
            .filter(|s| s["name"] == "FireHOL-Level1")
            .collect();
        assert_eq!(ours.len(), 1, "{sets}");
        assert_eq!(ours[0]["status"], "ACTIVE", "{sets}");
    }
    BASELINES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(emu.endpoint.clone(), state.clone());
    emu.set_scenario(Some(SCENARIO));
    state
}

/// stderr as a user reads it, with what changes from run to run masked: the
/// server's port, log timestamps, backoff delays, dates and the byte count
/// at which a stream was cut.
fn normalize(stderr: &str) -> String {
    let port = feed_server().base.rsplit(':').next().expect("port");
    stderr
        .replace(&format!("127.0.0.1:{port}"), "127.0.0.1:[port]")
        .lines()
        .map(|line| {
            // tracing's fmt layer starts each line with an RFC 3339 timestamp.
            let line = match line.split_once(' ') {
                Some((first, rest)) if first.len() > 20 && first.ends_with('Z') => rest.trim(),
                _ => line,
            };
            let line = mask_token_after(line, "retrying in ", "[backoff]");
            let line = mask_dates(&line);
            mask_token_after(&line, "stopped after ", "[n]")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `line` with the word right after `marker` (up to a space) replaced by `mask`.
fn mask_token_after(line: &str, marker: &str, mask: &str) -> String {
    let Some(i) = line.find(marker) else {
        return line.to_owned();
    };
    let start = i + marker.len();
    let end = line[start..].find(' ').map_or(line.len(), |n| start + n);
    format!("{}{mask}{}", &line[..start], &line[end..])
}

/// RFC 3339 UTC timestamps (`2024-01-23T09:17:57Z`) replaced by `[date]`.
fn mask_dates(line: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:ddZ";
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.len() - i >= SHAPE.len()
            && SHAPE.iter().zip(&bytes[i..]).all(|(&s, &b)| match s {
                b'd' => b.is_ascii_digit(),
                _ => s == b,
            });
        if fits {
            out.push_str("[date]");
            i += SHAPE.len();
        } else {
            let c = line[i..].chars().next().expect("a char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// What an apply against a faulty feed did, once it is known to have been
/// refused and to have changed nothing.
struct Refusal {
    /// Requests the feed server answered for this case.
    requests: usize,
    /// The `error: ` line.
    error: String,
    /// The whole of stderr.
    stderr: String,
}

/// Apply with the feed at `fault`'s path and check what holds for every
/// fault: exit 1, nothing on stdout, an error that says the last list stays
/// in force, no write but the run lease, the published state as it was.
async fn refused(fault: Fault) -> Refusal {
    let emu = emulator();
    let _guard = emu.lock().await;
    let before = baseline(emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = fault_config(dir.path(), fault);
    emu.clear_calls().await;
    let hits_before = feed_server().hits(fault);

    let out = run(emu, "apply", &cfg);

    // Every mutating call but those on the lease (S3 calls carry their path).
    let writes: Vec<crate::common::Call> = emu
        .calls()
        .await
        .into_iter()
        .filter(|c| c.mutating && c.resource.as_deref() != Some(LEASE))
        .collect();
    let requests = feed_server().hits(fault) - hits_before;
    assert_eq!(out.code, 1, "{fault:?}:\n{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.is_empty(), "{fault:?}: {}", out.stdout);
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("{fault:?}: no error line in\n{}", out.stderr))
        .to_owned();
    assert!(
        error.ends_with("; the last published list stays in force"),
        "{fault:?}: {error}"
    );
    assert_eq!(writes, [], "{fault:?} wrote");
    let after = published(emu).await;
    assert_eq!(after, before, "{fault:?} changed the published state");
    Refusal {
        requests,
        error,
        stderr: out.stderr,
    }
}

/// One row a fault: the reason the error line must give, how many requests
/// the fetcher makes (`None`: not pinned here), and whether the message
/// names the feed as `feed NAME (URL)` (list-wide guards name every feed
/// their own way: see `a_list_wide_guard_names_the_feeds`).
#[test_case(Fault::NotFound, "the server answered HTTP 404 Not Found", Some(1), true ; "http 404")]
#[test_case(Fault::ServerError, "the server answered HTTP 500 Internal Server Error", Some(3), true ; "http 500 after the retries")]
#[test_case(Fault::Reset, "the download broke off", Some(3), true ; "connection reset mid body, after the retries")]
#[test_case(Fault::Truncated, "the download broke off", Some(3), true ; "truncated body, after the retries")]
#[test_case(Fault::Empty, "it holds no IPv4 entry", Some(1), true ; "empty body")]
#[test_case(Fault::Html, "5 of its 5 data lines are not valid entries", Some(1), true ; "html error page with 200")]
#[test_case(Fault::Oversize, "the feed is over the 35000000-byte limit", Some(1), true ; "body over the 35 MB cap")]
#[test_case(Fault::Reserved, "guard min_entries tripped: the list has 0 entries", Some(1), false ; "only reserved space")]
#[test_case(Fault::Stale, "guard max_age_hours tripped", Some(1), true ; "file date older than max_age_hours")]
#[test_case(Fault::Shrunk, "guard max_shrink_percent tripped", Some(1), false ; "list shrank past max_shrink_percent")]
#[test_case(Fault::LongLine, "1 of its 1 data lines are not valid entries", Some(1), true ; "a single 10 MB line")]
#[tokio::test]
async fn a_feed_fault_aborts_and_changes_nothing(
    fault: Fault,
    reason: &str,
    requests: Option<usize>,
    names_the_feed: bool,
) {
    let r = refused(fault).await;
    assert!(
        r.error.contains(reason),
        "{fault:?}: {reason:?} not in {}",
        r.error
    );
    if names_the_feed {
        let feed = format!("feed {FEED} ({}", feed_server().url(fault));
        assert!(r.error.contains(&feed), "{fault:?}: {}", r.error);
    }
    if let Some(n) = requests {
        assert_eq!(r.requests, n, "{fault:?}: requests to the feed");
    }
    insta::assert_snapshot!(fault.slug(), normalize(&r.stderr));
}

/// A list-wide guard that trips says what each feed gave, so that the
/// operator knows which one made the list small.
#[test_case(Fault::Reserved, "(from feed firehol_level1: " ; "only reserved space")]
#[test_case(Fault::Shrunk, "(from feed firehol_level1: 195 entries, 0 rejected)" ; "list shrank past max_shrink_percent")]
#[tokio::test]
async fn a_list_wide_guard_names_the_feeds(fault: Fault, want: &str) {
    let r = refused(fault).await;
    assert!(r.error.contains(want), "{fault:?}: {}", r.error);
}

/// The same check for a server that accepts and never answers, with the
/// per-request timeout shortened to 3 s (`GUARDSYNC_FEED_TIMEOUT_MS`, set by
/// the harness; 120 s by default): three attempts, then exit 1.
#[tokio::test]
async fn a_feed_that_never_answers_aborts_and_changes_nothing() {
    let started = std::time::Instant::now();
    let r = refused(Fault::Hang).await;
    assert!(r.error.contains("timed out"), "{}", r.error);
    assert!(r.error.contains(&format!("feed {FEED} (")), "{}", r.error);
    assert_eq!(r.requests, 3);
    assert!(started.elapsed() > Duration::from_secs(3 * 3));
    insta::assert_snapshot!(Fault::Hang.slug(), normalize(&r.stderr));
}

//! No panic on bad input (issue #8, part 5): every parser guardsync points at
//! text it does not control answers arbitrary bytes and near-valid inputs
//! with a value or an `Err` whose message says something, never a panic.
//!
//! Covered, each with property tests (proptest, default shrinking, a bounded
//! number of cases): the configuration parser (arbitrary text, YAML token
//! soup, and mutations of `config/example.yaml`), the feed parser (arbitrary
//! bytes, CIDR-like garbage, long lines, NULs; valid entries read exactly),
//! the list engine behind `guardsync list merge` (against a naive bitset
//! model: coverage preserved, output sorted, non-overlapping and minimal),
//! the manifest, the run record and the Lambda event.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use guardsync::feed::aggregate::{IpSet, Range};
use guardsync::feed::parse::{MAX_KEPT_REJECTS, Parsed, parse, parse_bytes};
use guardsync::publish::manifest::{FORMAT, Manifest};
use guardsync::publish::record::RunRecord;
use proptest::prelude::*;
use serde_json::Value;

/// Cases per property: enough to hit the odd corner, few enough for a debug
/// build to run the whole file in seconds.
const CASES: u32 = 2_000;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Configuration

const EXAMPLE: &str = include_str!("../../config/example.yaml");
const LABEL: &str = "fuzz.yaml";

/// Parse `text` and check the outcome: a configuration whose summary renders,
/// or errors that each carry a message, the label and a line in the text.
fn check_config(text: &str) {
    match guardsync::config::parse(text, Path::new(LABEL), LABEL) {
        Ok(c) => {
            assert!(!guardsync::app::summary(&c).is_empty());
        }
        Err(errors) => {
            assert!(!errors.0.is_empty(), "an Err without an error");
            assert!(!errors.to_string().trim().is_empty());
            // YAML breaks lines at LF, CRLF and a lone CR.
            let lines = text.replace("\r\n", "\n").matches(['\n', '\r']).count() as u64 + 1;
            for e in &errors.0 {
                assert!(!e.message.trim().is_empty(), "empty message: {e:?}");
                assert_eq!(e.file, LABEL);
                assert!(e.line <= lines, "line {} of {lines}: {e}", e.line);
            }
        }
    }
}

/// Pieces YAML is made of, and words the configuration knows.
fn yaml_token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        ":",
        ": ",
        "-",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\n",
        "\n  ",
        "  ",
        "\t",
        "&a ",
        "*a",
        "<<: *a",
        "!!str ",
        "!!binary ",
        "!custom ",
        "? ",
        "'",
        "\"",
        "#",
        "|",
        ">",
        "---",
        "...",
        "%YAML 1.2\n",
        "admin",
        "account_id",
        "\"111111111111\"",
        "111111111111",
        "regions",
        "enabled",
        "us-east-1",
        "feeds",
        "name",
        "url",
        "file:///etc/passwd",
        "threat_list",
        "min_entries",
        "max_shrink_percent",
        "250001",
        "-1",
        "0x10",
        "1e400",
        ".nan",
        "null",
        "~",
        "true",
        "bucket",
        "suppression_rules",
        "rank",
        "criteria",
        "equals",
        "alerts",
        "min_severity",
        "rollout",
        "waves",
        "rest",
        "\u{0}",
        "\u{feff}",
        "é",
        "\u{202e}",
        "😀",
    ])
}

/// One change to a line-based text.
#[derive(Debug, Clone)]
enum Mutation {
    /// Remove line `i` (modulo the line count).
    Delete(usize),
    /// Write line `i` twice.
    Duplicate(usize),
    /// Put `text` in place of line `i`.
    Replace(usize, String),
    /// Insert `text` at character `at` of the whole text.
    Insert(usize, String),
    /// Put the value of line `i` inside `depth` flow sequences or mappings.
    Nest(usize, usize, bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let text = prop_oneof![
        ".{0,40}",
        prop::collection::vec(yaml_token(), 0..12).prop_map(|t| t.concat()),
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), text.clone()).prop_map(|(i, t)| Mutation::Replace(i, t)),
        (any::<usize>(), text).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<usize>(), 1usize..20_000, any::<bool>())
            .prop_map(|(i, d, m)| Mutation::Nest(i, d, m)),
    ]
}

fn mutate(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let n = lines.len().max(1);
    match m {
        Mutation::Delete(i) => {
            if !lines.is_empty() {
                lines.remove(i % n);
            }
        }
        Mutation::Duplicate(i) => {
            if let Some(l) = lines.get(i % n).cloned() {
                lines.insert(i % n, l);
            }
        }
        Mutation::Replace(i, t) => {
            if let Some(l) = lines.get_mut(i % n) {
                l.clone_from(t);
            }
        }
        Mutation::Insert(at, t) => {
            let chars = text.chars().count() + 1;
            let at = text
                .char_indices()
                .nth(at % chars)
                .map_or(text.len(), |(i, _)| i);
            return format!("{}{t}{}", &text[..at], &text[at..]);
        }
        Mutation::Nest(i, depth, mapping) => {
            if let Some(l) = lines.get_mut(i % n)
                && let Some((key, value)) = l.split_once(": ")
            {
                let (open, close) = if *mapping { ("{k: ", "}") } else { ("[", "]") };
                *l = format!(
                    "{key}: {}{}{}",
                    open.repeat(*depth),
                    value,
                    close.repeat(*depth)
                );
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[test]
fn the_example_configuration_is_valid() {
    // The mutations below start from a valid document.
    guardsync::config::parse(EXAMPLE, Path::new(LABEL), LABEL).expect("example.yaml is valid");
}

/// Inputs too big or too clever for random search: an alias bomb ("billion
/// laughs"), a megabyte value, a hundred thousand lines, deep nesting at the
/// top, and the cases proptest found once. Each must fail (or pass) fast.
#[test]
fn config_survives_bombs_and_giants() {
    let mut laughs = String::from("admin: {account_id: \"111111111111\"}\nregions: [us-east-1]\n");
    laughs.push_str("organization:\n  exclude_accounts:\n    - &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n");
    for i in 1..10 {
        let p = i - 1;
        laughs.push_str(&format!(
            "    - &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let giants = [
        laughs,
        format!("admin: {{account_id: \"{}\"}}\n", "1".repeat(1 << 20)),
        format!("threat_list:\n  name: {}\n", "x".repeat(1 << 20)),
        format!("{}admin: {{}}\n", "# comment\n".repeat(100_000)),
        "[".repeat(1 << 20),
        "{a: ".repeat(200_000),
        "- ".repeat(200_000),
        format!("regions: [{}]\n", "us-east-1, ".repeat(100_000)),
        // A lone CR breaks a YAML line: the error is on line 3 of "two".
        "\r¡\r\0".to_owned(),
    ];
    for text in &giants {
        let started = std::time::Instant::now();
        check_config(text);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}...: {:?}",
            &text[..text.len().min(60)],
            started.elapsed()
        );
    }
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn config_survives_arbitrary_text(text in "(?s).{0,300}") {
        check_config(&text);
    }

    #[test]
    fn config_survives_yaml_token_soup(tokens in prop::collection::vec(yaml_token(), 0..60)) {
        check_config(&tokens.concat());
    }

    #[test]
    fn config_survives_mutations_of_the_example(
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let text = mutations.iter().fold(EXAMPLE.to_owned(), |t, m| mutate(&t, m));
        check_config(&text);
    }
}

// ---------------------------------------------------------------------------
// Feed parser

/// The parser's own bookkeeping holds whatever the input.
fn check_parsed(input: &[u8], p: &Parsed) {
    let lines = input.split_inclusive(|&b| b == b'\n').count() as u64;
    assert_eq!(p.lines, lines);
    assert!(p.data_lines() <= p.lines);
    assert_eq!(p.ranges.len() as u64, p.entries);
    assert!(p.ranges.iter().all(|r| r.lo <= r.hi));
    assert!(p.host_bits <= p.entries);
    assert_eq!(p.first_host_bits_line.is_some(), p.host_bits > 0);
    assert_eq!(
        p.rejects.len() as u64,
        p.rejected.min(MAX_KEPT_REJECTS as u64)
    );
    let mut previous = 0;
    for r in &p.rejects {
        assert!(r.line > previous && r.line <= p.lines, "{r}");
        previous = r.line;
        assert!(r.text.chars().count() <= 83, "{r}");
        assert!(!r.reason.to_string().is_empty());
    }
    match guardsync::feed::guards::check_feed(p) {
        Ok(()) => assert!(p.entries > 0),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    // The reader entry point reads the same.
    let from_reader = parse(input).expect("reading a slice cannot fail");
    assert_eq!(&from_reader, p);
}

/// Tokens that look like IPv4 entries and mostly are not.
fn cidr_like() -> impl Strategy<Value = String> {
    let octet = prop_oneof![
        4 => (0u32..=255).prop_map(|o| o.to_string()),
        1 => (256u32..=99_999).prop_map(|o| o.to_string()),
        1 => (0u32..=99).prop_map(|o| format!("0{o}")),
        1 => prop::sample::select(vec!["", "-1", "+1", "0x1f", "٣", "1 ", "a", "*"]).prop_map(str::to_owned),
    ];
    let address = prop::collection::vec(octet, 1..7).prop_map(|o| o.join("."));
    let prefix = prop_oneof![
        Just(String::new()),
        (0u32..=99).prop_map(|l| format!("/{l}")),
        Just("/".to_owned()),
        Just("/255.255.255.0".to_owned()),
        Just("/255.0.255.0".to_owned()),
        Just("/033".to_owned()),
    ];
    let entry = (address, prefix).prop_map(|(a, p)| format!("{a}{p}"));
    let v6 = prop::sample::select(vec![
        "::1",
        "2001:db8::/32",
        "2001:db8::/129",
        ":::",
        "fe80::1%eth0",
        "::ffff:1.2.3.4",
    ])
    .prop_map(str::to_owned);
    prop_oneof![4 => entry, 1 => v6]
}

/// A line of a feed: entries, ranges, comments, and what should not be there.
fn feed_line() -> impl Strategy<Value = String> {
    let lead = prop::sample::select(vec!["", " ", "\t", "  \t", "\u{0}", "\u{feff}"]);
    let body = prop_oneof![
        4 => cidr_like(),
        2 => (cidr_like(), prop::sample::select(vec![" - ", "-", " -", "- ", " - - "]), cidr_like())
            .prop_map(|(a, d, b)| format!("{a}{d}{b}")),
        1 => Just("# This File Date  : Tue Jan 23 09:17:57 UTC 2024".to_owned()),
        1 => ".{0,30}".prop_map(|s| format!("# {s}")),
        1 => ".{0,30}",
        1 => Just(String::new()),
    ];
    let tail = prop::sample::select(vec!["", " # comment", ";c", " junk", "\u{0}", "\r", " \t"]);
    (lead, body, tail).prop_map(|(l, b, t)| format!("{l}{b}{t}"))
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn feed_parser_survives_arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..2_048)) {
        check_parsed(&input, &parse_bytes(&input));
    }

    #[test]
    fn feed_parser_survives_cidr_like_garbage(
        lines in prop::collection::vec(feed_line(), 0..40),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let mut text = lines.join(if crlf { "\r\n" } else { "\n" });
        if final_newline {
            text.push('\n');
        }
        check_parsed(text.as_bytes(), &parse_bytes(text.as_bytes()));
    }

    #[test]
    fn feed_parser_reads_valid_entries_exactly(
        cidrs in prop::collection::vec((any::<u32>(), 0u8..=32, any::<bool>()), 0..60),
    ) {
        let mut text = String::from("# a FireHOL-like header\n\n");
        for (addr, len, bare) in &cidrs {
            if *bare {
                text.push_str(&format!("{}\n", Ipv4Addr::from(*addr)));
            } else {
                text.push_str(&format!(" {}/{len} # why\n", Ipv4Addr::from(*addr)));
            }
        }
        let p = parse_bytes(text.as_bytes());
        check_parsed(text.as_bytes(), &p);
        prop_assert_eq!(p.rejected, 0);
        prop_assert_eq!(p.entries, cidrs.len() as u64);
        let want: Vec<Range> = cidrs
            .iter()
            .map(|&(a, l, bare)| if bare { Range { lo: a, hi: a } } else { Range::from_cidr(a, l) })
            .collect();
        prop_assert_eq!(p.ranges, want);
    }
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn feed_parser_survives_long_lines(
        fragment in prop::sample::select(vec!["1", "1.", "1.2.3.4", "1.2.3.4 ", "\u{0}", "é", "#", "::", "-", "/"]),
        repeat in 1usize..40_000,
        before in feed_line(),
        after in feed_line(),
    ) {
        let text = format!("{before}\n{}\n{after}", fragment.repeat(repeat));
        check_parsed(text.as_bytes(), &parse_bytes(text.as_bytes()));
    }
}

// ---------------------------------------------------------------------------
// The list engine (`guardsync list merge`) against a naive model

/// The naive model: addresses of one aligned /20 window as a bitset.
const WINDOW: u32 = 4_096;

/// A /20 to draw CIDRs in: the first, the last (where a `+ 1` would wrap),
/// and one anywhere.
fn window_base() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0),
        Just(u32::MAX - (WINDOW - 1)),
        any::<u32>().prop_map(|a| a & !(WINDOW - 1)),
    ]
}

/// A CIDR inside the window: offset and prefix length 20-32.
fn window_cidr() -> impl Strategy<Value = (u32, u8)> {
    (0..WINDOW, 20u8..=32)
}

fn cidr_range(base: u32, (offset, len): (u32, u8)) -> Range {
    Range::from_cidr(base + offset, len)
}

fn model(base: u32, cidrs: &[(u32, u8)]) -> Vec<bool> {
    let mut bits = vec![false; WINDOW as usize];
    for &c in cidrs {
        let r = cidr_range(base, c);
        for a in r.lo..=r.hi {
            bits[(a - base) as usize] = true;
        }
    }
    bits
}

/// The optimal CIDR list of a bitset, the slow way: from the lowest address
/// up, the largest aligned block that is entirely set.
fn model_render(base: u32, bits: &[bool]) -> String {
    let mut out = String::new();
    let mut p = 0usize;
    while p < bits.len() {
        if !bits[p] {
            p += 1;
            continue;
        }
        let mut size = 1usize;
        while p.is_multiple_of(size * 2)
            && p + size * 2 <= bits.len()
            && bits[p..p + size * 2].iter().all(|&b| b)
        {
            size *= 2;
        }
        let len = 32 - size.trailing_zeros();
        let addr = Ipv4Addr::from(base + p as u32);
        if len == 32 {
            out.push_str(&format!("{addr}\n"));
        } else {
            out.push_str(&format!("{addr}/{len}\n"));
        }
        p += size;
    }
    out
}

/// Rendered output read back: sorted, non-overlapping, aligned CIDRs.
fn check_rendered(bytes: &[u8]) -> Vec<Range> {
    let text = std::str::from_utf8(bytes).expect("the list is ASCII");
    assert!(text.is_empty() || text.ends_with('\n'));
    let mut ranges: Vec<Range> = Vec::new();
    for line in text.lines() {
        let (addr, len) = match line.split_once('/') {
            Some((a, l)) => (a, l.parse::<u8>().expect("prefix length")),
            None => (line, 32),
        };
        assert!(
            len < 32 || !line.contains('/'),
            "a /32 is written bare: {line}"
        );
        let addr = u32::from(addr.parse::<Ipv4Addr>().expect("address"));
        let r = Range::from_cidr(addr, len);
        assert_eq!(r.lo, addr, "host bits set: {line}");
        if let Some(last) = ranges.last() {
            assert!(
                u64::from(last.hi) < u64::from(r.lo),
                "not sorted or overlapping: {line}"
            );
        }
        ranges.push(r);
    }
    ranges
}

fn write_list(dir: &Path, name: &str, base: u32, cidrs: &[(u32, u8)], style: u8) -> PathBuf {
    let mut text = String::from("# written by fuzz_inputs\n");
    for (i, &c) in cidrs.iter().enumerate() {
        let r = cidr_range(base, c);
        let (lo, hi) = (Ipv4Addr::from(r.lo), Ipv4Addr::from(r.hi));
        // Each entry in one of the syntaxes iprange reads.
        match (style as usize + i) % 4 {
            0 => text.push_str(&format!("{lo}/{}\n", c.1)),
            1 => text.push_str(&format!("{hi} - {lo}\n")),
            2 if c.1 == 32 => text.push_str(&format!("  {lo} ; bare\n")),
            _ => text.push_str(&format!("{lo}/{}\r\n", Ipv4Addr::from(!0u32 << (32 - c.1)))),
        }
    }
    let path = dir.join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("write a list");
    path
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn aggregation_matches_the_bitset_model(
        base in window_base(),
        keep in prop::collection::vec(window_cidr(), 0..40),
        except in prop::collection::vec(window_cidr(), 0..10),
    ) {
        let set = |cidrs: &[(u32, u8)]| {
            IpSet::from_ranges(cidrs.iter().map(|&c| cidr_range(base, c)).collect())
        };
        let mut bits = model(base, &keep);
        for (b, cut) in bits.iter_mut().zip(model(base, &except)) {
            *b &= !cut;
        }
        let result = set(&keep).difference(&set(&except));
        let rendered = result.render();
        check_rendered(&rendered);
        prop_assert_eq!(String::from_utf8_lossy(&rendered), model_render(base, &bits));
        prop_assert_eq!(result.addresses(), bits.iter().filter(|&&b| b).count() as u64);
        // Idempotent: the list read back aggregates to itself.
        let again = IpSet::from_ranges(parse_bytes(&rendered).ranges);
        prop_assert_eq!(again.render(), rendered);
    }

    #[test]
    fn aggregation_preserves_coverage_anywhere(
        cidrs in prop::collection::vec((any::<u32>(), 0u8..=32), 0..30),
        probes in prop::collection::vec(any::<u32>(), 0..30),
    ) {
        let inputs: Vec<Range> = cidrs.iter().map(|&(a, l)| Range::from_cidr(a, l)).collect();
        let set = IpSet::from_ranges(inputs.clone());
        let out = check_rendered(&set.render());
        prop_assert_eq!(out.iter().map(Range::addresses).sum::<u64>(), set.addresses());
        // Every edge of every input, one step either side, and random addresses.
        let mut points: BTreeSet<u32> = probes.into_iter().collect();
        for r in &inputs {
            points.extend([r.lo, r.hi, r.lo.wrapping_sub(1), r.hi.wrapping_add(1)]);
        }
        for p in points {
            let want = inputs.iter().any(|r| r.lo <= p && p <= r.hi);
            let i = out.partition_point(|r| r.hi < p);
            let got = out.get(i).is_some_and(|r| r.lo <= p);
            prop_assert_eq!(got, want, "{}", Ipv4Addr::from(p));
            prop_assert_eq!(set.contains(p), want);
        }
    }
}

proptest! {
    // Each case writes files: fewer of them.
    #![proptest_config(config(CASES / 4))]

    #[test]
    fn list_merge_matches_the_bitset_model(
        base in window_base(),
        keep in prop::collection::vec(prop::collection::vec(window_cidr(), 0..20), 1..4),
        except in prop::collection::vec(prop::collection::vec(window_cidr(), 0..6), 0..3),
        style in any::<u8>(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let files: Vec<PathBuf> = keep
            .iter()
            .enumerate()
            .map(|(i, c)| write_list(dir.path(), &format!("keep{i}"), base, c, style))
            .collect();
        let excepts: Vec<PathBuf> = except
            .iter()
            .enumerate()
            .map(|(i, c)| write_list(dir.path(), &format!("except{i}"), base, c, style))
            .collect();
        let mut warnings = Vec::new();
        let out = guardsync::feed::commands::merge(&files, &excepts, &mut warnings)
            .expect("readable files");
        prop_assert!(warnings.is_empty(), "{}", String::from_utf8_lossy(&warnings));
        let mut bits = model(base, &keep.concat());
        for (b, cut) in bits.iter_mut().zip(model(base, &except.concat())) {
            *b &= !cut;
        }
        check_rendered(&out);
        prop_assert_eq!(String::from_utf8_lossy(&out), model_render(base, &bits));
    }
}

#[test]
fn list_merge_of_unreadable_input_is_an_error_that_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.netset");
    let e = guardsync::feed::commands::merge(&[missing], &[], &mut Vec::new())
        .expect_err("a missing file");
    assert!(e.to_string().contains("missing.netset"), "{e}");
    // A directory is not a list either.
    let e = guardsync::feed::commands::merge(&[dir.path().to_owned()], &[], &mut Vec::new())
        .expect_err("a directory");
    assert!(!e.to_string().is_empty());
}

// ---------------------------------------------------------------------------
// JSON documents: manifest, run record, Lambda event

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,16}".prop_map(Value::String),
        "[0-9a-f]{64}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bytes for a JSON parser: arbitrary ones, or mostly `document`: one of
/// its keys (or a stray one) set to any value or removed, then maybe cut
/// short or nested past any sane depth.
fn json_input(document: Value) -> impl Strategy<Value = Vec<u8>> {
    let keys: Vec<String> = document
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys().cloned())
        .collect();
    let key = prop_oneof![4 => prop::sample::select(keys), 1 => ".{0,8}"];
    let near = (key, prop::option::of(json()), any::<usize>(), 0u8..4).prop_map(
        move |(k, v, cut, how)| {
            let mut doc = document.clone();
            if let Some(object) = doc.as_object_mut() {
                match v {
                    Some(v) => object.insert(k, v),
                    None => object.remove(&k),
                };
            }
            let bytes = serde_json::to_vec(&doc).expect("a Value serialises");
            match how {
                0 => bytes[..cut % (bytes.len() + 1)].to_vec(),
                1 => format!(
                    "{}{}{}",
                    "[".repeat(cut % 5_000),
                    String::from_utf8_lossy(&bytes),
                    "]".repeat(cut % 5_000)
                )
                .into_bytes(),
                _ => bytes,
            }
        },
    );
    prop_oneof![prop::collection::vec(any::<u8>(), 0..512), near]
}

const SHA: &str = "2bed565ce8f2e5e77c76348ffe31cca1457c3da29e111e95131f1fce21fc27af";

fn manifest_document() -> Value {
    serde_json::json!({
        "sha256": SHA,
        "key": format!("guardduty/{SHA}.txt"),
        "entries": 1933,
        "addresses": 19_669_504,
        "built_at": "2026-11-30T08:00:00Z",
        "feeds": [{
            "name": "firehol_level1",
            "url": "https://iplists.firehol.org/files/firehol_level1.netset",
            "etag": "\"v1\"", "last_modified": null, "file_date": "2026-11-30T07:59:00Z",
            "entries": 1947, "rejected": 0
        }],
        "settings_digest": SHA,
        "format": 1,
        "generator": "guardsync 0.1.0"
    })
}

fn check_manifest(bytes: &[u8]) {
    match Manifest::parse(bytes) {
        Ok(m) => {
            assert!(m.sha256.len() == 64 && m.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!((1..=FORMAT).contains(&m.format), "format {}", m.format);
            // What it writes, it reads back the same.
            assert_eq!(Manifest::parse(&m.to_json()).expect("round trip"), m);
        }
        Err(e) => assert!(!e.to_string().trim().is_empty()),
    }
}

fn record_document() -> Value {
    serde_json::json!({
        "format": 1,
        "generator": "guardsync 0.1.0",
        "finished_at": "2026-11-30T08:05:00Z",
        "list": {"sha256": SHA, "key": format!("guardduty/{SHA}.txt"), "entries": 1933, "addresses": 19_669_504},
        "targets": [{
            "account_id": "777777777777", "region": "eu-west-1", "placement": "standalone",
            "wave": 1, "status": "failed", "error": "AccessDenied", "not_run": false
        }]
    })
}

fn check_record(bytes: &[u8]) {
    match serde_json::from_slice::<RunRecord>(bytes) {
        Ok(r) => {
            let again = serde_json::to_vec(&r).expect("a record serialises");
            let back: RunRecord = serde_json::from_slice(&again).expect("round trip");
            assert_eq!(back, r);
            let _ = r.to_retry();
        }
        Err(e) => assert!(!e.to_string().trim().is_empty()),
    }
}

/// Every key of the event, each valid.
fn event_document() -> Value {
    serde_json::json!({
        "command": "plan", "config": null, "config_s3": "s3://bucket/guardsync.yaml",
        "accounts": ["777777777777"], "regions": ["eu-west-1"], "retry_failed": false
    })
}

fn check_event(bytes: &[u8]) {
    if let Err(e) = serde_json::from_slice::<guardsync::lambda::Event>(bytes) {
        assert!(!e.to_string().trim().is_empty());
    }
}

#[test]
fn the_json_documents_start_valid() {
    // The near-valid strategies start from documents that parse.
    Manifest::parse(&serde_json::to_vec(&manifest_document()).expect("json")).expect("manifest");
    serde_json::from_value::<RunRecord>(record_document()).expect("record");
    serde_json::from_value::<guardsync::lambda::Event>(event_document()).expect("event");
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn manifest_parser_answers_any_bytes(bytes in json_input(manifest_document())) {
        check_manifest(&bytes);
    }

    #[test]
    fn run_record_parser_answers_any_bytes(bytes in json_input(record_document())) {
        check_record(&bytes);
    }

    #[test]
    fn lambda_event_parser_answers_any_bytes(bytes in json_input(event_document())) {
        check_event(&bytes);
    }
}

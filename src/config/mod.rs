//! The YAML configuration of config/example.yaml: raw serde shapes, then validated types.
//!
//! Pure apart from reading the file. [`load`] returns either a [`Config`] or
//! every problem found, each one line `FILE:LINE: KEY.PATH: message`.

mod errors;
pub(crate) mod finding_fields;
mod keys;
mod raw;
pub mod regions;
mod types;
mod validate;

use std::path::Path;

use serde::Deserialize;

pub use errors::{ConfigError, ConfigErrors};
pub use types::*;

/// The summary lines of the threat lists and the trusted list, for
/// `guardsync validate`, aligned like the rest of its summary. Pure.
pub fn lists_summary(c: &Config) -> Vec<String> {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut out: Vec<String> = c
        .threat_lists
        .iter()
        .map(|l| {
            format!(
                "  threat list    {:?} from {}",
                l.name,
                plural(l.feeds.len(), "feed")
            )
        })
        .collect();
    out.push(match &c.trusted_list {
        Some(t) => format!(
            "  trusted list   {:?}, {}",
            t.name,
            plural(t.cidrs.len(), "network")
        ),
        None => "  trusted list   not managed".to_owned(),
    });
    out
}

/// A configuration file larger than this is refused before parsing.
const MAX_CONFIG_BYTES: usize = 1 << 20;

/// Read and validate the configuration file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let label = path.display().to_string();
    let one = |message: String| {
        ConfigErrors(vec![ConfigError {
            file: label.clone(),
            line: 0,
            path: String::new(),
            message,
        }])
    };
    let bytes = std::fs::read(path).map_err(|e| {
        one(if e.kind() == std::io::ErrorKind::NotFound {
            "there is no such file: name the configuration with --config FILE (or \
             GUARDSYNC_CONFIG; guardsync.yaml in the current folder when neither is set); \
             config/example.yaml in guardsync's repository is a complete, commented one"
                .to_owned()
        } else {
            format!("failed to read the configuration: {e}")
        })
    })?;
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(one(format!(
            "the configuration is {} bytes; at most {MAX_CONFIG_BYTES} are accepted",
            bytes.len()
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| one(format!("the configuration is not UTF-8: {e}")))?;
    parse(&text, path, &label)
}

/// Parse and validate configuration text; `label` names it in errors.
/// Text over 1 MiB is refused unread, wherever it comes from (a file, a
/// Lambda event, an S3 object).
pub fn parse(text: &str, source: &Path, label: &str) -> Result<Config, ConfigErrors> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(ConfigErrors(vec![ConfigError {
            file: label.to_owned(),
            line: 0,
            path: String::new(),
            message: format!(
                "the configuration is {} bytes; at most {MAX_CONFIG_BYTES} are accepted",
                text.len()
            ),
        }]));
    }
    if text
        .trim()
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(ConfigErrors(vec![ConfigError {
            file: label.to_owned(),
            line: 1,
            path: String::new(),
            message: "the configuration is empty; see config/example.yaml for a complete one"
                .into(),
        }]));
    }
    // Every unknown and missing key at once (serde stops at the first); a
    // document that is not even a tree of mappings is left to serde, whose
    // error says where.
    let tree = serde_saphyr::from_str_with_options::<raw::S<keys::Tree>>(text, shallow()).ok();
    if let Some(tree) = &tree {
        let problems = keys::check(tree, &keys::CONFIG, label);
        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
    }
    // The lines of the top-level keys, for problems that belong to a key
    // rather than to its value (serde only knows where values start).
    let key_lines = tree.as_ref().map(keys::top_level_lines).unwrap_or_default();
    // serde_path_to_error records where the YAML layer stopped, for the key path.
    let mut failed_at = None;
    let raw = serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        let mut track = serde_path_to_error::Track::new();
        let result =
            raw::RawConfig::deserialize(serde_path_to_error::Deserializer::new(de, &mut track));
        if result.is_err() {
            failed_at = Some(track.path());
        }
        result
    })
    .map_err(|e| ConfigErrors(vec![syntax_error(&e, failed_at.as_ref(), label)]))?;
    let mut errors = match validate::validate(raw, source, label, &key_lines) {
        Ok(config) => return Ok(config),
        Err(e) => e,
    };
    errors.0.sort_by_key(|e| e.line);
    Err(errors)
}

/// Parser options: duplicate keys are errors; aliases are bounded so that an
/// alias bomb ("billion laughs") fails fast instead of eating memory.
fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    options
}

/// [`options`] for the key pass, which recurses once per level: a
/// configuration nests 5 levels deep, so 24 is plenty, and a deeper document
/// is left to the serde pass (and its own limit) instead of the stack.
fn shallow() -> serde_saphyr::Options {
    let mut o = options();
    let mut budget = o.budget.clone().unwrap_or_default();
    budget.max_depth = 24;
    o.budget = Some(budget);
    o
}

/// A parse or shape error from the YAML layer, as one line.
fn syntax_error(
    e: &serde_saphyr::Error,
    at: Option<&serde_path_to_error::Path>,
    label: &str,
) -> ConfigError {
    let line = e.location().map_or(0, |l| l.line());
    let mut message = e.to_string();
    // The location is already in the FILE:LINE prefix.
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    let mut path = at.map(key_path).unwrap_or_default();
    // "duplicate mapping key: concurrency": the key belongs in the path.
    if let Some(key) = message
        .strip_prefix("duplicate mapping key: ")
        .map(|k| k.trim_end_matches(", set DuplicateKeyPolicy in Options if acceptable"))
    {
        path = if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        };
        message = "duplicate key: a key may appear once in a mapping".to_owned();
    }
    let message = friendly(&message, &path);
    ConfigError {
        file: label.to_owned(),
        line,
        path,
        message,
    }
}

/// The YAML layer's wording, made to read like the rest of guardsync's messages.
fn friendly(message: &str, path: &str) -> String {
    let m = message
        .trim_end_matches(", set DuplicateKeyPolicy in Options if acceptable")
        .to_owned();
    if let Some(field) = m.strip_prefix("missing field ") {
        return format!("missing required key {field}");
    }
    if m.starts_with("duplicate mapping key: ") {
        return m.replacen("duplicate mapping key: ", "duplicate key ", 1);
    }
    if let Some(rest) = m.strip_prefix("unknown field ") {
        // "`regoins`, expected one of admin, regions, ..." -> add a "did you mean".
        let mut out = format!("unknown key {rest}");
        if let Some((key, expected)) = rest.split_once(", expected one of ") {
            let key = key.trim_matches('`');
            let candidates: Vec<&str> = expected.split(", ").map(|c| c.trim_matches('`')).collect();
            if let Some(near) = crate::util::nearest(key, &candidates) {
                out = format!("unknown key `{key}`; did you mean `{near}`?");
            }
        }
        return out;
    }
    if m == "expected mapping start" && path.is_empty() {
        return "the configuration must be a mapping of keys (admin, regions, bucket, ...)"
            .to_owned();
    }
    match m.as_str() {
        "invalid i64" => "must be an integer".to_owned(),
        "invalid f64" => "must be a number".to_owned(),
        "invalid bool" | "invalid boolean" => "must be true or false".to_owned(),
        _ => m,
    }
}

/// `a.b[0].c` from serde_path_to_error's segments (`?` segments are dropped).
fn key_path(p: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in p.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            // `value` is the inner field of serde_saphyr::Spanned, not a config key.
            Segment::Map { key } if key == "value" => {}
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(variant);
            }
            Segment::Unknown => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    /// `threat_list` with `extra` added, in a minimal configuration.
    fn with_threat_list(extra: &str) -> Result<Config, ConfigErrors> {
        let yaml = format!(
            "admin: {{account_id: \"111111111111\"}}\nregions: [us-east-1]\n\
             bucket: {{name: b-111111111111, region: us-east-1}}\n\
             threat_list:\n  name: L\n{extra}"
        );
        parse(&yaml, "g.yaml".as_ref(), "g.yaml")
    }

    #[test]
    fn the_bucket_region_is_enabled_by_default_in_every_account() {
        let yaml = "admin: {account_id: \"111111111111\"}\nregions: [af-south-1]\n\
                    bucket: {name: b-111111111111, region: af-south-1}\n";
        let e = parse(yaml, "g.yaml".as_ref(), "g.yaml").expect_err("opt-in");
        assert_eq!(
            e.to_string(),
            "g.yaml:3: bucket.region: must be a Region enabled by default in every account, \
             not the opt-in Region af-south-1: guardsync asks STS for member accounts' \
             credentials there, and STS refuses accounts that have not enabled it"
        );
    }

    #[test_case("", Ok(60) ; "default")]
    #[test_case("  settle_seconds: 0\n", Ok(0) ; "no wait at all")]
    #[test_case("  settle_seconds: 840\n", Ok(840) ; "the most a Lambda can spare")]
    #[test_case("  settle_seconds: 841\n", Err("g.yaml:6: threat_list.settle_seconds: must be an integer from 0 to 840, got 841".into()) ; "too long")]
    fn settle_seconds(extra: &str, want: Result<u32, String>) {
        let got = with_threat_list(extra)
            .map(|c| c.threat_lists[0].settle_seconds)
            .map_err(|e| e.to_string());
        assert_eq!(got, want);
    }

    /// Lines 1-3: the required keys; what follows starts on line 4.
    const HEAD: &str = "admin: {account_id: \"111111111111\"}\nregions: [us-east-1]\n\
                        bucket: {name: b-111111111111, region: us-east-1}\n";

    /// Lines 4-6: two feeds.
    const FEEDS: &str = "feeds:\n  - {name: firehol_level1, url: https://example.com/l1}\n  \
                         - {name: feodo, url: https://example.com/feodo}\n";

    fn parse_tail(tail: &str) -> Result<Config, String> {
        parse(&format!("{HEAD}{tail}"), "g.yaml".as_ref(), "g.yaml").map_err(|e| e.to_string())
    }

    fn lists(c: &Config) -> Vec<(String, Vec<String>)> {
        c.threat_lists
            .iter()
            .map(|l| (l.name.clone(), l.feeds.clone()))
            .collect()
    }

    fn owned(lists: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        lists
            .iter()
            .map(|(n, f)| ((*n).to_owned(), f.iter().map(|f| (*f).to_owned()).collect()))
            .collect()
    }

    #[test_case("", &[("FireHOL-Level1", &["firehol_level1"])] ; "no feeds, no list: the default list of the default feed")]
    #[test_case(FEEDS, &[("FireHOL-Level1", &["firehol_level1", "feodo"])] ; "threat_list takes every feed")]
    #[test_case("threat_lists:\n  - name: L1\n    feeds: [firehol_level1]\n", &[("L1", &["firehol_level1"])] ; "the default feed can be named")]
    #[test_case("feeds:\n  - {name: firehol_level1, url: https://example.com/l1}\n  - {name: feodo, url: https://example.com/feodo}\nthreat_lists:\n  - name: FireHOL-Level1\n    feeds: [firehol_level1, feodo]\n  - name: Abuse-Feodo\n    feeds: [feodo]\n", &[("FireHOL-Level1", &["firehol_level1", "feodo"]), ("Abuse-Feodo", &["feodo"])] ; "two lists sharing a feed, in their order")]
    fn threat_lists_and_their_feeds(tail: &str, want: &[(&str, &[&str])]) {
        let c = parse_tail(tail).expect("valid");
        assert_eq!(lists(&c), owned(want));
    }

    #[test]
    fn threat_lists_entries_take_threat_list_keys_and_defaults() {
        let c = parse_tail(&format!(
            "{FEEDS}threat_lists:\n  - name: A\n    feeds: [firehol_level1]\n  \
             - name: B\n    feeds: [feodo]\n    strip_reserved: false\n    \
             allowlist: [\"198.51.100.7\"]\n    min_entries: 5\n    max_shrink_percent: null\n    \
             max_age_hours: 24\n    settle_seconds: 0\n"
        ))
        .expect("valid");
        let (a, b) = (&c.threat_lists[0], &c.threat_lists[1]);
        assert!(a.strip_reserved && a.allowlist.is_empty());
        assert_eq!(
            (
                a.min_entries,
                a.max_shrink_percent,
                a.max_age_hours,
                a.settle_seconds
            ),
            (100, Some(50), Some(48), 60)
        );
        assert!(!b.strip_reserved);
        assert_eq!(b.allowlist, ["198.51.100.7/32".parse().expect("net")]);
        assert_eq!(
            (
                b.min_entries,
                b.max_shrink_percent,
                b.max_age_hours,
                b.settle_seconds
            ),
            (5, None, Some(24), 0)
        );
        assert_eq!(c.trusted_list, None);
    }

    /// 298 characters is the longest list name: `NAME-6` is then 300.
    fn long(n: usize) -> String {
        "x".repeat(n)
    }

    #[test_case(
        "threat_list:\n  name: L\nthreat_lists:\n  - name: A\n    feeds: [firehol_level1]\n",
        &["g.yaml:6: threat_lists: `threat_list` and `threat_lists` are both set: use `threat_list` for one list of every feed, or `threat_lists`, not both"]
        ; "both keys, block style"
    )]
    #[test_case(
        "threat_list: {name: L, min_entries: 0}\nthreat_lists: [{name: A, feeds: [firehol_level1]}]\n",
        &[
            "g.yaml:4: threat_list.min_entries: must be an integer from 1 to 250000, got 0",
            "g.yaml:5: threat_lists: `threat_list` and `threat_lists` are both set: use `threat_list` for one list of every feed, or `threat_lists`, not both",
        ]
        ; "both keys, flow style, and threat_list is still checked"
    )]
    #[test_case(
        "threat_lists: []\n",
        &["g.yaml:4: threat_lists: must list at least one threat list"]
        ; "empty"
    )]
    #[test_case(
        "threat_lists:\n- {name: A, feeds: [firehol_level1]}\n- {name: B, feeds: [firehol_level1]}\n- {name: C, feeds: [firehol_level1]}\n- {name: D, feeds: [firehol_level1]}\n- {name: E, feeds: [firehol_level1]}\n- {name: F, feeds: [firehol_level1]}\n- {name: G, feeds: [firehol_level1]}\n",
        &["g.yaml:5: threat_lists: GuardDuty allows at most 6 threat lists per account and Region, got 7"]
        ; "seven lists"
    )]
    #[test_case(
        "threat_lists:\n  - name: A\n    feeds: [firehol_level1]\n  - name: B\n    feeds: [firehol_level1]\n  - name: A\n    feeds: [firehol_level1]\n",
        &["g.yaml:9: threat_lists[2].name: threat list \"A\" is already defined at threat_lists[0]"]
        ; "duplicate names"
    )]
    #[test_case(
        "threat_lists:\n  - name: A\n    feeds: [firehol_level1]\n  - name: A-6\n    feeds: [firehol_level1]\n  - name: B-1\n    feeds: [firehol_level1]\n  - name: B\n    feeds: [firehol_level1]\n  - name: A-7\n    feeds: [firehol_level1]\n",
        &[
            "g.yaml:7: threat_lists[1].name: threat list \"A-6\" may clash with threat_lists[0] (\"A\"): a list too large for one GuardDuty set is managed in parts named A-1 to A-6",
            "g.yaml:11: threat_lists[3].name: threat list \"B\" may clash with threat_lists[2] (\"B-1\"): a list too large for one GuardDuty set is managed in parts named B-1 to B-6",
        ]
        ; "a name that another list's parts take"
    )]
    #[test_case(
        &format!("threat_lists:\n  - name: \"{}\"\n    feeds: [firehol_level1]\n  - name: \" \"\n    feeds: [firehol_level1]\n", long(299)),
        &[
            "g.yaml:5: threat_lists[0].name: must be 1-298 characters (GuardDuty allows 300, and a list split in parts is managed as NAME-1 to NAME-6), got 299",
            "g.yaml:7: threat_lists[1].name: must be 1-298 characters (GuardDuty allows 300, and a list split in parts is managed as NAME-1 to NAME-6), got 1",
        ]
        ; "names too long and blank"
    )]
    #[test_case(
        &format!("threat_list:\n  name: \"{}\"\n", long(299)),
        &["g.yaml:5: threat_list.name: must be 1-298 characters (GuardDuty allows 300, and a list split in parts is managed as NAME-1 to NAME-6), got 299"]
        ; "threat_list name leaves room for parts too"
    )]
    #[test_case(
        &format!("{FEEDS}threat_lists:\n  - name: A\n    feeds: []\n  - name: B\n    feeds:\n      - firehol_level1\n      - feedo\n      - spamhaus\n      - firehol_level1\n      - feodo\n"),
        &[
            "g.yaml:9: threat_lists[0].feeds: must name at least one feed of `feeds`",
            "g.yaml:13: threat_lists[1].feeds[1]: unknown feed \"feedo\": must be the name of an entry of `feeds`; did you mean \"feodo\"?",
            "g.yaml:14: threat_lists[1].feeds[2]: unknown feed \"spamhaus\": must be the name of an entry of `feeds` (firehol_level1, feodo)",
            "g.yaml:15: threat_lists[1].feeds[3]: feed \"firehol_level1\" is listed twice",
        ]
        ; "feeds empty, unknown, twice"
    )]
    #[test_case(
        "threat_lists:\n  - name: A\n    feeds: [firehol_levl1, feodo]\n",
        &[
            "g.yaml:6: threat_lists[0].feeds[0]: unknown feed \"firehol_levl1\": must be the name of an entry of `feeds` (firehol_level1 when `feeds` is absent); did you mean \"firehol_level1\"?",
            "g.yaml:6: threat_lists[0].feeds[1]: unknown feed \"feodo\": must be the name of an entry of `feeds` (firehol_level1 when `feeds` is absent)",
        ]
        ; "unknown feeds without feeds"
    )]
    #[test_case(
        &format!("{FEEDS}threat_lists:\n  - name: A\n    feeds: [firehol_level1]\n"),
        &["g.yaml:6: feeds[1].name: feed \"feodo\" is in no threat list: it would be downloaded for nothing; name it in the `feeds` of an entry of `threat_lists`, or remove it"]
        ; "a feed no list uses"
    )]
    #[test_case(
        &format!("{FEEDS}threat_lists:\n  - name: A\n    feeds: [firehol_level1, feodo]\n    min_entries: 0\n  - name: B\n    feeds: [feodo]\n    allowlist: [\"203.0.113.7/24\"]\n    max_shrink_percent: 101\n    max_age_hours: 0\n    settle_seconds: 841\n"),
        &[
            "g.yaml:10: threat_lists[0].min_entries: must be an integer from 1 to 250000, got 0",
            "g.yaml:13: threat_lists[1].allowlist[0]: \"203.0.113.7/24\" has host bits set; did you mean 203.0.113.0/24?",
            "g.yaml:14: threat_lists[1].max_shrink_percent: must be an integer from 0 to 100, got 101",
            "g.yaml:15: threat_lists[1].max_age_hours: must be an integer from 1 to 8760, got 0",
            "g.yaml:16: threat_lists[1].settle_seconds: must be an integer from 0 to 840, got 841",
        ]
        ; "the keys of threat_list, with their ranges"
    )]
    #[test_case(
        "threat_lists:\n  - name: A\n    feed: [firehol_level1]\n",
        &[
            "g.yaml:5: threat_lists[0].feeds: missing: `threat_lists[0]` must have this key",
            "g.yaml:6: threat_lists[0].feed: unknown key; did you mean `feeds`?",
        ]
        ; "keys of an entry"
    )]
    #[test_case(
        "feeds: []\nthreat_lists:\n  - name: A\n    feeds: [firehol_level1]\n",
        &[
            "g.yaml:4: feeds: must list at least one feed",
            "g.yaml:7: threat_lists[0].feeds[0]: unknown feed \"firehol_level1\": must be the name of an entry of `feeds`",
        ]
        ; "feeds empty"
    )]
    fn threat_lists_errors(tail: &str, want: &[&str]) {
        assert_eq!(parse_tail(tail).map(|c| lists(&c)), Err(want.join("\n")));
    }

    #[test]
    fn a_list_name_may_take_the_longest_part_suffix() {
        let tail = format!(
            "threat_lists:\n  - name: \"{}\"\n    feeds: [firehol_level1]\n",
            long(298)
        );
        assert_eq!(
            parse_tail(&tail).expect("valid").threat_lists[0].name.len(),
            298
        );
    }

    #[test]
    fn trusted_list_is_read() {
        let c = parse_tail(
            "trusted_list:\n  name: guardsync-trusted\n  cidrs: [\"198.51.100.7\", 203.0.113.0/24]\n",
        )
        .expect("valid");
        assert_eq!(
            c.trusted_list,
            Some(TrustedList {
                name: "guardsync-trusted".into(),
                cidrs: vec![
                    "198.51.100.7/32".parse().expect("net"),
                    "203.0.113.0/24".parse().expect("net"),
                ],
            })
        );
    }

    #[test_case(
        "trusted_list:\n  name: t\n  cidrs:\n    - 198.51.100.7\n    - 203.0.113.0/24\n    - 10.0.0.0/8\n    - 203.0.113.7/24\n    - example.com\n",
        &[
            "g.yaml:10: trusted_list.cidrs[3]: \"203.0.113.7/24\" has host bits set; did you mean 203.0.113.0/24?",
            "g.yaml:11: trusted_list.cidrs[4]: must be an IPv4 address or CIDR such as 203.0.113.0/24, got \"example.com\"",
        ]
        ; "bad networks"
    )]
    #[test_case(
        "trusted_list:\n  name: \"\"\n  cidrs: []\n",
        &[
            "g.yaml:5: trusted_list.name: must be 1-300 characters (GuardDuty's limit on an IPSet name), got 0",
            "g.yaml:6: trusted_list.cidrs: must list at least one IPv4 address or CIDR",
        ]
        ; "empty name and list"
    )]
    #[test_case(
        &format!("trusted_list:\n  name: \"{}\"\n  cidrs: [{}]\n", long(301), vec!["10.0.0.1"; 2001].join(", ")),
        &[
            "g.yaml:5: trusted_list.name: must be 1-300 characters (GuardDuty's limit on an IPSet name), got 301",
            "g.yaml:6: trusted_list.cidrs: GuardDuty takes at most 2000 addresses and CIDRs in a trusted IP list, got 2001",
        ]
        ; "too long, too many"
    )]
    #[test_case(
        "trusted_list:\n  name: FireHOL-Level1\n  cidrs: [10.0.0.1]\n",
        &["g.yaml:5: trusted_list.name: threat list \"FireHOL-Level1\" has this name already; the names must differ"]
        ; "the default threat list's name"
    )]
    #[test_case(
        "threat_lists:\n  - name: A\n    feeds: [firehol_level1]\n  - name: B\n    feeds: [firehol_level1]\ntrusted_list:\n  name: B-6\n  cidrs: [10.0.0.1]\n",
        &["g.yaml:10: trusted_list.name: \"B-6\" may clash with threat list \"B\": a list too large for one GuardDuty set is managed in parts named B-1 to B-6; the names must differ"]
        ; "a part's name"
    )]
    #[test_case(
        "trusted_list:\n  cidrs: [10.0.0.1]\n  names: t\n",
        &[
            "g.yaml:5: trusted_list.name: missing: `trusted_list` must have this key",
            "g.yaml:6: trusted_list.names: unknown key; did you mean `name`?",
        ]
        ; "keys"
    )]
    fn trusted_list_errors(tail: &str, want: &[&str]) {
        assert_eq!(
            parse_tail(tail).map(|c| c.trusted_list),
            Err(want.join("\n"))
        );
    }

    #[test]
    fn trusted_list_may_be_named_like_a_part_beyond_the_sixth() {
        let c = parse_tail("trusted_list:\n  name: FireHOL-Level1-7\n  cidrs: [10.0.0.1]\n")
            .expect("valid");
        assert_eq!(
            c.trusted_list.map(|t| t.name).as_deref(),
            Some("FireHOL-Level1-7")
        );
    }

    #[test]
    fn lists_summary_says_each_list_and_the_trusted_list() {
        let c = parse_tail(&format!(
            "{FEEDS}threat_lists:\n  - {{name: FireHOL-Level1, feeds: [firehol_level1]}}\n  \
             - {{name: Both, feeds: [firehol_level1, feodo]}}\n\
             trusted_list: {{name: guardsync-trusted, cidrs: [10.0.0.1]}}\n"
        ))
        .expect("valid");
        assert_eq!(
            lists_summary(&c),
            [
                "  threat list    \"FireHOL-Level1\" from 1 feed",
                "  threat list    \"Both\" from 2 feeds",
                "  trusted list   \"guardsync-trusted\", 1 network",
            ]
        );
        let c =
            parse_tail("trusted_list: {name: t, cidrs: [10.0.0.1, 10.0.0.2]}\n").expect("valid");
        assert_eq!(
            lists_summary(&c),
            [
                "  threat list    \"FireHOL-Level1\" from 1 feed",
                "  trusted list   \"t\", 2 networks",
            ]
        );
        let c = parse_tail("").expect("valid");
        assert_eq!(lists_summary(&c)[1], "  trusted list   not managed");
    }

    /// config/example.yaml with its commented-out `threat_lists`,
    /// `trusted_list` and second feed in force instead of `threat_list`.
    fn example_with_its_commented_lists() -> String {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.yaml"),
        )
        .expect("config/example.yaml");
        let mut out = String::new();
        // The indentation of the `# ` of the block being uncommented.
        let mut block: Option<usize> = None;
        let mut in_threat_list = false;
        for line in text.lines() {
            let indent = line.len() - line.trim_start().len();
            if line.starts_with("threat_list:") {
                in_threat_list = true;
                continue;
            }
            if in_threat_list && (line.is_empty() || line.starts_with(' ')) {
                continue;
            }
            in_threat_list = false;
            if let Some(body) = line[indent..].strip_prefix("# ") {
                let starts = ["threat_lists:", "trusted_list:", "- name: feodo"]
                    .iter()
                    .any(|k| body.starts_with(k));
                if starts || (block == Some(indent) && body.starts_with(' ')) {
                    block = Some(indent);
                    out.push_str(&format!("{}{body}\n", " ".repeat(indent)));
                    continue;
                }
            }
            block = None;
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    #[test]
    fn the_examples_commented_lists_are_valid() {
        let c = load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.yaml"))
            .expect("the example as it is");
        assert_eq!(lists(&c), owned(&[("FireHOL-Level1", &["firehol_level1"])]));
        assert_eq!(c.trusted_list, None);
        let text = example_with_its_commented_lists();
        let c = parse(&text, "example.yaml".as_ref(), "example.yaml").expect("valid");
        assert_eq!(
            lists(&c),
            owned(&[
                ("FireHOL-Level1", &["firehol_level1"]),
                ("Abuse-Feodo", &["feodo"]),
            ])
        );
        assert!(c.trusted_list.is_some());
    }
}

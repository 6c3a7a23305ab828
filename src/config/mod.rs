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
    if let Ok(tree) = serde_saphyr::from_str_with_options::<raw::S<keys::Tree>>(text, shallow()) {
        let problems = keys::check(&tree, &keys::CONFIG, label);
        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
    }
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
    let mut errors = match validate::validate(raw, source, label) {
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
}

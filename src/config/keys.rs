//! Every unknown and every missing key of a configuration at once. Pure.
//!
//! serde stops at the first unknown field and at the first missing one, so
//! before it runs, the document is read as a plain tree of mappings and
//! sequences with the line of every key, and walked against [`CONFIG`], the
//! keys each mapping may and must have. When this pass finds a problem, the
//! run stops with all of them; otherwise serde and the validation proper go
//! on (and report every value problem at once). A test keeps [`CONFIG`] and
//! the serde shapes of `raw.rs` in step.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{MapAccess, SeqAccess, Visitor};

use super::errors::ConfigError;
use super::raw::S;

/// What a place in the document may hold.
#[derive(Debug)]
pub(crate) enum Shape {
    /// A mapping with these keys: `(name, required, value)`.
    Map(&'static [(&'static str, bool, Shape)]),
    /// A mapping whose keys are free (finding fields), each holding this.
    AnyKey(&'static Shape),
    /// A sequence of this.
    Seq(&'static Shape),
    /// A scalar, or a shape serde checks itself (a word or a mapping).
    Value,
}

use Shape::{AnyKey, Map, Seq, Value};

const CONDITION: Shape = Map(&[
    ("equals", false, Value),
    ("not_equals", false, Value),
    ("greater_than", false, Value),
    ("greater_than_or_equal", false, Value),
    ("less_than", false, Value),
    ("less_than_or_equal", false, Value),
    ("matches", false, Value),
    ("not_matches", false, Value),
]);

const RULE: Shape = Map(&[
    ("name", true, Value),
    ("description", false, Value),
    ("rank", true, Value),
    ("archive_existing", false, Value),
    ("criteria", true, AnyKey(&CONDITION)),
]);

/// A wave is the word `rest` or this mapping.
const WAVE: Shape = Map(&[("regions", false, Value), ("accounts", false, Value)]);

/// The whole configuration (the serde shapes of `raw.rs`).
pub(crate) const CONFIG: Shape = Map(&[
    ("admin", true, Map(&[("account_id", true, Value)])),
    (
        "organization",
        false,
        Map(&[
            ("member_role", false, Value),
            ("external_id", false, Value),
            ("session_name", false, Value),
            ("include_accounts", false, Value),
            ("exclude_accounts", false, Value),
            ("include_ous", false, Value),
            ("probe", false, Value),
        ]),
    ),
    ("regions", true, Value),
    ("concurrency", false, Value),
    ("retry", false, Map(&[("max_attempts", false, Value)])),
    (
        "feeds",
        false,
        Seq(&Map(&[("name", true, Value), ("url", true, Value)])),
    ),
    (
        "threat_list",
        false,
        Map(&[
            ("name", false, Value),
            ("strip_reserved", false, Value),
            ("allowlist", false, Value),
            ("min_entries", false, Value),
            ("max_shrink_percent", false, Value),
            ("max_age_hours", false, Value),
            ("settle_seconds", false, Value),
        ]),
    ),
    (
        "threat_lists",
        false,
        Seq(&Map(&[
            ("name", true, Value),
            ("feeds", true, Value),
            ("strip_reserved", false, Value),
            ("allowlist", false, Value),
            ("min_entries", false, Value),
            ("max_shrink_percent", false, Value),
            ("max_age_hours", false, Value),
            ("settle_seconds", false, Value),
        ])),
    ),
    (
        "trusted_list",
        false,
        Map(&[("name", true, Value), ("cidrs", true, Value)]),
    ),
    (
        "bucket",
        true,
        Map(&[
            ("name", true, Value),
            ("region", true, Value),
            ("prefix", false, Value),
            ("manage_policy", false, Value),
            ("keep_reports", false, Value),
        ]),
    ),
    ("suppression_rules", false, Seq(&RULE)),
    (
        "alerts",
        false,
        Map(&[
            ("min_severity", true, Value),
            ("topic_name", false, Value),
            ("emails", false, Value),
        ]),
    ),
    (
        "rollout",
        false,
        Map(&[
            ("waves", true, Seq(&WAVE)),
            ("failure_tolerance", false, Value),
        ]),
    ),
]);

/// The document as mappings and sequences, with the line of every key.
#[derive(Debug)]
pub(crate) enum Tree {
    Map(Vec<(S<String>, S<Tree>)>),
    Seq(Vec<S<Tree>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tree;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<S<String>, S<Tree>>()? {
                    out.push(entry);
                }
                Ok(Tree::Map(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<S<Tree>>()? {
                    out.push(item);
                }
                Ok(Tree::Seq(out))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_none<E>(self) -> Result<Tree, E> {
                Ok(Tree::Scalar)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
                Tree::deserialize(d)
            }
        }
        d.deserialize_any(V)
    }
}

/// Every unknown and missing key of `tree` against `shape`, in file order.
pub(crate) fn check(tree: &S<Tree>, shape: &Shape, label: &str) -> Vec<ConfigError> {
    let mut out = Vec::new();
    walk(tree, shape, "", label, &mut out);
    out.sort_by_key(|e| e.line);
    out
}

/// The line of each top-level key of `tree`.
pub(crate) fn top_level_lines(tree: &S<Tree>) -> BTreeMap<String, u64> {
    match &tree.value {
        Tree::Map(entries) => entries
            .iter()
            .map(|(k, _)| (k.value.clone(), k.referenced.line()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(tree: &S<Tree>, shape: &Shape, path: &str, label: &str, out: &mut Vec<ConfigError>) {
    let line = |s: &S<Tree>| s.referenced.line().max(1);
    match (&tree.value, shape) {
        (Tree::Map(entries), Map(keys)) => {
            let names: Vec<&str> = keys.iter().map(|(k, _, _)| *k).collect();
            for (key, value) in entries {
                match keys.iter().find(|(k, _, _)| *k == key.value) {
                    Some((_, _, inner)) => walk(value, inner, &join(path, &key.value), label, out),
                    None => {
                        let hint = crate::util::nearest(&key.value, &names)
                            .map(|near| format!("; did you mean `{near}`?"))
                            .unwrap_or_else(|| format!(" (expected one of {})", names.join(", ")));
                        out.push(ConfigError {
                            file: label.to_owned(),
                            line: key.referenced.line().max(1),
                            path: join(path, &key.value),
                            message: format!("unknown key{hint}"),
                        });
                    }
                }
            }
            for (name, _, _) in keys.iter().filter(|(_, required, _)| *required) {
                if !entries.iter().any(|(k, _)| k.value == *name) {
                    let within = if path.is_empty() {
                        "the configuration".to_owned()
                    } else {
                        format!("`{path}`")
                    };
                    out.push(ConfigError {
                        file: label.to_owned(),
                        line: line(tree),
                        path: join(path, name),
                        message: format!("missing: {within} must have this key"),
                    });
                }
            }
        }
        (Tree::Map(entries), AnyKey(inner)) => {
            for (key, value) in entries {
                walk(value, inner, &join(path, &key.value), label, out);
            }
        }
        (Tree::Seq(items), Seq(inner)) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, inner, &format!("{path}[{i}]"), label, out);
            }
        }
        // A word where a wave mapping may stand, a scalar for a value, or a
        // shape serde will refuse with its own message.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(yaml: &str) -> Vec<String> {
        let tree: S<Tree> = serde_saphyr::from_str(yaml).expect("YAML");
        check(&tree, &CONFIG, "g.yaml")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn every_unknown_and_missing_key_at_once() {
        let yaml = "regoins: [us-east-1]\n\
                    organization:\n  member_rol: R\n  prob: all\n\
                    bucket:\n  name: b\n\
                    suppression_rules:\n  - name: r\n    criteria:\n      type: {equal: [x]}\n\
                    rollout:\n  waves: [rest, {region: [us-east-1]}]\n";
        assert_eq!(
            errors(yaml),
            [
                "g.yaml:1: regoins: unknown key; did you mean `regions`?",
                "g.yaml:1: admin: missing: the configuration must have this key",
                "g.yaml:1: regions: missing: the configuration must have this key",
                "g.yaml:3: organization.member_rol: unknown key; did you mean `member_role`?",
                "g.yaml:4: organization.prob: unknown key; did you mean `probe`?",
                "g.yaml:6: bucket.region: missing: `bucket` must have this key",
                "g.yaml:8: suppression_rules[0].rank: missing: `suppression_rules[0]` must have this key",
                "g.yaml:10: suppression_rules[0].criteria.type.equal: unknown key; did you mean `equals`?",
                "g.yaml:12: rollout.waves[1].region: unknown key; did you mean `regions`?",
            ]
        );
    }

    #[test]
    fn the_example_configuration_has_no_unknown_key() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.yaml"),
        )
        .expect("config/example.yaml");
        assert_eq!(errors(&text), Vec::<String>::new());
    }

    /// The names serde knows for a struct: a deserializer that only asks.
    struct Fields(std::cell::RefCell<Vec<&'static str>>);

    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<T: std::fmt::Display>(_: T) -> Self {
            Stop
        }
    }

    impl<'de> serde::Deserializer<'de> for &Fields {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0.borrow_mut().extend(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    fn serde_fields<'de, T: Deserialize<'de>>() -> Vec<&'static str> {
        let probe = Fields(std::cell::RefCell::new(Vec::new()));
        let _ = T::deserialize(&probe);
        probe.0.into_inner()
    }

    fn keys_at(shape: &Shape) -> Vec<&'static str> {
        match shape {
            Map(keys) => keys.iter().map(|(k, _, _)| *k).collect(),
            other => panic!("not a mapping: {other:?}"),
        }
    }

    fn child<'a>(shape: &'a Shape, key: &str) -> &'a Shape {
        match shape {
            Map(keys) => &keys.iter().find(|(k, _, _)| *k == key).expect(key).2,
            other => panic!("not a mapping: {other:?}"),
        }
    }

    fn item(shape: &Shape) -> &Shape {
        match shape {
            Seq(inner) | AnyKey(inner) => inner,
            other => panic!("not a sequence: {other:?}"),
        }
    }

    /// The table says exactly what serde accepts, struct by struct.
    #[test]
    fn the_table_is_the_serde_shapes() {
        use super::super::raw::*;
        let c = &CONFIG;
        assert_eq!(keys_at(c), serde_fields::<RawConfig>());
        assert_eq!(keys_at(child(c, "admin")), serde_fields::<RawAdmin>());
        assert_eq!(
            keys_at(child(c, "organization")),
            serde_fields::<RawOrganization>()
        );
        assert_eq!(keys_at(child(c, "retry")), serde_fields::<RawRetry>());
        assert_eq!(keys_at(item(child(c, "feeds"))), serde_fields::<RawFeed>());
        assert_eq!(
            keys_at(child(c, "threat_list")),
            serde_fields::<RawThreatList>()
        );
        assert_eq!(
            keys_at(item(child(c, "threat_lists"))),
            serde_fields::<RawListEntry>()
        );
        assert_eq!(
            keys_at(child(c, "trusted_list")),
            serde_fields::<RawTrustedList>()
        );
        assert_eq!(keys_at(child(c, "bucket")), serde_fields::<RawBucket>());
        let rule = item(child(c, "suppression_rules"));
        assert_eq!(keys_at(rule), serde_fields::<RawRule>());
        assert_eq!(
            keys_at(item(child(rule, "criteria"))),
            serde_fields::<RawCondition>()
        );
        assert_eq!(keys_at(child(c, "alerts")), serde_fields::<RawAlerts>());
        let rollout = child(c, "rollout");
        assert_eq!(keys_at(rollout), serde_fields::<RawRollout>());
        assert_eq!(
            keys_at(item(child(rollout, "waves"))),
            serde_fields::<RawWaveSelector>()
        );
    }
}

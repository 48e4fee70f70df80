//! Every mistake in one run: a walk of the parsed document against the intent's JSON Schema.
//!
//! serde's typed deserialization stops at the first unknown key, bad value or wrong type. When
//! it does, each front-end reads the same text again into a [`Tree`] (the document's maps,
//! lists and scalars with their spans, through the same deserializer and span protocol as the
//! model), and [`check`] walks that tree against the schema `schemars` derives from
//! [`NetworkIntent`] (the one definition of keys, types and enums the editor also reads).
//! Each independent mistake is one [`Finding`]: an unknown key, a value of the wrong type, a
//! value not among an enum's, a missing required key. A wrong value is reported once and the
//! walk goes on with its siblings; it does not descend into a value of the wrong shape.
//!
//! The walk reports only what the typed reader refuses: patterns, `const` and the schema's
//! extra bounds (a VNI over 24 bits) are `validate`'s findings, and where the schema offers a
//! choice of several shapes of one kind (`mtu`: `auto` or a number) it stays silent. Findings
//! carry the message each front-end's reader would give (the YAML parser's or serde's wording),
//! so the front-end turns them into diagnostics exactly as its first error.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::LazyLock;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::model::NetworkIntent;
use super::spanned::{Span, Spanned};
use super::suggest::did_you_mean;

/// A document as read, before any type is given to it.
#[derive(Debug)]
pub(super) enum Tree {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Tree>>),
    Map(Vec<(Spanned<Tree>, Spanned<Tree>)>),
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Tree, E> {
        Ok(Tree::Int(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Tree, E> {
        Ok(Tree::Int(i128::try_from(v).unwrap_or(i128::MAX)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Tree, E> {
        Ok(Tree::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_none<E>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        Tree::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Tree, D::Error> {
        Tree::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Tree>>()? {
            items.push(item);
        }
        Ok(Tree::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Tree>>()? {
            let value = map.next_value::<Spanned<Tree>>()?;
            entries.push((key, value));
        }
        Ok(Tree::Map(entries))
    }
}

/// The two readers differ in what a scalar may stand for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    /// serde-saphyr: every scalar is text first; numbers and booleans are read from it
    /// (`"1500"` is a number, `yes` a boolean); `~` or nothing is null.
    Yaml,
    /// The KDL reader (`kdl/de.rs`): values keep their KDL type; a lone value is a list of
    /// one, a bare node or `{}` an empty list or map.
    Kdl,
}

/// One mistake: the reader's message and where it is.
#[derive(Debug)]
pub(super) struct Finding {
    pub message: String,
    pub span: Span,
}

/// The schema of the intent, as `netc schema` prints it.
static SCHEMA: LazyLock<Value> = LazyLock::new(|| schemars::schema_for!(NetworkIntent).to_value());

/// Walks `doc` (the whole document, a map) against the intent's schema. `root` is the span a
/// finding about the document itself points at.
pub(super) fn check(doc: &Tree, root: Span, dialect: Dialect, text: &str) -> Vec<Finding> {
    let mut walk = Walk {
        dialect,
        text,
        found: Vec::new(),
    };
    let schema: &Value = &SCHEMA;
    walk.value(schema, doc, root);
    walk.found
}

/// What the schema wants at one place, once `$ref`s and nullable choices are resolved.
enum Want<'s> {
    /// A map with known keys (a struct): `name` is its definition's, for messages.
    Struct {
        name: &'s str,
        schema: &'s Value,
    },
    /// A map of any keys whose values follow `values` (labels).
    Map {
        values: &'s Value,
    },
    List {
        items: Option<&'s Value>,
    },
    Text,
    Word {
        variants: Vec<&'s str>,
    },
    Int {
        format: &'s str,
    },
    Bool,
    /// Anything (or a choice the walk does not judge).
    Any,
}

struct Walk<'t> {
    dialect: Dialect,
    text: &'t str,
    found: Vec<Finding>,
}

impl Walk<'_> {
    fn report(&mut self, span: Span, message: String) {
        self.found.push(Finding { message, span });
    }

    /// The definition a `$ref` names, and its name.
    fn resolve(schema: &Value) -> (&Value, Option<&str>) {
        let mut s = schema;
        let mut name = None;
        for _ in 0..16 {
            let Some(r) = s.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let Some(def) = r.strip_prefix("#/$defs/") else {
                break;
            };
            match SCHEMA.get("$defs").and_then(|d| d.get(def)) {
                Some(d) => {
                    s = d;
                    name = Some(def);
                }
                None => break,
            }
        }
        (s, name)
    }

    /// What `schema` wants of `value`, and whether null is taken for it.
    fn want<'s>(schema: &'s Value, value: &Tree) -> (Want<'s>, bool) {
        let (schema, name) = Self::resolve(schema);
        let is_null = |s: &Value| s.get("type").and_then(Value::as_str) == Some("null");
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            let nullable = branches.iter().any(is_null);
            let rest: Vec<&Value> = branches.iter().filter(|b| !is_null(b)).collect();
            // A choice of words (`Distribution`: an enum and a documented `const`).
            let words: Option<Vec<&str>> = rest
                .iter()
                .map(|b| Self::words(Self::resolve(b).0))
                .collect::<Option<Vec<_>>>()
                .map(|w| w.into_iter().flatten().collect());
            if let Some(variants) = words {
                return (Want::Word { variants }, nullable);
            }
            if let [one] = rest.as_slice() {
                let (want, null) = Self::want(one, value);
                return (want, nullable || null);
            }
            // Several shapes (`podCIDR`: a CIDR or a list): the one of the value's kind, if
            // only one is of that kind.
            let of_kind: Vec<&&Value> = rest
                .iter()
                .filter(|b| Self::kind_matches(Self::resolve(b).0, value))
                .collect();
            if let [one] = of_kind.as_slice() {
                let (want, null) = Self::want(one, value);
                return (want, nullable || null);
            }
            return (Want::Any, true);
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let nullable = types.contains(&"null");
        let want = match types.iter().find(|t| **t != "null") {
            Some(&"object") => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => Want::Struct {
                    name: name.unwrap_or("the map"),
                    schema,
                },
                Some(values @ Value::Object(_)) => Want::Map { values },
                _ => Want::Any,
            },
            Some(&"array") => Want::List {
                items: schema.get("items"),
            },
            Some(&"string") => match Self::words(schema) {
                Some(variants) if schema.get("enum").is_some() => Want::Word { variants },
                _ => Want::Text,
            },
            Some(&"integer") => Want::Int {
                format: schema
                    .get("format")
                    .and_then(Value::as_str)
                    .unwrap_or("int64"),
            },
            Some(&"boolean") => Want::Bool,
            _ => Want::Any,
        };
        (want, nullable)
    }

    /// The words a string schema takes: its `enum`, or its `const`.
    fn words(schema: &Value) -> Option<Vec<&str>> {
        if schema.get("type").and_then(Value::as_str) != Some("string") {
            return None;
        }
        if let Some(e) = schema.get("enum").and_then(Value::as_array) {
            return Some(e.iter().filter_map(Value::as_str).collect());
        }
        schema.get("const").and_then(Value::as_str).map(|c| vec![c])
    }

    fn kind_matches(schema: &Value, value: &Tree) -> bool {
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return true,
        };
        match value {
            Tree::Map(_) => types.contains(&"object"),
            Tree::Seq(_) => types.contains(&"array"),
            Tree::Null => types.contains(&"null"),
            _ => types
                .iter()
                .any(|t| !matches!(*t, "object" | "array" | "null")),
        }
    }

    fn value(&mut self, schema: &Value, value: &Tree, span: Span) {
        let (want, nullable) = Self::want(schema, value);
        let kdl = self.dialect == Dialect::Kdl;
        if matches!(value, Tree::Null) && (nullable || matches!(want, Want::Any)) {
            return;
        }
        match want {
            Want::Any => {}
            Want::Struct { name, schema } => match value {
                Tree::Map(entries) => self.fields(schema, entries, span),
                // A bare node or `#null` is an empty map to the KDL reader.
                Tree::Null if kdl => self.fields(schema, &[], span),
                _ => self.wrong(span, value, &format!("struct {name}"), Expect::Map),
            },
            Want::Map { values } => match value {
                Tree::Map(entries) => {
                    for (_, v) in entries {
                        self.value(values, &v.value, v.span);
                    }
                }
                Tree::Null if kdl => {}
                _ => self.wrong(span, value, "a map", Expect::Map),
            },
            Want::List { items } => match value {
                Tree::Seq(elements) => {
                    if let Some(items) = items {
                        for e in elements {
                            self.value(items, &e.value, e.span);
                        }
                    }
                }
                // The KDL reader: a lone value is a list of one; nothing or `{}` is empty.
                Tree::Null if kdl => {}
                Tree::Map(entries) if kdl && entries.is_empty() => {}
                Tree::Map(_) => self.wrong(span, value, "a sequence", Expect::Seq),
                _ if kdl => {
                    if let Some(items) = items {
                        self.value(items, value, span);
                    }
                }
                _ => self.wrong(span, value, "a sequence", Expect::Seq),
            },
            Want::Text => match value {
                Tree::Str(_) => {}
                Tree::Bool(_) | Tree::Int(_) | Tree::Float(_) if !kdl => {}
                _ => self.wrong(span, value, "a string", Expect::Text),
            },
            Want::Word { variants } => self.word(&variants, value, span),
            Want::Int { format } => self.int(format, value, span),
            Want::Bool => match value {
                Tree::Bool(_) => {}
                Tree::Seq(_) | Tree::Map(_) | Tree::Null => {
                    self.wrong(span, value, "a boolean", Expect::Text)
                }
                _ if !kdl => {
                    if let Err(e) = serde_saphyr::from_str::<bool>(self.raw(span)) {
                        self.report(span, yaml_message(&e));
                    }
                }
                _ => self.wrong(span, value, "a boolean", Expect::Text),
            },
        }
    }

    /// The text of a YAML scalar as written (quotes and all).
    fn raw(&self, span: Span) -> &str {
        self.text
            .get(span.offset..span.offset.saturating_add(span.len))
            .unwrap_or("")
    }

    fn fields(&mut self, schema: &Value, entries: &[(Spanned<Tree>, Spanned<Tree>)], span: Span) {
        let props = schema.get("properties").and_then(Value::as_object);
        let known: Vec<&str> = props
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut seen = BTreeSet::new();
        // Required keys an unknown key is likely a misspelling of: not missing as well.
        let mut misspelt = BTreeSet::new();
        for (key, value) in entries {
            let k = scalar_text(&key.value, self.raw(key.span));
            match props.and_then(|p| p.get(&k)) {
                Some(field) => {
                    if !seen.insert(k.clone()) {
                        // Only the KDL reader gets this far: the YAML parser refuses it.
                        self.report(key.span, format!("duplicate field `{k}`"));
                        continue;
                    }
                    self.value(field, &value.value, value.span);
                }
                None => {
                    let message = match self.dialect {
                        Dialect::Yaml => {
                            format!("unknown field `{k}`, expected one of {}", known.join(", "))
                        }
                        Dialect::Kdl => {
                            format!("unknown field `{k}`, expected {}", serde_one_of(&known))
                        }
                    };
                    if let Some(meant) = did_you_mean(&message) {
                        misspelt.insert(meant);
                    }
                    self.report(key.span, message);
                }
            }
        }
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        // The YAML front-end finds the map from any key in it (the parser points at the last
        // key read); an empty map is found from its own `{`. The KDL one labels the node.
        let at = match self.dialect {
            Dialect::Yaml => entries.last().map_or(span, |(k, _)| k.span),
            Dialect::Kdl => span,
        };
        for field in required {
            if !seen.contains(field) && !misspelt.contains(field) {
                self.report(at, format!("missing field `{field}`"));
            }
        }
    }

    fn word(&mut self, variants: &[&str], value: &Tree, span: Span) {
        let word = match (value, self.dialect) {
            (Tree::Str(s), _) => s.clone(),
            (Tree::Null, Dialect::Yaml) => "~".to_owned(),
            (Tree::Bool(_) | Tree::Int(_) | Tree::Float(_), Dialect::Yaml) => {
                self.raw(span).trim().to_owned()
            }
            (Tree::Seq(_) | Tree::Map(_), Dialect::Yaml) => {
                self.report(
                    span,
                    "externally tagged enum expected scalar or mapping".to_owned(),
                );
                return;
            }
            _ => {
                self.wrong(
                    span,
                    value,
                    "one of the values this key takes",
                    Expect::Text,
                );
                return;
            }
        };
        if variants.contains(&word.as_str()) {
            return;
        }
        let message = match self.dialect {
            Dialect::Yaml => format!(
                "unknown variant `{word}`, expected one of {}",
                variants.join(", ")
            ),
            Dialect::Kdl => format!(
                "unknown variant `{word}`, expected {}",
                serde_one_of(variants)
            ),
        };
        self.report(span, message);
    }

    fn int(&mut self, format: &str, value: &Tree, span: Span) {
        let (min, max, rust) = int_range(format);
        match (value, self.dialect) {
            (Tree::Int(i), Dialect::Kdl) => {
                if *i < min || *i > max {
                    self.report(
                        span,
                        format!("invalid value: integer `{i}`, expected {rust}"),
                    );
                }
            }
            (Tree::Seq(_) | Tree::Map(_) | Tree::Null, _) | (_, Dialect::Kdl) => {
                self.wrong(span, value, rust, Expect::Text)
            }
            (_, Dialect::Yaml) => {
                // serde-saphyr reads a number from the scalar's text: ask it, on that text.
                let raw = self.raw(span);
                let refused = match rust {
                    "u8" => serde_saphyr::from_str::<u8>(raw).err(),
                    "u16" => serde_saphyr::from_str::<u16>(raw).err(),
                    "u32" => serde_saphyr::from_str::<u32>(raw).err(),
                    "u64" => serde_saphyr::from_str::<u64>(raw).err(),
                    "i32" => serde_saphyr::from_str::<i32>(raw).err(),
                    _ => serde_saphyr::from_str::<i64>(raw).err(),
                };
                if let Some(e) = refused {
                    self.report(span, yaml_message(&e));
                }
            }
        }
    }

    /// A value of the wrong shape, in the reader's words.
    fn wrong(&mut self, span: Span, value: &Tree, expected: &str, yaml: Expect) {
        let message = match self.dialect {
            Dialect::Yaml => match (yaml, value) {
                (_, Tree::Null) if !matches!(yaml, Expect::Seq | Expect::Map) => {
                    format!("cannot deserialize null into {expected}")
                }
                (Expect::Map, _) => "expected mapping start".to_owned(),
                (Expect::Seq, _) => "expected sequence start".to_owned(),
                (Expect::Text, _) => "expected string scalar".to_owned(),
            },
            Dialect::Kdl => {
                let found = match value {
                    Tree::Null => "unit value".to_owned(),
                    Tree::Bool(b) => format!("boolean `{b}`"),
                    Tree::Int(i) => format!("integer `{i}`"),
                    Tree::Float(f) => format!("floating point `{f}`"),
                    Tree::Str(s) => format!("string {s:?}"),
                    Tree::Seq(_) => "sequence".to_owned(),
                    Tree::Map(_) => "map".to_owned(),
                };
                format!("invalid type: {found}, expected {expected}")
            }
        };
        self.report(span, message);
    }
}

/// The shape the YAML parser was asked for when it found another.
#[derive(Clone, Copy)]
enum Expect {
    Map,
    Seq,
    Text,
}

/// A key or word as text: the string, or a scalar's text as written.
fn scalar_text(value: &Tree, raw: &str) -> String {
    match value {
        Tree::Str(s) => s.clone(),
        Tree::Null => "~".to_owned(),
        _ => raw.trim().to_owned(),
    }
}

/// serde's own list of expected names: "`a`", "`a` or `b`", "one of `a`, `b`, `c`".
fn serde_one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_owned(),
        [one] => format!("`{one}`"),
        [a, b] => format!("`{a}` or `{b}`"),
        _ => format!(
            "one of {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The bounds of a schema integer `format`, and the Rust type serde names in its messages.
fn int_range(format: &str) -> (i128, i128, &'static str) {
    match format {
        "uint8" => (0, u8::MAX.into(), "u8"),
        "uint16" => (0, u16::MAX.into(), "u16"),
        "uint32" => (0, u32::MAX.into(), "u32"),
        "uint64" | "uint" => (0, u64::MAX.into(), "u64"),
        "int32" => (i32::MIN.into(), i32::MAX.into(), "i32"),
        _ => (i64::MIN.into(), i64::MAX.into(), "i64"),
    }
}

/// A serde-saphyr error's message without its position (the finding has its own).
pub(super) fn yaml_message(err: &serde_saphyr::Error) -> String {
    let message = err.without_snippet().to_string();
    let message = message.lines().next().unwrap_or("malformed YAML");
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

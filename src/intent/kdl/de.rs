//! A serde `Deserializer` over a parsed KDL document, following the mapping of the parent module.
//!
//! Errors carry the span of the entry or node being read when they arose: serde's own errors
//! (unknown field, wrong type, ...) are created without a position, and each layer of this
//! deserializer fills in its own span on the way out, so the innermost one wins.

use std::fmt;

use ::kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;
use serde::de::value::{StrDeserializer, U64Deserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::forward_to_deserialize_any;

use crate::intent::Span;
use crate::intent::spanned::{KDL_LEN_KEY, KDL_OFFSET_KEY, SPANNED_NEWTYPE};

/// Name of the child nodes that are sequence items.
const ITEM_NODE: &str = "-";

/// A model error, with the span of the KDL text it is about once known.
#[derive(Debug)]
pub(super) struct Error {
    pub(super) message: String,
    pub(super) span: Option<Span>,
}

impl Error {
    fn new(message: impl Into<String>, span: Span) -> Self {
        Self {
            message: message.into(),
            span: Some(span),
        }
    }

    /// An error at a known place (the schema walk's findings).
    pub(super) fn located(message: String, span: Span) -> Self {
        Self {
            message,
            span: Some(span),
        }
    }

    /// Places an error that has no position yet.
    fn at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            message: msg.to_string(),
            span: None,
        }
    }
}

type Result<T> = std::result::Result<T, Error>;

/// Deserializes `T` from a whole document: its top-level nodes are the entries of one map.
pub(super) fn from_document<'de, T: de::Deserialize<'de>>(
    doc: &KdlDocument,
    whole: Span,
) -> Result<T> {
    let entries = doc
        .nodes()
        .iter()
        .map(|n| (Key::of_node(n), Item::Node(n)))
        .collect();
    T::deserialize(MapDe::new(entries, whole))
}

fn span_of(s: SourceSpan) -> Span {
    Span::new(s.offset(), s.len())
}

/// The span of an entry's value alone: a property's entry span covers `key=value`, and the
/// value is the raw text at its end.
fn value_span(entry: &KdlEntry) -> Span {
    let whole = entry.span();
    let end = whole.offset().saturating_add(whole.len());
    match entry.format() {
        Some(f) if !f.value_repr.is_empty() && f.value_repr.len() <= whole.len() => {
            Span::new(end.saturating_sub(f.value_repr.len()), f.value_repr.len())
        }
        _ => span_of(whole),
    }
}

/// A map key: a property name or a child node name.
#[derive(Clone, Copy)]
struct Key<'a> {
    name: &'a str,
    span: Span,
}

impl<'a> Key<'a> {
    fn of_node(node: &'a KdlNode) -> Self {
        Self {
            name: node.name().value(),
            span: span_of(node.name().span()),
        }
    }

    fn of_prop(entry: &'a KdlEntry, name: &'a ::kdl::KdlIdentifier) -> Self {
        let span = span_of(name.span());
        Self {
            name: name.value(),
            // A name parsed without position (never from text) still points at its entry.
            span: if span.is_unknown() {
                span_of(entry.span())
            } else {
                span
            },
        }
    }
}

/// One value in the tree: an argument or property value, or a node read by its shape.
#[derive(Clone, Copy)]
enum Item<'a> {
    Value(&'a KdlEntry),
    Node(&'a KdlNode),
}

/// What a value is, once a node's arguments, properties and children are looked at.
enum View<'a> {
    /// One argument or property value.
    Scalar(&'a KdlEntry),
    /// A node with no entries and no children block.
    Empty,
    /// Several arguments, or `-` children.
    Seq(Vec<Item<'a>>),
    /// Properties and named children.
    Map(Vec<(Key<'a>, Item<'a>)>),
}

impl<'a> Item<'a> {
    /// The span errors about this value point at, and that `Spanned` records.
    fn span(&self) -> Span {
        match self {
            Item::Value(e) => value_span(e),
            Item::Node(n) => node_value_span(n),
        }
    }

    fn view(self) -> Result<View<'a>> {
        let node = match self {
            Item::Value(e) => return Ok(View::Scalar(e)),
            Item::Node(n) => n,
        };
        let mut args = Vec::new();
        let mut props = Vec::new();
        for entry in node.entries() {
            match entry.name() {
                Some(name) => props.push((Key::of_prop(entry, name), Item::Value(entry))),
                None => args.push(entry),
            }
        }
        let children = node.children().map(KdlDocument::nodes).unwrap_or(&[]);
        let name = node.name().value();
        if let Some(first) = args.first() {
            if !props.is_empty() || node.children().is_some() {
                return Err(Error::new(
                    format!(
                        "`{name}` has arguments and also properties or children; \
                         give either one value (or a list of arguments), or only properties and children"
                    ),
                    value_span(first),
                ));
            }
            return Ok(match args.as_slice() {
                [one] => View::Scalar(one),
                _ => View::Seq(args.into_iter().map(Item::Value).collect()),
            });
        }
        let is_item = |n: &KdlNode| n.name().value() == ITEM_NODE;
        if children.iter().any(is_item) {
            // Items and keys in one node would be a list and a map at once.
            let stray = props.first().map(|(k, _)| k.span).or_else(|| {
                children
                    .iter()
                    .find(|n| !is_item(n))
                    .map(|n| span_of(n.name().span()))
            });
            if let Some(span) = stray {
                return Err(Error::new(
                    format!("`{name}` mixes `-` items with named properties or children"),
                    span,
                ));
            }
            return Ok(View::Seq(children.iter().map(Item::Node).collect()));
        }
        if props.is_empty() && node.children().is_none() {
            return Ok(View::Empty);
        }
        props.extend(children.iter().map(|n| (Key::of_node(n), Item::Node(n))));
        Ok(View::Map(props))
    }
}

/// A node's value span: its lone argument's, from the first to the last of several arguments,
/// and the node name otherwise.
fn node_value_span(node: &KdlNode) -> Span {
    let mut args = node.entries().iter().filter(|e| e.name().is_none());
    let name = span_of(node.name().span());
    let Some(first) = args.next() else {
        return name;
    };
    let first = value_span(first);
    if !node.entries().iter().all(|e| e.name().is_none()) || node.children().is_some() {
        return name;
    }
    match args.next_back() {
        Some(last) => {
            let last = value_span(last);
            let end = last.offset.saturating_add(last.len);
            Span::new(first.offset, end.saturating_sub(first.offset))
        }
        None => first,
    }
}

/// Calls the visitor method for a KDL scalar.
fn visit_scalar<'de, V: Visitor<'de>>(value: &KdlValue, visitor: V) -> Result<V::Value> {
    match value {
        KdlValue::String(s) => visitor.visit_str(s),
        KdlValue::Integer(i) => {
            if let Ok(u) = u64::try_from(*i) {
                visitor.visit_u64(u)
            } else if let Ok(s) = i64::try_from(*i) {
                visitor.visit_i64(s)
            } else {
                visitor.visit_i128(*i)
            }
        }
        KdlValue::Float(f) => visitor.visit_f64(*f),
        KdlValue::Bool(b) => visitor.visit_bool(*b),
        KdlValue::Null => visitor.visit_unit(),
    }
}

/// Deserializes one [`Item`].
struct ItemDe<'a>(Item<'a>);

impl<'de> Deserializer<'de> for ItemDe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let span = self.0.span();
        match self.0.view()? {
            View::Scalar(e) => visit_scalar(e.value(), visitor),
            View::Empty => visitor.visit_unit(),
            View::Seq(items) => visit_seq(items, span, visitor),
            View::Map(entries) => MapDe::new(entries, span).deserialize_any(visitor),
        }
        .map_err(|e| e.at(span))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let span = self.0.span();
        match self.0.view()? {
            View::Empty => visitor.visit_none(),
            View::Scalar(e) if e.value().is_null() => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| e.at(span))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        let span = self.0.span();
        if name == SPANNED_NEWTYPE {
            visitor.visit_newtype_struct(SpannedDe { inner: self, span })
        } else {
            visitor.visit_newtype_struct(self)
        }
        .map_err(|e| e.at(span))
    }

    /// A lone value where a sequence is expected is a sequence of one.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let span = self.0.span();
        match self.0.view()? {
            View::Scalar(e) => visit_seq(vec![Item::Value(e)], span, visitor),
            View::Empty => visit_seq(Vec::new(), span, visitor),
            View::Seq(items) => visit_seq(items, span, visitor),
            View::Map(entries) if entries.is_empty() => visit_seq(Vec::new(), span, visitor),
            View::Map(_) => Err(de::Error::invalid_type(Unexpected::Map, &visitor)),
        }
        .map_err(|e| e.at(span))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let span = self.0.span();
        match self.0.view()? {
            View::Scalar(e) => visit_scalar(e.value(), visitor),
            View::Empty => MapDe::new(Vec::new(), span).deserialize_any(visitor),
            View::Map(entries) => MapDe::new(entries, span).deserialize_any(visitor),
            View::Seq(_) => Err(de::Error::invalid_type(Unexpected::Seq, &visitor)),
        }
        .map_err(|e| e.at(span))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let span = self.0.span();
        match self.0.view()? {
            View::Scalar(e) => match e.value() {
                KdlValue::String(s) => visitor.visit_enum(StrDeserializer::<Error>::new(s)),
                other => visit_scalar(other, visitor),
            },
            View::Empty => visitor.visit_unit(),
            View::Seq(_) => Err(de::Error::invalid_type(Unexpected::Seq, &visitor)),
            View::Map(_) => Err(de::Error::invalid_type(Unexpected::Map, &visitor)),
        }
        .map_err(|e| e.at(span))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct identifier ignored_any
    }
}

fn visit_seq<'de, V: Visitor<'de>>(
    items: Vec<Item<'_>>,
    span: Span,
    visitor: V,
) -> Result<V::Value> {
    let mut access = SeqDe {
        items: items.into_iter(),
    };
    visitor.visit_seq(&mut access).map_err(|e| e.at(span))
}

struct SeqDe<'a> {
    items: std::vec::IntoIter<Item<'a>>,
}

impl<'de> SeqAccess<'de> for SeqDe<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.items.next() {
            Some(item) => seed.deserialize(ItemDe(item)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The entries of a map: a node's properties then its children, or a document's nodes.
struct MapDe<'a> {
    entries: std::vec::IntoIter<(Key<'a>, Item<'a>)>,
    value: Option<Item<'a>>,
    /// The key being read: where errors the visitor raises between keys belong
    /// (`duplicate field`), while errors after the last key (`missing field`) belong to `span`.
    key_span: Option<Span>,
    span: Span,
}

impl<'a> MapDe<'a> {
    fn new(entries: Vec<(Key<'a>, Item<'a>)>, span: Span) -> Self {
        Self {
            entries: entries.into_iter(),
            value: None,
            key_span: None,
            span,
        }
    }
}

impl<'de> Deserializer<'de> for MapDe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        let result = visitor.visit_map(&mut self);
        let span = self.key_span.unwrap_or(self.span);
        result.map_err(|e| e.at(span))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for MapDe<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.entries.next() {
            Some((key, item)) => {
                self.key_span = Some(key.span);
                self.value = Some(item);
                seed.deserialize(KeyDe(key)).map(Some)
            }
            None => {
                self.key_span = None;
                Ok(None)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.value.take() {
            Some(item) => seed.deserialize(ItemDe(item)),
            None => Err(de::Error::custom("a map value was read before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// Deserializes a map key (a string, possibly `Spanned`).
struct KeyDe<'a>(Key<'a>);

impl<'de> Deserializer<'de> for KeyDe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor
            .visit_str::<Error>(self.0.name)
            .map_err(|e| e.at(self.0.span))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        let span = self.0.span;
        if name == SPANNED_NEWTYPE {
            visitor.visit_newtype_struct(SpannedDe { inner: self, span })
        } else {
            visitor.visit_newtype_struct(self)
        }
        .map_err(|e| e.at(span))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// The KDL side of `Spanned`'s protocol: a map of `value`, `netc_offset` and `netc_len`.
struct SpannedDe<D> {
    inner: D,
    span: Span,
}

impl<'de, D: Deserializer<'de, Error = Error>> Deserializer<'de> for SpannedDe<D> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_map(SpannedAccess {
            inner: Some(self.inner),
            span: self.span,
            next: 0,
        })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct SpannedAccess<D> {
    inner: Option<D>,
    span: Span,
    /// Index into [`SPANNED_KEYS`] of the next key.
    next: usize,
}

const SPANNED_KEYS: [&str; 3] = ["value", KDL_OFFSET_KEY, KDL_LEN_KEY];

impl<'de, D: Deserializer<'de, Error = Error>> MapAccess<'de> for SpannedAccess<D> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some(key) = SPANNED_KEYS.get(self.next) else {
            return Ok(None);
        };
        self.next = self.next.saturating_add(1);
        seed.deserialize(StrDeserializer::<Error>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let number = |n: usize| U64Deserializer::<Error>::new(u64::try_from(n).unwrap_or(0));
        match self.next {
            1 => match self.inner.take() {
                Some(inner) => seed.deserialize(inner),
                None => Err(de::Error::custom("a spanned value was read twice")),
            },
            2 => seed.deserialize(number(self.span.offset)),
            _ => seed.deserialize(number(self.span.len)),
        }
    }
}

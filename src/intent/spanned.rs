//! `Spanned<T>`: a value of the intent together with where it was written.
//!
//! Both front-ends produce it: the YAML loader through serde-saphyr's span protocol
//! (`referenced` locations), the KDL loader through its own (`netc_offset`/`netc_len`).
//! Serialization and the JSON Schema see only the value.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Serialize, Serializer};

pub use crate::diagnostic::Span;

/// Name of the newtype both loaders recognise as "attach the position of this value".
pub(crate) const SPANNED_NEWTYPE: &str = "__yaml_spanned";
/// Keys of the KDL loader's span protocol.
pub(crate) const KDL_OFFSET_KEY: &str = "netc_offset";
pub(crate) const KDL_LEN_KEY: &str = "netc_len";

/// A value and the span of the text it was read from.
#[derive(Clone, Debug, Default)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub const fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    /// A value netc supplied itself (a default): it points nowhere.
    pub fn unspanned(value: T) -> Self {
        Self {
            value,
            span: Span::default(),
        }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

// Equality and order are those of the value: two intents that differ only in layout are equal.
impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for Spanned<T> {}
impl<T: PartialOrd> PartialOrd for Spanned<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.value.partial_cmp(&other.value)
    }
}
impl<T: Ord> Ord for Spanned<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_newtype_struct(SPANNED_NEWTYPE, SpannedVisitor(PhantomData))
    }
}

struct SpannedVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
    type Value = Spanned<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut value = None;
        let mut span = Span::default();
        let mut kdl_offset = None;
        let mut kdl_len = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "value" => value = Some(map.next_value::<T>()?),
                "referenced" => {
                    let loc = map.next_value::<serde_saphyr::Location>()?;
                    span = yaml_span(&loc);
                }
                // serde-saphyr's definition site (differs from `referenced` only for aliases);
                // it must be read as a Location, its deserializer refuses `deserialize_any`.
                "defined" => {
                    map.next_value::<serde_saphyr::Location>()?;
                }
                KDL_OFFSET_KEY => kdl_offset = Some(map.next_value::<u64>()?),
                KDL_LEN_KEY => kdl_len = Some(map.next_value::<u64>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let (Some(o), Some(l)) = (kdl_offset, kdl_len) {
            span = Span::new(
                usize::try_from(o).unwrap_or(0),
                usize::try_from(l).unwrap_or(0),
            );
        }
        let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
        Ok(Spanned { value, span })
    }
}

fn yaml_span(loc: &serde_saphyr::Location) -> Span {
    let s = loc.span();
    let offset = s.byte_offset().unwrap_or_else(|| s.offset());
    let len = s.byte_len().unwrap_or_else(|| s.len());
    Span::new(
        usize::try_from(offset).unwrap_or(0),
        usize::try_from(len).unwrap_or(0),
    )
}

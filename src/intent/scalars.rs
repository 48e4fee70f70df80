//! Hand-written deserializers for the two intent values that take more than one shape.
//! (serde's untagged enums buffer their input and would lose every span inside.)

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use super::model::{CidrList, Mtu, Text};
use super::spanned::{Span, Spanned};

impl<'de> Deserialize<'de> for CidrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CidrList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CIDR or a list of CIDRs (one IPv4, one IPv6)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CidrList, E> {
                Ok(CidrList::One(Spanned::unspanned(v.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CidrList, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Text>()? {
                    items.push(item);
                }
                Ok(CidrList::Many(items))
            }
        }
        d.deserialize_any(V)
    }
}

impl Spanned<CidrList> {
    /// Each CIDR with the span to point at (a lone CIDR points at the whole value).
    pub fn entries(&self) -> impl Iterator<Item = (&str, Span)> {
        let items: &[Text] = match &self.value {
            CidrList::Empty => &[],
            CidrList::One(t) => std::slice::from_ref(t),
            CidrList::Many(v) => v,
        };
        items.iter().map(move |t| {
            let span = if t.span.is_unknown() {
                self.span
            } else {
                t.span
            };
            (t.value.as_str(), span)
        })
    }
}

impl<'de> Deserialize<'de> for Mtu {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Mtu;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`auto` or a number of bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Mtu, E> {
                match v {
                    "auto" => Ok(Mtu::Auto),
                    other => other
                        .parse::<u32>()
                        .map(Mtu::Bytes)
                        .map_err(|_| E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Mtu, E> {
                u32::try_from(v)
                    .map(Mtu::Bytes)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Mtu, E> {
                u32::try_from(v)
                    .map(Mtu::Bytes)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

//! Stage 1 of the pipeline: read an intent file (YAML or KDL) into the typed, spanned model.

pub mod compressed;
mod foreign;
mod kdl;
pub mod model;
mod scalars;
mod shape;
mod spanned;
mod suggest;
pub mod values;
mod yaml;

pub use foreign::{GENERATED_MARK, INTENT_KIND, NotAnIntent, not_an_intent};
pub use model::*;
pub use spanned::{Span, Spanned};

use crate::diagnostic::{Diag, SourceFile};

/// The syntax of an intent file, chosen by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Yaml,
    Kdl,
}

impl Syntax {
    /// `.kdl` is KDL; everything else (`.yaml`, `.yml`, stdin) is YAML, the canonical form.
    pub fn from_path(path: &str) -> Self {
        // A compressed intent (`intent.kdl.gz`) is read decompressed: its syntax is the name's
        // without the suffix.
        let path = path.strip_suffix(compressed::SUFFIX).unwrap_or(path);
        if path.ends_with(".kdl") {
            Syntax::Kdl
        } else {
            Syntax::Yaml
        }
    }
}

/// Parses an intent. Malformed input, unknown keys and wrong types are `netc::parse`
/// diagnostics: the first of them here ([`parse_all`] has every one).
pub fn parse(src: &SourceFile, syntax: Syntax) -> Result<NetworkIntent, Box<Diag>> {
    parse_all(src, syntax).map_err(|diags| {
        Box::new(
            diags
                .into_iter()
                .next()
                .unwrap_or_else(|| Diag::error(crate::diagnostic::code::PARSE, "not an intent")),
        )
    })
}

/// Parses an intent; when it cannot be read, every independent parse and type error of the
/// file (at least one), in the order of the text. A syntax error that leaves the rest
/// unreadable is one.
pub fn parse_all(src: &SourceFile, syntax: Syntax) -> Result<NetworkIntent, Vec<Diag>> {
    match syntax {
        Syntax::Yaml => yaml::parse(&src.text),
        Syntax::Kdl => kdl::parse(&src.text),
    }
}

/// The reader's first error and the schema walk's findings as one list in the order of the
/// text; a finding at the place of one already listed (the first error, found again) is
/// dropped.
fn merge(first: Diag, more: Vec<Diag>, src: &str) -> Vec<Diag> {
    let line = |d: &Diag| {
        d.primary_span()
            .map(|s| src.get(..s.offset).map_or(0, |t| t.matches('\n').count()))
    };
    let mut out = vec![first];
    for d in more {
        let same = out.iter().any(|o| {
            o.primary_span() == d.primary_span() || (line(o) == line(&d) && o.message == d.message)
        });
        if !same {
            out.push(d);
        }
    }
    out.sort_by_key(|d| d.primary_span().map_or(usize::MAX, |s| s.offset));
    out
}

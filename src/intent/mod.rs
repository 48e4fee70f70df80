//! Stage 1 of the pipeline: read an intent file (YAML or KDL) into the typed, spanned model.

mod foreign;
mod kdl;
pub mod model;
mod scalars;
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
        if path.ends_with(".kdl") {
            Syntax::Kdl
        } else {
            Syntax::Yaml
        }
    }
}

/// Parses an intent. Malformed input, unknown keys and wrong types are one `netc::parse` diagnostic.
pub fn parse(src: &SourceFile, syntax: Syntax) -> Result<NetworkIntent, Box<Diag>> {
    match syntax {
        Syntax::Yaml => yaml::parse(&src.text),
        Syntax::Kdl => kdl::parse(&src.text),
    }
}

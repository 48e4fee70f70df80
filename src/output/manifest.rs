//! `DIR/.netc-manifest.json`: the list of files netc wrote into an output directory, so a later
//! build can tell its own files (replace or drop them) from everyone else's (keep them).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::OutputError;

/// File name of the manifest at the root of an output directory.
pub const MANIFEST: &str = ".netc-manifest.json";

/// What netc wrote: `/`-separated relative path → `sha256:<hex>` of the contents, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version of this file.
    pub version: u32,
    /// The intent file the directory was built from, as named on the command line.
    pub source: String,
    pub files: BTreeMap<String, String>,
}

impl Manifest {
    pub fn new(source: &str) -> Self {
        Self {
            version: 1,
            source: source.to_owned(),
            files: BTreeMap::new(),
        }
    }

    /// Reads `dir`'s manifest; `Ok(None)` when there is none.
    pub fn read(dir: &Path) -> Result<Option<Self>, OutputError> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(OutputError::io(&path, e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| OutputError::Manifest {
                path: path.display().to_string(),
                message: e.to_string(),
            })
    }

    /// The manifest as written to disk (pretty JSON, sorted, newline-terminated).
    pub fn to_bytes(&self) -> Vec<u8> {
        // A map of strings always serializes; the fallback only keeps this infallible.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text.into_bytes()
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }
}

/// `sha256:<hex>` of some contents.
pub fn digest(contents: &[u8]) -> String {
    let hash = Sha256::digest(contents);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

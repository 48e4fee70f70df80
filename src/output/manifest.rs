//! `DIR/.netc-manifest.json`: the list of files netc wrote into an output directory, so a later
//! build can tell its own files (replace or drop them) from everyone else's (keep them).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::OutputError;
use super::confined::{ConfinedDir, path_problem};

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

    /// Reads `dir`'s manifest; `Ok(None)` when there is none. Every entry must be a plain
    /// relative path inside DIR (the manifest is as untrusted as the rest of DIR: an entry
    /// `../../etc/shadow` would make `diff` print that file); a bad entry is an error naming it.
    pub fn read(dir: &ConfinedDir) -> Result<Option<Self>, OutputError> {
        let Some(bytes) = dir.read(MANIFEST)? else {
            return Ok(None);
        };
        let bad = |message: String| OutputError::Manifest {
            path: dir.path().join(MANIFEST).display().to_string(),
            message,
        };
        let manifest: Self =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a netc manifest: {e}")))?;
        for entry in manifest.files.keys() {
            let problem = if entry == MANIFEST {
                Some("is the manifest itself")
            } else {
                path_problem(entry)
            };
            if let Some(problem) = problem {
                return Err(bad(format!("entry {entry:?} {problem}")));
            }
        }
        Ok(Some(manifest))
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

    /// Whether some file is listed below the directory `dir` (`dir/...`).
    pub fn has_below(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(path, _)| path.starts_with(&prefix))
    }
}

/// `sha256:<hex>` of some contents.
pub fn digest(contents: &[u8]) -> String {
    crate::digest::sha256_tagged(contents)
}

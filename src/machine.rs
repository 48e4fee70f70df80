//! The contract of netc's machine-readable output (`--format json` of every command).
//!
//! - Keys are camelCase, as in the intent and in Kubernetes.
//! - Every JSON document carries `formatVersion` ([`FORMAT_VERSION`]); it changes only when a
//!   key is removed or changes meaning (a new key does not change it).
//! - A command writes one document on standard output, except the two streams: `check` (and
//!   any command whose intent has errors) writes one finding per line, and `apply --watch` one
//!   log line per event, each line a document with its own `formatVersion`.
//! - Each document is one of the serde types below (or a library type it holds; `status` is
//!   `apply::status::Readiness`); `schema/<name>.schema.json` is generated from the same type
//!   by `cli::schema::output_schema` (`netc schema --output NAME`), and a test keeps the
//!   checked-in file equal to it.
//!
//! Pure (no I/O layer): `explain` renders its matrix with it; the CLI fills the documents.
//!
//! SARIF (`check --format sarif`) is not part of this contract: it keeps the SARIF 2.1.0
//! spec's own names.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;

use crate::diagnostic::JsonDiag;
use crate::explain::diff::Flow;
use crate::explain::matrix::Connection;
use crate::explain::{Explanation, Exposure};

/// The version of the output contract, in every document as `formatVersion`.
pub const FORMAT_VERSION: u32 = 1;

/// `formatVersion`: always [`FORMAT_VERSION`] (a constant in the schema).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FormatVersion;

impl Serialize for FormatVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(FORMAT_VERSION)
    }
}

impl JsonSchema for FormatVersion {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "FormatVersion".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The version of netc's output contract: changes only when a key is removed or changes meaning.",
            "type": "integer",
            "const": FORMAT_VERSION,
        })
    }
}

/// A document: `formatVersion` beside the body's own keys.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Versioned<T> {
    pub format_version: FormatVersion,
    #[serde(flatten)]
    pub body: T,
}

impl<T: Serialize> Versioned<T> {
    pub fn new(body: T) -> Self {
        Versioned {
            format_version: FormatVersion,
            body,
        }
    }

    /// One line (NDJSON).
    pub fn line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The document, indented, with a final newline.
    pub fn pretty(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// `netc explain --from --to --format json`: one answer per port checked.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExplainDoc {
    /// One per port (the `--port`, else each port the destination declares).
    pub explanations: Vec<Explanation>,
}

/// `netc explain --exposure --format json`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExposureDoc {
    pub exposures: Vec<Exposure>,
}

/// `netc explain --matrix json`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct MatrixDoc<'a> {
    /// Every workload (`namespace/name`) and node (`node/NAME`), in the matrix's order.
    pub endpoints: &'a [String],
    /// Every (source, destination, port) checked.
    pub connections: Vec<Connection<'a>>,
}

/// `netc diff-connectivity OLD NEW --format json`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DiffConnectivityDoc<'a> {
    /// Allowed by NEW, not by OLD.
    pub added: &'a [Flow],
    /// Allowed by OLD, not by NEW.
    pub removed: &'a [Flow],
    /// Host-level changes that cannot be made in place on a running cluster (findings of NEW).
    pub host: Vec<JsonDiag<'a>>,
}

/// `netc status --liveness --format json`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LivenessDoc {
    pub node: String,
    pub alive: bool,
    /// Why not (absent when alive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How a file of DIR differs from what `build` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FileChange {
    /// `build` writes it; DIR lacks it.
    Added,
    /// DIR holds other content.
    Modified,
    /// netc's own file that `build` no longer writes (it removes it).
    Removed,
}

/// One file of `netc diff --format json` (and `build --check --format json`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DiffEntry {
    /// Relative to DIR, `/`-separated.
    pub path: String,
    pub change: FileChange,
    /// What DIR holds now (`null`: nothing). Text; bytes that are not UTF-8 are replaced.
    pub old: Option<String>,
    /// What build writes (`null`: nothing, the file is removed).
    pub new: Option<String>,
}

/// `netc diff FILE -o DIR --format json` (and `build --check --format json`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffDoc {
    /// DIR as given.
    pub out: String,
    /// Whether DIR is what build would write (`entries` is then empty).
    pub up_to_date: bool,
    /// In path order.
    pub entries: Vec<DiffEntry>,
}

/// `netc build FILE -o DIR --format json`: what was written.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct BuildDoc {
    /// DIR as given.
    pub out: String,
    /// Files netc wrote.
    pub files: usize,
    /// netc's own files of the previous build it no longer writes, removed.
    pub removed: usize,
    /// Files in DIR netc did not write, kept.
    pub kept: usize,
}

/// What an apply step changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    Sysctl,
    Link,
    Address,
    Route,
    /// A VXLAN forwarding entry.
    Fdb,
    Firewall,
    File,
}

/// What became of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepResult {
    /// A dry run: it would run.
    Planned,
    /// It took effect (and stays).
    Applied,
    /// It took effect, then the failed apply undid it.
    RolledBack,
    /// The apply failed before this step took effect (or at it).
    NotApplied,
}

/// One step of `netc apply --format json`.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct StepEntry {
    pub kind: StepKind,
    /// What it changes: a sysctl key, a link name, `ADDRESS dev LINK`, a route's destination,
    /// `LINK dst ADDRESS`, the firewall part (`nftables table inet netc`, `firewalld zone Z`),
    /// a file's path (under `--root`).
    pub object: String,
    /// `set`, `create`, `delete`, `restore`, `set-master`, `set-mtu`, `set-state`, `add`,
    /// `load`, `replace`, `remove`, `write`, `update`.
    pub action: String,
    /// The value before, where known (`null`: none, or not known): a sysctl's value, a link's
    /// kind and settings, master, MTU or state, `via GATEWAY` of a route, `ADDRESS/PREFIX dev
    /// LINK` of an address, `MAC dst ADDRESS dev LINK` of a forwarding entry, the firewall's
    /// or a file's text.
    pub before: Option<String>,
    /// The value after (`null`: none, or removed).
    pub after: Option<String>,
    /// The step in words, as the text output prints it.
    pub description: String,
    pub result: StepResult,
}

/// How a `netc apply` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApplyResult {
    /// Changes were made and verified.
    Applied,
    /// The node already matched: nothing to do.
    Unchanged,
    /// A dry run with steps to run.
    Planned,
    /// The apply failed (`error` says why; a failure after changes was rolled back).
    Failed,
    /// `--confirm`: the pending `--try` apply's changes stay.
    Confirmed,
    /// `--confirm` with no `--try` apply waiting.
    NothingPending,
}

/// `netc apply --format json` (with or without `--dry-run`, and `--confirm`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplyDoc {
    /// The node applied (`null` for `--confirm`).
    pub node: Option<String>,
    pub dry_run: bool,
    pub result: ApplyResult,
    /// Steps that ran (or, in a dry run, would run).
    pub changes: usize,
    /// Every step planned, in order, with what became of it.
    pub steps: Vec<StepEntry>,
    /// Unix time at which a `--try` apply reverts unless confirmed.
    pub revert_at: Option<u64>,
    /// The deadline of an unconfirmed `--try` apply this apply reverted first.
    pub reverted_try: Option<u64>,
    /// Agent passes: the connectivity targets that answered.
    pub probes: Vec<String>,
    /// What was said along the way (a lock waited for, an expired `--try` reverted, ...).
    pub notes: Vec<String>,
    /// Why it failed (`result` is `failed`).
    pub error: Option<String>,
}

/// One line of `netc apply --watch --format json`: the agent's log, one event per line.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct WatchLine {
    /// Always `agent`.
    pub event: WatchEvent,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WatchEvent {
    Agent,
}

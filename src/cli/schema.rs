//! `netc schema`: the JSON Schema of the intent file (kept in `schema/netc.schema.json`), and
//! `--output NAME`: that of a command's JSON output (`schema/NAME.schema.json`, [`crate::machine`]).

use schemars::{JsonSchema, Schema};

use super::exit;
use crate::apply::status::Readiness;
use crate::diagnostic::JsonDiag;
use crate::intent::NetworkIntent;
use crate::machine::{
    ApplyDoc, BuildDoc, DiffConnectivityDoc, DiffDoc, ExplainDoc, ExposureDoc, FORMAT_VERSION,
    LivenessDoc, MatrixDoc, Versioned, WatchLine,
};

/// The schema's `$id`: one per intent `apiVersion`.
pub const SCHEMA_ID: &str = "urn:netc:schema:NetworkIntent:v1alpha1";

/// The JSON Schema text, exactly as `netc schema` prints it.
pub fn schema_json() -> String {
    let mut schema = schemars::schema_for!(NetworkIntent);
    // A stable identifier (no URL: the schema is served by no host; editors use the file).
    schema.insert("$id".to_owned(), SCHEMA_ID.into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The outputs with a schema: `schema/<name>.schema.json`, and what the document is.
pub const OUTPUTS: &[(&str, &str)] = &[
    (
        "check",
        "netc check --format json: one finding per line (NDJSON); also what any command prints \
         with --format json when its intent has errors",
    ),
    ("explain", "netc explain FILE --from A --to B --format json"),
    (
        "explain-exposure",
        "netc explain FILE --exposure --format json",
    ),
    ("explain-matrix", "netc explain FILE --matrix json"),
    (
        "diff-connectivity",
        "netc diff-connectivity OLD NEW --format json",
    ),
    ("status", "netc status --format json"),
    ("status-liveness", "netc status --liveness --format json"),
    (
        "apply",
        "netc apply --format json (also --dry-run, --confirm)",
    ),
    (
        "apply-watch",
        "netc apply --watch --format json: one log line per event (NDJSON)",
    ),
    (
        "diff",
        "netc diff FILE -o DIR --format json (also build --check --format json)",
    ),
    ("build", "netc build FILE -o DIR --format json"),
];

/// The schema of what `T` serializes to (a field skipped when empty is not required).
fn root<T: JsonSchema>() -> Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
}

/// The JSON Schema of output `name` (one of [`OUTPUTS`], [`crate::machine`]), as `schema/<name>.schema.json` holds
/// it; `None` for an unknown name.
pub fn output_schema(name: &str) -> Option<String> {
    let (_, title) = OUTPUTS.iter().find(|(n, _)| *n == name)?;
    let mut schema = match name {
        "check" => root::<Versioned<JsonDiag<'static>>>(),
        "explain" => root::<Versioned<ExplainDoc>>(),
        "explain-exposure" => root::<Versioned<ExposureDoc>>(),
        "explain-matrix" => root::<Versioned<MatrixDoc<'static>>>(),
        "diff-connectivity" => root::<Versioned<DiffConnectivityDoc<'static>>>(),
        "status" => root::<Versioned<Readiness>>(),
        "status-liveness" => root::<Versioned<LivenessDoc>>(),
        "apply" => root::<Versioned<ApplyDoc>>(),
        "apply-watch" => root::<Versioned<WatchLine>>(),
        "diff" => root::<Versioned<DiffDoc>>(),
        "build" => root::<Versioned<BuildDoc>>(),
        _ => return None,
    };
    schema.insert(
        "$id".to_owned(),
        format!("urn:netc:schema:output:{name}:v{FORMAT_VERSION}").into(),
    );
    schema.insert("title".to_owned(), (*title).into());
    // The wrapper's own doc comment says nothing about this document.
    schema.remove("description");
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    Some(text)
}

/// `netc schema [--output NAME]`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// The schema of a command's JSON output instead: check, explain, explain-exposure,
    /// explain-matrix, diff-connectivity, status, status-liveness, apply, apply-watch, diff,
    /// build.
    #[arg(long, value_name = "NAME", value_parser = output_names())]
    pub output: Option<String>,
}

fn output_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(OUTPUTS.iter().map(|(name, _)| *name))
}

pub(super) fn run(args: &SchemaArgs) -> u8 {
    match &args.output {
        None => print!("{}", schema_json()),
        Some(name) => match output_schema(name) {
            Some(text) => print!("{text}"),
            None => {
                eprintln!("netc: no output named {name}");
                return exit::USAGE;
            }
        },
    }
    exit::OK
}

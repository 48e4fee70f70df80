//! `netc schema`: the JSON Schema of the intent file (kept in `schema/netc.schema.json`), and
//! `--output NAME`: that of a command's JSON output (`schema/NAME.schema.json`, [`crate::machine`]).

use super::exit;
use crate::intent::NetworkIntent;

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
    clap::builder::PossibleValuesParser::new(crate::machine::OUTPUTS.iter().map(|(name, _)| *name))
}

pub(super) fn run(args: &SchemaArgs) -> u8 {
    match &args.output {
        None => print!("{}", schema_json()),
        Some(name) => match crate::machine::schema_text(name) {
            Some(text) => print!("{text}"),
            None => {
                eprintln!("netc: no output named {name}");
                return exit::USAGE;
            }
        },
    }
    exit::OK
}

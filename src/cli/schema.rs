//! `netc schema`: the JSON Schema of the intent file (kept in `schema/netc.schema.json`).

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

pub(super) fn run() -> u8 {
    print!("{}", schema_json());
    exit::OK
}

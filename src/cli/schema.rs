//! `netc schema`: the JSON Schema of the intent file (kept in `schema/netc.schema.json`).

use super::exit;
use crate::intent::NetworkIntent;

/// The JSON Schema text, exactly as `netc schema` prints it.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(NetworkIntent);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

pub(super) fn run() -> u8 {
    print!("{}", schema_json());
    exit::OK
}

//! `netc check --format sarif`: the findings as one SARIF 2.1.0 log, for GitHub code scanning
//! and other SARIF consumers.
//!
//! The shape follows the OASIS SARIF 2.1.0 specification and its JSON Schema
//! (`sarif-schema-2.1.0.json`, which `tests/check_sarif.rs` validates the output against):
//! one run whose `tool.driver` lists every code of [`rules::RULES`] as a rule, one result per
//! finding with the code as `ruleId`, the first label as its location and the other labels as
//! `relatedLocations`. Columns are counted in characters (`columnKind: unicodeCodePoints`, as
//! netc's other outputs count them); regions end after their last character (SARIF's
//! `endColumn` is the column after the region).

use std::path::Path;

use serde::Serialize;

use super::{Diag, Label, Severity, SourceFile, rules};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    short_description: Text,
    full_description: Text,
    help: Text,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The SARIF log of the findings of each checked file; paths are made relative to `cwd`.
pub fn log(files: &[(SourceFile, Vec<Diag>)], cwd: &Path) -> Log {
    let rules = rules::RULES
        .iter()
        .map(|r| Rule {
            id: r.code,
            short_description: Text {
                text: short(r.summary),
            },
            full_description: Text {
                text: r.summary.to_owned(),
            },
            help: Text {
                text: format!(
                    "{} (the finding's own help line says how to fix it; `netc check` shows it; \
                     a warning can be accepted with `lint: {{allow: [{}]}}` in the intent)",
                    r.summary, r.code
                ),
            },
            default_configuration: Configuration {
                level: level(r.severities.first().copied().unwrap_or(Severity::Error)),
            },
        })
        .collect();
    let results = files
        .iter()
        .flat_map(|(src, diags)| {
            let uri = uri(&src.name, cwd);
            diags.iter().map(move |d| result(d, src, &uri))
        })
        .collect();
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "netc",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    }
}

fn result(d: &Diag, src: &SourceFile, uri: &str) -> SarifResult {
    let at = |label: Option<&Label>, id: Option<usize>| Location {
        id,
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: uri.to_owned(),
            },
            region: label.map(|l| {
                let (start_line, start_column) = src.line_col(l.span.offset);
                let (end_line, end_column) = src.line_col(l.span.offset.saturating_add(l.span.len));
                Region {
                    start_line,
                    start_column,
                    end_line,
                    end_column,
                }
            }),
        },
        message: label.map(|l| Text {
            text: l.text.clone(),
        }),
    };
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    SarifResult {
        rule_id: d.code,
        rule_index: rules::RULES.iter().position(|r| r.code == d.code),
        level: level(d.severity),
        message: Text { text: message },
        // A finding without a label is about the file as a whole.
        locations: vec![at(d.labels.first(), None)],
        related_locations: d
            .labels
            .iter()
            .skip(1)
            .enumerate()
            .map(|(i, l)| at(Some(l), Some(i + 1)))
            .collect(),
    }
}

/// The rule's first clause (up to the first `;`), for `shortDescription`.
fn short(summary: &str) -> String {
    summary
        .split("; ")
        .next()
        .unwrap_or(summary)
        .trim()
        .to_owned()
}

/// The file's URI reference: relative to `cwd` when it is below it (GitHub resolves it against
/// the repository checkout), else a `file://` URI; standard input is `stdin`.
fn uri(name: &str, cwd: &Path) -> String {
    if name == "-" {
        return "stdin".to_owned();
    }
    let path = Path::new(name);
    let relative = if path.is_absolute() {
        path.strip_prefix(cwd).ok().map(Path::to_path_buf)
    } else {
        Some(
            path.components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .collect(),
        )
    };
    match relative {
        Some(rel) => encode(&rel.to_string_lossy()),
        None => format!("file://{}", encode(name)),
    }
}

/// Percent-encodes what may not stand in a URI path (RFC 3986: unreserved characters, `/` and
/// the sub-delimiters stay).
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_to_the_working_directory_and_encoded() {
        let cwd = Path::new("/repo");
        assert_eq!(uri("network/site.yaml", cwd), "network/site.yaml");
        assert_eq!(uri("./network/site.yaml", cwd), "network/site.yaml");
        assert_eq!(uri("/repo/network/a b.yaml", cwd), "network/a%20b.yaml");
        assert_eq!(uri("/elsewhere/x.yaml", cwd), "file:///elsewhere/x.yaml");
        assert_eq!(uri("-", cwd), "stdin");
    }
}

//! Validating netc's JSON outputs with a real JSON Schema validator (Python `jsonschema`,
//! installed by `scripts/test.sh`), and finding the schemas of `../shared/schemas/`.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const VALIDATE: &str = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
errors = []
for i, doc in enumerate(json.load(sys.stdin)):
    for e in cls(schema).iter_errors(doc):
        errors.append(f"document {i}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
print("\n".join(errors[:50]))
sys.exit(1 if errors else 0)
"#;

/// Validates every document against the JSON Schema at `schema`; the error lists the failures.
pub fn validate(schema: &Path, documents: &[serde_json::Value]) -> Result<(), String> {
    let mut child = Command::new("python3")
        .args(["-c", VALIDATE])
        .arg(schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (with the jsonschema module) is needed");
    let input = serde_json::to_vec(documents).expect("json");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write");
    let out = child.wait_with_output().expect("python3");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `../shared/schemas/NAME` beside the repository (or beside the worktrees' folder), if there.
pub fn shared_schema(name: &str) -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["../shared/schemas", "../../shared/schemas"]
        .iter()
        .map(|dir| repo.join(dir).join(name))
        .find(|p| p.is_file())
}

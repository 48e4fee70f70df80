//! `schema/netc.schema.json` is exactly what `netc schema` prints, and every example
//! names it in its `yaml-language-server` modeline so editors complete and check intents.

use std::path::Path;

#[test]
fn committed_schema_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(root.join("schema/netc.schema.json"))
        .expect("schema/netc.schema.json is committed");
    let current = netc::cli::schema::schema_json();
    assert!(
        committed == current,
        "schema/netc.schema.json is stale: run `cargo run -q -- schema > schema/netc.schema.json`"
    );
}

#[test]
fn schema_describes_the_contract_keys() {
    let schema: serde_json::Value =
        serde_json::from_str(&netc::cli::schema::schema_json()).expect("valid JSON");
    let cluster = &schema["$defs"]["Cluster"]["properties"];
    for key in [
        "podCIDR",
        "serviceCIDR",
        "nodeCIDRMaskSize",
        "clusterDNS",
        "kubeProxy",
    ] {
        assert!(
            cluster.get(key).is_some(),
            "Cluster.{key} missing from the schema"
        );
    }
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
}

#[test]
fn every_yaml_example_points_editors_at_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(root.join("examples")).expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).expect("readable");
            assert!(
                text.starts_with("# yaml-language-server: $schema=../schema/netc.schema.json\n"),
                "{} lacks the schema modeline",
                path.display()
            );
        }
    }
}

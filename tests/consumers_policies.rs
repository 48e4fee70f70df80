//! Every NetworkPolicy file netc writes passes `kubernetes-validate --strict` (PyPI
//! kubernetes-validate: the Kubernetes OpenAPI schemas, unknown fields rejected) for a pinned
//! Kubernetes version; so do the kube-flannel ConfigMap and host flanneld's RBAC objects
//! (`distribution: manual`). kubernetes-validate has no schema for KubeletConfiguration,
//! KubeProxyConfiguration or a kubeconfig (it warns "Couldn't find schema"): those are checked
//! against the upstream field list in `build_kubeadm_fields.rs`. The inline intent covers what the
//! examples do not: egress rules, port ranges (`endPort`), named ports, `allowDNS: false`, a
//! named multi-rule policy with `matchExpressions` of every operator.

#[path = "consumers/support.rs"]
mod support;

use std::path::Path;

use serde_json::Value;
use support::{Artifacts, build, run, text, write_all};

/// The Kubernetes version whose schemas the files are checked against (kubernetes-validate
/// ships schemas per release; the examples target 1.30-1.32).
const KUBERNETES_VERSION: &str = "1.31.0";

const POLICIES: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: policies}
cluster:
  distribution: rke2
  kubernetesVersion: v1.31.4+rke2r1
  podCIDR: 10.42.0.0/16
  serviceCIDR: 10.43.0.0/16
cni: {plugin: canal}
nodes:
  - {name: s1, role: control-plane, address: 10.20.0.10/24}
policies:
  - namespace: payments
    defaultDeny: [ingress, egress]
    rules:
      - name: api-from-gateway
        to: {app: api}
        from: [{namespace: {labels: {team: edge}}, pods: {app: gateway}}, {namespace: {name: monitoring}}]
        ports: [tcp/http, tcp/8000-8080, udp/5353]
      - name: nobody-to-vault
        to: {app: vault}
      - name: web-from-anyone
        to: {app: web}
        from: []
        ports: [tcp/80]
    egress:
      - name: api-to-db
        from: {app: api}
        to: [{pods: {app: db}}, {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.2.0.0/16]}]
        ports: [tcp/5432, sctp/9000]
      - name: api-to-anything
        from: {app: api}
        to: [{cidr: 0.0.0.0/0}]
      - name: web-to-ntp
        from: {app: web}
        to: []
        ports: [udp/123]
  - namespace: batch
    defaultDeny: [egress]
    allowDNS: false
  - namespace: payments
    name: api.whole-policy
    podSelector: {app: api}
    podExpressions: [{key: track, operator: NotIn, values: [canary, beta]}]
    policyTypes: [ingress, egress]
    rules:
      - from: [{podExpressions: [{key: tier, operator: In, values: [web]}, {key: legacy, operator: DoesNotExist}]}]
        ports: [tcp/8443]
      - from: [{namespace: {expressions: [{key: team, operator: Exists}]}, pods: {app: probe}}]
    egress:
      - to: []
        ports: [udp/53]
"#;

fn validate(label: &str, files: &[String], dir: &Path) {
    let mut args: Vec<String> = vec![
        "--strict".into(),
        "--kubernetes-version".into(),
        KUBERNETES_VERSION.into(),
    ];
    args.extend(
        files
            .iter()
            .map(|f| dir.join(f).to_string_lossy().into_owned()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run("kubernetes-validate", &args, None);
    let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success() && !report.contains("ERROR") && !report.contains("WARN"),
        "{label}: kubernetes-validate rejects {files:?}:\n{report}"
    );
}

fn check_build(label: &str, art: &Artifacts) -> usize {
    let files: Vec<String> = art
        .keys()
        .filter(|p| {
            p.starts_with("policies/")
                || p.as_str() == "flannel/kube-flannel-cfg.yaml"
                || p.as_str() == "flannel/flanneld-rbac.yaml"
        })
        .cloned()
        .collect();
    if files.is_empty() {
        return 0;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    write_all(dir.path(), art);
    validate(label, &files, dir.path());
    files.len()
}

#[test]
fn every_policy_file_passes_kubernetes_validate_strict() {
    let (_, art) = build("policies.yaml", POLICIES);
    let mut checked = check_build("policies", &art);
    for (name, _, art) in support::all_examples() {
        checked += check_build(&name, &art);
    }
    assert!(checked >= 3, "only {checked} files checked");
}

#[test]
fn flanneld_rbac_grants_what_kube_subnet_mgr_needs() {
    let (_, art) = support::build_example("hard-way-manual-flannel.yaml")
        .unwrap_or_else(|| panic!("examples/hard-way-manual-flannel.yaml missing"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    write_all(dir.path(), &art);
    validate(
        "hard-way-manual-flannel",
        &["flannel/flanneld-rbac.yaml".to_owned()],
        dir.path(),
    );
    let objects = docs(&art["flannel/flanneld-rbac.yaml"]);
    let kind = |k: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == k)
            .unwrap_or_else(|| panic!("no {k}"))
    };
    let sa = kind("ServiceAccount");
    let role = kind("ClusterRole");
    let binding = kind("ClusterRoleBinding");
    // flanneld's kube subnet manager: watch nodes, patch its node's status.
    let grants = |resource: &str, verb: &str| {
        role["rules"].as_array().into_iter().flatten().any(|r| {
            r["apiGroups"][0] == ""
                && r["resources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|x| x == resource)
                && r["verbs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|x| x == verb)
        })
    };
    for (resource, verb) in [
        ("nodes", "get"),
        ("nodes", "list"),
        ("nodes", "watch"),
        ("nodes/status", "patch"),
    ] {
        assert!(
            grants(resource, verb),
            "ClusterRole lacks {verb} {resource}"
        );
    }
    assert!(!grants("nodes", "delete"));
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(binding["subjects"][0]["name"], sa["metadata"]["name"]);
    assert_eq!(
        binding["subjects"][0]["namespace"],
        sa["metadata"]["namespace"]
    );
    assert_eq!(
        kind("Namespace")["metadata"]["name"],
        sa["metadata"]["namespace"]
    );
    // Issue 15 finding 7: the kubeconfig's token is a long-lived ServiceAccount token Secret's
    // (a `kubectl create token` token expires after an hour), created after its account.
    let secret = kind("Secret");
    assert_eq!(secret["type"], "kubernetes.io/service-account-token");
    assert_eq!(secret["metadata"]["namespace"], sa["metadata"]["namespace"]);
    assert_eq!(
        secret["metadata"]["annotations"]["kubernetes.io/service-account.name"],
        sa["metadata"]["name"]
    );
    let position = |k: &str| objects.iter().position(|o| o["kind"] == k);
    assert!(position("ServiceAccount") < position("Secret"));
    let kubeconfig = text(&art["flannel/kubeconfig"]);
    assert!(
        !kubeconfig.contains("create token")
            && kubeconfig.contains(&format!(
                "secret {}",
                secret["metadata"]["name"].as_str().expect("name")
            )),
        "{kubeconfig}"
    );
}

fn docs(bytes: &[u8]) -> Vec<Value> {
    text(bytes)
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str::<Value>(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

fn names(docs: &[Value]) -> Vec<&str> {
    docs.iter()
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect()
}

#[test]
fn policies_say_what_the_intent_says() {
    let (_, art) = build("policies.yaml", POLICIES);
    let payments = docs(&art["policies/payments.yaml"]);
    assert_eq!(
        names(&payments),
        [
            "default-deny-ingress",
            "default-deny-egress",
            "allow-dns",
            "api-from-gateway",
            "nobody-to-vault",
            "web-from-anyone",
            "api-to-db",
            "api-to-anything",
            "web-to-ntp",
            "api.whole-policy",
        ]
    );
    for d in &payments {
        assert_eq!(d["metadata"]["namespace"], "payments");
    }
    let dns = &payments[2]["spec"];
    assert_eq!(dns["policyTypes"][0], "Egress");
    let to = &dns["egress"][0]["to"][0];
    assert_eq!(to["podSelector"]["matchLabels"]["k8s-app"], "kube-dns");
    assert_eq!(
        to["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "kube-system"
    );
    let ports = &dns["egress"][0]["ports"];
    assert_eq!(
        (ports[0]["protocol"].as_str(), ports[0]["port"].as_u64()),
        (Some("UDP"), Some(53))
    );
    assert_eq!(
        (ports[1]["protocol"].as_str(), ports[1]["port"].as_u64()),
        (Some("TCP"), Some(53))
    );

    let api = &payments[3]["spec"];
    assert_eq!(api["podSelector"]["matchLabels"]["app"], "api");
    let from = &api["ingress"][0]["from"];
    // Pods and namespace in one peer: both selectors in one element (AND, not OR).
    assert_eq!(from[0]["podSelector"]["matchLabels"]["app"], "gateway");
    assert_eq!(from[0]["namespaceSelector"]["matchLabels"]["team"], "edge");
    assert!(from[1].get("podSelector").is_none());
    let ports = &api["ingress"][0]["ports"];
    assert_eq!(ports[0]["port"], "http");
    assert_eq!(
        (ports[1]["port"].as_u64(), ports[1]["endPort"].as_u64()),
        (Some(8000), Some(8080))
    );
    assert_eq!(ports[2]["protocol"], "UDP");

    // No peers: the pods are isolated for ingress and nothing is allowed.
    let vault = &payments[4]["spec"];
    assert_eq!(vault["policyTypes"][0], "Ingress");
    assert!(vault.get("ingress").is_none());

    // `from: []`: one rule with its ports and no `from`, i.e. every source (not nobody).
    let web = &payments[5]["spec"];
    assert_eq!(web["podSelector"]["matchLabels"]["app"], "web");
    assert_eq!(web["ingress"].as_array().map(Vec::len), Some(1));
    assert!(web["ingress"][0].get("from").is_none(), "{web:?}");
    assert_eq!(
        (
            web["ingress"][0]["ports"][0]["protocol"].as_str(),
            web["ingress"][0]["ports"][0]["port"].as_u64()
        ),
        (Some("TCP"), Some(80))
    );
    // `to: []`: every destination, on the listed port.
    let ntp = &payments[8]["spec"];
    assert_eq!(ntp["policyTypes"][0], "Egress");
    assert!(ntp["egress"][0].get("to").is_none(), "{ntp:?}");
    assert_eq!(ntp["egress"][0]["ports"][0]["port"].as_u64(), Some(123));

    let db = &payments[6]["spec"]["egress"][0];
    assert_eq!(db["to"][1]["ipBlock"]["cidr"], "10.0.0.0/8");
    assert_eq!(db["to"][1]["ipBlock"]["except"][1], "10.2.0.0/16");
    assert_eq!(db["ports"][1]["protocol"], "SCTP");

    // allowDNS: false leaves egress fully denied.
    let batch = docs(&art["policies/batch.yaml"]);
    assert_eq!(names(&batch), ["default-deny-egress"]);
}

//! Policies as people write them (issue 19): a named entry is one NetworkPolicy with all its
//! rules and `policyTypes`; `matchExpressions` reach the emitted objects, `explain`, the lint
//! and `diff-connectivity`; explain's "decided by" names the object and the rule index.

use netc::diagnostic::{Diag, SourceFile, code};
use netc::emit::policies::policies;
use netc::explain::{Connectivity, diff};
use netc::intent::Syntax;
use netc::pipeline;
use netc::plan::Plan;

const HEAD: &str = "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: whole}
cluster: {distribution: kubeadm, kubernetesVersion: v1.31.2, podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12}
cni: {plugin: calico}
nodes:
  - {name: cp-1, role: control-plane, address: 10.0.1.10/24}
  - {name: worker-1, role: worker, address: 10.0.1.11/24}
workloads:
  - {namespace: shop, name: web, labels: {app: web, tier: front}, ports: {http: tcp/8080}}
  - {namespace: shop, name: api, labels: {app: api}, ports: {grpc: tcp/9000, http: tcp/8081}}
  - {namespace: shop, name: db, labels: {app: db}, ports: {pg: tcp/5432}}
  - {namespace: mon, name: prom, labels: {app: prometheus}, namespaceLabels: {team: ops}}
policies:
";

/// Two ingress rules and one egress rule, as one object.
const API_POLICY: &str = "  - namespace: shop
    name: api-policy
    podSelector: {app: api}
    policyTypes: [ingress, egress]
    rules:
      - from: [{pods: {app: web}}]
        ports: [tcp/9000]
      - from: [{namespace: {expressions: [{key: team, operator: In, values: [ops]}]}}]
        ports: [tcp/8081]
    egress:
      - to: [{podExpressions: [{key: app, operator: In, values: [db, cache]}]}]
        ports: [tcp/5432]
";

fn checked(tail: &str) -> (SourceFile, pipeline::Checked) {
    let src = SourceFile::new("whole.yaml", format!("{HEAD}{tail}"));
    let c = pipeline::check(&src, Syntax::Yaml);
    (src, c)
}

fn errors(diags: &[Diag]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

fn plan(tail: &str) -> (SourceFile, Plan) {
    let (src, c) = checked(tail);
    assert!(
        errors(&c.diagnostics).is_empty(),
        "{:?}",
        errors(&c.diagnostics)
    );
    (src, c.plan.expect("plan"))
}

fn yaml(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).expect("serializes")
}

#[test]
fn a_named_entry_is_one_network_policy_with_policy_types() {
    let (_, plan) = plan(API_POLICY);
    let objects = policies(&plan.policies[0]);
    assert_eq!(objects.len(), 1, "one object for the whole policy");
    let o = yaml(&objects[0]);
    assert_eq!(o["metadata"]["name"], "api-policy");
    assert_eq!(o["metadata"]["namespace"], "shop");
    assert_eq!(o["spec"]["podSelector"]["matchLabels"]["app"], "api");
    assert_eq!(
        o["spec"]["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    assert_eq!(o["spec"]["ingress"].as_array().map(Vec::len), Some(2));
    assert_eq!(o["spec"]["egress"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        o["spec"]["ingress"][1]["from"][0]["namespaceSelector"],
        serde_json::json!({"matchExpressions": [{"key": "team", "operator": "In", "values": ["ops"]}]})
    );
    assert_eq!(
        o["spec"]["egress"][0]["to"][0]["podSelector"],
        serde_json::json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db", "cache"]}]})
    );
    assert!(
        o["spec"]["egress"][0]["to"][0]
            .get("namespaceSelector")
            .is_none()
    );
}

#[test]
fn policy_types_default_as_kubernetes_and_a_type_without_rules_isolates() {
    // Kubernetes' default: Ingress always, Egress when there are egress rules.
    let (_, p) = plan(
        "  - {namespace: shop, name: web-in, podSelector: {app: web}, rules: [{from: [], ports: [tcp/8080]}]}
  - {namespace: shop, name: db-both, podSelector: {app: db}, egress: [{to: []}]}
  - {namespace: shop, name: api-deny-out, podSelector: {app: api}, policyTypes: [egress]}
",
    );
    let types = |i: usize| yaml(&policies(&p.policies[i])[0])["spec"]["policyTypes"].clone();
    assert_eq!(types(0), serde_json::json!(["Ingress"]));
    assert_eq!(types(1), serde_json::json!(["Ingress", "Egress"]));
    assert_eq!(types(2), serde_json::json!(["Egress"]));
    let c = Connectivity::new(&p);
    let ask = |from: &str, to: &str, port: &str| {
        let (f, t) = (c.resolve(from).unwrap(), c.resolve(to).unwrap());
        let port = c.resolve_port(port, &t).unwrap();
        c.explain(&f, &t, &port)
    };
    // api isolated for egress with no rule: nothing out.
    assert!(!ask("shop/api", "shop/db", "tcp/5432").allowed);
    // db isolated for ingress with no rule (policyTypes default includes Ingress).
    assert!(!ask("shop/web", "shop/db", "tcp/5432").allowed);
    // `rules: [{from: []}]` is Kubernetes' rule without `from`: every source.
    assert!(ask("mon/prom", "shop/web", "tcp/8080").allowed);
}

#[test]
fn decided_by_names_the_object_and_the_rule_index() {
    let (src, p) = plan(API_POLICY);
    let c = Connectivity::new(&p);
    let ask = |from: &str, to: &str, port: &str| {
        let (f, t) = (c.resolve(from).unwrap(), c.resolve(to).unwrap());
        let port = c.resolve_port(port, &t).unwrap();
        c.explain(&f, &t, &port)
    };
    let e = ask("mon/prom", "shop/api", "tcp/8081");
    assert!(e.allowed, "{}", e.ingress.reason);
    let d = &e.ingress.rules[0];
    assert_eq!(d.policy.as_deref(), Some("shop/api-policy"));
    assert_eq!(d.what, "ingress rule 2 allows");
    // The rule's own line in the intent (its first port), not the policy's.
    assert_eq!(src.line_of(d.span), 23);
    let e = ask("mon/prom", "shop/api", "tcp/9000");
    assert!(!e.allowed);
    assert_eq!(
        e.ingress.rules[0].policy.as_deref(),
        Some("shop/api-policy")
    );
    let e = ask("shop/api", "shop/db", "tcp/5432");
    assert!(e.allowed);
    assert_eq!(e.egress.rules[0].what, "egress rule 1 allows");
    assert!(!ask("shop/api", "shop/web", "tcp/8080").allowed);
}

#[test]
fn object_names_up_to_253_characters() {
    // Kubernetes' DNS-1123 subdomain: 253 in all, no 63 limit per dot-separated part.
    let long = format!("{}.{}", "a".repeat(126), "b".repeat(126));
    assert_eq!(long.len(), 253);
    let (_, c) = checked(&format!(
        "  - {{namespace: shop, name: {long}, podSelector: {{app: api}}, rules: [{{from: []}}]}}
  - namespace: shop
    rules:
      - {{name: r-{}, to: {{app: api}}, from: []}}
",
        "c".repeat(100)
    ));
    assert!(
        errors(&c.diagnostics).is_empty(),
        "{:?}",
        errors(&c.diagnostics)
    );
    let (_, c) = checked(&format!(
        "  - {{namespace: shop, name: x{long}, podSelector: {{app: api}}, rules: [{{from: []}}]}}\n"
    ));
    assert!(
        c.diagnostics.iter().any(|d| d.code == code::NAME_INVALID),
        "254 characters is too long"
    );
}

#[test]
fn lint_reads_match_expressions() {
    // A selector by expression that matches no declared pod, and one that does.
    let (src, c) = checked(
        "  - namespace: shop
    rules:
      - {name: to-ghosts, toExpressions: [{key: app, operator: In, values: [ghost]}], from: [{pods: {app: web}}]}
      - {name: api-from-tiered, to: {app: api}, from: [{podExpressions: [{key: tier, operator: Exists}]}]}
      - {name: api-from-nobody, to: {app: api}, from: [{podExpressions: [{key: tier, operator: In, values: [back]}]}]}
",
    );
    let unmatched: Vec<usize> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == code::POLICY_SELECTOR_UNMATCHED)
        .map(|d| src.line_of(d.primary_span().unwrap()))
        .collect();
    assert_eq!(unmatched, [17, 19], "{:?}", c.diagnostics);
    // Shadowed: `tier Exists` admits everything `tier In [front]` does, same pods and ports.
    let (src, c) = checked(
        "  - namespace: shop
    rules:
      - {name: wide, to: {app: api}, from: [{podExpressions: [{key: tier, operator: Exists}]}], ports: [tcp/9000]}
      - {name: narrow, to: {app: api}, from: [{pods: {tier: front}}], ports: [tcp/9000]}
      - {name: other, to: {app: api}, from: [{podExpressions: [{key: tier, operator: NotIn, values: [front]}]}], ports: [tcp/9000]}
",
    );
    let shadowed: Vec<usize> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == code::POLICY_SHADOWED)
        .map(|d| src.line_of(d.primary_span().unwrap()))
        .collect();
    assert_eq!(shadowed, [18], "{:?}", c.diagnostics);
}

#[test]
fn diff_connectivity_sees_an_operator_change() {
    let old = "  - namespace: shop
    defaultDeny: [ingress]
    rules:
      - {name: api-in, to: {app: api}, from: [{podExpressions: [{key: tier, operator: In, values: [front]}]}], ports: [tcp/9000]}
";
    let new = old.replace("operator: In, values: [front]", "operator: DoesNotExist");
    let (_, a) = plan(old);
    let (_, b) = plan(&new);
    let d = diff::connections(&Connectivity::new(&a), &Connectivity::new(&b));
    let flows = |v: &[diff::Flow]| {
        v.iter()
            .map(|f| format!("{} -> {} {}", f.from, f.to, f.port))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        flows(&d.removed),
        ["shop/web -> shop/api tcp/9000 (grpc)"],
        "{d:?}"
    );
    assert!(
        flows(&d.added).contains(&"shop/db -> shop/api tcp/9000 (grpc)".to_owned()),
        "{d:?}"
    );
}

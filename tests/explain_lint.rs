//! The policy lint in `check` and `netc::workload::invalid`: each code on a failing input at the
//! right line, and silence on the fixed input.

use netc::diagnostic::{Diag, Severity, SourceFile, code};
use netc::intent::Syntax;
use netc::pipeline;

const HEAD: &str = "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: lint}
cluster: {distribution: kubeadm, kubernetesVersion: v1.31.2, podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12}
cni: {plugin: calico}
nodes:
  - {name: cp-1, role: control-plane, address: 10.0.1.10/24}
  - {name: worker-1, role: worker, address: 10.0.1.11/24}
workloads:
  - {namespace: shop, name: web, labels: {app: web}, ports: {http: tcp/8080}}
  - {namespace: shop, name: api, labels: {app: api}, ports: {grpc: tcp/9000}}
policies:
  - namespace: shop
";

fn run(tail: &str) -> (SourceFile, Vec<Diag>) {
    let src = SourceFile::new("lint.yaml", format!("{HEAD}{tail}"));
    let diags = pipeline::check(&src, Syntax::Yaml).diagnostics;
    (src, diags)
}

/// The findings with `code`, as (line of the primary label, message).
fn found(src: &SourceFile, diags: &[Diag], code: &str) -> Vec<(usize, String)> {
    diags
        .iter()
        .filter(|d| d.code == code)
        .map(|d| {
            assert!(d.help.is_some(), "{code} without help");
            (
                d.primary_span().map_or(0, |s| src.line_of(s)),
                d.message.clone(),
            )
        })
        .collect()
}

fn all(diags: &[Diag]) -> String {
    diags
        .iter()
        .map(|d| format!("{}: {}\n", d.code, d.message))
        .collect()
}

#[test]
fn selector_matching_no_workload() {
    let (src, diags) = run("    rules:
      - {name: to-nothing, to: {app: nothing}, from: [{pods: {app: web}}]}
      - {name: from-nothing, to: {app: api}, from: [{pods: {app: ghost}}, {namespace: {name: nowhere}}]}
");
    let f = found(&src, &diags, code::POLICY_SELECTOR_UNMATCHED);
    assert_eq!(
        f.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        [15, 16, 16],
        "{}",
        all(&diags)
    );
    assert!(
        diags
            .iter()
            .filter(|d| d.code == code::POLICY_SELECTOR_UNMATCHED)
            .all(|d| d.severity == Severity::Warning)
    );
    let (src, diags) = run("    rules:
      - {name: api-from-web, to: {app: api}, from: [{pods: {app: web}}]}
");
    assert!(
        found(&src, &diags, code::POLICY_SELECTOR_UNMATCHED).is_empty(),
        "{}",
        all(&diags)
    );
}

#[test]
fn rule_shadowed_by_a_broader_one() {
    let (src, diags) = run("    rules:
      - {name: broad, to: {app: api}, from: [{pods: {}}], ports: [tcp/9000-9100]}
      - {name: narrow, to: {app: api}, from: [{pods: {app: web}}], ports: [tcp/9000]}
      - {name: other-port, to: {app: api}, from: [{pods: {app: web}}], ports: [tcp/8000]}
");
    let f = found(&src, &diags, code::POLICY_SHADOWED);
    assert_eq!(f.len(), 1, "{}", all(&diags));
    assert_eq!(f[0].0, 16);
    assert!(
        f[0].1.contains("narrow") && f[0].1.contains("broad"),
        "{}",
        f[0].1
    );
    // Two equal rules: the later one is reported.
    let (src, diags) = run("    egress:
      - {name: first, from: {app: web}, to: [{cidr: 10.0.0.0/8}]}
      - {name: second, from: {app: web}, to: [{cidr: 10.0.0.0/8}]}
");
    let f = found(&src, &diags, code::POLICY_SHADOWED);
    assert_eq!(
        f.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        [16],
        "{}",
        all(&diags)
    );
}

#[test]
fn dns_on_one_protocol_only() {
    let (src, diags) = run("    egress:
      - {name: dns-udp, to: [{namespace: {name: kube-system}}], ports: [udp/53]}
      - {name: dns-tcp, to: [{namespace: {name: kube-system}}], ports: [tcp/dns-tcp]}
      - {name: dns-both, to: [{namespace: {name: kube-system}}], ports: [udp/53, tcp/53]}
");
    let f = found(&src, &diags, code::POLICY_DNS_ONE_PROTOCOL);
    assert_eq!(
        f.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        [15, 16],
        "{}",
        all(&diags)
    );
    assert!(f[0].1.contains("not on TCP") && f[1].1.contains("not on UDP"));
}

#[test]
fn ipblock_covering_pods_or_nodes() {
    let (src, diags) = run("    rules:
      - {name: from-pods, to: {app: api}, from: [{cidr: 10.244.0.0/16}]}
      - {name: from-lan, to: {app: api}, from: [{cidr: 10.0.0.0/8, except: [10.244.0.0/16]}]}
      - {name: from-w1-pods, to: {app: api}, from: [{cidr: 10.244.1.0/25}]}
      - {name: from-anywhere, to: {app: api}, from: [{cidr: 0.0.0.0/0}]}
");
    let f = found(&src, &diags, code::POLICY_IPBLOCK_COVERS_CLUSTER);
    assert_eq!(
        f.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        [15, 17],
        "{}",
        all(&diags)
    );
    assert!(f[0].1.contains("pod network 10.244.0.0/16"), "{}", f[0].1);
    assert!(
        f[1].1.contains("node worker-1's pod subnet 10.244.1.0/24"),
        "{}",
        f[1].1
    );
}

#[test]
fn egress_denied_namespace_cannot_reach_the_api_server() {
    let (src, diags) = run("    defaultDeny: [egress]
");
    let f = found(&src, &diags, code::POLICY_API_SERVER_UNREACHABLE);
    assert_eq!(f.len(), 1, "{}", all(&diags));
    assert_eq!(f[0].0, 14);
    assert!(f[0].1.contains("web and api"), "{}", f[0].1);
    let (src, diags) = run("    defaultDeny: [egress]
    egress:
      - {name: to-api-server, to: [{cidr: 10.0.1.10/32}], ports: [tcp/6443]}
");
    assert!(
        found(&src, &diags, code::POLICY_API_SERVER_UNREACHABLE).is_empty(),
        "{}",
        all(&diags)
    );
}

#[test]
fn workload_invalid() {
    let text = HEAD.replace(
        "  - {namespace: shop, name: api, labels: {app: api}, ports: {grpc: tcp/9000}}\n",
        "  - {namespace: shop, name: Api_1, labels: {-bad: x}, ports: {grpc: tcp/9000-9001}, node: nowhere}
  - {namespace: shop, name: web, ports: {Http: tcp/80}}
",
    );
    let src = SourceFile::new("lint.yaml", text);
    let diags = pipeline::check(&src, Syntax::Yaml).diagnostics;
    let f = found(&src, &diags, code::WORKLOAD_INVALID);
    let lines: Vec<usize> = f.iter().map(|(l, _)| *l).collect();
    // name, label key, port range, unknown node; then the duplicate and the port name.
    assert_eq!(lines, [11, 11, 11, 11, 12, 12], "{}", all(&diags));
    assert!(
        diags
            .iter()
            .filter(|d| d.code == code::WORKLOAD_INVALID)
            .all(Diag::is_error)
    );
}

#[test]
fn clean_intent_has_no_lint() {
    let (_, diags) = run("    defaultDeny: [ingress, egress]
    rules:
      - {name: api-from-web, to: {app: api}, from: [{pods: {app: web}}], ports: [tcp/grpc]}
    egress:
      - {name: web-to-api, from: {app: web}, to: [{pods: {app: api}}], ports: [tcp/9000]}
      - {name: to-api-server, to: [{cidr: 10.0.1.10/32}], ports: [tcp/6443]}
");
    assert!(diags.is_empty(), "{}", all(&diags));
}

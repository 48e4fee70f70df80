#!/usr/bin/env python3
"""Writes a large, valid netc intent: N nodes (with interfaces) and P policies.

usage: gen_intent.py [--fleet] NODES POLICIES [WORKLOADS [FINDINGS]] > intent.yaml
Nodes sit on 100.64.0.0/10 with a /24 pod subnet each out of 10.0.0.0/8; policies (ingress
rules, each with an egress twin and an ipBlock peer) are spread over 200 namespaces.
WORKLOADS (default 0) workloads for `netc explain --matrix`, in the same namespaces, labelled
so the policies' selectors match them (svc-P, client-P, db-P in turn).
FINDINGS (default 0) firewall rules named `Bad_I` (not DNS-1123 labels): one finding each.
--fleet adds a `fleet:` section (the netc-agent DaemonSet and the ConfigMap carrying the intent).
"""
import sys


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--fleet"]
    fleet = len(args) < len(sys.argv) - 1
    nodes, policies = int(args[0]), int(args[1])
    workloads = int(args[2]) if len(args) > 2 else 0
    findings = int(args[3]) if len(args) > 3 else 0
    w = sys.stdout.write
    w("apiVersion: netc/v1alpha1\nkind: NetworkIntent\nmetadata: {name: bench}\n")
    w("cluster:\n  distribution: rke2\n  kubernetesVersion: v1.31.4\n")
    w("  podCIDR: 10.0.0.0/8\n  serviceCIDR: 172.20.0.0/16\n  nodeCIDRMaskSize: 24\n")
    w("  controlPlaneEndpoint: 100.64.0.1:6443\n  kubeProxy: {mode: iptables}\n")
    w("cni:\n  plugin: canal\n  encapsulation: vxlan\n  mtu: auto\n  interface: eth1\n")
    w("reserved: [172.17.0.0/16, 192.168.0.0/16]\n")
    if fleet:
        w("fleet: {image: registry.example/netc:0.1.0}\n")
    w("firewall:\n  backend: nftables\n  managementAccess: [tcp/22]\n  rules:\n")
    w("    - {name: node-exporter, ports: [tcp/9100], from: [100.64.0.0/10], roles: [worker]}\n")
    for i in range(findings):
        w(f"    - {{name: Bad_{i}, ports: [tcp/9100]}}\n")
    w("nodes:\n")
    for i in range(nodes):
        role = "control-plane" if i < 3 else "worker"
        a, b = divmod(i + 1, 256)
        w(f"  - name: node-{i}\n    role: {role}\n    address: 100.64.{a}.{b}/10\n")
        w("    interfaces:\n")
        w("      - {name: eth0, mtu: 1500, purpose: management}\n")
        w("      - {name: eth1, mtu: 9000, purpose: data}\n")
    w("policies:\n")
    namespaces = min(200, policies)
    for n in range(namespaces):
        # Rules p = n, n + 200, n + 400, ... belong to namespace team-n: one entry per namespace.
        mine = range(n, policies, namespaces)
        w(f"  - namespace: team-{n}\n    defaultDeny: [ingress, egress]\n    rules:\n")
        for p in mine:
            w(f"      - name: rule-{p}\n        to: {{app: svc-{p}}}\n")
            w(f"        from: [{{pods: {{app: client-{p}}}}}, {{namespace: {{name: monitoring}}}},")
            w(" {cidr: 203.0.113.0/24, except: [203.0.113.128/25]}]\n        ports: [tcp/8080, udp/53]\n")
        w("    egress:\n")
        for p in mine:
            w(f"      - name: out-{p}\n        from: {{app: svc-{p}}}\n")
            w(f"        to: [{{pods: {{app: db-{p}}}}}]\n        ports: [tcp/5432]\n")
    if workloads:
        w("workloads:\n")
    for i in range(workloads):
        # Workload i: policy p = i // 3 (mod POLICIES), in that policy's namespace.
        p = (i // 3) % policies
        kind = ("svc", "client", "db")[i % 3]
        w(f"  - {{namespace: team-{p % namespaces}, name: {kind}-{p}, labels: {{app: {kind}-{p}}},")
        w(" ports: {http: tcp/8080, dns: udp/53, pg: tcp/5432}}\n")

if __name__ == "__main__":
    main()

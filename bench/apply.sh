#!/usr/bin/env bash
# Benchmark of `netc apply` (run as root): in a throwaway namespace, program 1,000 static routes
# + 500 firewall rules, against (a) `ip -batch` + one `nft -f` (the userland floor) and (b) one
# `ip route add` process per route; then a converged re-apply, against (c) the floor of only
# observing the same state (`ip route show` + `nft list table inet netc`), and the same pass with
# the desired-state cache removed. Nothing touches the host's own namespace.
# Usage: bench/apply.sh [path/to/netc]   (default: target/release/netc)
set -euo pipefail
NETC=${1:-${CARGO_TARGET_DIR:-target}/release/netc}
NS=netc-bench-$$
WORK=$(mktemp -d)
trap 'ip netns del $NS 2>/dev/null || true; rm -rf "$WORK"' EXIT
ms() { echo $(( ($2 - $1) / 1000000 )); }

python3 - "$WORK" <<'PY'
import sys
w = sys.argv[1]
nodes = "\n".join(
    f"  - {{name: node-{i}, role: {'control-plane' if i == 0 else 'worker'}, address: 172.16.{(i+1)//256}.{(i+1)%256}/16}}"
    for i in range(1001))
rules = "\n".join(f"    - {{name: r{i}, ports: [tcp/{20000+i}], from: [10.{i//256}.{i%256}.0/24]}}" for i in range(500))
open(f"{w}/intent.yaml", "w").write(f"""apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {{name: bench}}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 100.64.0.0/12
  serviceCIDR: 10.96.0.0/12
  nodeCIDRMaskSize: 24
cni:
  plugin: bridge
nodes:
{nodes}
firewall:
  backend: nftables
  managementAccess: [tcp/22]
  rules:
{rules}
""")
# (a) the same routes for ip -batch, and the same ruleset as one nft file.
with open(f"{w}/routes.batch", "w") as f:
    for i in range(1, 1001):
        f.write(f"route add 100.{64 + i//256}.{i%256}.0/24 via 172.16.{(i+1)//256}.{(i+1)%256}\n")
with open(f"{w}/rules.nft", "w") as f:
    f.write("table inet floor {\n chain input {\n  type filter hook input priority filter; policy accept;\n")
    for i in range(500):
        f.write(f"  ip saddr 10.{i//256}.{i%256}.0/24 tcp dport {20000+i} accept\n")
    f.write(" }\n}\n")
PY

fresh() {
    ip netns del $NS 2>/dev/null || true
    ip netns add $NS
    ip -n $NS link add eth0 type veth peer name eth0p
    ip -n $NS link set eth0p up
    ip -n $NS link set eth0 up
    ip -n $NS addr add 172.16.0.1/16 dev eth0
}
apply() { ip netns exec $NS "$NETC" -q apply "$WORK/intent.yaml" --node node-0 --root "$WORK/root" --state-dir "$WORK/state"; }

fresh; rm -rf "$WORK/root" "$WORK/state"
t0=$(date +%s%N); apply; t1=$(date +%s%N)
full=$(ms $t0 $t1)
routes=$(ip -n $NS route | grep -c 'proto static')
t0=$(date +%s%N); apply; t1=$(date +%s%N)
again=$(ms $t0 $t1)
# The same converged pass without the desired-state cache (what an edited intent costs).
rm -f "$WORK/state/desired.json"
t0=$(date +%s%N); apply; t1=$(date +%s%N)
uncached=$(ms $t0 $t1)
t0=$(date +%s%N)
ip -n $NS route show >/dev/null
ip netns exec $NS nft list table inet netc >/dev/null
t1=$(date +%s%N)
observe=$(ms $t0 $t1)

fresh
t0=$(date +%s%N); ip -n $NS -batch "$WORK/routes.batch"; ip netns exec $NS nft -f "$WORK/rules.nft"; t1=$(date +%s%N)
floor=$(ms $t0 $t1)

fresh
t0=$(date +%s%N)
while read -r _ _ dst _ gw; do ip -n $NS route add "$dst" via "$gw"; done < "$WORK/routes.batch"
t1=$(date +%s%N)
perproc=$(ms $t0 $t1)

echo "routes installed by netc: $routes"
echo "netc apply (full, incl. parse/validate/plan/emit, 1000 routes + 500 rules): ${full} ms"
echo "netc apply (converged re-apply, no changes):                              ${again} ms"
echo "netc apply (converged, desired-state cache removed first):                 ${uncached} ms"
echo "(c) observing only: ip route show + nft list table inet netc:             ${observe} ms"
echo "(a) ip -batch + one nft -f:                                               ${floor} ms"
echo "(b) one 'ip route add' process per route (routes only):                   ${perproc} ms"
awk -v f=$full -v a=$again -v fl=$floor -v p=$perproc -v o=$observe 'BEGIN {
  printf "ratios: netc/floor = %.2f, per-process/netc = %.1fx, re-apply/full = %.0f%%, re-apply/observe = %.2f\n", f/fl, p/f, 100*a/f, a/o }'

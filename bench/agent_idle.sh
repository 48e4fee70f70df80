#!/usr/bin/env bash
# The agent's idle cost (run as root): in a throwaway namespace, `netc apply --watch` converges
# a bridge + host overlay + nftables firewall intent, then its CPU time is read from
# /proc/PID/stat over SECS seconds of converged passes, at the default interval (30s) and at
# 1s: the agent's own (utime + stime) and that of the processes it ran and waited for (cutime +
# cstime: `nft list` when observing, `ping` when probing). Nothing touches the host's own namespace.
# Usage: bench/agent_idle.sh [path/to/netc] [SECS]   (default: target/release/netc, 60)
set -euo pipefail
NETC=${1:-${CARGO_TARGET_DIR:-target}/release/netc}
SECS=${2:-60}
NS=netc-agent-bench-$$
PEER=netc-agent-peer-$$
WORK=$(mktemp -d)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  ip netns del "$PEER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS"
ip netns add "$PEER"
ip -n "$NS" link add eth0 type veth peer name eth0 netns "$PEER"
ip -n "$NS" link set lo up
ip -n "$NS" link set eth0 up
ip -n "$NS" addr add 172.16.0.3/24 dev eth0
ip -n "$PEER" link set eth0 up
ip -n "$PEER" addr add 172.16.0.4/24 dev eth0
cat > "$WORK/intent.yaml" <<'YAML'
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: bench}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 10.200.0.0/16
  serviceCIDR: 10.32.0.0/24
  nodeCIDRMaskSize: 24
cni:
  plugin: bridge
hostOverlay:
  bridge: scbr0
  subnet: 192.168.100.0/24
  vxlan: {port: 4789, vni: 100, interface: eth0}
nodes:
  - {name: server, role: control-plane, address: 172.16.0.2/24, interfaces: [{name: eth0, purpose: management}]}
  - {name: worker-1, role: worker, address: 172.16.0.3/24, interfaces: [{name: eth0, purpose: management}]}
  - {name: worker-2, role: worker, address: 172.16.0.4/24, interfaces: [{name: eth0, purpose: management}]}
firewall:
  backend: nftables
  managementAccess: [tcp/22]
  rules:
    - {name: web, ports: [tcp/8080], from: [172.16.0.0/24]}
YAML
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
child_ticks() { awk '{print $16 + $17}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
mkdir -p "$WORK/state" "$WORK/root"
# The second agent finds the host the first one converged (same state dir): only idle passes.
for interval in 30s 1s; do
  ip netns exec "$NS" "$NETC" apply "$WORK/intent.yaml" --node worker-1 --watch \
    --interval "$interval" --root "$WORK/root" --state-dir "$WORK/state" >"$WORK/log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do grep -q "verified" "$WORK/log" && break; sleep 0.1; done
  grep -q "verified" "$WORK/log" || { cat "$WORK/log"; exit 1; }
  grep -q "not applied" "$WORK/log" && { cat "$WORK/log"; exit 1; }
  sleep 1
  start=$(ticks "$PID"); cstart=$(child_ticks "$PID")
  sleep "$SECS"
  end=$(ticks "$PID"); cend=$(child_ticks "$PID")
  kill -TERM "$PID"; wait "$PID" || true; PID=
  corrections=$(grep -c "corrected:" "$WORK/log" || true)
  awk -v t=$((end - start)) -v ct=$((cend - cstart)) -v hz="$HZ" -v s="$SECS" -v i="$interval" -v c="$corrections" \
    'BEGIN { printf "interval %-4s  agent %.2f s + children %.2f s CPU over %d s (%.2f%% of one core); corrections: %d\n", i, t/hz, ct/hz, s, 100*(t+ct)/hz/s, c }'
done

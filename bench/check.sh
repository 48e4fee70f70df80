#!/usr/bin/env bash
# Times `netc check` against parsing the same file alone (the floor), and reports peak memory.
# usage: bench/check.sh            (needs hyperfine and GNU time: apt-get install hyperfine time)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out; mkdir -p "$out"
cargo build --release -q --bin netc --example parse-only
netc=target/release/netc; parse=target/release/examples/parse-only

printf '| intent | bytes | parse alone | netc check | ratio | parse max RSS | check max RSS |\n'
printf '|---|---|---|---|---|---|---|\n'
for n in 1000 10000; do
  f="$out/intent-$n.yaml"
  [ -s "$f" ] || python3 bench/gen_intent.py "$n" 2000 > "$f"
  "$netc" check -q "$f" >/dev/null 2>&1 || { echo "generated intent $f does not check clean" >&2; "$netc" check "$f" | head -40; exit 1; }
  hyperfine -N --warmup 2 --runs 10 --export-json "$out/h-$n.json" \
    "$parse $f" "$netc check -q $f" >/dev/null
  read -r tp tc < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["median"], r[1]["median"])' "$out/h-$n.json")
  rp=$( { /usr/bin/time -f %M "$parse" "$f" >/dev/null; } 2>&1 | tail -1)
  rc=$( { /usr/bin/time -f %M "$netc" check -q "$f" >/dev/null; } 2>&1 | tail -1)
  python3 - "$n" "$(stat -c %s "$f")" "$tp" "$tc" "$rp" "$rc" <<'PY'
import sys
n, size, tp, tc, rp, rc = sys.argv[1:]
tp, tc = float(tp), float(tc)
print(f"| {n} nodes, 2000 policies | {int(size)/1e6:.1f} MB | {tp*1000:.0f} ms | {tc*1000:.0f} ms | {tc/tp:.2f}x | {int(rp)/1024:.0f} MB | {int(rc)/1024:.0f} MB |")
PY
done

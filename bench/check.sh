#!/usr/bin/env bash
# Times `netc check` against parsing the same file alone (the floor), and reports peak memory.
# usage: bench/check.sh            (needs hyperfine and GNU time: apt-get install hyperfine time)
#        PROFILE=profiling bench/check.sh   (the release build with line tables, for perf)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out; mkdir -p "$out"
profile=${PROFILE:-release}
cargo build --profile "$profile" -q --bin netc --example parse-only
netc=target/$profile/netc; parse=target/$profile/examples/parse-only

printf '| intent | bytes | parse alone | netc check | ratio | parse max RSS | check max RSS |\n'
printf '|---|---|---|---|---|---|---|\n'
for size in 1000:2000 10000:2000 10000:20000; do
  n=${size%%:*}; pol=${size##*:}
  f="$out/intent-$n-$pol.yaml"
  [ -s "$f" ] || python3 bench/gen_intent.py "$n" "$pol" > "$f"
  "$netc" check -q "$f" >/dev/null 2>&1 || { echo "generated intent $f does not check clean" >&2; "$netc" check "$f" | head -40; exit 1; }
  hyperfine -N --warmup 2 --runs 10 --export-json "$out/h-$n-$pol.json" \
    "$parse $f" "$netc check -q $f" >/dev/null
  read -r tp tc < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["median"], r[1]["median"])' "$out/h-$n-$pol.json")
  rp=$( { /usr/bin/time -f %M "$parse" "$f" >/dev/null; } 2>&1 | tail -1)
  rc=$( { /usr/bin/time -f %M "$netc" check -q "$f" >/dev/null; } 2>&1 | tail -1)
  python3 - "$n" "$(stat -c %s "$f")" "$tp" "$tc" "$rp" "$rc" "$pol" <<'PY'
import sys
n, size, tp, tc, rp, rc, pol = sys.argv[1:]
tp, tc = float(tp), float(tc)
print(f"| {n} nodes, {pol} policies | {int(size)/1e6:.1f} MB | {tp*1000:.0f} ms | {tc*1000:.0f} ms | {tc/tp:.2f}x | {int(rp)/1024:.0f} MB | {int(rc)/1024:.0f} MB |")
PY
done

# Findings: 20,000 findings spread over a 10,000-node intent, located (line, column) and
# printed as JSON and as the terminal report (miette, colour off when piped).
f="$out/intent-findings.yaml"
[ -s "$f" ] || python3 bench/gen_intent.py 10000 2000 0 20000 > "$f"
n=$("$netc" check --format json "$f" 2>/dev/null | wc -l || true)
hyperfine -N -i --warmup 1 --runs 5 --export-json "$out/h-findings.json" \
  "$netc check --format json $f" "$netc check $f" >/dev/null
read -r tj th < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["median"], r[1]["median"])' "$out/h-findings.json")
printf '\n| intent | findings | check --format json | check (report) |\n|---|---|---|---|\n'
python3 -c 'import sys; n,tj,th=sys.argv[1:]; print(f"| 10,000 nodes, 2000 policies, {int(n):,} findings | {int(n):,} | {float(tj)*1000:.0f} ms | {float(th)*1000:.0f} ms |")' "$n" "$tj" "$th"

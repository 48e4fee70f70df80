#!/usr/bin/env bash
# Times `netc explain --matrix` on 500 workloads and 2,000 policies (bench/gen_intent.py:
# 20 nodes, 2,000 ingress rules with egress twins = 8,400 NetworkPolicies over 200 namespaces),
# with peak memory. Every workload declares three ports, so the matrix checks
# 520 x 520 endpoints x 3 ports (nodes: their claimed ports). Median of 5 runs; needs GNU time.
# Then 5,000 workloads and 20,000 policies (`--matrix csv` streamed: 75 million rows, counted,
# not stored), one run, wall time and peak memory from `/usr/bin/time -v`.
# usage: bench/explain.sh          PROFILE=profiling bench/explain.sh (release with line tables)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out; mkdir -p "$out"
profile=${PROFILE:-release}
cargo build --profile "$profile" -q --bin netc
netc=target/$profile/netc
f="$out/explain-500x2000.yaml"
python3 bench/gen_intent.py 20 2000 500 > "$f"
# JSON findings: the generated intent has thousands of lint warnings (most rules select workloads
# it does not declare), which are slow to draw as graphical reports.
errors=$("$netc" check --format json "$f" | grep -c '"severity":"error"' || true)
[ "$errors" = 0 ] || { echo "generated intent $f has $errors errors" >&2; exit 1; }
policies=$("$netc" build "$f" -o "$out/explain-build" -q >/dev/null 2>&1; cat "$out"/explain-build/policies/*.yaml | grep -c '^kind: NetworkPolicy')
for format in csv txt; do
  times=()
  for _ in 1 2 3 4 5; do
    t=$( { /usr/bin/time -f '%e %M' "$netc" explain "$f" --matrix "$format" >"$out/matrix.$format"; } 2>&1 | tail -1)
    times+=("$t")
  done
  rows=$(wc -l <"$out/matrix.$format")
  printf '%s\n' "${times[@]}" | sort -n | awk -v fmt="$format" -v rows="$rows" -v pol="$policies" \
    'NR==3 {printf "| --matrix %s | %s NetworkPolicies | %s s | %.0f MB | %s lines |\n", fmt, pol, $1, $2/1024, rows}'
done

# At scale: 5,000 workloads x 20,000 policies (84,000 NetworkPolicies), the CSV streamed
# through a pipe. Peak memory stays that of the plan, not of the 75 million verdicts.
f="$out/explain-5000x20000.yaml"
[ -s "$f" ] || python3 bench/gen_intent.py 20 20000 5000 > "$f"
errors=$("$netc" check --format json "$f" | grep -c '"severity":"error"' || true)
[ "$errors" = 0 ] || { echo "generated intent $f has $errors errors" >&2; exit 1; }
for format in csv; do
  { /usr/bin/time -v "$netc" explain "$f" --matrix "$format" | wc -l >"$out/rows.$format"; } 2>"$out/time-v.$format"
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/time-v.$format")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time-v.$format")
  awk -v fmt="$format" -v rows="$(cat "$out/rows.$format")" -v wall="$wall" -v rss="$rss" \
    'BEGIN {printf "| --matrix %s, 5,000 workloads x 20,000 policies | %s lines | %s | %.0f MB |\n", fmt, rows, wall, rss/1024}'
done

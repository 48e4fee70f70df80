#!/usr/bin/env bash
# Times `netc build` of the 10,000-node, 2,000-policy intent against the floor: parsing the
# intent and serializing the same amount of YAML with serde into the same files (same paths and
# sizes as the build wrote; bench/build_floor.rs). Both write into a fresh directory on the same filesystem.
# usage: bench/build.sh           (needs GNU time: apt-get install time)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out; mkdir -p "$out"
cargo build --release -q --bin netc --example build-floor
netc=target/release/netc; floor=target/release/examples/build-floor
f="$out/intent-10000.yaml"
[ -s "$f" ] || python3 bench/gen_intent.py 10000 2000 > "$f"

run() { # label, command...: median wall seconds of 3 runs into fresh dirs, and max RSS
  local label=$1; shift
  local times=() rss=0
  for i in 1 2 3; do
    rm -rf "$out/build" "$out/floor"; sync
    local t0 t1 m
    t0=$(date +%s.%N)
    m=$( { /usr/bin/time -f %M "$@" >/dev/null; } 2>&1 | tail -1)
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  printf '%s %s %s\n' "$label" "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)" "$rss"
}

rm -rf "$out/build"; "$netc" build -q "$f" -o "$out/build"
(cd "$out/build" && find . -type f ! -name .netc-manifest.json -printf '%s %P\n') > "$out/listing.txt"
files=$(wc -l < "$out/listing.txt")
bytes=$(awk '{s+=$1} END {print s}' "$out/listing.txt")
b=$(run build "$netc" build -q "$f" -o "$out/build")
l=$(run floor "$floor" "$f" "$out/floor" "$out/listing.txt")
rm -rf "$out/build" "$out/floor"
python3 - "$files" "$bytes" "$b" "$l" <<'PY'
import sys
files, size, b, l = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
bt, br, lt, lr = float(b[1]), int(b[2]), float(l[1]), int(l[2])
print("| run | files | bytes | wall (median of 3) | max RSS |")
print("|---|---|---|---|---|")
print(f"| floor: parse + serde YAML + write | {files} | {size/1e6:.0f} MB | {lt:.2f} s | {lr/1024:.0f} MB |")
print(f"| netc build | {files} | {size/1e6:.0f} MB | {bt:.2f} s | {br/1024:.0f} MB |")
print(f"\nratio build / floor: {bt/lt:.2f}x")
PY

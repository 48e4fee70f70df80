#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for FUZZ_SECONDS each (default 60) on its seed
# corpus: fuzz/seeds/<target>/ (the inputs of past crashes) plus the examples. Any crash,
# panic, timeout or out-of-memory fails the script; the input is left in fuzz/artifacts/.
#
#   FUZZ_TARGETS="kdl"      only these targets (default: yaml kdl pipeline records)
#   FUZZ_SECONDS=600        run time per target
#   FUZZ_ARGS="-runs=N"     more libFuzzer flags (a run count instead of a time, ...)
#
# cargo-fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them (see fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${FUZZ_TARGETS:-yaml kdl pipeline records}
seconds=${FUZZ_SECONDS:-60}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
for target in $targets; do
    corpus=fuzz/corpus/$target
    mkdir -p "$corpus"
    cp fuzz/seeds/"$target"/* "$corpus"/
    case $target in
        yaml) cp examples/*.yaml "$corpus"/ ;;
        kdl) cp examples/*.kdl "$corpus"/ ;;
        # The agent's records (status.json, state.json, desired.json): their seeds only.
        records) ;;
        *) cp examples/*.yaml examples/*.kdl "$corpus"/ ;;
    esac
    echo "fuzz-smoke: $target for ${seconds}s"
    # -s none: no AddressSanitizer (netc and its parsers are safe Rust; ASan only slows it).
    # -max_len covers the seeds (the crashing KDL inputs are 4 KB to 15 KB);
    # -timeout: one input taking seconds is a finding (the front-ends must stay linear).
    # shellcheck disable=SC2086
    cargo fuzz run -s none "$target" "$corpus" -- \
        -max_total_time="$seconds" -dict=fuzz/netc.dict -max_len=16384 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 ${FUZZ_ARGS:-}
done

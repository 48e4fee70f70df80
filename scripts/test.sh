#!/usr/bin/env bash
# The whole test suite, as the README says: install the real consumers, then cargo test.
# Run as root: the network tests build their own network namespaces (`ip netns add`).
# Set NETC_SKIP_NETNS=1 to skip (not fail) the tests that need namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
cargo test --locked --all-targets "$@"

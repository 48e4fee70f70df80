#!/usr/bin/env bash
# Builds the release archive for the host target and proves it runs:
#   dist/netc-<version>-<target>.tar.gz  netc (release profile: no debug info), its manual
#                                        pages (man1/), shell completions, the intent's JSON
#                                        Schema, README.md
#   dist/SHA256SUMS                      sha256sum's format: `sha256sum -c SHA256SUMS`
# Then, as a user would: verifies the checksum, unpacks into a fresh directory and runs the
# unpacked netc (`--version`, `check` of an example copied into another fresh directory, `man`),
# and checks that the binary has no debug sections while its panic locations (file:line) stay.
# Any failure exits non-zero. CI runs it (.ci/run). A release build takes minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
target=$(rustc -vV | sed -n 's/^host: //p')
name="netc-${version}-${target}"
out=dist
cargo build --release --locked --bin netc
bin=${CARGO_TARGET_DIR:-target}/release/netc

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/completions" "$stage/$name/schema"
cp "$bin" "$stage/$name/netc"
"$bin" man --out-dir "$stage/$name/man1"
for shell in bash zsh fish; do
    "$bin" completions "$shell" > "$stage/$name/completions/netc.$shell"
done
cp schema/netc.schema.json "$stage/$name/schema/"
cp README.md "$stage/$name/"
mkdir -p "$out"
rm -f "$out/$name.tar.gz"
# Reproducible: sorted names, fixed owner and times (the last commit's).
mtime=$(git log -1 --format=%ct 2>/dev/null || echo 0)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
    -C "$stage" -czf "$out/$name.tar.gz" "$name"
(cd "$out" && sha256sum "$name.tar.gz" > SHA256SUMS)

# The proof, from the archive alone.
passed=0
ok() { passed=$((passed + 1)); echo "release: ok: $*"; }
fail() { echo "release: FAILED: $*" >&2; echo "release: $passed passed, 1 failed"; exit 1; }
(cd "$out" && sha256sum -c --quiet SHA256SUMS) || fail "checksum"
ok "checksum"
fresh=$(mktemp -d)
trap 'rm -rf "$stage" "$fresh"' EXIT
tar -C "$fresh" -xzf "$out/$name.tar.gz"
netc="$fresh/$name/netc"
[ "$("$netc" --version)" = "netc $version" ] || fail "netc --version is not $version"
ok "netc --version is $version"
mkdir "$fresh/work"
cp examples/k3s-flannel.yaml "$fresh/work/site.yaml"
(cd "$fresh/work" && "$netc" check site.yaml) || fail "check in a fresh directory"
ok "check in a fresh directory"
(cd "$fresh/work" && "$netc" build -q site.yaml -o out && test -f out/k3s/k3s-server/config.yaml) \
    || fail "build in a fresh directory"
ok "build in a fresh directory"
! readelf -S --wide "$netc" | grep -q '\.debug_' || fail "the binary has debug sections"
ok "no debug sections ($(du -h "$netc" | cut -f1))"
# A panic names its file and line from the binary's own data, not from debug info.
grep -aq 'src/apply/' "$netc" || fail "the binary has no panic locations"
ok "panic locations kept"
test -f "$fresh/$name/man1/netc-check.1" || fail "no manual pages"
ok "manual pages"
echo "release: $out/$name.tar.gz"
echo "release: $passed passed, 0 failed"

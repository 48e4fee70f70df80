#!/usr/bin/env bash
# Installs what netc's test suite runs for real: the reference CNI plugins, nft, iproute2,
# firewalld (firewall-offline-cmd, and the daemon on a private D-Bus system bus inside a test
# namespace only: tests/lab/firewalld.rs), dbus-daemon, kubernetes-validate, jsonschema and
# jsonpatch (RFC 6902: applies kubeadm's JSON patch files, tests/build_node_addressing.rs), man-db
# and groff (`man -l` renders `netc man`, tests/cli_man.rs), pre-commit (runs the exported hooks,
# tests/precommit.rs).
# Idempotent; needs root (or sudo) on Debian 12.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

debs=(containernetworking-plugins nftables firewalld dbus dbus-daemon iproute2 iputils-ping netcat-openbsd procps systemd util-linux python3 python3-pip man-db groff-base)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  # The maintainer scripts of firewalld and dbus must not start a daemon: a temporary policy-rc.d
  # forbids it (only if the machine has none of its own), removed again after the install.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    own_policy=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [ "$own_policy" -eq 0 ] || as_root rm -f /usr/sbin/policy-rc.d
fi

py=(kubernetes-validate jsonschema pyyaml jsonpatch pre-commit)
if ! python3 -c 'import kubernetes_validate, jsonschema, yaml, jsonpatch, pre_commit' 2>/dev/null \
  || ! command -v pre-commit >/dev/null; then
  # Debian's own python3 is "externally managed" (PEP 668); a pyenv/venv python is not.
  python3 -m pip install -q --disable-pip-version-check "${py[@]}" 2>/dev/null \
    || as_root python3 -m pip install -q --disable-pip-version-check --break-system-packages "${py[@]}"
fi

# kustomize renders netc's flannel overlay (tests/consumers_kustomize.rs); `kubectl kustomize`
# serves as well. Debian 12 packages neither: install kustomize with Go when Go is there.
if ! command -v kustomize >/dev/null && ! command -v kubectl >/dev/null && command -v go >/dev/null; then
  as_root env GOBIN=/usr/local/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0
fi

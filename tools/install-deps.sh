#!/usr/bin/env bash
# Installs what a fresh machine lacks for the demo and the tests: Debian packages, the npm
# dependencies (including Node itself, as the `node` dev dependency) and the Go-built control plane.
set -euo pipefail
cd "$(dirname "$0")/.."
debian_packages=(openssl curl jq prometheus chromium iproute2 util-linux) # prometheus: the analysis e2e scenarios start a real server; chromium: the dashboard browser test; iproute2, util-linux (ip, unshare): the data-plane namespace
missing=()
for p in "${debian_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi
# The Go builds (control plane, Helm, Traefik) run side by side while npm installs: downloads overlap builds.
hack/build-controlplane.sh >/dev/null &
controlplane=$!
hack/build-helm.sh >/dev/null &
helm=$!
hack/build-traefik.sh >/dev/null &
traefik=$!
make deps
wait "$controlplane"
wait "$helm"
wait "$traefik"

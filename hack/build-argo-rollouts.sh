#!/usr/bin/env bash
# Builds the Argo Rollouts controller from its Go module (pinned in hack/argo-rollouts/go.mod, a
# wrapper module) into the same cache as the control plane, for the side-by-side bench
# (bench/argo-compare.ts, `make bench-argo`). No prebuilt binary is downloaded. Not part of
# `make test`. Prints the binary's path last. --if-built: print it only if built (exit 1 if
# not, building nothing). --crds: print the module's manifests/crds folder instead (Argo's
# upstream CRDs, as the module ships them; the bench applies them from there).
#
# One line differs from the release: the controller's metrics and healthz servers listen on
# 127.0.0.1 instead of 0.0.0.0 (a constant in controller/controller.go), as every server on this
# machine does. The build runs on a copy of the module with that line changed, put in by a
# `replace` in a copy of the wrapper's go.mod (go build -overlay refuses files in the module cache).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkg=github.com/argoproj/argo-rollouts
version=$(awk '$1 == "require" && $2 == "'$pkg'" {print $3}' "$here/argo-rollouts/go.mod")
if [ "${1:-}" = "--crds" ]; then
  (cd "$here/argo-rollouts" && go mod download "$pkg" && echo "$(go list -m -f '{{.Dir}}' "$pkg")/manifests/crds")
  exit 0
fi
pin=$(cat "$here"/argo-rollouts/go.{mod,sum} "$0" | sha256sum | cut -c1-12)
out="${ROLLWAY_CACHE:-$HOME/.cache/rollway}/argo-rollouts-$version-$pin/bin"
if [ -x "$out/rollouts-controller" ]; then echo "$out/rollouts-controller"; exit 0; fi
[ "${1:-}" = "--if-built" ] && exit 1
command -v go >/dev/null || { echo "build-argo-rollouts: the Go toolchain is needed to build Argo Rollouts" >&2; exit 1; }
mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9
if [ ! -x "$out/rollouts-controller" ]; then
  started=$(date +%s)
  echo "build-argo-rollouts: building argo-rollouts $version (rollouts-controller)" >&2
  cd "$here/argo-rollouts"
  go mod download "$pkg"
  work="$out/src"; rm -rf "$work"; mkdir -p "$work"
  cp -r "$(go list -m -f '{{.Dir}}' "$pkg")" "$work/argo-rollouts"; chmod -R u+w "$work/argo-rollouts"
  src="$work/argo-rollouts/controller/controller.go"
  grep -q 'listenAddr *= "0.0.0.0:%d"' "$src" || { echo "build-argo-rollouts: $src no longer has listenAddr = \"0.0.0.0:%d\"; update this script" >&2; exit 1; }
  sed -i 's|listenAddr\( *\)= "0.0.0.0:%d"|listenAddr\1= "127.0.0.1:%d"|' "$src"
  cp go.sum "$work/go.sum"
  { cat go.mod; echo "replace $pkg => $work/argo-rollouts"; } > "$work/go.mod"
  # The version variables Argo's own Makefile sets; the tree state is "clean" as in a release build.
  CGO_ENABLED=0 go build -trimpath -modfile="$work/go.mod" \
    -ldflags "-s -w -X $pkg/utils/version.version=${version#v} -X $pkg/utils/version.gitTag=$version
      -X $pkg/utils/version.gitTreeState=clean -X $pkg/utils/version.buildDate=1970-01-01T00:00:00Z" \
    -o "$out/rollouts-controller.tmp" "$pkg/cmd/rollouts-controller"
  mv "$out/rollouts-controller.tmp" "$out/rollouts-controller"
  rm -rf "$work"
  echo "build-argo-rollouts: built in $(( $(date +%s) - started ))s" >&2
fi
echo "$out/rollouts-controller"

#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl) and the KWOK controller from their Go modules, pinned in hack/controlplane and hack/kwok.
# Binaries go to a cache outside the repo; a rebuild happens only when a pin changes.
# Prints the bin directory as its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pinned() { awk -v m="$1" '{for (i = 1; i < NF; i++) if ($i == m && $(i+1) ~ /^v/) {print $(i+1); exit}}' "$2"; }
k8s_version=$(pinned k8s.io/kubernetes "$here/controlplane/go.mod")
kwok_version=$(pinned sigs.k8s.io/kwok "$here/kwok/go.mod")
pin=$(cat "$here"/controlplane/go.{mod,sum} "$here"/kwok/go.{mod,sum} "$0" | sha256sum | cut -c1-12)
cache_root=${ROLLWAY_CACHE:-$HOME/.cache/rollway}
bin="$cache_root/k8s-$k8s_version-kwok-$kwok_version-$pin/bin"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

complete=1
for b in "${binaries[@]}"; do [ -x "$bin/$b" ] || complete=0; done
if [ "$complete" = 1 ]; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "build-controlplane: the Go toolchain is needed to build the control plane" >&2; exit 1; }
mkdir -p "$bin"
# One build at a time (make demo, make test and a second shell may all start one): the others
# wait here, then find the binaries in place.
exec 9>"$bin/.build.lock"
flock 9
started=$(date +%s)
major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
version_flags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  version_flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
build() { # build <module dir> <output name> <package> [extra ldflags]
  [ -x "$bin/$2" ] && return 0
  echo "build-controlplane: building $2 ($3)" >&2
  (cd "$here/$1" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w ${4:-}" -o "$bin/$2.tmp" "$3")
  mv "$bin/$2.tmp" "$bin/$2"
}
build controlplane etcd go.etcd.io/etcd/server/v3
build controlplane kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$version_flags"
build controlplane kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$version_flags"
build controlplane kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$version_flags"
build controlplane kubectl k8s.io/kubernetes/cmd/kubectl "$version_flags"
build kwok kwok sigs.k8s.io/kwok/cmd/kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=$kwok_version"
echo "build-controlplane: built in $(( $(date +%s) - started ))s into $bin" >&2
echo "$bin"

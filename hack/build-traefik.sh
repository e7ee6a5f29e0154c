#!/usr/bin/env bash
# Builds Traefik from its Go module (pinned in hack/traefik/go.mod, a wrapper module) into the
# same cache as the control plane, for the data-plane scenarios. No prebuilt binary is downloaded.
# Prints the binary's path last.
#
# A few of lego's ACME DNS providers depend on SDK modules the module proxy does not serve. The
# build leaves exactly those providers out (a build-time copy of lego with those providers taken
# out of its generated provider list, found by `go list`), so naming one in a Traefik config gives lego's "unrecognized DNS provider" error;
# the scenarios use no ACME at all.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(awk '$1 == "require" && $2 == "github.com/traefik/traefik/v3" {print $3}' "$here/traefik/go.mod")
pin=$(cat "$here"/traefik/go.{mod,sum} "$here"/traefik/dynamic-ext/* "$0" | sha256sum | cut -c1-12)
out="${ROLLWAY_CACHE:-$HOME/.cache/rollway}/traefik-$version-$pin/bin"
command -v go >/dev/null || { echo "build-traefik: the Go toolchain is needed to build Traefik" >&2; exit 1; }
# The scenarios read Traefik's CRDs from its module, offline inside their network namespace: the
# module must be in the cache even when the binary was built on another day (a no-op when it is).
(cd "$here/traefik" && go mod download github.com/traefik/traefik/v3)
if [ -x "$out/traefik" ]; then echo "$out/traefik"; exit 0; fi
mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9
if [ ! -x "$out/traefik" ]; then
  started=$(date +%s)
  echo "build-traefik: building traefik $version" >&2
  cd "$here/traefik"
  dns=github.com/go-acme/lego/v5/providers/dns
  # Providers whose dependencies cannot be loaded (their modules are not served).
  unbuildable=$(go list -e -f '{{if .Incomplete}}{{.Name}}{{end}}' "$dns/..." 2>/dev/null | grep -vx dns || true)
  modfile=go.mod
  if [ -n "$unbuildable" ]; then
    lego=$(go list -m -f '{{.Dir}}' github.com/go-acme/lego/v5)
    work="$out/src"; rm -rf "$work"; mkdir -p "$work"
    cp -r "$lego" "$work/lego"; chmod -R u+w "$work/lego"
    gen="$work/lego/providers/dns/zz_gen_dns_providers.go"
    # Drop each such provider's import line and its `case ...: return NAME.NewDNSProvider()` pair.
    awk -v names="$(echo "$unbuildable" | tr '\n' ' ')" '
      BEGIN { n = split(names, list, " "); for (i = 1; i <= n; i++) drop[list[i]] = 1 }
      /^\t"github.com\/go-acme\/lego\/v5\/providers\/dns\/[a-z0-9]+"$/ {
        name = $0; sub(/.*\//, "", name); sub(/"$/, "", name); if (name in drop) next }
      /^\tcase / { held = $0; next }
      held != "" {
        name = $0; sub(/^\t\treturn /, "", name); sub(/\..*/, "", name)
        if (!(name in drop)) print held
        held = ""; if (name in drop) next }
      { print }' "$lego/providers/dns/zz_gen_dns_providers.go" > "$gen"
    cp go.sum "$work/go.sum"
    # The wrapper's relative replace must stay pointing at hack/traefik from the copied go.mod.
    { sed "s|=> ./dynamic-ext|=> $here/traefik/dynamic-ext|" go.mod; echo "replace github.com/go-acme/lego/v5 => $work/lego"; } > "$work/go.mod"
    modfile="$work/go.mod"
    echo "build-traefik: leaving out ACME DNS providers not buildable from served modules: $(echo $unbuildable)" >&2
  fi
  CGO_ENABLED=0 go build -trimpath -modfile="$modfile" \
    -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$version" \
    -o "$out/traefik.tmp" github.com/traefik/traefik/v3/cmd/traefik
  mv "$out/traefik.tmp" "$out/traefik"
  rm -rf "$out/src"
  echo "build-traefik: built in $(( $(date +%s) - started ))s" >&2
fi
echo "$out/traefik"

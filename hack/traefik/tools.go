//go:build tools

// The Traefik binary built by hack/build-traefik.sh: the real proxy of the data-plane e2e
// scenarios (Gateway API and Ingress NGINX providers).
package traefik

import _ "github.com/traefik/traefik/v3/cmd/traefik"

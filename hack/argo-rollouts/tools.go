//go:build tools

// The Argo Rollouts controller built by hack/build-argo-rollouts.sh, for bench/argo-compare.ts.
package argorollouts

import _ "github.com/argoproj/argo-rollouts/cmd/rollouts-controller"

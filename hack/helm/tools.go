//go:build tools

// The Helm binary built by hack/build-helm.sh, used by the chart tests (helm lint, helm template).
package helm

import _ "helm.sh/helm/v3/cmd/helm"

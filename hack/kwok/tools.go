//go:build tools

// The KWOK controller binary built by hack/build-controlplane.sh.
package kwok

import _ "sigs.k8s.io/kwok/cmd/kwok"

#!/usr/bin/env bash
# Runs a command inside a network namespace of its own (plus mount and pid namespaces), where the
# pod CIDR of the local cluster is local to the loopback device: the data-plane scenarios'
# control plane, Traefik, pod server and load generator all run in there, so requests to pod IPs
# never leave it and never touch a real network. The apiserver refuses 127.0.0.0/8 endpoints,
# which is why pods keep their KWOK addresses (10.244.0.0/16) and those are made local instead.
# When the command ends, every process started inside ends with it (the pid namespace goes away).
#
#   hack/netns.sh COMMAND [ARG...]     (as root)
#
# Inside, ROLLWAY_CLUSTER_DIR and ROLLWAY_E2E_KUBECONFIG point at a cluster of its own
# (default <repo>/.cluster-dataplane), so the namespace's cluster never meets the shared one even
# though both listen on the same ports, each in its own namespace.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
pod_cidr=${ROLLWAY_POD_CIDR:-10.244.0.0/16} # as hack/cluster.sh configures KWOK
[ $# -gt 0 ] || { echo "usage: hack/netns.sh COMMAND [ARG...]" >&2; exit 2; }

if [ "${ROLLWAY_NETNS:-}" != inside ]; then
  [ "$(id -u)" = 0 ] || { echo "netns: creating a network namespace needs root (unshare -n); run as root" >&2; exit 1; }
  command -v unshare >/dev/null && command -v ip >/dev/null ||
    { echo "netns: needs unshare (util-linux) and ip (iproute2)" >&2; exit 1; }
  ROLLWAY_NETNS=inside exec unshare --net --mount --pid --fork --mount-proc --kill-child "$0" "$@"
fi

ip link set lo up
# A local route makes every address of the pod CIDR one the namespace owns: a pod server may
# listen on any pod IP, and a connection to it stays on the loopback device.
ip route add local "$pod_cidr" dev lo
export ROLLWAY_CLUSTER_DIR=${ROLLWAY_DATAPLANE_CLUSTER_DIR:-$repo/.cluster-dataplane}
export ROLLWAY_E2E_KUBECONFIG="$ROLLWAY_CLUSTER_DIR/kubeconfig"
# The processes the last run left are gone with its namespace; their pid files must not be trusted.
rm -f "$ROLLWAY_CLUSTER_DIR"/run/*.pid
"$@"

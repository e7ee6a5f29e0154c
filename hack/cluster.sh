#!/usr/bin/env bash
# The local Kubernetes control plane for tests and the demo: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler built from their Go modules, with KWOK
# simulating nodes and pods. Everything listens on 127.0.0.1.
#
#   hack/cluster.sh up      start (or keep) the cluster; last line printed is the kubeconfig path
#   hack/cluster.sh down    stop every process `up` started (by the pids it recorded)
#   hack/cluster.sh status  print each component's pid and resident memory
#   hack/cluster.sh stop-component NAME [SIGNAL]   stop one component (e.g. kube-apiserver KILL)
#   hack/cluster.sh start-component NAME           start it again with the same flags
#
# Settings (environment):
#   ROLLWAY_CLUSTER_DIR          state folder (default: <repo>/.cluster)
#   ROLLWAY_API_PORT             kube-apiserver port (default 16443); the other ports follow it
#   ROLLWAY_POD_READY_DELAY      how long a new pod takes to become Ready (default 1s)
#   ROLLWAY_KWOK_NODES           number of simulated nodes (default 3)
#   ROLLWAY_CRD_DIR              folder of Rollway's own CRDs (default <repo>/crds/rollway)
#   ROLLWAY_CRD_WAIT_SECONDS     base time CRDs get to be Established (default 30; plus 2 s per CRD)
#   ROLLWAY_APISERVER_PROFILING  true: kube-apiserver serves /debug/pprof (make bench's BENCH_APISERVER_PROF)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${ROLLWAY_CLUSTER_DIR:-$repo/.cluster}
run="$dir/run"
pki="$run/pki"
api_port=${ROLLWAY_API_PORT:-16443}
etcd_port=$((api_port - 4064))      # 12379
etcd_peer_port=$((etcd_port + 1))   # 12380
kcm_port=$((api_port + 3814))       # 20257
scheduler_port=$((kcm_port + 2))    # 20259
kwok_port=$((kcm_port - 10))        # 20247
pod_ready_delay=${ROLLWAY_POD_READY_DELAY:-1s}
node_count=${ROLLWAY_KWOK_NODES:-3}
crd_dir=${ROLLWAY_CRD_DIR:-$repo/crds/rollway} # Rollway's own CRDs (a test points it at a copy)
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { printf 'cluster: %s\n' "$*" >&2; }

# A pid file is trusted only while the process it names still runs the binary we started,
# so a recycled pid is never signalled.
live_pid() {
  local name=$1 file="$run/$1.pid" pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "/$name " || return 1
  echo "$pid"
}

# stop_one <name> [signal]: stops one component by its recorded pid (SIGTERM by default; SIGKILL
# after 5 s if it is still there); nothing to do if it does not run.
stop_one() {
  local name=$1 signal=${2:-TERM} pid
  if pid=$(live_pid "$name"); then
    kill -s "$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    if [ -d "/proc/$pid" ]; then kill -9 "$pid" 2>/dev/null || true; sleep 0.2; fi
    log "stopped $name (pid $pid, SIG$signal)"
  fi
  rm -f "$run/$name.pid"
}

stop_all() {
  local i
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do stop_one "${components[$i]}"; done
}

api() { # api <path>: GET against the apiserver as admin
  curl -sS --max-time 3 --cacert "$pki/ca.crt" -H "Authorization: Bearer $(cat "$pki/admin.token")" \
    "https://127.0.0.1:$api_port$1"
}

api_ready() { [ "$(api /readyz 2>/dev/null)" = ok ]; }

healthy() {
  local name
  for name in "${components[@]}"; do live_pid "$name" >/dev/null || return 1; done
  [ -f "$dir/kubeconfig" ] && api_ready
}

start() { # start <name> <binary> <args...>: background process, own session, pid recorded
  local name=$1; shift
  setsid "$@" >"$run/$name.log" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

# launch <name>: starts one component with its flags, from the binaries in $bin. The one place
# each command line is written: `up` and `start-component` both use it.
launch() {
  case $1 in
    etcd)
      start etcd "$bin/etcd" --name local --data-dir "$run/etcd" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-cluster "local=http://127.0.0.1:$etcd_peer_port" --unsafe-no-fsync --log-level warn ;;
    kube-apiserver)
      start kube-apiserver "$bin/kube-apiserver" \
        --etcd-servers "http://127.0.0.1:$etcd_port" \
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
        --endpoint-reconciler-type none \
        --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
        --client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" \
        --authorization-mode Node,RBAC \
        --service-account-issuer https://kubernetes.default.svc.cluster.local \
        --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
        --service-cluster-ip-range 10.96.0.0/16 --allow-privileged \
        --cert-dir "$run/apiserver-certs" --profiling="${ROLLWAY_APISERVER_PROFILING:-false}" --v 1 ;;
    kube-controller-manager)
      start kube-controller-manager "$bin/kube-controller-manager" \
        --kubeconfig "$run/kcm.kubeconfig" --bind-address 127.0.0.1 --secure-port "$kcm_port" \
        --leader-elect=false --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
        --use-service-account-credentials=false --profiling=false --v 1 \
        --kube-api-qps 100 --kube-api-burst 200 ;; # its default 20/s took 8 min for 2,000 rollouts' pods
    kube-scheduler)
      start kube-scheduler "$bin/kube-scheduler" \
        --kubeconfig "$run/scheduler.kubeconfig" --bind-address 127.0.0.1 --secure-port "$scheduler_port" \
        --leader-elect=false --profiling=false --v 1 ;;
    kwok)
      start kwok "$bin/kwok" --kubeconfig "$run/kwok.kubeconfig" --config "$run/kwok.yaml" \
        --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
        --server-address "127.0.0.1:$kwok_port" --node-lease-duration-seconds 40 ;;
    *) log "unknown component \"$1\" (one of: ${components[*]})"; return 2 ;;
  esac
}

# wait_ready <name>: for the components others depend on, waits until they serve.
wait_ready() {
  case $1 in
    etcd) wait_for etcd 30 curl -sf "http://127.0.0.1:$etcd_port/health" ;;
    kube-apiserver) wait_for kube-apiserver 90 api_ready ;;
  esac
}

wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${seconds}s waiting for $what; last log lines:"
      for name in "${components[@]}"; do [ -f "$run/$name.log" ] && tail -n 5 "$run/$name.log" | sed "s/^/  $name: /" >&2; done
      return 1
    fi
    sleep 0.2
  done
}

# apply_crds <dir...>: server-side applies the CRDs in each folder; prints the CRD names applied.
apply_crds() {
  local d
  for d in "$@"; do
    compgen -G "$d/*.yaml" >/dev/null || continue
    "$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig" apply --server-side --force-conflicts -o name -f "$d/" |
      sed -n 's|^customresourcedefinition\.apiextensions\.k8s\.io/||p'
  done
}

# wait_crds_established <name...>: waits for exactly these CRDs (never `--all`: other tools' CRDs in
# the cluster are not ours to wait for), with a timeout that grows with their number. On timeout the
# error names each CRD that is still not Established, with the reason the API server gives.
wait_crds_established() {
  local deadline=$((SECONDS + ${ROLLWAY_CRD_WAIT_SECONDS:-30} + 2 * $#)) pending
  while :; do
    pending=$("$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig" get crd "$@" -o \
      jsonpath='{range .items[*]}{.metadata.name}{" "}{range .status.conditions[*]}{.type}={.status}:{.reason}{" "}{end}{"\n"}{end}' 2>&1 |
      grep -v 'Established=True' || true)
    [ -z "$pending" ] && return 0
    if ((SECONDS >= deadline)); then
      log "timed out waiting for CRDs to be established; not established:"
      printf '%s\n' "$pending" | sed 's/^/  /' >&2
      return 1
    fi
    sleep 0.2
  done
}

make_pki() {
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=rollway-local-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' >"$pki/san.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$pki/san.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  # Static tokens: the admin (tests, the controller, kubectl) and the in-cluster components.
  local admin kcm sched kwok
  admin=$(openssl rand -hex 16); kcm=$(openssl rand -hex 16); sched=$(openssl rand -hex 16); kwok=$(openssl rand -hex 16)
  echo "$admin" >"$pki/admin.token"
  {
    echo "$admin,admin,admin-uid,\"system:masters\""
    echo "$kcm,system:kube-controller-manager,kcm-uid,\"system:masters\""
    echo "$sched,system:kube-scheduler,scheduler-uid,\"system:masters\""
    echo "$kwok,kwok-controller,kwok-uid,\"system:masters\""
  } >"$pki/tokens.csv"
  write_kubeconfig "$dir/kubeconfig" admin "$admin"
  write_kubeconfig "$run/kcm.kubeconfig" kcm "$kcm"
  write_kubeconfig "$run/scheduler.kubeconfig" scheduler "$sched"
  write_kubeconfig "$run/kwok.kubeconfig" kwok "$kwok"
}

write_kubeconfig() { # write_kubeconfig <file> <user> <token>
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: rollway-local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: rollway-local
  context: {cluster: rollway-local, user: $2, namespace: default}
current-context: rollway-local
EOF
  chmod 600 "$1"
}

# KWOK stages for pods: an IP at once, Ready after the configured delay. A pod annotated
# `e2e.rollway.dev/never-ready: "true"` runs but never becomes Ready (failure scenarios);
# `e2e.rollway.dev/ready-delay: 5s` overrides the delay for one pod.
write_kwok_config() {
  cat >"$run/kwok.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  cidr: 10.244.0.1/16
  nodeIP: 10.240.0.1
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-create}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.podIP', operator: DoesNotExist}
  next:
    statusTemplate: |
      {{ \$now := Now }}
      conditions:
      - {type: Initialized, status: "True", lastTransitionTime: {{ \$now | Quote }}}
      - {type: Ready, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ \$now | Quote }}}
      - {type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ \$now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, restartCount: 0, started: false, state: {waiting: {reason: ContainerCreating}}}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      phase: Pending
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-ready}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.podIP', operator: Exists}
    - {key: '.status.phase', operator: In, values: [Pending]}
    - {key: '.metadata.annotations["e2e.rollway.dev/never-ready"]', operator: DoesNotExist}
  delay:
    durationMilliseconds: $(duration_ms "$pod_ready_delay")
    durationFrom: {expressionFrom: '.metadata.annotations["e2e.rollway.dev/ready-delay"]'}
  next:
    statusTemplate: |
      {{ \$now := Now }}
      conditions:
      - {type: Initialized, status: "True", lastTransitionTime: {{ \$now | Quote }}}
      - {type: Ready, status: "True", lastTransitionTime: {{ \$now | Quote }}}
      - {type: ContainersReady, status: "True", lastTransitionTime: {{ \$now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: true, restartCount: 0, started: true, state: {running: {startedAt: {{ \$now | Quote }}}}}
      {{ end }}
      phase: Running
      startTime: {{ \$now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-running-unready}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.podIP', operator: Exists}
    - {key: '.status.phase', operator: In, values: [Pending]}
    - {key: '.metadata.annotations["e2e.rollway.dev/never-ready"]', operator: In, values: ["true"]}
  next:
    statusTemplate: |
      {{ \$now := Now }}
      conditions:
      - {type: Initialized, status: "True", lastTransitionTime: {{ \$now | Quote }}}
      - {type: Ready, status: "False", reason: ContainersNotReady, message: readiness probe failing, lastTransitionTime: {{ \$now | Quote }}}
      - {type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ \$now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, restartCount: 0, started: true, state: {running: {startedAt: {{ \$now | Quote }}}}}
      {{ end }}
      phase: Running
      startTime: {{ \$now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-complete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Running]}
    - {key: '.metadata.annotations["e2e.rollway.dev/exit-code"]', operator: Exists}
  delay:
    durationMilliseconds: 500
  next:
    statusTemplate: |
      {{ \$now := Now }}
      {{ \$code := index .metadata.annotations "e2e.rollway.dev/exit-code" }}
      conditions:
      - {type: Ready, status: "False", reason: PodCompleted, lastTransitionTime: {{ \$now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, restartCount: 0, started: false, state: {terminated: {exitCode: {{ \$code }}, finishedAt: {{ \$now | Quote }}, reason: {{ if eq \$code "0" }}Completed{{ else }}Error{{ end }}}}}
      {{ end }}
      phase: {{ if eq \$code "0" }}Succeeded{{ else }}Failed{{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-delete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: Exists}
    - {key: '.metadata.finalizers', operator: DoesNotExist}
  next:
    delete: true
EOF
}

duration_ms() { # 1500ms | 2s | 1m -> milliseconds
  local v=$1
  case $v in
    *ms) echo "${v%ms}" ;;
    *s) echo $((${v%s} * 1000)) ;;
    *m) echo $((${v%m} * 60000)) ;;
    *) echo "$v" ;;
  esac
}

nodes_yaml() {
  local i
  for i in $(seq 0 $((node_count - 1))); do
    cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "1000", memory: 4Ti, pods: "2000"}
  capacity: {cpu: "1000", memory: 4Ti, pods: "2000"}
---
EOF
  done
}

# `rollway` and `kubectl-rollway` launchers beside kubectl: with .cluster/bin on PATH,
# `kubectl rollway ...` runs the CLI on the project's own Node.
write_launchers() {
  local name
  mkdir -p "$dir/bin"
  for name in rollway kubectl-rollway; do
    printf '#!/bin/sh\nexec "%s/node_modules/.bin/node" "%s/cli/rollway.js" "$@"\n' "$repo" "$repo" >"$dir/bin/$name.tmp"
    chmod +x "$dir/bin/$name.tmp"
    mv -f "$dir/bin/$name.tmp" "$dir/bin/$name"
  done
}

up() {
  local started=$SECONDS bin
  write_launchers
  if healthy; then
    # Our CRDs may have changed since the cluster started (make crds), and a third-party one may
    # have been added (a new router): bring them up to date.
    local names
    names=$(apply_crds "$repo/crds/third-party" "$crd_dir")
    # shellcheck disable=SC2086 # one CRD name per word
    [ -z "$names" ] || wait_crds_established $names
    log "already up ($(api /version | jq -r .gitVersion))"
    echo "$dir/kubeconfig"
    return 0
  fi
  bin=$("$repo/hack/build-controlplane.sh")
  stop_all # leftovers of a crashed run: stop them, then start clean
  rm -rf "$run" "$dir/kubeconfig"
  mkdir -p "$run" "$dir/bin"
  ln -sf "$bin/kubectl" "$dir/bin/kubectl"
  make_pki
  write_kwok_config

  launch etcd
  wait_ready etcd
  launch kube-apiserver
  wait_ready kube-apiserver

  # CRDs before kube-controller-manager: its garbage collector watches the owner kinds it finds at
  # start, and a kind it learns of later is only picked up at its next resync (objects owned by
  # an AnalysisRun, say, would outlive it until then).
  local kubectl=("$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig")
  local names
  names=$(apply_crds "$repo/crds/third-party" "$crd_dir")
  # shellcheck disable=SC2086 # one CRD name per word
  wait_crds_established $names

  launch kube-controller-manager
  launch kube-scheduler
  launch kwok

  nodes_yaml | "${kubectl[@]}" apply -f - >/dev/null
  wait_for "KWOK nodes to be Ready" 60 "${kubectl[@]}" wait --for condition=Ready --timeout 1s node --all
  # Pods need the default ServiceAccount, which kube-controller-manager creates.
  wait_for "the default ServiceAccount" 60 "${kubectl[@]}" get serviceaccount default -n default
  for name in "${components[@]}"; do live_pid "$name" >/dev/null || { log "$name exited; see $run/$name.log"; tail -n 20 "$run/$name.log" >&2; return 1; }; done
  log "up in $((SECONDS - started))s: Kubernetes $(api /version | jq -r .gitVersion), $node_count KWOK nodes, API on https://127.0.0.1:$api_port"
  echo "$dir/kubeconfig"
}

status() {
  local name pid rss total=0
  for name in "${components[@]}"; do
    if pid=$(live_pid "$name"); then
      rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
      total=$((total + rss))
      printf '%-24s pid %-8s rss %6d MiB\n' "$name" "$pid" $((rss / 1024))
    else
      printf '%-24s not running\n' "$name"
    fi
  done
  printf '%-24s %15s %6d MiB\n' total '' $((total / 1024))
}

is_component() { [[ " ${components[*]} " == *" $1 "* ]] || { log "unknown component \"$1\" (one of: ${components[*]})"; return 2; }; }

# stop-component <name> [signal]: one component down (fault tests: an API server outage); the
# others keep running and the state folder stays, so start-component brings it back as it was.
stop_component() {
  is_component "$1" || return 2
  live_pid "$1" >/dev/null || { log "$1 is not running"; return 1; }
  stop_one "$1" "${2:-TERM}"
}

# start-component <name>: starts a stopped component again with the flags `up` gave it.
start_component() {
  local name=$1 bin pid
  is_component "$name" || return 2
  [ -f "$dir/kubeconfig" ] && [ -d "$run" ] || { log "no cluster in $dir: run up first"; return 1; }
  if pid=$(live_pid "$name"); then log "$name already runs (pid $pid)"; return 0; fi
  bin=$("$repo/hack/build-controlplane.sh")
  [ -f "$run/$name.log" ] && mv -f "$run/$name.log" "$run/$name.log.prev" # keep the log of the run before
  launch "$name"
  wait_ready "$name"
  log "started $name (pid $(cat "$run/$name.pid"))"
}

case ${1:-} in
  up) up ;;
  down) stop_all; log "down" ;;
  status) status ;;
  stop-component) stop_component "${2:?usage: $0 stop-component NAME [SIGNAL]}" "${3:-TERM}" ;;
  start-component) start_component "${2:?usage: $0 start-component NAME}" ;;
  *) echo "usage: $0 up|down|status|stop-component NAME [SIGNAL]|start-component NAME" >&2; exit 2 ;;
esac

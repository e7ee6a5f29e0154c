#!/usr/bin/env bash
# The local Kubernetes control plane for tests and the demo: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler built from their Go modules, with KWOK
# simulating nodes and pods. Everything listens on 127.0.0.1.
#
#   hack/cluster.sh up      start (or keep) the cluster; last line printed is the kubeconfig path
#   hack/cluster.sh down    stop every process `up` started (by the pids it recorded)
#   hack/cluster.sh status  print each component's pid and resident memory
#
# Settings (environment):
#   ROLLWAY_CLUSTER_DIR          state folder (default: <repo>/.cluster)
#   ROLLWAY_API_PORT             kube-apiserver port (default 16443); the other ports follow it
#   ROLLWAY_POD_READY_DELAY      how long a new pod takes to become Ready (default 1s)
#   ROLLWAY_KWOK_NODES           number of simulated nodes (default 3)
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

stop_all() {
  local name pid i
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do
    name=${components[$i]}
    if pid=$(live_pid "$name"); then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
      if [ -d "/proc/$pid" ]; then kill -9 "$pid" 2>/dev/null || true; sleep 0.2; fi
      log "stopped $name (pid $pid)"
    fi
    rm -f "$run/$name.pid"
  done
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
    printf '#!/bin/sh\nexec "%s/node_modules/.bin/node" "%s/cli/rollway.ts" "$@"\n' "$repo" "$repo" >"$dir/bin/$name.tmp"
    chmod +x "$dir/bin/$name.tmp"
    mv -f "$dir/bin/$name.tmp" "$dir/bin/$name"
  done
}

up() {
  local started=$SECONDS bin
  write_launchers
  if healthy; then
    # Our CRDs may have changed since the cluster started (make crds): bring them up to date.
    if compgen -G "$repo/crds/rollway/*.yaml" >/dev/null; then
      "$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig" apply --server-side --force-conflicts -f "$repo/crds/rollway/" >/dev/null
      wait_for "CRDs to be established" 60 "$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig" wait --for condition=Established --timeout 1s crd --all
    fi
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

  start etcd "$bin/etcd" --name local --data-dir "$run/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "local=http://127.0.0.1:$etcd_peer_port" --unsafe-no-fsync --log-level warn
  wait_for etcd 30 curl -sf "http://127.0.0.1:$etcd_port/health"

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
    --cert-dir "$run/apiserver-certs" --profiling=false --v 1
  wait_for kube-apiserver 90 api_ready

  # CRDs before kube-controller-manager: its garbage collector watches the owner kinds it finds at
  # start, and a kind it learns of later is only picked up at its next resync (objects owned by
  # an AnalysisRun, say, would outlive it until then).
  local kubectl=("$dir/bin/kubectl" --kubeconfig "$dir/kubeconfig")
  "${kubectl[@]}" apply --server-side --force-conflicts -f "$repo/crds/third-party/" >/dev/null
  if compgen -G "$repo/crds/rollway/*.yaml" >/dev/null; then
    "${kubectl[@]}" apply --server-side --force-conflicts -f "$repo/crds/rollway/" >/dev/null
  fi
  wait_for "CRDs to be established" 60 "${kubectl[@]}" wait --for condition=Established --timeout 1s crd --all

  start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$run/kcm.kubeconfig" --bind-address 127.0.0.1 --secure-port "$kcm_port" \
    --leader-elect=false --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --use-service-account-credentials=false --profiling=false --v 1
  start kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig "$run/scheduler.kubeconfig" --bind-address 127.0.0.1 --secure-port "$scheduler_port" \
    --leader-elect=false --profiling=false --v 1
  start kwok "$bin/kwok" --kubeconfig "$run/kwok.kubeconfig" --config "$run/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --server-address "127.0.0.1:$kwok_port" --node-lease-duration-seconds 40

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

case ${1:-} in
  up) up ;;
  down) stop_all; log "down" ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac

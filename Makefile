# Rollway: every entry point. Node comes from node_modules (the `node` dev dependency), never the
# machine's own, so each target that runs TypeScript depends on `deps`.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.cluster/bin:$(PATH)

.PHONY: test unit e2e e2e-faults e2e-dataplane dataplane typecheck lint deps cluster-up cluster-down cluster-status controlplane demo bench bench-argo crds crds-types manifests helm

## make test: everything CI checks (type-check, lint, unit tests, e2e tests on the local control plane)
test: typecheck lint unit e2e e2e-dataplane

deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	flock .npm-install.lock npm ci --no-audit --no-fund
	@test "$$(node -p 'process.versions.node.split(".")[0]')" -ge 24 || { echo "node_modules/.bin/node is not Node 24+"; exit 1; }
	touch $@

typecheck: deps
	tsc -p tsconfig.json

lint: deps
	eslint --max-warnings=0 .

unit: deps
	tools/run-tests.sh unit

e2e: deps controlplane helm
	tools/run-tests.sh e2e

## make e2e-faults: the fault suite alone (e2e/faults/, also part of make e2e at these sizes):
## controller SIGKILLs during routed canaries, a kube-apiserver outage on a cluster of its own
## (port 27443), a storm of malformed manifests. Sizes: FAULTS_KILLS (10), FAULTS_KILL_ROLLOUTS
## (20), FAULTS_MANIFESTS (300), FAULTS_OUTAGE_MS (9000); FAULTS_SEED replays a run.
## The full run: make e2e-faults FAULTS_KILLS=20 FAULTS_MANIFESTS=1000
e2e-faults: deps controlplane
	tools/run-tests.sh e2e $(sort $(wildcard e2e/faults/*.test.ts))

## make e2e-dataplane: real requests through Traefik to pods that answer (e2e/dataplane/), inside a
## network namespace of their own with a cluster of their own (hack/netns.sh; needs root).
## DATAPLANE_REQUESTS: requests per measured split (default 20000).
e2e-dataplane: deps controlplane dataplane
	ROLLWAY_DATAPLANE_REQUESTS=$(or $(DATAPLANE_REQUESTS),20000) hack/netns.sh tools/run-tests.sh e2e $(sort $(wildcard e2e/dataplane/*.test.ts))

## Traefik, built from its Go module (pinned in hack/traefik) into the control plane's cache. A
## prerequisite of e2e-dataplane beside controlplane, so `make -j` builds the two at once.
dataplane:
	hack/build-traefik.sh >/dev/null

## The Go-built control plane, cached outside the repo (see hack/build-controlplane.sh)
controlplane:
	hack/build-controlplane.sh >/dev/null

cluster-up:
	@hack/cluster.sh up

cluster-down:
	@hack/cluster.sh down

cluster-status:
	@hack/cluster.sh status

## Rollway's own CRDs, generated from the zod schemas in api/ (and the install manifests that carry them)
crds: deps
	node tools/gen-crds.ts
	node tools/gen-manifests.ts

## manifests/install.yaml and namespace-install.yaml from the kustomize bases under manifests/, and
## the Helm chart's copy of the CRDs
manifests: deps
	node tools/gen-manifests.ts

## Helm, built from its Go module (pinned in hack/helm) into the control plane's cache, for the chart tests
helm:
	hack/build-helm.sh >/dev/null

## Types of the third-party resources the routers edit, generated from crds/third-party/ (openapi-typescript)
crds-types: deps
	node tools/gen-crds-types.ts

## make demo: local control plane + controller + the getting-started canary, printed step by step (make demo DEMO=bluegreen: the blue-green walkthrough)
demo: deps controlplane
	@if hack/cluster.sh status >/dev/null 2>&1 && ! hack/cluster.sh status | grep -q 'not running'; then was_up=1; else was_up=0; fi; \
	ROLLWAY_DEMO_CLUSTER_WAS_UP=$$was_up node tools/demo.ts

## make bench-dataplane: step → data plane latency through a real Traefik (bench/dataplane.bench.ts), in a
## network namespace with a cluster of its own (hack/netns.sh; needs root). Sizes: BENCH_DATAPLANE_ROLLOUTS
## (100, promoted at once), BENCH_DATAPLANE_ROUNDS (2), BENCH_DATAPLANE_STEPS (20, one rollout), BENCH_DATAPLANE_PROBE_MS (5)
.PHONY: bench-dataplane
bench-dataplane: deps controlplane dataplane
	hack/netns.sh node bench/dataplane.bench.ts

## make bench: figures for design brief §9 (BENCH_ROLLOUTS, BENCH_PAUSES to change the sizes)
bench: deps controlplane
	BENCH_README=$${BENCH_README-README.md} node bench/controller.bench.ts
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory bench-dataplane; else echo "make bench: the data-plane section (make bench-dataplane) needs root for its network namespace: skipped"; fi
	BENCH_README=$${BENCH_README-README.md} node bench/argo-compare.ts

## make bench-argo: Rollway and Argo Rollouts side by side (builds Argo's controller from its Go module
## first; BENCH_ARGO_ROLLOUTS sets the size). Best on a cluster of its own: ROLLWAY_CLUSTER_DIR, ROLLWAY_API_PORT
bench-argo: deps controlplane
	hack/build-argo-rollouts.sh >/dev/null
	BENCH_SECTIONS=argo BENCH_README=$${BENCH_README-README.md} node bench/argo-compare.ts

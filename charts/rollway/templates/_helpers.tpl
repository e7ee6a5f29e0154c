{{/* Labels on every object; the selector labels are those of manifests/ so both installs match. */}}
{{- define "rollway.selectorLabels" -}}
app.kubernetes.io/name: rollway
app.kubernetes.io/component: controller
{{- end }}

{{- define "rollway.labels" -}}
{{ include "rollway.selectorLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "rollway.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
The controller's rights, the same rules as manifests/cluster-install/clusterrole.yaml and
manifests/namespace-install/role.yaml (e2e/helm-chart.test.ts compares them). Each says why.
With .cluster false (namespaced mode) cluster-scoped templates are left out and the Lease added.
*/}}
{{- define "rollway.controllerRules" -}}
# reason: Rollouts are the controller's input; finalizer and applied-routing annotation are patched on them
- apiGroups: [rollway.dev]
  resources: [rollouts]
  verbs: [get, list, watch, patch]
# reason: progress (step, weights, conditions) is written to the Rollout's status with a resourceVersion precondition
- apiGroups: [rollway.dev]
  resources: [rollouts/status]
  verbs: [update]
# reason: analysis steps create AnalysisRuns, terminate them (patch) and delete those beyond the history limits
- apiGroups: [rollway.dev]
  resources: [analysisruns]
  verbs: [get, list, watch, create, patch, delete]
# reason: the AnalysisRun reconciler writes measurements and the phase to the run's status
- apiGroups: [rollway.dev]
  resources: [analysisruns/status]
  verbs: [update]
# reason: experiment steps create Experiments and terminate them (patch); the Experiment reconciler watches them and deletes those beyond the history limits
- apiGroups: [rollway.dev]
  resources: [experiments]
  verbs: [get, list, watch, create, patch, delete]
# reason: the Experiment reconciler writes its phase, template and analysis statuses to the Experiment's status
- apiGroups: [rollway.dev]
  resources: [experiments/status]
  verbs: [update]
# reason: templates named by Rollouts are read to build AnalysisRuns (read only)
- apiGroups: [rollway.dev]
  resources: [{{ if .cluster }}analysistemplates, clusteranalysistemplates{{ else }}analysistemplates{{ end }}]
  verbs: [get, list, watch]
# reason: each revision of a Rollout is a ReplicaSet it creates, scales, relabels and deletes
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [get, list, watch, create, patch, delete]
# reason: spec.workloadRef reads a Deployment's pod template and scales it down (scaleDown)
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, patch]
# reason: pod readiness bounds the canary's traffic; restartAt deletes pods; canary/stable metadata patches them
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, patch, delete]
# reason: canaryService and stableService selectors are pointed at a revision's pod-template hash; an Experiment template with service creates its own Service and deletes it when done
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, patch, delete]
# reason: every transition of a Rollout or AnalysisRun is recorded as an Event on it
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
# reason: AnalysisTemplate args may take secretKeyRef values (read one by name, never listed)
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
# reason: the job analysis provider runs a Job owned by the AnalysisRun and deletes it when done
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete]
# reason: the istio router sets route weights in VirtualServices and subset labels in DestinationRules
- apiGroups: [networking.istio.io]
  resources: [virtualservices, destinationrules]
  verbs: [get, list, watch, patch]
# reason: the nginx router reads the stable Ingress and creates, updates and deletes its canary Ingress
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch, create, patch, delete]
# reason: the smi router creates, updates and deletes the Rollout's TrafficSplit
- apiGroups: [split.smi-spec.io]
  resources: [trafficsplits]
  verbs: [get, list, watch, create, patch, delete]
# reason: the gatewayAPI router sets backendRef weights and header/mirror rules in HTTPRoutes
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes]
  verbs: [get, list, watch, patch]
# reason: the traefik router sets the canary and stable weights of weighted TraefikServices
- apiGroups: [traefik.io]
  resources: [traefikservices]
  verbs: [get, list, watch, patch]
{{- if not .cluster }}
# reason: replicas elect a leader through a Lease they create, renew (update) and release; a standby watches it to take over at once
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, watch, create, update]
# reason: notifications read their ConfigMap in the controller's own namespace (by name only; the Secret through the secrets rule)
- apiGroups: [""]
  resources: [configmaps]
  resourceNames: [rollway-notification-configmap]
  verbs: [get]
{{- end }}
{{- end }}

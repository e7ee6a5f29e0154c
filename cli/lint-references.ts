// `rollway lint`: the references from a Rollout to the other objects of the file. A reference is
// checked only when the file carries objects of that kind (else there is nothing to compare
// against); the routes must lead to the Services and the Services to the Rollout's pods. The
// Rollout has passed the schema; the other objects may have any shape, so they are read with the
// accessors of raw.ts.
import type { GatewayApiConfig } from '../routers/gateway-api/index.ts';
import type { IstioConfig } from '../routers/istio/index.ts';
import { namespacedName } from '../routers/common.ts';
import { routingObjectsOf } from '../routers/registry.ts';
import type { Add } from './lint.ts';
import { field, isRecord, namespaceOf, records, str, type Raw } from './raw.ts';

type Ref = { kind: string; name: string; path: string; namespace: string };
interface TemplateRef {
  templateName?: string;
  clusterScope?: boolean;
}
interface Canary {
  canaryService?: string;
  stableService?: string;
  steps?: { analysis?: { templates?: TemplateRef[] } }[];
  analysis?: { templates?: TemplateRef[] };
  /** the routers' configurations are their plugins' types */
  trafficRouting?: { istio?: IstioConfig; gatewayAPI?: GatewayApiConfig };
}

const C = 'spec.strategy.canary';
const R = `${C}.trafficRouting`;
const nameOf = (o: Raw): string | undefined => str(field(o, 'metadata', 'name'));

export function lintReferences(rollout: Raw, all: Raw[], add: Add): void {
  const canary = field(rollout, 'spec', 'strategy', 'canary') as Canary | undefined;
  const here = namespaceOf(rollout);
  const byKind = (kind: string): Raw[] => all.filter((o) => o.kind === kind);
  if (canary) checkRoutes(canary, here, byKind, add);
  const labels = field(rollout, 'spec', 'template', 'metadata', 'labels');
  for (const ref of collectRefs(rollout, canary, here)) {
    const ofKind = byKind(ref.kind);
    if (ofKind.length === 0) continue; // the file does not carry this kind: nothing to compare against
    const found = ofKind.find((o) => nameOf(o) === ref.name && (ref.kind === 'ClusterAnalysisTemplate' || namespaceOf(o) === ref.namespace));
    if (!found) {
      add({
        path: ref.path,
        message: `${ref.kind} "${ref.name}" is not in the file (its ${ref.kind}s: ${ofKind.map((o) => nameOf(o) ?? '(unnamed)').join(', ')})`,
        fix: `add the ${ref.kind} to the file, or correct the name`,
      });
    } else if (ref.kind === 'Service') checkSelector(ref, found, isRecord(labels) ? labels : {}, add);
  }
}

function collectRefs(rollout: Raw, canary: Canary | undefined, here: string): Ref[] {
  const refs: Ref[] = [];
  const push = (kind: string, name: string | undefined, path: string, namespace = here): void => void (name && refs.push({ kind, name, path, namespace }));
  if (canary) {
    push('Service', canary.canaryService, `${C}.canaryService`);
    push('Service', canary.stableService, `${C}.stableService`);
    // The objects each router's configuration names (not those it creates), as its plugin resolves them.
    const where = { namespace: here, rolloutName: nameOf(rollout) ?? '', canaryService: canary.canaryService ?? '', stableService: canary.stableService ?? '' };
    for (const o of routingObjectsOf(canary.trafficRouting as Record<string, unknown> | undefined, where)) {
      if (o.access !== 'owns' && o.field) push(o.kind, o.name, o.path, o.namespace);
    }
    const templates = [
      ...(canary.steps ?? []).flatMap((s, i) => (s.analysis?.templates ?? []).map((t, j) => ({ t, path: `${C}.steps[${i}].analysis.templates[${j}].templateName` }))),
      ...(canary.analysis?.templates ?? []).map((t, j) => ({ t, path: `${C}.analysis.templates[${j}].templateName` })),
    ];
    for (const { t, path } of templates) push(t.clusterScope ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate', t.templateName, path, t.clusterScope ? '' : here);
  }
  const blueGreen = field(rollout, 'spec', 'strategy', 'blueGreen');
  push('Service', str(field(blueGreen, 'activeService')), 'spec.strategy.blueGreen.activeService');
  push('Service', str(field(blueGreen, 'previewService')), 'spec.strategy.blueGreen.previewService');
  for (const kind of ['prePromotionAnalysis', 'postPromotionAnalysis']) {
    records(field(blueGreen, kind, 'templates')).forEach((t, j) => {
      const cluster = t.clusterScope === true;
      push(cluster ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate', str(t.templateName), `spec.strategy.blueGreen.${kind}.templates[${j}].templateName`, cluster ? '' : here);
    });
  }
  return refs;
}

/** The named routes and rules must exist, and an HTTPRoute must reach the stable Service. */
function checkRoutes(canary: Canary, here: string, byKind: (kind: string) => Raw[], add: Add): void {
  const tr = canary.trafficRouting;
  const vsRefs = [...(tr?.istio?.virtualService ? [{ vs: tr.istio.virtualService, path: `${R}.istio.virtualService` }] : []), ...(tr?.istio?.virtualServices ?? []).map((vs, i) => ({ vs, path: `${R}.istio.virtualServices[${i}]` }))];
  for (const { vs, path } of vsRefs) {
    const { name, namespace } = namespacedName(vs.name, here);
    const found = byKind('VirtualService').find((o) => nameOf(o) === name && namespaceOf(o) === namespace);
    if (!found) continue;
    const http = records(field(found, 'spec', 'http'));
    vs.routes?.forEach((route, i) => {
      if (http.some((h) => h.name === route)) return;
      add({ path: `${path}.routes[${i}]`, message: `VirtualService "${vs.name}" has no http route named "${route}" (its routes: ${http.map((h) => str(h.name) ?? '(unnamed)').join(', ') || 'none'})`, fix: 'name the route in the VirtualService, or correct the name here' });
    });
  }
  tr?.gatewayAPI?.httpRoutes?.forEach((r, i) => {
    const found = byKind('HTTPRoute').find((o) => nameOf(o) === r.name && namespaceOf(o) === (r.namespace ?? here));
    if (!found) return;
    const rules = records(field(found, 'spec', 'rules'));
    r.rules?.forEach((rule, j) => {
      if (!rules.some((x) => x.name === rule)) add({ path: `${R}.gatewayAPI.httpRoutes[${i}].rules[${j}]`, message: `HTTPRoute "${r.name}" has no rule named "${rule}"`, fix: 'name the rule in the HTTPRoute, or correct the name here' });
    });
    if (canary.stableService && !rules.some((x) => records(x.backendRefs).some((b) => b.name === canary.stableService))) {
      add({ path: `${R}.gatewayAPI.httpRoutes[${i}].name`, message: `HTTPRoute "${r.name}" has no backendRef to the stable Service "${canary.stableService}"`, fix: `add a backendRef to ${canary.stableService} in the rule that carries the traffic` });
    }
  });
}

function checkSelector(ref: Ref, service: Raw, labels: Raw, add: Add): void {
  const selector = field(service, 'spec', 'selector');
  const entries = isRecord(selector) ? Object.entries(selector) : [];
  const mismatched = entries.filter(([k, v]) => k !== 'rollouts-pod-template-hash' && labels[k] !== v);
  if (mismatched.length === 0) return;
  add({
    path: ref.path,
    message: `Service "${ref.name}" selects ${mismatched.map(([k, v]) => `${k}=${String(v)}`).join(', ')}, which the pod template's labels do not have: it would reach none of the Rollout's pods`,
    fix: 'make the Service selector a subset of spec.template.metadata.labels',
  });
}

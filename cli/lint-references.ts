// `rollway lint`: the references from a Rollout to the other objects of the file. A reference is
// checked only when the file carries objects of that kind (else there is nothing to compare
// against); the routes must lead to the Services and the Services to the Rollout's pods. The
// Rollout has passed the schema; the other objects may have any shape, so they are read with the
// accessors of raw.ts.
import type { KubeObject } from '../kube/client.ts';
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
  /** each router's configuration is read by its plugin (routers/registry.ts) */
  trafficRouting?: Record<string, unknown>;
}

const C = 'spec.strategy.canary';
const nameOf = (o: Raw): string | undefined => str(field(o, 'metadata', 'name'));

export function lintReferences(rollout: Raw, all: Raw[], add: Add): void {
  const canary = field(rollout, 'spec', 'strategy', 'canary') as Canary | undefined;
  const here = namespaceOf(rollout);
  const byKind = (kind: string): Raw[] => all.filter((o) => o.kind === kind);
  if (canary) checkRoutes(rollout, canary, here, byKind, add);
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
    for (const o of routingObjectsOf(canary.trafficRouting, where)) {
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

/** What the routing objects the routers name must contain (routes, rules), as each router's plugin checks it. */
function checkRoutes(rollout: Raw, canary: Canary, here: string, byKind: (kind: string) => Raw[], add: Add): void {
  const where = { namespace: here, rolloutName: nameOf(rollout) ?? '', canaryService: canary.canaryService ?? '', stableService: canary.stableService ?? '' };
  for (const named of routingObjectsOf(canary.trafficRouting, where)) {
    if (!named.plugin.checkObject || named.access === 'owns') continue;
    const found = byKind(named.kind).find((o) => nameOf(o) === named.name && namespaceOf(o) === named.namespace);
    if (found) for (const issue of named.plugin.checkObject(found as KubeObject, named, where, named.path)) add(issue);
  }
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

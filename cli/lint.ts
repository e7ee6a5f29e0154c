// `rollway lint -f FILE`: offline checks of the manifests in a file. Each Rollout goes through
// the same validation the controller runs (schema, then step and strategy rules); then the
// references between the objects of the file are checked: the Services, Ingresses, routes and
// analysis templates a Rollout names must be in the file when the file has objects of that kind.
import { parseAllDocuments } from 'yaml';
import { ROLLOUT_API_VERSION, ROLLOUT_KIND, RolloutSchema, validateRollout } from '../api/rollout.ts';
import { formatIssue, type SpecIssue } from '../api/issues.ts';

export interface LintFinding extends SpecIssue {
  severity: 'error' | 'warning';
  /** `Rollout/web` (document 2) */
  object: string;
  document: number;
}

interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: Record<string, unknown>;
}

type Ref = { kind: string; name: string; path: string; namespace: string };

export function lintText(text: string): LintFinding[] {
  const findings: LintFinding[] = [];
  const docs = parseAllDocuments(text);
  const objects: { obj: Obj; document: number }[] = [];
  docs.forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) findings.push({ severity: 'error', object: `document ${document}`, document, path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: `invalid YAML: ${e.message.split('\n')[0]}`, fix: 'fix the YAML syntax' });
      return;
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      findings.push({ severity: 'error', object: `document ${document}`, document, path: '', message: 'is not a Kubernetes object (a mapping with apiVersion and kind)', fix: 'give the document apiVersion, kind and metadata' });
      return;
    }
    const obj = value as Obj;
    if (obj.kind === 'List' && Array.isArray((obj as { items?: unknown }).items)) {
      for (const item of (obj as { items: Obj[] }).items) objects.push({ obj: item, document });
    } else objects.push({ obj, document });
  });

  const label = (o: Obj): string => `${o.kind ?? '?'}/${o.metadata?.name ?? '(unnamed)'}`;
  const ns = (o: Obj): string => o.metadata?.namespace ?? '';
  const byKind = (kind: string): Obj[] => objects.map((o) => o.obj).filter((o) => o.kind === kind);

  for (const { obj, document } of objects) {
    const add = (issue: SpecIssue, severity: LintFinding['severity'] = 'error'): void => void findings.push({ ...issue, severity, object: label(obj), document });
    if (obj.kind !== ROLLOUT_KIND) continue;
    if (obj.apiVersion === 'argoproj.io/v1alpha1') {
      add({ path: 'apiVersion', message: 'is argoproj.io/v1alpha1 (an Argo Rollouts manifest)', fix: `change apiVersion to ${ROLLOUT_API_VERSION}; the fields are the same` });
      continue;
    }
    if (obj.apiVersion !== ROLLOUT_API_VERSION) continue;
    const result = validateRollout(obj);
    if (!result.ok) for (const issue of result.issues) add(issue);
    else for (const issue of result.notImplemented) add(issue, 'warning');
    // References are read from a well-formed object only (rule errors above do not stop them).
    if (!RolloutSchema.safeParse(obj).success) continue;

    // --- references to other objects of the file
    const spec = obj.spec as {
      template?: { metadata?: { labels?: Record<string, string> } };
      strategy?: { canary?: Record<string, unknown>; blueGreen?: Record<string, unknown> };
    };
    const refs: Ref[] = [];
    const canary = spec.strategy?.canary as
      | {
          canaryService?: string;
          stableService?: string;
          steps?: { analysis?: { templates?: { templateName?: string; clusterScope?: boolean }[] } }[];
          analysis?: { templates?: { templateName?: string; clusterScope?: boolean }[] };
          trafficRouting?: {
            istio?: { virtualService?: { name: string; routes?: string[] }; virtualServices?: { name: string; routes?: string[] }[]; destinationRule?: { name: string; canarySubsetName: string; stableSubsetName: string } };
            nginx?: { stableIngress?: string; stableIngresses?: string[] };
            smi?: { rootService?: string };
            gatewayAPI?: { httpRoutes?: { name: string; namespace?: string; rules?: string[] }[] };
          };
        }
      | undefined;
    const C = 'spec.strategy.canary';
    const here = ns(obj);
    if (canary) {
      if (canary.canaryService) refs.push({ kind: 'Service', name: canary.canaryService, path: `${C}.canaryService`, namespace: here });
      if (canary.stableService) refs.push({ kind: 'Service', name: canary.stableService, path: `${C}.stableService`, namespace: here });
      const tr = canary.trafficRouting;
      const R = `${C}.trafficRouting`;
      if (tr?.istio?.virtualService) refs.push({ kind: 'VirtualService', name: tr.istio.virtualService.name, path: `${R}.istio.virtualService.name`, namespace: here });
      tr?.istio?.virtualServices?.forEach((vs, i) => refs.push({ kind: 'VirtualService', name: vs.name, path: `${R}.istio.virtualServices[${i}].name`, namespace: here }));
      if (tr?.istio?.destinationRule) refs.push({ kind: 'DestinationRule', name: tr.istio.destinationRule.name, path: `${R}.istio.destinationRule.name`, namespace: here });
      if (tr?.nginx?.stableIngress) refs.push({ kind: 'Ingress', name: tr.nginx.stableIngress, path: `${R}.nginx.stableIngress`, namespace: here });
      tr?.nginx?.stableIngresses?.forEach((n, i) => refs.push({ kind: 'Ingress', name: n, path: `${R}.nginx.stableIngresses[${i}]`, namespace: here }));
      if (tr?.smi?.rootService) refs.push({ kind: 'Service', name: tr.smi.rootService, path: `${R}.smi.rootService`, namespace: here });
      tr?.gatewayAPI?.httpRoutes?.forEach((r, i) => refs.push({ kind: 'HTTPRoute', name: r.name, path: `${R}.gatewayAPI.httpRoutes[${i}].name`, namespace: r.namespace ?? here }));
      const templates = [
        ...(canary.steps ?? []).flatMap((s, i) => (s.analysis?.templates ?? []).map((t, j) => ({ t, path: `${C}.steps[${i}].analysis.templates[${j}].templateName` }))),
        ...(canary.analysis?.templates ?? []).map((t, j) => ({ t, path: `${C}.analysis.templates[${j}].templateName` })),
      ];
      for (const { t, path } of templates) {
        if (t.templateName) refs.push({ kind: t.clusterScope ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate', name: t.templateName, path, namespace: t.clusterScope ? '' : here });
      }

      // The routes must lead to the two Services, and the Services to the pods.
      for (const vsRef of [...(tr?.istio?.virtualService ? [{ vs: tr.istio.virtualService, path: `${R}.istio.virtualService` }] : []), ...(tr?.istio?.virtualServices ?? []).map((vs, i) => ({ vs, path: `${R}.istio.virtualServices[${i}]` }))]) {
        const found = byKind('VirtualService').find((o) => o.metadata?.name === vsRef.vs.name && ns(o) === here);
        const http = ((found?.spec as { http?: { name?: string }[] } | undefined)?.http ?? []) as { name?: string }[];
        vsRef.vs.routes?.forEach((route, i) => {
          if (found && !http.some((h) => h.name === route)) {
            add({ path: `${vsRef.path}.routes[${i}]`, message: `VirtualService "${vsRef.vs.name}" has no http route named "${route}" (its routes: ${http.map((h) => h.name ?? '(unnamed)').join(', ') || 'none'})`, fix: 'name the route in the VirtualService, or correct the name here' });
          }
        });
      }
      tr?.gatewayAPI?.httpRoutes?.forEach((r, i) => {
        const found = byKind('HTTPRoute').find((o) => o.metadata?.name === r.name && ns(o) === (r.namespace ?? here));
        if (!found) return;
        const rules = ((found.spec as { rules?: { name?: string; backendRefs?: { name?: string }[] }[] } | undefined)?.rules ?? []);
        r.rules?.forEach((rule, j) => {
          if (!rules.some((x) => x.name === rule)) add({ path: `${R}.gatewayAPI.httpRoutes[${i}].rules[${j}]`, message: `HTTPRoute "${r.name}" has no rule named "${rule}"`, fix: 'name the rule in the HTTPRoute, or correct the name here' });
        });
        if (canary.stableService && !rules.some((x) => (x.backendRefs ?? []).some((b) => b.name === canary.stableService))) {
          add({ path: `${R}.gatewayAPI.httpRoutes[${i}].name`, message: `HTTPRoute "${r.name}" has no backendRef to the stable Service "${canary.stableService}"`, fix: `add a backendRef to ${canary.stableService} in the rule that carries the traffic` });
        }
      });
    }
    const blueGreen = spec.strategy?.blueGreen as { activeService?: string; previewService?: string } | undefined;
    if (blueGreen?.activeService) refs.push({ kind: 'Service', name: blueGreen.activeService, path: 'spec.strategy.blueGreen.activeService', namespace: here });
    if (blueGreen?.previewService) refs.push({ kind: 'Service', name: blueGreen.previewService, path: 'spec.strategy.blueGreen.previewService', namespace: here });

    for (const ref of refs) {
      const ofKind = byKind(ref.kind);
      if (ofKind.length === 0) continue; // the file does not carry this kind: nothing to compare against
      const found = ofKind.find((o) => o.metadata?.name === ref.name && (ref.kind === 'ClusterAnalysisTemplate' || ns(o) === ref.namespace));
      if (!found) {
        add({
          path: ref.path,
          message: `${ref.kind} "${ref.name}" is not in the file (its ${ref.kind}s: ${ofKind.map((o) => o.metadata?.name ?? '(unnamed)').join(', ')})`,
          fix: `add the ${ref.kind} to the file, or correct the name`,
        });
        continue;
      }
      if (ref.kind === 'Service') {
        const selector = ((found.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {}) as Record<string, string>;
        const labels = spec.template?.metadata?.labels ?? {};
        const mismatched = Object.entries(selector).filter(([k, v]) => k !== 'rollouts-pod-template-hash' && labels[k] !== v);
        if (mismatched.length > 0) {
          add({
            path: ref.path,
            message: `Service "${ref.name}" selects ${mismatched.map(([k, v]) => `${k}=${v}`).join(', ')}, which the pod template's labels do not have: it would reach none of the Rollout's pods`,
            fix: 'make the Service selector a subset of spec.template.metadata.labels',
          });
        }
      }
    }
  }
  return findings;
}

export function formatFinding(file: string, f: LintFinding): string {
  return `${file}: ${f.object}: ${f.severity === 'warning' ? 'warning: ' : ''}${formatIssue(f)}`;
}

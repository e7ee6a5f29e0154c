// `undo` copies a ReplicaSet's pod template back into the Rollout. The API server filled in
// defaults when it stored the ReplicaSet (imagePullPolicy, terminationMessagePath, dnsPolicy...),
// and the Rollout's template never had them: copied as is, the template would hash differently
// and deploy as a new revision instead of a fast rollback. So defaults are taken out again, except
// where the current template spells the same value itself, and the result is checked against the
// ReplicaSet's hash.
import { POD_TEMPLATE_HASH_LABEL } from '../api/labels.ts';
import { podTemplateHash } from '../api/hash.ts';

type Json = Record<string, unknown>;
type Segment = string | '[]';

const isEmptyObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
const eq = (value: unknown) => (v: unknown): boolean => v === value;

/** Where the API server writes defaults into a pod template, and the default value. */
const DEFAULTS: [Segment[], (v: unknown) => boolean][] = [];
const pod = (path: string, test: (v: unknown) => boolean): void => void DEFAULTS.push([['spec', ...path.split('.')], test]);
pod('restartPolicy', eq('Always'));
pod('terminationGracePeriodSeconds', eq(30));
pod('dnsPolicy', eq('ClusterFirst'));
pod('securityContext', isEmptyObject);
pod('schedulerName', eq('default-scheduler'));
for (const list of ['containers', 'initContainers']) {
  const c = (path: string, test: (v: unknown) => boolean): void => void DEFAULTS.push([['spec', list, '[]', ...path.split('.')], test]);
  c('terminationMessagePath', eq('/dev/termination-log'));
  c('terminationMessagePolicy', eq('File'));
  c('imagePullPolicy', (v) => v === 'IfNotPresent' || v === 'Always');
  c('resources', isEmptyObject);
  c('ports.[].protocol', eq('TCP'));
  c('env.[].valueFrom.fieldRef.apiVersion', eq('v1'));
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    c(`${probe}.timeoutSeconds`, eq(1));
    c(`${probe}.periodSeconds`, eq(10));
    c(`${probe}.successThreshold`, eq(1));
    c(`${probe}.failureThreshold`, eq(3));
    c(`${probe}.httpGet.scheme`, eq('HTTP'));
  }
}
for (const source of ['configMap', 'secret', 'downwardAPI', 'projected']) {
  DEFAULTS.push([['spec', 'volumes', '[]', source, 'defaultMode'], eq(420)]);
}

/** The key that identifies a list element across templates: its name, else its port or path. */
function identity(element: unknown): string | undefined {
  if (typeof element !== 'object' || element === null) return undefined;
  const e = element as Json;
  const id = e.name ?? e.containerPort ?? e.mountPath;
  return id === undefined ? undefined : String(id);
}

interface Occurrence {
  parent: Json;
  key: string;
  /** the value at the same place in the hint template (undefined when absent) */
  hint: unknown;
  hinted: boolean;
}

function collect(node: unknown, hint: unknown, pattern: Segment[], test: (v: unknown) => boolean, out: Occurrence[]): void {
  if (typeof node !== 'object' || node === null) return;
  const [head, ...rest] = pattern;
  if (head === undefined) return;
  if (head === '[]') {
    if (!Array.isArray(node)) return;
    node.forEach((element, i) => {
      const id = identity(element);
      const hintList = Array.isArray(hint) ? hint : [];
      const match = id !== undefined ? hintList.find((h) => identity(h) === id) : hintList[i];
      collect(element, match, rest, test, out);
    });
    return;
  }
  const obj = node as Json;
  if (!(head in obj)) return;
  const hintValue = typeof hint === 'object' && hint !== null && !Array.isArray(hint) ? (hint as Json)[head] : undefined;
  if (rest.length === 0) {
    if (test(obj[head])) out.push({ parent: obj, key: head, hint: hintValue, hinted: hintValue !== undefined && JSON.stringify(hintValue) === JSON.stringify(obj[head]) });
    return;
  }
  collect(obj[head], hintValue, rest, test, out);
}

function stripped(template: unknown, keep: (o: Occurrence) => boolean): unknown {
  const copy = structuredClone(template ?? {}) as Json;
  const metadata = (copy.metadata ?? {}) as Json;
  const labels = { ...((metadata.labels ?? {}) as Record<string, string>) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  metadata.labels = labels;
  if (metadata.creationTimestamp === null) delete metadata.creationTimestamp;
  copy.metadata = metadata;
  const occurrences: Occurrence[] = [];
  for (const [pattern, test] of DEFAULTS) collect(copy, undefined, pattern, test, occurrences);
  for (const o of occurrences) if (!keep(o)) delete o.parent[o.key];
  return copy;
}

function withHints(template: unknown, hint: unknown): unknown {
  const copy = stripped(template, () => true);
  const occurrences: Occurrence[] = [];
  for (const [pattern, test] of DEFAULTS) collect(copy, hint, pattern, test, occurrences);
  for (const o of occurrences) if (!o.hinted) delete o.parent[o.key];
  return copy;
}

/**
 * The template to write back for a rollback to a ReplicaSet: `exact` when it hashes to the
 * ReplicaSet's own hash (a fast rollback), else the closest candidate (same pods, new revision).
 */
export function templateForUndo(rsTemplate: unknown, currentTemplate: unknown, targetHash: string, collisionCount = 0): { template: unknown; exact: boolean } {
  const candidates = [withHints(rsTemplate, currentTemplate), stripped(rsTemplate, () => false), stripped(rsTemplate, () => true)];
  for (const template of candidates) {
    if (podTemplateHash(template, collisionCount) === targetHash) return { template, exact: true };
  }
  return { template: candidates[0], exact: false };
}

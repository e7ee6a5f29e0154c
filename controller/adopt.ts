// Adopting ReplicaSets another controller made (Argo Rollouts, through `rollway migrate`): their
// hash label is Argo's, not ours, so the current ReplicaSet is found by pod-template equality
// ignoring the hash label, as Argo itself finds its new ReplicaSet. The API server fills defaults
// into a ReplicaSet's template that the Rollout's template lacks, so both sides drop the values
// Kubernetes defaults before comparing; a default not listed here makes the templates differ,
// which only means a new ReplicaSet is created (the safe way to be wrong).
import { canonicalJson, podTemplateHash, POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

function dropIf(o: Obj, key: string, value: unknown): void {
  if (key in o && same(o[key], value)) delete o[key];
}

const PROBE_DEFAULTS: Obj = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };

/** The image pull policy Kubernetes gives a container that names none. */
function defaultPullPolicy(image: unknown): string {
  const ref = typeof image === 'string' ? image.split('@')[0]! : '';
  const tag = ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref.slice(ref.lastIndexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function normalizeContainer(c: Obj): void {
  dropIf(c, 'terminationMessagePath', '/dev/termination-log');
  dropIf(c, 'terminationMessagePolicy', 'File');
  dropIf(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  dropIf(c, 'resources', {});
  for (const port of Array.isArray(c.ports) ? c.ports.filter(isObj) : []) dropIf(port, 'protocol', 'TCP');
  for (const name of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const probe = c[name];
    if (!isObj(probe)) continue;
    for (const [k, v] of Object.entries(PROBE_DEFAULTS)) dropIf(probe, k, v);
    if (isObj(probe.httpGet)) dropIf(probe.httpGet, 'scheme', 'HTTP');
  }
  for (const env of Array.isArray(c.env) ? c.env.filter(isObj) : []) {
    const ref = isObj(env.valueFrom) ? env.valueFrom.fieldRef : undefined;
    if (isObj(ref)) dropIf(ref, 'apiVersion', 'v1');
  }
}

/** A pod template without the hash label and without the values the API server defaults. */
export function normalizeTemplate(template: unknown): Obj {
  const t = structuredClone(isObj(template) ? template : {});
  const meta = isObj(t.metadata) ? t.metadata : {};
  delete meta.creationTimestamp;
  if (isObj(meta.labels)) delete meta.labels[POD_TEMPLATE_HASH_LABEL];
  for (const k of ['labels', 'annotations']) if (isObj(meta[k]) && Object.keys(meta[k]).length === 0) delete meta[k];
  t.metadata = meta;
  const spec = isObj(t.spec) ? t.spec : {};
  dropIf(spec, 'restartPolicy', 'Always');
  dropIf(spec, 'dnsPolicy', 'ClusterFirst');
  dropIf(spec, 'schedulerName', 'default-scheduler');
  dropIf(spec, 'securityContext', {});
  dropIf(spec, 'terminationGracePeriodSeconds', 30);
  for (const list of ['containers', 'initContainers']) for (const c of Array.isArray(spec[list]) ? spec[list].filter(isObj) : []) normalizeContainer(c);
  for (const v of Array.isArray(spec.volumes) ? spec.volumes.filter(isObj) : []) {
    for (const source of ['configMap', 'secret']) if (isObj(v[source])) dropIf(v[source], 'defaultMode', 420);
  }
  t.spec = spec;
  return t;
}

/** A digest of a template that is the same for a Rollout's template and a ReplicaSet made from it. */
export function templateKey(template: unknown): string {
  return podTemplateHash(normalizeTemplate(template));
}

/** What adoption needs of a ReplicaSet. */
export interface AdoptionCandidate {
  hash: string;
  revision: number;
  /** templateKey of its pod template; absent when unknown */
  templateKey?: string | undefined;
}

/**
 * The hash of the ReplicaSet to treat as current when none carries our hash: one whose template
 * equals the Rollout's ignoring the hash label. The one the status names as current wins, then
 * the newest revision.
 */
export function adoptedHash(replicaSets: readonly AdoptionCandidate[], template: unknown, currentPodHash: string | undefined): string | undefined {
  const key = templateKey(template);
  const matches = replicaSets.filter((rs) => rs.templateKey === key && rs.hash !== '');
  if (matches.length === 0) return undefined;
  return (matches.find((rs) => rs.hash === currentPodHash) ?? matches.reduce((a, b) => (b.revision > a.revision ? b : a))).hash;
}

/**
 * The current revision's hash: ours when a ReplicaSet carries it or none can be adopted. `known`
 * is podTemplateHash(template, collisionCount) when the caller has it already.
 */
export function currentPodHash(replicaSets: readonly AdoptionCandidate[], template: unknown, collisionCount: number, previous: string | undefined, known?: string): string {
  const computed = known ?? podTemplateHash(template, collisionCount);
  if (replicaSets.some((rs) => rs.hash === computed)) return computed;
  return adoptedHash(replicaSets, template, previous) ?? computed;
}

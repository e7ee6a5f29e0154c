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

/** `o` without `key` when it holds `value`: a copy, or `o` itself when there is nothing to drop. */
function dropIf(o: Obj, key: string, value: unknown): Obj {
  if (!(key in o) || !same(o[key], value)) return o;
  const { [key]: _dropped, ...rest } = o;
  return rest;
}

const PROBE_DEFAULTS: Obj = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };
const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'];

/** The image pull policy Kubernetes gives a container that names none. */
function defaultPullPolicy(image: unknown): string {
  const ref = typeof image === 'string' ? image.split('@')[0]! : '';
  const tag = ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref.slice(ref.lastIndexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** `o` with each object item of its list `key` through `f`; `o` itself when `key` is no list. */
function mapList(o: Obj, key: string, f: (item: Obj) => Obj): Obj {
  const list = o[key];
  return Array.isArray(list) ? { ...o, [key]: list.map((item: unknown) => (isObj(item) ? f(item) : item)) } : o;
}

function normalizeProbe(probe: Obj): Obj {
  let p = probe;
  for (const [k, v] of Object.entries(PROBE_DEFAULTS)) p = dropIf(p, k, v);
  return isObj(p.httpGet) ? { ...p, httpGet: dropIf(p.httpGet, 'scheme', 'HTTP') } : p;
}

function normalizeContainer(container: Obj): Obj {
  let c = dropIf(container, 'terminationMessagePath', '/dev/termination-log');
  c = dropIf(c, 'terminationMessagePolicy', 'File');
  c = dropIf(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  c = dropIf(c, 'resources', {});
  c = mapList(c, 'ports', (port) => dropIf(port, 'protocol', 'TCP'));
  for (const name of PROBES) if (isObj(c[name])) c = { ...c, [name]: normalizeProbe(c[name]) };
  return mapList(c, 'env', (env) => {
    const from = env.valueFrom;
    return isObj(from) && isObj(from.fieldRef) ? { ...env, valueFrom: { ...from, fieldRef: dropIf(from.fieldRef, 'apiVersion', 'v1') } } : env;
  });
}

const SPEC_DEFAULTS: [string, unknown][] = [['restartPolicy', 'Always'], ['dnsPolicy', 'ClusterFirst'], ['schedulerName', 'default-scheduler'], ['securityContext', {}], ['terminationGracePeriodSeconds', 30]];

/**
 * A pod template without the hash label and without the values the API server defaults. The
 * input is not changed: only what differs is copied (a deep copy of every cached ReplicaSet's
 * template was a tenth of a 10,000-Rollout restart's CPU).
 */
export function normalizeTemplate(template: unknown): Obj {
  const t = isObj(template) ? template : {};
  const meta: Obj = isObj(t.metadata) ? { ...t.metadata } : {};
  delete meta.creationTimestamp;
  if (isObj(meta.labels)) {
    const { [POD_TEMPLATE_HASH_LABEL]: _hash, ...labels } = meta.labels;
    meta.labels = labels;
  }
  for (const k of ['labels', 'annotations']) if (isObj(meta[k]) && Object.keys(meta[k]).length === 0) delete meta[k];
  let spec: Obj = isObj(t.spec) ? t.spec : {};
  for (const [key, value] of SPEC_DEFAULTS) spec = dropIf(spec, key, value);
  spec = mapList(mapList(spec, 'containers', normalizeContainer), 'initContainers', normalizeContainer);
  spec = mapList(spec, 'volumes', (volume) => {
    let v = volume;
    for (const source of ['configMap', 'secret']) if (isObj(v[source])) v = { ...v, [source]: dropIf(v[source], 'defaultMode', 420) };
    return v;
  });
  return { ...t, metadata: meta, spec };
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

// Malformed Rollout manifests for the fault suite: a good Rollout changed in one to three ways,
// picked from the mistakes people and tools make: wrong types, missing required fields, negative
// and huge numbers, bad durations, unknown step kinds, deep nesting, long strings, invalid names
// and labels, null in lists, bad regexes in header routes, bad analysis conditions, selectors and
// strategies that contradict themselves. Seeded: the same seed gives the same manifests.
import type { KubeObject } from '../../kube/client.ts';
import { Random } from './support.ts';

export interface MalformedCase {
  id: number;
  /** the Rollout's name as applied (the URL name when metadata.name itself is broken) */
  name: string;
  /** what was changed, e.g. `wrong-type spec.replicas = "3"` */
  mutations: string[];
  /** the Rollout last; an AnalysisTemplate it names comes first */
  objects: KubeObject[];
}

type Json = Record<string, unknown>;
type Path = (string | number)[];
interface Ctx {
  rand: Random;
  id: number;
  /** objects that go with the Rollout (an AnalysisTemplate) */
  extra: Json[];
}
type Mutation = (ro: Json, ctx: Ctx) => string;

export const ROLLOUT_API = 'rollway.dev/v1alpha1';
/** Label on every generated object, so a cleanup can find them. */
export const STORM_LABEL = 'e2e.rollway.dev/storm';

/** The good Rollout every case starts from: valid, no router, one pod. */
export function goodRollout(id: number): Json {
  const app = `m-${id}`;
  return {
    apiVersion: ROLLOUT_API,
    kind: 'Rollout',
    metadata: { name: app, labels: { app, [STORM_LABEL]: 'true' } },
    spec: {
      replicas: 1,
      revisionHistoryLimit: 2,
      selector: { matchLabels: { app } },
      template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'app', image: 'example.com/app:1', ports: [{ containerPort: 8080 }] }] } },
      strategy: { canary: { maxSurge: 1, maxUnavailable: 0, steps: [{ setWeight: 20 }, { pause: { duration: '30s' } }, { setWeight: 60 }, { pause: {} }] } },
    },
  };
}

// --- paths ----------------------------------------------------------------------------------

const show = (path: Path): string => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
const shortValue = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}... (${text.length} chars)` : text;
};

/** Sets a value at a path, creating the mappings and lists on the way. */
function setAt(root: Json, path: Path, value: unknown): void {
  let node: Record<string | number, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function deleteAt(root: Json, path: Path): void {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
  if (node !== null && typeof node === 'object') {
    const last = path[path.length - 1]!;
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else delete (node as Record<string | number, unknown>)[last];
  }
}

const STEPS: Path = ['spec', 'strategy', 'canary', 'steps'];
const CANARY: Path = ['spec', 'strategy', 'canary'];
const CONTAINER: Path = ['spec', 'template', 'spec', 'containers', 0];

function stepsOf(ro: Json): unknown[] {
  const canary = ((ro.spec as Json | undefined)?.strategy as Json | undefined)?.canary as Json | undefined;
  if (canary && Array.isArray(canary.steps)) return canary.steps as unknown[];
  setAt(ro, STEPS, []);
  return stepsOf(ro);
}

// --- the mutations --------------------------------------------------------------------------

type Kind = 'int' | 'string' | 'bool' | 'map' | 'list' | 'intOrString';
const TYPED: [Path, Kind][] = [
  [['spec', 'replicas'], 'int'],
  [['spec', 'revisionHistoryLimit'], 'int'],
  [['spec', 'minReadySeconds'], 'int'],
  [['spec', 'progressDeadlineSeconds'], 'int'],
  [['spec', 'paused'], 'bool'],
  [['spec', 'selector'], 'map'],
  [['spec', 'selector', 'matchLabels'], 'map'],
  [['spec', 'template'], 'map'],
  [['spec', 'template', 'spec', 'containers'], 'list'],
  [[...CONTAINER, 'image'], 'string'],
  [[...CONTAINER, 'name'], 'string'],
  [['spec', 'strategy'], 'map'],
  [[...CANARY, 'steps'], 'list'],
  [[...STEPS, 0, 'setWeight'], 'int'],
  [[...STEPS, 1, 'pause'], 'map'],
  [[...STEPS, 1, 'pause', 'duration'], 'intOrString'],
  [[...CANARY, 'maxSurge'], 'intOrString'],
  [[...CANARY, 'scaleDownDelaySeconds'], 'int'],
  [['metadata', 'labels'], 'map'],
  [['metadata', 'annotations'], 'map'],
  [['metadata', 'name'], 'string'],
];
const WRONG: Record<Kind, unknown[]> = {
  int: ['3', 'three', true, [3], { value: 3 }, 2.5, null],
  string: [42, true, ['x'], { a: 'b' }, 0.5],
  bool: ['yes', 1, 'true', [true], {}],
  map: ['x', 7, [], [{ a: 1 }], true],
  list: ['x', { a: 1 }, 5, true],
  intOrString: [true, [1], { seconds: 5 }, 1.5],
};

const wrongType: Mutation = (ro, { rand }) => {
  const [path, kind] = rand.pick(TYPED);
  const value = rand.pick(WRONG[kind]);
  setAt(ro, path, value);
  return `wrong-type ${show(path)} = ${shortValue(value)}`;
};

const REQUIRED: Path[] = [
  ['apiVersion'],
  ['kind'],
  ['metadata', 'name'],
  ['spec'],
  ['spec', 'selector'],
  ['spec', 'template'],
  ['spec', 'strategy'],
  [...CANARY],
  ['spec', 'template', 'spec', 'containers'],
  [...CONTAINER, 'name'],
  [...CONTAINER, 'image'],
  ['spec', 'template', 'metadata', 'labels'],
  ['spec', 'selector', 'matchLabels'],
];
const missingRequired: Mutation = (ro, { rand }) => {
  const path = rand.pick(REQUIRED);
  deleteAt(ro, path);
  return `missing ${show(path)}`;
};

const NUMERIC: Path[] = [
  ['spec', 'replicas'],
  ['spec', 'revisionHistoryLimit'],
  ['spec', 'minReadySeconds'],
  ['spec', 'progressDeadlineSeconds'],
  [...STEPS, 0, 'setWeight'],
  [...STEPS, 2, 'setWeight'],
  [...STEPS, 1, 'pause', 'duration'],
  [...CANARY, 'maxSurge'],
  [...CANARY, 'maxUnavailable'],
  [...CANARY, 'scaleDownDelaySeconds'],
  [...CANARY, 'abortScaleDownDelaySeconds'],
];
const negative: Mutation = (ro, { rand }) => {
  const path = rand.pick(NUMERIC);
  const value = -rand.pick([1, 5, 100, 0.5, 2 ** 31]);
  setAt(ro, path, value);
  return `negative ${show(path)} = ${value}`;
};
const huge: Mutation = (ro, { rand }) => {
  const path = rand.pick(NUMERIC);
  const value = rand.pick([2 ** 31, 2 ** 32 + 1, 2 ** 53, 2 ** 53 + 2, 1e21, 9.99e99, 1e308, 100.5, 101]);
  setAt(ro, path, value);
  return `huge ${show(path)} = ${value}`;
};
const special: Mutation = (ro, { rand }) => {
  // YAML has .nan and .inf; JSON turns them into null.
  const path = rand.pick([['spec', 'replicas'], [...STEPS, 0, 'setWeight'], [...STEPS, 1, 'pause', 'duration']] as Path[]);
  const value = rand.pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e-7, 3.5, 0.005]);
  setAt(ro, path, value);
  return `special-number ${show(path)} = ${String(value)}`;
};

const DURATIONS = ['5x', '-1s', '', '1.5.3s', 'P1D', '99999999999h', '1h-30m', ' 5s', 'NaN', 'Infinity', '5 s', '1e3s', '0x10s', '\u0663s', '1d', 's', '10', '1h 30m', '30S', '.5s'];
const badDuration: Mutation = (ro, { rand }) => {
  const value = rand.pick(DURATIONS);
  const index = rand.pick([1, 3]);
  setAt(ro, [...STEPS, index, 'pause', 'duration'], value);
  return `bad-duration steps[${index}].pause.duration = ${JSON.stringify(value)}`;
};

const ODD_STEPS: Json[] = [
  { setWieght: 10 },
  {},
  { pause: {}, setWeight: 10 },
  { foo: { bar: 1 } },
  { setWeight: 10, pauze: {} },
  { experiment: 'x' },
  { plugin: {} },
  { setHeaderRoute: { name: 'h', match: [{ headerName: 'x', headerValue: { exact: 'y' } }] } },
  { setMirrorRoute: { name: 'm' } },
  { setCanaryScale: {} },
  { setCanaryScale: { weight: 20, replicas: 2 } },
  { analysis: { templates: [{ templateName: '' }] } },
  { pause: { duration: '1m', extra: true } },
];
const unknownStep: Mutation = (ro, { rand }) => {
  const step = structuredClone(rand.pick(ODD_STEPS));
  const steps = stepsOf(ro);
  const at = rand.int(0, steps.length);
  steps.splice(at, 0, step);
  return `odd-step steps[${at}] = ${shortValue(step)}`;
};

function nested(depth: number, asList: boolean): unknown {
  let node: unknown = 'bottom';
  for (let i = 0; i < depth; i++) node = asList ? [node] : { n: node };
  return node;
}
const deepNesting: Mutation = (ro, { rand }) => {
  const depth = rand.pick([20, 60, 120, 300, 1000]);
  const asList = rand.chance(0.4);
  const path = rand.pick([[...STEPS, 0, 'experiment'], ['spec', 'template', 'spec', 'extra'], [...CONTAINER, 'args'], ['spec', 'strategy', 'canary', 'trafficRouting', 'plugins', 'deep']] as Path[]);
  setAt(ro, path, asList && path[path.length - 1] !== 'args' ? { list: nested(depth, true) } : nested(depth, asList));
  return `deep ${show(path)} nested ${depth} levels (${asList ? 'lists' : 'mappings'})`;
};

const longString: Mutation = (ro, { rand, id }) => {
  const choice = rand.int(0, 5);
  const long = (n: number, c = 'x'): string => c.repeat(n);
  switch (choice) {
    case 0:
      setAt(ro, ['metadata', 'name'], `${long(rand.pick([64, 254, 300]), 'a')}-${id}`);
      return 'long metadata.name';
    case 1: {
      const n = rand.pick([1000, 20_000, 120_000]);
      setAt(ro, [...CONTAINER, 'image'], `example.com/${long(n)}:1`);
      return `long container image (${n} chars)`;
    }
    case 2:
      setAt(ro, ['metadata', 'annotations', 'note'], long(300_000, 'v'));
      return 'annotation of 300000 characters (over the 256 KiB limit)';
    case 3:
      setAt(ro, ['spec', 'template', 'metadata', 'labels', 'tier'], long(rand.pick([64, 200]), 'l'));
      return 'template label value over 63 characters';
    case 4:
      setAt(ro, [...CONTAINER, 'name'], long(100, 'c'));
      return 'container name of 100 characters';
    default:
      setAt(ro, [...STEPS, 1, 'pause', 'duration'], `${long(5000, '9')}s`);
      return 'pause duration of 5001 characters';
  }
};

const invalidName: Mutation = (ro, { rand, id }) => {
  const choice = rand.int(0, 6);
  switch (choice) {
    case 0: {
      const name = rand.pick([`Web_App-${id}`, `-m-${id}`, `m-${id}.`, `m..${id}`, `m ${id}`, `\u00c4\u00d6-${id}`, `M-${id}`, `m-${id}-`]);
      setAt(ro, ['metadata', 'name'], name);
      return `invalid name ${JSON.stringify(name)}`;
    }
    case 1: {
      const [key, value] = rand.pick([['-bad', 'x'], ['a/b/c', 'x'], ['app', 'has space'], ['app', 'x'.repeat(64)], ['example.com/', 'x'], ['team', 'ok!']]);
      setAt(ro, ['metadata', 'labels', key!], value);
      return `invalid label ${JSON.stringify(key)}: ${JSON.stringify(value).slice(0, 30)}`;
    }
    case 2: {
      const value = rand.pick(['bad value!', '-lead', 'trail-', 'a'.repeat(70)]);
      setAt(ro, ['spec', 'template', 'metadata', 'labels', 'app'], value);
      setAt(ro, ['spec', 'selector', 'matchLabels', 'app'], value);
      return `invalid pod label value ${JSON.stringify(value).slice(0, 30)}`;
    }
    case 3: {
      const name = rand.pick(['App_1', 'app.v2', '1app', 'a'.repeat(64)]);
      setAt(ro, [...CONTAINER, 'name'], name);
      return `invalid container name ${JSON.stringify(name).slice(0, 30)}`;
    }
    case 4:
      setAt(ro, ['metadata', 'annotations', 'bad key!'], 'x');
      return 'invalid annotation key';
    case 5:
      setAt(ro, ['metadata', 'generateName'], 'm-');
      deleteAt(ro, ['metadata', 'name']);
      return 'generateName instead of name';
    default:
      setAt(ro, [...CANARY, 'canaryService'], 'Canary_Svc');
      setAt(ro, [...CANARY, 'stableService'], 'Canary_Svc');
      return 'invalid and equal canaryService and stableService';
  }
};

const nullInList: Mutation = (ro, { rand }) => {
  const choice = rand.int(0, 5);
  const steps = stepsOf(ro);
  switch (choice) {
    case 0:
      steps.unshift(null);
      return 'null as steps[0]';
    case 1:
      steps.splice(2, 1, null);
      return 'null as steps[2]';
    case 2:
      setAt(ro, ['spec', 'template', 'spec', 'containers'], [null]);
      return 'containers: [null]';
    case 3:
      setAt(ro, ['spec', 'selector', 'matchExpressions'], [null, { key: 'app', operator: 'Exists' }]);
      return 'null in selector.matchExpressions';
    case 4:
      setAt(ro, [...CONTAINER, 'ports'], [null]);
      return 'null in container ports';
    default:
      setAt(ro, [...STEPS, 1, 'pause', 'duration'], null);
      setAt(ro, [...CANARY, 'steps'], [...steps, null, null]);
      return 'null duration and trailing nulls in steps';
  }
};

const REGEXES = ['(', '[a-', '(?=beta)', '(?<=x)y', '(a)\\1', 'a{5000}', '*', '\\', '(?P<n>', '[[:foo:]]', '\\p{Nope}', 'x++', '(?i)ok', '^beta$', ''];
/** Routing through an Istio VirtualService, with a header-route step whose regex is suspect. */
const badRegex: Mutation = (ro, { rand, id }) => {
  const regex = rand.pick(REGEXES);
  setAt(ro, [...CANARY, 'canaryService'], `m-${id}-canary`);
  setAt(ro, [...CANARY, 'stableService'], `m-${id}-stable`);
  setAt(ro, [...CANARY, 'trafficRouting'], { istio: { virtualService: { name: `m-${id}`, routes: ['primary'] } }, managedRoutes: [{ name: 'hdr' }, { name: 'mirror' }] });
  const mirror = rand.chance(0.3);
  const step = mirror
    ? { setMirrorRoute: { name: 'mirror', percentage: 50, match: [{ path: { regex } }] } }
    : { setHeaderRoute: { name: 'hdr', match: [{ headerName: 'x-canary', headerValue: { regex } }] } };
  stepsOf(ro).unshift(step);
  return `${mirror ? 'mirror path' : 'header'} regex ${JSON.stringify(regex.length > 20 ? `${regex.slice(0, 17)}...` : regex)}`;
};

const CONDITIONS = ['result >', 'result[0] >= ', 'len(result) => 1', 'result ==== 1', '&& true', 'result in [1, 2', 'nosuchfn(result)', 'result.', ')', '"unterminated', 'result > 1 ? true', 'result >= 0.95 and', '{{args.missing}} > 1', 'result ~= 1', 'result[', 'result >= 1e999', `${'('.repeat(500)}result${')'.repeat(500)} > 0`, 'result > 0'.repeat(3)];
/** An analysis step naming an AnalysisTemplate (which goes with the case) whose condition is broken. */
const badAnalysis: Mutation = (ro, { rand, id, extra }) => {
  const condition = rand.pick(CONDITIONS);
  const key = rand.pick(['successCondition', 'failureCondition']);
  const template = `m-${id}-check`;
  extra.push({
    apiVersion: ROLLOUT_API,
    kind: 'AnalysisTemplate',
    metadata: { name: template, labels: { [STORM_LABEL]: 'true' } },
    spec: { metrics: [{ name: 'ok-rate', interval: '10s', count: 1, [key]: condition, provider: { web: { url: 'http://127.0.0.1:9/ok', jsonPath: '{$.rate}' } } }] },
  });
  const steps = stepsOf(ro);
  steps.splice(1, 0, { analysis: { templates: [{ templateName: template }], args: rand.chance(0.3) ? [null] : undefined } });
  return `analysis ${key} ${JSON.stringify(condition.slice(0, 30))}`;
};

const badSelector: Mutation = (ro, { rand }) => {
  const choice = rand.pick([
    [{ matchLabels: { app: 'other' } }, 'selector does not match the template labels'],
    [{ matchExpressions: [{ key: 'app', operator: 'Bogus', values: ['x'] }] }, 'unknown selector operator'],
    [{ matchExpressions: [{ key: 'app', operator: 'In' }] }, 'In without values'],
    [{}, 'empty selector'],
    [{ matchLabels: { app: null } }, 'null label value in the selector'],
  ] as const);
  setAt(ro, ['spec', 'selector'], structuredClone(choice[0]));
  return choice[1];
};

const badStrategy: Mutation = (ro, { rand }) => {
  const canary = ((ro.spec as Json | undefined)?.strategy as Json | undefined)?.canary;
  const choices: [Path, unknown, string][] = [
    [['spec', 'strategy', 'blueGreen'], { activeService: 'a' }, 'both canary and blueGreen'],
    [['spec', 'strategy'], {}, 'no strategy at all'],
    [['spec', 'strategy'], { blueGreen: { activeService: 'a', previewService: 'a' } }, 'blueGreen with previewService = activeService'],
    [[...CANARY, 'maxUnavailable'], 0, 'maxSurge 0 and maxUnavailable 0'],
    [[...CANARY, 'maxSurge'], rand.pick(['abc', '150 %', '-5%', '']), 'bad maxSurge'],
    [[...CANARY, 'analysis'], { templates: [{ templateName: 'x' }], startingStep: 99 }, 'background analysis startingStep past the steps'],
    [[...CANARY, 'trafficRouting'], {}, 'trafficRouting with no router'],
    [[...CANARY, 'trafficRouting'], { istio: { virtualService: { name: 'a' }, virtualServices: [{ name: 'b' }] } }, 'istio with both virtualService and virtualServices'],
    [[...CANARY, 'trafficRouting'], { maxTrafficWeight: 0, smi: {} }, 'maxTrafficWeight 0'],
    [['spec', 'restartAt'], rand.pick(['yesterday', '2025-13-45T99:00:00Z', 12345]), 'bad restartAt'],
    [['spec', 'workloadRef'], { kind: 'Deployment', name: 'web' }, 'workloadRef and template both set'],
  ];
  const [path, value, what] = rand.pick(choices);
  if (what === 'maxSurge 0 and maxUnavailable 0' && canary && typeof canary === 'object') (canary as Json).maxSurge = 0;
  setAt(ro, path, value);
  return what;
};

const FAMILIES: [string, Mutation][] = [
  ['wrong-type', wrongType],
  ['missing', missingRequired],
  ['negative', negative],
  ['huge', huge],
  ['special-number', special],
  ['bad-duration', badDuration],
  ['odd-step', unknownStep],
  ['deep', deepNesting],
  ['long-string', longString],
  ['invalid-name', invalidName],
  ['null-in-list', nullInList],
  ['bad-regex', badRegex],
  ['bad-analysis', badAnalysis],
  ['bad-selector', badSelector],
  ['bad-strategy', badStrategy],
];
export const FAMILY_NAMES = FAMILIES.map(([name]) => name);

/**
 * `count` cases; case i gets family i mod 15 first (so every family is represented), then up to
 * two more mutations at random.
 */
export function generateMalformed(count: number, seed: number): MalformedCase[] {
  const rand = new Random(seed);
  const cases: MalformedCase[] = [];
  for (let id = 0; id < count; id++) {
    const ro = goodRollout(id);
    const ctx: Ctx = { rand, id, extra: [] };
    const more = rand.chance(0.3) ? (rand.chance(0.33) ? 2 : 1) : 0;
    const families = [FAMILIES[id % FAMILIES.length]!, ...Array.from({ length: more }, () => rand.pick(FAMILIES))];
    const mutations = families.map(([, mutate]) => mutate(ro, ctx));
    const metaName = (ro.metadata as Json | undefined)?.name;
    const name = typeof metaName === 'string' && metaName !== '' ? metaName : `m-${id}`;
    cases.push({ id, name, mutations, objects: [...ctx.extra, ro] as KubeObject[] });
  }
  return cases;
}

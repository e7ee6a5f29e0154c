import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { SpecIssue } from './issues.ts';
import {
  CANARY_STEP_KINDS,
  NOT_YET_IMPLEMENTED,
  ROLLOUT_API_VERSION,
  RolloutSchema,
  notImplementedFields,
  parseDurationMs,
  parseIntOrPercent,
  selectorMatches,
  stepKinds,
  validateRollout,
} from './rollout.ts';

// Argo Rollouts' getting-started canary, with only the apiVersion changed.
const GETTING_STARTED = `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata:
  name: rollouts-demo
spec:
  replicas: 5
  strategy:
    canary:
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 40
      - pause: {duration: 10}
      - setWeight: 60
      - pause: {duration: 10}
      - setWeight: 80
      - pause: {duration: 10}
  revisionHistoryLimit: 2
  selector:
    matchLabels:
      app: rollouts-demo
  template:
    metadata:
      labels:
        app: rollouts-demo
    spec:
      containers:
      - name: rollouts-demo
        image: argoproj/rollouts-demo:blue
        ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        resources:
          requests:
            memory: 32Mi
            cpu: 5m
`;

// An Istio canary with header and mirror routes, as Argo users write it.
const ISTIO_HEADER_ROUTES = `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: shop
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
    matchExpressions:
    - {key: tier, operator: In, values: [frontend]}
  template:
    metadata:
      labels: {app: web, tier: frontend}
      annotations: {prometheus.io/scrape: "true"}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.2.3
      - name: proxy
        image: registry.example.com/proxy:2
  minReadySeconds: 5
  progressDeadlineSeconds: 300
  progressDeadlineAbort: true
  restartAt: "2025-01-31T12:00:00Z"
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      maxSurge: "25%"
      maxUnavailable: 0
      dynamicStableScale: true
      canaryMetadata:
        labels: {role: canary}
      stableMetadata:
        labels: {role: stable}
      trafficRouting:
        managedRoutes:
        - name: header-route
        - name: mirror-route
        istio:
          virtualService:
            name: web
            routes: [primary]
          destinationRule:
            name: web
            canarySubsetName: canary
            stableSubsetName: stable
      steps:
      - setCanaryScale: {replicas: 1}
      - setHeaderRoute:
          name: header-route
          match:
          - headerName: x-canary
            headerValue: {exact: "true"}
      - setMirrorRoute:
          name: mirror-route
          percentage: 50
          match:
          - method: {exact: GET}
            path: {prefix: /api}
            headers:
              x-user: {regex: "^beta-.*"}
      - setWeight: 0.5
      - pause: {duration: 5m}
      - setWeight: 20
      - pause: {duration: "1h30m"}
      - setHeaderRoute: {name: header-route}
      - setMirrorRoute: {name: mirror-route}
      - setWeight: 50
      - pause: {}
`;

type Manifest = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function gettingStarted(): Manifest {
  return parse(GETTING_STARTED) as Manifest;
}

function istio(): Manifest {
  return parse(ISTIO_HEADER_ROUTES) as Manifest;
}

function issuesOf(manifest: unknown): SpecIssue[] {
  const result = validateRollout(manifest);
  assert.equal(result.ok, false, 'expected the manifest to be rejected');
  return result.ok ? [] : result.issues;
}

/** The one issue at `path`; its message and fix must mention each keyword (case-insensitive). */
function expectIssue(manifest: unknown, path: string, messageWords: string[], fixWords: string[] = []): SpecIssue {
  const issues = issuesOf(manifest);
  const found = issues.filter((issue) => issue.path === path);
  assert.equal(found.length, 1, `expected one issue at ${path}, got: ${JSON.stringify(issues, null, 2)}`);
  const issue = found[0] as SpecIssue;
  for (const word of messageWords) assert.match(issue.message, new RegExp(escape(word), 'i'), `message ${JSON.stringify(issue.message)} should mention ${word}`);
  for (const word of fixWords) assert.match(issue.fix, new RegExp(escape(word), 'i'), `fix ${JSON.stringify(issue.fix)} should mention ${word}`);
  assert.ok(issue.fix.length > 10, 'every issue carries a concrete fix');
  return issue;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function expectValid(manifest: unknown): SpecIssue[] {
  const result = validateRollout(manifest);
  assert.ok(result.ok, `expected valid, got ${JSON.stringify(result.ok ? [] : result.issues, null, 2)}`);
  return result.ok ? result.notImplemented : [];
}

void describe('valid Argo-style manifests', () => {
  void it('accepts the Argo getting-started canary with only apiVersion changed', () => {
    const manifest = gettingStarted();
    const result = validateRollout(manifest);
    assert.ok(result.ok);
    assert.deepEqual(result.notImplemented, []);
    assert.equal(result.rollout.spec.replicas, 5);
    assert.deepEqual(result.rollout.spec.strategy?.canary?.steps?.[3], { pause: { duration: 10 } });
    // the pod template is kept as written, unknown fields included
    assert.deepEqual(result.rollout.spec.template, manifest.spec.template);
  });

  void it('accepts an Istio canary with managedRoutes, header and mirror routes, all implemented', () => {
    assert.deepEqual(expectValid(istio()), []);
  });

  void it('accepts a pause after the last setWeight', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.canary.steps = [{ setWeight: 50 }, { pause: { duration: '30s' } }, { pause: {} }];
    expectValid(manifest);
  });

  void it('accepts decimal weights 0.01 and 0.5 and rejects 0.001 and 100.5', () => {
    for (const weight of [0, 0.01, 0.5, 0.29, 33.33, 99.99, 100]) {
      const manifest = gettingStarted();
      manifest.spec.strategy.canary.steps[0].setWeight = weight;
      expectValid(manifest);
    }
    const tooFine = gettingStarted();
    tooFine.spec.strategy.canary.steps[0].setWeight = 0.001;
    expectIssue(tooFine, 'spec.strategy.canary.steps[0].setWeight', ['multiple of 0.01', '0.001'], ['0.01']);
    const tooBig = gettingStarted();
    tooBig.spec.strategy.canary.steps[0].setWeight = 100.5;
    expectIssue(tooBig, 'spec.strategy.canary.steps[0].setWeight', ['between 0 and 100', '100.5']);
  });

  void it('fills in the defaults of absent fields (Argo values); written values and context-dependent ones stay as written', () => {
    const manifest = gettingStarted();
    delete manifest.spec.replicas;
    delete manifest.spec.revisionHistoryLimit;
    const result = validateRollout(manifest);
    assert.ok(result.ok);
    const { spec } = result.rollout;
    assert.deepEqual([spec.replicas, spec.revisionHistoryLimit, spec.progressDeadlineSeconds], [1, 10, 600]);
    assert.deepEqual([spec.strategy?.canary?.maxSurge, spec.strategy?.canary?.maxUnavailable, spec.strategy?.canary?.scaleDownDelaySeconds], ['25%', '25%', 30]);
    assert.equal(spec.strategy?.canary?.abortScaleDownDelaySeconds, undefined, 'absent means something of its own with dynamicStableScale');
    manifest.spec.progressDeadlineSeconds = 120;
    manifest.spec.strategy.canary.maxSurge = 0;
    const written = validateRollout(manifest);
    assert.ok(written.ok);
    assert.equal(written.rollout.spec.progressDeadlineSeconds, 120);
    assert.equal(written.rollout.spec.strategy?.canary?.maxSurge, 0);
    const blueGreen = validateRollout({ ...manifest, spec: { ...manifest.spec, strategy: { blueGreen: { activeService: 'web-active' } } } });
    assert.ok(blueGreen.ok, JSON.stringify(blueGreen));
    assert.deepEqual([blueGreen.rollout.spec.strategy?.blueGreen?.scaleDownDelaySeconds, blueGreen.rollout.spec.strategy?.blueGreen?.abortScaleDownDelaySeconds], [30, 30]);
  });

  void it('accepts a status as the controller writes it, with a decimal canary weight', () => {
    const manifest = gettingStarted();
    manifest.status = {
      observedGeneration: '3',
      phase: 'Paused',
      currentStepIndex: 1,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2025-01-31T12:00:00Z' }],
      conditions: [
        {
          type: 'Progressing',
          status: 'True',
          reason: 'ReplicaSetUpdated',
          message: 'updated',
          lastUpdateTime: '2025-01-31T12:00:00Z',
          lastTransitionTime: '2025-01-31T12:00:00Z',
        },
      ],
      canary: { weights: { canary: { weight: 0.5, podTemplateHash: 'abc' }, stable: { weight: 99.5 }, verified: true } },
      HPAReplicas: 5,
      selector: 'app=rollouts-demo',
    };
    const result = validateRollout(manifest);
    assert.ok(result.ok);
    assert.equal(result.rollout.status?.canary?.weights?.canary.weight, 0.5);
  });
});

void describe('type errors name the field', () => {
  void it('setWeight given as a string', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.canary.steps[0].setWeight = 'twenty';
    expectIssue(manifest, 'spec.strategy.canary.steps[0].setWeight', ['setWeight', 'number', 'twenty'], ['without quotes', '20']);
  });

  void it('replicas given as a decimal, paused as a string', () => {
    const manifest = gettingStarted();
    manifest.spec.replicas = 2.5;
    manifest.spec.paused = 'yes';
    expectIssue(manifest, 'spec.replicas', ['whole number', '2.5']);
    expectIssue(manifest, 'spec.paused', ['true or false', '"yes"']);
  });

  void it('maxSurge neither an integer nor a string', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.canary.maxSurge = true;
    expectIssue(manifest, 'spec.strategy.canary.maxSurge', ['whole number or a string'], ['25%']);
  });

  void it('restartAt that is not a timestamp', () => {
    const manifest = gettingStarted();
    manifest.spec.restartAt = 'tomorrow';
    expectIssue(manifest, 'spec.restartAt', ['RFC 3339', 'tomorrow'], ['2025-']);
  });

  void it('template labels that are not strings', () => {
    const manifest = gettingStarted();
    manifest.spec.template.metadata.labels.version = 2;
    expectIssue(manifest, 'spec.template.metadata.labels.version', ['string', '2']);
  });

  void it('containers that are not a list', () => {
    const manifest = gettingStarted();
    manifest.spec.template.spec.containers = { name: 'x' };
    expectIssue(manifest, 'spec.template.spec.containers', ['list']);
  });

  void it('a missing required field', () => {
    const manifest = istio();
    delete manifest.spec.strategy.canary.trafficRouting.istio.destinationRule.stableSubsetName;
    expectIssue(manifest, 'spec.strategy.canary.trafficRouting.istio.destinationRule.stableSubsetName', ['required'], ['add stableSubsetName']);
  });

  void it('an unknown operator and an Argo apiVersion', () => {
    const manifest = istio();
    manifest.apiVersion = 'argoproj.io/v1alpha1';
    manifest.spec.selector.matchExpressions[0].operator = 'Equals';
    expectIssue(manifest, 'apiVersion', ['argoproj.io'], [ROLLOUT_API_VERSION]);
    expectIssue(manifest, 'spec.selector.matchExpressions[0].operator', ['"In"', 'Equals']);
  });

  void it('a document that is not an object', () => {
    const issues = issuesOf('hello');
    assert.equal(issues[0]?.path, '(document)');
  });
});

void describe('semantic rules', () => {
  void it('strategy with neither canary nor blueGreen', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy = {};
    expectIssue(manifest, 'spec.strategy', ['neither canary nor blueGreen'], ['strategy.canary']);
    delete manifest.spec.strategy;
    expectIssue(manifest, 'spec.strategy', ['neither']);
  });

  void it('strategy with both canary and blueGreen', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.blueGreen = { activeService: 'web' };
    expectIssue(manifest, 'spec.strategy', ['both canary and blueGreen'], ['not both']);
  });

  void it('canaryService equal to stableService', () => {
    const manifest = istio();
    manifest.spec.strategy.canary.canaryService = 'web-stable';
    expectIssue(manifest, 'spec.strategy.canary.canaryService', ['stableService', 'web-stable'], ['two Services']);
  });

  void it('a step with no kind, naming the unknown key', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.canary.steps[3] = { setweight: 30 };
    expectIssue(manifest, 'spec.strategy.canary.steps[3]', ['no known action', 'setweight'], ['one of', 'setWeight']);
    manifest.spec.strategy.canary.steps[3] = {};
    expectIssue(manifest, 'spec.strategy.canary.steps[3]', ['empty']);
  });

  void it('a step with two kinds', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.canary.steps[3] = { setWeight: 30, pause: { duration: 10 } };
    expectIssue(manifest, 'spec.strategy.canary.steps[3]', ['setWeight and pause', 'at most one of setWeight, pause, experiment, analysis'], ['split']);
    manifest.spec.strategy.canary.steps[3] = { analysis: { templates: [{ templateName: 'ok' }] }, experiment: { templates: [] } };
    expectIssue(manifest, 'spec.strategy.canary.steps[3]', ['analysis and experiment']);
  });

  // Argo (validation.go, hasMultipleStepsType) only forbids two of setWeight, pause, experiment and
  // analysis in one step: setCanaryScale and header/mirror routes may join any of them or each other.
  void it('a step adding setCanaryScale or routes to its action, as Argo allows', () => {
    const manifest = istio();
    const header = { name: 'header-route', match: [{ headerName: 'x-canary', headerValue: { exact: 'true' } }] };
    manifest.spec.strategy.canary.steps = [
      { setCanaryScale: { replicas: 2 }, setHeaderRoute: header },
      { setWeight: 20, setCanaryScale: { weight: 40 } },
      { pause: { duration: 30 }, setMirrorRoute: { name: 'mirror-route', match: [{ method: { exact: 'GET' } }] } },
      { analysis: { templates: [{ templateName: 'ok' }] }, setCanaryScale: { matchTrafficWeight: true } },
    ];
    expectValid(manifest);
    manifest.spec.strategy.canary.steps.push({ setWeight: 50, setCanaryScale: { replicas: 3 }, analysis: { templates: [{ templateName: 'ok' }] } });
    expectIssue(manifest, 'spec.strategy.canary.steps[4]', ['setWeight and analysis'], ['split']);
  });

  void it('dynamicStableScale needs trafficRouting and no scaleDownDelaySeconds (Argo rules)', () => {
    const basic = gettingStarted();
    basic.spec.strategy.canary.dynamicStableScale = true;
    expectIssue(basic, 'spec.strategy.canary.dynamicStableScale', ['needs trafficRouting'], ['trafficRouting']);
    const routed = istio();
    expectValid(routed);
    routed.spec.strategy.canary.scaleDownDelaySeconds = 30;
    expectIssue(routed, 'spec.strategy.canary.dynamicStableScale', ['scaleDownDelaySeconds'], ['remove scaleDownDelaySeconds']);
    routed.spec.strategy.canary.dynamicStableScale = false;
    expectValid(routed);
  });

  void it('setWeight out of range', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.canary.steps[0].setWeight = 120;
    const issue = expectIssue(manifest, 'spec.strategy.canary.steps[0].setWeight', ['between 0 and 100', 'got 120'], ['20', '0.5']);
    assert.equal(issue.message, 'setWeight must be between 0 and 100, got 120');
    manifest.spec.strategy.canary.steps[0].setWeight = -1;
    expectIssue(manifest, 'spec.strategy.canary.steps[0].setWeight', ['got -1']);
  });

  void it('setWeight relative to maxTrafficWeight', () => {
    const manifest = istio();
    manifest.spec.strategy.canary.trafficRouting.maxTrafficWeight = 1000;
    manifest.spec.strategy.canary.steps[5].setWeight = 250; // 25%
    expectValid(manifest);
    manifest.spec.strategy.canary.steps[5].setWeight = 1200;
    expectIssue(manifest, 'spec.strategy.canary.steps[5].setWeight', ['maxTrafficWeight', '1000', '1200'], ['maxTrafficWeight']);
    manifest.spec.strategy.canary.steps[5].setWeight = 2.005;
    expectIssue(manifest, 'spec.strategy.canary.steps[5].setWeight', ['multiple of 0.01']);
    manifest.spec.strategy.canary.trafficRouting.maxTrafficWeight = 10;
    manifest.spec.strategy.canary.steps[5].setWeight = 10;
    expectIssue(manifest, 'spec.strategy.canary.steps[9].setWeight', ['between 0 and', '(10)', 'got 50']);
  });

  void it('pause durations that do not parse', () => {
    for (const duration of ['10 minutes', '5d', '-5', 'm', '', -10]) {
      const manifest = gettingStarted();
      manifest.spec.strategy.canary.steps[3].pause.duration = duration;
      expectIssue(manifest, 'spec.strategy.canary.steps[3].pause.duration', ['pause duration', '"30s"'], ['"5m"']);
    }
    const fractional = gettingStarted();
    fractional.spec.strategy.canary.steps[3].pause.duration = 1.5;
    expectIssue(fractional, 'spec.strategy.canary.steps[3].pause.duration', ['whole number', '1.5'], ['"30s"']);
  });

  void it('selector missing', () => {
    const manifest = gettingStarted();
    delete manifest.spec.selector;
    expectIssue(manifest, 'spec.selector', ['missing'], ['matchLabels']);
  });

  void it('selector not matching the template labels', () => {
    const manifest = gettingStarted();
    manifest.spec.selector.matchLabels.app = 'other';
    expectIssue(manifest, 'spec.selector', ['does not match', 'app: other', 'app: rollouts-demo'], ['template.metadata.labels']);
    manifest.spec.selector.matchLabels = { app: 'rollouts-demo', tier: 'web' };
    expectIssue(manifest, 'spec.selector', ['no label tier']);
    const expressions = istio();
    expressions.spec.selector.matchExpressions[0].values = ['backend'];
    expectIssue(expressions, 'spec.selector', ['matchExpressions[0]', 'tier']);
  });

  void it('selector with neither matchLabels nor matchExpressions', () => {
    const manifest = gettingStarted();
    manifest.spec.selector = { matchLabels: {} };
    expectIssue(manifest, 'spec.selector', ['empty', 'every pod'], ['matchLabels']);
  });

  void it('replicas negative', () => {
    const manifest = gettingStarted();
    manifest.spec.replicas = -1;
    expectIssue(manifest, 'spec.replicas', ['0 or more', 'got -1']);
  });

  void it('progressDeadlineSeconds not above minReadySeconds', () => {
    const manifest = gettingStarted();
    manifest.spec.minReadySeconds = 30;
    manifest.spec.progressDeadlineSeconds = 30;
    expectIssue(manifest, 'spec.progressDeadlineSeconds', ['greater than minReadySeconds', '30'], ['above 30']);
    delete manifest.spec.progressDeadlineSeconds;
    manifest.spec.minReadySeconds = 900;
    expectIssue(manifest, 'spec.progressDeadlineSeconds', ['600', 'default']);
  });

  void it('maxSurge and maxUnavailable both 0, and percentages over 100%', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.canary.maxSurge = 0;
    manifest.spec.strategy.canary.maxUnavailable = '0%';
    expectIssue(manifest, 'spec.strategy.canary.maxSurge', ['both 0'], ['maxSurge: 1']);
    manifest.spec.strategy.canary.maxSurge = '150%';
    manifest.spec.strategy.canary.maxUnavailable = 'half';
    expectIssue(manifest, 'spec.strategy.canary.maxSurge', ['at most 100%', '150%']);
    expectIssue(manifest, 'spec.strategy.canary.maxUnavailable', ['percentage', 'half'], ['"25%"']);
    manifest.spec.strategy.canary.maxUnavailable = -1;
    expectIssue(manifest, 'spec.strategy.canary.maxUnavailable', ['got -1']);
  });

  void it('template with no containers, a container without name or image, duplicate names', () => {
    const empty = gettingStarted();
    empty.spec.template.spec.containers = [];
    expectIssue(empty, 'spec.template.spec.containers', ['no containers'], ['name and image']);
    const nameless = gettingStarted();
    nameless.spec.template.spec.containers.push({ image: 'x:1' }, { name: 'side' }, { name: 'rollouts-demo', image: 'y:1' });
    expectIssue(nameless, 'spec.template.spec.containers[1].name', ['no name']);
    expectIssue(nameless, 'spec.template.spec.containers[2].image', ['"side"', 'no image'], ['image:']);
    expectIssue(nameless, 'spec.template.spec.containers[3].name', ['"rollouts-demo"', 'containers[0]'], ['unique']);
  });

  void it('trafficRouting without canaryService or stableService', () => {
    const manifest = istio();
    delete manifest.spec.strategy.canary.canaryService;
    delete manifest.spec.strategy.canary.stableService;
    assert.deepEqual(expectValid(manifest), [], 'Istio subset-level splitting needs no Services, as in Argo');
    delete manifest.spec.strategy.canary.trafficRouting.istio.destinationRule;
    expectIssue(manifest, 'spec.strategy.canary.canaryService', ['trafficRouting', 'canaryService is missing'], ['Service']);
    expectIssue(manifest, 'spec.strategy.canary.stableService', ['stableService is missing']);
  });

  void it('header and mirror routes not listed in managedRoutes', () => {
    const manifest = istio();
    manifest.spec.strategy.canary.trafficRouting.managedRoutes = [{ name: 'mirror-route' }];
    expectIssue(manifest, 'spec.strategy.canary.steps[1].setHeaderRoute.name', ['header-route', 'managedRoutes'], ['- name: header-route']);
    expectIssue(manifest, 'spec.strategy.canary.steps[7].setHeaderRoute.name', ['header-route']);
    manifest.spec.strategy.canary.trafficRouting.managedRoutes = [{ name: 'header-route' }];
    expectIssue(manifest, 'spec.strategy.canary.steps[2].setMirrorRoute.name', ['mirror-route', 'managedRoutes']);
  });

  void it('header routes without trafficRouting at all', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.canary.steps.push({ setHeaderRoute: { name: 'h' } });
    expectIssue(manifest, 'spec.strategy.canary.steps[8].setHeaderRoute', ['needs trafficRouting']);
  });

  void it('managedRoutes names listed twice', () => {
    const manifest = istio();
    manifest.spec.strategy.canary.trafficRouting.managedRoutes.push({ name: 'header-route' });
    expectIssue(manifest, 'spec.strategy.canary.trafficRouting.managedRoutes[2].name', ['header-route', 'twice'], ['unique']);
  });

  void it('header and mirror matches with no or several match kinds', () => {
    const manifest = istio();
    manifest.spec.strategy.canary.steps[1].setHeaderRoute.match[0].headerValue = {};
    manifest.spec.strategy.canary.steps[2].setMirrorRoute.match[0].path = { exact: '/a', prefix: '/b' };
    manifest.spec.strategy.canary.steps[2].setMirrorRoute.percentage = 150;
    expectIssue(manifest, 'spec.strategy.canary.steps[1].setHeaderRoute.match[0].headerValue', ['none of exact, prefix or regex']);
    expectIssue(manifest, 'spec.strategy.canary.steps[2].setMirrorRoute.match[0].path', ['exact and prefix']);
    expectIssue(manifest, 'spec.strategy.canary.steps[2].setMirrorRoute.percentage', ['between 0 and 100', '150']);
  });

  void it('setCanaryScale with both weight and replicas, or a weight out of range', () => {
    const manifest = istio();
    manifest.spec.strategy.canary.steps[0].setCanaryScale = { weight: 20, replicas: 2 };
    expectIssue(manifest, 'spec.strategy.canary.steps[0].setCanaryScale', ['weight and replicas'], ['keep one']);
    manifest.spec.strategy.canary.steps[0].setCanaryScale = { weight: 150 };
    expectIssue(manifest, 'spec.strategy.canary.steps[0].setCanaryScale.weight', ['between 0 and 100', '150']);
    manifest.spec.strategy.canary.steps[0].setCanaryScale = {};
    expectIssue(manifest, 'spec.strategy.canary.steps[0].setCanaryScale', ['none of weight, replicas or matchTrafficWeight']);
  });

  void it('setCanaryScale without trafficRouting', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.canary.steps.unshift({ setCanaryScale: { replicas: 1 } });
    expectIssue(manifest, 'spec.strategy.canary.steps[0].setCanaryScale', ['needs trafficRouting']);
  });

  void it('background analysis startingStep out of range', () => {
    const manifest = gettingStarted();
    manifest.spec.strategy.canary.analysis = { templates: [{ templateName: 'success-rate' }], startingStep: 8 };
    expectIssue(manifest, 'spec.strategy.canary.analysis.startingStep', ['0 to 7', '8 steps', 'got 8']);
    manifest.spec.strategy.canary.analysis.startingStep = 7;
    expectValid(manifest);
  });

  void it('workloadRef and template both set, or neither', () => {
    const both = gettingStarted();
    both.spec.workloadRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
    expectIssue(both, 'spec.workloadRef', ['both set'], ['remove']);
    const neither = gettingStarted();
    delete neither.spec.template;
    expectIssue(neither, 'spec.template', ['no pod template'], ['workloadRef']);
    const ref = gettingStarted();
    delete ref.spec.template;
    ref.spec.workloadRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
    assert.deepEqual(expectValid(ref), [], 'workloadRef is implemented');
    delete ref.spec.selector;
    assert.deepEqual(expectValid(ref), [], 'with workloadRef the selector may come from the Deployment');
    ref.spec.workloadRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: '', scaleDown: 'sometimes' };
    expectIssue(ref, 'spec.workloadRef.kind', ['must be Deployment, got "StatefulSet"'], ['kind: Deployment']);
    expectIssue(ref, 'spec.workloadRef.name', ['name is missing']);
    expectIssue(ref, 'spec.workloadRef.scaleDown', ['never, onsuccess, progressively']);
  });

  void it('istio and nginx routers name what they route', () => {
    const manifest = istio();
    manifest.spec.strategy.canary.trafficRouting.istio.virtualServices = [{ name: 'other' }];
    expectIssue(manifest, 'spec.strategy.canary.trafficRouting.istio', ['both virtualService and virtualServices']);
    const nginx = istio();
    nginx.spec.strategy.canary.trafficRouting = { nginx: {}, managedRoutes: [{ name: 'header-route' }, { name: 'mirror-route' }] };
    expectIssue(nginx, 'spec.strategy.canary.trafficRouting.nginx', ['no stable Ingress'], ['stableIngress']);
  });

  void it('gatewayAPI routes', () => {
    const manifest = istio();
    manifest.spec.strategy.canary.trafficRouting = {
      gatewayAPI: { httpRoutes: [{ name: 'web', rules: ['primary'] }, { name: 'web', namespace: 'edge' }], verify: { timeoutSeconds: 30, mode: 'wait' } },
      managedRoutes: [{ name: 'header-route' }, { name: 'mirror-route' }],
    };
    expectValid(manifest);
    manifest.spec.strategy.canary.trafficRouting.gatewayAPI.httpRoutes.push({ name: 'web' });
    manifest.spec.strategy.canary.trafficRouting.gatewayAPI.verify.mode = 'always';
    expectIssue(manifest, 'spec.strategy.canary.trafficRouting.gatewayAPI.verify.mode', ['"wait"', '"off"', 'always']);
    manifest.spec.strategy.canary.trafficRouting.gatewayAPI.verify.mode = 'off';
    expectIssue(manifest, 'spec.strategy.canary.trafficRouting.gatewayAPI.httpRoutes[2].name', ['twice']);
  });

  void it('reports every semantic issue at once', () => {
    const manifest = gettingStarted();
    manifest.spec.replicas = -3;
    manifest.spec.strategy.canary.steps[0].setWeight = 120;
    manifest.spec.strategy.canary.steps[1] = { pause: {}, setWeight: 1 };
    const paths = issuesOf(manifest).map((issue) => issue.path);
    assert.deepEqual(paths.sort(), ['spec.replicas', 'spec.strategy.canary.steps[0].setWeight', 'spec.strategy.canary.steps[1]']);
  });
});

void describe('not implemented yet', () => {
  void it('blueGreen is implemented: an Argo blue-green spec is valid with nothing left out', () => {
    const manifest = gettingStarted();
    delete manifest.spec.strategy.canary;
    manifest.spec.strategy.blueGreen = { activeService: 'web-active', previewService: 'web-preview', autoPromotionEnabled: false, previewReplicaCount: 1, scaleDownDelaySeconds: 5 };
    const notImplemented = expectValid(manifest);
    assert.deepEqual(notImplemented, []);
  });

  void it('lists step kinds and routers by path; analysis and experiment steps and background analysis are implemented', () => {
    const manifest = istio();
    const spec = manifest.spec;
    spec.strategy.canary.steps.push({ analysis: { templates: [{ templateName: 'ok' }] } }, { experiment: { templates: [] } }, { plugin: { name: 'x' } });
    spec.strategy.canary.analysis = { templates: [{ templateName: 'bg' }] };
    spec.rollbackWindow = { revisions: 2 };
    const result = RolloutSchema.parse(manifest);
    const paths = notImplementedFields(result.spec).map((issue) => issue.path);
    assert.ok(!paths.includes('spec.strategy.canary.steps[11].analysis'));
    assert.ok(!paths.includes('spec.strategy.canary.analysis'));
    assert.ok(!paths.includes('spec.strategy.canary.trafficRouting.istio'), 'the Istio router is implemented');
    assert.ok(!paths.includes('spec.rollbackWindow'), 'rollbackWindow is implemented');
    assert.ok(!paths.includes('spec.strategy.canary.steps[12].experiment'), 'experiment steps are implemented');
    for (const path of ['spec.strategy.canary.steps[13].plugin']) {
      assert.ok(paths.includes(path), `${path} missing from ${paths.join(', ')}`);
    }
  });

  void it('is one list with a fix for each entry', () => {
    assert.ok(NOT_YET_IMPLEMENTED.length > 0);
    for (const entry of NOT_YET_IMPLEMENTED) assert.ok(entry.fix.length > 0, entry.feature);
  });
});

void describe('helpers', () => {
  void it('parseDurationMs', () => {
    assert.equal(parseDurationMs(10), 10_000);
    assert.equal(parseDurationMs(0), 0);
    assert.equal(parseDurationMs('30'), 30_000);
    assert.equal(parseDurationMs('10s'), 10_000);
    assert.equal(parseDurationMs('5m'), 300_000);
    assert.equal(parseDurationMs('1h'), 3_600_000);
    assert.equal(parseDurationMs('1h30m'), 5_400_000);
    assert.equal(parseDurationMs('1.5h'), 5_400_000);
    assert.equal(parseDurationMs('250ms'), 250);
    for (const bad of [-1, 1.5, '', 'abc', '10 s', '5d', '-5s', 'm', '1h-30m']) assert.equal(parseDurationMs(bad), undefined, String(bad));
  });

  void it('parseIntOrPercent', () => {
    assert.deepEqual(parseIntOrPercent(1), { count: 1 });
    assert.deepEqual(parseIntOrPercent('25%'), { percent: 25 });
    assert.equal(parseIntOrPercent('25'), undefined);
    assert.equal(parseIntOrPercent(-1), undefined);
  });

  void it('stepKinds and selectorMatches', () => {
    assert.deepEqual(stepKinds({ setWeight: 5 }), ['setWeight']);
    assert.equal(CANARY_STEP_KINDS.length, 8);
    assert.ok(selectorMatches({ matchLabels: { a: '1' } }, { a: '1', b: '2' }));
    assert.ok(!selectorMatches({ matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }] }, { b: '2' }));
    assert.ok(selectorMatches({ matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['3'] }] }, { b: '2' }));
  });
});

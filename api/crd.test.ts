import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { GENERATED_HEADER, ROLLOUT_CRD_PATH, buildRolloutCrd, renderRolloutCrd, toStructuralSchema } from './crd.ts';
import type { SchemaNode } from './crd.ts';
import { ANALYSIS_CRDS, ANALYSIS_GENERATED_HEADER, buildAnalysisCrd, renderAnalysisCrd } from './analysis.ts';

const committedFile = fileURLToPath(new URL(`../${ROLLOUT_CRD_PATH}`, import.meta.url));

type Node = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every schema node with its path, depth first. */
function* walk(node: Node, path = ''): Generator<[string, Node]> {
  yield [path || '(root)', node];
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) yield* walk(child, `${path}.${name}`);
  if (node.items) yield* walk(node.items as Node, `${path}[]`);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') yield* walk(node.additionalProperties as Node, `${path}.*`);
}

/** The structural-schema rules the API server enforces, as far as a walk can tell. */
function structuralProblems(schema: Node): string[] {
  const problems: string[] = [];
  for (const [path, node] of walk(schema)) {
    for (const key of ['$ref', '$schema', '$defs', 'definitions', 'anyOf', 'oneOf', 'allOf', 'not', 'const', 'title', 'default', 'propertyNames']) {
      if (key in node) problems.push(`${path}: has ${key}`);
    }
    if (node.additionalProperties === false) problems.push(`${path}: additionalProperties: false`);
    if (node.properties && node.type !== 'object') problems.push(`${path}: has properties but type ${String(node.type)}`);
    if (node.properties && node.additionalProperties !== undefined) problems.push(`${path}: properties and additionalProperties together`);
    const intOrString = node['x-kubernetes-int-or-string'] === true;
    const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
    if (node.type === undefined && !intOrString && !preserve) problems.push(`${path}: no type`);
    if (intOrString && node.type !== undefined) problems.push(`${path}: int-or-string with a type`);
    if (node.type === 'array' && !node.items) problems.push(`${path}: array without items`);
    if (node.pattern !== undefined) problems.push(`${path}: pattern (check it is RE2) ${String(node.pattern)}`);
  }
  return problems;
}

function rolloutSchema(): Node {
  const crd = buildRolloutCrd() as Node;
  return crd.spec.versions[0].schema.openAPIV3Schema as Node;
}

void describe('Rollout CRD', () => {
  void it('matches the committed YAML (run `make crds` after changing api/rollout.ts)', () => {
    let committed = '';
    try {
      committed = readFileSync(committedFile, 'utf8');
    } catch {
      assert.fail(`${ROLLOUT_CRD_PATH} is missing: run \`make crds\``);
    }
    assert.ok(
      committed === renderRolloutCrd(),
      `${ROLLOUT_CRD_PATH} is out of date with api/rollout.ts: run \`make crds\` and commit the result`,
    );
  });

  void it('renders the same text every time, with the generated-file header', () => {
    const text = renderRolloutCrd();
    assert.equal(text, renderRolloutCrd());
    assert.ok(text.startsWith(GENERATED_HEADER));
    assert.deepEqual(parse(text), buildRolloutCrd());
  });

  void it('names the resource', () => {
    const crd = buildRolloutCrd() as Node;
    assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.equal(crd.metadata.name, 'rollouts.rollway.dev');
    assert.equal(crd.spec.group, 'rollway.dev');
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.deepEqual(crd.spec.names, { kind: 'Rollout', listKind: 'RolloutList', plural: 'rollouts', singular: 'rollout', shortNames: ['ro'] });
    assert.equal(crd.spec.versions.length, 1);
    const version = crd.spec.versions[0] as Node;
    assert.equal(version.name, 'v1alpha1');
    assert.equal(version.served, true);
    assert.equal(version.storage, true);
  });

  void it('has the status and scale subresources', () => {
    const version = (buildRolloutCrd() as Node).spec.versions[0] as Node;
    assert.deepEqual(version.subresources, {
      status: {},
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.HPAReplicas', labelSelectorPath: '.status.selector' },
    });
  });

  void it('has the printer columns', () => {
    const version = (buildRolloutCrd() as Node).spec.versions[0] as Node;
    const columns = (version.additionalPrinterColumns as Node[]).map((c) => [c.name, c.type, c.jsonPath]);
    assert.deepEqual(columns, [
      ['Desired', 'integer', '.spec.replicas'],
      ['Current', 'integer', '.status.replicas'],
      ['Up-to-date', 'integer', '.status.updatedReplicas'],
      ['Available', 'integer', '.status.availableReplicas'],
      ['Phase', 'string', '.status.phase'],
      ['Step', 'integer', '.status.currentStepIndex'],
      ['Weight', 'number', '.status.canary.weights.canary.weight'],
      ['Age', 'date', '.metadata.creationTimestamp'],
    ]);
  });

  void it('is a structural schema', () => {
    assert.deepEqual(structuralProblems(rolloutSchema()), []);
  });

  void it('keeps metadata, apiVersion and kind to what the API server allows at the root', () => {
    const schema = rolloutSchema();
    assert.equal(schema.type, 'object');
    assert.deepEqual(schema.properties.metadata, { type: 'object' });
    assert.deepEqual(schema.properties.apiVersion, { type: 'string' });
    assert.deepEqual(schema.properties.kind, { type: 'string' });
    assert.deepEqual(schema.required, ['spec']);
  });

  void it('types the fields as Argo does, with decimal weights', () => {
    const spec = rolloutSchema().properties.spec as Node;
    const canary = spec.properties.strategy.properties.canary as Node;
    const step = canary.properties.steps.items as Node;
    assert.equal(step.properties.setWeight.type, 'number');
    assert.deepEqual(step.properties.pause.properties.duration['x-kubernetes-int-or-string'], true);
    assert.equal(canary.properties.maxSurge['x-kubernetes-int-or-string'], true);
    assert.equal(canary.properties.maxUnavailable['x-kubernetes-int-or-string'], true);
    assert.equal(spec.properties.replicas.type, 'integer');
    assert.equal(spec.properties.replicas.format, 'int32');
    assert.equal(spec.properties.restartAt.format, 'date-time');
    assert.equal(spec.properties.template['x-kubernetes-preserve-unknown-fields'], true);
    assert.equal(spec.properties.template.properties.spec.properties.containers.items.properties.image.type, 'string');
    const experiment = step.properties.experiment as Node;
    assert.deepEqual(Object.keys(experiment.properties).sort(), ['analyses', 'duration', 'templates']);
    assert.equal(experiment.properties.duration['x-kubernetes-int-or-string'], true);
    assert.deepEqual((experiment.properties.templates.items as Node).required, ['name', 'specRef']);
    assert.equal(canary.properties.trafficRouting.properties.plugins['x-kubernetes-preserve-unknown-fields'], true);
    assert.ok(canary.properties.trafficRouting.properties.gatewayAPI.properties.httpRoutes);
    const status = rolloutSchema().properties.status as Node;
    assert.equal(status.properties.observedGeneration.type, 'string');
    assert.equal(status.properties.canary.properties.weights.properties.canary.properties.weight.type, 'number');
  });
});

void describe('toStructuralSchema', () => {
  void it('turns unions, nullables, loose objects and free-form values into structural nodes', () => {
    const schema = z.object({
      port: z.union([z.int32(), z.string()]).optional(),
      choice: z.union([z.object({ a: z.string() }), z.object({ a: z.string(), b: z.number() })]),
      mixed: z.union([z.boolean(), z.array(z.string())]).optional(),
      maybe: z.string().nullable().optional(),
      anything: z.unknown(),
      bag: z.record(z.string(), z.unknown()).optional(),
      loose: z.looseObject({ kept: z.boolean() }).optional(),
      strict: z.strictObject({ x: z.int() }).optional(),
      literal: z.literal('only'),
    });
    const out = toStructuralSchema(schema) as Node;
    assert.deepEqual(structuralProblems(out), []);
    const p = out.properties as Record<string, SchemaNode>;
    assert.deepEqual(p.port, { 'x-kubernetes-int-or-string': true });
    assert.deepEqual(p.choice, {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' } },
      required: ['a'],
    });
    assert.deepEqual(p.mixed, { 'x-kubernetes-preserve-unknown-fields': true });
    assert.deepEqual(p.maybe, { type: 'string', nullable: true });
    assert.deepEqual(p.anything, { 'x-kubernetes-preserve-unknown-fields': true });
    assert.deepEqual(p.bag, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    assert.deepEqual(p.loose, { type: 'object', properties: { kept: { type: 'boolean' } }, required: ['kept'], 'x-kubernetes-preserve-unknown-fields': true });
    assert.deepEqual(p.strict, { type: 'object', properties: { x: { type: 'integer', format: 'int64' } }, required: ['x'] });
    assert.deepEqual(p.literal, { type: 'string', enum: ['only'] });
  });

  void it('inlines reused schemas and refuses recursive ones', () => {
    const shared = z.object({ name: z.string() });
    const out = toStructuralSchema(z.object({ a: shared, b: z.array(shared) })) as Node;
    assert.deepEqual(structuralProblems(out), []);
    assert.deepEqual(out.properties.b.items, out.properties.a);
    type Tree = { children?: Tree[] };
    const tree: z.ZodType<Tree> = z.lazy(() => z.object({ children: z.array(tree).optional() }));
    assert.throws(() => toStructuralSchema(tree));
  });
});

void describe('analysis CRDs (AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun)', () => {
  for (const { path, definition } of ANALYSIS_CRDS) {
    void it(`${definition.kind}: matches the committed ${path} (run \`make crds\` after changing api/analysis.ts)`, () => {
      let committed = '';
      try {
        committed = readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8');
      } catch {
        assert.fail(`${path} is missing: run \`make crds\``);
      }
      assert.ok(committed === renderAnalysisCrd(definition), `${path} is out of date with api/analysis.ts: run \`make crds\` and commit the result`);
      assert.ok(committed.startsWith(ANALYSIS_GENERATED_HEADER));
    });

    void it(`${definition.kind}: is a structural schema named as in Argo`, () => {
      const crd = buildAnalysisCrd(definition) as Node;
      assert.equal(crd.metadata.name, `${definition.plural}.rollway.dev`);
      assert.equal(crd.spec.names.kind, definition.kind);
      assert.equal(crd.spec.scope, definition.kind === 'ClusterAnalysisTemplate' ? 'Cluster' : 'Namespaced');
      const schema = crd.spec.versions[0].schema.openAPIV3Schema as Node;
      assert.deepEqual(structuralProblems(schema), []);
      const metric = schema.properties.spec.properties.metrics.items as Node;
      for (const limit of ['count', 'failureLimit', 'inconclusiveLimit', 'consecutiveErrorLimit', 'consecutiveSuccessLimit']) {
        assert.equal(metric.properties[limit]['x-kubernetes-int-or-string'], true, limit);
      }
      assert.equal(metric.properties.interval.type, 'string');
      assert.deepEqual(metric.properties.noData.enum, ['Inconclusive', 'Failed', 'Successful', 'Error']);
      assert.equal(metric.properties.provider['x-kubernetes-preserve-unknown-fields'], true, 'other Argo providers are kept as written');
      assert.equal(metric.properties.provider.properties.prometheus.properties.timeout.format, 'int64');
      assert.equal(metric.properties.provider.properties.web.properties.jsonPath.type, 'string');
      assert.deepEqual(metric.properties.provider.properties.web.required, ['url']);
    });
  }

  void it('AnalysisRun status has the metric results and the run summary', () => {
    const run = ANALYSIS_CRDS.find((c) => c.definition.kind === 'AnalysisRun')!;
    const schema = (buildAnalysisCrd(run.definition) as Node).spec.versions[0].schema.openAPIV3Schema as Node;
    const status = schema.properties.status as Node;
    assert.deepEqual(status.required, ['phase']);
    const result = status.properties.metricResults.items as Node;
    for (const field of ['count', 'successful', 'failed', 'inconclusive', 'error', 'consecutiveError', 'consecutiveSuccess']) {
      assert.equal(result.properties[field].type, 'integer', field);
    }
    assert.equal(result.properties.measurements.items.properties.startedAt.format, 'date-time');
    assert.ok(status.properties.runSummary.properties.successful);
  });
});

void it('the committed CRDs read the same in YAML 1.1 (kubectl) as in YAML 1.2: no bare off/yes/no turning into booleans', () => {
  const dir = new URL('../crds/rollway/', import.meta.url);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    assert.deepEqual(parse(text, { version: '1.1' }), parse(text, { version: '1.2' }), `${file} changes meaning under YAML 1.1`);
  }
});

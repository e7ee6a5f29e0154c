import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnalysisRunSpec, AnalysisTemplateSpec } from '../api/analysis.ts';
import { composeTemplates, mergeArgs, prepareRun, readFieldPath, resolveRolloutArgs, substituteArgs, type TemplateLookup } from './run-spec.ts';

const prom = (query: string) => ({ prometheus: { address: '{{args.address}}', query } });

function lookup(namespaced: Record<string, AnalysisTemplateSpec>, cluster: Record<string, AnalysisTemplateSpec> = {}): TemplateLookup {
  return {
    namespaced: (name) => (namespaced[name] ? { spec: namespaced[name] } : undefined),
    cluster: (name) => (cluster[name] ? { spec: cluster[name] } : undefined),
  };
}

void describe('composing templates', () => {
  const templates = lookup(
    {
      'error-rate': { args: [{ name: 'address' }, { name: 'service' }], metrics: [{ name: 'errors', provider: prom('e') }], noData: 'Failed', dryRun: [{ metricName: 'errors' }] },
      latency: { args: [{ name: 'address', value: 'http://prom' }], metrics: [{ name: 'latency', provider: prom('l') }], measurementRetention: [{ metricName: 'latency', limit: 2 }] },
      both: { templates: [{ templateName: 'error-rate' }, { templateName: 'latency' }] },
      loop: { templates: [{ templateName: 'loop2' }] },
      loop2: { templates: [{ templateName: 'loop' }] },
    },
    { shared: { metrics: [{ name: 'saturation', provider: prom('s') }] } },
  );

  void it('merges metrics, args, dryRun and retention of several templates, nested ones too', () => {
    const composed = composeTemplates([{ templateName: 'both' }, { templateName: 'shared', clusterScope: true }], templates);
    assert.ok(composed.ok);
    assert.deepEqual(composed.spec.metrics.map((m) => [m.name, m.noData]), [['errors', 'Failed'], ['latency', undefined], ['saturation', undefined]]);
    assert.deepEqual(composed.spec.args, [{ name: 'address', value: 'http://prom' }, { name: 'service' }], 'a value wins over none');
    assert.deepEqual(composed.spec.dryRun, [{ metricName: 'errors' }]);
    assert.deepEqual(composed.spec.measurementRetention, [{ metricName: 'latency', limit: 2 }]);
  });

  void it('refuses a missing template, a cycle, a metric defined twice, conflicting arg values', () => {
    assert.deepEqual(composeTemplates([{ templateName: 'nope' }], templates), { ok: false, message: 'AnalysisTemplate "nope" not found' });
    assert.deepEqual(composeTemplates([{ templateName: 'shared' }], templates), { ok: false, message: 'AnalysisTemplate "shared" not found' });
    assert.match(JSON.stringify(composeTemplates([{ templateName: 'loop' }], templates)), /includes itself/);
    assert.match(JSON.stringify(composeTemplates([{ templateName: 'latency' }, { templateName: 'latency' }], templates)), /metric \\"latency\\" is defined twice/);
    const conflict = lookup({ a: { args: [{ name: 'x', value: '1' }] }, b: { args: [{ name: 'x', value: '2' }] } });
    assert.match(JSON.stringify(composeTemplates([{ templateName: 'a' }, { templateName: 'b' }], conflict)), /arg \\"x\\" has different values/);
  });
});

void describe('args from the Rollout', () => {
  const rollout = { metadata: { name: 'shop', labels: { team: 'payments' } }, spec: { template: { spec: { containers: [{ image: 'shop:2' }] } } } };

  void it('podTemplateHashValue Stable/Latest and fieldRef are read from the Rollout', () => {
    const args = resolveRolloutArgs(
      [
        { name: 'plain', value: 'v' },
        { name: 'stable', valueFrom: { podTemplateHashValue: 'Stable' } },
        { name: 'latest', valueFrom: { podTemplateHashValue: 'Latest' } },
        { name: 'team', valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } },
        { name: 'image', valueFrom: { fieldRef: { fieldPath: 'spec.template.spec.containers[0].image' } } },
        { name: 'missing', valueFrom: { fieldRef: { fieldPath: 'metadata.labels.nope' } } },
      ],
      { object: rollout, stableHash: 'aaa', latestHash: 'bbb' },
    );
    assert.deepEqual(args, [
      { name: 'plain', value: 'v' },
      { name: 'stable', value: 'aaa' },
      { name: 'latest', value: 'bbb' },
      { name: 'team', value: 'payments' },
      { name: 'image', value: 'shop:2' },
      { name: 'missing' },
    ]);
    assert.equal(readFieldPath(rollout, 'metadata.name'), 'shop');
  });

  void it('the Rollout overrides template args by name', () => {
    assert.deepEqual(mergeArgs([{ name: 'a' }, { name: 'b', value: '1' }], [{ name: 'a', value: 'x' }, { name: 'c', value: 'y' }]), [
      { name: 'a', value: 'x' },
      { name: 'b', value: '1' },
      { name: 'c', value: 'y' },
    ]);
  });

  void it('{{args.NAME}} is replaced in every string, spaces allowed', () => {
    assert.deepEqual(substituteArgs({ q: 'rate{svc="{{args.svc}}"}[{{ args.window }}]', list: ['{{args.svc}}'], n: 3 }, new Map([['svc', 'shop'], ['window', '5m']])), {
      q: 'rate{svc="shop"}[5m]',
      list: ['shop'],
      n: 3,
    });
  });
});

void describe('preparing a run', () => {
  const spec = (metrics: AnalysisRunSpec['metrics'], args: AnalysisRunSpec['args'] = [{ name: 'address', value: 'http://prom' }]): AnalysisRunSpec => ({ metrics, args });
  const values = (s: AnalysisRunSpec): Map<string, string> => new Map((s.args ?? []).filter((a) => a.value !== undefined).map((a) => [a.name, a.value as string]));
  const prepare = (s: AnalysisRunSpec) => prepareRun(s, values(s));

  void it('substitutes args and gives each metric its policy and provider', () => {
    const s = spec([{ name: 'errors', interval: '{{args.every}}', successCondition: 'result[0] < {{args.max}}', provider: prom('errors') }], [
      { name: 'address', value: 'http://prom' },
      { name: 'every', value: '30s' },
      { name: 'max', value: '0.05' },
    ]);
    const prepared = prepare(s);
    assert.ok(prepared.ok, prepared.ok ? '' : prepared.message);
    const [metric] = prepared.metrics;
    assert.equal(metric?.provider, 'prometheus');
    assert.equal(metric?.metric.provider.prometheus?.address, 'http://prom');
    assert.equal(metric?.policy.intervalMs, 30_000);
    assert.equal(metric?.policy.successCondition, 'result[0] < 0.05');
  });

  void it('an unknown provider, none, or two', () => {
    const unknown = prepare(spec([{ name: 'latency', provider: { datadog: { query: 'x' } } as never }]));
    assert.deepEqual(unknown, { ok: false, message: 'metric "latency": provider datadog is not supported (supported: prometheus, web, job)' });
    assert.match(JSON.stringify(prepare(spec([{ name: 'm', provider: {} }]))), /metric \\"m\\" has no provider: set one of prometheus, web, job/);
    assert.match(JSON.stringify(prepare(spec([{ name: 'm', provider: { ...prom('x'), web: { url: 'http://x' } } }]))), /sets several providers \(prometheus, web\)/);
  });

  void it('a malformed condition, with the column', () => {
    const bad = prepare(spec([{ name: 'errors', successCondition: 'result[0] <', provider: prom('e') }]));
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.message, /metric "errors": successCondition malformed expression "result\[0\] <" at column 12: expected a value/);
  });

  void it('a missing arg, an undeclared one, a Secret that could not be read', () => {
    const missing = prepare(spec([{ name: 'errors', provider: prom('e{svc="{{args.service}}"}') }], [{ name: 'address', value: 'http://prom' }, { name: 'service' }]));
    assert.deepEqual(missing, { ok: false, message: 'arg "service" has no value: pass it in the Rollout (analysis.args) or give it a value in the template' });
    const undeclared = prepare(spec([{ name: 'errors', provider: prom('e{svc="{{args.svc}}"}') }]));
    assert.deepEqual(undeclared, { ok: false, message: 'metric "errors" uses {{args.svc}} but no arg "svc" is declared' });
    const secret = prepare(spec([{ name: 'errors', provider: prom('e') }], [{ name: 'address', value: 'http://prom' }, { name: 'token', valueFrom: { secretKeyRef: { name: 'prom', key: 'token' } } }]));
    assert.match(secret.ok ? '' : secret.message, /arg "token" has no value: the Secret key prom\/token could not be read/);
  });

  // Argo Rollouts (GetDryRunMetrics / GetMeasurementRetentionMetrics) matches each rule with Go's
  // regexp.MatchString: the metricName is searched for anywhere in the name, and a rule that names
  // no metric of the run makes the run Error ("Rule didn't match any metric name(s)").
  void it('dryRun and measurementRetention rules: searched for in the names, as in Argo', () => {
    const metrics = [{ name: 'error-rate', provider: prom('e') }, { name: 'latency-p99', provider: prom('l') }];
    const policies = (rules: Pick<AnalysisRunSpec, 'dryRun' | 'measurementRetention'>) => {
      const prepared = prepare({ ...spec(metrics), ...rules });
      assert.ok(prepared.ok, prepared.ok ? '' : prepared.message);
      return Object.fromEntries(prepared.metrics.map((m) => [m.policy.name, [m.policy.dryRun, m.policy.retention]]));
    };
    assert.deepEqual(policies({ dryRun: [{ metricName: 'error' }] }), { 'error-rate': [true, 10], 'latency-p99': [false, 10] }, '"error" names error-rate');
    assert.deepEqual(policies({ dryRun: [{ metricName: '.*' }], measurementRetention: [{ metricName: '.*', limit: 3 }] }), { 'error-rate': [true, 3], 'latency-p99': [true, 3] }, '".*" names every metric');
    assert.deepEqual(policies({ dryRun: [{ metricName: '^latency-p99$' }, { metricName: 'rate$' }] }), { 'error-rate': [true, 10], 'latency-p99': [true, 10] });
  });

  void it('a rule that names no metric makes the run Error, once, naming the field and the metrics there are', () => {
    const metrics = [{ name: 'error-rate', provider: prom('e') }, { name: 'latency', provider: prom('l') }];
    const pinned = prepare({ ...spec(metrics), dryRun: [{ metricName: '^error$' }] });
    assert.deepEqual(pinned, {
      ok: false,
      message: 'dryRun[0].metricName: "^error$" matches no metric of this run (metrics: error-rate, latency) (fix: metricName is an RE2 regular expression searched for in each metric name: name a metric of this run, e.g. "error-rate", or remove the rule)',
    });
    const retention = prepare({ ...spec(metrics), measurementRetention: [{ metricName: 'latency', limit: 3 }, { metricName: 'saturation', limit: 3 }] });
    assert.match(retention.ok ? '' : retention.message, /^measurementRetention\[1\]\.metricName: "saturation" matches no metric of this run \(metrics: error-rate, latency\)/);
    const argNamed = prepare({ ...spec([{ name: 'errors-{{args.svc}}', provider: prom('e') }], [{ name: 'address', value: 'http://prom' }, { name: 'svc', value: 'shop' }]), dryRun: [{ metricName: '^errors-shop$' }] });
    assert.ok(argNamed.ok, 'rules match the names with their args filled in');
  });

  void it('every problem at once, and bad limits and durations', () => {
    const bad = prepare(spec([
      { name: 'a', interval: 'often', provider: prom('x') },
      { name: 'a', provider: { web: { url: 'http://x', jsonPath: '$..x' } } },
    ]));
    assert.equal(bad.ok, false);
    const message = bad.ok ? '' : bad.message;
    assert.match(message, /metric "a": interval "often" is not a duration/);
    assert.match(message, /metric "a" is defined twice/);
    assert.match(message, /jsonPath "\$\.\.x"/);
    assert.deepEqual(prepare({ metrics: [] }), { ok: false, message: 'the run has no metrics' });
    const auth = prepare(spec([{ name: 'p', provider: { prometheus: { address: 'http://p', query: 'up', authentication: { basicAuth: { username: 'u' } } } } }]));
    assert.match(auth.ok ? '' : auth.message, /metric "p": prometheus.authentication is not supported yet/);
  });
});

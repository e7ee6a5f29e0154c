import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  AnalysisRunSchema,
  AnalysisTemplateSchema,
  ClusterAnalysisTemplateSchema,
  intOrStringValue,
  isCompleted,
  metricNameMatches,
  providerKinds,
} from './analysis.ts';

// Argo Rollouts' success-rate example with a job and a web metric added; only apiVersion changed.
const ARGO_TEMPLATE = `
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
spec:
  args:
  - name: service-name
  - name: api-token
    valueFrom:
      secretKeyRef: {name: token-secret, key: apiToken}
  - name: canary-hash
    valueFrom: {podTemplateHashValue: Latest}
  dryRun:
  - metricName: experimental.*
  measurementRetention:
  - metricName: success-rate
    limit: 20
  metrics:
  - name: success-rate
    interval: 5m
    initialDelay: 30s
    count: "{{args.count}}"
    successCondition: result[0] >= 0.95
    failureLimit: 3
    consecutiveErrorLimit: 2
    provider:
      prometheus:
        address: http://prometheus.example.com:9090
        timeout: 20
        headers: [{key: X-Scope-OrgID, value: tenant-a}]
        query: |
          sum(irate(istio_requests_total{reporter="source",destination_service=~"{{args.service-name}}",response_code!~"5.*"}[5m])) /
          sum(irate(istio_requests_total{reporter="source",destination_service=~"{{args.service-name}}"}[5m]))
  - name: experimental-web
    noData: Failed
    successCondition: result == true
    provider:
      web:
        url: "https://status.example.com/api/{{args.service-name}}"
        method: POST
        headers: [{key: Authorization, value: "Bearer {{args.api-token}}"}]
        jsonBody: {check: deep}
        jsonPath: "{$.data.ok}"
        timeoutSeconds: 5
        insecure: true
  - name: smoke
    provider:
      job:
        metadata: {labels: {team: shop}}
        spec:
          backoffLimit: 1
          template:
            spec:
              restartPolicy: Never
              containers: [{name: smoke, image: curlimages/curl, command: [curl, -f, "http://{{args.service-name}}"]}]
`;

void describe('analysis schemas', () => {
  void it('accept an Argo template with only the apiVersion changed, keeping what they do not model', () => {
    const parsed = AnalysisTemplateSchema.safeParse(parse(ARGO_TEMPLATE));
    assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
    const [rate, web, job] = parsed.data.spec.metrics ?? [];
    assert.equal(rate?.count, '{{args.count}}');
    assert.equal(rate?.provider.prometheus?.timeout, 20);
    assert.equal(web?.noData, 'Failed');
    assert.deepEqual(web?.provider.web?.jsonBody, { check: 'deep' });
    assert.deepEqual((job?.provider.job?.spec.template.spec as { containers: unknown[] }).containers.length, 1, 'the pod spec is kept as written');
    assert.equal(parsed.data.spec.args?.[2]?.valueFrom?.podTemplateHashValue, 'Latest');
  });

  void it('keep other Argo providers as written so the run can name them', () => {
    const parsed = AnalysisTemplateSchema.parse({ apiVersion: 'rollway.dev/v1alpha1', kind: 'AnalysisTemplate', metadata: {}, spec: { metrics: [{ name: 'm', provider: { datadog: { query: 'x' } } }] } });
    assert.deepEqual(providerKinds(parsed.spec.metrics?.[0]?.provider), ['datadog']);
  });

  void it('reject wrong types, an unknown noData and podTemplateHashValue', () => {
    const bad = parse(ARGO_TEMPLATE) as { spec: { metrics: Record<string, unknown>[]; args: Record<string, unknown>[] } };
    bad.spec.metrics[0]!.interval = 5;
    bad.spec.metrics[1]!.noData = 'Ignore';
    bad.spec.args[2] = { name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Newest' } };
    const parsed = AnalysisTemplateSchema.safeParse(bad);
    assert.ok(!parsed.success);
    const paths = parsed.error.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, ['spec.args.2.valueFrom.podTemplateHashValue', 'spec.metrics.0.interval', 'spec.metrics.1.noData']);
  });

  void it('a ClusterAnalysisTemplate has the same spec; an AnalysisRun requires metrics and has a status', () => {
    const cluster = { ...(parse(ARGO_TEMPLATE) as object), kind: 'ClusterAnalysisTemplate' };
    assert.ok(ClusterAnalysisTemplateSchema.safeParse(cluster).success);
    assert.ok(!AnalysisRunSchema.safeParse({ apiVersion: 'rollway.dev/v1alpha1', kind: 'AnalysisRun', metadata: {}, spec: {} }).success);
    const run = AnalysisRunSchema.parse({
      apiVersion: 'rollway.dev/v1alpha1',
      kind: 'AnalysisRun',
      metadata: { name: 'r' },
      spec: { metrics: [{ name: 'm', provider: { web: { url: 'http://x' } } }], terminate: true },
      status: {
        phase: 'Failed',
        message: 'Metric "m" assessed Failed',
        startedAt: '2026-11-26T10:00:00Z',
        runSummary: { count: 1, failed: 1 },
        metricResults: [{ name: 'm', phase: 'Failed', count: 1, failed: 1, measurements: [{ phase: 'Failed', value: 'false', startedAt: '2026-11-26T10:00:00.123Z', finishedAt: '2026-11-26T10:00:01Z' }] }],
      },
    });
    assert.equal(run.status?.metricResults?.[0]?.measurements?.[0]?.value, 'false');
  });
});

void describe('analysis helpers', () => {
  void it('intOrStringValue', () => {
    assert.equal(intOrStringValue(undefined), undefined);
    assert.equal(intOrStringValue(3), 3);
    assert.equal(intOrStringValue(' -1 '), -1);
    assert.ok(Number.isNaN(intOrStringValue('3.5') as number));
    assert.ok(Number.isNaN(intOrStringValue('{{args.count}}') as number));
  });

  // Argo Rollouts matches a rule with Go's regexp.MatchString(metricName, metric.name): the
  // pattern is searched for anywhere in the name (not matched against all of it); ^ and $ pin it.
  void it('metricNameMatches: a regular expression searched for anywhere in the name, as in Argo', () => {
    assert.ok(metricNameMatches('success-rate', 'success-rate'));
    assert.ok(metricNameMatches('.*', 'anything'));
    assert.ok(metricNameMatches('.*', ''), '".*" matches every name');
    assert.ok(metricNameMatches('experimental.*', 'experimental-web'));
    assert.ok(metricNameMatches('error', 'error-rate'), 'a part of the name is enough');
    assert.ok(metricNameMatches('rate', 'success-rate'));
    assert.ok(!metricNameMatches('^error$', 'error-rate'), '^ and $ pin the whole name');
    assert.ok(metricNameMatches('^error$', 'error'));
    assert.ok(!metricNameMatches('^rate', 'success-rate'));
    assert.ok(!metricNameMatches('latency', 'error-rate'));
    assert.ok(metricNameMatches('(?i)ERROR-', 'error-rate'), 'RE2 syntax, as Argo reads it');
    assert.throws(() => metricNameMatches('(', 'x', 'spec.dryRun[0].metricName'), /^RegexError: spec\.dryRun\[0\]\.metricName: "\(" is not a regular expression RE2 accepts: missing closing \)/);
    assert.throws(() => metricNameMatches('(?!x)', 'x', 'spec.dryRun[1].metricName'), /spec\.dryRun\[1\]\.metricName: .*no lookahead/);
  });

  void it('metricNameMatches: catastrophic patterns answer at once', () => {
    const started = performance.now();
    // Pinned to the whole name so the "!" makes them fail: a backtracking engine's slow case.
    for (const pattern of ['^(a+)+$', '^(a|aa)+$', '^(a|a?)+$', '^(.*a){20}$', '^([a-z]+)*$', '^(\\w+\\s?)*$']) {
      assert.equal(metricNameMatches(pattern, `${'a'.repeat(26)}!`), false, pattern);
      assert.equal(metricNameMatches(pattern, 'a'.repeat(2000) + '!'), false, pattern);
      assert.equal(metricNameMatches(pattern.slice(1, -1), 'a'.repeat(2000) + '!'), true, `${pattern} unpinned is found in a part of the name`);
    }
    assert.ok(performance.now() - started < 2000, `took ${Math.round(performance.now() - started)} ms`);
  });

  void it('isCompleted', () => {
    assert.deepEqual(['Pending', 'Running', 'Successful', 'Failed', 'Error', 'Inconclusive', undefined].map(isCompleted), [false, false, true, true, true, true, false]);
  });
});

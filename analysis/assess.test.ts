import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnalysisPhase, Metric, MetricResult } from '../api/analysis.ts';
import { assessMetric, assessRun, emptyResult, evaluateConditions, measurementOf, metricPolicy, nextMeasurementAt, recordMeasurement, type MetricPolicy, type ProviderOutcome } from './assess.ts';

const T0 = Date.parse('2026-11-26T10:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function policyOf(metric: Partial<Metric>, spec: Parameters<typeof metricPolicy>[1] = {}): MetricPolicy {
  const result = metricPolicy({ name: 'm', provider: { prometheus: { query: 'up' } }, ...metric } as Metric, spec);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.policy;
}

/** Feeds measurements of the given phases into a result, one second apart. */
function measure(policy: MetricPolicy, phases: AnalysisPhase[], from: MetricResult = emptyResult(policy)): MetricResult {
  let result = from;
  for (const [i, phase] of phases.entries()) {
    const at = iso(T0 + (result.measurements?.length ?? 0) * 1000 + i);
    result = recordMeasurement(result, { phase, startedAt: at, finishedAt: at, value: String(i) }, policy);
  }
  return result;
}

const phaseAfter = (metric: Partial<Metric>, phases: AnalysisPhase[], terminating = false): string => {
  const policy = policyOf(metric);
  return assessMetric(policy, measure(policy, phases), terminating).phase;
};

void describe('metric policy: defaults and refused values', () => {
  void it('applies Argo defaults', () => {
    const p = policyOf({});
    assert.equal(p.count, 1, 'one measurement without an interval');
    assert.equal(p.intervalMs, undefined);
    assert.equal(p.failureLimit, 0);
    assert.equal(p.inconclusiveLimit, 0);
    assert.equal(p.consecutiveErrorLimit, 4);
    assert.equal(p.consecutiveSuccessLimit, 0);
    assert.equal(p.retention, 10);
    assert.equal(p.noData, 'Inconclusive');
    assert.equal(p.dryRun, false);
    const every = policyOf({ interval: '30s' });
    assert.equal(every.count, undefined, 'with an interval and no count: until terminated');
    assert.equal(every.intervalMs, 30_000);
  });

  void it('reads int-or-string limits, durations, dryRun, retention and noData', () => {
    const p = policyOf(
      { interval: '1m', initialDelay: '5s', count: '3', failureLimit: 2, inconclusiveLimit: '-1', consecutiveErrorLimit: '0', consecutiveSuccessLimit: 2, noData: 'Failed' },
      { dryRun: [{ metricName: 'm.*' }], measurementRetention: [{ metricName: 'm', limit: 3 }], noData: 'Error' },
    );
    assert.deepEqual([p.intervalMs, p.initialDelayMs, p.count, p.failureLimit, p.inconclusiveLimit, p.consecutiveErrorLimit, p.consecutiveSuccessLimit], [60_000, 5000, 3, 2, -1, 0, 2]);
    assert.equal(p.dryRun, true);
    assert.equal(p.retention, 3);
    assert.equal(p.noData, 'Failed', 'the metric overrides the template');
    assert.equal(policyOf({}, { noData: 'Error' }).noData, 'Error', 'the template default applies to every metric');
  });

  void it('refuses values it cannot use, naming the metric and the field', () => {
    const bad = (metric: Partial<Metric>, pattern: RegExp): void => {
      const result = metricPolicy({ name: 'latency', provider: {}, ...metric } as Metric, {});
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.message, pattern);
      assert.match(result.ok ? '' : result.message, /metric "latency"/);
    };
    bad({ interval: 'soon' }, /interval "soon" is not a duration/);
    bad({ initialDelay: '5 minutes' }, /initialDelay/);
    bad({ count: 'three' }, /count must be a whole number/);
    bad({ failureLimit: -2 }, /failureLimit .*at least -1, got -2/);
    bad({ count: 3 }, /count 3 needs an interval/);
  });
});

void describe('measurements from provider outcomes', () => {
  const p = policyOf({ successCondition: 'result[0] < 0.05', interval: '1s' });

  void it('conditions decide the phase (Argo rules)', () => {
    assert.equal(evaluateConditions({ successCondition: undefined, failureCondition: undefined }, 1).phase, 'Successful');
    assert.equal(evaluateConditions({ successCondition: 'result > 1', failureCondition: undefined }, 0).phase, 'Failed');
    assert.equal(evaluateConditions({ successCondition: undefined, failureCondition: 'result > 1' }, 0).phase, 'Successful');
    assert.equal(evaluateConditions({ successCondition: undefined, failureCondition: 'result > 1' }, 2).phase, 'Failed');
    assert.equal(evaluateConditions({ successCondition: 'result > 5', failureCondition: 'result < 1' }, 3).phase, 'Inconclusive');
    assert.equal(evaluateConditions({ successCondition: 'result > 5', failureCondition: 'result > 1' }, 9).phase, 'Failed', 'failure wins');
    const error = evaluateConditions({ successCondition: 'result[0] < 1', failureCondition: undefined }, []);
    assert.equal(error.phase, 'Error');
    assert.match(error.message ?? '', /index 0 is out of range/);
  });

  void it('a value, no data, an error and a provider phase', () => {
    const at = iso(T0);
    const outcome = (o: ProviderOutcome) => measurementOf(p, o, at, at);
    assert.deepEqual(outcome({ kind: 'value', value: [0.01], display: '[0.01]' }), { phase: 'Successful', value: '[0.01]', startedAt: at, finishedAt: at });
    assert.equal(outcome({ kind: 'value', value: [0.5], display: '[0.5]' }).phase, 'Failed');
    const noData = outcome({ kind: 'noData', message: 'the query returned an empty vector' });
    assert.equal(noData.phase, 'Inconclusive');
    assert.match(noData.message ?? '', /no data: the query returned an empty vector \(assessed Inconclusive/);
    assert.equal(measurementOf(policyOf({ noData: 'Failed' }), { kind: 'noData', message: 'x' }, at, at).phase, 'Failed');
    assert.equal(measurementOf(policyOf({ noData: 'Successful' }), { kind: 'noData', message: 'x' }, at, at).phase, 'Successful');
    assert.deepEqual(outcome({ kind: 'error', message: 'connection refused' }), { phase: 'Error', startedAt: at, finishedAt: at, message: 'connection refused' });
    const running = outcome({ kind: 'phase', phase: 'Running', metadata: { 'job-name': 'j' } });
    assert.equal(running.phase, 'Running');
    assert.equal(running.finishedAt, undefined);
  });
});

void describe('counting and retention', () => {
  void it('counts each phase, consecutive errors and successes', () => {
    const p = policyOf({ interval: '1s', consecutiveErrorLimit: -1, failureLimit: -1, inconclusiveLimit: -1 });
    const r = measure(p, ['Successful', 'Successful', 'Error', 'Error', 'Failed', 'Inconclusive', 'Successful']);
    assert.deepEqual([r.count, r.successful, r.failed, r.inconclusive, r.error, r.consecutiveError, r.consecutiveSuccess], [5, 3, 1, 1, 2, 0, 1]);
    const errors = measure(p, ['Successful', 'Error', 'Error']);
    assert.deepEqual([errors.count, errors.consecutiveError, errors.consecutiveSuccess], [1, 2, 0], 'errors do not count towards count');
  });

  void it('an in-flight measurement is replaced by its completion', () => {
    const p = policyOf({});
    const at = iso(T0);
    let r = recordMeasurement(emptyResult(p), { phase: 'Running', startedAt: at }, p);
    assert.equal(r.count, 0);
    assert.equal(assessMetric(p, r, false).phase, 'Running');
    r = recordMeasurement(r, { phase: 'Successful', startedAt: at, finishedAt: iso(T0 + 5000) }, p);
    assert.equal(r.measurements?.length, 1);
    assert.equal(r.count, 1);
    assert.equal(assessMetric(p, r, false).phase, 'Successful');
  });

  void it('keeps only the last measurements (default 10, measurementRetention)', () => {
    const p = policyOf({ interval: '1s' });
    const r = measure(p, Array<AnalysisPhase>(15).fill('Successful'));
    assert.equal(r.measurements?.length, 10);
    assert.equal(r.count, 15, 'counters keep counting');
    const kept = policyOf({ interval: '1s' }, { measurementRetention: [{ metricName: 'm', limit: 2 }] });
    assert.equal(measure(kept, ['Successful', 'Failed', 'Successful']).measurements?.length, 2);
  });
});

void describe('metric phase transitions, one limit at a time', () => {
  void it('Pending before the first measurement, Running while measuring', () => {
    assert.equal(phaseAfter({ interval: '1s', count: 3 }, []), 'Pending');
    assert.equal(phaseAfter({ interval: '1s', count: 3 }, ['Successful']), 'Running');
  });

  void it('count: Successful once count measurements are taken', () => {
    assert.equal(phaseAfter({ interval: '1s', count: 3 }, ['Successful', 'Successful']), 'Running');
    assert.equal(phaseAfter({ interval: '1s', count: 3 }, ['Successful', 'Successful', 'Successful']), 'Successful');
    assert.equal(phaseAfter({}, ['Successful']), 'Successful', 'a single measurement by default');
  });

  void it('failureLimit: Failed when failed > failureLimit (default 0), -1 never', () => {
    assert.equal(phaseAfter({ interval: '1s', count: 5 }, ['Failed']), 'Failed');
    assert.equal(phaseAfter({ interval: '1s', count: 5, failureLimit: 2 }, ['Failed', 'Failed']), 'Running');
    assert.equal(phaseAfter({ interval: '1s', count: 5, failureLimit: 2 }, ['Failed', 'Failed', 'Failed']), 'Failed');
    assert.equal(phaseAfter({ interval: '1s', count: 3, failureLimit: -1 }, ['Failed', 'Failed', 'Failed']), 'Successful');
    const p = policyOf({ interval: '1s', count: 5 });
    assert.equal(assessMetric(p, measure(p, ['Failed']), false).message, 'failed (1) > failureLimit (0)');
  });

  void it('inconclusiveLimit: Inconclusive when inconclusive > inconclusiveLimit', () => {
    assert.equal(phaseAfter({ interval: '1s', count: 5 }, ['Inconclusive']), 'Inconclusive');
    assert.equal(phaseAfter({ interval: '1s', count: 5, inconclusiveLimit: 1 }, ['Inconclusive']), 'Running');
    assert.equal(phaseAfter({ interval: '1s', count: 5, inconclusiveLimit: 1 }, ['Inconclusive', 'Inconclusive']), 'Inconclusive');
  });

  void it('consecutiveErrorLimit: Error after more than 4 errors in a row by default', () => {
    assert.equal(phaseAfter({}, ['Error', 'Error', 'Error', 'Error']), 'Running');
    assert.equal(phaseAfter({}, ['Error', 'Error', 'Error', 'Error', 'Error']), 'Error');
    assert.equal(phaseAfter({}, ['Error', 'Error', 'Error', 'Error', 'Successful']), 'Successful', 'a success resets the run of errors');
    assert.equal(phaseAfter({ interval: '1s', count: 9, consecutiveErrorLimit: 1 }, ['Error', 'Successful', 'Error']), 'Running');
    assert.equal(phaseAfter({ interval: '1s', count: 9, consecutiveErrorLimit: 1 }, ['Error', 'Error']), 'Error');
    assert.equal(phaseAfter({ interval: '1s', count: 9, consecutiveErrorLimit: 0 }, ['Error']), 'Error');
    assert.equal(phaseAfter({ interval: '1s', count: 2, consecutiveErrorLimit: -1 }, Array<AnalysisPhase>(20).fill('Error')), 'Running');
  });

  void it('consecutiveSuccessLimit: Successful early; Inconclusive if count ends without it', () => {
    assert.equal(phaseAfter({ interval: '1s', count: 10, failureLimit: -1, consecutiveSuccessLimit: 2 }, ['Failed', 'Successful', 'Successful']), 'Successful');
    assert.equal(phaseAfter({ interval: '1s', count: 3, failureLimit: -1, consecutiveSuccessLimit: 2 }, ['Successful', 'Failed', 'Successful']), 'Inconclusive');
    assert.equal(phaseAfter({ interval: '1s', failureLimit: 3, consecutiveSuccessLimit: 3 }, ['Successful', 'Successful']), 'Running');
  });

  void it('terminating: running and pending metrics end Successful, decided ones stay', () => {
    assert.equal(phaseAfter({ interval: '1s' }, ['Successful'], true), 'Successful');
    assert.equal(phaseAfter({ interval: '1s' }, [], true), 'Successful');
    assert.equal(phaseAfter({ interval: '1s' }, ['Failed'], true), 'Failed');
  });
});

void describe('run phase from its metrics', () => {
  const a = policyOf({ name: 'a', interval: '1s', count: 2 } as Partial<Metric>);
  const b = policyOf({ name: 'b', interval: '1s' } as Partial<Metric>);

  void it('Pending, then Running, then Successful when every metric is', () => {
    assert.equal(assessRun([a], [], false).phase, 'Pending');
    const one = measure(a, ['Successful']);
    assert.equal(assessRun([a], [one], false).phase, 'Running');
    const done = assessRun([a], [measure(a, ['Successful', 'Successful'])], false);
    assert.equal(done.phase, 'Successful');
    assert.deepEqual(done.runSummary, { count: 1, successful: 1, failed: 0, inconclusive: 0, error: 0 });
  });

  void it('a failing metric terminates the run and names the metric and value', () => {
    const run = assessRun([a, b], [measure(a, ['Failed']), measure(b, ['Successful'])], false);
    assert.equal(run.phase, 'Failed');
    assert.equal(run.decidingMetric, 'a');
    assert.deepEqual(run.metricResults.map((r) => r.phase), ['Failed', 'Successful'], 'the unbounded metric b ends with the run');
    assert.equal(run.message, 'Metric "a" assessed Failed due to failed (1) > failureLimit (0); last value 0');
    assert.deepEqual(run.runSummary, { count: 2, successful: 1, failed: 1, inconclusive: 0, error: 0 });
  });

  void it('the worst outcome wins: Failed > Error > Inconclusive > Successful', () => {
    const c = policyOf({ name: 'c' } as Partial<Metric>);
    const d = policyOf({ name: 'd' } as Partial<Metric>);
    const errors = Array<AnalysisPhase>(5).fill('Error');
    assert.equal(assessRun([c, d], [measure(c, ['Inconclusive']), measure(d, errors)], false).phase, 'Error');
    assert.equal(assessRun([c, d], [measure(c, ['Failed']), measure(d, errors)], false).phase, 'Failed');
    assert.equal(assessRun([c, d], [measure(c, ['Inconclusive']), measure(d, ['Successful'])], false).phase, 'Inconclusive');
  });

  void it('dryRun metrics are reported but never fail the run', () => {
    const dry = policyOf({ name: 'dry' } as Partial<Metric>, { dryRun: [{ metricName: 'dry' }] });
    const ok = policyOf({ name: 'ok' } as Partial<Metric>);
    const run = assessRun([dry, ok], [measure(dry, ['Failed']), measure(ok, ['Successful'])], false);
    assert.equal(run.phase, 'Successful');
    assert.deepEqual(run.dryRunSummary, { count: 1, successful: 0, failed: 1, inconclusive: 0, error: 0 });
    assert.equal(run.metricResults[0]?.dryRun, true);
    assert.match(run.message ?? '', /dry-run metrics did not pass: dry/);
    const waiting = assessRun([dry, b], [measure(dry, ['Failed']), measure(b, ['Successful'])], false);
    assert.equal(waiting.phase, 'Running', 'a failed dry-run metric does not stop the others');
  });

  void it('spec.terminate ends an unbounded run Successful with "Run Terminated"', () => {
    const run = assessRun([b], [measure(b, ['Successful', 'Successful'])], true);
    assert.equal(run.phase, 'Successful');
    assert.equal(run.message, 'Run Terminated');
  });
});

void describe('when to measure next', () => {
  void it('initialDelay, interval, count and completion', () => {
    const p = policyOf({ interval: '30s', count: 2, initialDelay: '10s' });
    assert.equal(nextMeasurementAt(p, undefined, T0), T0 + 10_000);
    const one = measure(p, ['Successful']);
    assert.equal(nextMeasurementAt(p, one, T0), Date.parse(one.measurements![0]!.finishedAt!) + 30_000);
    const two = measure(p, ['Successful'], one);
    assert.equal(nextMeasurementAt(p, two, T0), undefined, 'count reached');
    assert.equal(nextMeasurementAt(p, { ...one, phase: 'Failed' }, T0), undefined, 'completed');
  });

  void it('retries an error after the interval, at most 10 s', () => {
    const slow = policyOf({ interval: '5m' });
    const err = measure(slow, ['Error']);
    assert.equal(nextMeasurementAt(slow, err, T0), Date.parse(err.measurements![0]!.finishedAt!) + 10_000);
    const fast = policyOf({ interval: '1s' });
    const err2 = measure(fast, ['Error']);
    assert.equal(nextMeasurementAt(fast, err2, T0), Date.parse(err2.measurements![0]!.finishedAt!) + 1000);
    const single = policyOf({});
    const err3 = measure(single, ['Error']);
    assert.equal(nextMeasurementAt(single, err3, T0), Date.parse(err3.measurements![0]!.finishedAt!) + 10_000, 'a single measurement is retried too');
  });

  void it('an in-flight measurement waits for its provider or its resumeAt', () => {
    const p = policyOf({});
    const running = recordMeasurement(emptyResult(p), { phase: 'Running', startedAt: iso(T0) }, p);
    assert.equal(nextMeasurementAt(p, running, T0), undefined);
    const resuming = recordMeasurement(emptyResult(p), { phase: 'Running', startedAt: iso(T0), resumeAt: iso(T0 + 7000) }, p);
    assert.equal(nextMeasurementAt(p, resuming, T0), T0 + 7000);
  });
});

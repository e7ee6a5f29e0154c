import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RolloutSchema } from './rollout.ts';
import { undeclaredFields } from './unknown-fields.ts';

const rollout = (steps: unknown[]): unknown => ({
  apiVersion: 'rollway.dev/v1alpha1',
  kind: 'Rollout',
  metadata: { name: 'web', labels: { anything: 'goes' }, annotations: { here: 'too' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', someFutureField: true }] } },
    strategy: { canary: { steps } },
  },
});

void test('a mistyped or extra field inside a step is found, as the API server would refuse it', () => {
  assert.deepEqual(undeclaredFields(rollout([{ setWeight: 10, pauze: {} }, { pause: { duration: '1m', extra: true } }]), RolloutSchema), [
    'spec.strategy.canary.steps[0].pauze',
    'spec.strategy.canary.steps[1].pause.extra',
  ]);
});

void test('declared fields, metadata and the pod template (kept as the API server keeps it) are not reported', () => {
  assert.deepEqual(undeclaredFields(rollout([{ setWeight: 10 }, { pause: { duration: '1m' } }, { setHeaderRoute: { name: 'h', match: [{ headerName: 'x', headerValue: { exact: 'y' } }] } }]), RolloutSchema), []);
});

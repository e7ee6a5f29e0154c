// Validation of antiAffinity, canaryMetadata/stableMetadata, replicaProgressThreshold and
// scaleDownDelayRevisionLimit: each bad value is named by its path with a fix; good ones pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateRollout } from './rollout.ts';

function rollout(canary: Record<string, unknown>, spec: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'web' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } },
      strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }], ...canary } },
      ...spec,
    },
  };
}

function issuePaths(object: unknown): string[] {
  const result = validateRollout(object);
  return result.ok ? [] : result.issues.map((i) => i.path);
}

function issueFor(object: unknown, path: string): { message: string; fix: string } {
  const result = validateRollout(object);
  const issue = result.ok ? undefined : result.issues.find((i) => i.path === path);
  assert.ok(issue, `expected an issue at ${path}, got ${result.ok ? 'none' : result.issues.map((i) => i.path).join(', ')}`);
  return issue;
}

void describe('canary fields that shape pods', () => {
  void it('accepts what Argo accepts, and none of it is reported as not implemented', () => {
    const result = validateRollout(
      rollout(
        {
          canaryMetadata: { labels: { role: 'canary', tier: 'canary' }, annotations: { note: 'x' } },
          stableMetadata: { labels: { role: 'stable' } },
          antiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: { weight: 50 } },
          replicaProgressThreshold: { type: 'Percent', value: 80 },
          scaleDownDelayRevisionLimit: 2,
        },
        { rollbackWindow: { revisions: 3 } },
      ),
    );
    assert.ok(result.ok, result.ok ? '' : result.issues.map((i) => i.message).join('; '));
    assert.deepEqual(result.notImplemented, []);
  });

  void it('antiAffinity names exactly one strategy, with a weight from 1 to 100', () => {
    assert.match(issueFor(rollout({ antiAffinity: {} }), 'spec.strategy.canary.antiAffinity').message, /names no strategy/);
    const both = rollout({ antiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: { weight: 1 }, requiredDuringSchedulingIgnoredDuringExecution: {} } });
    assert.match(issueFor(both, 'spec.strategy.canary.antiAffinity').message, /both/);
    const heavy = rollout({ antiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: { weight: 101 } } });
    assert.match(issueFor(heavy, 'spec.strategy.canary.antiAffinity.preferredDuringSchedulingIgnoredDuringExecution.weight').message, /between 1 and 100, got 101/);
    assert.deepEqual(issuePaths(rollout({ antiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} } })), []);
  });

  void it('ephemeral labels may not move a pod out of its ReplicaSet (selector labels, the hash label)', () => {
    const issue = issueFor(rollout({ canaryMetadata: { labels: { app: 'other' } } }), 'spec.strategy.canary.canaryMetadata.labels.app');
    assert.match(issue.message, /spec\.selector uses/);
    assert.match(issue.fix, /remove app/);
    assert.ok(issuePaths(rollout({ stableMetadata: { labels: { 'rollouts-pod-template-hash': 'x' } } })).includes('spec.strategy.canary.stableMetadata.labels.rollouts-pod-template-hash'));
    assert.deepEqual(issuePaths(rollout({ canaryMetadata: { annotations: { app: 'annotations are free' } } })), []);
  });

  void it('replicaProgressThreshold: type Percent or Pod, a value above 0, at most 100 percent', () => {
    assert.match(issueFor(rollout({ replicaProgressThreshold: { type: 'percent', value: 50 } }), 'spec.strategy.canary.replicaProgressThreshold.type').message, /Percent or Pod, got "percent"/);
    assert.ok(issuePaths(rollout({ replicaProgressThreshold: { type: 'Pod', value: 0 } })).includes('spec.strategy.canary.replicaProgressThreshold.value'));
    assert.ok(issuePaths(rollout({ replicaProgressThreshold: { type: 'Percent', value: 120 } })).includes('spec.strategy.canary.replicaProgressThreshold.value'));
    assert.deepEqual(issuePaths(rollout({ replicaProgressThreshold: { type: 'Pod', value: 7 } })), []);
  });

  void it('scaleDownDelayRevisionLimit may not exceed revisionHistoryLimit (default 10), as in Argo', () => {
    assert.deepEqual(issuePaths(rollout({ scaleDownDelayRevisionLimit: 10 })), []);
    const issue = issueFor(rollout({ scaleDownDelayRevisionLimit: 11 }), 'spec.strategy.canary.scaleDownDelayRevisionLimit');
    assert.match(issue.message, /larger than revisionHistoryLimit \(10, the default\)/);
    assert.ok(issuePaths(rollout({ scaleDownDelayRevisionLimit: 3 }, { revisionHistoryLimit: 2 })).includes('spec.strategy.canary.scaleDownDelayRevisionLimit'));
  });
});

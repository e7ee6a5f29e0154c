import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './config.ts';
import { evaluateSubscriptions, NOTIFIED_ANNOTATION, parseSubscriptions, type RolloutLike } from './triggers.ts';

const { config } = parseConfig({ 'service.slack': 'token: t', 'service.webhook.audit': 'url: http://127.0.0.1:9' });
const at = new Date('2026-01-01T00:00:00Z');

function rollout(status: Record<string, unknown>, annotations: Record<string, string>): RolloutLike {
  return { metadata: { name: 'web', namespace: 'shop', annotations }, spec: {}, status };
}

/** Applies an evaluation's record to the Rollout, as the notifier's claim does, then marks all sent. */
function step(ro: RolloutLike, status: Record<string, unknown>): string[] {
  const next = { ...ro, status };
  const result = evaluateSubscriptions(next, config, at);
  for (const e of Object.values(result.record)) e.state = 'sent';
  ro.status = status;
  ro.metadata.annotations = { ...ro.metadata.annotations, [NOTIFIED_ANNOTATION]: JSON.stringify(result.record) };
  return result.due.map((d) => `${d.entry.trigger}>${d.entry.service}:${d.entry.recipient}`);
}

void describe('parseSubscriptions', () => {
  void it('reads both annotation spellings, several recipients, and the default triggers', () => {
    const subs = parseSubscriptions(
      {
        'notifications.rollway.dev/subscribe.on-rollout-paused.slack': '#ops; #dev',
        'notifications.argoproj.io/subscribe.on-rollout-paused.slack': '#ops',
        'notifications.argoproj.io/subscribe.audit': '',
        'other/annotation': 'x',
      },
      ['on-rollout-completed', 'on-rollout-aborted'],
    );
    assert.deepEqual(subs, [
      { trigger: 'on-rollout-paused', service: 'slack', recipient: '#ops' },
      { trigger: 'on-rollout-paused', service: 'slack', recipient: '#dev' },
      { trigger: 'on-rollout-completed', service: 'audit', recipient: '' },
      { trigger: 'on-rollout-aborted', service: 'audit', recipient: '' },
    ]);
  });
});

void describe('built-in triggers over a canary’s life', () => {
  void it('fires updated, paused (once per pause), completed and aborted once each', () => {
    const subs = Object.fromEntries(['on-rollout-updated', 'on-rollout-paused', 'on-rollout-completed', 'on-rollout-aborted'].map((t) => [`notifications.argoproj.io/subscribe.${t}.slack`, '#ops']));
    const ro = rollout({}, subs);
    const seen: string[][] = [];
    seen.push(step(ro, { phase: 'Healthy', currentPodHash: 'a', stableRS: 'a', currentStepIndex: 2 }));
    seen.push(step(ro, { phase: 'Healthy', currentPodHash: 'a', stableRS: 'a', currentStepIndex: 2 })); // nothing new
    seen.push(step(ro, { phase: 'Progressing', currentPodHash: 'b', stableRS: 'a', currentStepIndex: 0 }));
    seen.push(step(ro, { phase: 'Paused', currentPodHash: 'b', stableRS: 'a', currentStepIndex: 1 }));
    seen.push(step(ro, { phase: 'Paused', currentPodHash: 'b', stableRS: 'a', currentStepIndex: 1 })); // still the same pause
    seen.push(step(ro, { phase: 'Progressing', currentPodHash: 'b', stableRS: 'a', currentStepIndex: 2 }));
    seen.push(step(ro, { phase: 'Paused', currentPodHash: 'b', stableRS: 'a', currentStepIndex: 3 })); // a second pause
    seen.push(step(ro, { phase: 'Healthy', currentPodHash: 'b', stableRS: 'b', currentStepIndex: 4 }));
    seen.push(step(ro, { phase: 'Progressing', currentPodHash: 'c', stableRS: 'b', currentStepIndex: 0 }));
    seen.push(step(ro, { phase: 'Degraded', currentPodHash: 'c', stableRS: 'b', currentStepIndex: 0, abort: true }));
    seen.push(step(ro, { phase: 'Degraded', currentPodHash: 'c', stableRS: 'b', currentStepIndex: 0, abort: true }));
    assert.deepEqual(seen, [
      ['on-rollout-completed>slack:#ops'],
      [],
      ['on-rollout-updated>slack:#ops'],
      ['on-rollout-paused>slack:#ops'],
      [],
      [],
      ['on-rollout-paused>slack:#ops'],
      ['on-rollout-completed>slack:#ops'],
      ['on-rollout-updated>slack:#ops'],
      ['on-rollout-aborted>slack:#ops'],
      [],
    ]);
  });

  void it('fires on a failed analysis, and says which subscriptions name nothing configured', () => {
    const ro = rollout({ phase: 'Degraded', currentPodHash: 'b', stableRS: 'a', currentStepIndex: 1, canary: { currentStepAnalysisRunStatus: { name: 'r', status: 'Failed' } } }, {
      'notifications.rollway.dev/subscribe.on-analysis-run-failed.audit': '',
      'notifications.rollway.dev/subscribe.on-rollout-paused.pagerduty': 'x',
      'notifications.rollway.dev/subscribe.on-nothing.slack': 'x',
    });
    const result = evaluateSubscriptions(ro, config, at);
    assert.deepEqual(result.due.map((d) => d.entry.trigger), ['on-analysis-run-failed']);
    assert.deepEqual(result.problems, ['subscription to service "pagerduty", which is not configured', 'subscription to trigger "on-nothing", which is not configured']);
  });

  void it('keeps a pending claim until it is delivered, even when the condition no longer holds', () => {
    const ro = rollout({ phase: 'Paused', currentPodHash: 'b', stableRS: 'a', currentStepIndex: 1 }, { 'notifications.rollway.dev/subscribe.on-rollout-paused.slack': '#ops' });
    const first = evaluateSubscriptions(ro, config, at);
    ro.metadata.annotations = { ...ro.metadata.annotations, [NOTIFIED_ANNOTATION]: JSON.stringify(first.record) };
    ro.status = { phase: 'Progressing', currentPodHash: 'b', stableRS: 'a', currentStepIndex: 2 };
    const second = evaluateSubscriptions(ro, config, at);
    assert.deepEqual(second.due, []);
    assert.deepEqual(Object.values(second.record).map((e) => e.state), ['pending']);
  });
});

// The triggers and templates every installation has, named as in Argo Rollouts so that existing
// subscriptions keep working. A ConfigMap entry of the same name replaces a built-in one.
// Conditions are read by analysis/expression.ts with `rollout` as the only variable.
import type { TriggerCondition, NotificationTemplate } from './config.ts';

const updating = 'rollout.status.currentPodHash != nil && rollout.status.stableRS != rollout.status.currentPodHash';
const hashAndStep = "rollout.status.currentPodHash + ':' + string(rollout.status?.currentStepIndex ?? 0)";
const analysis = (status: string): string =>
  `rollout.status.canary?.currentStepAnalysisRunStatus?.status == '${status}' || rollout.status.canary?.currentBackgroundAnalysisRunStatus?.status == '${status}'` +
  ` || rollout.status.blueGreen?.prePromotionAnalysisRunStatus?.status == '${status}' || rollout.status.blueGreen?.postPromotionAnalysisRunStatus?.status == '${status}'`;

export const BUILTIN_TRIGGERS: Record<string, TriggerCondition[]> = {
  'on-rollout-updated': [{ when: updating, oncePer: 'rollout.status.currentPodHash', send: ['rollout-updated'] }],
  'on-rollout-step-completed': [{ when: `(rollout.status?.currentStepIndex ?? 0) > 0 && ${updating}`, oncePer: hashAndStep, send: ['rollout-step-completed'] }],
  'on-rollout-paused': [{ when: "rollout.status.phase == 'Paused' && rollout.status?.abort != true", oncePer: hashAndStep, send: ['rollout-paused'] }],
  'on-rollout-completed': [{ when: "rollout.status.phase == 'Healthy' && rollout.status.stableRS == rollout.status.currentPodHash", oncePer: 'rollout.status.currentPodHash', send: ['rollout-completed'] }],
  'on-rollout-aborted': [{ when: 'rollout.status?.abort == true', oncePer: 'rollout.status.currentPodHash', send: ['rollout-aborted'] }],
  'on-analysis-run-running': [{ when: analysis('Running'), oncePer: hashAndStep, send: ['analysis-run-running'] }],
  'on-analysis-run-failed': [{ when: analysis('Failed'), oncePer: hashAndStep, send: ['analysis-run-failed'] }],
  'on-analysis-run-error': [{ when: analysis('Error'), oncePer: hashAndStep, send: ['analysis-run-error'] }],
};

const template = (what: string): NotificationTemplate => ({
  message: `Rollout {{ rollout.metadata.name }} in {{ rollout.metadata.namespace }} ${what} (revision {{ revision }}, step {{ step }}, canary weight {{ weight }}%, images {{ images | join: ', ' }}).{% if analysisMessage != '' %} Analysis: {{ analysisMessage }}{% endif %}`,
  email: { subject: `Rollout {{ rollout.metadata.name }} ${what}` },
});

export const BUILTIN_TEMPLATES: Record<string, NotificationTemplate> = {
  'rollout-updated': template('is being updated'),
  'rollout-step-completed': template('completed a step'),
  'rollout-paused': template('is paused'),
  'rollout-completed': template('completed its update'),
  'rollout-aborted': template('was aborted'),
  'analysis-run-running': template('started an analysis run'),
  'analysis-run-failed': template('failed an analysis run'),
  'analysis-run-error': template('has an analysis run in error'),
};

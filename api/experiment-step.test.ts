import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { SpecIssue } from './issues.ts';
import { notImplementedFields, validateRollout } from './rollout.ts';

// Argo Rollouts' experiment-step example (baseline vs canary with weights), apiVersion changed.
const MANIFEST = `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:2}]}
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      trafficRouting:
        istio: {virtualService: {name: web, routes: [primary]}}
      steps:
      - setWeight: 10
      - experiment:
          duration: 5m
          templates:
          - {name: baseline, specRef: stable, weight: 5}
          - {name: canary, specRef: canary, weight: 5, metadata: {labels: {role: exp}}}
          analyses:
          - name: compare
            templateName: success-rate
            requiredForCompletion: true
            args: [{name: hash, valueFrom: {podTemplateHashValue: Latest}}]
      - setWeight: 50
`;

const manifest = (): { spec: { strategy: { canary: { trafficRouting?: unknown; steps: Record<string, { templates: Record<string, unknown>[]; analyses?: Record<string, unknown>[]; duration?: unknown }>[] } } } } => parse(MANIFEST);
const issuesOf = (m: unknown): SpecIssue[] => {
  const result = validateRollout(m);
  return result.ok ? [] : result.issues;
};

void describe('the canary experiment step (validation)', () => {
  void it("accepts Argo's experiment step and no longer reports it as not implemented", () => {
    const result = validateRollout(manifest());
    assert.ok(result.ok, JSON.stringify(!result.ok && result.issues));
    assert.deepEqual(notImplementedFields(result.rollout.spec).filter((i) => i.path.includes('experiment')), []);
  });

  void it('rejects a specRef other than stable or canary, naming the field', () => {
    const m = manifest();
    m.spec.strategy.canary.steps[1]!.experiment!.templates[0]!.specRef = 'baseline';
    const found = issuesOf(m).find((i) => i.path === 'spec.strategy.canary.steps[1].experiment.templates[0].specRef');
    assert.match(found?.message ?? '', /must be stable or canary, got "baseline"/);
  });

  void it('rejects template weights that add up above 100 with the canary weight', () => {
    const m = manifest();
    m.spec.strategy.canary.steps[1]!.experiment!.templates[0]!.weight = 50;
    m.spec.strategy.canary.steps[1]!.experiment!.templates[1]!.weight = 45;
    const found = issuesOf(m).find((i) => i.path === 'spec.strategy.canary.steps[1].experiment.templates');
    assert.match(found?.message ?? '', /\(95%\) and the canary weight at this step \(10%\) add up to 105%/);
    assert.match(found?.fix ?? '', /90%/);
  });

  void it('rejects a weight without trafficRouting, two templates with one name, a bad duration, an analysis without templateName', () => {
    const m = manifest();
    delete m.spec.strategy.canary.trafficRouting;
    const step = m.spec.strategy.canary.steps[1]!.experiment!;
    step.templates[1]!.name = 'baseline';
    step.duration = 'soon';
    delete step.analyses![0]!.templateName;
    const paths = issuesOf(m).map((i) => i.path);
    for (const path of ['templates[0].weight', 'templates[1].name', 'duration', 'analyses[0].templateName']) {
      assert.ok(paths.includes(`spec.strategy.canary.steps[1].experiment.${path}`), `${path} in ${paths.join(', ')}`);
    }
  });

  void it('NGINX cannot send a share to experiment templates: the error names the router', () => {
    const m = manifest();
    m.spec.strategy.canary.trafficRouting = { nginx: { stableIngress: 'web' } };
    const found = issuesOf(m).find((i) => i.path === 'spec.strategy.canary.steps[1].experiment.templates[0].weight');
    assert.match(found?.message ?? '', /NGINX.*cannot send a share of traffic to an experiment template/i);
    assert.match(found?.fix ?? '', /istio/);
  });
});

// `rollway lint` on blue-green Rollouts: the same problems the controller reports as InvalidSpec
// (no activeService, preview equal to active, a Service missing from the file, a Service whose
// selector the pod labels do not match, an analysis template missing from the file), each at its field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lintText } from './lint.ts';

const rollout = (blueGreen: string): string => `apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
  strategy:
    blueGreen: ${blueGreen}
`;
const service = (name: string, app = 'web'): string => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec: {selector: {app: ${app}}, ports: [{port: 80}]}
`;
const template = (name: string): string => `---
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: ${name}}
spec: {metrics: [{name: ok, provider: {web: {url: "http://checks/ok"}}}]}
`;
const findings = (text: string): string[] => lintText(text).map((f) => `${f.path}: ${f.message} (fix: ${f.fix})`);

void test('a complete blue-green Rollout with its Services and templates lints clean', () => {
  const text = rollout('{activeService: web-active, previewService: web-preview, prePromotionAnalysis: {templates: [{templateName: checks}]}}') + service('web-active') + service('web-preview') + template('checks');
  assert.deepEqual(findings(text), []);
});

void test('no activeService, and previewService equal to activeService, are findings at their field', () => {
  const missing = findings(rollout('{previewService: web-preview}'));
  assert.ok(missing.some((f) => f.startsWith('spec.strategy.blueGreen.activeService')), missing.join('\n'));
  const same = findings(rollout('{activeService: web, previewService: web}'));
  assert.ok(same.some((f) => f.startsWith('spec.strategy.blueGreen.previewService') && /both "web"/.test(f)), same.join('\n'));
});

void test('a Service missing from the file, one that selects other pods, and a missing template are findings naming the fix', () => {
  const text = rollout('{activeService: web-active, previewService: web-preview, postPromotionAnalysis: {templates: [{templateName: gone}]}}') + service('web-active', 'shop') + service('other') + template('checks');
  const out = findings(text);
  assert.ok(out.some((f) => f.startsWith('spec.strategy.blueGreen.activeService') && /selects app=shop/.test(f) && /spec.template.metadata.labels/.test(f)), out.join('\n'));
  assert.ok(out.some((f) => f.startsWith('spec.strategy.blueGreen.previewService') && /"web-preview" is not in the file/.test(f)), out.join('\n'));
  assert.ok(out.some((f) => f.startsWith('spec.strategy.blueGreen.postPromotionAnalysis.templates[0].templateName') && /"gone"/.test(f)), out.join('\n'));
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { EXPERIMENT_CRD_PATH, renderExperimentCrd, validateExperiment } from './experiment.ts';

// Argo Rollouts' Experiment example shape (two templates, an analysis), apiVersion changed.
const MANIFEST = `
apiVersion: rollway.dev/v1alpha1
kind: Experiment
metadata: {name: demo}
spec:
  duration: 5m
  progressDeadlineSeconds: 30
  templates:
  - name: baseline
    selector: {matchLabels: {app: demo, role: baseline}}
    template:
      metadata: {labels: {app: demo, role: baseline}}
      spec: {containers: [{name: web, image: web:1}]}
  - name: canary
    replicas: 2
    service: {}
    selector: {matchLabels: {app: demo, role: canary}}
    template:
      metadata: {labels: {app: demo, role: canary}}
      spec: {containers: [{name: web, image: web:2}]}
  analyses:
  - name: compare
    templateName: http-ok
    requiredForCompletion: true
    args:
    - {name: hash, value: "{{templates.canary.podTemplateHash}}"}
`;

const manifest = (): Record<string, any> => parse(MANIFEST) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const paths = (object: unknown): string[] => {
  const result = validateExperiment(object);
  return result.ok ? [] : result.issues.map((i) => i.path);
};

void describe('Experiment validation', () => {
  void it('accepts an Argo Experiment with only the apiVersion changed', () => {
    const result = validateExperiment(manifest());
    assert.ok(result.ok, JSON.stringify(!result.ok && result.issues));
    assert.equal(result.experiment.spec.templates[1]?.replicas, 2);
  });

  void it('names the field path of a duplicate template, a bad duration and a missing templateName', () => {
    const m = manifest();
    m.spec.templates[1].name = 'baseline';
    m.spec.templates[1].selector.matchLabels.role = 'baseline';
    m.spec.templates[1].template.metadata.labels.role = 'baseline';
    m.spec.duration = 'soon';
    delete m.spec.analyses[0].templateName;
    assert.deepEqual(paths(m), ['spec.templates[1].name', 'spec.duration', 'spec.analyses[0].templateName']);
  });

  void it('refuses a selector that does not select its template, and a missing template', () => {
    const m = manifest();
    m.spec.templates[0].selector.matchLabels.role = 'other';
    delete m.spec.templates[1].template;
    const result = validateExperiment(m);
    assert.ok(!result.ok);
    assert.deepEqual(result.issues.map((i) => i.path), ['spec.templates[1].template']);
    delete m.spec.templates[1];
    m.spec.templates.length = 1;
    assert.deepEqual(paths(m), ['spec.templates[0].selector']);
  });

  void it('says which apiVersion to use for an Argo manifest left unchanged', () => {
    const m = manifest();
    m.apiVersion = 'argoproj.io/v1alpha1';
    const result = validateExperiment(m);
    assert.ok(!result.ok);
    assert.match(result.issues[0]?.fix ?? '', /apiVersion: rollway\.dev\/v1alpha1/);
  });
});

void describe('Experiment CRD', () => {
  void it('is committed as make crds writes it, with the short name exp', () => {
    const committed = readFileSync(fileURLToPath(new URL(`../${EXPERIMENT_CRD_PATH}`, import.meta.url)), 'utf8');
    assert.equal(committed, renderExperimentCrd(), 'run make crds');
    const crd = parse(committed) as { spec: { names: { shortNames: string[] } } };
    assert.deepEqual(crd.spec.names.shortNames, ['exp']);
  });
});

// The startup snapshot the image starts from (tools/build-snapshot.ts), built into a scratch folder
// and run beside the CLI's launcher: it must behave as the launcher does, with what is decided at
// run time (the environment, the arguments, modules from outside the program) decided at run time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundle, snapshot } from './build-snapshot.ts';
import { repoRoot } from './image-files.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rollway-snapshot-'));
let blob = '';
before(async () => {
  await bundle(dir);
  blob = snapshot(dir);
}, { timeout: 120_000 });
after(() => rmSync(dir, { recursive: true, force: true }));

type Run = { status: number | null; stdout: string; stderr: string };
function run(how: 'snapshot' | 'launcher', args: string[], env: Record<string, string> = {}): Run {
  const nodeArgs = how === 'snapshot' ? ['--snapshot-blob', blob] : [path.join(repoRoot, 'cli/rollway.js')];
  const result = spawnSync(process.execPath, [...nodeArgs, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

void describe('the startup snapshot', () => {
  void it('loads a router plugin named in the environment at run time, as the launcher does, and prints no warning', () => {
    const env = { ROLLWAY_ROUTER_PLUGINS: path.join(repoRoot, 'examples/router-plugin/index.ts') };
    const restored = run('snapshot', ['version', '-o', 'json'], env);
    assert.equal(restored.stderr, '');
    assert.equal(restored.status, 0);
    assert.deepEqual(JSON.parse(restored.stdout), JSON.parse(run('launcher', ['version', '-o', 'json'], env).stdout));
    assert.deepEqual(JSON.parse(restored.stdout).routerPlugins.map((p: { name: string }) => p.name), ['example.com/configmap-weights']);
    // Without the variable, none: nothing of the run above was kept in the snapshot.
    assert.deepEqual(JSON.parse(run('snapshot', ['version', '-o', 'json']).stdout).routerPlugins, []);
  });

  void it('reads YAML and checks manifests as the launcher does (lint: findings, output and exit code)', () => {
    const file = path.join(dir, 'rollout.yaml');
    writeFileSync(file, [
      'apiVersion: rollway.dev/v1alpha1',
      'kind: Rollout',
      'metadata: {name: web}',
      'spec:',
      '  selector: {matchLabels: {app: web}}',
      '  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web:1}]}}',
      '  strategy: {canary: {steps: [{setWeight: 150}, {pause: {duration: 1x}}]}}',
      '',
    ].join('\n'));
    const restored = run('snapshot', ['lint', '-f', file]);
    const launched = run('launcher', ['lint', '-f', file]);
    assert.notEqual(restored.status, 0);
    assert.match(restored.stdout + restored.stderr, /setWeight/);
    assert.deepEqual(restored, launched);
  });

  void it('answers bad arguments as the launcher does', () => {
    const restored = run('snapshot', ['promote']);
    assert.equal(restored.status, 2);
    assert.deepEqual(restored, run('launcher', ['promote']));
  });
});

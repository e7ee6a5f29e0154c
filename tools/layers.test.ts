import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLayers, importsOf, LAYERS, repositorySources } from './layers.ts';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

void test('the repository keeps its layers: no upward import, no folder cycle, the controller used through its entry', () => {
  const files = repositorySources(root);
  assert.ok(files.length > 100, 'the scan found the sources');
  assert.deepEqual(checkLayers(files), []);
});

void test('every top-level folder with TypeScript sources has a layer', () => {
  const folders = new Set(repositorySources(root).filter((f) => f.path.includes('/')).map((f) => f.path.split('/')[0]!));
  assert.deepEqual([...folders].filter((f) => !LAYERS.flat().includes(f)), []);
});

void test('imports are found in every form, with their line', () => {
  const text = [
    "import { a } from './a.ts';",
    "import type { B } from '../api/b.ts';",
    'import {',
    '  c,',
    "} from '../kube/c.ts';",
    "export { d } from './d.ts';",
    "const e = await import('../controller/main.ts');",
    "import 'node:fs';",
    "import { z } from 'zod';",
  ].join('\n');
  assert.deepEqual(importsOf(text), [
    { line: 1, specifier: './a.ts' },
    { line: 2, specifier: '../api/b.ts' },
    { line: 5, specifier: '../kube/c.ts' },
    { line: 6, specifier: './d.ts' },
    { line: 7, specifier: '../controller/main.ts' },
  ]);
});

void test('an upward import is reported with file and line', () => {
  const problems = checkLayers([
    { path: 'routers/istio/render.ts', text: "import type { X } from '../../kube/client.ts';\nimport { validateRollout } from '../../api/rollout.ts';\n" },
    { path: 'kube/informer.ts', text: "import { planRollout } from '../controller/planner.ts';\n" },
    { path: 'api/rollout.ts', text: "import { parse } from '../lib/safe-regex.ts';\n" },
  ]);
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0]!, /^routers\/istio\/render\.ts:2 imports '\.\.\/\.\.\/api\/rollout\.ts': routers\/ may not import api\//);
  assert.match(problems[1]!, /^kube\/informer\.ts:1 .* kube\/ may not import controller\//);
});

void test('a cycle between folders of one layer is reported; test files may reach up', () => {
  const problems = checkLayers([
    { path: 'e2e/harness.ts', text: "import { x } from '../bench/x.ts';\n" },
    { path: 'bench/x.ts', text: "\n\nimport { h } from '../e2e/harness.ts';\n" },
    { path: 'analysis/rollout-plan.test.ts', text: "import { planRollout } from '../controller/planner.ts';\n" },
  ]);
  assert.deepEqual(problems, ['folder cycle: bench/ -> e2e/ (bench/x.ts:3), e2e/ -> bench/ (e2e/harness.ts:1)']);
});

void test('code above the controller uses its public entry; harnesses may reach in', () => {
  const problems = checkLayers([
    { path: 'cli/undo.ts', text: "import { planRollout } from '../controller/planner.ts';\nimport { durationMs } from '../controller/index.ts';\n" },
    { path: 'cli/commands.ts', text: "const { runController } = await import('../controller/main.ts');\n" },
    { path: 'bench/controller.bench.ts', text: "import { RolloutController } from '../controller/controller.ts';\n" },
  ]);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /^cli\/undo\.ts:1 .* controller\/ is used from other folders only through controller\/index\.ts/);
});

void test('a folder in no layer is named', () => {
  assert.match(checkLayers([{ path: 'newthing/a.ts', text: '' }])[0]!, /folder newthing\/ is in no layer; add it to LAYERS/);
});

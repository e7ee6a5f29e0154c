import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { committedImageFiles, copySources, dockerfileEnv, ignoreMatchers, imageFiles, importClosure, repoRoot, runtimeAssets } from './image-files.ts';

const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8');

/** What the entrypoint needs that the image lacks. */
function missingFrom(files: string[]): string[] {
  const present = new Set(files);
  return [...importClosure(), ...runtimeAssets()].filter((f) => !present.has(f));
}

void describe('the container image (Dockerfile + .dockerignore)', () => {
  void it('holds every file the entrypoint imports, statically or on demand (dashboard, uninstall...), and the dashboard page', () => {
    assert.deepEqual(missingFrom(committedImageFiles()), []);
  });

  void it('holds nothing test-only: no test files, snapshots, conformance fixtures, or code importing node:test / node:assert', () => {
    const testOnly = committedImageFiles().filter((f) => {
      if (/\.test\.ts$|__snapshots__|(^|\/)fixture\.ts$|routers\/conformance\.ts$/.test(f)) return true;
      if (!f.endsWith('.ts')) return false;
      return /from ['"]node:(test|assert)/.test(readFileSync(path.join(repoRoot, f), 'utf8'));
    });
    assert.deepEqual(testOnly, []);
  });

  void it('would catch a folder left out of the Dockerfile (this check fails on the Dockerfile before analysis/ and dashboard/ were copied)', () => {
    for (const folder of ['analysis', 'dashboard', 'kube']) {
      const without = dockerfile.split('\n').filter((l) => !new RegExp(`^COPY ${folder}\\b`).test(l)).join('\n');
      const missing = missingFrom(imageFiles(without, dockerignore));
      assert.ok(missing.some((f) => f.startsWith(`${folder}/`)), `${folder}/ missing should be reported`);
    }
  });

  void it('would catch shipped code importing testing/ (or any folder the Dockerfile does not copy), directly or through another file', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'rollway-image-files-'));
    const write = (file: string, text: string): void => {
      mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
      writeFileSync(path.join(root, file), text);
    };
    const missing = (): string[] => {
      const present = new Set(imageFiles('COPY cli ./cli\nCOPY routers ./routers\n', '**/*.test.ts\n', root));
      return importClosure(['cli/rollway.js'], root).filter((f) => !present.has(f));
    };
    try {
      write('cli/rollway.js', "import { run } from '../routers/sdk.ts';\n");
      write('routers/helpers.ts', "export const ok = 1;\n");
      write('routers/sdk.test.ts', "import { listenLocal } from '../testing/http-server.ts';\n"); // a test: not shipped, fine
      write('testing/http-server.ts', 'export function listenLocal(): void {}\n');
      write('routers/sdk.ts', "import { ok } from './helpers.ts';\n");
      assert.deepEqual(missing(), []);
      write('routers/helpers.ts', "import { listenLocal } from '../testing/http-server.ts';\nexport const ok = 1;\n");
      assert.deepEqual(missing(), ['testing/http-server.ts']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  void it('reads COPY lines and .dockerignore patterns as a container build does', () => {
    assert.deepEqual(copySources('FROM x\nCOPY package.json package-lock.json ./\nCOPY --chown=1:1 api ./api\nRUN echo COPY nothing'), ['package.json', 'package-lock.json', 'api']);
    assert.deepEqual(copySources('COPY api ./api\nCOPY --from=build /opt/rollway/dist ./'), ['api'], 'a stage\'s output is not a context path');
    assert.throws(() => copySources('COPY api ./lib'), /moves a path/);
    const m = ignoreMatchers('**/*.test.ts\ne2e\n!e2e/keep.ts');
    const ignored = (f: string): boolean => m.reduce((out, { pattern, negate }) => (pattern.test(f) ? !negate : out), false);
    assert.equal(ignored('api/rollout.test.ts'), true);
    assert.equal(ignored('rollout.test.ts'), true);
    assert.equal(ignored('e2e/harness.ts'), true);
    assert.equal(ignored('e2e/keep.ts'), false);
    assert.equal(ignored('api/rollout.ts'), false);
  });
});

void describe('dockerfileEnv', () => {
  void it('answers the ENV lines of the last stage only, as a container of the image starts with them', () => {
    const dockerfile = 'FROM node AS build\nENV BUILD_ONLY=1\nRUN true\n\nFROM node\nENV MALLOC_ARENA_MAX=2\nENV NODE_OPTIONS=--max-semi-space-size=1\nUSER 65532\n';
    assert.deepEqual(dockerfileEnv(dockerfile), { MALLOC_ARENA_MAX: '2', NODE_OPTIONS: '--max-semi-space-size=1' });
  });

  void it('the repository\'s Dockerfile sets the memory settings the bench measured', () => {
    const env = dockerfileEnv(dockerfile);
    assert.equal(env.MALLOC_ARENA_MAX, '2');
    assert.equal(env.MALLOC_MMAP_THRESHOLD_, '32768');
    assert.match(env.NODE_OPTIONS ?? '', /--max-semi-space-size=1\b/);
  });
});

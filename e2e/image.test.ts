// The image the Dockerfile describes, without a container engine: exactly the files its build
// stage's COPY lines and .dockerignore give are assembled into a folder and built by the build
// stage's RUN line (tsc -p tsconfig.build.json, then the bundle); the image folder gets production
// dependencies with npm ci --omit=dev, the build's output and the startup snapshot, made by the last
// stage's RUN lines, and the controller is started from that folder as the ENTRYPOINT starts it,
// against the local control plane. It must reconcile a Rollout. The same assembly without one COPY
// line must fail to build, naming the missing module.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { RolloutObject } from '../controller/controller.ts';
import { dockerfileEnv, imageFiles } from '../tools/image-files.ts';
import { Cluster, kubeconfigPath, repoRoot } from './harness.ts';

const node = path.join(repoRoot, 'node_modules/.bin/node');
const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8');
const work = mkdtempSync(path.join(os.tmpdir(), 'rollway-image-'));

function assemble(dir: string, dockerfileText: string): void {
  for (const file of imageFiles(dockerfileText, dockerignore)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    copyFileSync(path.join(repoRoot, file), path.join(dir, file));
  }
}

/** Shell commands run as the Dockerfile's RUN lines are, with the project's Node first on PATH. */
const withNode = { ...process.env, PATH: `${path.dirname(node)}:${process.env.PATH ?? ''}` };

/** One of the Dockerfile's RUN lines, found by how it starts. */
function runLine(pattern: RegExp, what: string): string {
  const run = pattern.exec(dockerfile)?.[1];
  assert.ok(run, what);
  return run;
}

function npmCi(dir: string): void {
  const run = runLine(/^RUN\s+(npm ci .*)$/m, 'the Dockerfile installs dependencies with npm ci');
  execFileSync('bash', ['-c', run], { cwd: dir, env: withNode, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

/** The last stage's snapshot line, in the image folder. */
function makeSnapshot(dir: string): void {
  const run = runLine(/^RUN\s+(.*--build-snapshot .*)$/m, 'the last stage makes the startup snapshot');
  execFileSync('bash', ['-c', run], { cwd: dir, env: withNode, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

/** Node's arguments of the image's ENTRYPOINT (after `node`). */
const entrypoint = (): string[] => {
  const words = JSON.parse(/^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
  assert.equal(words[0], 'node');
  return words.slice(1);
};

/** The build stage's build line (tsc, the dashboard's page beside the output, the bundle) in an assembled folder. */
function compile(dir: string): ReturnType<typeof spawnSync> {
  const run = runLine(/^RUN\s+(set -e; node_modules\/\.bin\/tsc .*)$/m, 'the build stage compiles with tsc');
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  return spawnSync('bash', ['-c', run], { cwd: dir, env: withNode, encoding: 'utf8', timeout: 300_000 });
}

const source = path.join(work, 'build');
const image = path.join(work, 'image');
before(() => {
  mkdirSync(source);
  assemble(source, dockerfile);
  const built = compile(source);
  assert.equal(built.status, 0, `the build stage failed:\n${String(built.stdout)}${String(built.stderr)}`);
  mkdirSync(image);
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(path.join(repoRoot, file), path.join(image, file));
  npmCi(image);
  cpSync(path.join(source, 'dist'), image, { recursive: true });
  makeSnapshot(image);
}, { timeout: 620_000 });

after(() => rmSync(work, { recursive: true, force: true }));

void test('the assembled image holds no dev dependency and no TypeScript: the compiled program only', () => {
  const listed = spawnSync('bash', ['-c', 'ls node_modules; find . -name "*.ts" -not -path "./node_modules/*"'], { cwd: image, encoding: 'utf8' }).stdout;
  for (const dev of ['typescript', 'eslint', 'playwright-core', 'openapi-typescript']) assert.ok(!listed.split('\n').includes(dev), `${dev} is a dev dependency`);
  assert.ok(listed.includes('yaml') && listed.includes('zod'), 'production dependencies are installed');
  assert.doesNotMatch(listed, /\.ts$/m);
  assert.ok(readFileSync(path.join(image, 'controller/main.js'), 'utf8').length > 0, 'the controller is compiled');
});

void test('the controller started from the image folder reconciles a Rollout on the local control plane', { timeout: 90_000 }, async () => {
  const cluster = new Cluster();
  const ns = await cluster.namespace('image');
  // With the image's ENV (its Node options among them: one Node refuses fails here at once).
  const env = { ...process.env, ...dockerfileEnv(dockerfile) };
  const child = spawn(node, [...entrypoint(), 'controller', '--kubeconfig', kubeconfigPath(), '--namespace', ns.name, '--leader-elect=false', '--metrics-port=0', '--healthz-port=-1'], { cwd: image, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  // A controller that cannot start (a module missing from the image) fails the test at once, with its log.
  const died = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the controller from the image exited (code ${code}):\n${log}`))));
  died.catch(() => {});
  try {
    await cluster.apply(
      {
        apiVersion: 'rollway.dev/v1alpha1',
        kind: 'Rollout',
        metadata: { name: 'from-image' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'from-image' } },
          template: { metadata: { labels: { app: 'from-image' } }, spec: { containers: [{ name: 'app', image: 'example.com/app:1' }] } },
          strategy: { canary: { steps: [{ setWeight: 50 }] } },
        },
      },
      ns.name,
    );
    await Promise.race([died, cluster.waitFor<RolloutObject>({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns.name, name: 'from-image' }, (r) => r?.status?.phase === 'Healthy', { what: 'Rollout Healthy', timeoutMs: 40_000 })]);
    const first = log.split('\n').find((l) => l.startsWith('{'));
    assert.ok(first && JSON.parse(first).msg, 'the image logs JSON by default');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await ns.remove();
    cluster.close();
  }
});

void test('the dashboard, started as the ENTRYPOINT starts the program, serves its page and script from the image folder', { timeout: 30_000 }, async () => {
  const child = spawn(node, [...entrypoint(), 'dashboard', '--port', '0', '--kubeconfig', kubeconfigPath()], { cwd: image, env: { ...process.env, ...dockerfileEnv(dockerfile) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const found = /Rollway dashboard: (\S+)/.exec(out);
        if (found) resolve(found[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the dashboard exited (code ${code}):\n${out}`)));
    });
    const page = await fetch(url);
    assert.equal(page.status, 200, out);
    assert.match(await page.text(), /<title>Rollway/);
    const script = await fetch(new URL('/app.js', url), { headers: { cookie: page.headers.get('set-cookie') ?? '' } });
    assert.equal(script.status, 200);
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  }
});

void test('the modules the CLI loads on demand (the dashboard among them) load from the image folder', () => {
  // The entry point loads commands.js, which loads the rest on demand.
  const entries = ['cli/rollway.js', 'cli/commands.js'].flatMap((file) => [...readFileSync(path.join(image, file), 'utf8').matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g)].map((m) => path.posix.join('cli', m[1]!)));
  assert.ok(entries.some((e) => e.startsWith('dashboard/')), `found ${entries.join(', ')}`);
  for (const entry of entries) execFileSync(node, ['-e', `await import(${JSON.stringify(`./${entry}`)})`, '--input-type=module'], { cwd: image, stdio: ['ignore', 'pipe', 'pipe'] });
});

void test('without the COPY of analysis/ the image does not build, and the compiler names the missing module', () => {
  const broken = path.join(work, 'broken');
  mkdirSync(broken);
  assemble(broken, dockerfile.split('\n').filter((l) => !/^COPY analysis\b/.test(l)).join('\n'));
  const result = compile(broken);
  assert.notEqual(result.status, 0);
  assert.match(String(result.stdout), /Cannot find module .*analysis/);
});

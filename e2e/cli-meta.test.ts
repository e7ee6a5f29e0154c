// The CLI as an installed tool: `kubectl rollway` through kubectl's plugin mechanism, `--help` on
// every command, shell completion in a real bash, and `lint` on files.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { COMMANDS } from '../cli/commands.ts';
import { cli, rolloutYaml } from './cli-helpers.ts';
import { clusterDir, ensureCluster, kubeconfigPath, scenario } from './harness.ts';

const bin = path.join(clusterDir(), 'bin');
const withBin = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };

scenario('kubectl rollway, --help everywhere, completion in bash, lint', async ({ cluster, ns, given, then }) => {
  await given('the local cluster (its setup places the kubectl-rollway launcher beside kubectl) and a Rollout', async () => {
    ensureCluster();
    await cluster.apply(rolloutYaml('web', '      - setWeight: 50'), ns);
    await cluster.apply(rolloutYaml('worker', '      - setWeight: 50'), ns);
  });

  await then('`kubectl rollway version` runs the plugin through kubectl', () => {
    const out = execFileSync(path.join(bin, 'kubectl'), ['rollway', 'version'], { encoding: 'utf8', env: withBin });
    assert.match(out, /^rollway \d+\.\d+\.\d+ \(node 2\d\.\d+\.\d+\)\n$/);
    const plugins = execFileSync(path.join(bin, 'kubectl'), ['plugin', 'list'], { encoding: 'utf8', env: withBin, stdio: ['ignore', 'pipe', 'ignore'] });
    assert.match(plugins, /kubectl-rollway/);
    const listed = execFileSync(path.join(bin, 'kubectl'), ['rollway', '--kubeconfig', kubeconfigPath(), '-n', ns, 'list', 'rollouts', '-o', 'name'], { encoding: 'utf8', env: withBin });
    assert.equal(listed, 'rollout.rollway.dev/web\nrollout.rollway.dev/worker\n');
    assert.deepEqual(JSON.parse(cli('version', '-o', 'json').stdout).version, '0.1.0');
  });

  await then('every command answers --help with its usage and flags, exit 0', () => {
    for (const command of COMMANDS.filter((c) => !c.words[0]!.startsWith('__'))) {
      const r = cli(...command.words, '--help');
      assert.equal(r.code, 0, command.words.join(' '));
      assert.match(r.stdout, new RegExp(`Usage:\\n  rollway ${command.words.join(' ')}`), command.words.join(' '));
      for (const flag of command.flags) assert.match(r.stdout, new RegExp(`--${flag.name}`), `${command.words.join(' ')} --${flag.name}`);
    }
    const top = cli('--help');
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Exit codes: 0 success, 1 error/);
    assert.equal(cli().code, 2, 'no command at all is a usage error');
  });

  await then('bash completion completes commands, flags and the rollout names of the namespace', () => {
    const complete = (...words: string[]): string => {
      const script = `source <(rollway completion bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_rollway_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...withBin, KUBECONFIG: kubeconfigPath() } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    assert.equal(complete('rollway', 'pro'), 'promote\n');
    assert.equal(complete('rollway', 'get', 'r'), 'rollout\n');
    assert.equal(complete('rollway', '-n', ns, 'promote', ''), 'web\nworker\n');
    assert.equal(complete('rollway', '-n', ns, 'undo', 'web', '--to'), '--to-revision\n');
    for (const shell of ['zsh', 'fish']) {
      const r = cli('completion', shell);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /__complete/);
    }
    assert.equal(cli('completion', 'tcsh').code, 2);
  });

  await then('lint passes a good file (exit 0) and names each problem of a bad one by field path (exit 1)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rollway-lint-'));
    const good = path.join(dir, 'good.yaml');
    writeFileSync(good, `${rolloutYaml('web', '      - setWeight: 0.5\n      - pause: {duration: 30s}')}---
apiVersion: v1
kind: Service
metadata: {name: unrelated}
spec: {selector: {app: other}}
`);
    const ok = cli('lint', '-f', good);
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(ok.stdout, `${good}: no errors\n`);

    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      rolloutYaml('web', '      - setWeight: 120\n      - pause: {duration: soon}').replace('scaleDownDelaySeconds: 2', 'scaleDownDelaySeconds: 2\n      stableService: web-stable') +
        `---
apiVersion: v1
kind: Service
metadata: {name: web-canary}
spec: {selector: {app: web}}
`,
    );
    const r = cli('lint', '-f', bad);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /bad\.yaml: document 1: Rollout\/web: spec\.strategy\.canary\.steps\[0\]\.setWeight: setWeight must be between 0 and 100, got 120/);
    assert.match(r.stdout, /Rollout\/web: spec\.strategy\.canary\.steps\[1\]\.pause\.duration: /);
    assert.match(r.stdout, /Rollout\/web: spec\.strategy\.canary\.stableService: Service "web-stable" is not in the file/);
    assert.match(r.stdout, /bad\.yaml: 3 errors\n$/);
    const json = JSON.parse(cli('lint', '-f', bad, '-o', 'json').stdout) as { path: string }[];
    assert.equal(json.length, 3);
    assert.equal(cli('lint', '-f', path.join(dir, 'missing.yaml')).code, 1);
    assert.equal(cli('lint').code, 2);
  });
});

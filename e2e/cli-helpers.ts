// Running the `rollway` CLI the way a user or a CI script does: a separate process, with its
// exit code, standard output and standard error kept apart.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { kubeconfigPath, repoRoot, sleep } from './harness.ts';

export const node = path.join(repoRoot, 'node_modules/.bin/node');
export const cliPath = path.join(repoRoot, 'cli/rollway.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `rollway ARGS` against the e2e cluster (unless ARGS pass their own --kubeconfig). */
export function cli(...args: string[]): CliResult {
  const withConfig = args.includes('--kubeconfig') ? args : ['--kubeconfig', kubeconfigPath(), ...args];
  const r = spawnSync(node, [cliPath, ...withConfig], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running CLI process (get -w, status, dashboard) whose output is collected as it comes. */
export interface CliProcess {
  output: () => string;
  errors: () => string;
  /** resolves with the exit code */
  exited: Promise<number | null>;
  waitForOutput: (test: (out: string) => boolean, what: string, timeoutMs?: number) => Promise<string>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export function startCli(args: string[], options: { command?: string[] } = {}): CliProcess {
  const command = options.command ?? [node, cliPath, '--kubeconfig', kubeconfigPath(), ...args];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    output: () => out,
    errors: () => err,
    exited,
    waitForOutput: async (test, what, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!test(out)) {
        if (Date.now() > deadline || done) throw new Error(`${done ? 'the CLI exited' : `timed out after ${timeoutMs}ms`} waiting for ${what}\nstdout so far:\n${out.slice(-4000)}\nstderr:\n${err}`);
        await sleep(100);
      }
      return out;
    },
    stop: async (signal: NodeJS.Signals = 'SIGINT') => {
      if (!done) child.kill(signal);
      return exited;
    },
  };
}

/** A Rollout manifest for the CLI scenarios: small and quick (2 replicas, short steps). */
export function rolloutYaml(name: string, steps: string, image = 'argoproj/rollouts-demo:blue', replicas = 2): string {
  return `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: ${name}
        image: ${image}
        ports:
        - {name: http, containerPort: 8080, protocol: TCP}
  strategy:
    canary:
      scaleDownDelaySeconds: 2
      steps:
${steps}
`;
}

/** Keeps a controller's log under artifacts/e2e-logs/ (git-ignored) for looking into a failure. */
export function keepLog(name: string, text: string): void {
  const dir = path.join(repoRoot, 'artifacts/e2e-logs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.log`), text);
}

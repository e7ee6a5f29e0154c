#!/usr/bin/env node
// `rollway` / `kubectl rollway`: the controller entry point and the commands people drive
// rollouts with. Exit codes: 0 success, 1 failure (not found, API error), 2 usage error.
import { parseArgs } from 'node:util';
import { runController } from '../controller/main.ts';
import { KubeClient } from '../kube/client.ts';
import { ActionError, abort, getRollout, pause, promote, restart, retry, setImage } from './actions.ts';

const VERSION = '0.1.0';

const usage = `rollway ${VERSION}: progressive delivery for Kubernetes

Usage:
  rollway controller [--kubeconfig F] [--namespace NS] [--instance-id ID] [--metrics-port 8090]
                     [--healthz-port 8080] [--log-format json|text] [--workers 4]
  rollway get rollout NAME            show a rollout's phase, step and weights
  rollway promote NAME [--full]       leave a pause (or go to the next step); --full skips all steps
  rollway abort NAME                  back to 100% stable
  rollway retry rollout NAME          clear an abort and run the steps again
  rollway pause NAME                  hold the rollout at its step (spec.paused)
  rollway restart NAME                recreate the pods (spec.restartAt)
  rollway set image NAME CONTAINER=IMAGE   (CONTAINER may be *)
  rollway version

Common flags: -n/--namespace NS, --kubeconfig FILE, --context NAME
`;

const commonOptions = {
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMANDS = new Set(['controller', 'get', 'promote', 'abort', 'retry', 'pause', 'restart', 'set', 'version', 'help']);

async function main(argv: string[]): Promise<number> {
  // kubectl habit: flags may come before the command (`rollway -n shop promote web`).
  const at = argv.findIndex((a) => COMMANDS.has(a));
  const command = at >= 0 ? argv[at] : argv[0];
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 1)] : argv.slice(1);
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage);
    return command ? 0 : 2;
  }
  if (command === 'version') {
    process.stdout.write(`rollway ${VERSION} (node ${process.versions.node})\n`);
    return 0;
  }
  if (command === 'controller') {
    const { values } = parseArgs({
      args: rest,
      options: {
        ...commonOptions,
        'instance-id': { type: 'string' },
        'metrics-port': { type: 'string', default: '8090' },
        'healthz-port': { type: 'string', default: '8080' },
        'log-format': { type: 'string', default: 'json' },
        workers: { type: 'string', default: '4' },
      },
    });
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    const logFormat = values['log-format'];
    if (logFormat !== 'json' && logFormat !== 'text') throw new ActionError(`--log-format must be json or text, got "${logFormat}"`, 2);
    await runController({
      kubeconfig: values.kubeconfig,
      context: values.context,
      namespace: values.namespace,
      instanceId: values['instance-id'],
      metricsPort: portFlag('--metrics-port', values['metrics-port']),
      healthzPort: portFlag('--healthz-port', values['healthz-port']),
      logFormat,
      workers: Number(values.workers) || 4,
    });
    return -1; // keeps running until a signal
  }

  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { ...commonOptions, full: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const client = KubeClient.fromKubeconfig({ path: values.kubeconfig, context: values.context, userAgent: 'rollway-cli' });
  const namespace = values.namespace ?? client.defaultNamespace;
  const need = (n: number, what: string): string[] => {
    if (positionals.length < n) throw new ActionError(`usage: rollway ${command} ${what}`, 2);
    return positionals;
  };
  try {
    let out: string;
    switch (command) {
      case 'promote':
        out = await promote(client, namespace, need(1, 'NAME [--full]')[0]!, { full: values.full === true });
        break;
      case 'abort':
        out = await abort(client, namespace, need(1, 'NAME')[0]!);
        break;
      case 'retry': {
        const args = need(2, 'rollout NAME');
        out = await retry(client, namespace, args[1]!);
        break;
      }
      case 'pause':
        out = await pause(client, namespace, need(1, 'NAME')[0]!);
        break;
      case 'restart':
        out = await restart(client, namespace, need(1, 'NAME')[0]!);
        break;
      case 'set': {
        const args = need(3, 'image NAME CONTAINER=IMAGE');
        if (args[0] !== 'image') throw new ActionError(`unknown: rollway set ${args[0]}; did you mean "set image"?`, 2);
        out = await setImage(client, namespace, args[1]!, args[2]!);
        break;
      }
      case 'get': {
        const args = need(2, 'rollout NAME');
        const ro = await getRollout(client, namespace, args[1]!);
        const st = ro.status ?? {};
        const steps = ro.spec.strategy?.canary?.steps ?? [];
        out = [
          `Name:      ${ro.metadata.name}`,
          `Namespace: ${ro.metadata.namespace}`,
          `Status:    ${st.phase ?? 'Unknown'}${st.message ? ` (${st.message})` : ''}`,
          `Step:      ${st.currentStepIndex ?? steps.length}/${steps.length}`,
          `Weight:    ${st.canary?.weights?.canary.weight ?? 0}`,
          `Stable:    ${st.stableRS ?? ''}`,
          `Replicas:  desired ${ro.spec.replicas ?? 1}, current ${st.replicas ?? 0}, updated ${st.updatedReplicas ?? 0}, ready ${st.readyReplicas ?? 0}, available ${st.availableReplicas ?? 0}`,
        ].join('\n');
        break;
      }
      default:
        throw new ActionError(`unknown command "${command}"; see rollway --help`, 2);
    }
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    client.close();
  }
}

function portFlag(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1 || n > 65535) throw new ActionError(`${flag} must be a port number (0 picks a free one, -1 disables), got "${value}"`, 2);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ActionError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);

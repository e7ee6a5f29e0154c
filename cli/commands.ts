// `rollway` / `kubectl rollway`: the controller entry point and the commands people drive and
// watch rollouts with. Exit codes: 0 success, 1 error (not found, API or kubeconfig error),
// 2 usage error; `status` has its own: 0 Healthy, 1 Degraded, 2 timed out, 3 could not check.
import { readFileSync } from 'node:fs';
import { yamlLibrary } from '../lib/on-demand.ts';
import { ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import type { RolloutObject } from '../api/views.ts';
import { Informer } from '../kube/informer.ts';
import { KubeApiError, KubeClient, type KubeObject } from '../kube/client.ts';
import { LOG_LEVELS, LogOptionError, parseLogFormat, parseLogLevel } from '../lib/log.ts';
import { ActionError, abort, getRollout, pause, promote, restart, retry, setImage, undo } from '../client/actions.ts';
import { commandHelp, overallHelp, parse, parseDuration, UsageError, type CommandSpec, type FlagSpec, type FlagValues } from './args.ts';
import { complete, completionScript } from './completion.ts';
import { routerPluginSpecs } from '../routers/load.ts';
import { SMI_VERSIONS } from '../routers/smi/render.ts';
import { LiveOutput, Throttle } from './live.ts';
import { ANALYSIS_RUN_PLURAL, analysisRunsMissing, fetchRolloutViews, fetchSnapshot, forbiddenNote, RolloutWatch, serves } from '../client/observe.ts';
import { renderAnalysisRun, renderList, renderRollout, statusLabel, table } from './render.ts';
import { analysisRunView, buildView, formatDuration, phaseOf, type AnalysisRunObject, type RolloutSnapshot } from '../client/view.ts';
import { EXPERIMENT_COMMANDS, runExperimentCommand } from './experiments.ts';

export const VERSION = '0.1.0';

const output = (values: string[]): FlagSpec => ({ name: 'output', short: 'o', type: 'string', valueName: 'FORMAT', description: `output format: ${values.join(', ')}`, values });
const routerPluginFlag: FlagSpec = {
  name: 'router-plugin',
  type: 'string',
  valueName: 'PATH_OR_PACKAGE',
  description: 'load a third-party traffic router plugin (a file or an npm package); repeatable; also $ROLLWAY_ROUTER_PLUGINS (comma-separated)',
  repeatable: true,
};
const notificationsNamespaceFlag: FlagSpec = { name: 'notifications-namespace', type: 'string', valueName: 'NS', description: 'where rollway-notification-configmap and -secret are (default: the controller\'s namespace, $POD_NAMESPACE, else rollway)' };
const watchFlag: FlagSpec = { name: 'watch', short: 'w', type: 'boolean', description: 'keep watching and redraw on every change (Ctrl-C ends)' };
const noColor: FlagSpec = { name: 'no-color', type: 'boolean', description: 'no colours (also when NO_COLOR is set or the output is not a terminal)' };

export const COMMANDS: CommandSpec[] = [
  {
    words: ['get', 'rollout'],
    aliases: ['ro', 'rollouts'],
    args: ['NAME'],
    summary: 'show a rollout: status, step, weights, images, and its revisions, ReplicaSets, pods and analysis runs',
    details: `With -w the tree stays on screen and is redrawn on every change (at most 5 times a second); when
the output is not a terminal, each changed view is printed once instead.
Icons: ✔ healthy/ready  ◌ progressing/not ready  ‖ paused  ✖ degraded/failed  ⊘ scaled down/terminating`,
    flags: [watchFlag, noColor, output(['json', 'yaml'])],
    completesRollouts: true,
  },
  {
    words: ['get', 'analysisrun'],
    aliases: ['ar', 'analysisruns'],
    args: ['NAME?'],
    summary: 'show an analysis run: phase and per-metric counts (without NAME: list them)',
    flags: [noColor, output(['json', 'yaml'])],
  },
  {
    words: ['list', 'rollouts'],
    aliases: ['rollout', 'ro'],
    args: [],
    summary: 'list rollouts: phase, strategy, step, set and actual weight, images',
    flags: [{ name: 'all-namespaces', short: 'A', type: 'boolean', description: 'rollouts of every namespace' }, watchFlag, noColor, output(['json', 'yaml', 'name'])],
  },
  {
    words: ['set', 'image'],
    args: ['NAME', 'CONTAINER=IMAGE'],
    summary: 'change a container image (CONTAINER * changes every container); starts an update',
    flags: [],
    completesRollouts: true,
  },
  { words: ['promote'], args: ['NAME'], summary: 'leave a pause, or go on to the next step; --full skips all remaining steps', flags: [{ name: 'full', type: 'boolean', description: 'skip every remaining step and analysis' }], completesRollouts: true },
  { words: ['abort'], args: ['NAME'], summary: 'stop the update: all traffic back to stable, phase Degraded', flags: [], completesRollouts: true },
  { words: ['retry', 'rollout'], aliases: ['ro'], args: ['NAME'], summary: 'clear an abort and run the update\'s steps again', flags: [], completesRollouts: true },
  { words: ['pause'], args: ['NAME'], summary: 'hold the rollout where it is (spec.paused); promote resumes it', flags: [], completesRollouts: true },
  {
    words: ['restart'],
    args: ['NAME'],
    summary: 'recreate the rollout\'s pods, a few at a time (spec.restartAt)',
    flags: [{ name: 'in', type: 'string', valueName: 'DURATION', description: 'restart this long from now, e.g. 10s or 5m' }],
    completesRollouts: true,
  },
  {
    words: ['undo'],
    args: ['NAME'],
    summary: 'roll back to a previous revision\'s pod template (default: the one before the current)',
    flags: [{ name: 'to-revision', type: 'string', valueName: 'N', description: 'the revision to go back to' }],
    completesRollouts: true,
  },
  {
    words: ['status'],
    args: ['NAME'],
    summary: 'wait until the rollout is Healthy or Degraded; exit code for CI',
    details: `Prints the phase on every change. Exit codes: 0 Healthy, 1 Degraded, 2 timed out (or, with
--watch=false, not finished yet), 3 could not check (rollout not found, API or kubeconfig error,
usage error).`,
    flags: [
      { name: 'timeout', short: 't', type: 'string', valueName: 'DURATION', description: 'give up after this long, e.g. 5m (0: wait forever)', default: '0' },
      { name: 'watch', short: 'w', type: 'boolean', description: 'wait for a final phase; --watch=false prints the phase once', default: true },
    ],
    completesRollouts: true,
  },
  {
    words: ['lint'],
    args: [],
    summary: 'check manifests offline: schema, step rules, references between the objects of the file',
    details: 'Exits 1 when it finds an error (warnings alone exit 0). FILE "-" reads standard input.',
    flags: [{ name: 'filename', short: 'f', type: 'string', valueName: 'FILE', description: 'the YAML file to check (required)' }, output(['json']), routerPluginFlag],
  },
  {
    words: ['migrate'],
    args: [],
    summary: 'move live Argo Rollouts to Rollway (or back) without restarting a pod',
    details: `Stop Argo Rollouts' controller first (it refuses while its Lease is held), then start Rollway's.
Each Rollout moves on its own with its status (step, pauses, hashes, abort): its ReplicaSets, AnalysisRuns
and canary Ingresses are re-pointed at the new object, routing weights stay, the old object is deleted
without cascading. A Rollout that fails is left fully where it was. Exits 1 when one failed.`,
    flags: [
      { name: 'all-namespaces', short: 'A', type: 'boolean', description: 'Rollouts of every namespace' },
      { name: 'dry-run', type: 'boolean', description: 'print what would move, write nothing' },
      { name: 'rollout', type: 'string', valueName: 'NAME', description: 'only this Rollout' },
      { name: 'back', type: 'boolean', description: 'from Rollway back to Argo Rollouts' },
    ],
  },
  {
    words: ['convert'],
    args: [],
    summary: 'rewrite Argo Rollouts manifests as Rollway\'s, offline (for the Git side of a move)',
    details: `Prints the converted manifests (comments kept) on standard output and, on standard error, what
changed meaning or could not be carried over, with its field path; then lint's findings on the output.
Exits 1 when something could not be carried over. FILE "-" reads standard input; a DIR is read whole.`,
    flags: [{ name: 'filename', short: 'f', type: 'string', valueName: 'FILE|DIR', description: 'the manifests to convert (required)' }, output(['yaml', 'json'])],
  },
  {
    words: ['dashboard'],
    args: [],
    summary: 'serve the web dashboard (rollouts, step timeline, weights, actions) on localhost',
    details: `On a loopback address only requests addressed to a loopback host are answered. On any other
address every request needs a token: one is generated and printed once, in the URL to open, unless
--token-file gives it. Scripts send it as Authorization: Bearer TOKEN.`,
    flags: [
      { name: 'port', short: 'p', type: 'string', valueName: 'PORT', description: 'port to listen on (0 picks a free one)', default: '3100' },
      { name: 'address', type: 'string', valueName: 'ADDR', description: 'address to listen on', default: '127.0.0.1' },
      { name: 'token-file', type: 'string', valueName: 'FILE', description: 'read the access token from FILE (at least 16 characters) instead of generating one; also enforced on loopback' },
    ],
  },
  {
    words: ['uninstall'],
    args: [],
    summary: 'before removing Rollway: every Rollout\'s routing back to 100% stable, our routes, labels and objects removed, finalizers off',
    details: `Run it after stopping the controller (it refuses while a controller still holds its leader Lease,
unless --force), then delete the install manifests. Prints what it did, Rollout by Rollout; it also
releases routing left applied by Rollouts that are already gone.`,
    flags: [
      { name: 'all-namespaces', short: 'A', type: 'boolean', description: 'Rollouts of every namespace' },
      { name: 'dry-run', type: 'boolean', description: 'print what would be done, write nothing' },
      { name: 'force', type: 'boolean', description: 'go on even though a controller seems to run' },
      { name: 'leader-election-namespace', type: 'string', valueName: 'NS', description: 'also look for controller Leases here (default: the namespace, rollway and kube-system)' },
      { name: 'instance-id', type: 'string', valueName: 'ID', description: 'only Rollouts labelled rollway.dev/controller-instance-id=ID (--instance-id= : those without the label)' },
      { name: 'stop-controller', type: 'string', valueName: 'NS/DEPLOYMENT', description: 'first scale this controller Deployment to 0 and wait until it gives up its Lease (Helm\'s pre-delete hook)' },
    ],
  },
  {
    words: ['doctor'],
    args: [],
    summary: 'find what Rollway left behind: routing of deleted Rollouts, deletions stuck on our finalizer',
    details: 'Exits 1 when it finds something.',
    flags: [{ name: 'all-namespaces', short: 'A', type: 'boolean', description: 'every namespace' }],
  },
  { words: ['version'], args: [], summary: 'print the version and the router plugins loaded', flags: [output(['json']), routerPluginFlag] },
  { words: ['completion'], args: ['SHELL'], summary: 'print a completion script: bash, zsh or fish', details: 'Load it with: source <(rollway completion bash)', flags: [] },
  {
    words: ['controller'],
    args: [],
    summary: 'run the Rollout controller',
    flags: [
      { name: 'instance-id', type: 'string', valueName: 'ID', description: 'handle only Rollouts labelled rollway.dev/controller-instance-id=ID' },
      { name: 'metrics-port', type: 'string', valueName: 'PORT', description: '/metrics port (0 picks a free one, -1 disables)', default: '8090' },
      { name: 'healthz-port', type: 'string', valueName: 'PORT', description: '/healthz port (0 picks a free one, -1 disables; the --metrics-port number serves both paths on one port)', default: '8080' },
      { name: 'bind-address', type: 'string', valueName: 'ADDR', description: 'address /metrics and /healthz listen on (0.0.0.0 in a pod, for probes and scraping)', default: '127.0.0.1' },
      { name: 'log-format', type: 'string', valueName: 'FORMAT', description: 'json or text (default: text on a terminal, else json)', values: ['json', 'text'] },
      { name: 'log-level', type: 'string', valueName: 'LEVEL', description: 'most detailed level logged: error, warn, info or debug', default: 'info', values: [...LOG_LEVELS] },
      // 32: in a burst each reconcile waits on two writes in turn (routing, then status); with 16, 100
      // Rollouts promoted at once got their VirtualService written p99 380-860 ms after the promote
      // was seen, with 32 360-450 ms (bench/HISTORY.md, 2026-12-02 evening).
      { name: 'workers', type: 'string', valueName: 'N', description: 'Rollouts reconciled at once, and as many AnalysisRuns and Experiments', default: '32' },
      { name: 'leader-elect', type: 'boolean', description: 'take a Lease so only one replica writes (--leader-elect=false: write at once)', default: true },
      { name: 'leader-election-namespace', type: 'string', valueName: 'NS', description: 'namespace of the Lease (default: --namespace, else kube-system)' },
      { name: 'lease-duration', type: 'string', valueName: 'DURATION', description: 'how long a Lease holds without renewal', default: '15s' },
      routerPluginFlag,
      { name: 'smi-api-version', type: 'string', valueName: 'VERSION', description: 'SMI TrafficSplit API version (default: $ROLLWAY_SMI_API_VERSION, else the newest the cluster serves)', values: SMI_VERSIONS },
      notificationsNamespaceFlag,
      { name: 'self-service-notifications', type: 'boolean', description: 'also read the notification ConfigMap and Secret in each Rollout\'s namespace' },
    ],
  },
  {
    words: ['notifications', 'templates'],
    args: [],
    summary: 'list the notification services, triggers and templates configured (built-in ones marked)',
    flags: [notificationsNamespaceFlag],
  },
  {
    words: ['notifications', 'test'],
    args: ['TRIGGER'],
    summary: 'evaluate a notification trigger on a rollout and print what each subscribed service would get (--send sends it)',
    details: `Renders for the rollout's subscriptions to TRIGGER, or for --to SERVICE[:RECIPIENT]. Sent test
messages are not recorded on the rollout; Secret values are masked in what is printed.`,
    flags: [
      { name: 'rollout', type: 'string', valueName: 'NAME', description: 'the rollout to evaluate (required)' },
      { name: 'to', type: 'string', valueName: 'SERVICE[:RECIPIENT]', description: 'render for this service and recipient instead of the subscriptions' },
      { name: 'send', type: 'boolean', description: 'also send what is rendered' },
      notificationsNamespaceFlag,
    ],
  },
  ...EXPERIMENT_COMMANDS,
  { words: ['__complete'], args: ['WORDS...'], summary: 'completion candidates (used by the completion scripts)', flags: [] },
];

const HEADER = `rollway ${VERSION}: progressive delivery for Kubernetes`;

interface Context {
  flags: FlagValues;
  positionals: string[];
  client: () => KubeClient;
  namespace: () => string;
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

function outputFormat(flags: FlagValues, allowed: readonly string[]): string | undefined {
  const o = str(flags.output);
  if (o !== undefined && !allowed.includes(o)) throw new UsageError(`-o ${o} is not supported here; use ${allowed.join(' or ')}`);
  return o;
}

function useColor(flags: FlagValues): boolean {
  return process.stdout.isTTY === true && !flags['no-color'] && !process.env.NO_COLOR;
}

function printObject(object: unknown, format: string): void {
  const clean = (o: unknown): unknown => {
    if (o && typeof o === 'object' && 'metadata' in o) {
      const k = o as KubeObject;
      const { managedFields: _m, ...metadata } = k.metadata;
      return { ...k, metadata };
    }
    return o;
  };
  const value = Array.isArray(object) ? object.map(clean) : clean(object);
  // YAML (about 70 modules) and lint (Liquid, through the notification checks) load on demand:
  // `rollway controller` starts through this file and needs neither.
  const toYaml = (v: unknown): string => yamlLibrary().stringify(v);
  process.stdout.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value));
}

/** Resolves on SIGINT/SIGTERM after running `cleanup`. */
function untilSignal(cleanup: () => void): Promise<number> {
  return new Promise((resolve) => {
    const done = (): void => {
      cleanup();
      resolve(0);
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

async function watchFrames(render: () => string | undefined, watch: RolloutWatch, tty: boolean): Promise<number> {
  const live = new LiveOutput((t) => process.stdout.write(t), { tty, rows: process.stdout.rows });
  const draw = (): void => {
    const frame = render();
    if (frame !== undefined) live.show(frame);
  };
  const throttle = new Throttle(draw, 200); // at most 5 redraws a second
  watch.onChange(() => throttle.request());
  await watch.start();
  draw();
  // On a terminal the clock moves ages and pause countdowns; elsewhere only changes print.
  const ticker = tty ? setInterval(draw, 1000) : undefined;
  return untilSignal(() => {
    clearInterval(ticker);
    throttle.cancel();
    watch.stop();
    live.close();
  });
}

async function getRolloutCommand(ctx: Context): Promise<number> {
  const name = ctx.positionals[0]!;
  const format = outputFormat(ctx.flags, ['json', 'yaml']);
  const client = ctx.client();
  const ns = ctx.namespace();
  if (format) {
    printObject(await getRollout(client, ns, name), format);
    return 0;
  }
  const color = useColor(ctx.flags);
  const render = (snapshot: RolloutSnapshot): string =>
    renderRollout(buildView(snapshot), { now: Date.now(), color }) + (snapshot.forbidden ? `${forbiddenNote(snapshot.forbidden)}\n` : '');
  if (!ctx.flags.watch) {
    process.stdout.write(render(await fetchSnapshot(client, ns, name)));
    return 0;
  }
  await getRollout(client, ns, name); // a missing rollout is an error, not an empty screen
  const watch = new RolloutWatch(client, ns, { rolloutName: name });
  return watchFrames(
    () => {
      const snapshot = watch.snapshot(ns, name);
      const body = snapshot ? render(snapshot) : `rollout "${name}" not found in namespace "${ns}" (deleted?); still watching\n`;
      return watch.lastError ? `${body}\nwatch: ${watch.lastError}\n` : body;
    },
    watch,
    process.stdout.isTTY === true,
  );
}

async function listRolloutsCommand(ctx: Context): Promise<number> {
  const format = outputFormat(ctx.flags, ['json', 'yaml', 'name']);
  const client = ctx.client();
  const all = ctx.flags['all-namespaces'] === true;
  const ns = all ? undefined : ctx.namespace();
  const color = useColor(ctx.flags);
  const where = all ? 'any namespace' : `namespace "${ns}"`;
  if (format === 'json' || format === 'yaml') {
    const list = await client.list<RolloutObject>({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: ns });
    printObject({ apiVersion: 'v1', kind: 'List', items: list.items }, format);
    return 0;
  }
  if (format === 'name') {
    const list = await client.list<RolloutObject>({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: ns });
    for (const ro of list.items) process.stdout.write(`rollout.${ROLLOUT_GROUP}/${ro.metadata.name}\n`);
    return 0;
  }
  if (!ctx.flags.watch) {
    const views = await fetchRolloutViews(client, ns);
    if (views.length === 0) process.stderr.write(`No rollouts found in ${where}.\n`);
    else process.stdout.write(renderList(views, { now: Date.now(), color, allNamespaces: all }));
    return 0;
  }
  const watch = new RolloutWatch(client, ns);
  return watchFrames(
    () => {
      const views = watch.views();
      return views.length === 0 ? `No rollouts found in ${where}.\n` : renderList(views, { now: Date.now(), color, allNamespaces: all });
    },
    watch,
    process.stdout.isTTY === true,
  );
}

async function getAnalysisRunCommand(ctx: Context): Promise<number> {
  const format = outputFormat(ctx.flags, ['json', 'yaml']);
  const client = ctx.client();
  const ns = ctx.namespace();
  if (!(await serves(client, ROLLOUT_GROUP, ROLLOUT_VERSION, ANALYSIS_RUN_PLURAL))) throw analysisRunsMissing();
  const ref = { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ANALYSIS_RUN_PLURAL, namespace: ns };
  const name = ctx.positionals[0];
  const now = Date.now();
  if (name === undefined) {
    const list = await client.list<AnalysisRunObject>(ref);
    if (format) {
      printObject({ apiVersion: 'v1', kind: 'List', items: list.items }, format);
      return 0;
    }
    if (list.items.length === 0) {
      process.stderr.write(`No analysis runs found in namespace "${ns}".\n`);
      return 0;
    }
    const rows = [['NAME', 'STATUS', 'SUCCESSFUL', 'FAILED', 'INCONCLUSIVE', 'ERROR', 'AGE']];
    for (const ar of list.items.map(analysisRunView)) {
      rows.push([ar.name, statusLabel(ar.phase), String(ar.counts.successful), String(ar.counts.failed), String(ar.counts.inconclusive), String(ar.counts.error), ar.createdAt ? formatDuration(now - ar.createdAt) : '']);
    }
    process.stdout.write(`${table(rows).join('\n')}\n`);
    return 0;
  }
  let ar: AnalysisRunObject;
  try {
    ar = await client.get<AnalysisRunObject>({ ...ref, name });
  } catch (err) {
    if (err instanceof KubeApiError && err.isNotFound) throw new ActionError(`analysis run "${name}" not found in namespace "${ns}"`);
    throw err;
  }
  if (format) printObject(ar, format);
  else process.stdout.write(renderAnalysisRun(analysisRunView(ar), ns, { now, color: useColor(ctx.flags) }));
  return 0;
}

async function statusCommand(ctx: Context): Promise<number> {
  const name = ctx.positionals[0]!;
  const timeoutMs = parseDuration(str(ctx.flags.timeout) ?? '0', '--timeout');
  const client = ctx.client();
  const ns = ctx.namespace();
  const first = await getRollout(client, ns, name);
  const describe = (ro: RolloutObject): { line: string; code: number | undefined } => {
    const generation = ro.metadata.generation ?? 0;
    if (ro.status?.observedGeneration !== String(generation)) return { line: `Progressing - waiting for the controller to observe generation ${generation}`, code: undefined };
    const phase = phaseOf(ro);
    const line = `${phase}${ro.status?.message ? ` - ${ro.status.message}` : ''}`;
    return { line, code: phase === 'Healthy' ? 0 : phase === 'Degraded' ? 1 : undefined };
  };
  const initial = describe(first);
  process.stdout.write(`${initial.line}\n`);
  if (initial.code !== undefined) return initial.code;
  if (ctx.flags.watch === false) return 2;

  const informer = new Informer<RolloutObject>(client, { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: ns }, { fieldSelector: `metadata.name=${name}`, log: () => {} });
  let last = initial.line;
  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (code: number): void => {
      clearTimeout(timer);
      informer.stop();
      resolve(code);
    };
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        process.stdout.write(`timed out after ${formatDuration(timeoutMs)} waiting for rollout "${name}" to become Healthy (last: ${last})\n`);
        finish(2);
      }, timeoutMs);
    }
    informer.on((event) => {
      if (event.type === 'deleted') {
        process.stderr.write(`error: rollout "${name}" was deleted\n`);
        finish(3);
        return;
      }
      const { line, code } = describe(event.object);
      if (line !== last) process.stdout.write(`${line}\n`);
      last = line;
      if (code !== undefined) finish(code);
    });
    informer.start();
  });
}

async function lintCommand(ctx: Context): Promise<number> {
  const file = str(ctx.flags.filename);
  if (!file) throw new UsageError('lint needs -f FILE');
  const format = outputFormat(ctx.flags, ['json']);
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    const message = `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`;
    // -o json promises JSON on standard output whatever happens.
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify([{ severity: 'error', document: 0, object: '', path: '', message, fix: 'check the path given to -f' }], null, 2)}\n`);
      return 1;
    }
    throw new ActionError(message);
  }
  const { formatFinding, lintText } = await import('./lint.ts');
  const findings = lintText(text);
  const errors = findings.filter((f) => f.severity === 'error').length;
  if (format === 'json') process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
  else {
    for (const f of findings) process.stdout.write(`${formatFinding(file, f)}\n`);
    const warnings = findings.length - errors;
    process.stdout.write(errors === 0 ? `${file}: no errors${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}\n` : `${file}: ${errors} error${errors > 1 ? 's' : ''}\n`);
  }
  return errors > 0 ? 1 : 0;
}

async function migrateCommand(ctx: Context): Promise<number> {
  const { migrate } = await import('./migrate.ts');
  const all = ctx.flags['all-namespaces'] === true;
  if (all && str(ctx.flags.namespace) !== undefined) throw new UsageError('give either --namespace or --all-namespaces, not both');
  const summary = await migrate(ctx.client(), {
    namespace: all ? undefined : ctx.namespace(),
    rollout: str(ctx.flags.rollout),
    dryRun: ctx.flags['dry-run'] === true,
    back: ctx.flags.back === true,
    say: (line) => process.stdout.write(`${line}\n`),
  });
  return summary.failed.length > 0 ? 1 : 0;
}

async function convertCommand(ctx: Context): Promise<number> {
  const path = str(ctx.flags.filename);
  if (!path) throw new UsageError('convert needs -f FILE or -f DIR');
  const format = outputFormat(ctx.flags, ['yaml', 'json']) === 'json' ? 'json' : 'yaml';
  const { convertPath } = await import('./convert-files.ts');
  let run: ReturnType<typeof convertPath>;
  try {
    run = convertPath(path, format);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ActionError(code === 'ENOENT' ? `cannot read ${path}: no such file or directory` : (err as Error).message);
  }
  process.stdout.write(run.output);
  for (const line of run.report) process.stderr.write(`${line}\n`);
  return run.code;
}

/** Third-party router plugins (--router-plugin, ROLLWAY_ROUTER_PLUGINS): loaded before the command runs. */
async function loadPlugins(specs: string[]): Promise<void> {
  if (specs.length === 0) return;
  const { loadRouterPlugins } = await import('../routers/load.ts');
  try {
    await loadRouterPlugins(specs);
  } catch (err) {
    throw new ActionError((err as Error).message);
  }
}

async function versionCommand(ctx: Context): Promise<number> {
  const { describeRouterPlugins } = await import('../routers/load.ts');
  const plugins = describeRouterPlugins();
  if (outputFormat(ctx.flags, ['json']) === 'json') {
    process.stdout.write(`${JSON.stringify({ version: VERSION, node: process.versions.node, routerPlugins: plugins })}\n`);
    return 0;
  }
  process.stdout.write(`rollway ${VERSION} (node ${process.versions.node})\n`);
  for (const p of plugins) process.stdout.write(`router plugin ${p.name}: ${p.label} (from ${p.source})\n`);
  return 0;
}

/** A bad flag value found by a library check is a usage error (exit code 2). */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof LogOptionError) throw new UsageError(err.message);
    throw err;
  }
}

async function runControllerCommand(ctx: Context): Promise<number> {
  const { runController } = await import('../controller/main.ts');
  const flags = ctx.flags;
  const logFormat = usage(() => parseLogFormat(str(flags['log-format'])));
  const logLevel = usage(() => parseLogLevel(str(flags['log-level']) ?? 'info'));
  const smiApiVersion = str(flags['smi-api-version']);
  if (smiApiVersion !== undefined && !(SMI_VERSIONS as readonly string[]).includes(smiApiVersion)) throw new UsageError(`--smi-api-version must be one of ${SMI_VERSIONS.join(', ')}, got "${smiApiVersion}"`);
  const workers = Number(str(flags.workers));
  if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`--workers must be a whole number of 1 or more, got "${str(flags.workers)}"`);
  await runController({
    kubeconfig: str(flags.kubeconfig),
    context: str(flags.context),
    namespace: str(flags.namespace),
    instanceId: str(flags['instance-id']),
    metricsPort: portFlag('--metrics-port', str(flags['metrics-port'])),
    healthzPort: portFlag('--healthz-port', str(flags['healthz-port'])),
    bindAddress: str(flags['bind-address']) ?? '127.0.0.1',
    logFormat,
    logLevel,
    workers,
    leaderElect: flags['leader-elect'] !== false,
    leaderElectionNamespace: str(flags['leader-election-namespace']),
    leaseDurationMs: parseDuration(str(flags['lease-duration']) ?? '15s', '--lease-duration'),
    routerPlugins: routerPluginSpecs(str(flags['router-plugin'])),
    smiApiVersion,
    notificationsNamespace: str(flags['notifications-namespace']),
    selfServiceNotifications: flags['self-service-notifications'] === true,
  });
  return -1; // keeps running until a signal
}

async function dashboardCommand(ctx: Context): Promise<number> {
  const { startDashboard } = await import('../dashboard/server.ts');
  const { dashboardToken } = await import('../dashboard/guard.ts');
  const port = portFlag('--port', str(ctx.flags.port));
  if (port < 0) throw new UsageError('--port must be 0 or a port number');
  const address = str(ctx.flags.address) ?? '127.0.0.1';
  let access: ReturnType<typeof dashboardToken>;
  try {
    access = dashboardToken(address, str(ctx.flags['token-file']));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const dashboard = await startDashboard({ client: ctx.client(), namespace: ctx.namespace(), port, address, token: access.token });
  // A generated token is shown this once, inside the URL that hands it to the browser.
  const url = access.generated ? `${dashboard.url}?token=${access.token}` : dashboard.url;
  process.stdout.write(`Rollway dashboard: ${url} (namespace ${ctx.namespace()}; Ctrl-C stops it)\n`);
  if (access.token !== undefined) {
    process.stdout.write(`Every request needs the token${access.generated ? ' in this URL' : ` of ${str(ctx.flags['token-file'])}`}: open the URL${access.generated ? '' : ' with ?token=TOKEN'} once in the browser, or send Authorization: Bearer TOKEN.\n`);
  }
  return untilSignal(() => void dashboard.close());
}

async function uninstallCommand(ctx: Context): Promise<number> {
  const { uninstall } = await import('./uninstall.ts');
  const all = ctx.flags['all-namespaces'] === true;
  if (all && str(ctx.flags.namespace) !== undefined) throw new UsageError('give either --namespace or --all-namespaces, not both');
  const extra = str(ctx.flags['leader-election-namespace']);
  const stop = str(ctx.flags['stop-controller']);
  const [stopNamespace, stopName] = stop?.split('/') ?? [];
  if (stop !== undefined && (!stopNamespace || !stopName)) throw new UsageError(`--stop-controller takes NAMESPACE/DEPLOYMENT (e.g. rollway/rollway-controller), got "${stop}"`);
  const result = await uninstall(ctx.client(), {
    namespace: all ? undefined : ctx.namespace(),
    dryRun: ctx.flags['dry-run'] === true,
    force: ctx.flags.force === true,
    leaseNamespaces: extra ? [extra] : [],
    instanceId: str(ctx.flags['instance-id']),
    stopController: stopNamespace && stopName ? { namespace: stopNamespace, name: stopName } : undefined,
    out: (line) => process.stdout.write(`${line}\n`),
  });
  return result.failed > 0 ? 1 : 0;
}

async function notificationsCommand(ctx: Context, verb: string): Promise<number> {
  const { listTemplates, testTrigger } = await import('./notifications.ts');
  const configNamespace = str(ctx.flags['notifications-namespace']) ?? str(ctx.flags.namespace) ?? ctx.client().defaultNamespace;
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  if (verb === 'templates') return listTemplates(ctx.client(), configNamespace, out);
  const rollout = str(ctx.flags.rollout);
  if (!rollout) throw new UsageError('--rollout NAME is required: the rollout to evaluate the trigger on');
  return testTrigger(ctx.client(), { trigger: ctx.positionals[0]!, rollout, namespace: ctx.namespace(), configNamespace, to: str(ctx.flags.to), send: ctx.flags.send === true }, out);
}

async function doctorCommand(ctx: Context): Promise<number> {
  const { doctor, formatDoctorFinding } = await import('./doctor.ts');
  const all = ctx.flags['all-namespaces'] === true;
  const findings = await doctor(ctx.client(), all ? undefined : ctx.namespace());
  for (const f of findings) process.stdout.write(`${formatDoctorFinding(f)}\n`);
  if (findings.length === 0) process.stdout.write(`no problems found in ${all ? 'any namespace' : `namespace ${ctx.namespace()}`}\n`);
  return findings.length > 0 ? 1 : 0;
}

async function completeCommand(words: string[]): Promise<number> {
  const flagAfter = (names: string[]): string | undefined => {
    for (let i = 0; i < words.length - 1; i++) {
      const w = words[i]!;
      for (const n of names) {
        if (w === n) return words[i + 1];
        if (w.startsWith(`${n}=`)) return w.slice(n.length + 1);
      }
    }
    return undefined;
  };
  const candidates = await complete(words, COMMANDS, async () => {
    const client = KubeClient.fromKubeconfig({ path: flagAfter(['--kubeconfig']), context: flagAfter(['--context']), userAgent: 'rollway-cli' });
    try {
      const ns = flagAfter(['-n', '--namespace']) ?? client.defaultNamespace;
      const list = await client.list<RolloutObject>({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: ns });
      return list.items.map((r) => r.metadata.name ?? '');
    } finally {
      client.close();
    }
  });
  if (candidates.length) process.stdout.write(`${candidates.join('\n')}\n`);
  return 0;
}

function portFlag(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1 || n > 65535) throw new UsageError(`${flag} must be a port number (0 picks a free one, -1 disables), got "${value}"`);
  return n;
}

function loadClient(flags: FlagValues): KubeClient {
  const path = str(flags.kubeconfig);
  try {
    return KubeClient.fromKubeconfig({ path, context: str(flags.context), userAgent: 'rollway-cli' });
  } catch (err) {
    // The loader's messages name the file and the problem ("kubeconfig X does not exist", ...).
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new ActionError(`kubeconfig ${path ?? '(default)'} does not exist`);
    throw new ActionError((e.message ?? String(err)).split('\n')[0]!);
  }
}

async function run(argv: string[]): Promise<number> {
  const completing = argv.indexOf('__complete');
  if (completing >= 0) return completeCommand([...argv.slice(0, completing), ...argv.slice(completing + 1)]);
  const parsed = parse(argv, COMMANDS);
  const command = parsed.command;
  if (!command) {
    if (parsed.words.length === 0) {
      process.stdout.write(overallHelp(COMMANDS.filter((c) => !c.words[0]!.startsWith('__')), HEADER));
      return parsed.flags.help ? 0 : 2;
    }
    const near = COMMANDS.filter((c) => c.words[0] === parsed.words[0]).map((c) => `rollway ${c.words.join(' ')}`);
    throw new UsageError(near.length ? `unknown command "${parsed.words.join(' ')}"; did you mean ${near.join(' or ')}?` : `unknown command "${parsed.words[0]}"; see rollway --help`);
  }
  if (parsed.flags.help) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  let client: KubeClient | undefined;
  const ctx: Context = {
    flags: parsed.flags,
    positionals: parsed.positionals,
    client: () => (client ??= loadClient(parsed.flags)),
    namespace: () => str(parsed.flags.namespace) ?? ctx.client().defaultNamespace,
  };
  try {
    await loadPlugins(routerPluginSpecs(str(parsed.flags['router-plugin'])));
    return await dispatch(command.words.join(' '), ctx);
  } catch (err) {
    throw explain(err, client);
  } finally {
    // Long-running commands close their own connections when they end.
    if (!['controller', 'dashboard'].includes(command.words[0]!) && !parsed.flags.watch) client?.close();
  }
}

/** Runs the command its words name (`get rollout`, `promote`, ...). */
async function dispatch(words: string, ctx: Context): Promise<number> {
  const experimentOutcome = await runExperimentCommand(words, ctx);
  if (experimentOutcome !== undefined) return experimentOutcome;
  const action = rolloutAction(words, ctx);
  if (action !== undefined) {
    process.stdout.write(`${await action}\n`);
    return 0;
  }
  switch (words) {
    case 'get rollout':
      return getRolloutCommand(ctx);
    case 'get analysisrun':
      return getAnalysisRunCommand(ctx);
    case 'list rollouts':
      return listRolloutsCommand(ctx);
    case 'status':
      return statusCommand(ctx);
    case 'lint':
      return lintCommand(ctx);
    case 'convert':
      return convertCommand(ctx);
    case 'migrate':
      return migrateCommand(ctx);
    case 'uninstall':
      return uninstallCommand(ctx);
    case 'doctor':
      return doctorCommand(ctx);
    case 'dashboard':
      return dashboardCommand(ctx);
    case 'version':
      return versionCommand(ctx);
    case 'completion':
      try {
        process.stdout.write(completionScript(ctx.positionals[0]!));
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      return 0;
    case 'controller':
      return runControllerCommand(ctx);
    case 'notifications templates':
    case 'notifications test':
      return notificationsCommand(ctx, words.split(' ')[1]!);
    default:
      throw new UsageError(`unknown command "${words}"`);
  }
}

/** The commands that act on one Rollout and answer with a line saying what they did; undefined for the others. */
function rolloutAction(words: string, ctx: Context): Promise<string> | undefined {
  const name = ctx.positionals[0]!;
  switch (words) {
    case 'set image':
      return setImage(ctx.client(), ctx.namespace(), name, ctx.positionals[1]!);
    case 'promote':
      return promote(ctx.client(), ctx.namespace(), name, { full: ctx.flags.full === true });
    case 'abort':
      return abort(ctx.client(), ctx.namespace(), name);
    case 'retry rollout':
      return retry(ctx.client(), ctx.namespace(), name);
    case 'pause':
      return pause(ctx.client(), ctx.namespace(), name);
    case 'restart': {
      const delay = str(ctx.flags.in) !== undefined ? parseDuration(str(ctx.flags.in)!, '--in') : 0;
      return restart(ctx.client(), ctx.namespace(), name, new Date(Date.now() + delay));
    }
    case 'undo': {
      const text = str(ctx.flags['to-revision']);
      const toRevision = text === undefined ? undefined : Number(text);
      if (toRevision !== undefined && (!Number.isInteger(toRevision) || toRevision < 0)) throw new UsageError(`--to-revision takes a revision number, got "${text}"`);
      return undo(ctx.client(), ctx.namespace(), name, { toRevision });
    }
    default:
      return undefined;
  }
}

/** Connection and TLS failures in words a person can act on. */
function explain(err: unknown, client: KubeClient | undefined): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (client && typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|ERR_TLS_CERT_ALTNAME_INVALID|CERT_HAS_EXPIRED)$/.test(code)) {
    return new ActionError(`cannot reach the Kubernetes API server at ${client.server}: ${(err as Error).message}`);
  }
  if (err instanceof KubeApiError && err.statusCode === 401) return new ActionError(`the API server at ${client?.server ?? '?'} rejected the credentials of the kubeconfig (401 Unauthorized)`);
  if (err instanceof KubeApiError && err.statusCode === 403) return new ActionError(`forbidden: ${err.message}`);
  return err;
}

export function main(argv: string[]): void {
  const isStatus = (() => {
    try {
      return parse(argv, COMMANDS).command?.words[0] === 'status';
    } catch {
      return argv.includes('status');
    }
  })();
  run(argv).then(
    (code) => {
      if (code >= 0) {
        process.exitCode = code;
        // Watches and keep-alive sockets may still hold the event loop: a finished command ends.
        if (argv.includes('-w') || argv.includes('--watch') || argv.includes('dashboard') || isStatus) setImmediate(() => process.exit(code));
      }
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`error: ${message}\n`);
      if (isStatus) process.exitCode = 3;
      else if (err instanceof UsageError) process.exitCode = 2;
      else if (err instanceof ActionError) process.exitCode = err.exitCode;
      else process.exitCode = 1;
    },
  );
}


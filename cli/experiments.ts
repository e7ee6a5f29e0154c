// `rollway get experiment NAME [-w]`, `list experiments`, `terminate experiment NAME`.
import { yamlLibrary } from '../lib/on-demand.ts';
import { EXPERIMENT_PLURAL } from '../api/experiment.ts';
import { ROLLOUT_GROUP, ROLLOUT_VERSION } from '../api/rollout.ts';
import { experimentRef, fetchExperiment, listExperiments, terminateExperiment, type ExperimentView } from '../client/experiments.ts';
import { serves } from '../client/observe.ts';
import { formatDuration } from '../client/view.ts';
import { Informer } from '../kube/informer.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { ActionError } from '../client/actions.ts';
import { UsageError, type CommandSpec, type FlagSpec, type FlagValues } from './args.ts';
import { LiveOutput } from './live.ts';
import { statusLabel, table } from './render.ts';

const outputFlag: FlagSpec = { name: 'output', short: 'o', type: 'string', valueName: 'FORMAT', description: 'output format: json, yaml', values: ['json', 'yaml'] };

export const EXPERIMENT_COMMANDS: CommandSpec[] = [
  {
    words: ['get', 'experiment'],
    aliases: ['exp', 'experiments'],
    args: ['NAME'],
    summary: 'show an experiment: phase, time left, each template with its ReplicaSet and pods, each analysis',
    flags: [{ name: 'watch', short: 'w', type: 'boolean', description: 'keep watching and redraw on every change (Ctrl-C ends)' }, outputFlag],
  },
  {
    words: ['list', 'experiments'],
    aliases: ['experiment', 'exp'],
    args: [],
    summary: 'list experiments: phase, templates, analyses, the Rollout that made it, age',
    flags: [{ name: 'all-namespaces', short: 'A', type: 'boolean', description: 'experiments of every namespace' }],
  },
  { words: ['terminate', 'experiment'], aliases: ['exp'], args: ['NAME'], summary: 'end an experiment now: its analyses stop and its pods are scaled down', flags: [] },
];

export interface ExperimentCommandContext {
  flags: FlagValues;
  positionals: string[];
  client: () => KubeClient;
  namespace: () => string;
}

const missing = (): ActionError => new ActionError(`the cluster does not serve ${EXPERIMENT_PLURAL}.${ROLLOUT_GROUP}: install Rollway's CRDs (kubectl apply --server-side -k crds)`);

/** Runs one of EXPERIMENT_COMMANDS; undefined when `words` is not one of them. */
export async function runExperimentCommand(words: string, ctx: ExperimentCommandContext): Promise<number | undefined> {
  if (!EXPERIMENT_COMMANDS.some((c) => c.words.join(' ') === words)) return undefined;
  const client = ctx.client();
  if (!(await serves(client, ROLLOUT_GROUP, ROLLOUT_VERSION, EXPERIMENT_PLURAL))) throw missing();
  if (words === 'list experiments') {
    const all = ctx.flags['all-namespaces'] === true;
    const views = await listExperiments(client, all ? undefined : ctx.namespace());
    if (views.length === 0) process.stderr.write(`No experiments found in ${all ? 'any namespace' : `namespace "${ctx.namespace()}"`}.\n`);
    else process.stdout.write(renderExperimentList(views, Date.now(), all));
    return 0;
  }
  const name = ctx.positionals[0]!;
  if (words === 'terminate experiment') {
    process.stdout.write(`${await terminateExperiment(client, ctx.namespace(), name)}\n`);
    return 0;
  }
  return getExperimentCommand(client, ctx.namespace(), name, ctx.flags);
}

async function getExperimentCommand(client: KubeClient, ns: string, name: string, flags: FlagValues): Promise<number> {
  const format = typeof flags.output === 'string' ? flags.output : undefined;
  if (format !== undefined && format !== 'json' && format !== 'yaml') throw new UsageError(`-o ${format} is not supported here; use json or yaml`);
  if (format) {
    const object = await client.get<KubeObject>(experimentRef(ns, name));
    const { managedFields: _m, ...metadata } = object.metadata;
    const clean = { ...object, metadata };
    process.stdout.write(format === 'json' ? `${JSON.stringify(clean, null, 2)}\n` : yamlLibrary().stringify(clean));
    return 0;
  }
  const first = await fetchExperiment(client, ns, name);
  if (!flags.watch) {
    process.stdout.write(renderExperiment(first, Date.now()));
    return 0;
  }
  // Redraw on every change of the Experiment (its status follows its ReplicaSets and runs), and
  // each second on a terminal for the time left.
  const live = new LiveOutput((t) => process.stdout.write(t), { tty: process.stdout.isTTY === true, rows: process.stdout.rows });
  let view = first;
  const draw = (): void => {
    live.show(renderExperiment(view, Date.now()));
  };
  const refresh = (): void => {
    fetchExperiment(client, ns, name).then(
      (v) => {
        view = v;
        draw();
      },
      () => undefined, // deleted or unreachable: keep the last view until the watch says more
    );
  };
  const informer = new Informer<KubeObject>(client, experimentRef(ns), { fieldSelector: `metadata.name=${name}`, log: () => {} });
  informer.on(refresh);
  informer.start();
  draw();
  const ticker = process.stdout.isTTY ? setInterval(draw, 1000) : undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      clearInterval(ticker);
      informer.stop();
      live.close();
      resolve(0);
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** `get experiment NAME`: the header, then templates (with pods) and analyses. */
export function renderExperiment(v: ExperimentView, now: number): string {
  const field = (label: string, value: string): string => `${`${label}:`.padEnd(11)}${value}`;
  const out = [field('Name', v.name), field('Namespace', v.namespace), field('Status', statusLabel(v.phase))];
  if (v.message) out.push(field('Message', v.message));
  if (v.rollout) out.push(field('Rollout', v.rollout));
  if (v.duration) out.push(field('Duration', `${v.duration}${v.timeLeftMs !== undefined ? ` (${formatDuration(v.timeLeftMs)} left)` : ''}`));
  if (v.terminated) out.push(field('Terminated', 'yes'));
  if (v.createdAt !== undefined) out.push(field('Age', formatDuration(now - v.createdAt)));
  out.push('');
  const rows = [['TEMPLATE', 'STATUS', 'AVAILABLE', 'REPLICASET', 'SERVICE']];
  for (const t of v.templates) {
    rows.push([t.name, statusLabel(t.status), `${t.available}/${t.replicas}`, t.replicaSet ?? '', t.service ?? '']);
    for (const p of t.pods) rows.push([`  └ ${p.name}`, statusLabel(p.status), p.ready, '', '']);
  }
  out.push(...table(rows));
  if (v.analyses.length > 0) {
    out.push('');
    const runs = [['ANALYSIS', 'STATUS', 'ANALYSISRUN', 'MESSAGE']];
    for (const a of v.analyses) runs.push([a.name, statusLabel(a.phase), a.run ?? '', a.message ?? '']);
    out.push(...table(runs));
  }
  if (v.conditions.length > 0) {
    out.push('');
    const rows = [['CONDITION', 'STATUS', 'REASON', 'MESSAGE']];
    for (const c of v.conditions) rows.push([c.type, c.status, c.reason ?? '', c.message ?? '']);
    out.push(...table(rows));
  }
  return `${out.join('\n')}\n`;
}

export function renderExperimentList(views: readonly ExperimentView[], now: number, allNamespaces: boolean): string {
  const rows = [[...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'STATUS', 'TEMPLATES', 'ANALYSES', 'ROLLOUT', 'AGE']];
  for (const v of views) {
    rows.push([
      ...(allNamespaces ? [v.namespace] : []),
      v.name,
      statusLabel(v.phase),
      v.templates.map((t) => `${t.name} ${t.status}`).join(', '),
      v.analyses.map((a) => `${a.name} ${a.phase}`).join(', '),
      v.rollout ?? '',
      v.createdAt !== undefined ? formatDuration(now - v.createdAt) : '',
    ]);
  }
  return `${table(rows).join('\n')}\n`;
}

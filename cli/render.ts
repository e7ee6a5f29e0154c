// Text rendering of the views: the `get rollout` header and tree, the `list rollouts` table and
// `get analysisrun`. Pure functions of a view and the time: snapshot-tested in render.test.ts.
import {
  formatDuration,
  formatPercent,
  type AnalysisRunView,
  type Counts,
  type ExperimentTreeView,
  type Phase,
  type PodView,
  type ReplicaSetView,
  type RevisionView,
  type RolloutViewModel,
  type RoutingView,
} from '../client/view.ts';

export interface RenderOptions {
  now: number;
  color: boolean;
}

type Tone = 'ok' | 'busy' | 'paused' | 'bad' | 'muted' | 'info' | 'plain';

const ANSI: Record<Tone, string> = {
  ok: '\x1b[32m',
  busy: '\x1b[36m',
  paused: '\x1b[33m',
  bad: '\x1b[31m',
  muted: '\x1b[2m',
  info: '\x1b[34m',
  plain: '',
};

function paint(text: string, tone: Tone, color: boolean): string {
  if (!color || tone === 'plain' || text === '') return text;
  return `${ANSI[tone]}${text}\x1b[0m`;
}

const ICON: Record<Tone, string> = { ok: '✔', busy: '◌', paused: '‖', bad: '✖', muted: '⊘', info: '•', plain: ' ' };

export function phaseTone(phase: string): Tone {
  switch (phase) {
    case 'Healthy':
    case 'Successful':
    case 'Completed':
      return 'ok';
    case 'Progressing':
    case 'Pending':
    case 'Running': // an analysis run still measuring (pods pass their own tone)
      return 'busy';
    case 'Paused':
    case 'Inconclusive':
      return 'paused';
    case 'Degraded':
    case 'Failed':
    case 'Error':
      return 'bad';
    case 'ScaledDown':
    case 'Terminating':
      return 'muted';
    default:
      return 'plain';
  }
}

/** `✔ Healthy`, `‖ Paused`, ... */
export function statusLabel(phase: string, tone: Tone = phaseTone(phase)): string {
  return `${tone === 'plain' ? '?' : ICON[tone]} ${phase}`;
}

const tagTone = (tag: string): Tone => (tag === 'stable' || tag === 'active' ? 'ok' : tag === 'canary' ? 'paused' : tag === 'preview' ? 'info' : 'plain');

function tags(list: string[], color: boolean): string {
  return list.map((t) => paint(t, tagTone(t), color)).join(', ');
}

export function countsText(c: Counts): string {
  return `successful ${c.successful} · failed ${c.failed} · inconclusive ${c.inconclusive} · error ${c.error}`;
}

// eslint-disable-next-line no-control-regex -- ANSI colour codes take no room on screen
const visibleLength = (text: string): number => text.replace(/\x1b\[[0-9;]*m/g, '').length;
const pad = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - visibleLength(text)));

/** Lays out rows of cells in columns two spaces apart; trailing spaces trimmed. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i]!))).join('  ').trimEnd());
}

function age(createdAt: number | undefined, now: number): string {
  return createdAt === undefined ? '' : formatDuration(now - createdAt);
}

/** The message line: the controller's message, plus what a person should know about a pause. */
export function pauseNote(view: RolloutViewModel, now: number): string {
  if (view.pausedBySpec) return `paused by spec.paused: rollway promote ${view.name} resumes it`;
  if (view.pause?.reason === 'BlueGreenPause') {
    const at = view.blueGreen?.autoPromoteAt;
    return at !== undefined ? `auto-promotion in ${formatDuration(Math.max(0, at - now))} (or rollway promote ${view.name})` : `waiting for promotion: rollway promote ${view.name}`;
  }
  const current = view.steps.find((s) => s.state === 'current');
  if (current?.pauseEndsAt !== undefined) return `timed pause, ${formatDuration(Math.max(0, current.pauseEndsAt - now))} left`;
  if (current?.waitingForPromotion) return `waiting for promotion: rollway promote ${view.name}`;
  return '';
}

export function weightSource(view: RolloutViewModel): string {
  if (view.actualWeightFrom !== 'status') return `from ${view.actualWeightFrom}`;
  if (view.routing.length === 0) return 'from pod counts';
  const failed = view.routing.find((r) => r.error);
  return failed ? `from status; ${failed.kind}/${failed.name}: ${failed.error}` : 'from status';
}

const LABEL_WIDTH = 17;

/** The header and the tree of `rollway get rollout`. */
export function renderRollout(view: RolloutViewModel, options: RenderOptions): string {
  const out = [...rolloutHeader(view, options), '', ...table(rolloutTree(view, options))];
  return `${out.join('\n')}\n`;
}

/** `Label:` padded to the value column; trimmed so that an empty value leaves no trailing spaces. */
function field(label: string, value: string): string {
  return `${pad(`${label}:`, LABEL_WIDTH)}${value}`.trimEnd();
}

/** A field with a value per line: the later lines sit under the first value, unlabelled. */
function listField(label: string, values: string[]): string[] {
  return values.map((value, i) => (i === 0 ? field(label, value) : `${' '.repeat(LABEL_WIDTH)}${value}`));
}

/** The `Label: value` lines above the tree. */
function rolloutHeader(view: RolloutViewModel, options: RenderOptions): string[] {
  const { now, color } = options;
  const out = [field('Name', view.name), field('Namespace', view.namespace), field('Status', paint(statusLabel(view.phase), phaseTone(view.phase), color))];
  const note = pauseNote(view, now);
  const message = [view.message, note].filter((m) => m !== '').join(' · ');
  if (message) out.push(field('Message', message));
  if (view.pendingGeneration !== undefined) out.push(field('Observed', `generation ${view.pendingGeneration} not yet seen by the controller`));
  out.push(field('Strategy', view.strategy === 'BlueGreen' ? 'BlueGreen' : view.strategy));
  out.push(...strategyFields(view));
  out.push(...listField('Images', view.images.map((img) => `${img.image}${img.tags.length ? ` (${tags(img.tags, color)})` : ''}`)));
  const r = view.replicas;
  out.push(field('Replicas', `desired ${r.desired} · current ${r.current} · updated ${r.updated} · ready ${r.ready} · available ${r.available}`));
  out.push(...listField('Routing', view.routing.map((route) => routeText(route, color))));
  return out;
}

/** The indented fields under `Strategy:`: the blue-green revisions and promotion runs, the canary's step and weights. */
function strategyFields(view: RolloutViewModel): string[] {
  const out: string[] = [];
  if (view.blueGreen) {
    const bg = view.blueGreen;
    const rev = (r: { hash: string; revision: number | undefined } | undefined): string => (r ? `revision ${r.revision ?? '?'} (${r.hash})` : '-');
    out.push(field('  Active', rev(bg.active)));
    out.push(field('  Preview', rev(bg.preview)));
    if (bg.prePromotion) out.push(field('  Pre-promotion', `${bg.prePromotion.name} ${bg.prePromotion.status}`));
    if (bg.postPromotion) out.push(field('  Post-promotion', `${bg.postPromotion.name} ${bg.postPromotion.status}`));
  }
  if (view.strategy === 'Canary') {
    if (view.step) out.push(field('  Step', `${view.step.index}/${view.step.total}`));
    if (view.setWeight !== undefined) out.push(field('  Set weight', formatPercent(view.setWeight)));
    if (view.actualWeight !== undefined) out.push(field('  Actual weight', `${formatPercent(view.actualWeight)} (${weightSource(view)})`));
  }
  return out;
}

/** `VirtualService/web  canary 20% (20/100)`; a router whose weight could not be read shows why, in red. */
function routeText(route: RoutingView, color: boolean): string {
  const extras = route.extraPercents.map((e) => ` · ${e.service} ${formatPercent(e.percent)}`).join('');
  const weight = route.percent !== undefined && route.weight ? `canary ${formatPercent(route.percent)} (${route.weight.canary}/${route.weight.total})${extras}` : paint(route.error ?? 'no weight', 'bad', color);
  return `${route.kind}/${route.name}  ${weight}`;
}

/** A phase as the tree shows it: its label, in the tone given or its own. */
type PaintStatus = (phase: string, tone?: Tone) => string;

/** The table of the tree: the Rollout, the analysis runs of no known revision, then each revision. */
function rolloutTree(view: RolloutViewModel, options: RenderOptions): string[][] {
  const { now, color } = options;
  const rows: string[][] = [['NAME', 'KIND', 'STATUS', 'AGE', 'INFO']];
  const status = (phase: string, tone: Tone = phaseTone(phase)): string => paint(statusLabel(phase, tone), tone, color);
  rows.push([view.name, 'Rollout', status(view.phase), age(view.createdAt, now), '']);
  // One count across both lists: only the very last of them gets the closing └─.
  const topLevel = view.revisions.length + view.analysisRuns.length;
  let topIndex = 0;
  for (const ar of view.analysisRuns) rows.push(analysisRow(++topIndex === topLevel ? '└─ ' : '├─ ', ar, now, status));
  for (const rev of view.revisions) revisionRows(rows, rev, ++topIndex === topLevel, now, color, status);
  return rows;
}

/** A revision's row, then its ReplicaSets, analysis runs and experiments below it. */
function revisionRows(rows: string[][], rev: RevisionView, last: boolean, now: number, color: boolean, status: PaintStatus): void {
  const stem = last ? '   ' : '│  ';
  rows.push([`${last ? '└─ ' : '├─ '}revision ${rev.revision}`, '', '', '', '']);
  const children = rev.replicaSets.length + rev.analysisRuns.length + rev.experiments.length;
  let childIndex = 0;
  for (const rs of rev.replicaSets) replicaSetRows(rows, stem, ++childIndex === children, rs, now, color, status);
  for (const ar of rev.analysisRuns) rows.push(analysisRow(`${stem}${++childIndex === children ? '└─ ' : '├─ '}`, ar, now, status));
  for (const exp of rev.experiments) experimentRows(rows, stem, ++childIndex === children, exp, now, color, status);
}

/** An experiment step's Experiment, with its templates' ReplicaSets and pods and its runs. */
function experimentRows(rows: string[][], stem: string, last: boolean, exp: ExperimentTreeView, now: number, color: boolean, status: PaintStatus): void {
  rows.push([`${stem}${last ? '└─ ' : '├─ '}${exp.name}`, 'Experiment', status(exp.phase), age(exp.createdAt, now), exp.message]);
  const expStem = `${stem}${last ? '   ' : '│  '}`;
  const grandChildren = exp.replicaSets.length + exp.analysisRuns.length;
  let i = 0;
  for (const rs of exp.replicaSets) replicaSetRows(rows, expStem, ++i === grandChildren, rs, now, color, status);
  for (const ar of exp.analysisRuns) rows.push(analysisRow(`${expStem}${++i === grandChildren ? '└─ ' : '├─ '}`, ar, now, status));
}

function analysisRow(prefix: string, ar: AnalysisRunView, now: number, status: PaintStatus): string[] {
  return [`${prefix}${ar.name}`, 'AnalysisRun', status(ar.phase), age(ar.createdAt, now), countsText(ar.counts)];
}

/** A ReplicaSet's row under `stem`, then its pods' rows below it. */
function replicaSetRows(rows: string[][], stem: string, last: boolean, rs: ReplicaSetView, now: number, color: boolean, status: PaintStatus): void {
  rows.push(replicaSetRow(`${stem}${last ? '└─ ' : '├─ '}`, rs, now, color, status));
  const podStem = `${stem}${last ? '   ' : '│  '}`;
  rs.pods.forEach((pod, i) => rows.push(podRow(`${podStem}${i === rs.pods.length - 1 ? '└─ ' : '├─ '}`, pod, now, status)));
}

function replicaSetRow(prefix: string, rs: ReplicaSetView, now: number, color: boolean, status: PaintStatus): string[] {
  const info: string[] = [];
  if (rs.tags.length) info.push(tags(rs.tags, color));
  if (rs.status !== 'ScaledDown') info.push(`available ${rs.available}/${rs.desired}`);
  if (rs.scaleDownAt !== undefined && rs.scaleDownAt > now && rs.desired > 0) info.push(`scale-down in ${formatDuration(rs.scaleDownAt - now)}`);
  return [`${prefix}${rs.name}`, 'ReplicaSet', status(rs.status), age(rs.createdAt, now), info.join(' · ')];
}

function podRow(prefix: string, pod: PodView, now: number, status: PaintStatus): string[] {
  const tone: Tone = pod.ok === true ? 'ok' : pod.ok === false ? 'bad' : pod.status === 'Terminating' ? 'muted' : 'busy';
  return [`${prefix}${pod.name}`, 'Pod', status(pod.status, tone), age(pod.createdAt, now), `ready ${pod.ready} · restarts ${pod.restarts}`];
}

/** The `list rollouts` table. */
export function renderList(views: RolloutViewModel[], options: RenderOptions & { allNamespaces: boolean }): string {
  if (views.length === 0) return '';
  const header = ['NAME', 'STRATEGY', 'STATUS', 'STEP', 'SET-WEIGHT', 'ACTUAL-WEIGHT', 'READY', 'AVAILABLE', 'AGE', 'IMAGES'];
  if (options.allNamespaces) header.unshift('NAMESPACE');
  const rows: string[][] = [header];
  for (const v of views) {
    const row = [
      v.name,
      v.strategy,
      paint(statusLabel(v.phase), phaseTone(v.phase), options.color),
      v.step ? `${v.step.index}/${v.step.total}` : '-',
      v.setWeight !== undefined ? formatPercent(v.setWeight) : '-',
      v.actualWeight !== undefined ? formatPercent(v.actualWeight) : '-',
      `${v.replicas.ready}/${v.replicas.desired}`,
      String(v.replicas.available),
      age(v.createdAt, options.now),
      v.images.map((i) => `${i.image}${i.tags.length ? ` (${i.tags.join(', ')})` : ''}`).join(', '),
    ];
    if (options.allNamespaces) row.unshift(v.namespace);
    rows.push(row);
  }
  return `${table(rows).join('\n')}\n`;
}

/** `rollway get analysisrun NAME`. */
export function renderAnalysisRun(ar: AnalysisRunView, namespace: string, options: RenderOptions): string {
  const out = [
    `${pad('Name:', 11)}${ar.name}`,
    `${pad('Namespace:', 11)}${namespace}`,
    `${pad('Status:', 11)}${paint(statusLabel(ar.phase as Phase), phaseTone(ar.phase), options.color)}`,
  ];
  if (ar.message) out.push(`${pad('Message:', 11)}${ar.message}`);
  out.push(`${pad('Age:', 11)}${age(ar.createdAt, options.now)}`);
  out.push(`${pad('Measured:', 11)}${countsText(ar.counts)}`);
  out.push('');
  const rows = [['METRIC', 'STATUS', 'SUCCESSFUL', 'FAILED', 'INCONCLUSIVE', 'ERROR', 'MESSAGE']];
  for (const m of ar.metrics) {
    rows.push([m.name, paint(statusLabel(m.phase), phaseTone(m.phase), options.color), String(m.successful), String(m.failed), String(m.inconclusive), String(m.error), m.message]);
  }
  out.push(...table(rows));
  return `${out.join('\n')}\n`;
}

// The pure half of bench/argo-compare.ts: reading each controller's request metrics and printing
// the two columns with their ratio and the issue-16 targets.

export interface Figures {
  readyMs: number;
  stepP50: number;
  stepP99: number;
  stepCpuMs: number;
  writesPerRollout: number;
  rssMiB: number;
}

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
};

const WRITE_VERBS = {
  // rollway_api_calls_total{verb="patch",status="200"}
  rollway: { metric: 'rollway_api_calls_total', verbs: ['create', 'update', 'patch', 'apply', 'delete'] },
  // controller_clientset_k8s_request_total{kind=…,namespace=…,name=…,verb="Patch",status_code="200"}
  argo: { metric: 'controller_clientset_k8s_request_total', verbs: ['Create', 'Update', 'Patch', 'Delete'] },
};

/** API writes a controller counted so far, from its Prometheus text (each counts its own requests). */
export function apiWrites(controller: keyof typeof WRITE_VERBS, metricsText: string): number {
  const { metric, verbs } = WRITE_VERBS[controller];
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const verb = /[{,]verb="(\w+)"/.exec(line)?.[1];
    if (verb && verbs.includes(verb)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

const met = (ok: boolean): string => (ok ? 'met' : 'not met');
/** "0.31×" (Rollway's figure over Argo's: below 1 means Rollway needs less). */
const ratio = (ours: number, theirs: number): string => `${(ours / theirs).toFixed(2)}×`;

/** One figure of both controllers: Rollway's, Argo's, the ratio and the issue-16 target where one applies. */
export interface ComparisonRow {
  what: string;
  figure: string;
}

/** The comparison, a row per figure (printed as lines, and merged into the README's bench table). */
export function comparisonRows(ours: Figures, argo: Figures, count: number): ComparisonRow[] {
  const rows: [string, number, number, string, string][] = [
    ['start on an empty namespace → ready (median)', ours.readyMs, argo.readyMs, 'ms', `target: below Argo's: ${met(ours.readyMs < argo.readyMs)}`],
    [`${count} rollouts promoted at once, promote → VirtualService written, p50`, ours.stepP50, argo.stepP50, 'ms', ''],
    [`${count} rollouts promoted at once, promote → VirtualService written, p99`, ours.stepP99, argo.stepP99, 'ms', `target ≤ 1/10 of Argo's: ${met(ours.stepP99 * 10 <= argo.stepP99)}`],
    ['controller CPU for that step', ours.stepCpuMs, argo.stepCpuMs, 'ms', ''],
    ['API writes per rollout for that step (its own metrics)', ours.writesPerRollout, argo.writesPerRollout, '', ''],
    [`controller RSS settled with ${count} rollouts (4 pods each)`, ours.rssMiB, argo.rssMiB, 'MiB', `target: below Argo's: ${met(ours.rssMiB < argo.rssMiB)}`],
  ];
  const shown = (n: number, unit: string): string => `${Number.isInteger(n) ? n : n.toFixed(2)}${unit ? ` ${unit}` : ''}`;
  return rows.map(([what, a, b, unit, target]) => ({ what, figure: `Rollway ${shown(a, unit)}, Argo ${shown(b, unit)}, ratio ${ratio(a, b)}${target ? ` (${target})` : ''}` }));
}

/** The comparison as lines: a heading with the load, then what: Rollway, Argo Rollouts, ratio, target. */
export function comparisonLines(ours: Figures, argo: Figures, count: number, loadAvg: string): string[] {
  return [`Rollway vs Argo Rollouts, same workload one after the other (load average at the end ${loadAvg}):`, ...comparisonRows(ours, argo, count).map((r) => `${r.what}: ${r.figure}`)];
}

// Prometheus' text exposition format (version 0.0.4), written by hand: every family is read at
// scrape time from a function, and the one histogram we keep is a fixed-bucket counter array.
// The client library this replaces loaded 80 modules (its tracing dependency among them) and
// cost ~55 ms of every controller start (measured; README "Benchmarks").

export type Labels = Readonly<Record<string, string>>;

/** One line of a family: its labels, its value, and for histograms the suffix (_bucket, _sum, _count). */
export interface Sample {
  labels?: Labels;
  value: number;
  suffix?: string;
}

export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** read at every scrape */
  samples: () => readonly Sample[] | Promise<readonly Sample[]>;
}

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Cumulative buckets, a sum and a count, as Prometheus histograms are. */
export class Histogram {
  private readonly buckets: readonly number[];
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(buckets: readonly number[]) {
    this.buckets = buckets;
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  samples(labels: Labels = {}): Sample[] {
    return [
      ...this.buckets.map((le, i) => ({ suffix: '_bucket', labels: { ...labels, le: formatValue(le) }, value: this.counts[i]! })),
      { suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: this.count },
      { suffix: '_sum', labels, value: this.sum },
      { suffix: '_count', labels, value: this.count },
    ];
  }
}

/** The families in order, each with its HELP and TYPE lines. A family without samples keeps its header, as client libraries do. */
export async function exposition(families: readonly Family[]): Promise<string> {
  const out: string[] = [];
  for (const family of families) {
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of await family.samples()) out.push(`${family.name}${sample.suffix ?? ''}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
  }
  return `${out.join('\n')}\n`;
}

function formatLabels(labels: Labels | undefined): string {
  const pairs = Object.entries(labels ?? {});
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

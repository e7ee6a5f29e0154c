// Where a controller's CPU went: `node bench/cpu-profile.ts FILE.cpuprofile [FROM_US TO_US]`
// prints the functions with the most self time (samples inside the window only, when given; the
// bench prints the window of its 100-rollout step in the same monotonic clock as the profile).
// Profiles come from `BENCH_CPU_PROF=DIR make bench` (the controllers run with --cpu-prof).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time in µs per function (name, file:line), of the samples taken within [from, to]. */
export function selfTimes(profile: CpuProfile, from = -Infinity, to = Infinity): Map<string, number> {
  const names = new Map(profile.nodes.map((n) => [n.id, label(n)]));
  const out = new Map<string, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from || at > to) continue;
    const name = names.get(profile.samples[i]!) ?? '?';
    out.set(name, (out.get(name) ?? 0) + delta);
  }
  return out;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules\/|main\/)?/, '');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

if (import.meta.main) {
  const [file, from, to] = process.argv.slice(2);
  if (!file) throw new Error('usage: node bench/cpu-profile.ts FILE.cpuprofile [FROM_US TO_US]');
  const times = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, from ? Number(from) : undefined, to ? Number(to) : undefined);
  const total = [...times.values()].reduce((a, b) => a + b, 0);
  const idle = times.get('(idle) :0') ?? 0;
  process.stdout.write(`window: ${(total / 1000).toFixed(0)} ms, busy ${((total - idle) / 1000).toFixed(0)} ms\n`);
  for (const [name, us] of [...times].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    process.stdout.write(`${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}\n`);
  }
}

// The process and Node.js metrics every Node service exports under these conventional names:
// CPU, memory, file descriptors, event-loop delay, heap spaces and GC pauses. Read at scrape time
// from process, v8 and /proc (where /proc is missing, as on a developer's Mac, those lines go).
import { readdirSync, readFileSync } from 'node:fs';
import type { ELDHistogram, PerformanceNodeEntry } from 'node:perf_hooks';
import v8 from 'node:v8';
import { Histogram, type Family, type Sample } from './prometheus.ts';

// node:perf_hooks at first use: Node does not vouch for its state in a startup snapshot
// (tools/build-snapshot.ts), so no module the snapshot evaluates loads it.
const perfHooks = (): typeof import('node:perf_hooks') => process.getBuiltinModule('node:perf_hooks');

const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];
function gcKinds(): Record<number, string> {
  const { constants } = perfHooks();
  return {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MINOR_MARK_SWEEP]: 'minor_mark_sweep',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
}

/** Starts the event-loop and GC monitors (a 10 ms timer and a GC observer) and answers the families that read them. */
export function processMetrics(): Family[] {
  const delay = perfHooks().monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const gc = gcHistograms();
  const startSeconds = Math.round((Date.now() - performance.now()) / 1000);
  const gauge = (name: string, help: string, read: () => number | undefined): Family => ({ name, help, type: 'gauge', samples: () => one(read()) });
  const counter = (name: string, help: string, read: () => number): Family => ({ name, help, type: 'counter', samples: () => one(read()) });
  // The delay statistics of the window since the last scrape: taken (and the window restarted)
  // when the first of them is read, so all seven describe the same window.
  let window = takeWindow(delay);
  const lagStat = (stat: keyof DelayWindow, read?: () => DelayWindow): Family =>
    gauge(`nodejs_eventloop_lag_${stat}_seconds`, `The ${stat} of the event loop delay since the last scrape.`, () => (read ? (window = read()) : window)[stat] / 1e9);
  return [
    counter('process_cpu_user_seconds_total', 'User CPU time spent in seconds.', () => process.cpuUsage().user / 1e6),
    counter('process_cpu_system_seconds_total', 'System CPU time spent in seconds.', () => process.cpuUsage().system / 1e6),
    counter('process_cpu_seconds_total', 'User and system CPU time spent in seconds.', () => cpuSeconds()),
    gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch in seconds.', () => startSeconds),
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss()),
    gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', () => procStatusKiB('VmSize')),
    gauge('process_heap_bytes', 'Process heap (data segment) size in bytes.', () => procStatusKiB('VmData')),
    gauge('process_open_fds', 'Number of open file descriptors.', () => openFds()),
    gauge('process_max_fds', 'Maximum number of open file descriptors.', () => maxFds()),
    { name: 'nodejs_eventloop_lag_seconds', help: 'Lag of the event loop in seconds, measured at the scrape.', type: 'gauge', samples: async () => one(await immediateLag()) },
    lagStat('min', () => takeWindow(delay)),
    lagStat('max'),
    lagStat('mean'),
    lagStat('stddev'),
    lagStat('p50'),
    lagStat('p90'),
    lagStat('p99'),
    gauge('nodejs_active_resources_total', 'Resources keeping the event loop alive (handles and requests).', () => process.getActiveResourcesInfo().length),
    gauge('nodejs_heap_size_total_bytes', 'Heap size allocated by V8, in bytes.', () => process.memoryUsage().heapTotal),
    gauge('nodejs_heap_size_used_bytes', 'Heap size used by V8, in bytes.', () => process.memoryUsage().heapUsed),
    gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript objects, in bytes.', () => process.memoryUsage().external),
    ...heapSpaceFamilies(),
    { name: 'nodejs_version_info', help: 'Node.js version.', type: 'gauge', samples: () => [{ labels: versionLabels(), value: 1 }] },
    { name: 'nodejs_gc_duration_seconds', help: 'Garbage collection pauses by kind, in seconds.', type: 'histogram', samples: () => [...gc].flatMap(([kind, h]) => h.samples({ kind })) },
  ];
}

const one = (value: number | undefined): Sample[] => (value === undefined || Number.isNaN(value) ? [] : [{ value }]);

interface DelayWindow {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
}

/** The delay statistics so far, in ns; the monitor starts a new window. */
function takeWindow(delay: ELDHistogram): DelayWindow {
  const window = { min: delay.min, max: delay.max, mean: delay.mean, stddev: delay.stddev, p50: delay.percentile(50), p90: delay.percentile(90), p99: delay.percentile(99) };
  delay.reset();
  return window;
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** The delay of a setImmediate callback: how long queued work holds the loop right now. */
function immediateLag(): Promise<number> {
  const queued = process.hrtime.bigint();
  return new Promise((resolve) => setImmediate(() => resolve(Number(process.hrtime.bigint() - queued) / 1e9)));
}

function gcHistograms(): Map<string, Histogram> {
  const byKind = new Map<string, Histogram>();
  const kinds = gcKinds();
  const observer = new (perfHooks().PerformanceObserver)((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[((entry as PerformanceNodeEntry).detail as { kind?: number } | undefined)?.kind ?? 0] ?? 'other';
      let h = byKind.get(kind);
      if (!h) byKind.set(kind, (h = new Histogram(GC_BUCKETS)));
      h.observe(entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return byKind;
}

function heapSpaceFamilies(): Family[] {
  const read = (field: 'space_size' | 'space_used_size' | 'space_available_size'): Sample[] =>
    v8.getHeapSpaceStatistics().map((s) => ({ labels: { space: s.space_name.replace(/_space$/, '') }, value: s[field] }));
  return [
    { name: 'nodejs_heap_space_size_total_bytes', help: 'Size of each V8 heap space, in bytes.', type: 'gauge', samples: () => read('space_size') },
    { name: 'nodejs_heap_space_size_used_bytes', help: 'Used size of each V8 heap space, in bytes.', type: 'gauge', samples: () => read('space_used_size') },
    { name: 'nodejs_heap_space_size_available_bytes', help: 'Available size of each V8 heap space, in bytes.', type: 'gauge', samples: () => read('space_available_size') },
  ];
}

function versionLabels(): Record<string, string> {
  const [major = '', minor = '', patch = ''] = process.versions.node.split('.');
  return { version: process.version, major, minor, patch };
}

function procStatusKiB(field: string): number | undefined {
  const text = readProc('/proc/self/status');
  const kib = text && new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1];
  return kib ? Number(kib) * 1024 : undefined;
}

function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length - 1; // the directory handle readdir itself opened
  } catch {
    return undefined;
  }
}

function maxFds(): number | undefined {
  const limit = /^Max open files\s+(\d+)/m.exec(readProc('/proc/self/limits') ?? '')?.[1];
  return limit ? Number(limit) : undefined;
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

// A real Prometheus server for the analysis e2e scenarios, and a small exporter whose error rate
// a test sets. Prometheus is Debian's /usr/bin/prometheus (tools/install-deps.sh installs it),
// started on a free loopback port with a temporary config (scrape interval 1 s) and storage
// folder; it is stopped by the pid recorded here, and its folder removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { sleep } from './harness.ts';
import { freePort } from '../testing/http-server.ts';

export const PROMETHEUS_BIN = process.env.ROLLWAY_PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export interface PrometheusServer {
  /** base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  pid: number;
  /** what Prometheus logged so far */
  logs: () => string;
  /** the value of an instant query (the first sample), undefined when the vector is empty */
  query: (promql: string) => Promise<number | undefined>;
  /** waits until an instant query gives a value that `until` accepts */
  waitFor: (promql: string, until: (value: number | undefined) => boolean, timeoutMs?: number) => Promise<void>;
  stop: () => Promise<void>;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: text };
  }
}

/** Starts Prometheus scraping `targets` (host:port) every second. */
export async function startPrometheus(targets: string[]): Promise<PrometheusServer> {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`Prometheus is not installed: ${PROMETHEUS_BIN} is missing. Install Debian's prometheus package (apt-get install prometheus; tools/install-deps.sh does it) or set ROLLWAY_PROMETHEUS_BIN.`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rollway-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: exporter',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h', '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid ?? -1;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    }, 5000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };

  const query = async (promql: string): Promise<number | undefined> => {
    const { body } = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const result = (body as { data?: { result?: { value: [number, string] }[] } }).data?.result ?? [];
    return result.length > 0 ? Number(result[0]!.value[1]) : undefined;
  };
  const waitFor = async (promql: string, until: (value: number | undefined) => boolean, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last: number | undefined;
    for (;;) {
      try {
        last = await query(promql);
        if (until(last)) return;
      } catch {
        // not ready yet
      }
      if (Date.now() > deadline) throw new Error(`Prometheus at ${url}: ${promql} did not reach the expected value within ${timeoutMs}ms (last ${String(last)})\n${output.slice(-2000)}`);
      await sleep(250);
    }
  };

  // Ready when /-/ready answers 200.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`Prometheus exited at start (code ${String(child.exitCode)}):\n${output.slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus did not become ready on ${url} within 30s:\n${output.slice(-2000)}`);
    }
    await sleep(200);
  }
  return { url, pid, logs: () => output, query, waitFor, stop };
}

export interface Exporter {
  /** host:port to scrape */
  target: string;
  /** the value of app_error_rate (0..1) from now on */
  setErrorRate: (rate: number) => void;
  close: () => Promise<void>;
}

/** An in-process exporter serving `app_error_rate` (a gauge the test sets) on 127.0.0.1. */
export async function startExporter(initialRate = 0): Promise<Exporter> {
  let rate = initialRate;
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# HELP app_error_rate Share of requests that failed.\n# TYPE app_error_rate gauge\napp_error_rate ${rate}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    target: `127.0.0.1:${port}`,
    setErrorRate: (r) => {
      rate = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// BENCH_APISERVER_PROF=DIR: a CPU profile of kube-apiserver (its /debug/pprof endpoint, on by
// default) over a burst the bench times, to say where the control plane spends a step.
// Read it with `go tool pprof -top DIR/<name>.pprof`.
import { createWriteStream, mkdirSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadConnection } from '../kube/kubeconfig.ts';

/** Starts a `seconds`-long CPU profile of the API server; the promise settles once it is written. */
export async function profileApiserver(kubeconfig: string, dir: string, name: string, seconds: number): Promise<string> {
  const connection = loadConnection({ path: kubeconfig });
  const options: https.RequestOptions = { method: 'GET' };
  await connection.authenticate(options);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.pprof`);
  const url = new URL(`/debug/pprof/profile?seconds=${seconds}`, connection.server);
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => https.get(url, options, resolve).on('error', reject));
  if (res.statusCode !== 200) throw new Error(`kube-apiserver profile: HTTP ${res.statusCode}`);
  await pipeline(res, createWriteStream(file));
  return file;
}

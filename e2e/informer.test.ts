// The informer against the real control plane: it sees a ConfigMap created, updated and deleted
// within seconds, and once stopped it leaves nothing behind that would keep a process alive.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resourcePath, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { Informer, type InformerEvent, type InformerEventType } from '../kube/informer.ts';
import { kubeconfigPath, repoRoot, scenario } from './harness.ts';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** Resolves with the first event of that type about that object, now or within timeoutMs. */
function nextEvent(events: Array<InformerEvent<ConfigMap>>, type: InformerEventType, name: string, timeoutMs = 5000): Promise<InformerEvent<ConfigMap>> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const found = events.find((e) => e.type === type && e.object.metadata.name === name);
      if (found) resolve(found);
      else if (Date.now() > deadline) reject(new Error(`no '${type}' event for ${name} within ${timeoutMs}ms; events seen: ${events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`).join(', ') || 'none'}`));
      else setTimeout(check, 20);
    };
    check();
  });
}

/** Runs an informer in a child process that stops it and never closes its client; answers how the child ended. */
function runChildThatOnlyStops(namespace: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  const url = (file: string): string => pathToFileURL(path.join(repoRoot, file)).href;
  const code = `
    import { KubeClient } from ${JSON.stringify(url('kube/client.ts'))};
    import { Informer } from ${JSON.stringify(url('kube/informer.ts'))};
    const client = KubeClient.fromKubeconfig({ path: process.env.ROLLWAY_CHILD_KUBECONFIG });
    const informer = new Informer(client, { group: '', version: 'v1', plural: 'configmaps', namespace: process.env.ROLLWAY_CHILD_NS });
    informer.start();
    await informer.waitForSync();
    while (informer.stats().watches === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the watch connect
    informer.stop();
    console.log(JSON.stringify({ objects: informer.list().length, ...informer.stats() }));
    // no client.close() and no process.exit(): the process must end by itself
  `;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '--eval', code], {
      env: { ...process.env, ROLLWAY_CHILD_KUBECONFIG: kubeconfigPath(), ROLLWAY_CHILD_NS: namespace },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(killer);
      resolve({ code: exitCode, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Timers and sockets that keep the event loop alive (unref'd idle keep-alive sockets are not listed). */
const liveHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap' || r === 'TLSWrap').length;

// At most `target`: the client's HTTP/2 connection is shared, and counts only while a stream is open.
async function settlesTo(count: () => number, target: number, timeoutMs = 2000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (count() > target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return count();
}

scenario('an informer follows the ConfigMaps of a namespace', async ({ cluster, ns, given, when, then }) => {
  const ref: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespace: ns };
  const cmRef: ResourceRef = { ...ref, name: 'settings' };
  const events: Array<InformerEvent<ConfigMap>> = [];
  const problems: string[] = [];
  const informer = new Informer<ConfigMap>(cluster.client, ref, {
    log: (level, msg, fields) => {
      if (level === 'warn' || level === 'error') problems.push(`${level} ${msg} ${JSON.stringify(fields)}`);
    },
  });
  informer.on((e) => events.push(e));
  let handlesBefore = 0;
  try {
    await given('an informer on the namespace’s ConfigMaps has synced', async () => {
      handlesBefore = liveHandles();
      informer.start();
      await informer.waitForSync();
      assert.equal(informer.hasSynced(), true);
      assert.equal(informer.get(ns, 'settings'), undefined);
    });

    await when('a ConfigMap is created', () =>
      cluster.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns }, data: { color: 'blue' } }, ns),
    );
    await then('the informer sees it added within 5 s', async () => {
      const added = await nextEvent(events, 'added', 'settings');
      assert.equal(added.object.data?.color, 'blue');
      assert.equal(informer.get(ns, 'settings')?.data?.color, 'blue');
    });

    await when('the ConfigMap is updated', () => cluster.patch(cmRef, { data: { color: 'green' } }));
    await then('the informer sees the update, with the old state, within 5 s', async () => {
      const updated = await nextEvent(events, 'updated', 'settings');
      assert.equal(updated.object.data?.color, 'green');
      assert.equal(updated.old?.data?.color, 'blue');
      assert.equal(informer.get(ns, 'settings')?.data?.color, 'green');
    });

    // A DELETE without a body: KubeClient.delete sends its DeleteOptions body chunked, after which
    // the API server answers the next request on that keep-alive connection with a bare 400 — and
    // that next request would be the harness's namespace cleanup. (Reported; kube/client.ts is not
    // this scenario's to fix.)
    await when('the ConfigMap is deleted', () => cluster.client.request('DELETE', resourcePath(cmRef)));
    await then('the informer sees the delete within 5 s and forgets the object', async () => {
      const deleted = await nextEvent(events, 'deleted', 'settings');
      assert.equal(deleted.object.metadata.name, 'settings');
      assert.equal(informer.get(ns, 'settings'), undefined);
      assert.equal(events.filter((e) => e.object.metadata.name === 'settings').length, 3, 'exactly one add, one update, one delete');
    });

    await then('it did all that on one list and one watch, without errors', () => {
      assert.deepEqual(informer.stats(), { lists: 1, watches: 1, relistsAfterGone: 0, errors: 0 });
      assert.deepEqual(problems, []);
    });

    await then('after stop() the watch closes and no timer or socket of the informer is left', async () => {
      informer.stop();
      await informer.closed();
      assert.ok((await settlesTo(liveHandles, handlesBefore)) <= handlesBefore, `still active: ${process.getActiveResourcesInfo().join(', ')}`);
    });

    await then('a process whose informer is stopped exits by itself, without closing the client', async () => {
      const child = await runChildThatOnlyStops(ns);
      assert.equal(child.signal, null, `the child had to be killed: something kept it alive\n${child.stderr}`);
      assert.equal(child.code, 0, child.stderr);
      const stats = JSON.parse(child.stdout.trim()) as { lists: number; watches: number; errors: number };
      assert.equal(stats.lists, 1);
      assert.equal(stats.watches, 1);
      assert.equal(stats.errors, 0);
      assert.ok(child.ms < 15_000, `the child took ${child.ms}ms`);
    });
  } finally {
    informer.stop();
  }
});

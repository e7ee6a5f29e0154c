// Fault: the kube-apiserver is killed mid-rollout and started again ~9 s later. On a cluster of
// its own (as e2e/cluster-lifecycle.test.ts starts one, on port 27443), so the shared cluster is
// not disturbed. The controller runs with leader election on: its lease lapses during the outage.
// Asserted: the controller process does not exit; once /readyz answers ok again, a promote is
// acted on within 5 s (its informers caught up); the timed pause that was running took no longer
// than its 5 s + the outage + 5 s. The measured times are printed.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { promote, setImage } from '../../client/actions.ts';
import { Cluster, repoRoot, sleep, startController, type ControllerProcess } from '../harness.ts';
import { apiReady, canaryWeight, controllerAlive, crashSigns, deleteRollouts, envInt, healthyOnSpec, ISTIO_VS, printFigures, ROLLOUTS, routedRollout, seconds, waitUntil, type RolloutLike } from './support.ts';

const OUTAGE_MS = envInt('FAULTS_OUTAGE_MS', 9000);
const PAUSE_MS = 5000;
const RECOVERY_BUDGET_MS = 5000;

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'rollway-faults-apiserver-'));
const env = { ...process.env, ROLLWAY_CLUSTER_DIR: stateDir, ROLLWAY_API_PORT: '27443', ROLLWAY_KWOK_NODES: '1' };
const clusterScript = path.join(repoRoot, 'hack/cluster.sh');
const runScript = promisify(execFile);

// timed: a 5 s pause that runs out during the outage; gated: waits for the promote made after it.
const TIMED_STEPS = [{ setWeight: 20 }, { pause: { duration: PAUSE_MS / 1000 } }, { setWeight: 40 }, { pause: {} }];
const GATED_STEPS = [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { pause: {} }];

void test(`kube-apiserver killed for ${OUTAGE_MS / 1000} s mid-rollout: the controller stays up, catches up within 5 s, and the running pause ends on time`, { timeout: 300_000 }, async (t) => {
  const state: { cluster?: Cluster; controller?: ControllerProcess; ns?: string } = {};
  t.after(async () => {
    const { cluster, controller, ns } = state;
    if (cluster && controller && ns) await deleteRollouts(cluster.client, ns, 10_000).catch(() => {});
    await controller?.kill();
    cluster?.close();
    execFileSync(clusterScript, ['down'], { env, stdio: 'ignore' });
    rmSync(stateDir, { recursive: true, force: true });
  });

  let kubeconfig = '';
  await t.test('given a cluster of its own on port 27443', () => {
    const out = execFileSync(clusterScript, ['up'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    kubeconfig = out.trim().split('\n').at(-1)!;
    assert.equal(kubeconfig, path.join(stateDir, 'kubeconfig'));
  });
  const c = (state.cluster = new Cluster(kubeconfig));
  const ns = (state.ns = (await c.namespace('faults-apiserver')).name);
  const ro = (name: string) => ({ ...ROLLOUTS, namespace: ns, name });
  const weightOf = async (name: string): Promise<number | undefined> => {
    const vs = await c.get({ ...ISTIO_VS, namespace: ns, name });
    return vs ? canaryWeight(vs) : undefined;
  };

  await t.test('given a controller with leader election on, and two routed Rollouts', async () => {
    state.controller = startController(ns, ['--kubeconfig', kubeconfig]);
    await c.apply([...routedRollout('timed', TIMED_STEPS), ...routedRollout('gated', GATED_STEPS)], ns);
    for (const name of ['timed', 'gated']) await c.waitFor<RolloutLike>(ro(name), healthyOnSpec, { what: `${name} Healthy`, timeoutMs: 60_000 });
    assert.match(state.controller.logs(), /leaderElection=true/);
    assert.match(state.controller.logs(), /became leader/);
  });

  await t.test('when gated waits at its manual pause (10%)', async () => {
    await setImage(c.client, ns, 'gated', 'app=example.com/app:2');
    await c.waitFor<RolloutLike>(ro('gated'), (r) => r?.status?.currentStepIndex === 1 && (r.status.pauseConditions ?? []).length > 0, { what: 'gated paused at step 1', timeoutMs: 30_000 });
    assert.equal(await weightOf('gated'), 10);
  });

  let pauseStartedAt = 0;
  await t.test('when timed enters its 5 s pause', async () => {
    await setImage(c.client, ns, 'timed', 'app=example.com/app:2');
    pauseStartedAt = await waitUntil('timed in its 5 s pause', async () => {
      const r = await c.get<RolloutLike>(ro('timed'));
      return r?.status?.currentStepIndex === 1 && (r.status.pauseConditions ?? []).length > 0;
    }, { timeoutMs: 30_000, intervalMs: 50 });
  });

  let stoppedAt = 0;
  let readyAt = 0;
  let actedAt = 0;
  let pauseEndedAt = 0;
  await t.test(`when the kube-apiserver is killed, and started again ${OUTAGE_MS / 1000} s later`, async () => {
    execFileSync(clusterScript, ['stop-component', 'kube-apiserver', 'KILL'], { env, stdio: 'ignore' });
    stoppedAt = Date.now();
    assert.equal(await apiReady(kubeconfig), false, 'the API server is down');
    await sleep(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
    const started = runScript(clusterScript, ['start-component', 'kube-apiserver'], { env });
    readyAt = await waitUntil('/readyz ok', () => apiReady(kubeconfig), { timeoutMs: 90_000, intervalMs: 50 });
    await started;
  });

  await t.test('then a promote made as soon as /readyz is ok is acted on within 5 s', async () => {
    await promote(c.client, ns, 'gated');
    actedAt = await waitUntil('gated at 50% after the promote', async () => (await weightOf('gated')) === 50, { timeoutMs: 60_000, intervalMs: 50 });
    assert.ok(actedAt - readyAt <= RECOVERY_BUDGET_MS, `the promote took ${actedAt - readyAt} ms from /readyz ok to the VirtualService write (budget ${RECOVERY_BUDGET_MS} ms)`);
  });

  await t.test('then the 5 s pause that ran out during the outage ended within 5 s + outage + 5 s', async () => {
    pauseEndedAt = await waitUntil('timed past its pause (40%)', async () => (await weightOf('timed')) === 40, { timeoutMs: 60_000, intervalMs: 50 });
    const took = pauseEndedAt - pauseStartedAt;
    const outage = readyAt - stoppedAt;
    const timedLog = (state.controller?.logs() ?? '').split('\n').filter((l) => /timed|lease|relist|informer/.test(l)).slice(-40).join('\n');
    assert.ok(took <= PAUSE_MS + outage + 5000, `the pause took ${took} ms; allowed ${PAUSE_MS} + ${outage} (outage) + 5000; controller log about it:\n${timedLog}`);
  });

  await t.test('then the controller process never exited and logged no crash', () => {
    const { controller } = state;
    assert.ok(controller && controllerAlive(controller.pid), `controller exited; its log:\n${controller?.logs()}`);
    assert.deepEqual(crashSigns(controller.logs()), []);
  });

  const { controller } = state;
  const log = controller?.logs() ?? '';
  printFigures(`kube-apiserver outage (${path.basename(stateDir)})`, [
    ['API server down (kill -> /readyz ok)', seconds(readyAt - stoppedAt)],
    ['recovery: /readyz ok -> promote acted on', `${actedAt - readyAt} ms (budget ${RECOVERY_BUDGET_MS} ms)`],
    ['5 s pause spanning the outage took', `${seconds(pauseEndedAt - pauseStartedAt)} (allowed ${seconds(PAUSE_MS + readyAt - stoppedAt + 5000)}), ended ${pauseEndedAt - readyAt} ms after /readyz ok`],
    ['controller process', controller && controllerAlive(controller.pid) ? 'alive, never restarted' : 'EXITED'],
    ['lease lapses logged / regained', `${(log.match(/lease not renewed within the deadline/g) ?? []).length} / ${(log.match(/lease renewed again/g) ?? []).length}`],
  ]);
});

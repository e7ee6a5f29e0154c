// The `rollway` commands on the real control plane, run as separate processes the way users and
// CI scripts run them: what they print, what they change, and their exit codes.
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ReplicaSetObject, RolloutObject } from '../controller/controller.ts';
import type { ResourceRef } from '../kube/client.ts';
import { cli, rolloutYaml, keepLog } from './cli-helpers.ts';
import { scenario, startController } from './harness.ts';

const rolloutRef = (ns: string, name: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
const rsRef = (ns: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns });

const observed = (ro: RolloutObject | undefined): boolean => ro?.status?.observedGeneration === String(ro?.metadata.generation);
const phaseIs = (phase: string, extra: (ro: RolloutObject) => boolean = () => true) => (ro: RolloutObject | undefined): boolean => observed(ro) && ro!.status?.phase === phase && extra(ro!);
const image = (ro: RolloutObject | undefined): string => ((ro?.spec.template as { spec: { containers: { image: string }[] } }).spec.containers[0]!.image ?? '').split(':').at(-1)!;

const steps = `
      - setWeight: 50
      - pause: {}
      - pause: {duration: 2}`;

scenario(
  'driving a canary with the CLI: set image, status, get, list, promote, pause, abort, retry, undo, promote --full, restart',
  async ({ cluster, ns, given, when, then }) => {
    const controller = startController(ns);
    const ro = rolloutRef(ns, 'web');
    const revisionNames = async (): Promise<string[]> => (await cluster.list<ReplicaSetObject>(rsRef(ns))).map((rs) => rs.metadata.name!).sort();
    try {
      await given('a Rollout of 2 replicas on blue', async () => {
        await cluster.apply(rolloutYaml('web', steps), ns);
      });
      await then('`status` waits for Healthy and exits 0', () => {
        const r = cli('-n', ns, 'status', 'web', '--timeout', '60s');
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^Healthy/m);
      });

      await when('`set image` changes the container to yellow', () => {
        const r = cli('-n', ns, 'set', 'image', 'web', 'web=argoproj/rollouts-demo:yellow');
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "rollout 'web' image updated\n");
      });
      await then('the rollout pauses at step 1 and `status` tells CI it is not done (exit 2)', async () => {
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 1), { what: 'paused at step 1' });
        const once = cli('-n', ns, 'status', 'web', '--watch=false');
        assert.equal(once.code, 2);
        assert.equal(once.stdout, 'Paused - CanaryPauseStep\n');
        const waited = cli('-n', ns, 'status', 'web', '--timeout', '1s');
        assert.equal(waited.code, 2);
        assert.match(waited.stdout, /timed out after 1s waiting for rollout "web" to become Healthy \(last: Paused - CanaryPauseStep\)/);
      });
      await then('`get rollout` shows step 1/3, weight 50%, both images tagged and both revisions', () => {
        const r = cli('-n', ns, 'get', 'rollout', 'web');
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Status: +‖ Paused/);
        assert.match(r.stdout, /Message: +CanaryPauseStep · waiting for promotion: rollway promote web/);
        assert.match(r.stdout, /Step: +1\/3/);
        assert.match(r.stdout, /Set weight: +50%/);
        assert.match(r.stdout, /Actual weight: 50% \(from pod counts\)/);
        assert.match(r.stdout, /argoproj\/rollouts-demo:blue \(stable\)\n +argoproj\/rollouts-demo:yellow \(canary\)/);
        assert.ok(r.stdout.indexOf('revision 2') < r.stdout.indexOf('revision 1'), 'newest revision first');
        assert.match(r.stdout, /web-\w+-\w+ +Pod +✔ Running/);
        const json = cli('-n', ns, 'get', 'ro', 'web', '-o', 'json');
        assert.equal(json.code, 0);
        const object = JSON.parse(json.stdout) as RolloutObject;
        assert.equal(object.metadata.name, 'web');
        assert.equal(object.metadata.managedFields, undefined);
        assert.match(cli('-n', ns, 'get', 'rollout', 'web', '-oyaml').stdout, /^kind: Rollout$/m);
      });
      await then('`list rollouts` shows it, with a NAMESPACE column under -A, and names with -o name', () => {
        const r = cli('-n', ns, 'list', 'rollouts');
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^NAME +STRATEGY +STATUS +STEP +SET-WEIGHT +ACTUAL-WEIGHT/);
        assert.match(r.stdout, /^web +Canary +‖ Paused +1\/3 +50% +50% +2\/2/m);
        const all = cli('list', 'rollouts', '-A');
        assert.match(all.stdout, new RegExp(`^${ns} +web +Canary`, 'm'));
        assert.equal(cli('-n', ns, 'list', 'rollouts', '-o', 'name').stdout, 'rollout.rollway.dev/web\n');
      });

      await when('`promote` is run', () => assert.equal(cli('-n', ns, 'promote', 'web').stdout, "rollout 'web' promoted\n"));
      await then('the timed pause runs by itself and `status` exits 0 once yellow is stable', async () => {
        const r = cli('-n', ns, 'status', 'web', '--timeout', '60s');
        assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /Healthy\n$/);
        const done = await cluster.get<RolloutObject>(ro);
        assert.equal(image(done), 'yellow');
      });

      await when('`pause` holds the healthy rollout', () => assert.equal(cli('-n', ns, 'pause', 'web').code, 0));
      await then('spec.paused is set, the phase is Paused, and `promote` resumes it', async () => {
        assert.equal((await cluster.get<RolloutObject>(ro))?.spec.paused, true);
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused'), { what: 'manually paused' });
        assert.match(cli('-n', ns, 'get', 'rollout', 'web').stdout, /paused by spec\.paused/);
        assert.equal(cli('-n', ns, 'promote', 'web').code, 0);
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy', (r) => r.spec.paused === false), { what: 'resumed' });
      });

      let before: string[] = [];
      await when('red is set and aborted at its pause', async () => {
        assert.equal(cli('-n', ns, 'set', 'image', 'web', '*=argoproj/rollouts-demo:red').code, 0);
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 1), { what: 'red paused' });
        assert.equal(cli('-n', ns, 'abort', 'web').stdout, "rollout 'web' aborted\n");
      });
      await then('`status` exits 1 with the abort message', () => {
        const r = cli('-n', ns, 'status', 'web', '--timeout', '30s');
        assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /Degraded - RolloutAborted: Rollout aborted update to revision 3/);
      });
      await then('`retry rollout` clears the abort and the steps run again from the first', async () => {
        assert.equal(cli('-n', ns, 'retry', 'rollout', 'web').stdout, "rollout 'web' retried\n");
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 1 && r.status.abort === false), { what: 'paused at step 1 again' });
      });
      await when('`undo` is run during the red update', async () => {
        before = await revisionNames();
        const r = cli('-n', ns, 'undo', 'web');
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^rollout 'web' rolled back to revision 2 \(web-\w+\)\n$/);
      });
      await then('the template is yellow again, without the hash label, and it is a fast rollback: Healthy, no new ReplicaSet', async () => {
        const back = await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy'), { what: 'Healthy after undo', timeoutMs: 15_000 });
        assert.equal(image(back), 'yellow');
        assert.deepEqual(back!.spec.template?.metadata?.labels, { app: 'web' });
        assert.deepEqual(await revisionNames(), before);
      });

      await when('red is set again and `promote --full` skips every step', async () => {
        assert.equal(cli('-n', ns, 'set', 'image', 'web', 'web=argoproj/rollouts-demo:red').code, 0);
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 1), { what: 'red paused again' });
        assert.equal(cli('-n', ns, 'promote', 'web', '--full').stdout, "rollout 'web' fully promoted\n");
      });
      await then('red becomes stable', async () => {
        const r = cli('-n', ns, 'status', 'web', '--timeout', '60s');
        assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
        assert.equal(image(await cluster.get<RolloutObject>(ro)), 'red');
      });

      await when('`undo --to-revision 1` goes back to blue', async () => {
        before = await revisionNames();
        const r = cli('-n', ns, 'undo', 'web', '--to-revision', '1');
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /rolled back to revision 1 /);
      });
      await then('blue rolls out through the steps on its old ReplicaSet', async () => {
        const paused = await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 1), { what: 'blue paused at step 1' });
        assert.equal(image(paused), 'blue');
        assert.deepEqual(await revisionNames(), before, 'the revision-1 ReplicaSet is reused');
      });
      await then('`undo --to-revision 9` names the revisions there are and exits 1', () => {
        const r = cli('-n', ns, 'undo', 'web', '--to-revision', '9');
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^error: rollout "web" has no revision 9 \(revisions: \d+(, \d+)*\)\n$/);
      });

      await when('`restart --in 10s` is run', async () => {
        const started = Date.now();
        const r = cli('-n', ns, 'restart', 'web', '--in', '10s');
        assert.equal(r.code, 0, r.stderr);
        const restartAt = Date.parse(String((await cluster.get<RolloutObject>(ro))?.spec.restartAt));
        assert.ok(restartAt >= started + 9_000 && restartAt <= Date.now() + 11_000, `restartAt ${new Date(restartAt).toISOString()} is about 10 s from now`);
        assert.match(r.stdout, /^rollout 'web' restarts its pods at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
      });
    } finally {
      await controller.kill();
      keepLog(ns, controller.logs());
    }
  },
  { timeoutMs: 180_000 },
);

scenario('the errors users meet: a missing rollout, a wrong namespace, a bad kubeconfig, a wrong command', async ({ ns, then }) => {
  await then('a missing rollout: exit 1 and its name and namespace', () => {
    for (const args of [['promote', 'nope'], ['abort', 'nope'], ['get', 'rollout', 'nope'], ['get', 'rollout', 'nope', '-w'], ['undo', 'nope'], ['set', 'image', 'nope', 'a=b']]) {
      const r = cli('-n', ns, ...args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, `error: rollout "nope" not found in namespace "${ns}"\n`, args.join(' '));
      assert.equal(r.stdout, '');
    }
  });
  await then('a namespace that does not exist is named as such', () => {
    const r = cli('-n', 'no-such-namespace', 'promote', 'web');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: namespace "no-such-namespace" not found (looking for rollout "web")\n');
  });
  await then('`status` of a missing rollout exits 3: it could not check', () => {
    const r = cli('-n', ns, 'status', 'nope');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /rollout "nope" not found/);
  });
  await then('a kubeconfig that is missing, not YAML, or points nowhere: exit 1 and what is wrong', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rollway-kubeconfig-'));
    const missing = cli('--kubeconfig', path.join(dir, 'missing'), 'get', 'rollout', 'web');
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `error: kubeconfig ${path.join(dir, 'missing')} does not exist\n`);

    const garbage = path.join(dir, 'garbage');
    writeFileSync(garbage, 'this: [is not: a kubeconfig\n');
    const bad = cli('--kubeconfig', garbage, 'list', 'rollouts');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: kubeconfig \S*garbage is not valid YAML/);

    const nowhere = path.join(dir, 'nowhere');
    writeFileSync(
      nowhere,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const unreachable = cli('--kubeconfig', nowhere, '-n', ns, 'promote', 'web');
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /^error: cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    const ctx = cli('--context', 'nope', 'list', 'rollouts');
    assert.equal(ctx.code, 1);
    assert.match(ctx.stderr, /context "nope" is not in the kubeconfig/);
  });
  await then('usage errors exit 2 and say what is wrong', () => {
    const cases: [string[], RegExp][] = [
      [['promote'], /^error: missing NAME; usage: rollway promote NAME \[--full\]\n$/],
      [['frobnicate'], /^error: unknown command "frobnicate"; see rollway --help\n$/],
      [['get', 'pods'], /^error: unknown command "get pods"; did you mean rollway get rollout or rollway get analysisrun or rollway get experiment\?\n$/],
      [['abort', 'web', '--full'], /^error: unknown flag --full for "rollway abort"/],
      [['set', 'image', 'web', 'no-equals-sign'], /expected CONTAINER=IMAGE, got "no-equals-sign"/],
      [['restart', 'web', '--in', 'soon'], /--in takes a duration such as 30s, 5m or 1h, got "soon"/],
      [['get', 'rollout', 'web', '-o', 'xml'], /-o xml is not supported here; use json or yaml/],
    ];
    for (const [args, expected] of cases) {
      const r = cli('-n', ns, ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, expected);
    }
  });
});

scenario('get analysisrun: the phase and each metric\'s counts', async ({ cluster, ns, given, then }) => {
  await given('an AnalysisRun with results', async () => {
    const ref = await cluster.ref('rollway.dev/v1alpha1', 'AnalysisRun', 'web-check', ns);
    await cluster.create(
      {
        apiVersion: 'rollway.dev/v1alpha1',
        kind: 'AnalysisRun',
        metadata: { name: 'web-check', namespace: ns },
        spec: { terminate: true, metrics: [{ name: 'success-rate', provider: { web: { url: 'http://127.0.0.1:1/' } } }, { name: 'latency', provider: { web: { url: 'http://127.0.0.1:1/' } } }] },
      },
      ns,
    );
    await cluster.patch({ ...ref, subresource: 'status' }, {
      status: {
        phase: 'Running',
        metricResults: [
          { name: 'success-rate', phase: 'Successful', successful: 4, failed: 0, inconclusive: 1, error: 0, count: 5 },
          { name: 'latency', phase: 'Running', successful: 2, failed: 1, inconclusive: 0, error: 2, count: 5 },
        ],
      },
    });
  });
  await then('`get analysisrun` prints the totals and a row per metric', () => {
    const r = cli('-n', ns, 'get', 'analysisrun', 'web-check');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Status: +◌ Running/);
    assert.match(r.stdout, /Measured: +successful 6 · failed 1 · inconclusive 1 · error 2/);
    assert.match(r.stdout, /^success-rate +✔ Successful +4 +0 +1 +0/m);
    assert.match(r.stdout, /^latency +◌ Running +2 +1 +0 +2/m);
    const list = cli('-n', ns, 'get', 'ar');
    assert.match(list.stdout, /^web-check +◌ Running +6 +1 +1 +2/m);
    assert.equal(JSON.parse(cli('-n', ns, 'get', 'analysisrun', 'web-check', '-o', 'json').stdout).metadata.name, 'web-check');
  });
  await then('a missing run is an error that names it', () => {
    const r = cli('-n', ns, 'get', 'analysisrun', 'nope');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error: analysis run "nope" not found in namespace "${ns}"\n`);
  });
});

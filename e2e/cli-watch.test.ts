// The live views: `get rollout -w` and `list rollouts -w` follow a rollout as it moves, printing
// a snapshot per change into a pipe, and redrawing in place (no full clear) on a terminal.
/* eslint-disable no-control-regex -- terminal escape codes are what these tests look at */
import assert from 'node:assert/strict';
import type { RolloutObject } from '../controller/controller.ts';
import type { ResourceRef } from '../kube/client.ts';
import { cli, cliPath, node, rolloutYaml, startCli, keepLog } from './cli-helpers.ts';
import { kubeconfigPath, scenario, startController } from './harness.ts';

const rolloutRef = (ns: string, name: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
const phaseIs = (phase: string) => (ro: RolloutObject | undefined): boolean => ro?.status?.observedGeneration === String(ro?.metadata.generation) && ro?.status?.phase === phase;

const steps = `
      - setWeight: 50
      - pause: {}
      - pause: {duration: 2}`;

/** The frames a piped `-w` printed: one blank line before each (the tree has one inside, before NAME). */
const frames = (out: string, first: RegExp): string[] => out.split(first.source === '^Name: ' ? /\n\n(?=Name: )/ : /\n\n(?=NAME )/).filter((f) => first.test(f));

scenario(
  'get rollout -w and list rollouts -w follow an update from blue to yellow',
  async ({ cluster, ns, given, when, then }) => {
    const controller = startController(ns);
    try {
      await given('a Healthy Rollout on blue', async () => {
        await cluster.apply(rolloutYaml('web', steps), ns);
        await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'web'), phaseIs('Healthy'), { what: 'Healthy' });
      });

      const tree = startCli(['-n', ns, 'get', 'rollout', 'web', '-w']);
      const table = startCli(['-n', ns, 'list', 'rollouts', '-w']);
      await then('both print the current state at once', async () => {
        await tree.waitForOutput((o) => /Status: +✔ Healthy/.test(o), 'the Healthy tree');
        await table.waitForOutput((o) => /^web +Canary +✔ Healthy/m.test(o), 'the Healthy row');
      });

      await when('the image changes to yellow', () => assert.equal(cli('-n', ns, 'set', 'image', 'web', 'web=argoproj/rollouts-demo:yellow').code, 0));
      await then('a new snapshot shows the pause at step 1/3 with both revisions', async () => {
        const out = await tree.waitForOutput((o) => /Status: +‖ Paused[\s\S]*Step: +1\/3/.test(o), 'the paused tree');
        const paused = frames(out, /^Name: /).find((f) => /‖ Paused/.test(f))!;
        assert.match(paused, /argoproj\/rollouts-demo:yellow \(canary\)/);
        assert.match(paused, /└─ revision 1/);
        await table.waitForOutput((o) => /^web +Canary +‖ Paused +1\/3 +50%/m.test(o), 'the paused row');
      });

      await when('it is promoted', () => assert.equal(cli('-n', ns, 'promote', 'web').code, 0));
      await then('the snapshots go through step 2 and end Healthy on yellow', async () => {
        const out = await tree.waitForOutput((o) => /Status: +✔ Healthy[\s\S]*Images: +argoproj\/rollouts-demo:yellow \(stable\)/.test(o), 'Healthy on yellow');
        assert.match(out, /Step: +2\/3/);
      });

      await then('ended with Ctrl-C: exit 0, no escape codes in a pipe, each snapshot different from the one before', async () => {
        assert.equal(await tree.stop('SIGINT'), 0);
        assert.equal(await table.stop('SIGINT'), 0);
        const out = tree.output();
        assert.doesNotMatch(out, /\x1b/);
        const shots = frames(out, /^Name: /);
        assert.ok(shots.length >= 4, `at least 4 snapshots, got ${shots.length}`);
        for (let i = 1; i < shots.length; i++) assert.notEqual(shots[i], shots[i - 1]);
        assert.ok(frames(table.output(), /^NAME /).length >= 3);
        assert.equal(tree.errors(), '');
      });

      await then('on a terminal the tree is redrawn in place: cursor home, clear to end of line and of screen, never a full clear, at most 5 times a second', async () => {
        const command = `${node} ${cliPath} --kubeconfig ${kubeconfigPath()} -n ${ns} get rollout web -w`;
        const started = Date.now();
        const tty = startCli([], { command: ['script', '-qfec', command, '/dev/null'] });
        await tty.waitForOutput((o) => /✔ Healthy/.test(o), 'the tree on a terminal');
        assert.equal(cli('-n', ns, 'set', 'image', 'web', 'web=argoproj/rollouts-demo:red').code, 0);
        await tty.waitForOutput((o) => /‖ Paused/.test(o), 'the paused tree on a terminal');
        const elapsed = (Date.now() - started) / 1000;
        await tty.stop('SIGTERM');
        const out = tty.output();
        const redraws = out.split('\x1b[H').length - 1;
        assert.ok(redraws >= 2, `redrawn at least twice, got ${redraws}`);
        assert.ok(redraws <= Math.ceil(elapsed * 5) + 1, `${redraws} redraws in ${elapsed.toFixed(1)} s`);
        assert.match(out, /\x1b\[K/);
        assert.match(out, /\x1b\[J/);
        assert.doesNotMatch(out, /\x1b\[2J/);
        assert.match(out, /\x1b\[33m‖ Paused\x1b\[0m/, 'coloured on a terminal');
      });
    } finally {
      await controller.kill();
      keepLog(ns, controller.logs());
    }
  },
  { timeoutMs: 120_000 },
);

scenario('the actual weight is read from the routing object, exactly, and followed live', async ({ cluster, ns, given, when, then }) => {
  const vsRef: ResourceRef = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: ns, name: 'web-vsvc' };
  const route = (stable: number, canary: number) => ({
    spec: { hosts: ['web'], http: [{ name: 'primary', route: [{ destination: { host: 'web-stable' }, weight: stable }, { destination: { host: 'web-canary' }, weight: canary }] }] },
  });
  await given('a Rollout in the middle of an update whose router is an Istio VirtualService carrying 50 of 10000', async () => {
    await cluster.apply(
      rolloutYaml('web', '      - setWeight: 0.5\n      - pause: {}').replace(
        'scaleDownDelaySeconds: 2',
        'scaleDownDelaySeconds: 2\n      canaryService: web-canary\n      stableService: web-stable\n      trafficRouting:\n        istio:\n          virtualService: {name: web-vsvc, routes: [primary]}',
      ),
      ns,
    );
    await cluster.apply({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'web-vsvc' }, ...route(9950, 50) }, ns);
    // No controller here: the status is written as one would have it mid-update.
    await cluster.patch(
      { ...rolloutRef(ns, 'web'), subresource: 'status' },
      { status: { observedGeneration: '1', phase: 'Paused', message: 'CanaryPauseStep', currentPodHash: 'newhash', stableRS: 'oldhash', currentStepIndex: 1, canary: { weights: { canary: { weight: 0.5 }, stable: { weight: 99.5 } } } } },
    );
  });
  await then('`get rollout` shows 0.5% read from the VirtualService, with its ratio', () => {
    const r = cli('-n', ns, 'get', 'rollout', 'web');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Actual weight: 0\.5% \(from VirtualService\/web-vsvc\)/);
    assert.match(r.stdout, /Routing: +VirtualService\/web-vsvc {2}canary 0\.5% \(50\/10000\)/);
  });
  const tree = startCli(['-n', ns, 'get', 'rollout', 'web', '-w']);
  try {
    await when('the VirtualService is changed to 1 of 10000 while `get rollout -w` runs', async () => {
      await tree.waitForOutput((o) => /canary 0\.5% \(50\/10000\)/.test(o), 'the first snapshot');
      await cluster.patch(vsRef, route(9999, 1));
    });
    await then('a new snapshot shows 0.01%', async () => {
      await tree.waitForOutput((o) => /Actual weight: 0\.01% \(from VirtualService\/web-vsvc\)[\s\S]*canary 0\.01% \(1\/10000\)/.test(o), 'the 0.01% snapshot');
    });
  } finally {
    await tree.stop();
  }
});

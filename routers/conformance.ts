// One conformance suite for every traffic router: in the unit tests on the in-memory KubeApi
// (routers/conformance.test.ts, milliseconds), and on the real control plane with the upstream
// CRDs (e2e/routers-conformance.test.ts). Plugin authors run it on their own router the same way
// (see examples/router-plugin/). A router "fixture" says how to set up its
// routing objects full of user content, how to read back what they say, and how another writer
// would revert a weight; the suite then checks the promises every router makes:
//   - weights 0, 0.01, 1, 20 and 100 percent written exactly;
//   - re-applying the same traffic writes nothing; a weight step writes each weight-carrying
//     routing object once (no more, no less);
//   - header and mirror routes go on and off (or the spec is rejected, naming the router);
//   - an abort (weight 0, no routes) leaves 100% stable;
//   - the user's content is preserved byte for byte;
//   - a weight reverted by another field manager is put back, that writer's other change kept;
//   - release() leaves 100% stable and nothing of ours behind;
//   - weighted experiment destinations (routers whose capabilities say weightedDestinations) get
//     exactly their share and go again in the next weight write (or the spec is rejected); the
//     plugin's read gives the shares back; a share another writer reverted is put back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRouter } from './index.ts';
import { cachedKubeApi, pickVersion, type KubeApi, type KubeObject, type ResourceRef } from './kube-api.ts';
import { InMemoryKubeApi } from './memory-kube.ts';
import type { ReadContext, RouterPlugin, RoutingObject } from './plugin.ts';
import { configuredPlugins, routerPlugins } from './registry.ts';
import { trafficRoutingIssues } from './validation.ts';
import { FULL_STABLE, ratioFromPercent, type DesiredTraffic, type SpecIssue, type HeaderRoute, type MirrorRoute, type RoutingRead, type TrafficRouter, type WeightRatio } from './types.ts';

export const STABLE_SERVICE = 'conf-stable';
export const CANARY_SERVICE = 'conf-canary';
export const ROLLOUT_NAME = 'conf';
export const HEADER_ROUTE = 'header-beta';
export const MIRROR_ROUTE = 'mirror-get';
/** the Services of two weighted experiment templates (baseline and canary) */
export const EXPERIMENT_SERVICES = ['conf-exp-baseline', 'conf-exp-canary'] as const;

export interface ConformanceEnv {
  /** the router's own client */
  routerClient: KubeApi;
  /** the writes made through routerClient so far (creates, patches, deletes) */
  routerWrites: () => number;
  /** the API reads made through routerClient so far, where the environment can count them */
  routerReads?: () => number;
  /** everyone else: the test's reads and setup, the "other writer" */
  client: KubeApi;
  namespace: string;
  rollout: { name: string; uid: string; apiVersion: string; kind: string };
}

/** What the routing objects say now. */
export interface TrafficState {
  /** canary and stable weights as written, one entry per place that carries the weight */
  weights: { canary: number; stable: number }[];
  /**
   * routers with weighted destinations: per entry of `weights`, the weights of the other
   * destinations of that place by Service name (the experiment Services among them)
   */
  extraWeights?: Record<string, number>[];
  headerRoutes: string[];
  mirrorRoutes: string[];
}

export interface RouterFixture {
  /** shown as the suite's name, e.g. "istio (host-level)" */
  title: string;
  /** the router's key: istio, nginx, smi, gatewayAPI, or a plugin's name */
  key: string;
  supports: { header: boolean; mirror: boolean };
  /** (re)creates the routing objects with user content; answers trafficRouting for the Rollout */
  setup(env: ConformanceEnv): Promise<Record<string, unknown>>;
  read(env: ConformanceEnv): Promise<TrafficState>;
  /** the objects users own, as JSON text; `managed: 'masked'` leaves out the fields we manage */
  userContent(env: ConformanceEnv, managed: 'masked' | 'included'): Promise<string>;
  /** labels, annotations, routes or objects of ours still present */
  ourMarks(env: ConformanceEnv): Promise<string[]>;
  /** another field manager puts the weight of one object back to 100% stable and changes a field we do not manage */
  revertWeight(env: ConformanceEnv): Promise<void>;
  /** whether that other change is still there */
  otherWritersChangeKept(env: ConformanceEnv): Promise<boolean>;
}

const headerRoute: HeaderRoute = { name: HEADER_ROUTE, match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] };
const mirrorRoute: MirrorRoute = { name: MIRROR_ROUTE, percentage: 50, match: [{ method: { exact: 'GET' } }] };

function traffic(weight: WeightRatio, routes: { header?: boolean; mirror?: boolean; experiment?: number[] } = {}): DesiredTraffic {
  return {
    ...(routes.experiment ? { extraDestinations: EXPERIMENT_SERVICES.map((service, i) => ({ service, podTemplateHash: `exphash${i}`, weight: routes.experiment![i]! })) } : {}),
    weight,
    stableService: STABLE_SERVICE,
    canaryService: CANARY_SERVICE,
    stableHash: 'stablehash',
    canaryHash: 'canaryhash',
    headerRoutes: routes.header ? [headerRoute] : [],
    mirrorRoutes: routes.mirror ? [mirrorRoute] : [],
  };
}

/** Expected written weights: the ratio as it comes (0.01% is 1 and 9999). */
function expected(percent: number): { canary: number; stable: number } {
  const ratio = percent === 0 ? FULL_STABLE : ratioFromPercent(percent);
  return { canary: ratio.canary, stable: ratio.total - ratio.canary };
}

export interface SuiteContext {
  /** a fresh namespace with the Services and an owner Rollout, removed at the end */
  makeEnv: () => Promise<ConformanceEnv & { remove: () => Promise<void> }>;
}

export function routerConformance(fixture: RouterFixture, context: SuiteContext): void {
  void describe(`router conformance: ${fixture.title}`, () => {
    let env: ConformanceEnv & { remove: () => Promise<void> };
    let trafficRouting: Record<string, unknown>;
    let router: TrafficRouter;
    let plugin: RouterPlugin;
    /** the routing objects that carry the weight: what one weight step writes */
    let weightObjects: number;
    /** what the CLI and dashboard read back: plugin.read on each weight-carrying object */
    let readBack: () => Promise<RoutingRead[]>;

    const fresh = async (): Promise<void> => {
      trafficRouting = await fixture.setup(env);
      const configured = configuredPlugins(trafficRouting);
      assert.equal(configured.length, 1, `the fixture configures one router: ${JSON.stringify(trafficRouting)}`);
      plugin = configured[0]!.plugin;
      const where = { namespace: env.namespace, rolloutName: env.rollout.name, canaryService: CANARY_SERVICE, stableService: STABLE_SERVICE };
      const config = configured[0]!.config;
      const carrying = plugin.routingObjects(config, where).filter((o) => o.carriesWeight);
      weightObjects = carrying.length;
      const thePlugin = plugin;
      readBack = () => readRoutingObjects(env, thePlugin, config, where, carrying);
      router = createRouter({ client: env.routerClient, namespace: env.namespace, rollout: env.rollout, trafficRouting, log: () => {} });
    };
    const apply = async (desired: DesiredTraffic): Promise<number> => {
      const before = env.routerWrites();
      const result = await router.reconcile(desired);
      const writes = env.routerWrites() - before;
      assert.equal(result.writes, writes, 'the router reports the writes it made');
      return writes;
    };
    const release = (): Promise<void> => router.release({ stableService: STABLE_SERVICE, canaryService: CANARY_SERVICE, stableHash: 'stablehash' });

    before(async () => {
      env = await context.makeEnv();
    });
    after(async () => {
      await env?.remove();
    });

    void it('declares exact weights (0.01%) and the header/mirror support it has', async () => {
      await fresh();
      const probe = router;
      assert.equal(plugin.key, fixture.key);
      assert.deepEqual(probe.capabilities, plugin.capabilities, 'the router has the capabilities its plugin declares');
      assert.equal(probe.capabilities.weightResolutionPercent, 0.01);
      assert.equal(probe.capabilities.replicaBased, false);
      assert.equal(probe.capabilities.headerMatch.length > 0, fixture.supports.header);
      assert.equal(probe.capabilities.mirror, fixture.supports.mirror);
    });

    void it('writes 0, 0.01, 1, 20 and 100 percent exactly', async () => {
      await fresh();
      for (const percent of [0, 0.01, 1, 20, 100, 0]) {
        const result = await router.reconcile(traffic(percent === 0 ? FULL_STABLE : ratioFromPercent(percent)));
        const state = await fixture.read(env);
        assert.ok(state.weights.length > 0, 'the routing objects carry a weight');
        for (const w of state.weights) assert.deepEqual(w, expected(percent), `${percent}% written as ${JSON.stringify(w)}`);
        assert.equal(result.actualWeight.canary * 100 / result.actualWeight.total, percent, `${percent}%: actual weight reported`);
      }
    });

    void it('re-applying the same traffic writes nothing; a weight step writes each routing object once', async (t) => {
      await fresh();
      const routes = { header: fixture.supports.header, mirror: fixture.supports.mirror };
      const first = await apply(traffic(ratioFromPercent(20), routes));
      assert.ok(first > 0);
      assert.equal(await apply(traffic(ratioFromPercent(20), routes)), 0, 'second apply');
      assert.equal(await apply(traffic(ratioFromPercent(20), routes)), 0, 'third apply');
      const readsBefore = env.routerReads?.();
      const step = await apply(traffic(ratioFromPercent(21), routes));
      assert.ok(weightObjects > 0, 'the configuration names a routing object that carries the weight');
      assert.equal(step, weightObjects, 'a pure weight step writes each weight-carrying routing object once');
      // With its reads served by a watch cache, a step costs the router no API read at all.
      if (readsBefore !== undefined) assert.equal(env.routerReads!() - readsBefore, 0, 'a pure weight step reads nothing from the API server');
      t.diagnostic(`${fixture.title}: first apply ${first} write(s), re-apply 0, weight step 20% -> 21% ${step} write(s)`);
    });

    if (fixture.supports.header) {
      void it('puts a header route in place and takes it away again', async () => {
        await fresh();
        await apply(traffic(ratioFromPercent(5), { header: true }));
        assert.deepEqual((await fixture.read(env)).headerRoutes, [HEADER_ROUTE]);
        await apply(traffic(ratioFromPercent(5)));
        const state = await fixture.read(env);
        assert.deepEqual(state.headerRoutes, []);
        for (const w of state.weights) assert.deepEqual(w, expected(5));
      });
    } else {
      void it(`rejects a setHeaderRoute step in validation, naming the ${fixture.key} router`, async () => {
        await fresh();
        const found = validationIssues(trafficRouting, { setHeaderRoute: { name: HEADER_ROUTE, match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] } });
        assert.ok(found.some((i) => i.path === 'spec.strategy.canary.steps[0].setHeaderRoute' && i.message === `${plugin.label} cannot route by header`), JSON.stringify(found));
      });
    }

    if (fixture.supports.mirror) {
      void it('puts a mirror route in place and takes it away again', async () => {
        await fresh();
        await apply(traffic(ratioFromPercent(5), { mirror: true }));
        assert.deepEqual((await fixture.read(env)).mirrorRoutes, [MIRROR_ROUTE]);
        await apply(traffic(ratioFromPercent(5)));
        assert.deepEqual((await fixture.read(env)).mirrorRoutes, []);
      });
    } else {
      void it(`rejects a setMirrorRoute step in validation, naming the ${fixture.key} router`, async () => {
        await fresh();
        const found = validationIssues(trafficRouting, { setMirrorRoute: { name: MIRROR_ROUTE, match: [{ method: { exact: 'GET' } }] } });
        assert.ok(found.some((i) => i.path === 'spec.strategy.canary.steps[0].setMirrorRoute' && i.message === `${plugin.label} cannot mirror traffic`), JSON.stringify(found));
      });
    }

    // Run for every router whose declared capabilities say it can (a plugin's included).
    if (routerPlugins().find((p) => p.key === fixture.key)?.capabilities.weightedDestinations === true) {
      weightedExperimentCases(fixture, () => ({ env, router, weightObjects, readBack }), fresh, apply, release);
    } else {
      void it(`rejects a weighted experiment step in validation, naming the ${fixture.key} router`, async () => {
        await fresh();
        const found = validationIssues(trafficRouting, { experiment: { templates: [{ name: 'baseline', specRef: 'stable', weight: 5 }] } });
        assert.ok(found.some((i) => i.path === 'spec.strategy.canary.steps[0].experiment.templates[0].weight' && i.message.startsWith(`${plugin.label} cannot send a share of traffic to an experiment template`)), JSON.stringify(found));
      });
    }

    void it('an abort (weight 0, no routes) leaves 100% stable', async () => {
      await fresh();
      await apply(traffic(ratioFromPercent(20), { header: fixture.supports.header, mirror: fixture.supports.mirror }));
      await apply(traffic(FULL_STABLE));
      const state = await fixture.read(env);
      for (const w of state.weights) assert.deepEqual(w, { canary: 0, stable: 100 });
      assert.deepEqual([...state.headerRoutes, ...state.mirrorRoutes], []);
    });

    void it("preserves the user's content byte for byte", async () => {
      await fresh();
      const original = await fixture.userContent(env, 'included');
      const masked = await fixture.userContent(env, 'masked');
      for (const percent of [0.01, 20, 100]) {
        await apply(traffic(ratioFromPercent(percent), { header: fixture.supports.header, mirror: fixture.supports.mirror }));
        assert.equal(await fixture.userContent(env, 'masked'), masked, `at ${percent}%`);
      }
      await release();
      assert.equal(await fixture.userContent(env, 'included'), original, 'after release');
    });

    void it('puts back a weight another field manager reverted, keeping that writer\'s other change', async () => {
      await fresh();
      await apply(traffic(ratioFromPercent(20)));
      await fixture.revertWeight(env);
      assert.ok((await fixture.read(env)).weights.some((w) => w.canary === 0 && w.stable === 100), 'reverted');
      assert.equal(await apply(traffic(ratioFromPercent(20))), 1, 'one write puts it back');
      for (const w of (await fixture.read(env)).weights) assert.deepEqual(w, { canary: 20, stable: 80 });
      assert.ok(await fixture.otherWritersChangeKept(env), "the other writer's change is still there");
    });

    void it('release() leaves 100% stable and nothing of ours', async () => {
      await fresh();
      await apply(traffic(ratioFromPercent(20), { header: fixture.supports.header, mirror: fixture.supports.mirror }));
      assert.ok((await fixture.ourMarks(env)).length > 0, 'something of ours was there');
      await release();
      const state = await fixture.read(env);
      for (const w of state.weights) assert.deepEqual(w, { canary: 0, stable: 100 });
      assert.deepEqual(await fixture.ourMarks(env), []);
      await release(); // releasing twice is harmless
    });
  });
}

/** The weighted experiment cases: exact shares, nothing rewritten, gone in the next weight write. */
function weightedExperimentCases(
  fixture: RouterFixture,
  state: () => { env: ConformanceEnv; router: TrafficRouter; weightObjects: number; readBack: () => Promise<RoutingRead[]> },
  fresh: () => Promise<void>,
  apply: (desired: DesiredTraffic) => Promise<number>,
  release: () => Promise<void>,
): void {
  const [baseline, experimentCanary] = EXPERIMENT_SERVICES;
  const shares = async (): Promise<{ weights: TrafficState['weights']; extras: Record<string, number>[] }> => {
    const read = await fixture.read(state().env);
    assert.equal(read.extraWeights?.length, read.weights.length, 'the fixture reports the other destinations of each place that carries the weight');
    return { weights: read.weights, extras: read.extraWeights ?? [] };
  };
  void it('sends weighted experiment templates exactly their share (stable 90 / canary 0 / 5 / 5), and takes it back in the next weight write', async () => {
    await fresh();
    const masked = await fixture.userContent(state().env, 'masked');
    assert.ok((await apply(traffic(FULL_STABLE, { experiment: [5, 5] }))) > 0);
    const during = await shares();
    assert.ok(during.weights.length > 0);
    during.weights.forEach((w, i) => {
      assert.deepEqual(w, { canary: 0, stable: 90 });
      assert.equal(during.extras[i]![baseline], 5);
      assert.equal(during.extras[i]![experimentCanary], 5);
    });
    assert.equal(await apply(traffic(FULL_STABLE, { experiment: [5, 5] })), 0, 're-applying writes nothing');
    const back = await apply(traffic(ratioFromPercent(20)));
    assert.equal(back, state().weightObjects, "the next step's weight and the experiment's removal are one write per routing object");
    const after = await shares();
    after.weights.forEach((w, i) => {
      assert.deepEqual(w, { canary: 20, stable: 80 });
      assert.deepEqual(Object.keys(after.extras[i]!).filter((k) => (EXPERIMENT_SERVICES as readonly string[]).includes(k)), [], 'the experiment destinations are gone');
    });
    assert.equal(await fixture.userContent(state().env, 'masked'), masked, "the user's content is as it was");
  });
  void it('a canary weight beside weighted templates: 10 / 5 / 5 leaves stable 80', async () => {
    await fresh();
    await apply(traffic(ratioFromPercent(10), { experiment: [5, 5] }));
    const during = await shares();
    during.weights.forEach((w, i) => {
      assert.deepEqual(w, { canary: 10, stable: 80 });
      assert.deepEqual([during.extras[i]![baseline], during.extras[i]![experimentCanary]], [5, 5]);
    });
  });
  void it("the plugin's read gives back what was written, the experiment shares included (get rollout, dashboard)", async () => {
    await fresh();
    const percents = async (): Promise<unknown[]> =>
      (await state().readBack()).map((r) => ({ canary: (r.canary * 100) / r.total, extras: Object.fromEntries((r.extras ?? []).map((e) => [e.service, (e.weight * 100) / r.total])) }));
    await apply(traffic(ratioFromPercent(10), { experiment: [5, 5] }));
    const during = await percents();
    assert.ok(during.length > 0);
    for (const r of during) assert.deepEqual(r, { canary: 10, extras: { [baseline]: 5, [experimentCanary]: 5 } });
    await apply(traffic(ratioFromPercent(20)));
    for (const r of await percents()) assert.deepEqual(r, { canary: 20, extras: {} }, 'no experiment share once it ended');
  });
  void it('puts back an experiment share another field manager reverted, in one write per object', async () => {
    await fresh();
    const desired = traffic(FULL_STABLE, { experiment: [5, 5] });
    await apply(desired);
    await fixture.revertWeight(state().env);
    const reverted = await shares();
    assert.ok(reverted.extras.some((e) => e[baseline] === undefined || e[baseline] === 0), 'the revert took the experiment share away');
    assert.equal(await apply(desired), 1, 'one write puts it back');
    const back = await shares();
    back.weights.forEach((w, i) => {
      assert.deepEqual(w, { canary: 0, stable: 90 });
      assert.deepEqual([back.extras[i]![baseline], back.extras[i]![experimentCanary]], [5, 5]);
    });
    assert.ok(await fixture.otherWritersChangeKept(state().env), "the other writer's change is still there");
  });
  void it('release() during a weighted experiment leaves 100% stable and nothing of ours', async () => {
    await fresh();
    await apply(traffic(ratioFromPercent(10), { experiment: [5, 5] }));
    await release();
    const after = await shares();
    for (const w of after.weights) assert.deepEqual(w, { canary: 0, stable: 100 });
    for (const extras of after.extras) assert.deepEqual(Object.keys(extras).filter((k) => (EXPERIMENT_SERVICES as readonly string[]).includes(k)), []);
    assert.deepEqual(await fixture.ourMarks(state().env), []);
  });
}

/** plugin.read on each weight-carrying routing object, fetched in the first of its kind's versions the cluster serves. */
async function readRoutingObjects(env: ConformanceEnv, plugin: RouterPlugin, config: unknown, where: ReadContext, objects: readonly RoutingObject[]): Promise<RoutingRead[]> {
  const out: RoutingRead[] = [];
  for (const o of objects) {
    const kind = plugin.kinds.find((k) => k.group === o.group && k.plural === o.plural);
    const version = await pickVersion(env.client, o.group, kind?.versions ?? []);
    assert.ok(version, `${o.kind}/${o.name}: the cluster serves none of the plugin's versions of ${o.group}`);
    const object = await env.client.get({ group: o.group, version, plural: o.plural, namespace: o.namespace, name: o.name });
    const read = plugin.read(object, config, where);
    assert.ok(read, `${o.kind}/${o.name} reads as a weight`);
    out.push(read);
  }
  return out;
}

/** What validation says of a step on this trafficRouting (the checks the controller and lint run). */
function validationIssues(routing: Record<string, unknown>, step: Record<string, unknown>): SpecIssue[] {
  return trafficRoutingIssues({ ...routing, managedRoutes: [{ name: HEADER_ROUTE }, { name: MIRROR_ROUTE }] }, [step]);
}

/**
 * The suite's context on the in-memory KubeApi: the groups of the given plugins (all registered
 * ones by default) served in the versions they prefer. Each suite gets its own objects.
 */
export function inMemorySuite(plugins: readonly RouterPlugin[] = routerPlugins()): SuiteContext {
  const served: Record<string, string[]> = {};
  for (const kind of plugins.flatMap((p) => p.kinds)) served[kind.group] = [...kind.versions];
  return {
    makeEnv: () => {
      const client = new InMemoryKubeApi(served);
      const direct = client.client();
      // The router reads through a watch cache that is up to date (the controller's routing watch).
      const routerClient = cachedKubeApi(direct, (ref) => direct.peek(ref));
      return Promise.resolve({
        client,
        routerClient,
        routerWrites: () => direct.writes(),
        routerReads: () => direct.reads(),
        namespace: 'conformance',
        rollout: { name: ROLLOUT_NAME, uid: 'conformance-rollout-uid', apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' },
        remove: () => Promise.resolve(),
      });
    },
  };
}

// --- helpers for fixtures -----------------------------------------------------------------------

/** An object without what the API server keeps in it (for byte-for-byte comparisons). */
export function userView(object: KubeObject | undefined): KubeObject | undefined {
  if (!object) return undefined;
  const { managedFields: _m, resourceVersion: _rv, generation: _g, creationTimestamp: _c, uid: _u, ...metadata } = object.metadata;
  const { status: _s, ...rest } = object;
  return { ...rest, metadata };
}

/** Reads an object with the fixture's client (undefined when it does not exist). */
export function read<T extends KubeObject>(env: ConformanceEnv, ref: ResourceRef): Promise<T | undefined> {
  return env.client.getOptional<T>(ref);
}

/** Creates an object, replacing one of that name left by an earlier case. */
export async function recreate(env: ConformanceEnv, ref: ResourceRef, object: KubeObject): Promise<void> {
  const existing = await env.client.getOptional(ref);
  if (existing) {
    await env.client.delete(ref);
    for (let i = 0; i < 100 && (await env.client.getOptional(ref)); i++) await new Promise((r) => setTimeout(r, 50));
  }
  await env.client.create({ ...ref, name: undefined }, object);
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeApiError, type KubeClient, type KubeObject } from '../kube/client.ts';
import { RoutingWatch } from './routing-watch.ts';

/** A client whose discovery answers every group with one status (and records the paths asked). */
function discoveryAnswering(status: number): { client: KubeClient; asked: string[] } {
  const asked: string[] = [];
  const client = {
    request: (_method: string, path: string) => {
      asked.push(path);
      return Promise.reject(new KubeApiError(status, status === 404 ? 'NotFound' : 'InternalError', `${status} for ${path}`, {}));
    },
  } as unknown as KubeClient;
  return { client, asked };
}

void describe('routing watch start-up', () => {
  void it('skips the routing kinds whose group discovery answers 404 (not installed)', async () => {
    const { client, asked } = discoveryAnswering(404);
    const watch = new RoutingWatch(client, 'shop', () => {}, () => {});
    await watch.start();
    assert.ok(asked.includes('/apis/networking.istio.io') && asked.includes('/apis/gateway.networking.k8s.io'), asked.join(', '));
    watch.stop();
  });

  void it('fails on any other discovery error instead of calling the kind "not installed"', async () => {
    const { client } = discoveryAnswering(503);
    const watch = new RoutingWatch(client, 'shop', () => {}, () => {});
    await assert.rejects(watch.start(), (err: unknown) => err instanceof KubeApiError && err.statusCode === 503);
  });

  void it('a stop() during start-up leaves no watch running (a SIGTERM right after the pod starts)', async () => {
    let watchesOpened = 0;
    let answerReview: () => void = () => {};
    const reviewAsked = new Promise<void>((asked) => {
      answerReview = asked;
    });
    const versions = ['v1', 'v1beta1', 'v1alpha1', 'v1alpha2', 'v1alpha3', 'v1alpha4'];
    const client = {
      request: async (method: string, path: string) => {
        if (method === 'POST') {
          answerReview();
          await new Promise((r) => setTimeout(r, 20)); // the access review is still out when stop() comes
          return { status: { allowed: true } };
        }
        const parts = path.split('/');
        if (parts.length === 3) return { versions: versions.map((version) => ({ version })) };
        const plurals = ['virtualservices', 'destinationrules', 'ingresses', 'trafficsplits', 'httproutes', 'traefikservices'];
        return { resources: plurals.map((name) => ({ name })) };
      },
      list: async () => ({ metadata: { resourceVersion: '1' }, items: [] }),
      watch: async () => {
        watchesOpened++;
        return new Promise(() => {});
      },
    } as unknown as KubeClient;
    const watch = new RoutingWatch(client, 'shop', () => {}, () => {});
    const started = watch.start();
    await reviewAsked;
    watch.stop();
    await started;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(watchesOpened, 0);
  });
});

/** A cluster serving only Istio's VirtualServices, whose watch the test drives by hand. */
function istioOnly(): { client: KubeClient; send: (type: string, object: KubeObject) => void } {
  let onEvent: ((e: { type: string; object: KubeObject }) => void) | undefined;
  const client = {
    request: async (method: string, path: string) => {
      if (method === 'POST') return { status: { allowed: true } };
      if (path === '/apis/networking.istio.io') return { versions: [{ version: 'v1' }] };
      if (path.startsWith('/apis/networking.istio.io/')) return { resources: [{ name: 'virtualservices' }] };
      throw new KubeApiError(404, 'NotFound', `no ${path}`, {});
    },
    list: async () => ({ metadata: { resourceVersion: '10' }, items: [vs('10')] }),
    watch: async (_ref: unknown, _query: unknown, handler: typeof onEvent) => {
      onEvent = handler;
      return new Promise(() => {});
    },
  } as unknown as KubeClient;
  return { client, send: (type, object) => onEvent?.({ type, object }) };
}

const vs = (resourceVersion: string): KubeObject => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'web', namespace: 'shop', resourceVersion } });
const vsRef = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: 'shop', name: 'web' };

void describe('routing watch: waiting for our own write to reach the watch', () => {
  void it('resolves when the written resourceVersion arrives, not before, and at once when it is already cached', async () => {
    const { client, send } = istioOnly();
    const watch = new RoutingWatch(client, 'shop', () => {}, () => {});
    await watch.start();
    try {
      assert.equal(await watch.seen(vsRef, '10', 1000), true, 'the listed version is already there');
      let seen: boolean | undefined;
      const waiting = watch.seen(vsRef, '12', 5000).then((s) => (seen = s));
      send('MODIFIED', vs('11')); // someone else's write, before ours
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(seen, undefined, 'an earlier version does not end the wait');
      send('MODIFIED', vs('12'));
      await waiting;
      assert.equal(seen, true);
    } finally {
      watch.stop();
    }
  });

  void it('gives up after its timeout (a version it may never see) and for kinds it does not watch', async () => {
    const { client } = istioOnly();
    const watch = new RoutingWatch(client, 'shop', () => {}, () => {});
    await watch.start();
    try {
      assert.equal(await watch.seen(vsRef, '99', 30), false);
      assert.equal(await watch.seen({ ...vsRef, group: 'split.smi-spec.io', plural: 'trafficsplits', version: 'v1alpha4' }, '1', 1000), false);
    } finally {
      watch.stop();
    }
  });
});

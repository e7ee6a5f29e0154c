import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeApiError, type KubeClient } from '../kube/client.ts';
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

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
});

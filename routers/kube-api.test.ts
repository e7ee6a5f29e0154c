import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { patchToRendered } from './common.ts';
import { cachedKubeApi, type KubeObject, type ResourceRef } from './kube-api.ts';
import { InMemoryKubeApi } from './memory-kube.ts';

interface Weighted extends KubeObject {
  spec: { weight: number; note?: string };
}

const ref: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespace: 'shop', name: 'route' };
const setWeight = (weight: number) => (current: Weighted) => ({ object: { ...current, spec: { ...current.spec, weight } }, result: undefined });

void describe('routers reading through a watch cache', () => {
  void it('reads nothing from the API server while the cache has the object', async () => {
    const api = new InMemoryKubeApi();
    await api.create(ref, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'route' }, spec: { weight: 10 } } as Weighted);
    const router = api.client();
    const cached = cachedKubeApi(router, (r) => router.peek(r));
    const read = await cached.get<Weighted>(ref);
    const { wrote } = await patchToRendered(cached, ref, setWeight(20), { read });
    assert.equal(wrote, true);
    assert.equal(router.reads(), 0, 'no GET');
    assert.equal(router.writes(), 1, 'one patch');
    assert.equal((await api.get<Weighted>(ref)).spec.weight, 20);
  });

  void it('a stale cached copy costs one refused write and one fresh read, never a wrong write', async () => {
    const api = new InMemoryKubeApi();
    await api.create(ref, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'route' }, spec: { weight: 10 } } as Weighted);
    const stale = api.peek(ref)!;
    // Another writer changes a field we do not write, and the cache has not seen it yet.
    await api.patch(ref, 'merge', { spec: { note: 'kept' } });
    const router = api.client();
    const cached = cachedKubeApi(router, () => stale);
    const read = await cached.get<Weighted>(ref);
    const { wrote, object } = await patchToRendered(cached, ref, setWeight(20), { read });
    assert.equal(wrote, true);
    assert.deepEqual((await api.get<Weighted>(ref)).spec, { weight: 20, note: 'kept' }, "the other writer's change survives");
    assert.equal(object.spec.weight, 20);
    assert.equal(router.reads(), 1, 'one fresh read after the refused write');
    assert.equal(router.writes(), 1);
  });

  void it('gives callers a copy: changing it leaves the cache alone', async () => {
    const held: Weighted = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'route', resourceVersion: '5' }, spec: { weight: 10 } };
    const cached = cachedKubeApi(new InMemoryKubeApi(), () => held);
    const copy = await cached.get<Weighted>(ref);
    copy.spec.weight = 99;
    assert.equal(held.spec.weight, 10);
  });
});

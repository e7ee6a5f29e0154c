// The local control plane is the real Kubernetes: controllers reconcile, the garbage collector
// collects, and the upstream CRDs' schemas are enforced by the API server.
import assert from 'node:assert/strict';
import { KubeApiError, type KubeObject } from '../kube/client.ts';
import { scenario } from './harness.ts';

interface ReplicaSet extends KubeObject {
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
}

const core = (plural: string, namespace: string, name?: string) => ({ group: '', version: 'v1', plural, namespace, name });
const apps = (plural: string, namespace: string, name?: string) => ({ group: 'apps', version: 'v1', plural, namespace, name });

scenario('a ReplicaSet reaches its ready pods and is garbage-collected with its owner', async ({ cluster, ns, given, when, then }) => {
  let owner: KubeObject | undefined;
  await given('a ConfigMap that owns a ReplicaSet of 5 replicas', async () => {
    [owner] = await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' }, data: { role: 'owner' } }, ns);
    await cluster.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: 'web',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner!.metadata.uid!, blockOwnerDeletion: false }],
        },
        spec: {
          replicas: 5,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
        },
      },
      ns,
    );
  });

  await then('5 pods are created, scheduled on KWOK nodes and become ready', async () => {
    await cluster.waitFor<ReplicaSet>(apps('replicasets', ns, 'web'), (rs) => rs?.status?.readyReplicas === 5, { what: 'ReplicaSet web to have 5 ready pods' });
    const pods = await cluster.list<KubeObject & { spec: { nodeName?: string }; status: { phase?: string; podIP?: string } }>(core('pods', ns), 'app=web');
    assert.equal(pods.length, 5);
    for (const pod of pods) {
      assert.match(pod.spec.nodeName ?? '', /^kwok-node-/, `pod ${pod.metadata.name} is scheduled on a KWOK node`);
      assert.equal(pod.status.phase, 'Running');
      assert.ok(pod.status.podIP, `pod ${pod.metadata.name} has an IP`);
    }
  });

  await when('the owner is deleted', () => cluster.delete(core('configmaps', ns, 'owner')));

  await then('the garbage collector deletes the ReplicaSet and its pods', async () => {
    await cluster.waitFor(apps('replicasets', ns, 'web'), (rs) => rs === undefined, { what: 'ReplicaSet web to be garbage-collected' });
    await cluster.waitForList(core('pods', ns), (pods) => pods.length === 0, { labelSelector: 'app=web', what: 'pods of web to be deleted' });
  });
});

scenario('a pod annotated never-ready runs but never becomes Ready', async ({ cluster, ns, given, then }) => {
  await given('a ReplicaSet of 2 whose pods are annotated e2e.rollway.dev/never-ready', () =>
    cluster.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'broken' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'broken' } },
          template: {
            metadata: { labels: { app: 'broken' }, annotations: { 'e2e.rollway.dev/never-ready': 'true' } },
            spec: { containers: [{ name: 'web', image: 'nginx:broken' }] },
          },
        },
      },
      ns,
    ),
  );
  await then('both pods are Running and stay unready', async () => {
    await cluster.waitForList<KubeObject & { status: { phase?: string } }>(core('pods', ns), (pods) => pods.length === 2 && pods.every((p) => p.status.phase === 'Running'), {
      labelSelector: 'app=broken',
      what: 'two running pods',
    });
    // Well past the default 1s ready delay: still not ready.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const rs = await cluster.get<ReplicaSet>(apps('replicasets', ns, 'broken'));
    assert.equal(rs?.status?.readyReplicas ?? 0, 0);
  });
});

scenario('the upstream CRD schemas are enforced by the API server', async ({ cluster, ns, when, then }) => {
  let error: unknown;
  await when('a VirtualService has a route weight that is a string', async () => {
    const invalid = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'bad-weight', namespace: ns },
      spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web-stable' }, weight: 'ninety' }] }] },
    };
    error = await cluster.create(invalid, ns).then(
      () => undefined,
      (err: unknown) => err,
    );
  });
  await then('the API server rejects it with the schema error naming the field', () => {
    assert.ok(error instanceof KubeApiError, `expected a rejection, got ${String(error)}`);
    assert.equal(error.statusCode, 422);
    assert.equal(error.reason, 'Invalid');
    assert.match(error.message, /spec\.http\[0\]\.route\[0\]\.weight/);
    assert.match(error.message, /must be of type integer/);
  });

  await then('a valid VirtualService, DestinationRule, TrafficSplit (each served version) and HTTPRoute are accepted', async () => {
    // The upstream SMI CRD defines v1alpha2..v1alpha4 but serves only the versions it marks served.
    const smiCrd = await cluster.get<KubeObject & { spec: { versions: { name: string; served: boolean }[] } }>({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      plural: 'customresourcedefinitions',
      name: 'trafficsplits.split.smi-spec.io',
    });
    const smiVersions = smiCrd!.spec.versions.filter((v) => v.served).map((v) => v.name);
    assert.ok(smiVersions.includes('v1alpha4'), `served SMI versions: ${smiVersions.join(', ')}`);
    const valid: KubeObject[] = [
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'web' },
        spec: {
          hosts: ['web'],
          http: [{ name: 'primary', route: [{ destination: { host: 'web-stable' }, weight: 9999 }, { destination: { host: 'web-canary' }, weight: 1 }] }],
        },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'web' },
        spec: { host: 'web', subsets: [{ name: 'stable', labels: { 'rollouts-pod-template-hash': 'abc' } }, { name: 'canary', labels: { 'rollouts-pod-template-hash': 'def' } }] },
      },
      ...smiVersions.map((version) => ({
        apiVersion: `split.smi-spec.io/${version}`,
        kind: 'TrafficSplit',
        metadata: { name: `web-${version}` },
        spec: { service: 'web', backends: [{ service: 'web-stable', weight: 95 }, { service: 'web-canary', weight: 5 }] },
      })),
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'web' },
        spec: {
          parentRefs: [{ name: 'gateway' }],
          rules: [{ backendRefs: [{ name: 'web-stable', port: 80, weight: 9950 }, { name: 'web-canary', port: 80, weight: 50 }] }],
        },
      },
    ];
    for (const object of valid) {
      const created = await cluster.create(object, ns);
      assert.ok(created.metadata.uid, `${object.kind} ${object.apiVersion} was stored`);
    }
    const route = await cluster.get<KubeObject & { spec: { rules: { backendRefs: { weight: number }[] }[] } }>(
      await cluster.ref('gateway.networking.k8s.io/v1', 'HTTPRoute', 'web', ns),
    );
    assert.deepEqual(
      route?.spec.rules[0]?.backendRefs.map((b) => b.weight),
      [9950, 50],
    );
  });
});

// An example third-party traffic router, written the way a plugin author would: against
// routers/sdk.ts only, loaded with `rollway controller --router-plugin examples/router-plugin/index.ts`,
// configured under trafficRouting.plugins["example.com/configmap-weights"].
//
// It serves proxies that read their split from a ConfigMap (a sidecar that reloads its upstream
// weights, say): the user's ConfigMap gets `canary-weight` and `stable-weight` entries (exact
// integers: 0.01% is 1 and 9999) and an annotation saying Rollway manages them; release() puts
// 0 / 100 back and takes the annotation off. Other entries of the ConfigMap are never touched.
import { z } from 'zod';
import { definePlugin, FULL_STABLE, patchToRendered, RouterBase, RouterSpecError, type DesiredTraffic, type KubeObject, type ResourceRef, type RouterCapabilities, type RouterReconcileResult, type WeightRatio } from '../../routers/sdk.ts';

export const MANAGED_ANNOTATION = 'example.com/weights-managed-by';
const CANARY_KEY = 'canary-weight';
const STABLE_KEY = 'stable-weight';

const ConfigSchema = z.strictObject({
  configMap: z.string().min(1).describe('the ConfigMap the proxy reads its weights from, in the Rollout\'s namespace'),
});
type Config = z.output<typeof ConfigSchema>;

const CAPABILITIES: RouterCapabilities = { weightResolutionPercent: 0.01, headerMatch: [], mirror: false, verification: false, replicaBased: false };

const configMapRef = (namespace: string, name: string): ResourceRef => ({ group: '', version: 'v1', plural: 'configmaps', namespace, name });

/** The ConfigMap as it should be for a weight: our two entries and our annotation (none at full stable on release). */
function render(current: KubeObject, weight: WeightRatio, managed: boolean): KubeObject {
  const next = structuredClone(current);
  const data = { ...((next.data as Record<string, string> | undefined) ?? {}) };
  data[CANARY_KEY] = String(weight.canary);
  data[STABLE_KEY] = String(weight.total - weight.canary);
  next.data = data;
  const annotations = { ...(next.metadata.annotations ?? {}) };
  if (managed) annotations[MANAGED_ANNOTATION] = 'rollway';
  else delete annotations[MANAGED_ANNOTATION];
  if (Object.keys(annotations).length > 0) next.metadata.annotations = annotations;
  else delete next.metadata.annotations;
  return next;
}

/** The split a ConfigMap carries, or undefined when it has none. */
function readWeights(object: KubeObject): WeightRatio | undefined {
  const data = (object.data as Record<string, string> | undefined) ?? {};
  const canary = Number(data[CANARY_KEY]);
  const stable = Number(data[STABLE_KEY]);
  if (!Number.isInteger(canary) || !Number.isInteger(stable) || canary < 0 || stable < 0 || canary + stable === 0) return undefined;
  return { canary, total: canary + stable };
}

// RouterBase keeps the context (this.ctx), the parsed configuration (this.config) and the capabilities.
class ConfigMapRouter extends RouterBase<Config> {
  readonly name = 'example.com/configmap-weights';

  async reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult> {
    const ref = configMapRef(this.ctx.namespace, this.config.configMap);
    const current = await this.ctx.client.getOptional(ref);
    if (!current) {
      throw new RouterSpecError([{ path: `${this.ctx.path}.configMap`, message: `ConfigMap "${this.config.configMap}" not found in namespace ${this.ctx.namespace}`, fix: 'create the ConfigMap or correct the name' }]);
    }
    const done = await patchToRendered(this.ctx.client, ref, (cm) => ({ object: render(cm, desired.weight, true), result: undefined }), { read: current });
    return { writes: done.wrote ? 1 : 0, verified: undefined, actualWeight: readWeights(done.object) ?? desired.weight };
  }

  async release(): Promise<void> {
    const ref = configMapRef(this.ctx.namespace, this.config.configMap);
    const current = await this.ctx.client.getOptional(ref);
    if (!current) return; // nothing left to put back
    await patchToRendered(this.ctx.client, ref, (cm) => ({ object: render(cm, FULL_STABLE, false), result: undefined }), { read: current });
  }
}

export const configMapWeights = definePlugin({
  key: 'example.com/configmap-weights',
  label: 'the ConfigMap weights router (example plugin)',
  schema: ConfigSchema,
  capabilities: CAPABILITIES,
  kinds: [{ kind: 'ConfigMap', group: '', plural: 'configmaps', versions: ['v1'], editedInPlace: true }],
  routingObjects: (config, where) => [{ kind: 'ConfigMap', group: '', plural: 'configmaps', namespace: where.namespace, name: config.configMap, carriesWeight: true, access: 'edits', field: 'configMap' }],
  read: (object) => readWeights(object),
  create: (ctx, config) => new ConfigMapRouter(ctx, config, CAPABILITIES),
});

export default configMapWeights;

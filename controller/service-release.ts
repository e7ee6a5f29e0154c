// Releasing the Services we pinned, as Argo Rollouts does: once the Rollout that pinned a Service
// is gone, or no longer names it (activeService/previewService, canaryService/stableService), our
// rollouts-pod-template-hash key and our managed-by annotation leave it; the user's own selector
// keys stay. Pure: the controller reads its Service cache and carries out the patches.
import { POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';
import { MANAGED_BY_ANNOTATION, type SpecView } from './model.ts';

export interface ServiceMark {
  name: string;
  /** MANAGED_BY_ANNOTATION: the Rollout that pinned it */
  managedBy: string | undefined;
  resourceVersion: string | undefined;
}

/** The Services a Rollout's spec names for us to pin. */
export function referencedServices(spec: SpecView): Set<string> {
  const canary = spec.strategy?.canary;
  const blueGreen = spec.strategy?.blueGreen;
  const names = [canary?.canaryService, canary?.stableService, blueGreen?.activeService, blueGreen?.previewService];
  return new Set(names.filter((n): n is string => typeof n === 'string' && n !== ''));
}

/** Services `rolloutName` pinned that it no longer names (`referenced` undefined: the Rollout is gone). */
export function servicesToRelease(services: readonly ServiceMark[], rolloutName: string, referenced: ReadonlySet<string> | undefined): ServiceMark[] {
  return services.filter((s) => s.managedBy === rolloutName && !(referenced?.has(s.name) ?? false));
}

/** The merge patch that takes our key and annotation off a Service, guarded by the version we read. */
export function releasePatch(resourceVersion: string | undefined): Record<string, unknown> {
  return {
    metadata: { ...(resourceVersion ? { resourceVersion } : {}), annotations: { [MANAGED_BY_ANNOTATION]: null } },
    spec: { selector: { [POD_TEMPLATE_HASH_LABEL]: null } },
  };
}

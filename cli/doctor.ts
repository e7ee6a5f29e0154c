// `rollway doctor`: what the cluster holds that Rollway should have cleaned up: routing left
// applied by Rollouts that are gone (their finalizer removed by hand while no controller ran),
// and Rollouts whose deletion waits on our finalizer with no controller running to release it.
import { ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import { TRAFFIC_ROUTING_FINALIZER } from '../api/labels.ts';
import type { RolloutObject } from '../api/views.ts';
import { describeObjects, findOrphanedRouting } from '../controller/index.ts';
import type { KubeClient } from '../kube/client.ts';
import { liveControllerLeases } from './uninstall.ts';

export interface DoctorFinding {
  object: string;
  message: string;
  fix: string;
}

export async function doctor(client: KubeClient, namespace: string | undefined, now = Date.now()): Promise<DoctorFinding[]> {
  const scope = namespace === undefined ? '-A' : `-n ${namespace}`;
  const findings: DoctorFinding[] = [];
  for (const orphan of await findOrphanedRouting(client, namespace)) {
    findings.push({
      object: describeObjects(orphan.objects),
      message: `traffic routing of Rollout ${orphan.namespace}/${orphan.name} (uid ${orphan.uid}) is still applied, but that Rollout no longer exists`,
      fix: `start the Rollway controller (it sets the routing back to 100% stable when it starts), or run rollway uninstall ${scope}`,
    });
  }
  const list = await client.list<RolloutObject>({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace });
  const stuck = list.items.filter((r) => r.metadata.deletionTimestamp && r.metadata.finalizers?.includes(TRAFFIC_ROUTING_FINALIZER));
  if (stuck.length > 0 && (await liveControllerLeases(client, namespace, [], now)).length === 0) {
    for (const r of stuck) {
      findings.push({
        object: `Rollout ${r.metadata.namespace}/${r.metadata.name}`,
        message: `being deleted since ${r.metadata.deletionTimestamp}, held by finalizer ${TRAFFIC_ROUTING_FINALIZER}, and no Rollway controller runs to release its routing`,
        fix: `start the Rollway controller, or run rollway uninstall ${scope}`,
      });
    }
  }
  return findings;
}

export const formatDoctorFinding = (f: DoctorFinding): string => `${f.object}: ${f.message}\n  fix: ${f.fix}`;

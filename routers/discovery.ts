// Which versions of an API group the cluster serves, asked once per client and group (a
// successful answer is kept; a failure is asked again next time, as CRDs may be installed later).
import { KubeApiError, type KubeClient } from '../kube/client.ts';

const cache = new WeakMap<KubeClient, Map<string, Promise<string[]>>>();

/** The served versions of an API group, the server's preferred one first; [] when not served. */
export function servedVersions(client: KubeClient, group: string): Promise<string[]> {
  let byGroup = cache.get(client);
  if (!byGroup) {
    byGroup = new Map();
    cache.set(client, byGroup);
  }
  let answer = byGroup.get(group);
  if (!answer) {
    answer = client
      .request<{ versions?: { version: string }[]; preferredVersion?: { version: string } }>('GET', `/apis/${group}`)
      .then((doc) => {
        const versions = (doc.versions ?? []).map((v) => v.version);
        const preferred = doc.preferredVersion?.version;
        return preferred ? [preferred, ...versions.filter((v) => v !== preferred)] : versions;
      })
      .catch((err: unknown) => {
        if (err instanceof KubeApiError && err.isNotFound) return [];
        throw err;
      });
    const pending = answer;
    pending.then(
      (versions) => {
        if (versions.length === 0) byGroup.delete(group);
      },
      () => byGroup.delete(group),
    );
    byGroup.set(group, pending);
  }
  return answer;
}

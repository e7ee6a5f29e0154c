// Asks the API server whether this client may do something (a SelfSubjectAccessReview, which
// every authenticated user may create), so that a controller installed with fewer rights can
// turn off what it may not do, with a clear message, instead of retrying 403s forever.
import type { KubeClient } from './client.ts';

export interface AccessQuery {
  group: string;
  resource: string;
  verb: string;
  /** '' or undefined: every namespace (or a cluster-scoped resource) */
  namespace?: string | undefined;
  /** e.g. status */
  subresource?: string | undefined;
}

/** true or false as the API server answers; undefined when it could not be asked. */
export async function canI(client: KubeClient, query: AccessQuery): Promise<boolean | undefined> {
  try {
    const review = await client.request<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { group: query.group, resource: query.resource, verb: query.verb, namespace: query.namespace ?? '', ...(query.subresource ? { subresource: query.subresource } : {}) } },
      },
    });
    return review.status?.allowed === true;
  } catch {
    return undefined;
  }
}

/** The verbs the API server refuses (none when it could not be asked: the caller tries anyway). */
export async function missingVerbs(client: KubeClient, query: Omit<AccessQuery, 'verb'>, verbs: readonly string[]): Promise<string[]> {
  const answers = await Promise.all(verbs.map((verb) => canI(client, { ...query, verb })));
  return answers.includes(undefined) ? [] : verbs.filter((_, i) => answers[i] === false);
}

// The job provider: a measurement is a batch/v1 Job made from the metric's template, owned by the
// AnalysisRun (so it is deleted with it). The measurement is Successful when the Job completes and
// Failed when it fails; until then it stays Running and the reconciler looks again when the Job
// changes (it watches Jobs labelled with their run).
import { createHash } from 'node:crypto';
import { ANALYSIS_API_VERSION, ANALYSIS_RUN_KIND, type JobProvider } from '../../api/analysis.ts';
import { KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../../kube/client.ts';
import type { ProviderOutcome } from '../assess.ts';

export const ANALYSIS_RUN_LABEL = 'rollway.dev/analysis-run';
export const ANALYSIS_METRIC_LABEL = 'rollway.dev/analysis-metric';
/** Measurement metadata keys that name the Job (as Argo writes them). */
export const JOB_NAME_KEY = 'job-name';
export const JOB_NAMESPACE_KEY = 'job-namespace';

export interface JobObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export const jobRef = (namespace: string, name?: string): ResourceRef => ({ group: 'batch', version: 'v1', plural: 'jobs', namespace, name });

/** `<run>-<metric>-<n>`, shortened with a digest to stay a valid 63-character label value. */
export function jobName(runName: string, metricName: string, n: number): string {
  const clean = (s: string): string => s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const full = `${clean(runName)}-${clean(metricName)}-${n}`;
  if (full.length <= 63) return full;
  const digest = createHash('sha256').update(`${runName}/${metricName}/${n}`).digest('hex').slice(0, 8);
  return `${full.slice(0, 63 - digest.length - String(n).length - 2).replace(/-+$/, '')}-${digest}-${n}`;
}

/** A name as a label value (at most 63 characters; longer ones end in a digest). */
export function labelValue(name: string): string {
  if (name.length <= 63) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${digest}`;
}

export interface JobOwner {
  name: string;
  namespace: string;
  uid: string;
}

/** The Job of the n-th measurement of a metric (its template's args already substituted). */
export function buildJob(owner: JobOwner, metricName: string, provider: JobProvider, n: number): JobObject {
  const labels = { ...(provider.metadata?.labels ?? {}), [ANALYSIS_RUN_LABEL]: labelValue(owner.name), [ANALYSIS_METRIC_LABEL]: labelValue(metricName) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(owner.name, metricName, n),
      namespace: owner.namespace,
      labels,
      ...(provider.metadata?.annotations ? { annotations: provider.metadata.annotations } : {}),
      ownerReferences: [{ apiVersion: ANALYSIS_API_VERSION, kind: ANALYSIS_RUN_KIND, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(provider.spec) as Record<string, unknown>,
  };
}

/** The measurement a Job's state makes (pure). */
export function jobOutcome(job: JobObject | undefined, name: string): ProviderOutcome {
  const metadata = { [JOB_NAME_KEY]: name, ...(job?.metadata.namespace ? { [JOB_NAMESPACE_KEY]: job.metadata.namespace } : {}) };
  if (!job) return { kind: 'error', message: `Job ${name} was not found (deleted before it finished?)` };
  const condition = (type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  const complete = condition('Complete');
  if (complete) return { kind: 'phase', phase: 'Successful', message: `Job ${name} completed`, metadata };
  const failed = condition('Failed');
  if (failed) {
    const why = [failed.reason, failed.message].filter(Boolean).join(': ');
    return { kind: 'phase', phase: 'Failed', message: `Job ${name} failed${why ? ` (${why})` : ''}`, metadata };
  }
  return { kind: 'phase', phase: 'Running', message: `Job ${name} is running`, metadata };
}

/** Creates the Job; one left by an earlier attempt of the same measurement is taken as it is. */
export async function startJob(client: KubeClient, job: JobObject): Promise<ProviderOutcome> {
  const ns = job.metadata.namespace as string;
  const name = job.metadata.name as string;
  try {
    await client.create(jobRef(ns), job);
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 409) return jobOutcome(await client.getOptional<JobObject>(jobRef(ns, name)), name);
    if (err instanceof KubeApiError) return { kind: 'error', message: `creating Job ${name}: ${err.message}` };
    throw err;
  }
  return { kind: 'phase', phase: 'Running', message: `Job ${name} is running`, metadata: { [JOB_NAME_KEY]: name, [JOB_NAMESPACE_KEY]: ns } };
}

/** Deletes a Job and its pods (when the run is terminated before the Job ends). */
export async function deleteJob(client: KubeClient, namespace: string, name: string): Promise<void> {
  try {
    await client.delete(jobRef(namespace, name), { propagationPolicy: 'Background' });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
  }
}

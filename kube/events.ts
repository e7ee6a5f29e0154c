// Kubernetes Events about our objects (Rollouts, AnalysisRuns), as `kubectl describe` and
// `kubectl get events` show them.
import { randomBytes } from 'node:crypto';
import type { KubeClient } from './client.ts';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
  resourceVersion?: string | undefined;
}

/** One Event to record; the planners' PlannedEvent (api/views.ts) has this shape. */
export interface EventToRecord {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly component: string;
  private readonly instance: string;

  constructor(client: KubeClient, component = 'rollway-controller', instance = 'rollway') {
    this.client = client;
    this.component = component;
    this.instance = instance;
  }

  /** Best effort: an Event that cannot be written must never fail a reconcile. */
  async record(object: InvolvedObject, event: EventToRecord): Promise<boolean> {
    const now = new Date().toISOString();
    try {
      await this.client.create(
        { group: '', version: 'v1', plural: 'events', namespace: object.namespace },
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `${object.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`, namespace: object.namespace },
          involvedObject: object,
          reason: event.reason,
          message: event.message,
          type: event.type,
          source: { component: this.component },
          reportingComponent: this.component,
          reportingInstance: this.instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      );
      return true;
    } catch {
      return false;
    }
  }
}

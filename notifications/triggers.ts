// Subscriptions and trigger evaluation, pure: from a Rollout, the configuration and the record of
// what was already sent (an annotation on the Rollout), which notifications are due now.
// A condition fires once while it holds; without oncePer, once it stops holding it may fire again
// (the next pause), with oncePer once per value of that expression (once per revision).
import { evaluate, parseExpression, EvaluationError } from '../analysis/expression.ts';
import type { NotificationConfig } from './config.ts';

export const SUBSCRIBE_PREFIXES = ['notifications.rollway.dev/subscribe.', 'notifications.argoproj.io/subscribe.'];
export const NOTIFIED_ANNOTATION = 'notified.notifications.rollway.dev';
/** Entries the record keeps at most: the oldest sent ones go first. */
export const MAX_RECORD = 100;

export interface Subscription {
  trigger: string;
  service: string;
  recipient: string;
}

export interface RecordEntry {
  trigger: string;
  condition: number;
  service: string;
  recipient: string;
  state: 'pending' | 'sent' | 'failed';
  at: string;
  /** the revision when the trigger fired: a late delivery still names it, not the Rollout's next one */
  revision?: string | undefined;
}
export type NotifiedRecord = Record<string, RecordEntry>;

export interface RolloutLike {
  metadata: { name?: string | undefined; namespace?: string | undefined; annotations?: Record<string, string> | undefined };
  spec?: unknown;
  status?: unknown;
}

/**
 * The Rollout's subscriptions: `<prefix><trigger>.<service>: recipient;recipient`, or
 * `<prefix><service>` for the default triggers. The two prefixes mean the same.
 */
export function parseSubscriptions(annotations: Record<string, string> | undefined, defaultTriggers: string[]): Subscription[] {
  const subs = new Map<string, Subscription>();
  for (const [key, value] of Object.entries(annotations ?? {})) {
    const prefix = SUBSCRIBE_PREFIXES.find((p) => key.startsWith(p));
    if (!prefix) continue;
    const rest = key.slice(prefix.length);
    const dot = rest.indexOf('.');
    const [triggers, service] = dot < 0 ? [defaultTriggers, rest] : [[rest.slice(0, dot)], rest.slice(dot + 1)];
    const recipients = value.split(/[;,]/).map((r) => r.trim()).filter((r) => r !== '');
    for (const trigger of triggers) {
      for (const recipient of recipients.length > 0 ? recipients : ['']) subs.set(JSON.stringify([trigger, service, recipient]), { trigger, service, recipient });
    }
  }
  return [...subs.values()];
}

export function readRecord(annotations: Record<string, string> | undefined): NotifiedRecord {
  const raw = annotations?.[NOTIFIED_ANNOTATION];
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as NotifiedRecord) : {};
  } catch {
    return {}; // a hand-edited, broken record: start afresh rather than never notify again
  }
}

/** Evaluates a condition or oncePer expression on the Rollout; an absent field reads as "not met". */
export function evaluateOn(source: string, rollout: RolloutLike): unknown {
  try {
    return evaluate(parseExpression(source, { variables: ['rollout'] }), { rollout: { metadata: rollout.metadata, spec: rollout.spec ?? {}, status: rollout.status ?? {} } });
  } catch (err) {
    if (err instanceof EvaluationError) return undefined;
    throw err;
  }
}

export interface Due {
  key: string;
  entry: RecordEntry;
}

export interface Evaluation {
  /** notifications that became due now, to claim in the record before sending */
  due: Due[];
  /** the record after this evaluation (due ones pending, conditions no longer met forgotten) */
  record: NotifiedRecord;
  /** subscriptions naming a trigger or service that is not configured */
  problems: string[];
}

export function evaluateSubscriptions(rollout: RolloutLike, config: NotificationConfig, now: Date): Evaluation {
  const record: NotifiedRecord = { ...readRecord(rollout.metadata.annotations) };
  const due: Due[] = [];
  const problems: string[] = [];
  for (const sub of parseSubscriptions(rollout.metadata.annotations, config.defaultTriggers)) {
    const conditions = config.triggers.get(sub.trigger);
    if (!conditions) problems.push(`subscription to trigger "${sub.trigger}", which is not configured`);
    if (!config.services.has(sub.service)) problems.push(`subscription to service "${sub.service}", which is not configured`);
    if (!conditions || !config.services.has(sub.service)) continue;
    conditions.forEach((condition, i) => {
      const base = JSON.stringify([sub.trigger, i, sub.service, sub.recipient]);
      if (evaluateOn(condition.when, rollout) !== true) {
        // Not met: a condition without oncePer may fire again the next time it holds.
        if (!condition.oncePer) for (const k of Object.keys(record)) if (k.startsWith(base.slice(0, -1)) && record[k]?.state !== 'pending') delete record[k];
        return;
      }
      const once = condition.oncePer ? JSON.stringify(evaluateOn(condition.oncePer, rollout) ?? null) : '';
      const key = `${base.slice(0, -1)},${JSON.stringify(once)}]`;
      if (record[key]) return;
      const entry: RecordEntry = { trigger: sub.trigger, condition: i, service: sub.service, recipient: sub.recipient, state: 'pending', at: now.toISOString() };
      record[key] = entry;
      due.push({ key, entry });
    });
  }
  return { due, record: bounded(record), problems: [...new Set(problems)] };
}

/** At most MAX_RECORD entries: pending ones always stay; of the others the newest. */
export function bounded(record: NotifiedRecord): NotifiedRecord {
  const entries = Object.entries(record);
  if (entries.length <= MAX_RECORD) return record;
  const pending = entries.filter(([, e]) => e.state === 'pending');
  const done = entries.filter(([, e]) => e.state !== 'pending').sort(([, a], [, b]) => b.at.localeCompare(a.at));
  return Object.fromEntries([...pending, ...done.slice(0, Math.max(0, MAX_RECORD - pending.length))]);
}

// The pod-template hash: names a Rollout's ReplicaSets (`<rollout>-<hash>`) and labels them,
// their selectors and their pods, so Services and routers can pin traffic to one revision. A pure
// function of the template and part of the wire contract like the labels, so it sits in api/: the
// client's `undo` computes it without reaching into the controller.
import { hash } from 'node:crypto';

export { POD_TEMPLATE_HASH_LABEL } from './labels.ts';

// No vowels and no look-alike characters: a hash can never spell a word or be misread.
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted at every level: the same template always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** A short, stable digest of a pod template; collisionCount changes it when a name is taken. */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  // One call of the one-shot hash: a Hash object per template was half of this function's cost.
  const digest = hash('sha256', `${canonicalJson(template)}#${collisionCount}`, 'buffer');
  let n = digest.readBigUInt64BE(0);
  let out = '';
  const base = BigInt(SAFE_ALPHABET.length);
  for (let i = 0; i < 10; i++) {
    out += SAFE_ALPHABET[Number(n % base)];
    n /= base;
  }
  return out;
}

/** Digest of the steps list: a change of steps mid-rollout restarts the steps from the first. */
export function stepsHash(steps: unknown): string {
  return podTemplateHash(steps ?? []);
}

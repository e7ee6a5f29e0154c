// The pod-template hash (a sha256 of the template's canonical JSON) was computed at every
// reconcile: about 4% of the controller's CPU per step when 100 Rollouts step at once
// (bench/cpu-profile.ts). A Rollout's own template changes only with metadata.generation, so its
// hash is kept per Rollout, uid, generation and collisionCount; one entry per Rollout, replaced
// when any of those moves and dropped when the Rollout is deleted.
import { podTemplateHash } from '../api/hash.ts';

/** Who the template belongs to: a Rollout's uid and generation (absent generation: never kept). */
export interface TemplateOwner {
  uid?: string | undefined;
  generation?: number | undefined;
}

export class TemplateHashMemo {
  private readonly kept = new Map<string, { id: string; hash: string }>();

  /** podTemplateHash(template, collisionCount), from the kept hash when owner and count are unchanged. */
  hash(key: string, owner: TemplateOwner, template: unknown, collisionCount: number): string {
    if (owner.generation === undefined) return podTemplateHash(template, collisionCount);
    const id = `${owner.uid ?? ''}/${owner.generation}/${collisionCount}`;
    const kept = this.kept.get(key);
    if (kept?.id === id) return kept.hash;
    const hash = podTemplateHash(template, collisionCount);
    this.kept.set(key, { id, hash });
    return hash;
  }

  forget(key: string): void {
    this.kept.delete(key);
  }

  get size(): number {
    return this.kept.size;
  }
}

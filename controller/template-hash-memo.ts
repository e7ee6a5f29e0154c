// The pod-template hash (a sha256 of the template's canonical JSON) was computed at every
// reconcile: about 4% of the controller's CPU per step when 100 Rollouts step at once
// (bench/cpu-profile.ts). A Rollout's own template changes only with metadata.generation, so its
// hash is kept per generation and collisionCount (generation-memo.ts).
import { podTemplateHash } from '../api/hash.ts';
import { GenerationMemo, type SpecOwner } from './generation-memo.ts';

export class TemplateHashMemo {
  private readonly hashes = new GenerationMemo<string>();

  /** podTemplateHash(template, collisionCount), from the kept hash when owner and count are unchanged. */
  hash(key: string, owner: SpecOwner, template: unknown, collisionCount: number): string {
    return this.hashes.get(key, owner, () => podTemplateHash(template, collisionCount), String(collisionCount));
  }

  forget(key: string): void {
    this.hashes.forget(key);
  }

  get size(): number {
    return this.hashes.size;
  }
}

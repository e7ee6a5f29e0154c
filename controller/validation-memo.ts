// Every reconcile validated the whole Rollout (a zod parse of its spec and pod template: about a
// tenth of a reconcile's CPU when 100 Rollouts step at once, measured with bench/cpu-profile.ts).
// The spec changes only with metadata.generation, so a passing verdict is kept per generation
// (generation-memo.ts); the status, which changes at every step, is checked on each call. Labels
// and annotations need no check: the API server only stores string maps there.
import { RolloutStatusSchema, validateRollout, type ValidationResult } from '../api/rollout.ts';
import type { RolloutObject } from '../api/views.ts';
import { GenerationMemo } from './generation-memo.ts';

export class ValidationMemo {
  private readonly verdicts = new GenerationMemo<ValidationResult>();

  /** validateRollout(rollout), from the verdict of its generation when its status is valid. */
  validate(key: string, rollout: RolloutObject): ValidationResult {
    const result = this.verdicts.get(key, rollout.metadata, () => validateRollout(rollout));
    if (!result.ok) {
      // Just computed (a failure is never kept): it may come from the status, which moves without the generation.
      this.verdicts.forget(key);
      return result;
    }
    return RolloutStatusSchema.safeParse(rollout.status ?? {}).success ? result : validateRollout(rollout);
  }

  forget(key: string): void {
    this.verdicts.forget(key);
  }
}

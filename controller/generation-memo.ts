// A value computed from a Rollout's spec (its validation, its pod-template hash) stays the same
// until the spec changes, which moves metadata.generation. Such values are kept per Rollout key
// with the uid and generation they were computed for (a Rollout deleted and created again under
// the same name has a new uid): one entry per Rollout, replaced when either moves, dropped with it.

/** Whose spec a value was computed from. */
export interface SpecOwner {
  uid?: string | undefined;
  generation?: number | undefined;
}

export class GenerationMemo<T> {
  private readonly kept = new Map<string, { id: string; value: T }>();

  /**
   * compute(), or the value kept for this owner's uid and generation and `also` (another input
   * the value depends on, e.g. a collision count). Without a generation nothing is kept.
   */
  get(key: string, owner: SpecOwner, compute: () => T, also = ''): T {
    if (owner.generation === undefined) return compute();
    const id = `${owner.uid ?? ''}/${owner.generation}/${also}`;
    const kept = this.kept.get(key);
    if (kept?.id === id) return kept.value;
    const value = compute();
    this.kept.set(key, { id, value });
    return value;
  }

  forget(key: string): void {
    this.kept.delete(key);
  }

  get size(): number {
    return this.kept.size;
  }
}

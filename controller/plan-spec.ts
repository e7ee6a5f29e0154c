// The spec the planners read: the Rollout as api/rollout.ts parsed it, so every field the schema
// defaults (`.default(...)`, Argo's values) is filled in and no planner applies a default itself.
import { RolloutSpecSchema, type RolloutSpec } from '../api/rollout.ts';
import type { BlueGreenView, PlanInput, RolloutView, SpecView } from './model.ts';

type CanaryView = NonNullable<NonNullable<SpecView['strategy']>['canary']>;
type Filled<T, K extends keyof T> = Omit<T, K> & Required<Pick<T, K>>;

/** SpecView with the schema's defaulted fields present (api/rollout.ts lists them). */
export type PlanSpec = Filled<Omit<SpecView, 'strategy'>, 'replicas' | 'revisionHistoryLimit' | 'progressDeadlineSeconds'> & {
  strategy?: {
    canary?: Filled<CanaryView, 'maxSurge' | 'maxUnavailable' | 'scaleDownDelaySeconds'>;
    blueGreen?: Filled<BlueGreenView, 'scaleDownDelaySeconds' | 'abortScaleDownDelaySeconds'>;
  };
};

/** What planRollout takes: a PlanInput whose spec the schema parsed. */
export interface PlannedInput extends Omit<PlanInput, 'rollout'> {
  rollout: Omit<RolloutView, 'spec'> & { spec: PlanSpec };
}

/**
 * A validated Rollout's parsed spec, for the planners. The shape schema leaves optional a few
 * fields (route names) that validateRollout's semantic rules then require and SpecView states
 * as required: a spec that passed validateRollout has them.
 */
export function planSpec(parsed: RolloutSpec): PlanSpec {
  return parsed as PlanSpec;
}

/** Parses a spec as written (tests and tools): defaults filled in; throws on a wrong shape. */
export function parsePlanSpec(written: unknown): PlanSpec {
  return planSpec(RolloutSpecSchema.parse(written));
}

/** strategy.blueGreen with its defaults (controller/bluegreen.ts). */
export type PlanBlueGreen = NonNullable<NonNullable<PlanSpec['strategy']>['blueGreen']>;

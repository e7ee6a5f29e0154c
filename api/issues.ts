// A problem with a user's spec: where it is, what is wrong, and how to fix it. Validation,
// `lint`, the InvalidSpec condition and Warning Events all speak in these. The type is declared
// by the routers (the lowest layer that reports issues) and shared from here.
import type { SpecIssue } from '../routers/types.ts';

export type { SpecIssue };

/** One line per issue, for conditions, events and CLI output. */
export function formatIssue(issue: SpecIssue): string {
  return `${issue.path}: ${issue.message} (fix: ${issue.fix})`;
}

/** Renders a zod-style path (['spec', 'steps', 2, 'setWeight']) as `spec.steps[2].setWeight`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out.length === 0 ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

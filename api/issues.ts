// A problem with a user's spec: where it is, what is wrong, and how to fix it. Validation,
// `lint`, the InvalidSpec condition and Warning Events all speak in these.
export interface SpecIssue {
  /** JSON-ish path from the object root: `spec.strategy.canary.steps[2].setWeight` */
  path: string;
  /** what is wrong, in the user's terms: `must be between 0 and 100, got 120` */
  message: string;
  /** what to do about it: `use a percentage such as 20 or 0.5` */
  fix: string;
}

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

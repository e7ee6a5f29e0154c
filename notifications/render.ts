// Template rendering with LiquidJS: a template can read the values it is given and apply Liquid's
// filters, nothing else (no JavaScript, no files: includes resolve against an empty in-memory set).
// Argo's Go-template field references, `{{.rollout.metadata.name}}`, are read as the Liquid
// `{{ rollout.metadata.name }}`, so the usual templates carry over; Go actions ({{if}}, {{range}})
// are reported with the Liquid to write instead.
import { Liquid } from 'liquidjs';

const engine = new Liquid({
  templates: {}, // in-memory and empty: {% include %} and {% render %} can read no file
  ownPropertyOnly: true,
  strictFilters: true,
  parseLimit: 100_000,
  renderLimit: 1_000, // milliseconds of rendering per template
  memoryLimit: 10_000_000,
});

const GO_FIELD = /\{\{-?\s*\.([A-Za-z_][\w.]*)\s*-?\}\}/g;
const GO_ACTION = /\{\{-?\s*(if|range|with|end|else|define|template|block)\b/;

/** The template with Argo's `{{.a.b}}` field references in Liquid's spelling. */
export function fromGoFields(source: string): string {
  return source.replace(GO_FIELD, (_m, path: string) => `{{ ${path} }}`);
}

/** The problem with a template's syntax, or undefined when it parses. */
export function checkTemplate(source: string): string | undefined {
  const action = GO_ACTION.exec(source);
  if (action) return `uses the Go template action {{${action[1]}}}, which Rollway does not run: write it in Liquid ({% if %}…{% endif %}, {% for c in list %}…{% endfor %})`;
  try {
    engine.parse(fromGoFields(source));
    return undefined;
  } catch (err) {
    return `is not a valid template: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Renders one template string with the given values. */
export async function renderText(source: string, values: Record<string, unknown>): Promise<string> {
  return String(await engine.parseAndRender(fromGoFields(source), values));
}

/** Renders every string of a template (or a part of it), keeping its shape. */
export async function renderTree<T>(tree: T, values: Record<string, unknown>): Promise<T> {
  if (typeof tree === 'string') return (await renderText(tree, values)) as T;
  if (Array.isArray(tree)) return (await Promise.all(tree.map((t) => renderTree(t, values)))) as T;
  if (typeof tree === 'object' && tree !== null) {
    const entries = await Promise.all(Object.entries(tree).map(async ([k, v]) => [k, await renderTree(v, values)] as const));
    return Object.fromEntries(entries) as T;
  }
  return tree;
}

interface RolloutFields {
  metadata: { name?: string | undefined; namespace?: string | undefined; annotations?: Record<string, string> | undefined };
  spec?: { template?: { spec?: { containers?: { image?: string | undefined }[] | undefined } | undefined } | undefined } | undefined;
  status?: Record<string, unknown> | undefined;
}

/** What a template can read: the Rollout itself and the fields most messages want, ready-made. */
export function valuesFor(rollout: RolloutFields, context: Record<string, string>, service: { type: string; recipient: string; revision?: string | undefined }): Record<string, unknown> {
  const status = (rollout.status ?? {}) as { currentStepIndex?: number; canary?: Record<string, { status?: string; message?: string } | { canary?: { weight?: number } }>; blueGreen?: Record<string, { message?: string }> };
  const runs = [...Object.values(status.canary ?? {}), ...Object.values(status.blueGreen ?? {})] as { message?: string }[];
  const weights = status.canary?.weights as { canary?: { weight?: number } } | undefined;
  return {
    rollout,
    context,
    recipient: service.recipient,
    serviceType: service.type,
    revision: service.revision ?? rollout.metadata.annotations?.['rollway.dev/revision'] ?? rollout.metadata.annotations?.['rollout.argoproj.io/revision'] ?? '',
    step: status.currentStepIndex ?? 0,
    weight: weights?.canary?.weight ?? 0,
    images: (rollout.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ''),
    analysisMessage: runs.map((r) => (typeof r === 'object' && r !== null ? (r.message ?? '') : '')).find((m) => m !== '') ?? '',
    dashboardURL: context.dashboardURL ?? '',
  };
}

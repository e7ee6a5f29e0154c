// Every field of the Rollout spec is either acted on (FIELD_IMPLEMENTATIONS names the module, and
// that module mentions the field) or reported as not implemented (NOT_YET_IMPLEMENTED reports it
// when a spec sets it). A field in neither place is what users call "accepted and silently
// ignored": this test fails for it, naming the field and both ways to fix it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { CanaryStrategySchema, notImplementedFields, RolloutSpecSchema, type RolloutSpec } from '../api/rollout.ts';
import { COPIED_AS_IS, FIELD_IMPLEMENTATIONS } from './implemented-fields.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
type Node = { type?: string | string[]; properties?: Record<string, Node>; items?: Node; enum?: unknown[]; anyOf?: Node[]; additionalProperties?: unknown };

/** The leaf fields of a schema (`spec.strategy.canary.steps[].setWeight`), with their JSON Schema. */
function leaves(node: Node, at: string, out: Map<string, Node>, nodes: Set<string>): void {
  nodes.add(at);
  if (node.properties !== undefined && Object.keys(node.properties).length > 0) {
    for (const [key, child] of Object.entries(node.properties)) leaves(child, `${at}.${key}`, out, nodes);
  } else if (node.type === 'array' && node.items !== undefined) {
    leaves(node.items, `${at}[]`, out, nodes);
  } else {
    out.set(at, node);
  }
}

function schemaLeaves(schema: z.ZodType): { leaves: Map<string, Node>; nodes: Set<string> } {
  const out = new Map<string, Node>();
  const nodes = new Set<string>();
  leaves(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Node, 'spec', out, nodes);
  return { leaves: out, nodes };
}

/** A value a manifest could carry at a leaf. */
function sample(node: Node): unknown {
  if (node.enum !== undefined) return node.enum[0];
  if (node.anyOf !== undefined) return sample(node.anyOf[0] ?? {});
  switch (node.type) {
    case 'string':
      return 'x';
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    default:
      return node.additionalProperties !== undefined && node.additionalProperties !== false ? { k: 'v' } : {};
  }
}

/** A spec with only the given leaf set (arrays get one element), as a manifest would have it. */
function specSetting(leaf: string, value: unknown): Record<string, unknown> {
  const segments = leaf.split('.').slice(1);
  const root: Record<string, unknown> = {};
  let node: Record<string, unknown> = root;
  segments.forEach((segment, i) => {
    const isArray = segment.endsWith('[]');
    const key = isArray ? segment.slice(0, -2) : segment;
    const last = i === segments.length - 1;
    const child: Record<string, unknown> = {};
    if (isArray) node[key] = [last ? value : child];
    else node[key] = last ? value : child;
    node = child;
  });
  return root;
}

const covers = (key: string, field: string): boolean => field === key || field.startsWith(`${key}.`) || field.startsWith(`${key}[`);
const fieldName = (pathText: string): string => (pathText.split('.').at(-1) ?? '').replace(/\[\]$/, '');
const sources = new Map<string, string>();
function source(module: string): string {
  if (!sources.has(module)) sources.set(module, readFileSync(path.join(repoRoot, module), 'utf8'));
  return sources.get(module)!;
}
const mentions = (modules: readonly string[], name: string): boolean => modules.some((m) => new RegExp(`\\b${name}\\b`).test(source(m)));

/** What is wrong with the coverage of a spec schema; empty when every field is accounted for. */
function coverageProblems(schema: z.ZodType, implementations: Readonly<Record<string, readonly string[]>>, notImplemented: (spec: RolloutSpec) => { path: string }[]): string[] {
  const { leaves: fields, nodes } = schemaLeaves(schema);
  const problems: string[] = [];
  for (const key of Object.keys(implementations)) {
    if (!nodes.has(key)) problems.push(`${key}: listed in FIELD_IMPLEMENTATIONS but the schema has no such field; remove the entry`);
  }
  for (const [field, node] of fields) {
    const key = Object.keys(implementations).filter((k) => covers(k, field)).sort((a, b) => b.length - a.length)[0];
    const reported = notImplemented(specSetting(field, sample(node)) as RolloutSpec).some((issue) => covers(issue.path.replace(/\[\d+\]/g, '[]'), field));
    if (key === undefined) {
      if (!reported) {
        problems.push(
          `${field} is accepted but neither implemented nor reported: implement it and add '${field}': [module] to FIELD_IMPLEMENTATIONS (controller/implemented-fields.ts), or list it in NOT_YET_IMPLEMENTED (api/rollout.ts)`,
        );
      }
      continue;
    }
    if (reported) problems.push(`${field} is reported as not implemented but FIELD_IMPLEMENTATIONS names ${implementations[key]!.join(', ')} for it; keep one of the two`);
    const modules = implementations[key]!;
    const names = COPIED_AS_IS.some((c) => covers(c, field)) ? [fieldName(key)] : [fieldName(key), fieldName(field)];
    for (const name of new Set(names)) {
      if (!mentions(modules, name)) problems.push(`${field}: FIELD_IMPLEMENTATIONS names ${modules.join(', ')}, which never mention ${name}`);
    }
  }
  return problems;
}

void test('every field of the Rollout spec is implemented (by a module that reads it) or reported as not implemented', () => {
  const problems = coverageProblems(RolloutSpecSchema, FIELD_IMPLEMENTATIONS, notImplementedFields);
  assert.deepEqual(problems, [], problems.join('\n'));
});

void test('the walk reaches the fields this work implemented, and the ones still reported', () => {
  const { leaves: fields } = schemaLeaves(RolloutSpecSchema);
  for (const field of [
    'spec.strategy.canary.canaryMetadata.labels',
    'spec.strategy.canary.antiAffinity.preferredDuringSchedulingIgnoredDuringExecution.weight',
    'spec.strategy.canary.antiAffinity.requiredDuringSchedulingIgnoredDuringExecution',
    'spec.strategy.canary.steps[].setHeaderRoute.match[].headerValue.regex',
    'spec.strategy.blueGreen.previewMetadata.labels',
    'spec.workloadRef.scaleDown',
    'spec.strategy.canary.pingPong.pingService',
  ]) {
    assert.ok(fields.has(field), `${field} is walked`);
  }
});

void test('a new field that nothing reads and nothing reports fails the check, at any depth', () => {
  const extended = RolloutSpecSchema.extend({
    surgeTimeout: z.int().optional(),
    strategy: z.object({ canary: CanaryStrategySchema.extend({ trafficShaper: z.object({ mode: z.string() }).optional() }).optional() }).optional(),
  });
  const problems = coverageProblems(extended, FIELD_IMPLEMENTATIONS, notImplementedFields);
  assert.ok(problems.some((p) => p.startsWith('spec.surgeTimeout is accepted but neither implemented nor reported')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('spec.strategy.canary.trafficShaper.mode is accepted')), problems.join('\n'));
});

void test('an entry whose module never reads the field, or that outlives its field, fails the check', () => {
  const wrongModule = { ...FIELD_IMPLEMENTATIONS, 'spec.strategy.canary.canaryMetadata': ['api/hash.ts'] };
  assert.ok(coverageProblems(RolloutSpecSchema, wrongModule, notImplementedFields).some((p) => p.includes('never mention canaryMetadata')));
  const stale = { ...FIELD_IMPLEMENTATIONS, 'spec.strategy.canary.retired': ['controller/planner.ts'] };
  assert.ok(coverageProblems(RolloutSpecSchema, stale, notImplementedFields).some((p) => p.startsWith('spec.strategy.canary.retired: listed in FIELD_IMPLEMENTATIONS but the schema has no such field')));
  const unlisted = Object.fromEntries(Object.entries(FIELD_IMPLEMENTATIONS).filter(([key]) => key !== 'spec.strategy.canary.antiAffinity'));
  assert.ok(coverageProblems(RolloutSpecSchema, unlisted, notImplementedFields).some((p) => p.startsWith('spec.strategy.canary.antiAffinity.preferredDuringSchedulingIgnoredDuringExecution.weight is accepted but neither')));
  const both = { ...FIELD_IMPLEMENTATIONS, 'spec.strategy.canary.pingPong': ['controller/planner.ts'] };
  assert.ok(coverageProblems(RolloutSpecSchema, both, notImplementedFields).some((p) => p.includes('is reported as not implemented but FIELD_IMPLEMENTATIONS names')));
});

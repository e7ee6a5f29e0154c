// The smallest RFC 6902 JSON patch that turns the object we read into the object we rendered,
// guarded by `test` ops on what we replace or remove: if another writer changed those fields
// since our read, the API server refuses the whole patch and we re-read instead of overwriting.
// Routers render a full desired object (pure), and this keeps the write down to the fields that
// actually differ, so the user's other fields are never part of a write.
import { isDeepStrictEqual } from 'node:util';

export type JsonPatchOp =
  | { op: 'test'; path: string; value: unknown }
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** Escapes one JSON pointer segment (`rollway.dev/x` → `rollway.dev~1x`). */
export function pointerSegment(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** JSON patch ops from `before` to `after` at `path` ('' is the document root). */
export function diffJson(before: unknown, after: unknown, path = ''): JsonPatchOp[] {
  if (isDeepStrictEqual(before, after)) return [];
  if (isObject(before) && isObject(after)) return diffObjects(before, after, path);
  if (Array.isArray(before) && Array.isArray(after)) return diffArrays(before, after, path);
  return [
    { op: 'test', path, value: before },
    { op: 'replace', path, value: after },
  ];
}

function diffObjects(before: Record<string, unknown>, after: Record<string, unknown>, path: string): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  for (const key of Object.keys(before)) {
    if (!(key in after) || after[key] === undefined) {
      const at = `${path}/${pointerSegment(key)}`;
      ops.push({ op: 'test', path: at, value: before[key] }, { op: 'remove', path: at });
    }
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const at = `${path}/${pointerSegment(key)}`;
    if (!(key in before) || before[key] === undefined) ops.push({ op: 'add', path: at, value });
    else ops.push(...diffJson(before[key], value, at));
  }
  return ops;
}

/**
 * Elements are matched by identity: their `name` when they have one (routes, rules, subsets),
 * else their position among the unnamed ones. Unmatched old elements are removed (highest index
 * first), matched ones are diffed in place, new ones are inserted at their final index. When
 * identities are ambiguous or matched elements moved, the array is replaced as a whole.
 */
function diffArrays(before: unknown[], after: unknown[], path: string): JsonPatchOp[] {
  const beforeIds = identities(before);
  const afterIds = identities(after);
  if (!beforeIds || !afterIds) {
    if (before.length === after.length) return before.flatMap((item, i) => diffJson(item, after[i], `${path}/${i}`));
    return [
      { op: 'test', path, value: before },
      { op: 'replace', path, value: after },
    ];
  }
  const afterIndex = new Map(afterIds.map((id, i) => [id, i]));
  const beforeIndex = new Map(beforeIds.map((id, i) => [id, i]));
  const keptInBeforeOrder = beforeIds.filter((id) => afterIndex.has(id));
  const keptInAfterOrder = afterIds.filter((id) => beforeIndex.has(id));
  if (!isDeepStrictEqual(keptInBeforeOrder, keptInAfterOrder)) {
    return [
      { op: 'test', path, value: before },
      { op: 'replace', path, value: after },
    ];
  }
  const ops: JsonPatchOp[] = [];
  for (let i = before.length - 1; i >= 0; i--) {
    if (afterIndex.has(beforeIds[i]!)) continue;
    const item = before[i];
    const name = isObject(item) && typeof item.name === 'string' ? item.name : undefined;
    ops.push(name !== undefined ? { op: 'test', path: `${path}/${i}/name`, value: name } : { op: 'test', path: `${path}/${i}`, value: item });
    ops.push({ op: 'remove', path: `${path}/${i}` });
  }
  keptInBeforeOrder.forEach((id, k) => {
    ops.push(...diffJson(before[beforeIndex.get(id)!], after[afterIndex.get(id)!], `${path}/${k}`));
  });
  after.forEach((item, j) => {
    if (!beforeIndex.has(afterIds[j]!)) ops.push({ op: 'add', path: `${path}/${j}`, value: item });
  });
  return ops;
}

/** Unique identities of array elements, or undefined when names repeat. */
function identities(items: unknown[]): string[] | undefined {
  const ids: string[] = [];
  let unnamed = 0;
  for (const item of items) {
    if (isObject(item) && typeof item.name === 'string') ids.push(`name:${item.name}`);
    else ids.push(`position:${unnamed++}`);
  }
  return new Set(ids).size === ids.length ? ids : undefined;
}

/** Applies ops to a copy of `document` (the test ops included): what the API server would store. */
export function applyJsonPatch<T>(document: T, ops: readonly JsonPatchOp[]): T {
  const root: { doc: unknown } = { doc: structuredClone(document) };
  for (const op of ops) {
    const segments = op.path === '' ? [] : op.path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let parent: unknown = root;
    let key: string = 'doc';
    for (const segment of segments) {
      parent = (parent as Record<string, unknown>)[key];
      key = segment;
      if (parent === null || typeof parent !== 'object') throw new Error(`json patch: ${op.path} does not exist`);
    }
    const container = parent as Record<string, unknown> & unknown[];
    const index = Array.isArray(container) ? (key === '-' ? container.length : Number(key)) : undefined;
    switch (op.op) {
      case 'test':
        if (!isDeepStrictEqual(container[key], op.value)) throw new Error(`json patch: test failed at ${op.path}`);
        break;
      case 'add':
        if (index !== undefined) container.splice(index, 0, structuredClone(op.value));
        else container[key] = structuredClone(op.value);
        break;
      case 'replace':
        if (!(key in container)) throw new Error(`json patch: ${op.path} does not exist`);
        container[key] = structuredClone(op.value);
        break;
      case 'remove':
        if (!(key in container)) throw new Error(`json patch: ${op.path} does not exist`);
        if (index !== undefined) container.splice(index, 1);
        else delete container[key];
        break;
    }
  }
  return root.doc as T;
}

/** Whether a patch changes anything (a patch of only test ops is no write). */
export const changes = (ops: readonly JsonPatchOp[]): boolean => ops.some((op) => op.op !== 'test');

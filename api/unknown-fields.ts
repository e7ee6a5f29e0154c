// Fields the API server would refuse: a CRD's structural schema declares every field it keeps, and
// `kubectl apply` (strict decoding) or a server-side apply fails on any other. lint reports them
// from the same schema the CRD is generated from, so a typo such as `pauze:` is caught before apply.
import type { z } from 'zod';
import { toStructuralSchema, type SchemaNode } from './crd.ts';

interface StructuralNode {
  type?: string;
  properties?: Record<string, StructuralNode>;
  additionalProperties?: StructuralNode | boolean;
  items?: StructuralNode;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

const structural = new WeakMap<z.ZodType, StructuralNode>();

/** Paths (as lint writes them, e.g. `spec.strategy.canary.steps[0].pauze`) of undeclared fields. */
export function undeclaredFields(object: unknown, schema: z.ZodType): string[] {
  let root = structural.get(schema);
  if (!root) structural.set(schema, (root = toStructuralSchema(schema) as SchemaNode as StructuralNode));
  const found: string[] = [];
  // metadata is ObjectMeta, validated by the API server's own rules (lint checks names and labels).
  walk(object, { ...root, properties: { ...root.properties, metadata: { 'x-kubernetes-preserve-unknown-fields': true } } }, '', found);
  return found;
}

function walk(value: unknown, node: StructuralNode, path: string, found: string[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (node.items) value.forEach((item, i) => walk(item, node.items!, `${path}[${i}]`, found));
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (node.properties) {
    for (const [key, child] of entries) {
      const declared = node.properties[key];
      const at = path ? `${path}.${key}` : key;
      if (declared) walk(child, declared, at, found);
      else if (!node['x-kubernetes-preserve-unknown-fields']) found.push(at);
    }
    return;
  }
  if (typeof node.additionalProperties === 'object') {
    for (const [key, child] of entries) walk(child, node.additionalProperties, `${path}.${key}`, found);
  }
}

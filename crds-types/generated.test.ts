// The committed crds-types/*.ts must be exactly what tools/gen-crds-types.ts writes from the
// upstream CRDs: a CRD update without `make crds-types` (or a hand edit) fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CRD_TYPE_FILES, renderAll, repoRoot, toOpenApiSchema } from '../tools/gen-crds-types.ts';

void describe('crds-types', () => {
  void it('the committed files match what `make crds-types` generates from crds/third-party', async () => {
    const rendered = await renderAll();
    assert.equal(rendered.length, CRD_TYPE_FILES.length);
    for (const { path, text } of rendered) {
      const committed = readFileSync(join(repoRoot, path), 'utf8');
      assert.ok(committed === text, `${path} differs from the generated text: run make crds-types`);
    }
  });

  void it('every served version of each CRD has a type alias', async () => {
    const rendered = await renderAll();
    const byPath = new Map(rendered.map((r) => [r.path, r.text]));
    assert.match(byPath.get('crds-types/trafficsplit.ts') ?? '', /export type TrafficSplitV1alpha4 = /);
    assert.match(byPath.get('crds-types/virtualservice.ts') ?? '', /export type VirtualServiceV1 = /);
    assert.match(byPath.get('crds-types/destinationrule.ts') ?? '', /export type DestinationRuleV1alpha3 = /);
    assert.match(byPath.get('crds-types/httproute.ts') ?? '', /export type HTTPRouteV1 = /);
  });

  void it('translates int-or-string and drops value-only junctors of a structural schema', () => {
    const schema = toOpenApiSchema({
      type: 'object',
      properties: {
        port: { 'x-kubernetes-int-or-string': true },
        match: { type: 'object', properties: { exact: { type: 'string' } }, oneOf: [{ required: ['exact'] }] },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    });
    assert.deepEqual(schema, {
      type: 'object',
      properties: {
        port: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
        match: { type: 'object', properties: { exact: { type: 'string' } } },
        free: { type: 'object', additionalProperties: true },
      },
    });
  });
});

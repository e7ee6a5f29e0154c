import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/client.ts';
import { marksOf, orphanedMarks, ROUTED_BY_ANNOTATION, withMark, type MarkedObject, type RoutingMark } from './routing-marks.ts';

const routing = { trafficRouting: { istio: { virtualService: { name: 'web' } } }, stableService: 'web-stable', canaryService: 'web-canary' };
const mark = (uid: string): RoutingMark => ({ uid, routing });
const objectWith = (marks: Record<string, RoutingMark> | string | undefined, others: Record<string, string> = {}): KubeObject => ({
  metadata: { name: 'web', annotations: { ...others, ...(marks === undefined ? {} : { [ROUTED_BY_ANNOTATION]: typeof marks === 'string' ? marks : JSON.stringify(marks) }) } },
});

void describe('routing marks on routing objects', () => {
  void it('adds a Rollout\'s mark beside other Rollouts\' and removes only its own', () => {
    const object = objectWith({ 'shop/api': mark('u-api') });
    const added = withMark(object, 'shop/web', mark('u-web'));
    assert.deepEqual(Object.keys(JSON.parse(added!) as object).sort(), ['shop/api', 'shop/web']);
    assert.equal(withMark(objectWith(JSON.parse(added!) as Record<string, RoutingMark>), 'shop/web', undefined), JSON.stringify({ 'shop/api': mark('u-api') }));
  });

  void it('answers null (annotation removed) when the last mark goes', () => {
    assert.equal(withMark(objectWith({ 'shop/web': mark('u') }), 'shop/web', undefined), null);
  });

  void it('reads text that is not ours as no marks, and skips entries of the wrong shape', () => {
    assert.deepEqual(marksOf(objectWith('not json')), {});
    assert.deepEqual(marksOf(objectWith(undefined, { other: 'x' })), {});
    assert.deepEqual(Object.keys(marksOf(objectWith(JSON.stringify({ 'shop/web': mark('u'), 'shop/bad': { uid: 3 } })))), ['shop/web']);
  });
});

void describe('orphanedMarks', () => {
  const at = (kind: string, name: string, marks: Record<string, RoutingMark>): MarkedObject => ({
    object: { group: 'g', plural: 'p', kind, namespace: 'shop', name, apiVersion: 'g/v1', uid: `${kind}-${name}` },
    marks,
  });

  void it('a mark whose Rollout exists with the same uid is not orphaned', () => {
    assert.deepEqual(orphanedMarks([at('VirtualService', 'web', { 'shop/web': mark('u1') })], new Map([['shop/web', 'u1']])), []);
  });

  void it('a Rollout gone, or created again with another uid, leaves an orphan, grouped over the objects that carry it', () => {
    const found = orphanedMarks(
      [at('VirtualService', 'web', { 'shop/web': mark('u1'), 'shop/api': mark('u2') }), at('DestinationRule', 'web', { 'shop/web': mark('u1') })],
      new Map([['shop/web', undefined], ['shop/api', 'u2-new']]),
    );
    assert.deepEqual(
      found.map((o) => [`${o.namespace}/${o.name}`, o.uid, o.objects.map((x) => x.kind)]),
      [
        ['shop/web', 'u1', ['VirtualService', 'DestinationRule']],
        ['shop/api', 'u2', ['VirtualService']],
      ],
    );
  });
});

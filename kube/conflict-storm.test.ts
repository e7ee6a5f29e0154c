import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConflictStorm } from './conflict-storm.ts';

void test('a run of conflicts triggers one relist per window; scattered conflicts none', () => {
  let storms = 0;
  const storm = new ConflictStorm(() => storms++, 5, 5_000);
  for (let i = 0; i < 4; i++) storm.record(i * 2_000); // one every 2 s: never 5 in 5 s
  assert.equal(storms, 0);
  for (let i = 0; i < 5; i++) storm.record(20_000 + i * 100);
  assert.equal(storms, 1, 'five in half a second');
  for (let i = 0; i < 10; i++) storm.record(20_500 + i * 100);
  assert.equal(storms, 1, 'not again within the same window');
  for (let i = 0; i < 5; i++) storm.record(30_000 + i * 100);
  assert.equal(storms, 2, 'a storm that goes on relists again after the window');
});

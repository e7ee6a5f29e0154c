import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnalysisRunStatus } from '../api/analysis.ts';
import { MASK, Redactor } from './redact.ts';
import { resolveRunArgs } from './run-spec.ts';

const SECRET = 's3cr3t/Tok"en +ü😀';

void describe('Redactor.text', () => {
  const redactor = new Redactor([SECRET]);
  const hidden = (text: string): void => {
    const out = redactor.text(text);
    assert.ok(out.includes(MASK), `nothing redacted in ${out}`);
    for (const part of ['s3cr3t', 'Tok', 'en']) assert.ok(!out.toLowerCase().includes(part.toLowerCase()), `${part} left in ${out}`);
  };

  void it('finds the value as it is and in another letter case', () => {
    assert.equal(redactor.text(`GET http://127.0.0.1:1/${SECRET}/x: connection refused`), `GET http://127.0.0.1:1/${MASK}/x: connection refused`);
    hidden(`host ${SECRET.toUpperCase()}`);
  });

  void it('finds it percent-encoded: a path, a query (+ for space), twice over', () => {
    const url = new URL(`http://127.0.0.1:1/${SECRET}/x`);
    assert.equal(redactor.text(`GET ${url.origin}${url.pathname}: connection refused`), `GET http://127.0.0.1:1/${MASK}/x: connection refused`);
    const query = new URL('http://prom/api/v1/query');
    query.searchParams.set('query', `up{key="${SECRET}"}`);
    hidden(query.toString());
    hidden(encodeURIComponent(SECRET));
    hidden(encodeURIComponent(encodeURIComponent(SECRET)));
  });

  void it('finds it JSON-escaped, at any depth of quoting, and as \\u escapes', () => {
    const once = JSON.stringify(`result == "${SECRET}"`);
    assert.equal(redactor.text(`successCondition malformed expression ${once}`), `successCondition malformed expression "result == \\"${MASK}\\""`);
    hidden(JSON.stringify(JSON.stringify(SECRET)));
    hidden(Array.from({ length: SECRET.length }, (_, i) => `\\u${SECRET.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
  });

  void it('a trailing newline of the Secret is also matched without it', () => {
    assert.equal(new Redactor(['tok-123\n']).text('Authorization: Bearer tok-123.'), `Authorization: Bearer ${MASK}.`);
  });

  void it('leaves text without secrets alone, ignores empty and all-* values, and a second pass changes nothing', () => {
    assert.equal(Redactor.none.text('nothing to see'), 'nothing to see');
    assert.equal(new Redactor(['', '*', '**']).text('a *** b'), 'a *** b');
    const once = redactor.text(`x ${SECRET} y ${encodeURIComponent(SECRET)} z`);
    assert.equal(redactor.text(once), once);
  });

  void it('a long value (a certificate) is found as written, URL-encoded and JSON-escaped', () => {
    const pem = `-----BEGIN KEY-----\n${'AbC+/='.repeat(400)}\n-----END KEY-----`;
    const long = new Redactor([pem]);
    assert.equal(long.text(`a ${pem} b`), `a ${MASK} b`);
    assert.equal(long.text(`a ${encodeURIComponent(pem)} b`), `a ${MASK} b`);
    assert.equal(long.text(`a ${JSON.stringify(pem)} b`), `a "${MASK}" b`);
  });

  void it('the longest of two overlapping values wins', () => {
    assert.equal(new Redactor(['abc', 'abcdef']).text('[abcdef]'), `[${MASK}]`);
  });
});

void describe('Redactor on statuses and errors', () => {
  const redactor = new Redactor(['hunter2']);

  void it('redacts every message and displayed value; timestamps, names and job metadata stay', () => {
    const status: AnalysisRunStatus = {
      phase: 'Error',
      message: 'Metric "m" assessed Error; last measurement: GET http://x/hunter2: connection refused',
      startedAt: '2024-02-01T10:00:00Z',
      metricResults: [
        {
          name: 'm',
          phase: 'Error',
          message: 'consecutiveErrors (5) > consecutiveErrorLimit (4) hunter2',
          measurements: [
            { phase: 'Successful', value: '{"echo":"hunter2"}', startedAt: '2024-02-01T10:00:00Z', finishedAt: '2024-02-01T10:00:01Z', metadata: { 'job-name': 'run-m-1' } },
            { phase: 'Error', message: 'http://x/hunter2 answered HTTP 500: hunter2' },
          ],
        },
      ],
    };
    const out = redactor.status(status);
    assert.doesNotMatch(JSON.stringify(out), /hunter2/);
    assert.equal(out.metricResults?.[0]?.measurements?.[0]?.value, '{"echo":"***"}');
    assert.equal(out.metricResults?.[0]?.measurements?.[0]?.finishedAt, '2024-02-01T10:00:01Z');
    assert.deepEqual(out.metricResults?.[0]?.measurements?.[0]?.metadata, { 'job-name': 'run-m-1' });
    assert.match(JSON.stringify(status), /hunter2/, 'the status passed in is not changed');
  });

  void it('an error keeps its class; message and stack are redacted', () => {
    class Conflict extends Error {}
    const err = redactor.error(new Conflict('PUT /x/hunter2 failed'));
    assert.ok(err instanceof Conflict);
    assert.equal(err.message, 'PUT /x/*** failed');
    assert.doesNotMatch(err.stack ?? '', /hunter2/);
    assert.equal((redactor.error('thrown hunter2') as Error).message, 'thrown ***');
  });
});

void describe('resolveRunArgs', () => {
  void it('plain values and Secret values, the latter also listed as secrets; an unreadable Secret leaves the arg out', async () => {
    const read: { name: string; key: string }[] = [];
    const resolved = await resolveRunArgs(
      [
        { name: 'service', value: 'shop' },
        { name: 'token', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } },
        { name: 'missing', valueFrom: { secretKeyRef: { name: 'api', key: 'nope' } } },
        { name: 'unset' },
      ],
      async (ref) => {
        read.push(ref);
        return ref.key === 'token' ? 'hunter2' : undefined;
      },
    );
    assert.deepEqual([...resolved.values], [['service', 'shop'], ['token', 'hunter2']]);
    assert.deepEqual([...resolved.secrets], ['hunter2']);
    assert.deepEqual(read, [{ name: 'api', key: 'token' }, { name: 'api', key: 'nope' }]);
  });
});

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { buildJob, jobName, jobOutcome, labelValue, type JobObject } from './job.ts';
import { measurePrometheus, prometheusOutcome } from './prometheus.ts';
import { measureWeb, parseJsonPath, selectJsonPath, webOutcome } from './web.ts';
import { closeLocal, listenLocal } from '../../testing/http-server.ts';

const vector = (...values: string[]) => JSON.stringify({ status: 'success', data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1700000000, v] })) } });

void describe('Prometheus answers', () => {
  void it('a vector is a list of numbers; NaN and infinities are kept', () => {
    assert.deepEqual(prometheusOutcome(200, vector('0.02')), { kind: 'value', value: [0.02], display: '[0.02]' });
    const special = prometheusOutcome(200, vector('NaN', '+Inf', '-Inf', '1e-3'));
    assert.equal(special.kind, 'value');
    assert.deepEqual(special.kind === 'value' && special.value, [Number.NaN, Infinity, -Infinity, 0.001]);
    assert.equal(special.kind === 'value' && special.display, '[NaN,+Inf,-Inf,0.001]');
  });

  void it('an empty vector is no data', () => {
    assert.deepEqual(prometheusOutcome(200, vector()), { kind: 'noData', message: 'the query returned an empty vector' });
  });

  void it('a scalar is a number, a string a string', () => {
    assert.deepEqual(prometheusOutcome(200, JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '0.5'] } })), { kind: 'value', value: 0.5, display: '0.5' });
    assert.deepEqual(prometheusOutcome(200, JSON.stringify({ status: 'success', data: { resultType: 'string', result: [1, 'up'] } })), { kind: 'value', value: 'up', display: 'up' });
  });

  void it('errors: a bad query, a range vector, a body that is not JSON', () => {
    const bad = prometheusOutcome(400, JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }));
    assert.deepEqual(bad, { kind: 'error', message: 'Prometheus answered HTTP 400: bad_data: parse error at char 5' });
    const matrix = prometheusOutcome(200, JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }));
    assert.match(matrix.kind === 'error' ? matrix.message : '', /range vector.*instant query/);
    assert.match(JSON.stringify(prometheusOutcome(502, '<html>bad gateway</html>')), /not JSON/);
  });
});

void describe('web answers and jsonPath', () => {
  void it('reads paths with and without braces', () => {
    assert.deepEqual(parseJsonPath('$'), []);
    assert.deepEqual(parseJsonPath('$.data.ok'), ['data', 'ok']);
    assert.deepEqual(parseJsonPath('{$.items[0].value}'), ['items', 0, 'value']);
    assert.deepEqual(parseJsonPath("$['with-dash'][\"x\"][-1]"), ['with-dash', 'x', -1]);
    assert.throws(() => parseJsonPath('data.ok'), /must start with \$/);
    assert.throws(() => parseJsonPath('$..ok'), /cannot read "\.\.ok" at column 2; supported/);
    assert.throws(() => parseJsonPath('$.items[*]'), /supported/);
  });

  void it('selects values; a missing segment is not found', () => {
    const body = { data: { ok: false, items: [{ v: 1 }, { v: 2 }] } };
    assert.deepEqual(selectJsonPath(body, ['data', 'ok']), { found: true, value: false });
    assert.deepEqual(selectJsonPath(body, ['data', 'items', -1, 'v']), { found: true, value: 2 });
    assert.deepEqual(selectJsonPath(body, ['data', 'missing']), { found: false });
    assert.deepEqual(selectJsonPath(body, ['data', 'items', 5]), { found: false });
  });

  void it('outcomes: value, no data, non-2xx and non-JSON are errors', () => {
    const web = { url: 'http://svc/health', jsonPath: '$.data.ok' };
    assert.deepEqual(webOutcome(web, 200, '{"data":{"ok":true}}'), { kind: 'value', value: true, display: 'true' });
    assert.deepEqual(webOutcome({ url: web.url }, 200, '{"a":1}'), { kind: 'value', value: { a: 1 }, display: '{"a":1}' });
    assert.deepEqual(webOutcome({ url: web.url, jsonPath: '$.s' }, 200, '{"s":"green"}'), { kind: 'value', value: 'green', display: 'green' });
    assert.deepEqual(webOutcome(web, 200, '{"data":{}}'), { kind: 'noData', message: 'jsonPath $.data.ok matched nothing in the answer of http://svc/health' });
    assert.deepEqual(webOutcome(web, 503, 'maintenance'), { kind: 'error', message: 'http://svc/health answered HTTP 503: maintenance' });
    assert.match(JSON.stringify(webOutcome(web, 200, 'ok')), /not JSON/);
  });
});

void describe('providers over HTTP (a loopback server)', () => {
  let server: http.Server;
  let base = '';
  const seen: { method?: string; headers: http.IncomingHttpHeaders; body: string; url?: string }[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, headers: req.headers, body, url: req.url });
        if (req.url?.startsWith('/api/v1/query')) res.writeHead(200).end(vector('0.25'));
        else if (req.url === '/slow') return; // never answers
        else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"data":{"ok":true}}');
      });
    });
    base = await listenLocal(server);
  });
  after(async () => {
    await closeLocal(server);
  });

  void it('Prometheus: an instant query with its headers and timeout', async () => {
    const outcome = await measurePrometheus({ address: `${base}/`, query: 'sum(rate(x[1m]))', timeout: 7, headers: [{ key: 'X-Scope-OrgID', value: 'team-a' }] });
    assert.deepEqual(outcome, { kind: 'value', value: [0.25], display: '[0.25]' });
    const request = seen.at(-1)!;
    const url = new URL(request.url ?? '', base);
    assert.equal(url.pathname, '/api/v1/query');
    assert.equal(url.searchParams.get('query'), 'sum(rate(x[1m]))');
    assert.equal(url.searchParams.get('timeout'), '7s');
    assert.equal(request.headers['x-scope-orgid'], 'team-a');
  });

  void it('web: method, headers and body as written', async () => {
    const outcome = await measureWeb({ url: `${base}/check`, method: 'POST', headers: [{ key: 'Authorization', value: 'Bearer t' }], body: '{"q":1}', jsonPath: '$.data.ok' });
    assert.deepEqual(outcome, { kind: 'value', value: true, display: 'true' });
    const request = seen.at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.headers.authorization, 'Bearer t');
    assert.equal(request.body, '{"q":1}');
  });

  void it('web: a timeout and a refused connection are errors that say so', async () => {
    const slow = await measureWeb({ url: `${base}/slow`, timeoutSeconds: 1 });
    assert.deepEqual(slow, { kind: 'error', message: `no answer from ${base} within 1s (timeout)` });
    const refused = await measureWeb({ url: 'http://127.0.0.1:1/x', timeoutSeconds: 1 });
    assert.deepEqual(refused, { kind: 'error', message: 'GET http://127.0.0.1:1/x: connection refused' });
    const bad = await measurePrometheus({ address: 'not a url', query: 'up' });
    assert.equal(bad.kind, 'error');
  });
});

void describe('job provider', () => {
  const owner = { name: 'shop-abc-2', namespace: 'ns', uid: 'uid-1' };

  void it('names Jobs <run>-<metric>-<n>, at most 63 characters', () => {
    assert.equal(jobName('shop-abc-2', 'smoke_test', 1), 'shop-abc-2-smoke-test-1');
    const long = jobName('a'.repeat(60), 'metric', 12);
    assert.ok(long.length <= 63, long);
    assert.match(long, /-[0-9a-f]{8}-12$/);
    assert.notEqual(jobName('a'.repeat(60), 'metric', 12), jobName('a'.repeat(61), 'metric', 12));
    assert.equal(labelValue('short'), 'short');
    assert.ok(labelValue('x'.repeat(100)).length <= 63);
  });

  void it('builds a Job owned by the run, with the template labels and spec', () => {
    const job = buildJob(owner, 'smoke', { metadata: { labels: { team: 'a' } }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never' } } } }, 3);
    assert.equal(job.metadata.name, 'shop-abc-2-smoke-3');
    assert.deepEqual(job.metadata.labels, { team: 'a', 'rollway.dev/analysis-run': 'shop-abc-2', 'rollway.dev/analysis-metric': 'smoke' });
    assert.deepEqual(job.metadata.ownerReferences, [{ apiVersion: 'rollway.dev/v1alpha1', kind: 'AnalysisRun', name: 'shop-abc-2', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(job.spec, { backoffLimit: 0, template: { spec: { restartPolicy: 'Never' } } });
  });

  void it('a Job is Running until Complete or Failed', () => {
    const job = (conditions: { type: string; status: string; reason?: string; message?: string }[]): JobObject => ({ metadata: { name: 'j', namespace: 'ns' }, status: { conditions } });
    assert.equal(jobOutcome(job([]), 'j').kind === 'phase' && (jobOutcome(job([]), 'j') as { phase: string }).phase, 'Running');
    assert.deepEqual(jobOutcome(job([{ type: 'Complete', status: 'True' }]), 'j'), { kind: 'phase', phase: 'Successful', message: 'Job j completed', metadata: { 'job-name': 'j', 'job-namespace': 'ns' } });
    const failed = jobOutcome(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }]), 'j');
    assert.equal(failed.kind === 'phase' && failed.phase, 'Failed');
    assert.equal(failed.kind === 'phase' && failed.message, 'Job j failed (BackoffLimitExceeded: Job has reached the specified backoff limit)');
    assert.deepEqual(jobOutcome(undefined, 'j'), { kind: 'error', message: 'Job j was not found (deleted before it finished?)' });
  });
});

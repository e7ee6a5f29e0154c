// The AnalysisRun reconciler with a stand-in API server (in memory) and real providers against a
// loopback HTTP server: a value read from a Secret, used in a URL path, a header, a Prometheus
// query and a condition, appears nowhere the controller writes or says (status, Events, log,
// errors), not even half of it where an answer is cut to an excerpt. Also: dryRun rules as Argo
// matches them, and a run whose rule names no metric ending in Error.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { AnalysisRunController, type AnalysisRunObject } from './controller.ts';
import { closeLocal, listenLocal } from '../testing/http-server.ts';

const TOKEN = 'Zq7 s3cr/et';
const NS = 'shop';
/** pieces of the token in every spelling a leak could take */
const LEAKS = [/zq7/i, /s3cr/i, new RegExp(encodeURIComponent(TOKEN).slice(0, 8), 'i')];

/** The API calls the reconciler makes, kept in memory. */
class FakeApi {
  runs: AnalysisRunObject[] = [];
  statuses: unknown[] = [];
  events: { reason?: string; message?: string }[] = [];
  failWrites: Error | undefined;
  jobs: KubeObject[] = [];

  async list(ref: ResourceRef): Promise<{ items: KubeObject[]; metadata: { resourceVersion: string } }> {
    return { items: ref.plural === 'analysisruns' ? this.runs : [], metadata: { resourceVersion: '1' } };
  }
  watch(_ref: ResourceRef, _query: unknown, _onEvent: unknown, options?: { signal?: AbortSignal }): Promise<void> {
    return new Promise((resolve) => options?.signal?.addEventListener('abort', () => resolve()));
  }
  async get(ref: ResourceRef): Promise<KubeObject> {
    if (ref.plural === 'secrets' && ref.name === 'api') return { metadata: { name: 'api' }, data: { token: Buffer.from(TOKEN).toString('base64') } } as KubeObject;
    const job = ref.plural === 'jobs' ? this.jobs.find((j) => j.metadata.name === ref.name) : undefined;
    if (job) return job;
    throw new KubeApiError(404, 'NotFound', `${ref.plural} "${ref.name}" not found`, {});
  }
  async replace(_ref: ResourceRef, body: AnalysisRunObject): Promise<KubeObject> {
    if (this.failWrites) throw this.failWrites;
    this.statuses.push(body.status);
    return body;
  }
  async create(ref: ResourceRef, body: KubeObject & { reason?: string; message?: string }): Promise<KubeObject> {
    if (ref.plural === 'events') this.events.push({ reason: body.reason, message: body.message });
    return body;
  }
  async delete(): Promise<void> {}
  async getOptional(ref: ResourceRef): Promise<KubeObject | undefined> {
    return this.get(ref).catch(() => undefined);
  }
}

function run(name: string, metrics: unknown[]): AnalysisRunObject {
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'AnalysisRun',
    metadata: { name, namespace: NS, uid: `uid-${name}` },
    spec: { args: [{ name: 'token', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } }], metrics },
  };
}

void describe('secret values never leave the reconciler', () => {
  let server: http.Server;
  let base = '';
  const seen: { url?: string; authorization?: string }[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      if (req.url?.startsWith('/api/v1/query')) {
        const query = new URL(req.url, 'http://x').searchParams.get('query');
        res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: `1:1: parse error in ${JSON.stringify(query)}` }));
      } else if (req.url?.startsWith('/echo-json')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ auth: req.headers.authorization }));
      } else {
        // the echoed path straddles the 200th character: an excerpt cut there must not keep half the secret
        res.writeHead(401).end(`${'-'.repeat(180)} path=${req.url} auth=${req.headers.authorization}`);
      }
    });
    base = await listenLocal(server);
  });
  after(async () => {
    await closeLocal(server);
  });

  void it('in URLs, headers, a query, values and a malformed condition: status, Events, log and errors show *** instead', async () => {
    const api = new FakeApi();
    const header = [{ key: 'Authorization', value: 'Bearer {{args.token}}' }];
    api.runs = [
      run('measured', [
        { name: 'refused', consecutiveErrorLimit: 0, provider: { web: { url: 'http://127.0.0.1:1/{{args.token}}/x', headers: header } } },
        { name: 'echo', consecutiveErrorLimit: 0, provider: { web: { url: `${base}/echo/{{args.token}}`, headers: header } } },
        { name: 'value', successCondition: 'result.auth != ""', provider: { web: { url: `${base}/echo-json`, headers: header } } },
        { name: 'query', consecutiveErrorLimit: 0, provider: { prometheus: { address: base, query: 'up{token="{{args.token}}"}' } } },
      ]),
      run('malformed', [{ name: 'health', successCondition: 'result == "{{args.token}}" &&', provider: { web: { url: `${base}/echo-json` } } }]),
    ];
    const logs: unknown[] = [];
    const controller = new AnalysisRunController({ client: api as unknown as KubeClient, namespace: NS, log: (...line) => logs.push(line) });
    controller.runs.start();
    controller.jobs.start();
    await Promise.all([controller.runs.waitForSync(), controller.jobs.waitForSync()]);
    try {
      await controller.reconcile(`${NS}/measured`);
      await controller.reconcile(`${NS}/malformed`);
      api.failWrites = new KubeApiError(409, 'Conflict', `the object has been modified; echo: ${TOKEN}`, {});
      api.runs[0] = { ...api.runs[0]!, status: undefined };
      await assert.rejects(controller.reconcile(`${NS}/measured`), (err: unknown) => {
        assert.ok(err instanceof KubeApiError && err.isConflict, 'still a conflict, so the queue treats it as one');
        assert.equal(err.message, 'the object has been modified; echo: ***');
        return true;
      });
    } finally {
      await controller.stop();
    }

    assert.ok(seen.some((r) => r.authorization === `Bearer ${TOKEN}`), 'the providers did send the secret where the template put it');
    const [measured, malformed] = api.statuses as AnalysisRunObject['status'][];
    assert.equal(measured?.phase, 'Error');
    const messages = (measured?.metricResults ?? []).map((r) => [r.name, r.measurements?.at(-1)?.message ?? r.measurements?.at(-1)?.value]);
    assert.deepEqual(messages.map(([name]) => name), ['refused', 'echo', 'value', 'query']);
    for (const [name, text] of messages) assert.match(text ?? '', /\*\*\*/, `metric ${name} shows *** where the secret was: ${text}`);
    assert.match(malformed?.message ?? '', /successCondition malformed expression "result == \\"\*\*\*\\" &&"/);
    const surfaces = { statuses: JSON.stringify(api.statuses), events: JSON.stringify(api.events), log: JSON.stringify(logs) };
    assert.ok(api.events.length >= 2, 'each run ended with an Event');
    for (const [surface, text] of Object.entries(surfaces)) {
      for (const leak of LEAKS) assert.doesNotMatch(text, leak, `${surface} leak the secret`);
    }
  });
});

// Argo Rollouts matches dryRun / measurementRetention rules with Go's regexp.MatchString (the
// pattern is searched for in the name) and ends a run whose rule names no metric in Error.
void describe('dryRun rules in a reconciled run', () => {
  const reconcileOne = async (object: AnalysisRunObject): Promise<{ status: AnalysisRunObject['status']; events: FakeApi['events'] }> => {
    const api = new FakeApi();
    api.runs = [object];
    const controller = new AnalysisRunController({ client: api as unknown as KubeClient, namespace: NS, log: () => undefined });
    controller.runs.start();
    controller.jobs.start();
    await Promise.all([controller.runs.waitForSync(), controller.jobs.waitForSync()]);
    try {
      await controller.reconcile(`${NS}/${object.metadata.name ?? ''}`);
    } finally {
      await controller.stop();
    }
    return { status: api.statuses.at(-1) as AnalysisRunObject['status'], events: api.events };
  };
  const refused = { consecutiveErrorLimit: 0, provider: { web: { url: 'http://127.0.0.1:1/health' } } };
  const withDryRun = (object: AnalysisRunObject, dryRun: { metricName: string }[]): AnalysisRunObject => ({ ...object, spec: { ...(object.spec as object), dryRun } });

  void it('a rule naming no metric: the run is Error before it measures, the reason said once', async () => {
    const object = withDryRun(run('unmatched', [{ name: 'error-rate', ...refused }, { name: 'latency', ...refused }]), [{ metricName: 'error' }, { metricName: '^saturation$' }]);
    const { status, events } = await reconcileOne(object);
    assert.equal(status?.phase, 'Error');
    assert.equal(status?.message?.match(/matches no metric/g)?.length, 1, status?.message ?? 'no message');
    assert.match(status?.message ?? '', /^dryRun\[1\]\.metricName: "\^saturation\$" matches no metric of this run \(metrics: error-rate, latency\) \(fix: .*remove the rule\)$/);
    assert.deepEqual(status?.metricResults ?? [], [], 'nothing was measured');
    assert.ok(events.some((e) => e.message?.includes('"^saturation$" matches no metric')), JSON.stringify(events));
  });

  void it('"error" names the metric error-rate: it is measured as a dry run and does not decide the run', async () => {
    const { status } = await reconcileOne(withDryRun(run('searched', [{ name: 'error-rate', ...refused }]), [{ metricName: 'error' }]));
    assert.equal(status?.metricResults?.[0]?.phase, 'Error');
    assert.equal(status?.metricResults?.[0]?.dryRun, true);
    assert.equal(status?.phase, 'Successful', JSON.stringify(status));
    assert.equal(status?.dryRunSummary?.error, 1);
  });
});

// The Job watch and the run watch are separate streams: the run can come back (our own status
// write) before the Job's watch has delivered the Job we created.
void describe('a Job measurement whose Job the watch has not delivered yet', () => {
  void it('is read from the API, so a failed Job makes a Failed measurement, not "not found"', async () => {
    const api = new FakeApi();
    const metric = { name: 'smoke', provider: { job: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'smoke', image: 'smoke:1' }] } } } } } };
    const inFlight = { phase: 'Running', startedAt: new Date().toISOString(), metadata: { 'job-name': 'smoke-ko-smoke-1', 'job-namespace': NS } };
    api.runs = [{ ...run('smoke-ko', [metric]), status: { phase: 'Running', startedAt: new Date().toISOString(), metricResults: [{ name: 'smoke', phase: 'Running', count: 1, measurements: [inFlight] }] } } as AnalysisRunObject];
    api.jobs = [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'smoke-ko-smoke-1', namespace: NS }, status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] } } as KubeObject];
    const controller = new AnalysisRunController({ client: api as unknown as KubeClient, namespace: NS, log: () => undefined });
    controller.runs.start();
    controller.jobs.start();
    await Promise.all([controller.runs.waitForSync(), controller.jobs.waitForSync()]);
    try {
      await controller.reconcile(`${NS}/smoke-ko`);
    } finally {
      await controller.stop();
    }
    const status = api.statuses.at(-1) as AnalysisRunObject['status'];
    assert.match(status?.metricResults?.[0]?.measurements?.at(-1)?.message ?? '', /Job smoke-ko-smoke-1 failed \(BackoffLimitExceeded\)/);
    assert.equal(status?.phase, 'Failed');
  });
});

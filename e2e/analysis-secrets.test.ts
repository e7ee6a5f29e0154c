// A value read from a Secret (AnalysisTemplate args[].valueFrom.secretKeyRef) is sent where the
// template puts it — a web URL and header, a Prometheus query, a condition — and shown nowhere:
// not in the AnalysisRun, the Rollout's status, the namespace's Events, the controller's log, the
// dashboard's API or `rollway get`. A local HTTP server stands in for the measured services and
// echoes what it was sent, as real services do in their error answers.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import type { RolloutObject } from '../controller/controller.ts';
import { phaseIs, rolloutRef, rolloutYaml, runsOf, runRef, setImage, type RunObject } from './analysis-fixtures.ts';
import { cli, startCli } from './cli-helpers.ts';
import { scenario, startController } from './harness.ts';
import { closeLocal, listenLocal } from '../testing/http-server.ts';

const SECRET = 'T0p3 Sekr3t/42';
/** Pieces of the value that survive every spelling of it (plain, %20 or + for the space, %2F, JSON escapes). */
const LEAKS = [/t0p3/i, /sekr3t/i];

let server: http.Server;
let base = '';
const received: string[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    received.push(`${req.url ?? ''} ${auth}`);
    if (req.url?.startsWith('/api/v1/query')) {
      const query = new URL(req.url, 'http://x').searchParams.get('query');
      res.writeHead(422, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: 'execution', error: `cannot run ${JSON.stringify(query)}` }));
    } else if (req.url === '/whoami') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ auth }));
    } else {
      res.writeHead(401, { 'Content-Type': 'text/plain' }).end(`no access to ${req.url ?? ''} with ${auth}`);
    }
  });
  base = await listenLocal(server);
});

after(async () => {
  await closeLocal(server);
});

const secretArg = '  args:\n  - name: token\n    valueFrom: {secretKeyRef: {name: api, key: token}}';

const templates = (): string => `
apiVersion: v1
kind: Secret
metadata: {name: api}
stringData: {token: "${SECRET}"}
---
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: measured}
spec:
${secretArg}
  metrics:
  - name: url-and-header
    consecutiveErrorLimit: 0
    provider:
      web:
        url: "${base}/private/{{args.token}}/health"
        headers: [{key: Authorization, value: "Bearer {{args.token}}"}]
  - name: refused
    consecutiveErrorLimit: 0
    provider:
      web: {url: "http://127.0.0.1:1/{{args.token}}/x"}
  - name: query
    consecutiveErrorLimit: 0
    provider:
      prometheus: {address: "${base}", query: "sum(up{token=\\"{{args.token}}\\"})"}
  - name: condition
    successCondition: result.auth == "Bearer {{args.token}}"
    provider:
      web:
        url: "${base}/whoami"
        headers: [{key: Authorization, value: "Bearer {{args.token}}"}]
---
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: malformed}
spec:
${secretArg}
  metrics:
  - name: health
    successCondition: result.token == "{{args.token}}" &&
    provider:
      web: {url: "${base}/whoami"}
`;

/** GET on the dashboard: the body as text. */
function fetchText(url: string, firstEventOnly = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        // the stream stays open: the first push of the rollout's view is enough
        if (firstEventOnly && text.includes('event: rollout\n')) {
          req.destroy();
          resolve(text);
        }
      });
      res.on('end', () => resolve(text));
    });
    req.on('error', (err) => (firstEventOnly ? undefined : reject(err)));
  });
}

function assertNoSecret(surface: string, text: string): void {
  for (const leak of LEAKS) {
    const at = text.search(leak);
    assert.equal(at, -1, `${surface} shows the secret: …${text.slice(Math.max(0, at - 120), at + 60)}…`);
  }
}

scenario(
  'a Secret value used in a URL, a header, a query and a condition is never shown: status, Events, log, dashboard and CLI say ***',
  async ({ cluster, ns, given, when, then }) => {
    const controller = startController(ns);
    try {
      await given('a Secret, a template using it in a web URL and header, a Prometheus query and a condition, one with a malformed condition, and a Rollout for each', async () => {
        await cluster.apply(templates(), ns);
        for (const name of ['measured', 'malformed']) {
          await cluster.apply(rolloutYaml(name, { steps: `      - setWeight: 50\n      - analysis: {templates: [{templateName: ${name}}]}` }), ns);
        }
        for (const name of ['measured', 'malformed']) await cluster.waitFor<RolloutObject>(rolloutRef(ns, name), phaseIs('Healthy'), { what: `${name} deployed` });
      });
      await when('both get a new image and reach their analysis', async () => {
        for (const name of ['measured', 'malformed']) await setImage(cluster, ns, name, 'registry.example/app:2');
      });
      await then('both runs end in Error and both Rollouts are aborted, with *** where the value was', async () => {
        for (const name of ['measured', 'malformed']) {
          await cluster.waitFor<RolloutObject>(rolloutRef(ns, name), phaseIs('Degraded', (r) => r.status?.abort === true), { what: `${name} aborted`, timeoutMs: 60_000 });
        }
        assert.ok(received.some((r) => r.includes(`Bearer ${SECRET}`)) && received.some((r) => r.startsWith(new URL(`${base}/private/${SECRET}/health`).pathname)), 'the value did go where the template put it');
        const [measured] = await runsOf(cluster, ns, 'measured');
        assert.equal(measured?.status?.phase, 'Error');
        const lastOf = (metric: string): string => {
          const m = measured?.status?.metricResults?.find((r) => r.name === metric)?.measurements?.at(-1);
          return `${m?.message ?? ''} ${m?.value ?? ''}`;
        };
        assert.match(lastOf('url-and-header'), /\/private\/\*\*\*\/health answered HTTP 401: no access to \/private\/\*\*\*\/health with Bearer \*\*\*/);
        assert.match(lastOf('refused'), /GET http:\/\/127\.0\.0\.1:1\/\*\*\*\/x: connection refused/);
        assert.match(lastOf('query'), /Prometheus answered HTTP 422: execution: cannot run "sum\(up\{token=\\"\*\*\*\\"\}\)"/);
        assert.match(lastOf('condition'), /\{"auth":"Bearer \*\*\*"\}/);
        const [malformed] = await runsOf(cluster, ns, 'malformed');
        assert.match(malformed?.status?.message ?? '', /successCondition malformed expression "result\.token == \\"\*\*\*\\" &&"/);
      });

      await then('no AnalysisRun, Rollout status or Event in the namespace holds the value', async () => {
        for (const run of await cluster.list<RunObject>(runRef(ns))) assertNoSecret(`AnalysisRun ${run.metadata.name}`, JSON.stringify(run));
        for (const name of ['measured', 'malformed']) {
          const ro = await cluster.get<RolloutObject>(rolloutRef(ns, name));
          assert.match(ro?.status?.message ?? '', /\*\*\*/, `${name}'s status message carries the redacted reason`);
          assertNoSecret(`Rollout ${name} status`, JSON.stringify(ro?.status));
        }
        await cluster.waitForEvent(ns, undefined, (e) => e.reason === 'AnalysisRunError' && /\*\*\*/.test(e.message ?? ''), { what: 'an AnalysisRunError with the value redacted' });
        const events = await cluster.events(ns);
        assertNoSecret('Events', JSON.stringify(events.map((e) => [e.reason, e.message])));
      });

      await then('`rollway get rollout` and `get analysisrun`, as text and JSON, do not show it', async () => {
        for (const args of [['get', 'rollout', 'measured'], ['get', 'rollout', 'malformed'], ['get', 'rollout', 'measured', '-o', 'json']]) {
          const out = cli('-n', ns, ...args);
          assert.equal(out.code, 0, out.stderr);
          assertNoSecret(`rollway ${args.join(' ')}`, out.stdout + out.stderr);
        }
        for (const run of [...(await runsOf(cluster, ns, 'measured')), ...(await runsOf(cluster, ns, 'malformed'))]) {
          const out = cli('-n', ns, 'get', 'analysisrun', run.metadata.name ?? '', '-o', 'json');
          assert.equal(out.code, 0, out.stderr);
          assert.match(out.stdout, /\*\*\*/);
          assertNoSecret(`rollway get analysisrun ${run.metadata.name}`, out.stdout + out.stderr);
        }
      });

      await then("the dashboard's API answers (list, each rollout, the live stream) do not show it", async () => {
        const dashboard = startCli(['-n', ns, 'dashboard', '--port', '0']);
        try {
          await dashboard.waitForOutput((o) => /http:\/\/127\.0\.0\.1:\d+\//.test(o), 'the dashboard URL');
          const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(dashboard.output())![0];
          const list = await fetchText(`${url}api/rollouts?namespace=${ns}`);
          assert.match(list, /"measured"/);
          assertNoSecret('dashboard /api/rollouts', list);
          for (const name of ['measured', 'malformed']) {
            const detail = await fetchText(`${url}api/rollouts/${ns}/${name}`);
            assert.match(detail, /\*\*\*/, `the ${name} view shows the redacted message`);
            assertNoSecret(`dashboard /api/rollouts/${ns}/${name}`, detail);
          }
          assertNoSecret('dashboard /api/stream', await fetchText(`${url}api/stream?namespace=${ns}&rollout=measured`, true));
          assertNoSecret('dashboard output', dashboard.output() + dashboard.errors());
        } finally {
          await dashboard.stop();
        }
      });

      await then("the controller's log does not show it", () => {
        assert.match(controller.logs(), /AnalysisRun Error/);
        assertNoSecret('controller log', controller.logs());
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 200_000 },
);

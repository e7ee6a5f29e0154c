// The dashboard in a real browser (Debian's Chromium, headless, driven by playwright-core) against
// the real control plane: see a paused rollout, promote it with a click, watch the step advance
// without a reload. The screenshot lands in artifacts/dashboard.png.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RolloutObject } from '../controller/controller.ts';
import type { ResourceRef } from '../kube/client.ts';
import { cli, rolloutYaml, startCli, type CliProcess, keepLog } from './cli-helpers.ts';
import { repoRoot, scenario, startController } from './harness.ts';

const rolloutRef = (ns: string, name: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
const phaseIs = (phase: string, extra: (ro: RolloutObject) => boolean = () => true) => (ro: RolloutObject | undefined): boolean =>
  ro?.status?.observedGeneration === String(ro?.metadata.generation) && ro?.status?.phase === phase && extra(ro!);

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const steps = `
      - setWeight: 50
      - pause: {}
      - pause: {duration: 3}`;

scenario(
  'the dashboard: a paused rollout, Promote with confirmation, the step advancing live',
  async ({ cluster, ns, given, when, then }) => {
    const controller = startController(ns);
    const profile = mkdtempSync(path.join(tmpdir(), 'rollway-chromium-'));
    let dashboard: CliProcess | undefined;
    let browser: BrowserContext | undefined;
    let page!: Page;
    try {
      await given('a rollout paused at its first pause, and `rollway dashboard` on a free port', async () => {
        await cluster.apply(rolloutYaml('web', steps), ns);
        await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'web'), phaseIs('Healthy'), { what: 'Healthy' });
        assert.equal(cli('-n', ns, 'set', 'image', 'web', 'web=argoproj/rollouts-demo:yellow').code, 0);
        await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'web'), phaseIs('Paused', (r) => r.status?.currentStepIndex === 1), { what: 'paused at step 1' });
        await cluster.apply(rolloutYaml('other', steps, 'argoproj/rollouts-demo:green'), ns);
        dashboard = startCli(['-n', ns, 'dashboard', '--port', '0']);
        await dashboard.waitForOutput((o) => /http:\/\/127\.0\.0\.1:\d+\//.test(o), 'the dashboard URL');
      });
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(dashboard!.output())![0];

      await when('Chromium opens it', async () => {
        browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
        page = browser.pages()[0] ?? (await browser.newPage());
        await page.goto(url);
      });
      await then('the list shows both rollouts, web Paused at step 1/3 with set and actual weight 50%', async () => {
        const row = page.locator('tr[data-rollout="web"]');
        await row.getByText('Paused').waitFor();
        assert.match((await row.innerText()).replace(/\s+/g, ' '), /web Paused CanaryPauseStep Canary 1\/3 50% 50% 2\/2 argoproj\/rollouts-demo:blue stable argoproj\/rollouts-demo:yellow canary/);
        await page.locator('tr[data-rollout="other"]').waitFor();
      });
      await then('search and the phase filter narrow the list', async () => {
        await page.fill('#search', 'green');
        await page.locator('tr[data-rollout="web"]').waitFor({ state: 'detached' });
        assert.equal(await page.locator('tr[data-rollout]').count(), 1);
        await page.fill('#search', '');
        await page.selectOption('#phase-filter', 'Paused');
        await page.locator('tr[data-rollout="web"]').waitFor();
        assert.equal(await page.locator('tr[data-rollout]').count(), 1);
        await page.selectOption('#phase-filter', '');
      });

      await when('the rollout is opened', async () => {
        await page.click('a:text-is("web")');
        await page.locator('[data-testid="step"]').waitFor();
      });
      await then('its page shows the step timeline with the manual pause highlighted, revisions and the router section', async () => {
        assert.equal(await page.textContent('[data-testid="step"]'), '1/3');
        const current = page.locator('ol.steps li.current');
        assert.equal(await current.getAttribute('data-step'), '2');
        assert.match(await current.innerText(), /pause until promoted[\s\S]*waiting for promotion/);
        assert.equal(await page.locator('ol.steps li.done').count(), 1);
        assert.match(await page.innerText('main'), /No traffic router: the canary share is the share of canary pods/);
        assert.equal(await page.locator('tr[data-revision]').count(), 2);
        mkdirSync(path.join(repoRoot, 'artifacts'), { recursive: true });
        await page.screenshot({ path: path.join(repoRoot, 'artifacts/dashboard.png'), fullPage: true });
      });

      await when('Promote is clicked and confirmed', async () => {
        await page.evaluate(() => ((globalThis as unknown as { noReload: boolean }).noReload = true));
        await page.click('button[data-action="promote"]');
        await page.locator('#confirm[open]').waitFor();
        assert.match(await page.innerText('#confirm'), /Promote web\?/);
        await page.click('#confirm-ok');
      });
      await then('the step advances to the timed pause and then the rollout is Healthy, all without a reload', async () => {
        await page.locator('#toast', { hasText: "rollout 'web' promoted" }).waitFor();
        await page.locator('[data-testid="step"]', { hasText: '2/3' }).waitFor({ timeout: 20_000 });
        await page.locator('ol.steps li.current', { hasText: /left/ }).waitFor();
        await page.locator('.title [data-testid="phase"]', { hasText: 'Healthy' }).waitFor({ timeout: 30_000 });
        assert.equal(await page.textContent('[data-testid="step"]'), '3/3');
        assert.equal(await page.evaluate(() => (globalThis as unknown as { noReload?: boolean }).noReload), true, 'the page was not reloaded');
      });

      await when('Set image… is used to roll out red', async () => {
        await page.click('button[data-action="set-image"]');
        await page.fill('#field-image', 'argoproj/rollouts-demo:red');
        await page.click('#confirm-ok');
      });
      await then('the update starts and pauses at step 1 again', async () => {
        await page.locator('.title [data-testid="phase"]', { hasText: 'Paused' }).waitFor({ timeout: 30_000 });
        assert.equal(await page.textContent('[data-testid="step"]'), '1/3');
        const ro = await cluster.get<RolloutObject>(rolloutRef(ns, 'web'));
        assert.match(JSON.stringify(ro?.spec.template), /rollouts-demo:red/);
      });
      await then('Cancel leaves the rollout alone', async () => {
        await page.click('button[data-action="abort"]');
        await page.click('#confirm-cancel');
        await page.waitForTimeout(500);
        assert.notEqual((await cluster.get<RolloutObject>(rolloutRef(ns, 'web')))?.status?.abort, true);
      });
      await then('its API refuses what a browser on another site could send: a foreign Host, a form post, an unknown action', async () => {
        const call = (method: string, pathname: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: string }> =>
          new Promise((resolve, reject) => {
            const req = http.request(new URL(pathname, url), { method, headers }, (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
            });
            req.on('error', reject);
            req.end(body);
          });
        assert.equal((await call('GET', '/api/rollouts', { Host: 'attacker.example:80' })).status, 403);
        const form = await call('POST', `/api/rollouts/${ns}/web/abort`, { 'Content-Type': 'application/x-www-form-urlencoded' });
        assert.equal(form.status, 415);
        const foreign = await call('POST', `/api/rollouts/${ns}/web/abort`, { 'Content-Type': 'application/json', Origin: 'http://attacker.example' }, '{}');
        assert.equal(foreign.status, 403);
        assert.equal((await call('POST', `/api/rollouts/${ns}/web/delete`, { 'Content-Type': 'application/json' }, '{}')).status, 404);
        const missing = await call('POST', `/api/rollouts/${ns}/nope/promote`, { 'Content-Type': 'application/json' }, '{}');
        assert.equal(missing.status, 404);
        assert.match(missing.body, /rollout \\"nope\\" not found/);
        assert.notEqual((await cluster.get<RolloutObject>(rolloutRef(ns, 'web')))?.status?.abort, true);
      });
    } finally {
      await browser?.close();
      await dashboard?.stop('SIGINT');
      await controller.kill();
      keepLog(ns, controller.logs());
      rmSync(profile, { recursive: true, force: true });
    }
  },
  { timeoutMs: 150_000 },
);

/// <reference lib="dom" />
/**
 * The admin dashboard in headless Chromium (Debian's `chromium`, driven by playwright-core; never
 * `playwright install`). A real `gatehouse run` on a copy of fixtures/quickstart on free ports, its
 * three echo backends, plus a route whose backendRef is not permitted (ResolvedRefs=False).
 *
 * Checks what a user sees: gateways and routes listed, the red ResolvedRefs=False badge, counters
 * rising while requests are sent, the explain form's winner, a reload from the page showing its
 * result and diagnostics with file:line:col. Screenshots of every view go to
 * test-artifacts/dashboard/*.png (gitignored). Takes about 10-20 s; bounded at 60 s.
 * Skipped when /usr/bin/chromium is absent (CI installs it: see .ci/run).
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, gatehouse, quickstartEnv, waitReady, withTimeout } from '../ops/e2e-helpers.js';

const CHROMIUM = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts/dashboard');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const BROKEN_ROUTE = `# A route whose backendRef points into another namespace without a ReferenceGrant.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: broken
  namespace: default
spec:
  parentRefs:
    - name: demo
  hostnames:
    - broken.example.com
  rules:
    - backendRefs:
        - name: web-v1
          namespace: elsewhere
          port: 80
`;

function send(port: number, host: string, path: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = http.get({ host: '127.0.0.1', port, path, headers: { host }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    r.setTimeout(3000, () => r.destroy(new Error('timeout')));
  });
}

t.test('dashboard in headless Chromium', { timeout: 60_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) to run the dashboard browser tests`, () => undefined);
    return;
  }
  const { chromium } = await import('playwright-core');
  const t0 = Date.now();
  const env = await quickstartEnv();
  t.teardown(() => env.close());
  writeFileSync(join(env.dir, 'broken.yaml'), BROKEN_ROUTE);
  const p = gatehouse(['run', env.dir, '--admin', `127.0.0.1:${env.admin}`, '--access-log', 'off', '--no-watch', '--log-level', 'warn']);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await waitReady(env.admin, p);

  mkdirSync(ARTIFACTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'gh-chromium-'));
  const ctx = await withTimeout(
    chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 860 } }),
    20_000,
    'launching chromium',
  );
  t.teardown(async () => {
    await ctx.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.setDefaultTimeout(8000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(`http://127.0.0.1:${env.admin}/`) && !r.url().startsWith('data:')) external.push(r.url());
  });
  const base = `http://127.0.0.1:${env.admin}`;
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  await t.test('gateways view lists the quickstart gateway, listener and routes', async (t) => {
    await page.goto(`${base}/#gateways`);
    await page.waitForSelector('body[data-loaded]');
    await page.waitForSelector('#live-dot.on');
    const gw = page.locator('[data-gateway="default/demo"]');
    t.equal(await gw.count(), 1, 'Gateway default/demo');
    t.equal(await gw.locator('h2 [data-cond], [data-cond="Programmed=True"]').first().getAttribute('class'), 'badge ok', 'green Programmed=True');
    const listener = page.locator('[data-listener="default/demo/http"]');
    t.match(await listener.innerText(), new RegExp(`http\\s+${env.port}\\s+HTTP`));
    for (const r of ['default/www', 'default/api', 'default/broken']) t.match(await listener.innerText(), r);
    t.equal(await listener.locator('[data-cond="Conflicted=False"]').getAttribute('class'), 'badge ok', 'Conflicted=False is good news: green');
    t.equal(await page.locator('#state').innerText(), 'ready');
    await shot('gateways');
  });

  await t.test('routes view: rules, weights, and the invalid backend as ResolvedRefs=False', async (t) => {
    await page.click('nav a[data-view="routes"]');
    const www = page.locator('[data-route="default/www"]');
    await www.waitFor();
    const text = await www.innerText();
    t.match(text, /www\.example\.com\s+PathPrefix \//);
    t.match(text, /weight 3 \(75%\)/);
    t.match(text, /RequestRedirect 301/);
    t.ok(await page.locator('[data-route="default/api"]').count(), 'route default/api');
    const bad = page.locator('[data-route="default/broken"] [data-cond="ResolvedRefs=False"]');
    t.equal(await bad.count(), 1, 'ResolvedRefs=False badge');
    t.equal(await bad.getAttribute('class'), 'badge bad', 'shown red');
    t.match(await bad.getAttribute('title'), /RefNotPermitted/);
    t.match(await page.locator('[data-route="default/broken"]').innerText(), /Unresolved: RefNotPermitted/);
    await shot('routes-idle');
  });

  await t.test('counters rise while requests are sent', async (t) => {
    const total = page.locator('[data-route="default/www"] [data-series="route:default/www"] .total');
    t.equal(await total.innerText(), '0', 'no request yet');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    t.teardown(() => agent.destroy());
    const seen: number[] = [];
    const sending = (async () => {
      for (let i = 0; i < 24; i++) {
        const batch = await Promise.all([
          send(env.port, 'www.example.com', '/', agent),
          send(env.port, 'www.example.com', '/', agent),
          send(env.port, 'api.example.com', '/v1/x', agent),
          send(env.port, 'broken.example.com', '/', agent),
        ]);
        seen.push(...batch);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await page.waitForFunction(() => Number(document.querySelector('[data-series="route:default/www"] .total')?.textContent) > 0, undefined, { timeout: 5000 });
    const early = Number(await total.innerText());
    await sending;
    await page.waitForFunction(() => Number(document.querySelector('[data-series="route:default/www"] .total')?.textContent) >= 48, undefined, { timeout: 5000 });
    const late = Number(await total.innerText());
    t.ok(early > 0 && late > early, `the total rose while sending: ${early} → ${late}`);
    t.equal(late, 48, 'every www request counted');
    t.same([...new Set(seen)].sort(), [200, 500], 'the broken route answers 500');
    t.not(await page.locator('[data-series="route:default/www"] .rps').innerText(), '0', 'req/s above 0');
    t.match(await page.locator('[data-route="default/broken"] .err').innerText(), /^100% 5xx/, 'error rate of the broken route');
    t.match(await page.locator('[data-series="route:default/www"] .p99').innerText(), /ms$/);
    const points = await page.locator('[data-series="route:default/www"] polyline').getAttribute('points');
    t.ok(points && points.split(' ').length === 60 && points.split(' ').some((xy) => Number(xy.split(',')[1]) < 19), 'the sparkline has a bump');
    await shot('routes');
    await page.click('nav a[data-view="gateways"]');
    await shot('gateways-traffic');
  });

  await t.test('backends view: resolution, endpoints, health', async (t) => {
    await page.click('nav a[data-view="backends"]');
    const row = page.locator('#v-backends [data-backend="Service default/web-v1:80"]');
    await row.waitFor();
    t.match(await row.innerText(), /EndpointSlice/);
    t.equal(await row.locator('[data-health]').innerText(), 'healthy');
    t.match(await page.locator('#v-backends [data-backend="Service elsewhere/web-v1:80"]').innerText(), /Unresolved: RefNotPermitted[\s\S]*answers 500/);
    await shot('backends');
    await page.click('#v-backends a[href="#routes:default/www"]');
    await page.locator('[data-route="default/www"]').waitFor();
    t.equal(await page.locator('nav a.active').getAttribute('data-view'), 'routes', 'a route link opens the routes view');
  });

  await t.test('explain form: the winning rule and the losing candidates', async (t) => {
    await page.click('nav a[data-view="explain"]');
    t.match(await page.inputValue('#ex-url'), new RegExp(`^http://[a-z.]+:${env.port}/`), 'prefilled with the listener port');
    await page.fill('#ex-method', 'GET');
    await page.fill('#ex-url', `http://www.example.com:${env.port}/old-blog/hello`);
    await page.click('#ex-submit');
    await page.waitForSelector('#ex-winner');
    t.equal(await page.locator('#ex-winner').innerText(), 'HTTPRoute default/www rule 1 match 0');
    const rows = page.locator('#ex-candidates tr.winner');
    t.equal(await rows.count(), 1, 'one highlighted winner');
    t.match(await rows.innerText(), /default\/www rule 1/);
    const lost = page.locator('#ex-candidates tr.lost');
    t.match(await lost.innerText(), /longer path prefix \/old-blog beats \//, 'the / rule lost on prefix length');
    t.match(await page.locator('#ex-candidates').innerText(), /hostname api\.example\.com does not match www\.example\.com/);
    await shot('explain');
    await page.fill('#ex-url', `http://nope.example.com:${env.port}/`);
    await page.click('#ex-submit');
    await page.waitForFunction(() => /404/.test(document.querySelector('#ex-winner')?.textContent ?? ''));
    t.pass('no route: 404 explained');
  });

  await t.test('reload from the page, diagnostics with file:line:col', async (t) => {
    await page.click('nav a[data-view="diagnostics"]');
    await page.click('#reload');
    await page.waitForSelector('#reload-result[data-result]');
    t.match(await page.locator('#reload-result').innerText(), /unchanged/);
    writeFileSync(join(env.dir, 'typo.yaml'), 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: typo\n  namespace: default\nspec:\n  parentRefs:\n    - name: demo\n  rules:\n    - backendRefs:\n        - name: web-v1\n          port: 80\n          wieght: 2\n');
    await page.click('#reload');
    await page.waitForSelector('#reload-result[data-result="error"]');
    t.match(await page.locator('#reload-result').innerText(), /error/);
    await page.waitForSelector('#diagnostics');
    const diag = await page.locator('#diagnostics').innerText();
    t.match(diag, /typo\.yaml:13:11/, 'file:line:col');
    t.match(diag, /UNKNOWN_FIELD/);
    t.equal(await page.locator('#state').innerText(), 'ready', 'the last good config keeps serving');
    await shot('diagnostics');
    rmSync(join(env.dir, 'typo.yaml'));
    await page.click('#reload');
    // Back to the serving content: the loader hash matches, so nothing is swapped.
    await page.waitForSelector('#reload-result[data-result="unchanged"]');
    t.match(await page.locator('#reload-result').innerText(), /unchanged/, 'fixed: back to the serving config');
  });

  t.same(pageErrors, [], 'no script error in the page');
  t.same(external, [], 'no request leaves the admin address');
  t.comment(`dashboard browser test: ${Date.now() - t0} ms`);
});

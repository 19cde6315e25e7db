// Browser tests of the web UI, driven by tests/ui.rs (which starts the real tocsin binary) or by hand against any
// Alertmanager-compatible server:  UI_URL=http://127.0.0.1:9093/ node tests/ui/run.mjs
//
// Env: UI_URL (page base, required), API_URL (API base, default UI_URL), PEER_UI_URL (a second clustered node),
// EXPECT_PEERS (peers the status page must list), SCREENSHOTS (dir), CHROMIUM (binary), SCENARIO (main | scale),
// SCALE_ALERTS (default 10000), README_SHOT (path for the README screenshot of the alerts page).
// Prints one line per check; exits non-zero on the first failure.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.log('skipped: playwright-core not installed (run npm ci)');
  process.exit(0);
}

const UI = process.env.UI_URL;
const API = process.env.API_URL || UI;
const PEER_UI = process.env.PEER_UI_URL;
const SHOTS = process.env.SCREENSHOTS || 'target/ui-screenshots';
const SCENARIO = process.env.SCENARIO || 'main';
mkdirSync(SHOTS, { recursive: true });

// playwright's launch() gives the browser a fresh temporary --user-data-dir of its own (it refuses one passed here).
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS });

/** The node must serve the UI itself (tocsin_ui::routes() mounted by the app): no fallback, the real binary is tested. */
async function requireUi(base) {
  const index = await fetch(base).then((r) => r.text()).catch(() => '');
  if (!index.includes('tocsin-ui')) {
    console.log(`FAIL ${base} does not serve the web UI`);
    process.exit(1);
  }
}
await requireUi(UI);
if (PEER_UI) await requireUi(PEER_UI);

let failures = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures++;
  return cond;
}

async function api(method, path, body) {
  const r = await fetch(new URL('api/v2/' + path, API), {
    method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function newPage(opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', ...opts });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => { console.log(`FAIL page error: ${e.message}`); failures++; });
  page.on('console', (m) => { if (m.type() === 'error') console.log(`     console: ${m.text()}`); });
  return page;
}

const visibleAlerts = (page) => page.locator('li.alert').count();
async function waitCount(page, n) {
  await page.waitForFunction((n) => document.getElementById('alerts-summary')?.dataset.count === String(n), n, { timeout: 15000 });
}

async function main() {
  if (process.env.EXPECT_PEERS) {
    // a cluster needs a moment to form: wait (bounded) until this node sees every peer
    for (let i = 0; i < 100; i++) {
      const st = await api('GET', 'status');
      if ((st.cluster.peers || []).length >= Number(process.env.EXPECT_PEERS)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const now = new Date();
  const base = { startsAt: now.toISOString(), generatorURL: 'http://prometheus.example/graph?g0.expr=up' };
  await api('POST', 'alerts', [
    { ...base, labels: { alertname: 'DiskFull', severity: 'critical', team: 'db', instance: 'db1' },
      annotations: { summary: 'Disk /var is 97% full on db1', description: 'Free space below 3% for 10m.' } },
    { ...base, labels: { alertname: 'DiskFull', severity: 'warning', team: 'db', instance: 'db2' },
      annotations: { summary: 'Disk /var is 88% full on db2' } },
    { ...base, labels: { alertname: 'HighLatency', severity: 'critical', team: 'web', instance: 'web1' },
      annotations: { summary: 'p99 latency 2.3s', runbook_url: 'https://runbooks.example/latency' } },
  ]);

  const page = await newPage();
  await page.goto(UI);
  await waitCount(page, 3);
  check(await visibleAlerts(page) === 3, 'alerts page shows the 3 alerts posted through the API');
  check((await page.locator('nav a[aria-current=page]').textContent()) === 'Alerts', 'English by default for en-US');
  const missing = await page.evaluate(async () => (await import(new URL('static/js/i18n.js', document.baseURI).href)).missingKeys());
  check(missing.length === 0, `English and Chinese dictionaries have the same keys ${missing.join(' ')}`);
  await page.screenshot({ path: join(SHOTS, 'alerts.png'), fullPage: true });
  if (process.env.README_SHOT) await page.screenshot({ path: process.env.README_SHOT });

  // Filter bar: matcher syntax narrows; a bad matcher is a clear error; clicking a label adds it.
  await page.fill('#filter-input', '{severity="critical"}');
  await page.press('#filter-input', 'Enter');
  await waitCount(page, 2);
  check(await visibleAlerts(page) === 2, 'filter {severity="critical"} narrows to 2 alerts');
  check(page.url().includes('filter='), 'the filter is kept in the URL');
  await page.fill('#filter-input', 'team=~"db');
  await page.press('#filter-input', 'Enter');
  const err = await page.locator('#filter-error').textContent();
  check(/quote|bad matcher/.test(err), `a bad matcher shows an error: ${err}`);
  await page.fill('#filter-input', '');
  await page.locator('li.alert button.label[data-name=team][data-value=db]').first().click();
  await waitCount(page, 1);
  check(await visibleAlerts(page) === 1, 'clicking the label team="db" adds it to the filter (1 alert)');
  await page.screenshot({ path: join(SHOTS, 'alerts-filtered.png'), fullPage: true });
  // A matcher only the server can reject (RE2 regex): the API's 400 text is shown under the filter bar.
  await page.fill('#filter-input', 'job=~"("');
  await page.press('#filter-input', 'Enter');
  await page.waitForFunction(() => document.getElementById('filter-error').textContent.length > 0, null, { timeout: 10000 });
  const apiErr = await page.locator('#filter-error').textContent();
  check(/regexp|regular expression|missing/.test(apiErr), `the API's 400 text is shown: ${apiErr}`);

  // Silence from the alert's button: the form is pre-filled, the preview shows the alert, submit creates it.
  await page.goto(new URL('#/alerts', UI).href);
  await waitCount(page, 3);
  await page.locator('li.alert', { hasText: 'instance="db1"' }).locator('a.silence-btn').click();
  await page.waitForSelector('#matcher-rows .matcher-row');
  check(await page.locator('#matcher-rows .matcher-row').count() === 4, 'silence form pre-filled with the alert\'s 4 labels');
  await page.waitForSelector('#preview-count');
  check((await page.getAttribute('#preview-count', 'data-count')) === '1', 'preview shows the 1 affected alert');
  await page.click('#silence-submit');
  check((await page.locator('#err-author').textContent()).length > 0, 'missing author is reported next to the field');
  await page.fill('#created-by', 'oncall@example.com');
  await page.fill('#comment', 'Disk being expanded, TICKET-42');
  await page.fill('#duration', '1h');
  await page.screenshot({ path: join(SHOTS, 'silence-form.png'), fullPage: true });
  await page.click('#silence-submit');
  await page.waitForFunction(() => /^#\/silences\/[0-9a-f-]{36}$/.test(location.hash), null, { timeout: 10000 });
  const id = page.url().split('#/silences/')[1];
  await page.waitForSelector('#silence-state');
  await page.screenshot({ path: join(SHOTS, 'silence-view.png'), fullPage: true });
  const silences = await api('GET', 'silences');
  const created = silences.find((s) => s.id === id);
  check(created && created.status.state === 'active', `silence ${id} created through the form is in GET /api/v2/silences`);
  check(created && created.createdBy === 'oncall@example.com' && created.matchers.length === 4, 'with the author and 4 matchers');
  const hours = created ? (new Date(created.endsAt) - new Date(created.startsAt)) / 3600e3 : 0;
  check(Math.abs(hours - 1) < 0.05, `and a 1h duration (${hours.toFixed(3)}h)`);

  // The alert shows as silenced (hidden by default, shown with the toggle, linked to its silence).
  let silencedOk = false;
  for (let i = 0; i < 50 && !silencedOk; i++) {
    const a = await api('GET', 'alerts?filter=' + encodeURIComponent('instance="db1"'));
    silencedOk = a.length === 1 && (a[0].status.silencedBy || []).includes(id);
    if (!silencedOk) await new Promise((r) => setTimeout(r, 100));
  }
  check(silencedOk, 'the API reports the alert as silenced by the new silence');
  await page.goto(new URL('#/alerts', UI).href);
  await waitCount(page, 2);
  check(await visibleAlerts(page) === 2, 'silenced alert hidden by default');
  await page.check('#toggle-silenced');
  await waitCount(page, 3);
  const silencedRow = page.locator('li.alert.state-silenced');
  check(await silencedRow.count() === 1 && (await silencedRow.textContent()).includes('db1'), 'with "Show silenced" it shows as Silenced');
  check(await silencedRow.locator(`a[href="#/silences/${id}"]`).count() === 1, 'and links to its silence');
  await page.screenshot({ path: join(SHOTS, 'alerts-silenced.png'), fullPage: true });

  if (PEER_UI) {
    const peer = await newPage();
    let seen = false;
    for (let i = 0; i < 30 && !seen; i++) {
      await peer.goto(new URL('#/silences', PEER_UI).href);
      await peer.waitForSelector('#tab-active');
      seen = (await peer.locator(`li.silence[data-id="${id}"]`).count()) === 1;
      if (!seen) await new Promise((r) => setTimeout(r, 500));
    }
    check(seen, 'the silence created in node A\'s UI is shown in node B\'s UI');
    await peer.screenshot({ path: join(SHOTS, 'silences-peer.png'), fullPage: true });
  }

  // Silences page and expire with confirmation.
  await page.goto(new URL('#/silences', UI).href);
  await page.waitForSelector(`li.silence[data-id="${id}"]`);
  await page.screenshot({ path: join(SHOTS, 'silences.png'), fullPage: true });
  await page.locator(`li.silence[data-id="${id}"] .expire-btn`).click();
  await page.waitForSelector('dialog#confirm[open]');
  await page.click('#confirm-cancel');
  check((await api('GET', 'silence/' + id)).status.state === 'active', 'cancelling the confirmation keeps the silence');
  await page.locator(`li.silence[data-id="${id}"] .expire-btn`).click();
  await page.waitForSelector('dialog#confirm[open]');
  await page.click('#confirm-ok');
  await page.waitForSelector(`li.silence[data-id="${id}"]`, { state: 'detached' });
  check((await api('GET', 'silence/' + id)).status.state === 'expired', 'expire works: the silence is expired');
  await page.click('#tab-expired');
  check(await page.locator(`li.silence[data-id="${id}"]`).count() === 1, 'and listed under Expired');

  // Status page.
  await page.goto(new URL('#/status', UI).href);
  await page.waitForSelector('#cluster-status');
  const status = await api('GET', 'status');
  const peers = status.cluster.peers || [];
  const expect = Number(process.env.EXPECT_PEERS || peers.length);
  const rows = await page.locator('#peers tbody tr').count();
  check(rows === expect && rows === peers.length, `status page lists the ${expect} cluster peers (${rows} rows)`);
  for (const p of peers) check((await page.locator('#peers').textContent()).includes(p.address), `peer ${p.name} ${p.address} listed`);
  const configText = await page.locator('#config').textContent();
  check(configText.includes('receivers'), 'the running config is shown');
  // tests/ui.rs configures basic_auth password "do-not-show-me": config.original renders it as <secret>.
  check(configText.includes('password: <secret>'), 'secrets in the config are shown as <secret>');
  check(!(await page.content()).includes('do-not-show-me'), 'the basic_auth password is nowhere on the status page');
  check(((await page.locator('#status-version').textContent()) || '').includes(status.versionInfo.version), 'the version is shown');
  await page.screenshot({ path: join(SHOTS, 'status.png'), fullPage: true });

  // Language: switchable, and the default follows the browser.
  await page.selectOption('#lang-select', 'zh-CN');
  check((await page.locator('nav a[aria-current=page]').textContent()) === '状态', 'switching to Simplified Chinese');
  await page.screenshot({ path: join(SHOTS, 'status-zh.png'), fullPage: true });
  const zh = await newPage({ locale: 'zh-CN' });
  await zh.goto(UI);
  await zh.waitForSelector('#alerts-summary[data-count]');
  check((await zh.locator('nav a[aria-current=page]').textContent()) === '告警', 'Chinese by default for a zh-CN browser');
  await zh.screenshot({ path: join(SHOTS, 'alerts-zh.png'), fullPage: true });
  const dark = await newPage({ colorScheme: 'dark' });
  await dark.goto(UI);
  await dark.waitForSelector('li.alert');
  await dark.screenshot({ path: join(SHOTS, 'alerts-dark.png'), fullPage: true });
}

async function scale() {
  const n = Number(process.env.SCALE_ALERTS || 10000);
  const startsAt = new Date().toISOString();
  const batch = [];
  for (let i = 0; i < n; i++) {
    batch.push({ startsAt, labels: { alertname: `Synthetic${i % 100}`, instance: `host-${i}`, job: 'node', severity: i % 7 ? 'warning' : 'critical' },
      annotations: { summary: `synthetic alert ${i}` } });
  }
  const t0 = Date.now();
  for (let i = 0; i < n; i += 1000) await api('POST', 'alerts', batch.slice(i, i + 1000));
  console.log(`     posted ${n} alerts in ${Date.now() - t0} ms`);
  const page = await newPage();
  const t1 = Date.now();
  await page.goto(UI);
  await page.waitForFunction((n) => Number(document.getElementById('alerts-summary')?.dataset.count) >= n, n, { timeout: 60000 });
  await page.waitForSelector('section.group');
  const ms = Date.now() - t1;
  const inner = await page.getAttribute('#view', 'data-render-ms');
  const rendered = await visibleAlerts(page);
  console.log(`UI timing: alerts page rendered ${n} alerts in ${ms} ms in headless Chromium (fetch+render ${inner} ms, ${rendered} alert rows in the DOM initially)`);
  check(rendered < n, `rendering is lazy (${rendered} of ${n} rows in the DOM)`);
  const t2 = Date.now();
  await page.click('text=Expand all');
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.waitForTimeout(100);
  console.log(`UI timing: expand all + scroll to the end in ${Date.now() - t2} ms (${await visibleAlerts(page)} rows)`);
  await page.screenshot({ path: join(SHOTS, 'alerts-10k.png') });
  check(ms < 20000, `the page stays usable with ${n} alerts (${ms} ms)`);
}

try {
  if (SCENARIO === 'scale') await scale();
  else await main();
} catch (e) {
  console.log(`FAIL ${e.stack || e}`);
  failures++;
} finally {
  await browser.close();
}
console.log(`${failures === 0 ? 'ui: all checks passed' : `ui: ${failures} checks failed`}`);
process.exit(failures === 0 ? 0 : 1);

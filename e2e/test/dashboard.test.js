// The reference dashboard (/dashboard/) in Debian's headless Chromium against
// the demo hub, with every request that does not go to the hub blocked: the
// KPI cards equal caseStats of the same scope and month, a click on a
// district drills down to its streets, the overdue list is sorted by how far
// past the deadline, the Excel export is a valid .xlsx whose rows match the
// page, and the console stays clean. UPDATE_SCREENSHOTS=1 writes the city
// and street views to docs/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { startHub } from '../lib/hub.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const docs = resolve(import.meta.dirname, '..', '..', 'docs');

// unzip reads the entries of a zip archive (stored or deflated).
function unzip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'not a zip archive: no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = new Map();
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'bad central directory entry');
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    files.set(name, method === 8 ? inflateRawSync(data) : data);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

const xmlText = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

// readXlsx returns each sheet's rows (cell texts) by sheet name.
function readXlsx(buf) {
  const files = unzip(buf);
  const text = (n) => files.get(n)?.toString('utf8');
  assert.ok(text('[Content_Types].xml'), 'no [Content_Types].xml');
  const shared = [...(text('xl/sharedStrings.xml') ?? '').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) =>
    xmlText([...m[1].matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((t) => t[1]).join('')),
  );
  const rels = text('xl/_rels/workbook.xml.rels');
  const sheets = {};
  for (const [, attrs] of text('xl/workbook.xml').matchAll(/<sheet ([^>]*?)\/?>/g)) {
    const name = /\bname="([^"]+)"/.exec(attrs)[1];
    const id = /\br:id="([^"]+)"/.exec(attrs)[1];
    const target = new RegExp(`Id="${id}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="${id}"`).exec(rels);
    const path = `xl/${(target[1] ?? target[2]).replace(/^\/?xl\//, '')}`;
    const rows = [];
    for (const r of text(path).matchAll(/<row[^>]*>([\s\S]*?)<\/row>/g)) {
      const cells = [];
      for (const c of r[1].matchAll(/<c ([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
        const type = /t="([^"]+)"/.exec(c[1])?.[1];
        const v = /<v>([\s\S]*?)<\/v>/.exec(c[2] ?? '')?.[1];
        const inline = /<t[^>]*>([\s\S]*?)<\/t>/.exec(c[2] ?? '')?.[1];
        // Empty cells are left out: place each by its reference (B3 → 1).
        const col = [.../^([A-Z]+)/.exec(/\br="([A-Z]+\d+)"/.exec(c[1])[1])[1]].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
        while (cells.length < col) cells.push('');
        cells.push(type === 's' ? shared[Number(v)] : type === 'inlineStr' ? xmlText(inline ?? '') : v === undefined ? '' : xmlText(v));
      }
      rows.push(cells);
    }
    sheets[xmlText(name)] = rows;
  }
  return sheets;
}

describe('dashboard', () => {
  let hub;
  let context;
  let page;
  let downloads;
  const outside = [];
  const problems = [];

  const gql = async (query, variables = {}) => {
    const r = await fetch(`${hub.url}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${hub.adminKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await r.json();
    assert.ok(!body.errors, JSON.stringify(body.errors));
    return body.data;
  };
  const ready = () => page.waitForSelector('body[data-state="ready"]', { timeout: 60000 });
  const state = () => page.evaluate(() => {
    const s = window.hubDashboard.state;
    return { trail: s.trail, month: s.month, root: s.root };
  });

  before(async () => {
    hub = await startHub();
    // A demo hub writes its admin key to a file and says where.
    const keyFile = /demo admin API key in (\S+)/.exec(hub.output?.text ?? '')?.[1];
    if (keyFile) hub.adminKey = (await readFile(keyFile, 'utf8')).trim();
    assert.ok(hub.adminKey, `no admin key in the hub's output:\n${hub.output?.text}`);
    downloads = await mkdtemp(join(tmpdir(), 'hub-e2e-downloads-'));
    context = await chromium.launchPersistentContext(await mkdtemp(join(tmpdir(), 'hub-e2e-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1920, height: 1080 },
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      acceptDownloads: true,
      downloadsPath: downloads,
    });
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === '127.0.0.1' || ['data:', 'blob:'].includes(u.protocol)) return route.continue();
      outside.push(u.href);
      return route.abort('blockedbyclient');
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  });
  after(async () => {
    await context?.close();
    await hub?.stop();
    if (downloads) await rm(downloads, { recursive: true, force: true });
  });

  test('the city view: KPI cards equal caseStats, the overdue list is sorted', async () => {
    await page.goto(`${hub.url}/dashboard?key=${hub.adminKey}`);
    await ready();
    assert.ok(!page.url().includes('key='), 'the key stays in the address bar');
    const s = await state();
    assert.equal(s.root.level, 'CITY');
    assert.equal(s.trail.length, 1);
    const [y, m] = s.month.split('-').map(Number);
    const from = `${s.month}-01T00:00:00+08:00`;
    const to = m === 12 ? `${y + 1}-01-01T00:00:00+08:00` : `${y}-${String(m + 1).padStart(2, '0')}-01T00:00:00+08:00`;
    const { caseStats } = await gql(
      `query($code: String!, $from: Time!, $to: Time!) {
        caseStats(filter: {regionCode: $code, reportedFrom: $from, reportedTo: $to}, groupBy: []) { count closed } }`,
      { code: s.root.code, from, to },
    );
    const kpi = async (k) => Number(await page.getAttribute(`[data-kpi="${k}"]`, 'data-value'));
    assert.ok(caseStats[0].count > 0, `no cases in ${s.month}`);
    assert.equal(await kpi('reported'), caseStats[0].count, '上报数 differs from caseStats.count');
    assert.equal(await kpi('closed'), caseStats[0].closed, '结案数 differs from caseStats.closed');
    const light = await page.$eval('[data-kpi="overdueUndisposed"] .light', (el) => el.className);
    assert.match(light, (await kpi('overdueUndisposed')) > 0 ? /red/ : /green/);

    const late = await page.$$eval('#overdue tbody tr', (rows) => rows.map((r) => Number(r.dataset.overdueMs)));
    assert.ok(late.length > 0, 'the demo city has overdue cases');
    for (let i = 1; i < late.length; i++) assert.ok(late[i - 1] >= late[i], `overdue row ${i} is later than row ${i - 1}`);
    const link = await page.getAttribute('#overdue tbody tr a', 'href');
    assert.match(decodeURIComponent(link), /timeline \{/);

    if (process.env.UPDATE_SCREENSHOTS) {
      await page.waitForTimeout(1500); // the charts' entry animation
      await page.screenshot({ path: join(docs, 'dashboard-city.png') });
    }
  });

  test('a click on a district drills down to its streets', async () => {
    const s = await state();
    const { regions } = await gql(`{ regions(level: DISTRICT, first: 1) { edges { node { code name centroid { lat lng } } } } }`);
    const district = regions.edges[0].node;
    const point = await page.evaluate(({ lng, lat }) => {
      const chart = window.hubDashboard.charts.map;
      const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, [lng, lat]);
      const box = chart.getDom().getBoundingClientRect();
      return { x: box.left + x, y: box.top + y };
    }, district.centroid);
    await page.mouse.click(point.x, point.y);
    await page.waitForFunction((n) => window.hubDashboard.state.trail.length === n && document.body.dataset.state === 'ready', s.trail.length + 1, { timeout: 60000 });
    const t = (await state()).trail;
    assert.equal(t[1].code, district.code);
    assert.match(await page.textContent('#crumbs'), new RegExp(district.name));
    const levels = await page.evaluate(() => [...new Set(window.hubDashboard.state.data.map.features.map((f) => f.properties.level))]);
    assert.deepEqual(levels, ['STREET']);
    assert.match(page.url(), new RegExp(`region=${district.code}`));
  });

  test('the Excel export downloads a valid .xlsx whose rows match the page', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    assert.match(download.suggestedFilename(), /\.xlsx$/);
    const sheets = readXlsx(await readFile(await download.path()));
    assert.deepEqual(Object.keys(sheets), ['核心指标', '超期未处置', '问题类别', '部门排名', '月度趋势']);
    const value = (name) => sheets['核心指标'].find((r) => r[0] === name)?.[1];
    const kpi = async (k) => await page.getAttribute(`[data-kpi="${k}"]`, 'data-value');
    assert.equal(value('上报数'), await kpi('reported'));
    assert.equal(value('结案数'), await kpi('closed'));
    assert.equal(Number(value('结案率')).toFixed(6), Number(await kpi('closingRate')).toFixed(6));
    const ids = await page.$$eval('#overdue tbody tr td:first-child', (tds) => tds.map((td) => td.textContent.trim()));
    assert.deepEqual(sheets['超期未处置'].slice(1).map((r) => r[0]), ids);
    const depts = await page.$$eval('#depts tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent.trim()));
    assert.deepEqual(sheets['部门排名'].slice(1).map((r) => r[1]), depts);
  });

  test('the street view, and nothing went outside the hub or to the console', async () => {
    const { regions } = await gql(`{ regions(level: STREET, first: 1) { edges { node { code name } } } }`);
    const street = regions.edges[0].node;
    await page.goto(`${hub.url}/dashboard/?region=${street.code}`);
    await ready();
    assert.match(await page.textContent('#crumbs'), new RegExp(street.name));
    const levels = await page.evaluate(() => [...new Set(window.hubDashboard.state.data.map.features.map((f) => f.properties.level))]);
    assert.deepEqual(levels, ['COMMUNITY']);
    if (process.env.UPDATE_SCREENSHOTS) {
      await page.waitForTimeout(1500);
      await page.screenshot({ path: join(docs, 'dashboard-street.png') });
    }
    // A laptop screen: the page still lays out without horizontal scrolling.
    await page.setViewportSize({ width: 1366, height: 768 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a laptop`);
    assert.deepEqual(outside, [], 'requests outside the hub');
    assert.deepEqual(problems, [], 'console errors');
  });
});

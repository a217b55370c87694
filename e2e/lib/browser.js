// The playground in a real headless Chromium (Debian's, never a downloaded
// one), driven by playwright-core, with every request that does not go to
// the hub on 127.0.0.1 blocked and counted as a failure.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function isLocal(raw) {
  const u = new URL(raw);
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
  return u.hostname === '127.0.0.1';
}

const editorValue = (page, selector) =>
  page.$eval(`${selector} .CodeMirror`, (el) => el.CodeMirror.getValue());

/**
 * browserCheck opens the playground of the hub at url in a fresh profile
 * and uses it as a person would.
 */
export async function browserCheck(url) {
  const profile = await mkdtemp(join(tmpdir(), 'hub-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 900 },
  });
  const outside = [];
  const problems = [];
  try {
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (isLocal(u)) return route.continue();
      outside.push(u);
      return route.abort('blockedbyclient');
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('websocket', (ws) => {
      if (!isLocal(ws.url())) outside.push(ws.url());
    });
    await useThePlayground(page, url);
    assert.deepEqual(outside, [], 'the page tried to reach outside the hub');
    assert.deepEqual(problems, [], 'the page logged errors');
  } catch (err) {
    err.message += `\nrequests outside the hub: ${JSON.stringify(outside)}\npage errors: ${JSON.stringify(problems)}`;
    throw err;
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

async function useThePlayground(page, url) {
  // ?query= and ?variables= fill the editors; the headers editor starts
  // with the Authorization placeholder (?headers= is tried at the end).
  const prefill = 'query Prefilled($n: Int) { regions(first: $n) { totalCount } }';
  const vars = '{"n": 1}';
  await page.goto(`${url}/?query=${encodeURIComponent(prefill)}&variables=${encodeURIComponent(vars)}`);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20000 });
  assert.equal(await editorValue(page, '.graphiql-query-editor'), prefill);
  const tools = await page.$$eval('.graphiql-editor-tool .CodeMirror', (els) => els.map((el) => el.CodeMirror.getValue()));
  assert.ok(tools.includes(vars), `no editor holds the variables: ${JSON.stringify(tools)}`);
  assert.ok(tools.some((t) => /"Authorization":\s*"Bearer /.test(t)), `no Authorization placeholder: ${JSON.stringify(tools)}`);

  // The Docs pane lists Query (introspection over POST /graphql) and shows
  // the fields' bilingual descriptions.
  await page.click('button[aria-label="Show Documentation Explorer"]');
  const docs = page.locator('.graphiql-doc-explorer');
  const queryType = docs.getByText('Query', { exact: true }).first();
  await queryType.waitFor({ timeout: 20000 });
  await queryType.click();
  await docs.getByText('cases', { exact: true }).first().waitFor({ timeout: 10000 });
  assert.match(await docs.innerText(), /[\u4e00-\u9fff]/, 'the Docs pane shows no Chinese description');

  // A query typed and run shows data (the placeholder header is not sent,
  // so a demo hub answers as its anonymous viewer).
  const typed = '{ cases(first: 3) { totalCount edges { node { id status } } } }';
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.insertText(typed);
  assert.equal(await editorValue(page, '.graphiql-query-editor'), typed);
  // GraphiQL takes in an edit after a short debounce (operation name, tab
  // state, the address bar); a person does not click within it either.
  await page.waitForFunction((q) => new URL(window.location.href).searchParams.get('query') === q, typed, { timeout: 5000 });
  await page.click('.graphiql-execute-button');
  await page
    .waitForFunction(
      () => /"totalCount"/.test(document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() ?? ''),
      null,
      { timeout: 20000 },
    )
    .catch(async (err) => {
      const shown = await editorValue(page, '.graphiql-response').catch((e) => String(e));
      throw new Error(`no data shown after running the query: ${err.message}\nresponse pane: ${shown}`);
    });
  const response = JSON.parse(await editorValue(page, '.graphiql-response'));
  assert.equal(response.errors, undefined, JSON.stringify(response.errors));
  assert.equal(response.data.cases.edges.length, 3);
  assert.ok(response.data.cases.totalCount > 0);

  // ?headers= replaces the placeholder.
  const headers = '{"X-Purpose": "e2e"}';
  await page.goto(`${url}/?headers=${encodeURIComponent(headers)}`);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20000 });
  const after = await page.$$eval('.graphiql-editor-tool .CodeMirror', (els) => els.map((el) => el.CodeMirror.getValue()));
  assert.ok(after.includes(headers), `no editor holds the headers: ${JSON.stringify(after)}`);
}

// Starts a hub for the tests: builds the binary from this checkout into a
// temporary directory (or takes HUB_BIN) and runs it in demo mode on a free
// loopback port, with its own data directory and, when DATABASE_URL is set,
// a fresh database on that server (dropped afterwards); otherwise the hub's
// embedded PostgreSQL.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '..', '..');

async function freshDatabase(base) {
  const name = `hube2e_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

function waitForListening(child, output, timeoutMs) {
  return new Promise((resolveURL, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not listen within ${timeoutMs} ms:\n${output.text}`)), timeoutMs);
    const onData = () => {
      const m = /hub listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output.text);
      if (m) {
        clearTimeout(timer);
        resolveURL(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before listening:\n${output.text}`));
    });
  });
}

async function waitReady(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.status === 200) return;
      last = `${r.status} ${await r.text()}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`hub not ready within ${timeoutMs} ms: ${last}`);
}

/**
 * startHub builds and starts a demo hub and waits until /readyz answers 200.
 * @returns {Promise<{url: string, stop: () => Promise<void>, output: {text: string}}>}
 */
export async function startHub() {
  const dir = await mkdtemp(join(tmpdir(), 'hub-e2e-'));
  // The embedded PostgreSQL runs as the postgres user when we are root and
  // must reach its cluster inside this directory.
  await chmod(dir, 0o755);
  // HUB_BIN runs a binary built beforehand (npm test builds one for all the
  // test files) instead of building this checkout here.
  const bin = process.env.HUB_BIN ? resolve(process.env.HUB_BIN) : join(dir, 'hub');
  if (!process.env.HUB_BIN) {
    await run('go', ['build', '-o', bin, '.'], { cwd: repo, maxBuffer: 16 << 20 });
  }

  const db = process.env.DATABASE_URL ? await freshDatabase(process.env.DATABASE_URL) : null;
  const env = {
    ...process.env,
    HUB_ADDR: '127.0.0.1:0',
    HUB_DATA_DIR: join(dir, 'data'),
    HUB_DEMO_LIVE_RATE: '0', // a still city: counts do not move while pages are read
    HUB_LOG_LEVEL: 'warn',
  };
  if (db) env.DATABASE_URL = db.url;
  else delete env.DATABASE_URL;

  const child = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { text: '' };
  child.stdout.on('data', (b) => (output.text += b));
  child.stderr.on('data', (b) => (output.text += b));
  const exited = new Promise((r) => child.once('exit', r));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
      await exited;
      clearTimeout(timer);
    }
    if (db) await db.drop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const url = await waitForListening(child, output, 60000);
    await waitReady(url, 90000);
    return { url, stop, output };
  } catch (err) {
    await stop();
    throw err;
  }
}

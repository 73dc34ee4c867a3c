/**
 * What a daemon exposes, as SECURITY.md states it: it listens on loopback unless told otherwise,
 * and warns in its log when told otherwise; the token it generates is readable by its owner only;
 * the dashboard page is public but carries no data and may only talk to its own origin; every route
 * that reads or changes trading state, and the live stream, needs the token.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadDaemonConfig } from '../../src/daemon/config.js';
import { isLoopback, startDaemon, type Daemon } from '../../src/daemon/run.js';
import { entryIntent } from '../support/intents.js';

const running: Daemon[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const daemon of running.splice(0)) await daemon.stop('test over');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(host: string): Promise<{ daemon: Daemon; dataDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-exposure-'));
  dirs.push(dir);
  const dataDir = join(dir, 'data');
  const daemon = await startDaemon({
    keel: { dataDir, mode: 'strict', protection: { requireStops: false } },
    http: { host, port: 0, bodyLimitBytes: 65_536 },
    shutdown: { graceMs: 5_000, cancelOpenEntries: false },
    logging: { level: 'info', file: true },
    webhooks: { toleranceSec: 300, sources: {} },
    secrets: {},
  });
  running.push(daemon);
  return { daemon, dataDir };
}

/** The log is written asynchronously; a warning comes before "keel is running", so wait for that. */
async function logLines(dataDir: string, wanted: (line: string) => boolean): Promise<string[]> {
  const file = join(dataDir, 'keel.log');
  const read = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []);
  for (let waited = 0; waited < 5_000; waited += 50) {
    if (read().some((line) => line.includes('keel is running'))) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return read().filter(wanted);
}

/** Every route that reads or changes trading state, with a body where it takes one. */
const GUARDED: [method: string, path: string, body?: unknown][] = [
  ['POST', '/v1/intents', entryIntent()],
  ['GET', '/v1/intents'],
  ['GET', '/v1/intents/any'],
  ['POST', '/v1/intents/any/cancel', {}],
  ['POST', '/v1/intents/any/replace', { qty: 1 }],
  ['GET', '/v1/positions'],
  ['GET', '/v1/pnl/main'],
  ['GET', '/v1/belief'],
  ['POST', '/v1/kill', { reason: 'x' }],
  ['POST', '/v1/kill/reset', { reason: 'x' }],
  ['GET', '/metrics'],
  ['GET', '/readyz'],
];

describe('what the daemon exposes', () => {
  it('listens on loopback by default, with no warning', async () => {
    const host = loadDaemonConfig({ env: {} }).config.http.host;
    expect(host).toBe('127.0.0.1');
    const { daemon, dataDir } = await start(host);
    expect(new URL(daemon.url).hostname).toBe('127.0.0.1');
    expect(await logLines(dataDir, (line) => line.includes('keel is running'))).toHaveLength(1);
    expect(await logLines(dataDir, (line) => line.includes('reachable from the network'))).toEqual([]);
  });

  it('warns in its log when it listens beyond loopback', async () => {
    const { dataDir } = await start('0.0.0.0');
    const warning = (await logLines(dataDir, (line) => line.includes('reachable from the network'))).map(
      (line) => JSON.parse(line) as { level: number; host: string },
    );
    expect(warning).toEqual([expect.objectContaining({ level: 40, host: '0.0.0.0' })]);
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '::', '10.0.0.1', '127.evil.com'].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('keeps the token it generates, and its log, readable by their owner only', async () => {
    const { dataDir } = await start('127.0.0.1');
    const file = join(dataDir, 'api-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dataDir, 'keel.log')).mode & 0o777).toBe(0o600);
  });

  it('serves the dashboard page without the token but with no data in it, confined to its own origin', async () => {
    const { daemon, dataDir } = await start('127.0.0.1');
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    const submitted = await fetch(`${daemon.url}/v1/intents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(entryIntent({ strategy_id: 'secret-strategy-name' })),
    });
    expect(submitted.status).toBe(202);

    const page = await fetch(`${daemon.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toContain('secret-strategy-name');
    expect(html).not.toContain(token);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(policy).toMatch(/connect-src 'self' ws: wss:/);
  });

  it('answers every route that reads or changes trading state, and the stream, with 401 without the token', async () => {
    const { daemon } = await start('127.0.0.1');
    for (const [method, path, body] of GUARDED) {
      const response = await fetch(`${daemon.url}${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 401 });
    }
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${daemon.url.replace('http', 'ws')}/v1/stream`);
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => resolve(101));
    });
    expect(refused).toBe(401);
    expect(daemon.keel.store.list({ limit: 100 })).toEqual([]);
  });
});

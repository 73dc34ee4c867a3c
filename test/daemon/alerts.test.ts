/**
 * The daemon's alerts reach a configured JSON webhook channel: a kill-switch trip over the API
 * and a venue rejection arrive as JSON posts, and the API answered without waiting for them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon/run.js';
import { testDaemonOptions } from '../support/daemon.js';
import { entryIntent } from '../support/intents.js';

const TOKEN = 'alerts-test-token';
let daemon: Daemon;
let hook: Server;
let dir: string;
const received: Array<{ code: string; severity: string; text: string }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-alerts-'));
  hook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push(JSON.parse(body) as { code: string; severity: string; text: string });
      response.end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const address = hook.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  daemon = await startDaemon(
    testDaemonOptions(join(dir, 'data'), {
      secrets: { apiToken: TOKEN },
      alerts: {
        webhook: { url: `http://127.0.0.1:${port}/alerts` },
        minIntervalMs: 0,
        dedupWindowMs: 60_000,
      },
    }),
  );
});

afterAll(async () => {
  await daemon.stop('test over');
  await new Promise((resolve) => hook.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown) =>
  fetch(`${daemon.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('daemon alerts', () => {
  it('posts a kill-switch trip and a venue rejection to the JSON webhook channel', async () => {
    expect((await post('/v1/kill', { reason: 'alert drill', by: 'gina' })).status).toBe(200);
    await until(() => received.some((alert) => alert.code === 'KILL_SWITCH_TRIPPED'));
    expect(received.find((alert) => alert.code === 'KILL_SWITCH_TRIPPED')).toMatchObject({
      severity: 'critical',
    });
    await post('/v1/kill/reset', { reason: 'drill over' });
    // A quantity off the venue's step size: the paper venue refuses it (-1111), as Binance would.
    await post('/v1/intents', entryIntent({ qty: 0.0001234 }));
    await until(() => received.some((alert) => alert.code === 'VENUE_REJECTED'));
    expect(received.find((alert) => alert.code === 'VENUE_REJECTED')?.text).toMatch(/VENUE_REJECTED:-/);
  });
});

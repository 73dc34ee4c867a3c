/**
 * `keel run` as a user runs it: a child process on a temporary data dir and port. An intent
 * submitted over HTTP fills on the paper venue, its transitions arrive on the WebSocket, keel's
 * metrics are on /metrics; after SIGKILL a restart on the same data dir finds the intent and its
 * timeline intact, and says it restarted after a crash. SIGTERM stops it cleanly with exit 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { METRIC } from '../../src/daemon/metrics.js';
import { entryIntent } from '../support/intents.js';
import { KEEL_BIN } from '../support/cli.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field with expect
type Json = Record<string, any>;

const TOKEN = 'process-test-token-42';
const dir = mkdtempSync(join(tmpdir(), 'keel-run-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function startKeel(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(
    process.execPath,
    [KEEL_BIN, 'run', '--data-dir', join(dir, 'data'), '--port', String(port), '--host', '127.0.0.1'],
    {
      env: { ...process.env, KEEL_API_TOKEN: TOKEN, KEEL__LOGGING__LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (child.exitCode !== null) throw new Error(`keel run exited ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) throw new Error(`keel run did not come up: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output };
}

const api = async (
  port: number,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    json: text.startsWith('{') ? (JSON.parse(text) as Json) : {},
  };
};

async function until(done: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

describe('keel run', () => {
  it('fills an intent submitted over HTTP, streams it, exports metrics, and survives SIGKILL with its timeline intact', async () => {
    const port = await freePort();
    const first = await startKeel(port);

    const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?token=${TOKEN}`);
    const streamed: Array<Json> = [];
    socket.on('message', (data) => streamed.push(JSON.parse((data as Buffer).toString('utf8')) as Json));
    await new Promise((resolve) => socket.once('open', resolve));

    const sent = await api(port, 'POST', '/v1/intents', entryIntent({ strategy_id: 'daemon' }), {
      'idempotency-key': 'run-1',
    });
    expect(sent.status).toBe(202);
    await until(
      async () => (await api(port, 'GET', '/v1/intents/run-1')).json.intent?.order_status === 'FILLED',
    );
    await until(() =>
      streamed.some((message) => message.kind === 'journal' && message.event.type === 'venue.order.filled'),
    );
    const transitions = streamed
      .filter(
        (message) => message.kind === 'journal' && message.event.correlationId === sent.json.correlation_id,
      )
      .map((message) => message.event.type as string);
    expect(transitions).toEqual(
      expect.arrayContaining([
        'intent.registered',
        'intent.submit',
        'venue.order.accepted',
        'venue.order.filled',
      ]),
    );
    socket.close();

    const metrics = await api(port, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(
      new RegExp(`${METRIC.journalEvents}\\{stage="venue",type="venue.order.filled"\\} 1`),
    );
    expect(metrics.text).toContain(METRIC.journalCommit);
    const before = (await api(port, 'GET', '/v1/intents/run-1')).json;

    first.child.kill('SIGKILL');
    expect(await exited(first.child)).toBe(null);

    const second = await startKeel(port);
    const after = (await api(port, 'GET', '/v1/intents/run-1')).json;
    expect(after.intent).toMatchObject({
      intent_id: 'run-1',
      status: 'EXECUTED',
      order_status: 'FILLED',
      filled_qty: 0.01,
    });
    const ids = (timeline: Array<{ eventId: string }>) => timeline.map((event) => event.eventId);
    // The timeline before the crash is all there, in order; the restart may only add to it.
    expect(ids(after.timeline).slice(0, before.timeline.length)).toEqual(ids(before.timeline));
    await until(
      () =>
        second.output().includes('RESTARTED_AFTER_CRASH') ||
        second.output().includes('restarted after an unclean stop'),
    );
    // A second submission with the same key is the same intent, across the restart.
    const again = await api(port, 'POST', '/v1/intents', entryIntent({ strategy_id: 'daemon' }), {
      'idempotency-key': 'run-1',
    });
    expect(again.json.correlation_id).toBe(sent.json.correlation_id);

    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
    expect(second.output()).toContain('keel stopped');
    const log = readFileSync(join(dir, 'data', 'keel.log'), 'utf8');
    expect(log).not.toContain(TOKEN);
  });
});

/**
 * The daemon's end-to-end flow on a live-venue adapter: `keel paper-venue` and `keel run` as two
 * child processes, keel trading through ccxt's binanceusdm over loopback. An entry with a stop
 * fills; the position shows; the protective stop is placed as a Binance algo order; the market is
 * moved through the stop; the stop triggers, and its engine order's fill is linked back to the stop
 * intent, leaving keel flat like the venue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { entryIntent } from '../support/intents.js';
import { KEEL_BIN } from '../support/cli.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field with expect
type Json = Record<string, any>;

const TOKEN = 'ccxt-process-token-7';
const API_KEY = 'paper-key-e2e';
const API_SECRET = 'paper-secret-e2e-canary';
const dir = mkdtempSync(join(tmpdir(), 'keel-ccxt-'));
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

function track(child: ChildProcess): () => string {
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return () => output;
}

async function until(done: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts `keel paper-venue` and reads the URLs from its first stdout line. */
async function startPaperVenue(): Promise<{ url: string; wsUrl: string; output: () => string }> {
  const child = spawn(
    process.execPath,
    // Price steps are an hour apart: the test moves the market itself.
    [KEEL_BIN, 'paper-venue', '--port', '0', '--seed', '5', '--step-ms', '3600000'],
    {
      env: { ...process.env, KEEL_PAPER_API_KEY: API_KEY, KEEL_PAPER_API_SECRET: API_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = track(child);
  await until(() => output().includes('\n') || child.exitCode !== null);
  if (child.exitCode !== null) throw new Error(`keel paper-venue exited ${child.exitCode}: ${output()}`);
  const first = JSON.parse(output().split('\n')[0] ?? '{}') as { url: string; wsUrl: string };
  return { ...first, output };
}

/** A signed call to the paper venue, as any Binance client would make it. */
async function signed(
  base: string,
  method: string,
  path: string,
  params: Record<string, string>,
): Promise<Json> {
  const query = new URLSearchParams({ ...params, timestamp: String(Date.now()) }).toString();
  const signature = createHmac('sha256', API_SECRET).update(query).digest('hex');
  const response = await fetch(`${base}${path}?${query}&signature=${signature}`, {
    method,
    headers: { 'X-MBX-APIKEY': API_KEY },
  });
  return (await response.json()) as Json;
}

describe('keel run on ccxt binanceusdm against keel paper-venue', () => {
  it('fills an entry, places its stop as an algo order, and books the triggered stop fill to the stop intent', async () => {
    const venue = await startPaperVenue();
    const port = await freePort();
    const daemon = spawn(
      process.execPath,
      [KEEL_BIN, 'run', '--data-dir', join(dir, 'data'), '--port', String(port)],
      {
        env: {
          ...process.env,
          KEEL_API_TOKEN: TOKEN,
          KEEL_VENUE_API_KEY: API_KEY,
          KEEL_VENUE_API_SECRET: API_SECRET,
          KEEL__KEEL__VENUE: JSON.stringify({
            kind: 'ccxt',
            exchange: 'binanceusdm',
            urls: { rest: venue.url, ws: venue.wsUrl },
          }),
          KEEL__KEEL__RECONCILE: JSON.stringify({ intervalMs: 1_000 }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const output = track(daemon);
    const api = async (method: string, path: string, body?: unknown, key?: string): Promise<Json> => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(key === undefined ? {} : { 'idempotency-key': key }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return (await response.json()) as Json;
    };
    await until(async () => {
      if (daemon.exitCode !== null) throw new Error(`keel run exited ${daemon.exitCode}: ${output()}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      } catch {
        return false;
      }
    });
    // Ready means reconciled once and the user stream connected and heard from.
    await until(async () => (await api('GET', '/readyz')).ready === true);

    const sent = await api(
      'POST',
      '/v1/intents',
      entryIntent({ venue: 'binanceusdm', strategy_id: 'live', stop_loss: 45_000 }),
      'e2e-entry',
    );
    expect(sent.correlation_id).toEqual(expect.any(String));
    await until(async () => (await api('GET', '/v1/intents/e2e-entry')).intent?.order_status === 'FILLED');
    const positions = await api('GET', '/v1/positions');
    expect(JSON.stringify(positions)).toContain('BTCUSDT');

    // The stop is a Binance algo order at the venue, not a plain order.
    let algo: Json[] = [];
    await until(async () => {
      algo = (await signed(venue.url, 'GET', '/fapi/v1/openAlgoOrders', { symbol: 'BTCUSDT' })) as Json[];
      return Array.isArray(algo) && algo.length === 1;
    });
    expect(algo[0]).toMatchObject({ algoType: 'CONDITIONAL', orderType: 'STOP_MARKET', algoStatus: 'NEW' });
    expect(Number(algo[0]?.triggerPrice)).toBe(45_000);
    const plain = (await signed(venue.url, 'GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' })) as Json[];
    expect(plain).toEqual([]);
    const stopClientId = String(algo[0]?.clientAlgoId);

    // The market falls through the stop: the algo order triggers into a new engine order and fills.
    expect(
      await signed(venue.url, 'POST', '/paper/v1/price', { symbol: 'BTCUSDT', price: '44000' }),
    ).toMatchObject({
      price: '44000',
    });
    let stop: Json | undefined;
    await until(async () => {
      const listed = (await api('GET', '/v1/intents?limit=100')).intents as Json[];
      // The stop intent is the one whose clientOrderId the venue shows as the algo order's.
      stop = listed.find((each) => each.clientOrderId === stopClientId);
      return stop?.order_status === 'FILLED';
    });
    const detail = await api('GET', `/v1/intents/${String(stop?.intent_id)}`);
    expect(detail.intent).toMatchObject({ status: 'EXECUTED', order_status: 'FILLED', filled_qty: 0.01 });
    const types = (detail.timeline as Json[]).map((event) => event.type as string);
    expect(types).toEqual(expect.arrayContaining(['venue.order.triggered', 'venue.order.filled']));
    const triggeredAt = types.indexOf('venue.order.triggered');
    expect(types.lastIndexOf('venue.order.filled')).toBeGreaterThan(triggeredAt);

    // The venue's trade was made by the engine order, yet keel booked it to the stop intent.
    const algoAfter = await signed(venue.url, 'GET', '/fapi/v1/algoOrder', { clientAlgoId: stopClientId });
    expect(algoAfter.algoStatus).toBe('FINISHED');
    const trades = (await signed(venue.url, 'GET', '/fapi/v1/userTrades', { symbol: 'BTCUSDT' })) as Json[];
    expect(trades.map((trade) => String(trade.orderId))).toContain(String(algoAfter.actualOrderId));
    const venuePositions = (await signed(venue.url, 'GET', '/fapi/v3/positionRisk', {})) as Json[];
    expect(venuePositions.every((position) => Number(position.positionAmt) === 0)).toBe(true);
    await until(async () => {
      const after = await api('GET', '/v1/positions');
      return !JSON.stringify(after).includes('"qty":0.01');
    });

    daemon.kill('SIGTERM');
    await until(() => daemon.exitCode !== null);
    expect(daemon.exitCode).toBe(0);
    // The venue secret never reaches keel's log.
    expect(readFileSync(join(dir, 'data', 'keel.log'), 'utf8')).not.toContain(API_SECRET);
  });
});

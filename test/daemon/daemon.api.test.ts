/**
 * The daemon's API in process, on a loopback port: idempotent submission, bad bodies answered with
 * field paths and nothing registered, auth, webhook signatures and replays, the kill switch over
 * the API, metrics, and the live stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { METRIC } from '../../src/daemon/metrics.js';
import { startDaemon, type Daemon } from '../../src/daemon/run.js';
import { signWebhook } from '../../src/daemon/webhook.js';
import { entryIntent } from '../support/intents.js';

const TOKEN = 'test-token-0123456789';
const WEBHOOK_SECRET = 'webhook-secret-abcdef';
let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-daemon-api-'));
  daemon = await startDaemon({
    keel: { dataDir: join(dir, 'data'), mode: 'strict', protection: { requireStops: false } },
    http: { host: '127.0.0.1', port: 0, bodyLimitBytes: 4_096 },
    shutdown: { graceMs: 5_000, cancelOpenEntries: false },
    logging: { level: 'warn', file: true },
    webhooks: { toleranceSec: 300, sources: { tv: { enabled: true } } },
    secrets: { apiToken: TOKEN, webhookSecret: WEBHOOK_SECRET },
  });
});

afterAll(async () => {
  await daemon.stop('test over');
  rmSync(dir, { recursive: true, force: true });
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked field by field with expect
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${daemon.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text.length > 0 && text.startsWith('{') ? JSON.parse(text) : text };
}

const registered = () => daemon.keel.store.list({ limit: 10_000 }).length;

async function until(done: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the daemon API', () => {
  it('answers /healthz without a token and refuses everything else without the right one, registering nothing', async () => {
    const before = registered();
    expect((await call('GET', '/healthz', undefined, { authorization: '' })).status).toBe(200);
    const missing = await call('POST', '/v1/intents', entryIntent(), { authorization: '' });
    const wrong = await call('POST', '/v1/intents', entryIntent(), { authorization: 'Bearer nope' });
    expect(missing.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('KEEL_ERR_UNAUTHORIZED');
    expect((await call('GET', '/metrics', undefined, { authorization: '' })).status).toBe(401);
    expect(registered()).toBe(before);
  });

  it('returns the same intent for a repeated Idempotency-Key, and refuses the key for a different intent', async () => {
    const first = await call('POST', '/v1/intents', entryIntent({ strategy_id: 'idem' }), {
      'idempotency-key': 'order-42',
    });
    const again = await call('POST', '/v1/intents', entryIntent({ strategy_id: 'idem' }), {
      'idempotency-key': 'order-42',
    });
    expect(first.status).toBe(202);
    expect(again.json.intent_id).toBe('order-42');
    expect(again.json.correlation_id).toBe(first.json.correlation_id);
    expect(
      daemon.keel.store.list({ limit: 10_000 }).filter((record) => record.intentId === 'order-42'),
    ).toHaveLength(1);
    const other = await call('POST', '/v1/intents', entryIntent({ strategy_id: 'idem', qty: 0.02 }), {
      'idempotency-key': 'order-42',
    });
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe('KEEL_ERR_IDEMPOTENCY_CONFLICT');
    await until(() => daemon.keel.get('order-42')?.status === 'EXECUTED');
    const chart = await call('GET', '/v1/intents/order-42/statechart');
    expect(chart.json.state).toBe(daemon.keel.get('order-42')?.state);
    expect(chart.json.source).toMatch(/classDef current/);
    expect((await call('GET', '/v1/intents/nope/statechart')).status).toBe(404);
    const detail = await call('GET', '/v1/intents/order-42');
    expect(detail.json.intent.status).toBe('EXECUTED');
    expect(detail.json.timeline.map((event: { type: string }) => event.type)).toEqual(
      expect.arrayContaining(['intent.registered', 'venue.order.accepted', 'venue.order.filled']),
    );
  });

  it('answers a bad body with 400 and the path of every bad field, an oversized one with 413, and registers nothing', async () => {
    const before = registered();
    const bad = await call('POST', '/v1/intents', { ...entryIntent(), side: 'up', qty: -1, symbol: '' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
      'qty',
      'side',
      'symbol',
    ]);
    const notJson = await call('POST', '/v1/intents', '{"side": ');
    expect(notJson.status).toBe(400);
    const huge = await call('POST', '/v1/intents', { ...entryIntent(), padding: 'x'.repeat(10_000) });
    expect(huge.status).toBe(413);
    const badKey = await call('POST', '/v1/intents', entryIntent(), { 'idempotency-key': 'has spaces' });
    expect(badKey.status).toBe(400);
    expect((await call('GET', '/v1/intents?status=NOPE')).status).toBe(400);
    expect(registered()).toBe(before);
  });

  it('denies an entry while the kill switch is tripped over the API, lets a reduce-only exit through, and resets', async () => {
    await call('POST', '/v1/intents', entryIntent({ strategy_id: 'kill-a' }), {
      'idempotency-key': 'kill-long',
    });
    await until(() => daemon.keel.get('kill-long')?.status === 'EXECUTED');
    expect((await call('POST', '/v1/kill', {})).status).toBe(400);
    const tripped = await call('POST', '/v1/kill', { reason: 'drill', by: 'ops' });
    expect(tripped.json.view).toEqual({ tripped: true, trigger: 'operator' });
    const entry = await call('POST', '/v1/intents', entryIntent({ strategy_id: 'kill-b' }), {
      'idempotency-key': 'kill-denied',
    });
    expect(entry.json).toMatchObject({ status: 'FAILED', tag: 'KILL_SWITCH:operator' });
    const exit = await call(
      'POST',
      '/v1/intents',
      entryIntent({ strategy_id: 'kill-a', kind: 'EXIT', side: 'sell', reduce_only: true }),
      { 'idempotency-key': 'kill-exit' },
    );
    expect(exit.json.status).not.toBe('FAILED');
    await until(() => daemon.keel.get('kill-exit')?.status === 'EXECUTED');
    const pnl = await call('GET', '/v1/pnl/main');
    expect(pnl.status).toBe(200);
    expect(pnl.json).toMatchObject({ account: 'main', totals: { fees: expect.any(Number) as number } });
    expect(pnl.json.totals.fees).toBeGreaterThan(0);
    const reset = await call('POST', '/v1/kill/reset', { reason: 'drill over', by: 'ops' });
    expect(reset.json.view).toEqual({ tripped: false });
    expect((await call('GET', '/v1/belief')).json.killSwitch.lastReset).toMatchObject({ by: 'ops' });
  });

  it('amends a resting order over the API, and answers a bad quantity with 400 and an unknown intent with 404', async () => {
    const sent = await call(
      'POST',
      '/v1/intents',
      entryIntent({ strategy_id: 'replace', type: 'limit', price: 30_000, qty: 0.01 }),
      { 'idempotency-key': 'to-amend' },
    );
    expect(sent.status).toBe(202);
    const resting = () => daemon.keel.paper?.order('BTCUSDT', sent.json.clientOrderId as string);
    await until(() => resting()?.status === 'NEW');
    const bad = await call('POST', '/v1/intents/to-amend/replace', { qty: -1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues.map((issue: { path: string }) => issue.path)).toEqual(['qty']);
    expect((await call('POST', '/v1/intents/nope/replace', { qty: 0.02 })).status).toBe(404);
    const amended = await call('POST', '/v1/intents/to-amend/replace', { qty: 0.005 });
    expect(amended.status).toBe(200);
    expect(amended.json).toMatchObject({ intent_id: 'to-amend', status: 'SENT_TO_BROKER' });
    await until(() => resting()?.qty === 0.005);
    expect((await call('POST', '/v1/intents/to-amend/cancel')).json.intent_id).toBe('to-amend');
    await until(() => daemon.keel.get('to-amend')?.status === 'FAILED');
    const late = await call('POST', '/v1/intents/to-amend/replace', { qty: 0.004 });
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe('KEEL_ERR_NOT_WORKING');
    expect(resting()).toMatchObject({ status: 'CANCELED', qty: 0.005 });
  });

  it('registers a signed webhook alert once, and refuses a bad signature, a replay and a stale timestamp', async () => {
    const before = registered();
    const body = JSON.stringify({
      id: 'tv-1',
      symbol: 'BTCUSDT',
      side: 'buy',
      qty: '0.01',
      strategy: 'tv-trend',
    });
    const now = Math.floor(Date.now() / 1000);
    const post = (raw: string, signature: string, timestamp: number) =>
      call('POST', '/v1/webhooks/tv', raw, {
        authorization: '',
        'x-keel-signature': signature,
        'x-keel-timestamp': String(timestamp),
      });
    expect((await post(body, signWebhook('wrong-secret', now, body), now)).status).toBe(401);
    expect((await post(body, signWebhook(WEBHOOK_SECRET, now - 3_600, body), now - 3_600)).status).toBe(401);
    expect(registered()).toBe(before);
    const accepted = await post(body, signWebhook(WEBHOOK_SECRET, now, body), now);
    expect(accepted.status).toBe(202);
    expect(accepted.json.intent).toMatchObject({ intent_id: 'wh.tv.tv-1', source: 'webhook' });
    const replay = await post(body, signWebhook(WEBHOOK_SECRET, now, body), now);
    expect(replay.status).toBe(401);
    expect(replay.json.error.message).toMatch(/replay/);
    expect(registered()).toBe(before + 1);
    const unknownSource = await call('POST', '/v1/webhooks/other', body, {
      authorization: '',
      'x-keel-signature': signWebhook(WEBHOOK_SECRET, now, body),
      'x-keel-timestamp': String(now),
    });
    expect(unknownSource.status).toBe(401);
    // A sender that cannot sign puts the secret and a timestamp in the body.
    const fallback = await call(
      'POST',
      '/v1/webhooks/tv',
      {
        id: 'tv-2',
        symbol: 'BTCUSDT',
        side: 'sell',
        qty: 0.01,
        kind: 'EXIT',
        strategy: 'tv-trend',
        secret: WEBHOOK_SECRET,
        timestamp: now,
      },
      { authorization: '' },
    );
    expect(fallback.status).toBe(202);
    expect(registered()).toBe(before + 2);
  });

  it('turns an entry alert with stop and take-profit into the entry plus its protective orders', async () => {
    const price = daemon.keel.paper?.price('BTCUSDT') ?? 50_000;
    const body = JSON.stringify({
      id: 'tv-bracket',
      symbol: 'BTCUSDT',
      side: 'buy',
      notional: String(Math.round(price * 0.0195)),
      strategy: 'tv-bracket',
      stop_loss: Math.floor(price * 0.9),
      take_profit: Math.ceil(price * 1.1),
    });
    const now = Math.floor(Date.now() / 1000);
    const accepted = await call('POST', '/v1/webhooks/tv', body, {
      authorization: '',
      'x-keel-signature': signWebhook(WEBHOOK_SECRET, now, body),
      'x-keel-timestamp': String(now),
    });
    expect(accepted.status).toBe(202);
    expect(accepted.json.takeProfit).toBe('after fill');
    await until(
      () =>
        daemon.keel.get('wh.tv.tv-bracket.tp')?.venue_order_id !== null &&
        daemon.keel.get('wh.tv.tv-bracket.tp') !== null,
    );
    const entry = daemon.keel.store.get('wh.tv.tv-bracket');
    // The notional became a quantity at the last price, rounded down to the configured decimals.
    expect(entry?.intent).toMatchObject({
      kind: 'ENTRY',
      source: 'webhook',
      stop_loss: Math.floor(price * 0.9),
    });
    expect(entry?.intent.qty).toBe(0.019);
    const filled = daemon.keel.get('wh.tv.tv-bracket')?.filled_qty ?? 0;
    expect(daemon.keel.store.get('wh.tv.tv-bracket.tp')?.intent).toMatchObject({
      kind: 'TP',
      type: 'take_profit_market',
      reduce_only: true,
      qty: filled,
      stop_price: Math.ceil(price * 1.1),
    });
    await until(() =>
      daemon.keel
        .protection()
        .some((stop) => stop.stopPrice === Math.floor(price * 0.9) && stop.stop !== null),
    );
  });

  it('serves keel metrics under the names the metric table defines', async () => {
    const text = (await call('GET', '/metrics')).json as string;
    for (const name of [
      METRIC.journalEvents,
      METRIC.stageLatency,
      METRIC.journalCommit,
      METRIC.beliefMode,
      METRIC.killSwitchTripped,
    ])
      expect(text).toContain(name);
    expect(text).toMatch(new RegExp(`${METRIC.beliefMode}\\{mode="GREEN"\\} 1`));
    expect(text).toMatch(new RegExp(`${METRIC.stageLatency}_count\\{stage="venue_ack"\\} [1-9]`));
  });

  it('streams an intent\u2019s transitions to a client that gives the token, and refuses one without it', async () => {
    const wsUrl = daemon.url.replace('http', 'ws');
    const refused = new WebSocket(`${wsUrl}/v1/stream`);
    const refusedStatus = await new Promise<number>((resolve) => {
      refused.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      refused.on('open', () => resolve(101));
    });
    expect(refusedStatus).toBe(401);

    const socket = new WebSocket(`${wsUrl}/v1/stream?token=${TOKEN}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- messages are checked field by field with expect
    const messages: any[] = [];
    socket.on('message', (data) => messages.push(JSON.parse((data as Buffer).toString('utf8'))));
    await new Promise((resolve) => socket.on('open', resolve));
    const sent = await call('POST', '/v1/intents', entryIntent({ strategy_id: 'stream' }), {
      'idempotency-key': 'streamed',
    });
    await until(() =>
      messages.some(
        (message) =>
          message.kind === 'journal' &&
          message.event.correlationId === sent.json.correlation_id &&
          message.event.type === 'venue.order.filled',
      ),
    );
    const types = messages
      .filter(
        (message) => message.kind === 'journal' && message.event.correlationId === sent.json.correlation_id,
      )
      .map((message) => message.event.type);
    expect(types.slice(0, 2)).toEqual(['intent.registered', 'intent.submit']);
    expect(messages[0]).toMatchObject({ kind: 'hello' });
    expect(
      messages.some((message) => message.kind === 'result' && message.result.intent_id === 'streamed'),
    ).toBe(true);
    socket.close();
  });
});

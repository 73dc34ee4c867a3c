/**
 * The daemon's ingress limits, in process on loopback: the API token and a webhook's signature or
 * body secret are compared in constant time (near misses of every shape are refused and register
 * nothing, and each comparison goes through `timingSafeEqual` on fixed-length digests, whatever the
 * length of what was sent); a body over `http.bodyLimitBytes` is answered 413 with a JSON error on
 * the API and on webhooks, with or without a Content-Length; and the rate limit, configured through
 * the daemon config, answers 429 with Retry-After on the API and on webhooks (counted apart, before
 * any token is checked) but never on /healthz, /readyz or /metrics.
 */
import type * as NodeCrypto from 'node:crypto';
import { timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { daemonOptionsOf } from '../../src/cli/run.command.js';
import { loadDaemonConfig } from '../../src/daemon/config.js';
import { startDaemon, type Daemon } from '../../src/daemon/run.js';
import { signWebhook } from '../../src/daemon/webhook.js';
import { testDaemonOptions } from '../support/daemon.js';
import { entryIntent } from '../support/intents.js';

// Every timingSafeEqual keel calls is recorded (and still compares): the comparisons are observed
// by what they are given, not by how long they take.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});
const compared = vi.mocked(timingSafeEqual);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field with expect
type Json = Record<string, any>;

const TOKEN = 'ingress-token-5f3a9c1e7b2d4086';
const WEBHOOK_SECRET = 'ingress-webhook-secret-8e41b7';
const BODY_LIMIT = 4_096;
const RATE_MAX = 5;
const RATE_WINDOW_MS = 3_000;

let dir: string;
/** Rate limit off (with a max of 1, so that any counting at all would show). */
let open: Daemon;
/** Built from the daemon config, as `keel run` builds it: 5 requests per 3 s. */
let limited: Daemon;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-ingress-'));
  open = await startDaemon(
    testDaemonOptions(join(dir, 'open'), {
      http: {
        host: '127.0.0.1',
        port: 0,
        bodyLimitBytes: BODY_LIMIT,
        rateLimit: { enabled: false, max: 1, windowMs: 60_000 },
      },
      logging: { level: 'error', file: false },
      webhooks: { toleranceSec: 300, sources: { tv: { enabled: true } } },
      secrets: { apiToken: TOKEN, webhookSecret: WEBHOOK_SECRET },
    }),
  );
  const loaded = loadDaemonConfig({
    env: {
      KEEL_API_TOKEN: TOKEN,
      KEEL_WEBHOOK_SECRET: WEBHOOK_SECRET,
      KEEL__HTTP__RATELIMIT__MAX: String(RATE_MAX),
      KEEL__HTTP__RATELIMIT__WINDOWMS: String(RATE_WINDOW_MS),
      KEEL__WEBHOOKS__SOURCES: JSON.stringify({ tv: { enabled: true } }),
      KEEL__LOGGING__LEVEL: 'error',
      KEEL__LOGGING__FILE: 'false',
      KEEL__KEEL__PROTECTION: JSON.stringify({ requireStops: false }),
    },
    flags: { dataDir: join(dir, 'limited'), port: 0, host: '127.0.0.1' },
  });
  expect(loaded.config.http.rateLimit).toEqual({ enabled: true, max: RATE_MAX, windowMs: RATE_WINDOW_MS });
  limited = await startDaemon(daemonOptionsOf(loaded));
});

afterAll(async () => {
  await Promise.all([open?.stop('test over'), limited?.stop('test over')]);
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  compared.mockClear();
});

interface Answer {
  status: number;
  headers: Headers;
  json: Json;
}

async function call(
  daemon: Daemon,
  method: string,
  path: string,
  options: { body?: string | ReadableStream<Uint8Array>; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${daemon.url}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text.startsWith('{') ? (JSON.parse(text) as Json) : { text },
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const registered = (daemon: Daemon) => daemon.keel.store.list({ limit: 10_000 }).length;
const nowSec = () => Math.floor(Date.now() / 1000);

/** Every timingSafeEqual call since the last clear compared two 32-byte digests. */
function expectDigestComparisons(): void {
  expect(compared).toHaveBeenCalled();
  for (const [left, right] of compared.mock.calls) {
    expect((left as Buffer).length).toBe(32);
    expect((right as Buffer).length).toBe(32);
  }
}

/** Near misses of a secret: every one of them must be refused. */
function nearMisses(secret: string): Record<string, string> {
  const last = secret.at(-1) ?? 'x';
  return {
    'last character differs': `${secret.slice(0, -1)}${last === '0' ? '1' : '0'}`,
    'a prefix (last character dropped)': secret.slice(0, -1),
    'first half': secret.slice(0, Math.floor(secret.length / 2)),
    'longer (one character appended)': `${secret}0`,
    'upper-cased': secret.toUpperCase(),
  };
}

async function refusedWebSocket(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      socket.close();
      reject(new Error('the stream opened'));
    });
    socket.once('error', () => undefined);
  });
}

describe('constant-time API token comparison', () => {
  it('refuses every near miss of the token with 401, registers nothing, and compares sha256 digests', async () => {
    const before = registered(open);
    for (const [shape, token] of Object.entries(nearMisses(TOKEN))) {
      compared.mockClear();
      const answer = await call(open, 'POST', '/v1/intents', {
        body: JSON.stringify(entryIntent({ strategy_id: 'near-miss' })),
        headers: bearer(token),
      });
      expect(answer.status, shape).toBe(401);
      expect(answer.json.error.code, shape).toBe('KEEL_ERR_UNAUTHORIZED');
      // The given token, whatever its length, is hashed before it meets the right one.
      expectDigestComparisons();
    }
    expect(registered(open)).toBe(before);
  });

  it('refuses an empty, missing, malformed or misplaced token with 401 and registers nothing', async () => {
    const before = registered(open);
    const body = JSON.stringify(entryIntent({ strategy_id: 'no-token' }));
    const cases: Array<[string, Record<string, string>, string]> = [
      ['empty bearer', { authorization: 'Bearer ' }, '/v1/intents'],
      ['empty header', { authorization: '' }, '/v1/intents'],
      ['no header', {}, '/v1/intents'],
      ['not a bearer scheme', { authorization: `Basic ${TOKEN}` }, '/v1/intents'],
      ['the token without a scheme', { authorization: TOKEN }, '/v1/intents'],
      // Only the stream takes ?token=: anywhere else it is ignored.
      ['the right token in the query', {}, `/v1/intents?token=${TOKEN}`],
    ];
    for (const [shape, headers, path] of cases) {
      const answer = await call(open, 'POST', path, { body, headers });
      expect(answer.status, shape).toBe(401);
      expect(answer.json.error.code, shape).toBe('KEEL_ERR_UNAUTHORIZED');
    }
    expect(registered(open)).toBe(before);
    // The right token is what makes the difference: the same body registers with it.
    const accepted = await call(open, 'POST', '/v1/intents', { body, headers: bearer(TOKEN) });
    expect(accepted.status).toBe(202);
    expect(registered(open)).toBe(before + 1);
    expectDigestComparisons();
  });

  it('refuses the live stream for every near miss of ?token=, and opens it for the right one', async () => {
    const base = open.url.replace(/^http/, 'ws');
    for (const [shape, token] of Object.entries({ ...nearMisses(TOKEN), empty: '' })) {
      expect(await refusedWebSocket(`${base}/v1/stream?token=${encodeURIComponent(token)}`), shape).toBe(401);
    }
    const socket = new WebSocket(`${base}/v1/stream?token=${TOKEN}`);
    const hello = await new Promise<Json>((resolve, reject) => {
      socket.once('message', (data) => resolve(JSON.parse((data as Buffer).toString('utf8')) as Json));
      socket.once('error', reject);
    });
    socket.close();
    expect(hello.kind).toBe('hello');
  });
});

describe('constant-time webhook authentication', () => {
  const alert = (id: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ id, symbol: 'BTCUSDT', side: 'buy', qty: '0.01', strategy: 'ingress-tv', ...extra });
  const postSigned = (body: string, signature: string, timestamp = nowSec()) =>
    call(open, 'POST', '/v1/webhooks/tv', {
      body,
      headers: { 'x-keel-signature': signature, 'x-keel-timestamp': String(timestamp) },
    });

  it('refuses every near miss of the signature with 401, registers nothing, and compares digests', async () => {
    const before = registered(open);
    const body = alert('sig-near-miss');
    const at = nowSec();
    const right = signWebhook(WEBHOOK_SECRET, at, body);
    const wrong = {
      ...nearMisses(right),
      empty: '',
      'signed with a prefix of the secret': signWebhook(WEBHOOK_SECRET.slice(0, -1), at, body),
      'signed with the secret plus one character': signWebhook(`${WEBHOOK_SECRET}x`, at, body),
      'signed for another timestamp': signWebhook(WEBHOOK_SECRET, at - 1, body),
      'bare hex without sha256=': right.slice('sha256='.length),
    };
    for (const [shape, signature] of Object.entries(wrong)) {
      compared.mockClear();
      const answer = await postSigned(body, signature, at);
      expect(answer.status, shape).toBe(401);
      expect(answer.json.error.code, shape).toBe('KEEL_ERR_UNAUTHORIZED');
      expectDigestComparisons();
    }
    expect(registered(open)).toBe(before);
    const accepted = await postSigned(body, right, at);
    expect(accepted.status).toBe(202);
    expect(registered(open)).toBe(before + 1);
  });

  it('refuses every near miss of a body secret with 401, registers nothing, and compares digests', async () => {
    const before = registered(open);
    const at = nowSec();
    for (const [shape, secret] of Object.entries({ ...nearMisses(WEBHOOK_SECRET), empty: '' })) {
      compared.mockClear();
      const answer = await call(open, 'POST', '/v1/webhooks/tv', {
        body: alert(`body-${shape}`, { secret, timestamp: at }),
      });
      expect(answer.status, shape).toBe(401);
      expect(answer.json.error.code, shape).toBe('KEEL_ERR_UNAUTHORIZED');
      // A prefix or a longer secret is compared too: its length decides nothing early.
      expectDigestComparisons();
    }
    expect(registered(open)).toBe(before);
    const accepted = await call(open, 'POST', '/v1/webhooks/tv', {
      body: alert('body-right', { secret: WEBHOOK_SECRET, timestamp: at }),
    });
    expect(accepted.status).toBe(202);
    expect(registered(open)).toBe(before + 1);
  });
});

describe('request size limit', () => {
  /** A JSON body of exactly `bytes` bytes: the intent, padded with trailing whitespace. */
  const padded = (value: unknown, bytes: number) => {
    const text = JSON.stringify(value);
    return `${text}${' '.repeat(bytes - Buffer.byteLength(text))}`;
  };
  const chunked = (text: string) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        for (let at = 0; at < bytes.length; at += 1_000) controller.enqueue(bytes.slice(at, at + 1_000));
        controller.close();
      },
    });
  const expectTooLarge = (answer: Answer, label: string) => {
    expect(answer.status, label).toBe(413);
    expect(answer.headers.get('content-type'), label).toMatch(/^application\/json/);
    expect(answer.json, label).toEqual({
      error: { code: 'KEEL_ERR_BODY_TOO_LARGE', message: `the body is larger than ${BODY_LIMIT} bytes` },
    });
  };

  it('answers a body over the limit on the API with 413 and a JSON error, and registers nothing', async () => {
    const before = registered(open);
    const intent = entryIntent({ strategy_id: 'size' });
    expectTooLarge(
      await call(open, 'POST', '/v1/intents', {
        body: padded(intent, BODY_LIMIT + 1),
        headers: bearer(TOKEN),
      }),
      'one byte over, with Content-Length',
    );
    expectTooLarge(
      await call(open, 'POST', '/v1/intents', {
        body: chunked(padded(intent, BODY_LIMIT * 3)),
        headers: bearer(TOKEN),
      }),
      'chunked, no Content-Length',
    );
    expectTooLarge(
      await call(open, 'POST', '/v1/kill', {
        body: padded({ reason: 'x'.repeat(BODY_LIMIT) }, BODY_LIMIT + 100),
        headers: bearer(TOKEN),
      }),
      'another route',
    );
    expect(registered(open)).toBe(before);
    expect(open.keel.killSwitch.view().view.tripped).toBe(false);
    // Exactly at the limit is not too large.
    const atLimit = await call(open, 'POST', '/v1/intents', {
      body: padded(intent, BODY_LIMIT),
      headers: bearer(TOKEN),
    });
    expect(atLimit.status).toBe(202);
    expect(registered(open)).toBe(before + 1);
  });

  it('answers a webhook over the limit with 413 and a JSON error, even correctly signed, and registers nothing', async () => {
    const before = registered(open);
    const at = nowSec();
    const body = padded(
      { id: 'big', symbol: 'BTCUSDT', side: 'buy', qty: '0.01', strategy: 'size-tv' },
      BODY_LIMIT + 1,
    );
    const headers = {
      'x-keel-signature': signWebhook(WEBHOOK_SECRET, at, body),
      'x-keel-timestamp': `${at}`,
    };
    expectTooLarge(await call(open, 'POST', '/v1/webhooks/tv', { body, headers }), 'signed, Content-Length');
    expectTooLarge(
      await call(open, 'POST', '/v1/webhooks/tv', { body: chunked(body), headers }),
      'signed, chunked',
    );
    expectTooLarge(
      await call(open, 'POST', '/v1/webhooks/nosuchsource', { body }),
      'unknown source, unsigned',
    );
    expect(registered(open)).toBe(before);
  });
});

describe('ingress rate limit', () => {
  it('counts nothing when disabled', async () => {
    // The open daemon's limit is off with max 1: a second request would be refused if anything counted.
    for (let n = 0; n < 4; n += 1) {
      const answer = await call(open, 'GET', '/v1/belief', { headers: bearer(TOKEN) });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('retry-after')).toBeNull();
    }
  });

  it('answers 429 with Retry-After past the limit on the API, before the token is checked, never on probes, and recovers', async () => {
    const before = registered(limited);
    for (let n = 0; n < RATE_MAX; n += 1)
      expect((await call(limited, 'GET', '/v1/belief', { headers: bearer(TOKEN) })).status).toBe(200);
    const refused = await call(limited, 'GET', '/v1/belief', { headers: bearer(TOKEN) });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(RATE_WINDOW_MS / 1000);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    expect(refused.json.error).toMatchObject({ code: 'KEEL_ERR_RATE_LIMITED' });
    expect(refused.json.error.message).toMatch(/retry in \d+ s/);

    // Limited before authentication: a wrong token gets 429, not 401, and a right one registers nothing.
    expect((await call(limited, 'GET', '/v1/belief', { headers: bearer('wrong') })).status).toBe(429);
    expect((await call(limited, 'GET', '/v1/nosuchroute', { headers: bearer('wrong') })).status).toBe(429);
    const intent = await call(limited, 'POST', '/v1/intents', {
      body: JSON.stringify(entryIntent({ strategy_id: 'limited' })),
      headers: bearer(TOKEN),
    });
    expect(intent.status).toBe(429);
    expect(registered(limited)).toBe(before);

    // Probes and scrapers are never limited.
    for (let n = 0; n < RATE_MAX + 2; n += 1) {
      expect((await call(limited, 'GET', '/healthz')).status).toBe(200);
      expect((await call(limited, 'GET', '/readyz', { headers: bearer(TOKEN) })).status).not.toBe(429);
      expect((await call(limited, 'GET', '/metrics', { headers: bearer(TOKEN) })).status).toBe(200);
    }

    // Webhooks are counted apart: the exhausted API does not hold up an alert.
    const at = nowSec();
    const alert = (id: string) =>
      JSON.stringify({ id, symbol: 'BTCUSDT', side: 'buy', qty: '0.01', strategy: `limited-${id}` });
    const signed = (body: string) => ({
      body,
      headers: { 'x-keel-signature': signWebhook(WEBHOOK_SECRET, at, body), 'x-keel-timestamp': `${at}` },
    });
    const first = await call(limited, 'POST', '/v1/webhooks/tv', signed(alert('rl-1')));
    expect(first.status).toBe(202);
    expect(registered(limited)).toBe(before + 1);
    // Bad signatures count too; past the limit even a good alert is refused, and registers nothing.
    for (let n = 1; n < RATE_MAX; n += 1) {
      const bad = await call(limited, 'POST', '/v1/webhooks/tv', {
        body: alert(`rl-bad-${n}`),
        headers: { 'x-keel-signature': 'sha256=00', 'x-keel-timestamp': `${at}` },
      });
      expect(bad.status).toBe(401);
    }
    const limitedAlert = await call(limited, 'POST', '/v1/webhooks/tv', signed(alert('rl-2')));
    expect(limitedAlert.status).toBe(429);
    expect(Number(limitedAlert.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limitedAlert.json.error.code).toBe('KEEL_ERR_RATE_LIMITED');
    expect(registered(limited)).toBe(before + 1);

    // After Retry-After, the address may call again.
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
    const again = await call(limited, 'GET', '/v1/belief', { headers: bearer(TOKEN) });
    expect(again.status).toBe(200);
  });
});

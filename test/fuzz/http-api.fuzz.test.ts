/**
 * Input fuzzing of the daemon's HTTP API, in process on a loopback port: arbitrary JSON, intents
 * with one field of the wrong type, bodies nested thousands deep, bodies over the limit (with and
 * without a Content-Length), bytes that are not UTF-8 or not JSON, other content types, arbitrary
 * paths and queries, and missing or wrong bearer tokens. Each is answered with a 4xx and a JSON error
 * (naming the bad field's path where there is one), never a 5xx; the daemon still answers /healthz
 * afterwards; and nothing is registered nor the kill switch tripped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon/run.js';
import { entryIntent } from '../support/intents.js';

const TOKEN = 'fuzz-api-token-7c2e9a41d0b8';
const BODY_LIMIT = 131_072;
const RUNS = 60;

let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-fuzz-api-'));
  daemon = await startDaemon({
    keel: { dataDir: join(dir, 'data'), mode: 'strict', protection: { requireStops: false } },
    // Fuzzing sends hundreds of requests from one address: no rate limit in the way.
    http: {
      host: '127.0.0.1',
      port: 0,
      bodyLimitBytes: BODY_LIMIT,
      rateLimit: { enabled: false, max: 1, windowMs: 60_000 },
    },
    shutdown: { graceMs: 5_000, cancelOpenEntries: false },
    logging: { level: 'fatal', file: false },
    webhooks: { toleranceSec: 300, sources: {} },
    secrets: { apiToken: TOKEN },
  });
});

afterAll(async () => {
  await daemon?.stop('test over');
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  contentType: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field with expect
  json: any;
}

/**
 * One request with exactly the bytes and headers given (fetch would re-encode and validate them).
 * Without a content-length the body goes chunked.
 */
function send(
  method: string,
  path: string,
  options: { body?: string | Uint8Array; headers?: Record<string, string>; chunked?: boolean } = {},
): Promise<Answer> {
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  const headers: Record<string, string> = {
    authorization: `Bearer ${TOKEN}`,
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined || options.chunked === true ? {} : { 'content-length': String(body.length) }),
    ...options.headers,
  };
  for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = httpRequest(new URL(path, daemon.url), { method, headers, agent: false }, (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = { notJson: text };
        }
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'] ?? '',
          json,
        });
      });
    });
    // A server that answers 413 before reading the rest may reset the connection under the writer.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (body !== undefined && options.chunked === true) {
      for (let at = 0; at < body.length; at += 16_384) request.write(body.subarray(at, at + 16_384));
    } else if (body !== undefined) request.write(body);
    request.end();
  });
}

const registered = (): number => daemon.keel.store.list({ limit: 100_000 }).length;

/** A 4xx with a JSON error body: a stable code, a message, and well-formed issues if any. */
function expectClearError(answer: Answer, status?: number): void {
  if (status === undefined) {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
  } else expect(answer.status).toBe(status);
  expect(answer.contentType).toMatch(/^application\/json/);
  expect(answer.json.error.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
  expect(answer.json.error.message).toEqual(expect.any(String));
  expect(answer.json.error.message.length).toBeGreaterThan(0);
  for (const issue of answer.json.error.issues ?? []) {
    expect(issue.path).toEqual(expect.any(String));
    expect(issue.message).toEqual(expect.any(String));
  }
}

const pathsOf = (answer: Answer): string[] =>
  ((answer.json.error?.issues ?? []) as Array<{ path: string }>).map((issue) => issue.path);

/** The daemon is still up, and nothing was registered or tripped. */
async function expectUntouched(before: number): Promise<void> {
  const health = await send('GET', '/healthz', { headers: { authorization: '' } });
  expect(health.status).toBe(200);
  expect(health.json.status).toBe('ok');
  expect(registered()).toBe(before);
  expect(daemon.keel.killSwitch.view().view.tripped).toBe(false);
}

/** What each intent field takes, so that a value of another type can be chosen. */
const INTENT_FIELDS = {
  strategy_id: 'string',
  bot_id: 'string',
  client_id: 'string',
  source: 'string',
  venue: 'string',
  account: 'string',
  symbol: 'string',
  side: 'string',
  type: 'string',
  kind: 'string',
  time_in_force: 'string',
  qty: 'amount',
  price: 'amount',
  stop_price: 'amount',
  stop_loss: 'amount',
  leverage: 'amount',
  confidence: 'number',
  reduce_only: 'boolean',
  close_position: 'boolean',
} as const;
type FieldType = (typeof INTENT_FIELDS)[keyof typeof INTENT_FIELDS];

const smallJson = fc.jsonValue({ maxDepth: 3 });
const finiteNumber = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));

/** A JSON value that is not of the field's type (an amount also takes a decimal string: not that either). */
function wrongTypeFor(type: FieldType): fc.Arbitrary<unknown> {
  const structured = [
    fc.constant(null),
    fc.array(smallJson, { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), smallJson, { maxKeys: 4 }),
  ];
  switch (type) {
    case 'string':
      return fc.oneof(finiteNumber, fc.boolean(), ...structured);
    case 'amount':
      return fc.oneof(
        fc.boolean(),
        fc.string().filter((text) => !/^\d+(\.\d+)?$/.test(text)),
        ...structured,
      );
    case 'number':
      return fc.oneof(fc.string(), fc.boolean(), ...structured);
    case 'boolean':
      return fc.oneof(finiteNumber, fc.string(), ...structured);
  }
}

const wrongField = fc
  .constantFrom(...(Object.keys(INTENT_FIELDS) as Array<keyof typeof INTENT_FIELDS>))
  .chain((field) => wrongTypeFor(INTENT_FIELDS[field]).map((value) => ({ field, value })));

/** Valid intents, distinct per run: a bug that let one through would register it. */
let serial = 0;
const validIntent = () => entryIntent({ strategy_id: `fuzz-${(serial += 1)}`, source: 'api' });

describe('HTTP API input fuzzing', () => {
  it('answers arbitrary JSON with 400 and field paths, on the intent and kill-switch routes, registering nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue({ maxDepth: 5 }),
        fc.constantFrom('/v1/intents', '/v1/kill', '/v1/kill/reset'),
        async (value, route) => {
          // The kill routes take `{ reason }`: an arbitrary value that happens to carry one is not bad input.
          fc.pre(
            route === '/v1/intents' ||
              typeof value !== 'object' ||
              value === null ||
              Array.isArray(value) ||
              !('reason' in value),
          );
          const before = registered();
          const answer = await send('POST', route, { body: JSON.stringify(value) });
          expectClearError(answer, 400);
          expect(answer.json.error.code).toBe(
            route === '/v1/intents' ? 'KEEL_ERR_BAD_INTENT' : 'KEEL_ERR_BAD_INPUT',
          );
          expect(answer.json.error.issues.length).toBeGreaterThan(0);
          await expectUntouched(before);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers an intent with one field of the wrong type with 400 naming that field', async () => {
    await fc.assert(
      fc.asyncProperty(wrongField, async ({ field, value }) => {
        const before = registered();
        const answer = await send('POST', '/v1/intents', {
          body: JSON.stringify({ ...validIntent(), [field]: value }),
        });
        expectClearError(answer, 400);
        expect(answer.json.error.code).toBe('KEEL_ERR_BAD_INTENT');
        expect(pathsOf(answer)).toContain(field);
        await expectUntouched(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers bodies nested thousands deep with 400 naming the field, without exhausting the stack', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1_000, max: 20_000 }),
        fc.constantFrom('array', 'object'),
        fc.constantFrom<keyof typeof INTENT_FIELDS | null>(
          null,
          'qty',
          'symbol',
          'strategy_id',
          'confidence',
        ),
        async (depth, shape, field) => {
          const deep =
            shape === 'array'
              ? `${'['.repeat(depth)}${']'.repeat(depth)}`
              : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
          const body =
            field === null
              ? deep
              : JSON.stringify({ ...validIntent(), [field]: '\u0000deep' }).replace('"\\u0000deep"', deep);
          // The nesting is under the limit: it must be parsed and refused, not cut off as too large.
          expect(Buffer.byteLength(body)).toBeLessThan(BODY_LIMIT);
          const before = registered();
          const answer = await send('POST', '/v1/intents', { body });
          expectClearError(answer, 400);
          expect(pathsOf(answer)).toContain(field ?? '');
          await expectUntouched(before);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('answers a body over the limit with 413, with or without a Content-Length, on any route', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 3 }),
        fc.boolean(),
        fc.constantFrom('valid-json', 'bytes'),
        fc.constantFrom('/v1/intents', '/v1/kill', '/v1/webhooks/tv'),
        async (size, chunked, content, route) => {
          const body =
            content === 'valid-json'
              ? Buffer.from(JSON.stringify({ ...validIntent(), padding: 'x'.repeat(size) }))
              : Buffer.alloc(size, 0xff);
          const before = registered();
          const answer = await send('POST', route, { body, chunked });
          expectClearError(answer, 413);
          expect(answer.json.error.code).toBe('KEEL_ERR_BODY_TOO_LARGE');
          await expectUntouched(before);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('answers bytes that are not JSON, or not UTF-8, sent as application/json, with 400', async () => {
    const invalidUtf8 = fc.constantFrom(
      [0xff],
      [0xfe, 0xff],
      [0xc0, 0x80], // overlong NUL
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded as UTF-8
      [0x80], // a lone continuation byte
      [0xe2, 0x82], // truncated sequence
      [0xf8, 0x88, 0x80, 0x80, 0x80], // five-byte form
    );
    const bodies = fc.oneof(
      // Arbitrary bytes.
      fc.uint8Array({ minLength: 1, maxLength: 2_000 }),
      // Arbitrary text that is not JSON (a BOM in front of valid JSON among it).
      fc
        .oneof(
          fc.string({ minLength: 1, unit: 'binary' }),
          fc.constant(`\uFEFF${JSON.stringify(entryIntent())}`),
          fc.jsonValue().map((value) => JSON.stringify(value).slice(0, -1)),
        )
        .filter((text) => {
          try {
            JSON.parse(text);
            return false;
          } catch {
            return true;
          }
        })
        .map((text) => new Uint8Array(Buffer.from(text, 'utf8'))),
      // A valid intent with bytes that are not UTF-8 inside one of its strings.
      fc
        .tuple(fc.constantFrom('strategy_id', 'bot_id', 'account', 'client_id'), invalidUtf8)
        .map(([field, bytes]) => {
          const [head, tail] = JSON.stringify({ ...validIntent(), [field]: '\u0000' }).split('\\u0000');
          return new Uint8Array(
            Buffer.concat([Buffer.from(head ?? ''), Buffer.from(bytes), Buffer.from(tail ?? '')]),
          );
        }),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const before = registered();
        const answer = await send('POST', '/v1/intents', { body });
        expectClearError(answer, 400);
        await expectUntouched(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a valid intent sent as any other content type with a 4xx', async () => {
    const contentTypes = fc.oneof(
      fc.constantFrom(
        'text/plain',
        'text/html',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=fuzz',
        'application/xml',
        'application/octet-stream',
        'application/jsonx',
        'json',
        '*/*',
      ),
      fc.stringMatching(/^[a-z]{1,10}\/[a-z0-9.+-]{1,20}$/).filter((type) => type !== 'application/json'),
    );
    await fc.assert(
      fc.asyncProperty(contentTypes, async (contentType) => {
        const before = registered();
        const answer = await send('POST', '/v1/intents', {
          body: JSON.stringify(validIntent()),
          headers: { 'content-type': contentType },
        });
        expectClearError(answer);
        await expectUntouched(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a missing or wrong bearer token with 401 on every authenticated route', async () => {
    const printable = fc.string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
    });
    const authorization = fc.oneof(
      fc.constant(''),
      printable,
      printable.map((text) => `Bearer ${text}`),
      fc.constantFrom(
        TOKEN,
        `bearer ${TOKEN}`,
        `Basic ${Buffer.from(`keel:${TOKEN}`).toString('base64')}`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.toUpperCase()}`,
        `Bearer\t${TOKEN}`,
        'Bearer ',
      ),
    );
    const routes = fc.constantFrom(
      { method: 'POST', path: '/v1/intents', body: () => JSON.stringify(validIntent()) },
      { method: 'POST', path: '/v1/kill', body: () => JSON.stringify({ reason: 'fuzz', by: 'fuzz' }) },
      { method: 'GET', path: '/v1/intents' },
      { method: 'GET', path: '/v1/positions' },
      { method: 'GET', path: '/metrics' },
    );
    await fc.assert(
      fc.asyncProperty(authorization, routes, async (header, route) => {
        fc.pre(!(header.startsWith('Bearer ') && header.slice('Bearer '.length).trim() === TOKEN));
        const before = registered();
        const answer = await send(route.method, route.path, {
          ...(route.body === undefined ? {} : { body: route.body() }),
          headers: { authorization: header },
        });
        expectClearError(answer, 401);
        expect(answer.json.error.code).toBe('KEEL_ERR_UNAUTHORIZED');
        await expectUntouched(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers arbitrary ids, accounts and queries with JSON, never a 5xx, changing nothing', async () => {
    const segment = fc.string({ minLength: 1, maxLength: 300, unit: 'binary' }).map(encodeURIComponent);
    const query = fc
      .array(
        fc.tuple(
          fc.oneof(fc.constantFrom('status', 'limit'), fc.string({ maxLength: 10 })),
          fc.oneof(
            fc.constantFrom('CREATED', 'NOPE', '0', '1001', '-1', '1e3', ''),
            fc.string({ maxLength: 20 }),
          ),
        ),
        { maxLength: 4 },
      )
      .map((pairs) => new URLSearchParams(pairs).toString());
    const requests = fc.oneof(
      segment.map((id) => ({ method: 'GET', path: `/v1/intents/${id}`, ok: [404] })),
      segment.map((id) => ({ method: 'GET', path: `/v1/intents/${id}/statechart`, ok: [404] })),
      segment.map((id) => ({ method: 'POST', path: `/v1/intents/${id}/cancel`, ok: [404] })),
      segment.map((account) => ({ method: 'GET', path: `/v1/pnl/${account}`, ok: [200, 400] })),
      query.map((text) => ({ method: 'GET', path: `/v1/intents?${text}`, ok: [200, 400] })),
    );
    await fc.assert(
      fc.asyncProperty(requests, async ({ method, path, ok }) => {
        const before = registered();
        const answer = await send(method, path);
        expect(ok).toContain(answer.status);
        expect(answer.contentType).toMatch(/^application\/json/);
        if (answer.status >= 400) expectClearError(answer);
        await expectUntouched(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('still registers a valid intent after all of that (the refusals above were not a dead server)', async () => {
    const before = registered();
    const answer = await send('POST', '/v1/intents', { body: JSON.stringify(validIntent()) });
    expect(answer.status).toBe(202);
    expect(registered()).toBe(before + 1);
  });
});

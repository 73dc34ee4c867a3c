/**
 * Input fuzzing of the webhook ingress (`POST /v1/webhooks/:source`), in process on a loopback port:
 * arbitrary bodies unsigned and correctly signed, alerts with one field of the wrong type, alerts
 * that pass the template but not the intent schema, forged signatures (random hex, another body's,
 * another secret's, another timestamp's), forged body secrets, replays, stale and malformed
 * timestamps, unknown sources. Each is refused with a 4xx and a JSON error, nothing is registered,
 * and the daemon answers /healthz afterwards; the same alert correctly signed is then accepted and
 * registers exactly one intent, so that a refusal is known to come from what was fuzzed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon/run.js';
import { signWebhook } from '../../src/daemon/webhook.js';

const TOKEN = 'fuzz-webhook-api-token-3b8d1f';
const SECRET = 'fuzz-webhook-secret-9a0c6e2f';
const TOLERANCE_SEC = 300;
const RUNS = 40;

let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-fuzz-webhook-'));
  daemon = await startDaemon({
    keel: { dataDir: join(dir, 'data'), mode: 'strict', protection: { requireStops: false } },
    // Fuzzing sends hundreds of requests from one address: no rate limit in the way.
    http: {
      host: '127.0.0.1',
      port: 0,
      bodyLimitBytes: 65_536,
      rateLimit: { enabled: false, max: 1, windowMs: 60_000 },
    },
    shutdown: { graceMs: 5_000, cancelOpenEntries: false },
    logging: { level: 'fatal', file: false },
    webhooks: { toleranceSec: TOLERANCE_SEC, sources: { tv: { enabled: true }, off: { enabled: false } } },
    secrets: { apiToken: TOKEN, webhookSecret: SECRET },
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

/** One request with exactly the bytes and headers given (fetch would re-encode and validate them). */
function send(
  path: string,
  body: string | Uint8Array | undefined,
  headers: Record<string, string | undefined> = {},
  method = 'POST',
): Promise<Answer> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries({
    ...(bytes === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': String(bytes.length) }),
    ...headers,
  }))
    if (value !== undefined) sent[name] = value;
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      new URL(path, daemon.url),
      { method, headers: sent, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
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
      },
    );
    request.on('error', reject);
    if (bytes !== undefined) request.write(bytes);
    request.end();
  });
}

const nowSec = (): number => Math.floor(Date.now() / 1000);
const registered = (): number => daemon.keel.store.list({ limit: 100_000 }).length;

/** Posts a body to the tv source, signed with `secret` at `at` unless told otherwise. */
function post(
  body: string,
  options: { secret?: string; at?: number; signature?: string; timestamp?: string; source?: string } = {},
): Promise<Answer> {
  const at = options.at ?? nowSec();
  return send(`/v1/webhooks/${options.source ?? 'tv'}`, body, {
    'x-keel-signature': options.signature ?? signWebhook(options.secret ?? SECRET, at, body),
    'x-keel-timestamp': options.timestamp ?? String(at),
  });
}

/** A 4xx with a JSON error body: a stable code, a message, and well-formed issues if any. */
function expectClearError(answer: Answer, status?: number): void {
  if (status === undefined) {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
  } else expect(answer.status).toBe(status);
  expect(answer.contentType).toMatch(/^application\/json/);
  expect(answer.json.error.code).toMatch(/^KEEL_ERR_[A-Z_]+$/);
  expect(answer.json.error.message).toEqual(expect.any(String));
  expect(answer.json.error.message.length).toBeGreaterThan(0);
  for (const issue of answer.json.error.issues ?? []) {
    expect(issue.path).toEqual(expect.any(String));
    expect(issue.message).toEqual(expect.any(String));
  }
}

const pathsOf = (answer: Answer): string[] =>
  ((answer.json.error?.issues ?? []) as Array<{ path: string }>).map((issue) => issue.path);

/** The daemon is still up and nothing was registered. */
async function expectUntouched(before: number): Promise<void> {
  const health = await send('/healthz', undefined, {}, 'GET');
  expect(health.status).toBe(200);
  expect(registered()).toBe(before);
}

/** The alert, correctly signed now, is accepted and registers exactly one intent. */
async function expectAcceptedOnce(body: string, id: string): Promise<void> {
  const before = registered();
  const accepted = await post(body);
  expect(accepted.status).toBe(202);
  expect(accepted.json.intent.intent_id).toBe(`wh.tv.${id}`);
  expect(registered()).toBe(before + 1);
}

/** Valid alerts, a fresh id per run (an unknown symbol: the paper venue refuses it at once, nothing fills). */
let serial = 0;
function validAlert(overrides: Record<string, unknown> = {}): { id: string; alert: Record<string, unknown> } {
  serial += 1;
  const id = `fz-${serial}`;
  return {
    id,
    alert: { id, symbol: 'FUZZUSDT', side: 'buy', qty: '0.01', strategy: `fuzz-${serial}`, ...overrides },
  };
}

/** What each alert field takes, so that a value of another type can be chosen. */
const ALERT_FIELDS = {
  id: 'string',
  symbol: 'string',
  side: 'string',
  kind: 'string',
  strategy: 'string',
  bot: 'string',
  account: 'string',
  type: 'string',
  qty: 'amount',
  price: 'amount',
  stop_loss: 'amount',
  take_profit: 'amount',
  leverage: 'amount',
  confidence: 'number',
} as const;
type FieldType = (typeof ALERT_FIELDS)[keyof typeof ALERT_FIELDS];

const smallJson = fc.jsonValue({ maxDepth: 3 });

function wrongTypeFor(type: FieldType): fc.Arbitrary<unknown> {
  const structured = [
    fc.constant(null),
    fc.array(smallJson, { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), smallJson, { maxKeys: 4 }),
  ];
  switch (type) {
    case 'string':
      return fc.oneof(
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        ...structured,
      );
    case 'amount':
      return fc.oneof(
        fc.boolean(),
        fc.string().filter((text) => !/^\d+(\.\d+)?$/.test(text)),
        ...structured,
      );
    case 'number':
      return fc.oneof(fc.string(), fc.boolean(), ...structured);
  }
}

const printable = fc.string({
  minLength: 1,
  maxLength: 120,
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
});

describe('webhook ingress fuzzing', () => {
  it('refuses arbitrary unsigned bodies with 400 or 401, registering nothing', async () => {
    const bodies = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
      fc.string({ unit: 'binary' }),
      fc.uint8Array({ minLength: 1, maxLength: 1_000 }),
      // A complete alert, with a body secret that is not the secret.
      fc
        .tuple(fc.oneof(fc.string(), smallJson), fc.oneof(fc.integer(), fc.string()))
        .filter(([secret]) => secret !== SECRET)
        .map(([secret, timestamp]) => JSON.stringify({ ...validAlert().alert, secret, timestamp })),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const before = registered();
        const answer = await send('/v1/webhooks/tv', body);
        expectClearError(answer);
        expect([400, 401]).toContain(answer.status);
        await expectUntouched(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers arbitrary JSON, correctly signed, with 400 and the paths of the bad fields', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const before = registered();
        const answer = await post(JSON.stringify(value));
        expectClearError(answer, 400);
        expect(answer.json.error.code).toBe('KEEL_ERR_BAD_INTENT');
        expect(answer.json.error.issues.length).toBeGreaterThan(0);
        await expectUntouched(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers a signed alert with one field of the wrong type with 400 naming that field', async () => {
    const wrongField = fc
      .constantFrom(...(Object.keys(ALERT_FIELDS) as Array<keyof typeof ALERT_FIELDS>))
      .chain((field) => wrongTypeFor(ALERT_FIELDS[field]).map((value) => ({ field, value })));
    await fc.assert(
      fc.asyncProperty(wrongField, async ({ field, value }) => {
        const { alert } = validAlert();
        const before = registered();
        const answer = await post(JSON.stringify({ ...alert, [field]: value }));
        expectClearError(answer, 400);
        expect(pathsOf(answer)).toContain(field);
        await expectUntouched(before);
        // The alert it was made from goes through: the refusal was that field's.
        await expectAcceptedOnce(JSON.stringify(alert), alert.id as string);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers any signed alert that fits the template with 202 and one intent, or a 4xx and none, never a 5xx', async () => {
    const amount = fc.oneof(
      fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
      fc.stringMatching(/^\d{1,6}(\.\d{1,9})?$/),
    );
    const alerts = fc.record(
      {
        symbol: fc.oneof(
          fc.constantFrom('FUZZUSDT', 'ETH/USDT:USDT', 'not a symbol', '-X'),
          fc.string({ minLength: 1, maxLength: 64 }),
        ),
        side: fc.constantFrom('buy', 'sell'),
        size: fc.oneof(
          amount.map((qty) => ({ qty })),
          amount.map((notional) => ({ notional })),
        ),
        kind: fc.constantFrom('ENTRY', 'EXIT', 'TP', 'SL'),
        type: fc.constantFrom('market', 'limit'),
        price: amount,
        leverage: amount,
        confidence: fc.double({ min: 0, max: 1, noNaN: true }),
        account: fc.string({ minLength: 1, maxLength: 128 }),
        bot: fc.string({ minLength: 1, maxLength: 128 }),
      },
      { requiredKeys: ['symbol', 'side', 'size'] },
    );
    await fc.assert(
      fc.asyncProperty(alerts, async ({ size, ...fields }) => {
        const { id, alert } = validAlert();
        delete alert.qty;
        const body = JSON.stringify({ ...alert, ...fields, ...size });
        const before = registered();
        const answer = await post(body);
        if (answer.status === 202) {
          expect(answer.json.intent.intent_id).toBe(`wh.tv.${id}`);
          expect(registered()).toBe(before + 1);
        } else {
          expectClearError(answer, 400);
          expect(pathsOf(answer).length).toBeGreaterThan(0);
          expect(registered()).toBe(before);
        }
        expect((await send('/healthz', undefined, {}, 'GET')).status).toBe(200);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses forged signatures with 401, then accepts the same alert correctly signed exactly once', async () => {
    const forgeries = fc.oneof(
      fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => ({ how: 'random hex', signature: `sha256=${hex}` })),
      printable.map((signature) => ({ how: 'random text', signature })),
      fc.constant({ how: 'empty', signature: '' }),
      printable.filter((secret) => secret !== SECRET).map((secret) => ({ how: 'another secret', secret })),
      fc.jsonValue().map((other) => ({ how: 'another body', other: JSON.stringify(other) })),
      fc
        .integer({ min: 1, max: 200 })
        .map((shift) => ({ how: 'another timestamp than the header', signedAt: nowSec() - shift })),
      fc.constant({ how: 'no sha256= prefix', bare: true }),
      fc.constant({ how: 'upper-case hex', upper: true }),
      fc.constant({ how: 'no timestamp header', noTimestamp: true }),
    );
    await fc.assert(
      fc.asyncProperty(forgeries, async (forgery) => {
        const { id, alert } = validAlert();
        const body = JSON.stringify(alert);
        const at = nowSec();
        const real = signWebhook(SECRET, at, body);
        let signature: string;
        if ('signature' in forgery) signature = forgery.signature;
        else if ('secret' in forgery) signature = signWebhook(forgery.secret, at, body);
        else if ('other' in forgery) signature = signWebhook(SECRET, at, forgery.other);
        else if ('signedAt' in forgery) signature = signWebhook(SECRET, forgery.signedAt, body);
        else if ('bare' in forgery) signature = real.slice('sha256='.length);
        else if ('upper' in forgery) signature = real.toUpperCase();
        else signature = real;
        fc.pre(signature !== real || 'noTimestamp' in forgery);
        const before = registered();
        const answer = await send('/v1/webhooks/tv', body, {
          'x-keel-signature': signature,
          'x-keel-timestamp': 'noTimestamp' in forgery ? undefined : String(at),
        });
        expectClearError(answer, 401);
        expect(answer.json.error.code).toBe('KEEL_ERR_UNAUTHORIZED');
        await expectUntouched(before);
        await expectAcceptedOnce(body, id);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a replayed alert with 401 however it is re-sent, and never registers an alert id twice', async () => {
    const resends = fc.constantFrom(
      'same signature and timestamp',
      're-signed later',
      'via the body secret',
      'same id, other body',
    );
    await fc.assert(
      fc.asyncProperty(resends, fc.integer({ min: 1, max: TOLERANCE_SEC - 5 }), async (resend, later) => {
        const { id, alert } = validAlert();
        const body = JSON.stringify(alert);
        const at = nowSec();
        const signature = signWebhook(SECRET, at, body);
        const before = registered();
        const first = await post(body, { at, signature });
        expect(first.status).toBe(202);
        expect(registered()).toBe(before + 1);
        let again: Answer;
        if (resend === 'same signature and timestamp') again = await post(body, { at, signature });
        else if (resend === 're-signed later') again = await post(body, { at: at - later });
        else if (resend === 'via the body secret') {
          // A sender that cannot sign resends the very same alert: the first copy had no secret, so
          // this body differs, and it is the alert id that keeps it from registering twice.
          again = await send('/v1/webhooks/tv', JSON.stringify({ ...alert, secret: SECRET, timestamp: at }));
        } else again = await post(JSON.stringify({ ...alert, qty: '0.02' }));
        if (resend === 'same signature and timestamp' || resend === 're-signed later') {
          expectClearError(again, 401);
          expect(again.json.error.message).toMatch(/replay/);
        } else if (resend === 'same id, other body') {
          // Another alert under a used id: refused like a reused Idempotency-Key, never dropped silently.
          expectClearError(again, 409);
          expect(again.json.error.code).toBe('KEEL_ERR_IDEMPOTENCY_CONFLICT');
        } else {
          // The same alert again: answered with the intent already registered for it.
          expect(again.status).toBe(202);
          expect(again.json.intent.intent_id).toBe(`wh.tv.${id}`);
          expect(again.json.intent.correlation_id).toBe(first.json.intent.correlation_id);
        }
        await expectUntouched(before + 1);
      }),
      { numRuns: 24 },
    );
  });

  it('refuses stale, future and malformed timestamps with 401, then accepts the alert sent now', async () => {
    const timestamps = fc.oneof(
      fc
        .integer({ min: TOLERANCE_SEC + 2, max: 10 ** 9 })
        .chain((offset) => fc.constantFrom(-offset, offset))
        .map((offset) => ({ signedAt: nowSec() + offset, header: undefined as string | undefined })),
      fc
        .oneof(
          printable.filter((text) => !Number.isInteger(Number(text))),
          fc.constantFrom('', '1.5', 'NaN', 'Infinity', '1e400', `${nowSec()}.5`),
        )
        .map((header) => ({ signedAt: nowSec(), header })),
    );
    await fc.assert(
      fc.asyncProperty(timestamps, async ({ signedAt, header }) => {
        const { id, alert } = validAlert();
        const body = JSON.stringify(alert);
        const before = registered();
        const answer = await post(body, {
          at: signedAt,
          ...(header === undefined ? {} : { timestamp: header }),
        });
        expectClearError(answer, 401);
        await expectUntouched(before);
        // The stale copy was not remembered as seen: the alert sent now goes through.
        await expectAcceptedOnce(body, id);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a correctly signed alert for an unknown or disabled source with 401', async () => {
    const sources = fc.oneof(
      fc.constantFrom('off', 'TV', 'tv2', 'tv%00', '..%2Ftv'),
      fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }).map(encodeURIComponent),
    );
    await fc.assert(
      fc.asyncProperty(sources, async (source) => {
        fc.pre(source !== 'tv');
        const body = JSON.stringify(validAlert().alert);
        const before = registered();
        const answer = await post(body, { source });
        // An encoded slash makes another route: 404 then, still a JSON 4xx.
        expectClearError(answer);
        expect([401, 404]).toContain(answer.status);
        await expectUntouched(before);
      }),
      { numRuns: RUNS },
    );
  });
});

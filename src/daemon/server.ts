/**
 * The daemon's HTTP and WebSocket API on fastify: intents, positions, belief, kill switch,
 * health, metrics, webhooks and the live stream.
 * Invariants: every route but `/healthz` (and the dashboard's static page, which holds no data)
 * needs `Authorization: Bearer <token>` (the stream also takes `?token=`, since browsers cannot
 * set headers on a WebSocket), compared in constant time; every rejected request (bad token, bad
 * body, oversized body, bad signature) registers nothing; a bad field is answered 400 with the path
 * of every bad field; request logs never carry a query string, a body or a header value; with a rate
 * limit, an address past it is answered 429 with Retry-After before its token or signature is
 * looked at (the API and webhooks counted apart; health, readiness, metrics and the dashboard's page
 * never limited).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Keel } from '../config/create-keel.js';
import { BadInputError, ERROR_CODES, KeelError } from '../domain/errors.js';
import { parseIntent } from '../domain/intent.schema.js';
import type { IntentResult } from '../domain/intent-result.schema.js';
import { timelineOf } from '../domain/journal-timeline.js';
import { orderIntentMachine } from '../machines/order-intent.machine.js';
import { toMermaid } from '../viz/mermaid.js';
import type { LoggerPort } from '../ports/logger.port.js';
import type { DaemonMetrics } from './metrics.js';
import type { StreamHub } from './stream.js';
import { intentsOfAlert, type WebhookVerifier } from './webhook.js';

export interface ServerDeps {
  keel: Keel;
  token: string;
  hub: StreamHub;
  metrics: DaemonMetrics;
  bodyLimitBytes: number;
  /** Requests one client address may make per window, on the API and on webhooks each; absent: no limit. */
  rateLimit?: { max: number; windowMs: number };
  logger?: LoggerPort;
  webhooks: WebhookVerifier;
  /** Decimals a webhook's notional is rounded down to when converted to a quantity. */
  qtyDecimals?: number;
  /** Whether keel is ready: reconciled once and the venue stream fresh. */
  readiness(): { ready: boolean; checks: Record<string, boolean | string> };
  /** The dashboard's HTML, served at `/` and `/dashboard`. */
  dashboardHtml?: () => string;
  now: () => number;
  version: string;
}

interface ErrorBody {
  error: { code: string; message: string; issues?: ReadonlyArray<{ path: string; message: string }> };
}

const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of letters, digits, . _ : -');

const listQuerySchema = z.strictObject({
  status: z.enum(['CREATED', 'SENT_TO_BROKER', 'EXECUTED', 'FAILED']).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

const accountParamsSchema = z.strictObject({ account: z.string().trim().min(1).max(128) });

const replaceSchema = z.strictObject({
  qty: z.number().positive('must be greater than zero').finite(),
});

const killSchema = z.strictObject({
  reason: z.string().min(1).max(500),
  by: z.string().min(1).max(128).default('api'),
  evidence: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
const resetSchema = z.strictObject({
  reason: z.string().min(1).max(500),
  by: z.string().min(1).max(128).default('api'),
});

function fail(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  issues?: ErrorBody['error']['issues'],
) {
  const body: ErrorBody = { error: { code, message, ...(issues === undefined ? {} : { issues }) } };
  return reply.code(status).send(body);
}

function parseBody<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw new BadInputError(
    'bad request',
    parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}

/** Every state id of the order-intent machine (e.g. `order-intent.live.order.working.open`). */
const ORDER_INTENT_STATE_IDS: ReadonlySet<string> = (() => {
  const ids = new Set<string>();
  const walk = (node: { id: string; states: Record<string, unknown> }) => {
    ids.add(node.id);
    for (const child of Object.values(node.states))
      walk(child as { id: string; states: Record<string, unknown> });
  };
  walk(orderIntentMachine.root);
  ids.delete(orderIntentMachine.root.id);
  return ids;
})();

/** Routes that hold no data: health, the dashboard's static page and its icon. Webhooks authenticate themselves. */
const PUBLIC_PATHS = new Set(['/healthz', '/', '/dashboard', '/favicon.ico']);
/** Routes the rate limit never counts: probes and scrapers poll them, and they change nothing. */
const UNLIMITED_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/', '/dashboard', '/favicon.ico']);

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Constant-time: both sides are hashed first, so their lengths never leak through timing. */
function tokenMatches(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(sha256(given), sha256(token));
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  return undefined;
}

/** Same intent fields, whatever the order keys came in: a retry with the same body is the same request. */
function sameIntent(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): string =>
    JSON.stringify(value, (_key, field: unknown) =>
      field && typeof field === 'object' && !Array.isArray(field)
        ? Object.fromEntries(
            Object.entries(field as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)),
          )
        : field,
    );
  return canonical(a) === canonical(b);
}

/**
 * Builds the server (not yet listening).
 *
 * @example
 * const app = await buildServer(deps);
 * await app.listen({ host: '127.0.0.1', port: 7420 });
 */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { keel, hub, metrics } = deps;
  const app = Fastify({ logger: false, bodyLimit: deps.bodyLimitBytes, return503OnClosing: true });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  // The plugin counts (an LRU of addresses per window); the hook below decides which bucket and answers.
  await app.register(rateLimit, { global: false });
  const limit = deps.rateLimit;
  const limiters =
    limit === undefined
      ? null
      : {
          ...limit,
          api: app.createRateLimit({ max: limit.max, timeWindow: limit.windowMs }),
          webhook: app.createRateLimit({ max: limit.max, timeWindow: limit.windowMs }),
        };

  // JSON bodies are kept raw too: a webhook's signature is over the exact bytes sent.
  app.decorateRequest('rawBody', '');
  app.removeContentTypeParser('application/json');
  // Bytes that are not UTF-8 are refused, never replaced with U+FFFD (which would register an intent
  // whose strings differ from what was sent); a byte-order mark is kept, so it stays invalid JSON.
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const badBody = (message: string) =>
    Object.assign(new Error(message), { statusCode: 400, code: ERROR_CODES.badInput });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = typeof body === 'string' ? body : utf8.decode(body);
    } catch {
      return done(badBody('the body is not valid UTF-8'), undefined);
    }
    (request as FastifyRequest & { rawBody: string }).rawBody = text;
    if (text.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(badBody('the body is not valid JSON'), undefined);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // Before authentication, so that guessing tokens or signatures is limited too.
    if (limiters !== null && !UNLIMITED_PATHS.has(path)) {
      const verdict = await (path.startsWith('/v1/webhooks/') ? limiters.webhook : limiters.api)(request);
      if (!verdict.isAllowed && verdict.isExceeded) {
        const retryAfter = Math.max(1, verdict.ttlInSeconds);
        reply.header('retry-after', String(retryAfter));
        return fail(
          reply,
          429,
          'KEEL_ERR_RATE_LIMITED',
          `more than ${limiters.max} requests in ${limiters.windowMs} ms from this address; retry in ${retryAfter} s`,
        );
      }
    }
    if (PUBLIC_PATHS.has(path) || path.startsWith('/v1/webhooks/')) return;
    const query = request.query as Record<string, string | undefined>;
    const given = bearerOf(request) ?? (path === '/v1/stream' ? query.token : undefined);
    if (!tokenMatches(given, deps.token)) {
      await fail(reply, 401, 'KEEL_ERR_UNAUTHORIZED', 'a valid Authorization: Bearer token is required');
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    deps.logger?.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'http request',
    );
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error instanceof BadInputError) return fail(reply, 400, error.code, error.message, error.issues);
    if (error instanceof KeelError) {
      const status =
        error.code === ERROR_CODES.unknownIntent
          ? 404
          : error.code === ERROR_CODES.closed
            ? 503
            : error.code === ERROR_CODES.blocked
              ? 409
              : 400;
      return fail(reply, status, error.code, error.message);
    }
    if (error.statusCode === 413)
      return fail(
        reply,
        413,
        'KEEL_ERR_BODY_TOO_LARGE',
        `the body is larger than ${deps.bodyLimitBytes} bytes`,
      );
    if (error.statusCode !== undefined && error.statusCode < 500)
      return fail(reply, error.statusCode, error.code ?? ERROR_CODES.badInput, error.message);
    deps.logger?.error({ err: error }, 'request failed');
    return fail(reply, 500, 'KEEL_ERR_INTERNAL', 'internal error');
  });

  app.setNotFoundHandler(async (_request, reply) => fail(reply, 404, 'KEEL_ERR_NOT_FOUND', 'no such route'));

  app.get('/favicon.ico', (_request, reply) => reply.code(204).send());
  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok', version: deps.version }));

  app.get('/readyz', async (_request, reply) => {
    const readiness = deps.readiness();
    return reply.code(readiness.ready ? 200 : 503).send(readiness);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  app.post('/v1/intents', async (request, reply) => {
    const header = request.headers['idempotency-key'];
    const key =
      header === undefined
        ? undefined
        : parseBody(idempotencyKeySchema, Array.isArray(header) ? header[0] : header);
    // Parsed before anything else: a bad body is refused with every field, and nothing is registered.
    const intent = parseIntent(request.body);
    if (key !== undefined) {
      const known = keel.store.get(key);
      if (known && !sameIntent(known.intent, intent))
        return fail(
          reply,
          409,
          'KEEL_ERR_IDEMPOTENCY_CONFLICT',
          `Idempotency-Key ${key} was used for a different intent`,
        );
    }
    const result = await keel.submit(intent, key === undefined ? {} : { intentId: key });
    return reply.code(result.status === 'FAILED' ? 200 : 202).send(result);
  });

  app.get('/v1/intents', (request, reply) => {
    const query = parseBody(listQuerySchema, request.query);
    const records = keel.store.list({
      ...(query.status === undefined ? {} : { status: query.status }),
      limit: query.limit,
    });
    return reply.send({
      intents: records
        .map((record) => keel.get(record.intentId))
        .filter((result): result is IntentResult => result !== null),
    });
  });

  app.get('/v1/intents/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const result = keel.get(id);
    if (!result) return fail(reply, 404, ERROR_CODES.unknownIntent, `no intent ${id}`);
    const timeline = timelineOf(
      keel.store.journal({ correlationId: result.correlation_id }),
      result.correlation_id,
    );
    return { intent: result, record: keel.store.get(id)?.intent ?? null, timeline: timeline?.events ?? [] };
  });

  // The order-intent statechart from keel viz's generator, the intent's current states highlighted.
  app.get('/v1/intents/:id/statechart', (request, reply) => {
    const { id } = request.params as { id: string };
    const result = keel.get(id);
    if (!result) return fail(reply, 404, ERROR_CODES.unknownIntent, `no intent ${id}`);
    // A result read back from the store while its actor restores says `restoring`, no machine state:
    // only states the machine has are highlighted.
    const highlight = result.state
      .split(', ')
      .map((path) => `${orderIntentMachine.id}.${path}`)
      .filter((id) => ORDER_INTENT_STATE_IDS.has(id));
    return reply.send({
      intent_id: id,
      state: result.state,
      source: toMermaid(orderIntentMachine, { highlight }),
    });
  });

  app.post('/v1/intents/:id/cancel', async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!keel.get(id)) return fail(reply, 404, ERROR_CODES.unknownIntent, `no intent ${id}`);
    return keel.cancel(id);
  });

  // Amend a working order's quantity (cancel-replace where the venue cannot amend); more quantity
  // on an entry is judged by the entry blockers again and refused with 409 when they say no.
  app.post('/v1/intents/:id/replace', async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = parseBody(replaceSchema, request.body);
    const current = keel.get(id);
    if (!current) return fail(reply, 404, ERROR_CODES.unknownIntent, `no intent ${id}`);
    // A finished order has nothing left to amend: 200 with its result would read as success.
    if (current.status === 'EXECUTED' || current.status === 'FAILED')
      return fail(
        reply,
        409,
        ERROR_CODES.notWorking,
        `intent ${id} is ${current.status}: nothing to replace`,
      );
    return keel.replace(id, body.qty);
  });

  app.get('/v1/positions', (_request, reply) =>
    reply.send({ positions: keel.positions(), beliefs: keel.beliefs(), protection: keel.protection() }),
  );

  // The account's portfolio: positions, realised and unrealised PnL and fees, marked at the venue's last prices.
  app.get('/v1/pnl/:account', (request, reply) => {
    const { account } = parseBody(accountParamsSchema, request.params);
    return reply.send(keel.pnl(account));
  });

  app.get('/v1/belief', (_request, reply) =>
    reply.send({ ...keel.beliefState(), killSwitch: keel.killSwitch.view() }),
  );

  app.post('/v1/kill', async (request) => {
    const body = parseBody(killSchema, request.body);
    return keel.killSwitch.trip({
      trigger: 'operator',
      reason: body.reason,
      by: body.by,
      ...(body.evidence === undefined ? {} : { evidence: body.evidence }),
    });
  });

  app.post('/v1/kill/reset', async (request) => {
    const body = parseBody(resetSchema, request.body);
    return keel.killSwitch.reset({ by: body.by, reason: body.reason });
  });

  app.post('/v1/webhooks/:source', async (request, reply) => {
    const { source } = request.params as { source: string };
    const header = (name: string): string | undefined => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const verdict = deps.webhooks.verify({
      source,
      rawBody: (request as FastifyRequest & { rawBody: string }).rawBody,
      signature: header('x-keel-signature'),
      timestamp: header('x-keel-timestamp'),
      nowMs: deps.now(),
    });
    if (!verdict.ok) return fail(reply, verdict.status, verdict.code, verdict.message, verdict.issues);
    const { alert, alertKey } = verdict;
    const price = keel.paper?.price(alert.symbol);
    const { intent, takeProfit } = intentsOfAlert(
      alert,
      source,
      keel.venue.capabilities.venue,
      price,
      deps.qtyDecimals ?? 3,
    );
    const intentId = `wh.${source}.${alertKey}`.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 128);
    // A sender's retry is the same intent; another alert under an id already used is refused, as
    // the API refuses a reused Idempotency-Key, rather than answered with the earlier intent: a
    // template whose id is not unique per alert would otherwise drop alerts without a word. A
    // quantity converted from a notional moves with the price, so it is not compared.
    const known = keel.store.get(intentId);
    const comparable = (value: object) => (alert.notional === undefined ? value : { ...value, qty: 0 });
    if (known && !sameIntent(comparable(known.intent), comparable(parseIntent(intent))))
      return fail(
        reply,
        409,
        'KEEL_ERR_IDEMPOTENCY_CONFLICT',
        `alert id ${alertKey} was already used for a different alert from ${source}`,
      );
    const result = await keel.submit(intent, { intentId });
    if (takeProfit && result.status !== 'FAILED') {
      // The take-profit is reduce-only: it can only rest once the entry has filled.
      void keel
        .settled(intentId)
        .then(async (settled) => {
          if (settled.status !== 'EXECUTED' || settled.filled_qty <= 0) return;
          await keel.submit(takeProfit(settled.filled_qty), { intentId: `${intentId}.tp`.slice(0, 128) });
        })
        .catch((error: unknown) =>
          deps.logger?.warn({ err: error, intentId }, 'take-profit placement failed'),
        );
    }
    return reply.code(202).send({ intent: result, takeProfit: takeProfit ? 'after fill' : null });
  });

  app.get('/v1/stream', { websocket: true }, (socket) => {
    hub.add(socket);
    socket.send(JSON.stringify({ kind: 'hello', at: deps.now(), version: deps.version }));
  });

  if (deps.dashboardHtml) {
    const html = deps.dashboardHtml;
    const serve = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply
        .type('text/html; charset=utf-8')
        .header(
          'content-security-policy',
          "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:",
        )
        .send(html());
    app.get('/', serve);
    app.get('/dashboard', serve);
  }

  return app;
}

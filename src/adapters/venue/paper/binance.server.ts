/**
 * `keel paper-venue`: the paper venue served over HTTP and WebSocket as a Binance USDⓈ-M futures
 * subset, so any Binance client (keel's ccxt adapter among them) can trade it without risking money.
 * Invariants: signed endpoints verify the API key, the HMAC-SHA256 signature over query + body
 * (compared in constant time) and the timestamp against recvWindow, as Binance does, and a
 * request that fails any check changes nothing; refusals carry Binance's real HTTP status,
 * code and message; request weight and order counts are reported in Binance's headers and
 * enforced with 429, then 418 for a client that keeps going; a venue timeout is a dropped
 * connection, never an answer; the user stream only goes silent the ways Binance's does
 * (dropped socket, expired listenKey), never without a sign.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { OrderSide } from '../../../domain/intent.schema.js';
import type { ClockPort } from '../../../ports/clock.port.js';
import type { LoggerPort } from '../../../ports/logger.port.js';
import type { VenueFailure, VenueOrder, VenueResult, VenueStreamMessage } from '../../../ports/venue.port.js';
import { binanceFailure } from './filters.js';
import type { PaperVenue } from './paper.venue.js';
import {
  accountUpdate,
  algoOrderJson,
  algoStatusOf,
  decimal,
  orderTradeUpdate,
  orderTypeOf,
  plainOrderJson,
  positionRiskJson,
  tradeNumber,
  userTradeJson,
  algoUpdate,
} from './binance.wire.js';

export interface PaperVenueServerOptions {
  venue: PaperVenue;
  apiKey: string;
  apiSecret: string;
  /** Wall clock for timestamps, listen keys and rate windows (the venue's own clock may be simulated). */
  wallClock: ClockPort;
  /** Default 127.0.0.1: the paper venue is for this machine. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Added to the server's time, to play a venue whose clock differs from the caller's. */
  clockOffsetMs?: number;
  /** Binance's limits: 2400 request weight per minute, 300 orders per 10 s and 1200 per minute. */
  limits?: { requestWeightPerMinute?: number; ordersPer10s?: number; ordersPerMinute?: number };
  /** A listenKey lives this long after its last keepalive (default 60 minutes). */
  listenKeyTtlMs?: number;
  /** The server drops a user-stream connection after this long (default 24 hours, as Binance). */
  maxConnectionMs?: number;
  logger?: LoggerPort;
}

export interface PaperVenueServer {
  /** `http://host:port`; REST paths are Binance's (`/fapi/v1/order`). */
  readonly url: string;
  /** `ws://host:port`; the user stream is at `/private/ws/<listenKey>` (and the legacy `/ws/<listenKey>`). */
  readonly wsUrl: string;
  readonly port: number;
  /** Drops every user-stream connection, as a network cut would. */
  dropStreams(): void;
  /** Expires every listenKey now, pushing `listenKeyExpired` as Binance does. */
  expireListenKeys(): void;
  /** Moves the server's clock by `ms` from the wall clock (clock-skew tests). */
  setClockOffset(ms: number): void;
  close(): Promise<void>;
}

type Security = 'NONE' | 'USER_STREAM' | 'SIGNED';
type Params = Record<string, string>;

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** The venue timed out: the connection is dropped without an answer. */
  drop?: boolean;
}

interface ListenKey {
  key: string;
  expiresAt: number;
  sockets: Set<WebSocket>;
}

const RECV_WINDOW_DEFAULT = 5_000;
const RECV_WINDOW_MAX = 60_000;
const BAN_AFTER_VIOLATIONS = 3;
const BAN_MS = 120_000;
const MINUTE = 60_000;
const TEN_SECONDS = 10_000;

const boolParam = z.enum(['true', 'false']).transform((value) => value === 'true');
const decimalParam = z
  .string()
  .regex(/^\d+(\.\d+)?$/)
  .transform(Number);
const sideParam = z.enum(['BUY', 'SELL']);
const idParam = z.string().regex(/^\d+$/);
const clientIdParam = z.string().min(1).max(36);

const newOrderSchema = z.object({
  symbol: z.string().min(1),
  side: sideParam,
  type: z.string().min(1),
  positionSide: z.string().optional(),
  timeInForce: z.enum(['GTC', 'IOC', 'FOK', 'GTX']).optional(),
  quantity: decimalParam.optional(),
  price: decimalParam.optional(),
  reduceOnly: boolParam.optional(),
  newClientOrderId: clientIdParam.optional(),
  newOrderRespType: z.enum(['ACK', 'RESULT']).optional(),
});

const newAlgoOrderSchema = z.object({
  algoType: z.literal('CONDITIONAL'),
  symbol: z.string().min(1),
  side: sideParam,
  type: z.string().min(1),
  positionSide: z.string().optional(),
  quantity: decimalParam.optional(),
  triggerPrice: decimalParam,
  closePosition: boolParam.optional(),
  reduceOnly: boolParam.optional(),
  clientAlgoId: clientIdParam.optional(),
  workingType: z.enum(['MARK_PRICE', 'CONTRACT_PRICE']).optional(),
  timeInForce: z.string().optional(),
  priceProtect: boolParam.optional(),
});

const orderRefSchema = z.object({
  symbol: z.string().min(1),
  orderId: idParam.optional(),
  origClientOrderId: clientIdParam.optional(),
});

const algoRefSchema = z.object({
  algoId: idParam.optional(),
  clientAlgoId: clientIdParam.optional(),
});

const amendSchema = z.object({
  symbol: z.string().min(1),
  side: sideParam,
  orderId: idParam.optional(),
  origClientOrderId: clientIdParam.optional(),
  quantity: decimalParam,
  price: decimalParam,
});

const priceSchema = z.object({ symbol: z.string().min(1), price: decimalParam.refine((value) => value > 0) });

const tradesSchema = z.object({
  symbol: z.string().min(1),
  startTime: z.string().regex(/^\d+$/).transform(Number).optional(),
  endTime: z.string().regex(/^\d+$/).transform(Number).optional(),
  limit: z.string().regex(/^\d+$/).transform(Number).optional(),
});

/**
 * Starts the server on loopback.
 *
 * @example
 * const server = await startPaperVenueServer({ venue, apiKey: 'k', apiSecret: 's', wallClock: systemClock });
 * // point ccxt's binanceusdm at server.url, the user stream at server.wsUrl
 */
export async function startPaperVenueServer(options: PaperVenueServerOptions): Promise<PaperVenueServer> {
  const { venue, wallClock } = options;
  let offsetMs = options.clockOffsetMs ?? 0;
  const now = (): number => wallClock.now() + offsetMs;
  const limits = {
    weight: options.limits?.requestWeightPerMinute ?? 2_400,
    orders10s: options.limits?.ordersPer10s ?? 300,
    orders1m: options.limits?.ordersPerMinute ?? 1_200,
  };
  const ttl = options.listenKeyTtlMs ?? 60 * MINUTE;
  const maxConnectionMs = options.maxConnectionMs ?? 24 * 60 * MINUTE;
  const listenKeys = new Map<string, ListenKey>();
  const allSockets = new Set<WebSocket>();
  const budget = { minute: -1, weight: 0, orderMinute: -1, orders1m: 0, tenSec: -1, orders10s: 0 };
  let violations = 0;
  let bannedUntil = 0;
  let autoOrderIds = 0;
  /** Cumulative filled quantity per engine order, as the stream reports it (z). */
  const cumulative = new Map<string, number>();

  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  await app.register(websocket, { options: { maxPayload: 4 * 1024 } });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, body),
  );
  // Binance clients sometimes post an empty JSON body to keyless endpoints (listenKey).
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );

  // ── rate limits ──────────────────────────────────────────────────────────────────────────
  function spend(weight: number, order: boolean): { refused: Answer } | { headers: Record<string, string> } {
    const at = now();
    if (at < bannedUntil) {
      return refuse(binanceFailure(-1003, 418, `Way too many requests; IP banned until ${bannedUntil}.`), {
        'Retry-After': String(Math.ceil((bannedUntil - at) / 1000)),
      });
    }
    const minute = Math.floor(at / MINUTE);
    if (minute !== budget.minute) {
      budget.minute = minute;
      budget.weight = 0;
      violations = 0;
    }
    const untilNextMinute = String(Math.max(1, Math.ceil(((minute + 1) * MINUTE - at) / 1000)));
    if (budget.weight + weight > limits.weight) {
      violations += 1;
      if (violations > BAN_AFTER_VIOLATIONS) {
        bannedUntil = at + BAN_MS;
        return refuse(binanceFailure(-1003, 418, `Way too many requests; IP banned until ${bannedUntil}.`), {
          'Retry-After': String(BAN_MS / 1000),
        });
      }
      return refuse(
        binanceFailure(
          -1003,
          429,
          `Too many requests; current limit of IP(127.0.0.1) request weight per minute is ${limits.weight}. Please use WebSocket Streams for live updates to avoid polling the API.`,
        ),
        { 'Retry-After': untilNextMinute, 'X-MBX-USED-WEIGHT-1M': String(budget.weight) },
      );
    }
    budget.weight += weight;
    const headers: Record<string, string> = { 'X-MBX-USED-WEIGHT-1M': String(budget.weight) };
    if (!order) return { headers };
    if (minute !== budget.orderMinute) {
      budget.orderMinute = minute;
      budget.orders1m = 0;
    }
    const tenSec = Math.floor(at / TEN_SECONDS);
    if (tenSec !== budget.tenSec) {
      budget.tenSec = tenSec;
      budget.orders10s = 0;
    }
    if (budget.orders10s + 1 > limits.orders10s || budget.orders1m + 1 > limits.orders1m) {
      const per = budget.orders10s + 1 > limits.orders10s ? '10S' : '1M';
      const retry =
        per === '10S'
          ? String(Math.max(1, Math.ceil(((tenSec + 1) * TEN_SECONDS - at) / 1000)))
          : untilNextMinute;
      return refuse(
        binanceFailure(
          -1015,
          429,
          `Too many new orders; current limit is ${per === '10S' ? limits.orders10s : limits.orders1m} orders per ${per === '10S' ? 'TEN_SECONDS' : 'MINUTE'}.`,
        ),
        { ...headers, 'Retry-After': retry },
      );
    }
    budget.orders10s += 1;
    budget.orders1m += 1;
    return {
      headers: {
        ...headers,
        'X-MBX-ORDER-COUNT-10S': String(budget.orders10s),
        'X-MBX-ORDER-COUNT-1M': String(budget.orders1m),
      },
    };
  }

  // ── authentication ───────────────────────────────────────────────────────────────────────
  function checkKey(request: FastifyRequest): Answer | undefined {
    const key = request.headers['x-mbx-apikey'];
    if (typeof key !== 'string' || key.length === 0) return refusal(binanceFailure(-2014, 401));
    if (!sameText(key, options.apiKey)) return refusal(binanceFailure(-2015, 401));
    return undefined;
  }

  function checkSignature(rawQuery: string, rawBody: string, params: Params): Answer | undefined {
    const signature = params.signature;
    if (signature === undefined) {
      return refusal(
        binanceFailure(
          -1102,
          400,
          "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
        ),
      );
    }
    // Binance signs the query string followed directly by the body, each without the signature.
    const payload = stripSignature(rawQuery) + stripSignature(rawBody);
    const expected = createHmac('sha256', options.apiSecret).update(payload).digest('hex');
    if (!sameText(signature.toLowerCase(), expected)) return refusal(binanceFailure(-1022, 400));
    const timestamp = Number(params.timestamp);
    if (params.timestamp === undefined || !Number.isInteger(timestamp)) {
      return refusal(
        binanceFailure(
          -1102,
          400,
          "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        ),
      );
    }
    const recvWindow = params.recvWindow === undefined ? RECV_WINDOW_DEFAULT : Number(params.recvWindow);
    if (!Number.isFinite(recvWindow) || recvWindow <= 0 || recvWindow > RECV_WINDOW_MAX) {
      return refusal(binanceFailure(-1131, 400, 'recvWindow must be less than 60000'));
    }
    const serverTime = now();
    if (!(timestamp < serverTime + 1_000 && serverTime - timestamp <= recvWindow)) {
      return refusal(binanceFailure(-1021, 400));
    }
    return undefined;
  }

  // ── routes ──────────────────────────────────────────────────────────────────────────────
  interface Route {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    path: string;
    security: Security;
    weight: number;
    order?: boolean;
    handle(params: Params): Promise<Answer> | Answer;
  }

  const routes: Route[] = [
    { method: 'GET', path: '/fapi/v1/ping', security: 'NONE', weight: 1, handle: () => ok({}) },
    {
      method: 'GET',
      path: '/fapi/v1/time',
      security: 'NONE',
      weight: 1,
      handle: () => ok({ serverTime: now() }),
    },
    {
      method: 'GET',
      path: '/fapi/v1/exchangeInfo',
      security: 'NONE',
      weight: 1,
      handle: () => ok(exchangeInfo()),
    },
    {
      method: 'GET',
      path: '/fapi/v1/ticker/price',
      security: 'NONE',
      weight: 1,
      handle: (params) => {
        const rows = venue
          .listing()
          .filter((entry) => params.symbol === undefined || entry.symbol === params.symbol)
          .map((entry) => ({ symbol: entry.symbol, price: decimal(entry.price), time: now() }));
        if (params.symbol !== undefined) return rows[0] ? ok(rows[0]) : refusal(binanceFailure(-1121));
        return ok(rows);
      },
    },
    { method: 'POST', path: '/fapi/v1/order', security: 'SIGNED', weight: 0, order: true, handle: newOrder },
    { method: 'GET', path: '/fapi/v1/order', security: 'SIGNED', weight: 1, handle: queryOrder },
    { method: 'DELETE', path: '/fapi/v1/order', security: 'SIGNED', weight: 1, handle: cancelOrder },
    { method: 'PUT', path: '/fapi/v1/order', security: 'SIGNED', weight: 1, order: true, handle: amendOrder },
    { method: 'GET', path: '/fapi/v1/openOrders', security: 'SIGNED', weight: 1, handle: openOrders },
    {
      method: 'POST',
      path: '/fapi/v1/algoOrder',
      security: 'SIGNED',
      weight: 0,
      order: true,
      handle: newAlgoOrder,
    },
    { method: 'GET', path: '/fapi/v1/algoOrder', security: 'SIGNED', weight: 1, handle: queryAlgoOrder },
    { method: 'DELETE', path: '/fapi/v1/algoOrder', security: 'SIGNED', weight: 1, handle: cancelAlgoOrder },
    { method: 'GET', path: '/fapi/v1/openAlgoOrders', security: 'SIGNED', weight: 1, handle: openAlgoOrders },
    { method: 'GET', path: '/fapi/v1/allAlgoOrders', security: 'SIGNED', weight: 5, handle: allAlgoOrders },
    { method: 'GET', path: '/fapi/v1/userTrades', security: 'SIGNED', weight: 5, handle: userTrades },
    { method: 'GET', path: '/fapi/v2/positionRisk', security: 'SIGNED', weight: 5, handle: positionRisk },
    { method: 'GET', path: '/fapi/v3/positionRisk', security: 'SIGNED', weight: 5, handle: positionRisk },
    {
      method: 'GET',
      path: '/fapi/v1/leverageBracket',
      security: 'SIGNED',
      weight: 1,
      handle: (params) => {
        // One bracket per symbol: the paper venue has no tiered margin, but clients (ccxt's
        // fetchPositions) read the brackets before positions.
        const rows = venue
          .listing()
          .filter((entry) => params.symbol === undefined || entry.symbol === params.symbol)
          .map((entry) => ({
            symbol: entry.symbol,
            brackets: [
              {
                bracket: 1,
                initialLeverage: 125,
                notionalCap: 1_000_000_000,
                notionalFloor: 0,
                maintMarginRatio: 0.004,
                cum: 0,
              },
            ],
          }));
        if (params.symbol !== undefined && rows.length === 0) return refusal(binanceFailure(-1121));
        return ok(rows);
      },
    },
    { method: 'GET', path: '/fapi/v2/account', security: 'SIGNED', weight: 5, handle: account },
    { method: 'GET', path: '/fapi/v3/account', security: 'SIGNED', weight: 5, handle: account },
    { method: 'GET', path: '/fapi/v2/balance', security: 'SIGNED', weight: 5, handle: balance },
    { method: 'GET', path: '/fapi/v3/balance', security: 'SIGNED', weight: 5, handle: balance },
    {
      method: 'GET',
      path: '/fapi/v1/positionSide/dual',
      security: 'SIGNED',
      weight: 30,
      handle: () => ok({ dualSidePosition: false }),
    },
    // Paper-only controls, signed like trading calls: move the market, cut the user streams.
    { method: 'POST', path: '/paper/v1/price', security: 'SIGNED', weight: 1, handle: movePrice },
    {
      method: 'POST',
      path: '/paper/v1/streams/drop',
      security: 'SIGNED',
      weight: 1,
      handle: () => {
        dropStreams();
        return ok({});
      },
    },
    {
      method: 'POST',
      path: '/fapi/v1/listenKey',
      security: 'USER_STREAM',
      weight: 1,
      handle: createListenKey,
    },
    {
      method: 'PUT',
      path: '/fapi/v1/listenKey',
      security: 'USER_STREAM',
      weight: 1,
      handle: keepAliveListenKey,
    },
    {
      method: 'DELETE',
      path: '/fapi/v1/listenKey',
      security: 'USER_STREAM',
      weight: 1,
      handle: closeListenKey,
    },
  ];

  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.path,
      handler: async (request, reply) => {
        const answer = await serve(route, request);
        await send(request, reply, answer);
      },
    });
  }

  async function serve(route: Route, request: FastifyRequest): Promise<Answer> {
    const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const rawBody = typeof request.body === 'string' ? request.body : '';
    const params: Params = {};
    // A parameter in both places takes the query string's value, as on Binance.
    for (const [key, value] of new URLSearchParams(rawBody)) params[key] = value;
    for (const [key, value] of new URLSearchParams(rawQuery)) params[key] = value;
    if (route.security !== 'NONE') {
      const refused = checkKey(request);
      if (refused) return refused;
    }
    if (route.security === 'SIGNED') {
      const refused = checkSignature(rawQuery, rawBody, params);
      if (refused) return refused;
    }
    const spent = spend(route.weight || 1, route.order === true);
    if ('refused' in spent) return spent.refused;
    const { headers } = spent;
    const { signature: _signature, timestamp: _timestamp, recvWindow: _recvWindow, ...rest } = params;
    const answer = await route.handle(rest);
    return { ...answer, headers: { ...headers, ...answer.headers } };
  }

  async function send(request: FastifyRequest, reply: FastifyReply, answer: Answer): Promise<void> {
    if (answer.drop) {
      // The venue "timed out": the caller gets no answer at all, as when a connection dies.
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    for (const [name, value] of Object.entries(answer.headers ?? {})) void reply.header(name, value);
    await reply.code(answer.status).send(answer.body);
  }

  // ── handlers ────────────────────────────────────────────────────────────────────────────
  async function newOrder(params: Params): Promise<Answer> {
    const parsed = parse(newOrderSchema, params);
    if (!parsed.ok) return parsed.answer;
    const request = parsed.value;
    const type = orderTypeOf(request.type);
    if (type === 'stop_market' || type === 'take_profit_market' || isAlgoOnlyType(request.type)) {
      // Since 2025-12-09 conditional orders go through the algo order API only.
      return refusal(binanceFailure(-4120));
    }
    if (type === undefined) return refusal(binanceFailure(-1116));
    const sideRefused = positionSideRefusal(request.positionSide);
    if (sideRefused) return sideRefused;
    if (type === 'limit' && request.timeInForce === undefined) {
      return refusal(
        binanceFailure(
          -1102,
          400,
          "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        ),
      );
    }
    const clientOrderId = request.newClientOrderId ?? `paper-${now()}-${++autoOrderIds}`;
    const result = await venue.submit({
      clientOrderId,
      symbol: request.symbol,
      side: sideOf(request.side),
      type,
      reduceOnly: request.reduceOnly ?? false,
      closePosition: false,
      ...(request.quantity === undefined ? {} : { qty: request.quantity }),
      ...(request.price === undefined ? {} : { price: request.price }),
      ...(request.timeInForce === undefined ? {} : { timeInForce: request.timeInForce }),
    });
    return answerWith(result, (order) => plainOrderJson(order));
  }

  async function newAlgoOrder(params: Params): Promise<Answer> {
    const parsed = parse(newAlgoOrderSchema, params);
    if (!parsed.ok) return parsed.answer;
    const request = parsed.value;
    const type = orderTypeOf(request.type);
    if (type !== 'stop_market' && type !== 'take_profit_market') return refusal(binanceFailure(-1116));
    const sideRefused = positionSideRefusal(request.positionSide);
    if (sideRefused) return sideRefused;
    const clientOrderId = request.clientAlgoId ?? `paper-${now()}-${++autoOrderIds}`;
    const result = await venue.submit({
      clientOrderId,
      symbol: request.symbol,
      side: sideOf(request.side),
      type,
      stopPrice: request.triggerPrice,
      reduceOnly: request.reduceOnly ?? false,
      closePosition: request.closePosition ?? false,
      ...(request.quantity === undefined ? {} : { qty: request.quantity }),
    });
    return answerWith(result, (order) => algoOrderJson(order));
  }

  function plainRef(
    params: Params,
  ):
    | { ok: true; symbol: string; order: VenueOrder | undefined; child: boolean }
    | { ok: false; answer: Answer } {
    const parsed = parse(orderRefSchema, params);
    if (!parsed.ok) return parsed;
    const { symbol, orderId, origClientOrderId } = parsed.value;
    if (orderId === undefined && origClientOrderId === undefined) {
      return {
        ok: false,
        answer: refusal(
          binanceFailure(
            -1102,
            400,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
          ),
        ),
      };
    }
    if (orderId !== undefined) {
      const found = venue.orderByVenueOrderId(orderId);
      const order = found && found.order.symbol === symbol ? found.order : undefined;
      // An untriggered conditional order is an algo order: the plain endpoints do not know it.
      if (!order || (order.conditional && !found?.triggered))
        return { ok: true, symbol, order: undefined, child: false };
      return { ok: true, symbol, order, child: found?.triggered === true };
    }
    const order = venue.order(symbol, origClientOrderId ?? '');
    if (!order || order.conditional) return { ok: true, symbol, order: undefined, child: false };
    return { ok: true, symbol, order, child: false };
  }

  function queryOrder(params: Params): Answer {
    const ref = plainRef(params);
    if (!ref.ok) return ref.answer;
    if (!ref.order) return refusal(binanceFailure(-2013));
    return ok(plainOrderJson(ref.order, ref.child));
  }

  async function cancelOrder(params: Params): Promise<Answer> {
    const ref = plainRef(params);
    if (!ref.ok) return ref.answer;
    if (!ref.order) return refusal(binanceFailure(-2011));
    const result = await venue.cancel(ref.symbol, ref.order.clientOrderId);
    const child = ref.child;
    return answerWith(result, (order) => plainOrderJson(order, child));
  }

  async function amendOrder(params: Params): Promise<Answer> {
    const parsed = parse(amendSchema, params);
    if (!parsed.ok) return parsed.answer;
    const ref = plainRef(params);
    if (!ref.ok) return ref.answer;
    if (!ref.order || ref.child) return refusal(binanceFailure(-2013));
    if (ref.order.side !== sideOf(parsed.value.side)) return refusal(binanceFailure(-1117));
    const result = await venue.replace({
      clientOrderId: ref.order.clientOrderId,
      symbol: ref.symbol,
      qty: parsed.value.quantity,
      price: parsed.value.price,
    });
    return answerWith(result, (order) => plainOrderJson(order));
  }

  async function openOrders(params: Params): Promise<Answer> {
    const result = await venue.openOrders(params.symbol);
    return answerWith(result, (orders) =>
      orders
        // Untriggered conditional orders are listed by openAlgoOrders only; triggered ones are engine orders.
        .filter((order) => !order.conditional || order.triggeredOrderId !== undefined)
        .map((order) => plainOrderJson(order, order.conditional)),
    );
  }

  function algoRef(
    params: Params,
  ): { ok: true; order: VenueOrder | undefined } | { ok: false; answer: Answer } {
    const parsed = parse(algoRefSchema, params);
    if (!parsed.ok) return parsed;
    const { algoId, clientAlgoId } = parsed.value;
    if (algoId === undefined && clientAlgoId === undefined) {
      return {
        ok: false,
        answer: refusal(
          binanceFailure(
            -1102,
            400,
            "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!",
          ),
        ),
      };
    }
    let order: VenueOrder | undefined;
    if (algoId !== undefined) {
      const found = venue.orderByVenueOrderId(algoId);
      order = found && !found.triggered ? found.order : undefined;
    } else {
      // Algo ids are unique across symbols, so the symbol is optional here, as on Binance.
      const symbols =
        params.symbol === undefined ? venue.listing().map((entry) => entry.symbol) : [params.symbol];
      for (const symbol of symbols) order ??= venue.order(symbol, clientAlgoId ?? '');
    }
    return { ok: true, order: order?.conditional ? order : undefined };
  }

  function queryAlgoOrder(params: Params): Answer {
    const ref = algoRef(params);
    if (!ref.ok) return ref.answer;
    if (!ref.order) return refusal(binanceFailure(-2013));
    return ok(algoOrderJson(ref.order));
  }

  async function cancelAlgoOrder(params: Params): Promise<Answer> {
    const ref = algoRef(params);
    if (!ref.ok) return ref.answer;
    // A triggered algo order is past cancelling: its engine order is cancelled on the plain endpoint.
    if (!ref.order || ref.order.triggeredOrderId !== undefined) return refusal(binanceFailure(-2011));
    const result = await venue.cancel(ref.order.symbol, ref.order.clientOrderId);
    return answerWith(result, (order) => ({
      algoId: Number(order.venueOrderId),
      clientAlgoId: order.clientOrderId,
      code: '200',
      msg: 'success',
    }));
  }

  async function openAlgoOrders(params: Params): Promise<Answer> {
    const result = await venue.openOrders(params.symbol);
    return answerWith(result, (orders) =>
      orders
        .filter((order) => order.conditional && order.triggeredOrderId === undefined)
        .map((order) => algoOrderJson(order)),
    );
  }

  function movePrice(params: Params): Answer {
    const parsed = parse(priceSchema, params);
    if (!parsed.ok) return parsed.answer;
    if (venue.price(parsed.value.symbol) === undefined) return refusal(binanceFailure(-1121));
    venue.setPrice(parsed.value.symbol, parsed.value.price);
    return ok({ symbol: parsed.value.symbol, price: decimal(venue.price(parsed.value.symbol) ?? 0) });
  }

  function allAlgoOrders(params: Params): Answer {
    const parsed = parse(tradesSchema, params);
    if (!parsed.ok) return parsed.answer;
    const { symbol, startTime, limit } = parsed.value;
    const rows = venue
      .groundTruth()
      .orders.filter(
        (order) => order.conditional && order.symbol === symbol && order.updatedAt >= (startTime ?? 0),
      )
      .slice(-Math.min(limit ?? 500, 1_000))
      .map((order) => algoOrderJson(order));
    return ok(rows);
  }

  async function userTrades(params: Params): Promise<Answer> {
    const parsed = parse(tradesSchema, params);
    if (!parsed.ok) return parsed.answer;
    const { symbol, startTime, endTime, limit } = parsed.value;
    const result = await venue.fillsSince(startTime ?? 0, symbol);
    return answerWith(result, (fills) =>
      fills
        .filter((fill) => endTime === undefined || fill.ts <= endTime)
        .slice(0, Math.min(limit ?? 500, 1_000))
        .map((fill) => userTradeJson(fill, venue.orderByVenueOrderId(fill.venueOrderId)?.order)),
    );
  }

  async function positionRisk(params: Params): Promise<Answer> {
    const result = await venue.positions();
    return answerWith(result, (positions) =>
      positions
        .filter((position) => params.symbol === undefined || position.symbol === params.symbol)
        .map(positionRiskJson),
    );
  }

  function wallet(): { balance: number; unrealized: number } {
    const truth = venue.groundTruth();
    const fees = truth.fills.reduce((sum, fill) => sum + fill.fee, 0);
    const realized = truth.positions.reduce((sum, position) => sum + position.realizedPnl, 0);
    return { balance: 10_000 + realized - fees, unrealized: 0 };
  }

  async function account(): Promise<Answer> {
    const positions = await venue.positions();
    if (!positions.ok) return refusal(positions);
    const { balance } = wallet();
    const unrealized = positions.value.reduce((sum, position) => sum + position.unrealizedPnl, 0);
    const asset = {
      asset: 'USDT',
      walletBalance: decimal(balance),
      unrealizedProfit: decimal(unrealized),
      marginBalance: decimal(balance + unrealized),
      availableBalance: decimal(balance + unrealized),
      maxWithdrawAmount: decimal(balance),
      updateTime: now(),
    };
    return ok({
      totalWalletBalance: asset.walletBalance,
      totalUnrealizedProfit: asset.unrealizedProfit,
      totalMarginBalance: asset.marginBalance,
      availableBalance: asset.availableBalance,
      maxWithdrawAmount: asset.maxWithdrawAmount,
      assets: [asset],
      positions: positions.value.map((position) => ({
        symbol: position.symbol,
        positionSide: 'BOTH',
        positionAmt: decimal(position.qty),
        unrealizedProfit: decimal(position.unrealizedPnl),
        notional: decimal(position.qty * position.markPrice),
        updateTime: position.updatedAt,
      })),
    });
  }

  function balance(): Answer {
    const { balance: walletBalance } = wallet();
    return ok([
      {
        accountAlias: 'paper',
        asset: 'USDT',
        balance: decimal(walletBalance),
        crossWalletBalance: decimal(walletBalance),
        crossUnPnl: '0',
        availableBalance: decimal(walletBalance),
        maxWithdrawAmount: decimal(walletBalance),
        marginAvailable: true,
        updateTime: now(),
      },
    ]);
  }

  // ── listen keys and the user stream ──────────────────────────────────────────────────────
  function liveKey(): ListenKey | undefined {
    for (const entry of listenKeys.values()) if (entry.expiresAt > now()) return entry;
    return undefined;
  }

  function createListenKey(): Answer {
    // POST while a key is active returns the same key and extends it.
    const current = liveKey();
    if (current) {
      current.expiresAt = now() + ttl;
      return ok({ listenKey: current.key });
    }
    const key = randomBytes(32).toString('hex');
    listenKeys.set(key, { key, expiresAt: now() + ttl, sockets: new Set() });
    return ok({ listenKey: key });
  }

  function keepAliveListenKey(params: Params): Answer {
    const entry = params.listenKey === undefined ? liveKey() : listenKeys.get(params.listenKey);
    if (!entry || entry.expiresAt <= now()) return refusal(binanceFailure(-1125));
    entry.expiresAt = now() + ttl;
    return ok({ listenKey: entry.key });
  }

  function closeListenKey(params: Params): Answer {
    const entry = params.listenKey === undefined ? liveKey() : listenKeys.get(params.listenKey);
    if (entry) {
      listenKeys.delete(entry.key);
      for (const socket of entry.sockets) socket.close(1000, 'listenKey closed');
    }
    return ok({});
  }

  /** Pushes `listenKeyExpired` to a key's sockets; afterwards nothing more arrives on them. */
  function expire(entry: ListenKey): void {
    listenKeys.delete(entry.key);
    const message = JSON.stringify({ e: 'listenKeyExpired', E: now(), listenKey: entry.key });
    for (const socket of entry.sockets) socket.send(message);
    entry.sockets.clear();
  }

  const expiryTimer = wallClock.setInterval(() => {
    for (const entry of [...listenKeys.values()]) if (entry.expiresAt <= now()) expire(entry);
  }, 1_000);

  const attach = (socket: WebSocket, key: string | undefined): void => {
    const entry = key === undefined ? undefined : listenKeys.get(key);
    if (!entry || entry.expiresAt <= now()) {
      socket.close(4001, 'invalid listenKey');
      return;
    }
    entry.sockets.add(socket);
    allSockets.add(socket);
    const limit = wallClock.setTimeout(
      () => socket.close(1000, 'connection lifetime reached'),
      maxConnectionMs,
    );
    socket.on('close', () => {
      entry.sockets.delete(socket);
      allSockets.delete(socket);
      limit.cancel();
    });
    // The stream carries only server pushes; a client's messages are ignored, as on Binance.
    socket.on('message', () => undefined);
  };

  app.get<{ Params: { key: string } }>('/private/ws/:key', { websocket: true }, (socket, request) =>
    attach(socket, request.params.key),
  );
  app.get<{ Params: { key: string } }>('/ws/:key', { websocket: true }, (socket, request) =>
    attach(socket, request.params.key),
  );
  app.get<{ Querystring: { listenKey?: string } }>('/private/ws', { websocket: true }, (socket, request) =>
    attach(socket, request.query.listenKey),
  );

  function broadcast(payload: Record<string, unknown>): void {
    const text = JSON.stringify(payload);
    for (const entry of listenKeys.values()) {
      if (entry.expiresAt <= now()) continue;
      for (const socket of entry.sockets) socket.send(text);
    }
  }

  function dropStreams(): void {
    for (const socket of [...allSockets]) socket.terminate();
  }

  const subscription = venue.subscribe((message) => onVenueMessage(message));

  function onVenueMessage(message: VenueStreamMessage): void {
    if (message.kind === 'gap') {
      // The paper venue lost messages: on the wire that is a dropped connection.
      dropStreams();
      return;
    }
    const event = message.event;
    const symbol = event.symbol;
    if (symbol === undefined) return;
    const order = venue.order(symbol, event.clientOrderId);
    if (!order) return;
    const ts = event.ts;
    const triggered = order.triggeredOrderId !== undefined;
    const engineKey = order.triggeredOrderId ?? order.venueOrderId;
    const plainUpdate = (
      execution: 'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED' | 'AMENDMENT',
      status: string,
      trade?: { id: number; qty: number; price: number; fee: number },
    ): Record<string, unknown> =>
      orderTradeUpdate({
        order,
        child: order.conditional,
        execution,
        status,
        cumulative: cumulative.get(engineKey) ?? 0,
        ts,
        ...(trade === undefined ? {} : { trade }),
      });
    switch (event.type) {
      case 'venue.order.accepted':
        broadcast(order.conditional ? algoUpdate(order, 'NEW', ts) : plainUpdate('NEW', 'NEW'));
        return;
      case 'venue.order.triggered':
        broadcast(algoUpdate(order, 'TRIGGERED', ts));
        broadcast(plainUpdate('NEW', 'NEW'));
        return;
      case 'venue.order.filled': {
        const before = cumulative.get(engineKey) ?? cumulativeBefore(order, event.trade_id);
        const after = Number(decimal(before + event.qty));
        cumulative.set(engineKey, after);
        const status = after + 1e-12 >= order.qty ? 'FILLED' : 'PARTIALLY_FILLED';
        broadcast(
          plainUpdate('TRADE', status, {
            id: tradeNumber(event.trade_id),
            qty: event.qty,
            price: event.price,
            fee: event.fee?.cost ?? 0,
          }),
        );
        const position = venue.groundTruth().positions.find((each) => each.symbol === symbol);
        if (position) {
          const markPrice = venue.price(symbol) ?? position.entryPrice;
          broadcast(
            accountUpdate(
              { ...position, markPrice, unrealizedPnl: position.qty * (markPrice - position.entryPrice) },
              ts,
            ),
          );
        }
        if (order.conditional && status === 'FILLED') broadcast(algoUpdate(order, 'FINISHED', ts));
        return;
      }
      case 'venue.order.canceled':
      case 'venue.order.expired': {
        const execution = event.type === 'venue.order.canceled' ? 'CANCELED' : 'EXPIRED';
        if (order.conditional && !triggered) {
          broadcast(algoUpdate(order, execution, ts));
          return;
        }
        broadcast(plainUpdate(execution, execution));
        if (order.conditional) broadcast(algoUpdate(order, algoStatusOf(order), ts));
        return;
      }
      case 'venue.order.replaced':
        broadcast(plainUpdate('AMENDMENT', order.status));
        return;
      default:
        return;
    }
  }

  /** The quantity filled before `tradeId`, for an order first seen mid-life (a restarted server). */
  function cumulativeBefore(order: VenueOrder, tradeId: string): number {
    let sum = 0;
    for (const fill of venue.tradesOf(order.symbol, order.clientOrderId)) {
      if (fill.tradeId === tradeId) break;
      sum += fill.qty;
    }
    return sum;
  }

  function exchangeInfo(): Record<string, unknown> {
    return {
      timezone: 'UTC',
      serverTime: now(),
      futuresType: 'U_MARGINED',
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: limits.weight },
        { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: limits.orders1m },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: limits.orders10s },
      ],
      exchangeFilters: [],
      assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
      symbols: venue.listing().map(({ symbol, rules }) => ({
        symbol,
        pair: symbol,
        contractType: 'PERPETUAL',
        deliveryDate: 4_133_404_800_000,
        onboardDate: 1_569_398_400_000,
        status: 'TRADING',
        maintMarginPercent: '2.5000',
        requiredMarginPercent: '5.0000',
        baseAsset: symbol.replace(/USDT$/, ''),
        quoteAsset: 'USDT',
        marginAsset: 'USDT',
        pricePrecision: decimalsOf(rules.tickSize),
        quantityPrecision: decimalsOf(rules.stepSize),
        baseAssetPrecision: 8,
        quotePrecision: 8,
        underlyingType: 'COIN',
        underlyingSubType: [],
        triggerProtect: '0.0500',
        liquidationFee: '0.012500',
        marketTakeBound: '0.05',
        maxMoveOrderLimit: 10_000,
        filters: [
          {
            filterType: 'PRICE_FILTER',
            minPrice: decimal(rules.tickSize),
            maxPrice: '10000000',
            tickSize: decimal(rules.tickSize),
          },
          {
            filterType: 'LOT_SIZE',
            minQty: decimal(rules.minQty),
            maxQty: '1000',
            stepSize: decimal(rules.stepSize),
          },
          {
            filterType: 'MARKET_LOT_SIZE',
            minQty: decimal(rules.minQty),
            maxQty: '1000',
            stepSize: decimal(rules.stepSize),
          },
          { filterType: 'MAX_NUM_ORDERS', limit: 200 },
          { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
          { filterType: 'MIN_NOTIONAL', notional: decimal(rules.minNotional) },
        ],
        // Only the types the paper venue can trade; STOP, TAKE_PROFIT and trailing stops are not.
        orderTypes: ['LIMIT', 'MARKET', 'STOP_MARKET', 'TAKE_PROFIT_MARKET'],
        timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
      })),
    };
  }

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  const host = options.host ?? '127.0.0.1';
  options.logger?.info({ host, port }, 'paper venue serving the Binance USDⓈ-M API');

  return {
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}`,
    port,
    dropStreams,
    expireListenKeys: () => {
      for (const entry of [...listenKeys.values()]) expire(entry);
    },
    setClockOffset: (ms: number) => {
      offsetMs = ms;
    },
    close: async () => {
      expiryTimer.cancel();
      subscription.close();
      dropStreams();
      await app.close();
    },
  };
}

function refuse(failure: VenueFailure, headers: Record<string, string> = {}): { refused: Answer } {
  return { refused: refusal(failure, headers) };
}

function ok(body: unknown): Answer {
  return { status: 200, body };
}

/** A venue refusal on the wire: its status and `{code,msg}`, or no answer at all for a timeout. */
function refusal(failure: VenueFailure, headers: Record<string, string> = {}): Answer {
  if (failure.errno !== undefined && failure.httpStatus === undefined)
    return { status: 0, body: null, drop: true };
  const retry =
    failure.retryAfter === undefined ? {} : { 'Retry-After': String(Math.ceil(failure.retryAfter)) };
  // Binance's 503 "execution status unknown" body carries no code.
  const body =
    failure.code === undefined ? { msg: failure.message } : { code: failure.code, msg: failure.message };
  return { status: failure.httpStatus ?? 400, body, headers: { ...retry, ...headers } };
}

function answerWith<T>(result: VenueResult<T>, render: (value: T) => unknown): Answer {
  return result.ok ? ok(render(result.value)) : refusal(result);
}

/** Parses Binance parameters; a bad one is answered the way Binance names it (-1102 missing, -1100 malformed). */
function parse<T extends z.ZodType>(
  schema: T,
  params: Params,
): { ok: true; value: z.output<T> } | { ok: false; answer: Answer } {
  const result = schema.safeParse(params);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const field = String(issue?.path[0] ?? 'parameter');
  if (field === 'side') return { ok: false, answer: refusal(binanceFailure(-1117)) };
  if (params[field] === undefined || params[field] === '') {
    return {
      ok: false,
      answer: refusal(
        binanceFailure(
          -1102,
          400,
          `Mandatory parameter '${field}' was not sent, was empty/null, or malformed.`,
        ),
      ),
    };
  }
  return {
    ok: false,
    answer: refusal(
      binanceFailure(
        -1100,
        400,
        `Illegal characters found in parameter '${field}'; legal range is '${legalRange(field)}'.`,
      ),
    ),
  };
}

function legalRange(field: string): string {
  if (field === 'newClientOrderId' || field === 'clientAlgoId' || field === 'origClientOrderId') {
    return '^[\\.A-Z\\:/a-z0-9_-]{1,36}$';
  }
  return '^([0-9]{1,20})(\\.[0-9]{1,20})?$';
}

function positionSideRefusal(positionSide: string | undefined): Answer | undefined {
  // The paper account is in one-way mode: only BOTH is accepted.
  if (positionSide === undefined || positionSide === 'BOTH') return undefined;
  return refusal(binanceFailure(-4061));
}

function isAlgoOnlyType(type: string): boolean {
  return ['STOP', 'TAKE_PROFIT', 'TRAILING_STOP_MARKET'].includes(type);
}

function sideOf(side: 'BUY' | 'SELL'): OrderSide {
  return side === 'BUY' ? 'buy' : 'sell';
}

function stripSignature(text: string): string {
  return text.replace(/(^|&)signature=[^&]*/, '');
}

function sameText(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && timingSafeEqual(a, b);
}

function decimalsOf(step: number): number {
  const text = decimal(step);
  return text.includes('.') ? (text.split('.')[1]?.length ?? 0) : 0;
}

/**
 * Binance USDⓈ-M futures through ccxt (`binanceusdm`): keel's reference live venue.
 * ccxt signs, throttles and knows the market rules; this adapter speaks Binance's own endpoints
 * through ccxt's request layer, so what is sent and read is exactly what Binance documents.
 * Invariants: conditional orders go to the algo order API (plain order endpoints refuse them
 * since 2025-12-09, -4120); a triggered algo order's engine order (`actualOrderId`, ALGO_UPDATE
 * `ai`) is linked back to the algo order's clientOrderId on the stream, in queries and in the
 * trade list, so its fills never look foreign; plain and conditional open orders are read from
 * their own endpoints and listed together; a lookup says null only when both books deny the id.
 */
import type { Exchange } from 'ccxt';
import type { OrderSide, OrderType } from '../../../domain/intent.schema.js';
import type { VenueEvent } from '../../../domain/venue-event.schema.js';
import type { ClockPort } from '../../../ports/clock.port.js';
import type { LoggerPort } from '../../../ports/logger.port.js';
import type {
  ReplaceOrder,
  SubmitOrder,
  VenueCapabilities,
  VenueFill,
  VenueOrder,
  VenuePort,
  VenuePosition,
  VenueResult,
  VenueStreamMessage,
  VenueSubscription,
} from '../../../ports/venue.port.js';
import { BINANCE_USDM_LIMITS, type RateBudgetLimits } from '../../../domain/venues/rate-budget.js';
import { CcxtClient, type CallKind } from './ccxt.client.js';
import {
  BinanceUserStream,
  DEFAULT_USER_STREAM_TIMINGS,
  type AlgoUpdate,
  type OrderTradeUpdate,
  type UserStreamStatus,
  type UserStreamTimings,
} from './binance.stream.js';

export const BINANCEUSDM_CAPABILITIES: VenueCapabilities = {
  venue: 'binanceusdm',
  amend: true,
  conditionalOrders: true,
  closePosition: true,
  reduceOnly: true,
  timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
  maxClientOrderIdLength: 36,
  stream: true,
};

/** Binance's hosts: production, and the futures testnet (`sandbox: true`). */
export const BINANCEUSDM_HOSTS = {
  live: { ws: 'wss://fstream.binance.com', streamPath: '/private/ws/{listenKey}' },
  testnet: { ws: 'wss://fstream.binancefuture.com', streamPath: '/ws/{listenKey}' },
} as const;

export interface BinanceUsdmVenueOptions {
  apiKey: string;
  secret: string;
  /** Binance's futures testnet instead of production. */
  sandbox?: boolean;
  /** REST and WebSocket bases replacing Binance's (`keel paper-venue` on loopback). */
  urls?: { rest?: string; ws?: string; streamPath?: string };
  recvWindowMs?: number;
  timeoutMs?: number;
  limits?: Partial<RateBudgetLimits>;
  stream?: Partial<UserStreamTimings>;
  clock: ClockPort;
  logger?: LoggerPort;
}

type Raw = Record<string, unknown>;

/** What the adapter learned about one order of keel's: which book holds it and its engine ids. */
interface Known {
  symbol: string;
  side: OrderSide;
  type: OrderType;
  conditional: boolean;
  clientOrderId: string;
  venueOrderId?: string;
  triggeredOrderId?: string;
}

const CONDITIONAL_TYPES: ReadonlySet<OrderType> = new Set(['stop_market', 'take_profit_market']);
const WIRE_TYPES: Readonly<Record<OrderType, string>> = {
  market: 'MARKET',
  limit: 'LIMIT',
  stop_market: 'STOP_MARKET',
  take_profit_market: 'TAKE_PROFIT_MARKET',
};
const CONDITIONAL_WIRE = new Set([
  'STOP',
  'STOP_MARKET',
  'TAKE_PROFIT',
  'TAKE_PROFIT_MARKET',
  'TRAILING_STOP_MARKET',
]);
/** How long a triggered engine order's events wait for the ALGO_UPDATE that names their algo order. */
const ORPHAN_EVENT_HOLD_MS = 10_000;
const NOT_FOUND = new Set([-2013, -2011]);

export class BinanceUsdmVenue implements VenuePort {
  readonly capabilities = BINANCEUSDM_CAPABILITIES;
  readonly client: CcxtClient;
  private readonly stream: BinanceUserStream;
  private readonly known = new Map<string, Known>();
  /** Engine order id → clientOrderId of keel's order (its own id, or the algo order it came from). */
  private readonly byEngineOrderId = new Map<string, string>();
  private readonly listeners = new Set<(message: VenueStreamMessage) => void>();
  /** Engine-order events that arrived before the ALGO_UPDATE naming their algo order. */
  private held: { at: number; update: OrderTradeUpdate }[] = [];
  private readonly symbolsSeen = new Set<string>();

  constructor(private readonly options: BinanceUsdmVenueOptions) {
    this.client = new CcxtClient({
      exchange: 'binanceusdm',
      apiKey: options.apiKey,
      secret: options.secret,
      ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
      ...(options.urls?.rest === undefined ? {} : { restUrl: options.urls.rest }),
      ...(options.recvWindowMs === undefined ? {} : { recvWindowMs: options.recvWindowMs }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      limits: { ...BINANCE_USDM_LIMITS, ...options.limits },
      clock: options.clock,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    const hosts = options.sandbox ? BINANCEUSDM_HOSTS.testnet : BINANCEUSDM_HOSTS.live;
    this.stream = new BinanceUserStream({
      wsBase: options.urls?.ws ?? hosts.ws,
      pathTemplate: options.urls?.streamPath ?? hosts.streamPath,
      clock: options.clock,
      timings: { ...DEFAULT_USER_STREAM_TIMINGS, ...options.stream },
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      api: {
        create: async () => {
          const answer = await this.request<Raw>('read', 'fapiPrivate', 'POST', 'listenKey', {});
          return answer.ok ? { ok: true, value: text(answer.value.listenKey) } : answer;
        },
        keepAlive: (listenKey) => this.request('read', 'fapiPrivate', 'PUT', 'listenKey', { listenKey }),
        close: (listenKey) => this.request('read', 'fapiPrivate', 'DELETE', 'listenKey', { listenKey }),
      },
    });
  }

  /** The user stream's state: connected, last frame, gaps so far (for /readyz). */
  streamStatus(): UserStreamStatus {
    return this.stream.status();
  }

  streamHealth(): UserStreamStatus {
    return this.stream.status();
  }

  /** Drops the user stream as a network failure would; it reconnects and reports the gap. */
  interruptStream(reason?: string): void {
    this.stream.interrupt(reason);
  }

  /** Stops the user stream and releases its listenKey. */
  close(): void {
    this.stream.stop();
    this.listeners.clear();
  }

  // ── orders ──────────────────────────────────────────────────────────────────────────────

  async submit(order: SubmitOrder): Promise<VenueResult<VenueOrder>> {
    const conditional = CONDITIONAL_TYPES.has(order.type);
    this.remember({
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      conditional,
      clientOrderId: order.clientOrderId,
    });
    this.symbolsSeen.add(order.symbol);
    const side = order.side.toUpperCase();
    if (conditional) {
      const params: Raw = {
        algoType: 'CONDITIONAL',
        symbol: order.symbol,
        side,
        type: WIRE_TYPES[order.type],
        triggerPrice: this.price(order.symbol, order.stopPrice ?? 0),
        clientAlgoId: order.clientOrderId,
        workingType: 'CONTRACT_PRICE',
        ...(order.closePosition
          ? { closePosition: 'true' }
          : { quantity: this.amount(order.qty ?? 0), ...(order.reduceOnly ? { reduceOnly: 'true' } : {}) }),
      };
      const answer = await this.request<Raw>('order', 'fapiPrivate', 'POST', 'algoOrder', params);
      return answer.ok ? { ok: true, value: this.fromAlgo(answer.value) } : answer;
    }
    const params: Raw = {
      symbol: order.symbol,
      side,
      type: WIRE_TYPES[order.type],
      quantity: this.amount(order.qty ?? 0),
      newClientOrderId: order.clientOrderId,
      // RESULT: a market or IOC order comes back with its final state, not just an acknowledgement.
      newOrderRespType: 'RESULT',
      ...(order.reduceOnly ? { reduceOnly: 'true' } : {}),
      ...(order.type === 'limit'
        ? { price: this.amount(order.price ?? 0), timeInForce: order.timeInForce ?? 'GTC' }
        : {}),
    };
    const answer = await this.request<Raw>('order', 'fapiPrivate', 'POST', 'order', params);
    return answer.ok ? { ok: true, value: this.fromPlain(answer.value) } : answer;
  }

  async cancel(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder>> {
    const known = this.known.get(clientOrderId);
    if (known?.conditional !== true) {
      const plain = await this.request<Raw>('read', 'fapiPrivate', 'DELETE', 'order', {
        symbol,
        origClientOrderId: clientOrderId,
      });
      if (plain.ok) return { ok: true, value: this.fromPlain(plain.value) };
      if (known !== undefined || !NOT_FOUND.has(Number(plain.code))) return plain;
    }
    const algo = await this.request<Raw>('read', 'fapiPrivate', 'DELETE', 'algoOrder', {
      clientAlgoId: clientOrderId,
    });
    if (algo.ok) {
      const after = await this.queryAlgo(symbol, clientOrderId);
      if (after.ok && after.value) return { ok: true, value: { ...after.value, status: 'CANCELED' } };
      return { ok: true, value: this.canceledView(symbol, clientOrderId, algo.value) };
    }
    if (!NOT_FOUND.has(Number(algo.code))) return algo;
    // A triggered algo order is cancelled through its engine order, which the plain book holds.
    const found = await this.queryAlgo(symbol, clientOrderId);
    if (found.ok && found.value?.triggeredOrderId !== undefined) {
      const child = await this.request<Raw>('read', 'fapiPrivate', 'DELETE', 'order', {
        symbol,
        orderId: found.value.triggeredOrderId,
      });
      if (child.ok) return { ok: true, value: { ...found.value, status: 'CANCELED' } };
      return child;
    }
    return algo;
  }

  async replace(order: ReplaceOrder): Promise<VenueResult<VenueOrder>> {
    let side = this.known.get(order.clientOrderId)?.side;
    if (side === undefined) {
      const found = await this.queryOrder(order.symbol, order.clientOrderId);
      if (!found.ok) return found;
      if (!found.value) return { ok: false, httpStatus: 400, code: -2013, message: 'Order does not exist.' };
      side = found.value.side;
    }
    const answer = await this.request<Raw>('order', 'fapiPrivate', 'PUT', 'order', {
      symbol: order.symbol,
      origClientOrderId: order.clientOrderId,
      side: side.toUpperCase(),
      quantity: this.amount(order.qty),
      ...(order.price === undefined ? {} : { price: this.amount(order.price) }),
    });
    return answer.ok ? { ok: true, value: this.fromPlain(answer.value) } : answer;
  }

  async queryOrder(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder | null>> {
    const known = this.known.get(clientOrderId);
    const books = known?.conditional === true ? (['algo', 'plain'] as const) : (['plain', 'algo'] as const);
    for (const book of books) {
      const found =
        book === 'plain'
          ? await this.queryPlain(symbol, clientOrderId)
          : await this.queryAlgo(symbol, clientOrderId);
      if (!found.ok || found.value !== null) return found;
    }
    return { ok: true, value: null };
  }

  async openOrders(symbol?: string): Promise<VenueResult<VenueOrder[]>> {
    const params: Raw = symbol === undefined ? {} : { symbol };
    // Binance keeps conditional orders in their own book: both are read, and reconciled separately.
    const plain = await this.request<Raw[]>('read', 'fapiPrivate', 'GET', 'openOrders', params);
    if (!plain.ok) return plain;
    const algo = await this.request<Raw[]>('read', 'fapiPrivate', 'GET', 'openAlgoOrders', params);
    if (!algo.ok) return algo;
    const conditional = algo.value.map((row) => this.fromAlgo(row));
    const orders: VenueOrder[] = [...conditional];
    for (const row of plain.value) {
      const engineId = text(row.orderId);
      const parent = this.byEngineOrderId.get(engineId);
      const parentKnown = parent === undefined ? undefined : this.known.get(parent);
      if (parentKnown?.conditional) {
        // A triggered stop still working: listed as keel's stop, with the engine order's progress.
        orders.push({
          ...this.fromPlain(row, false),
          clientOrderId: parentKnown.clientOrderId,
          type: parentKnown.type,
          conditional: true,
          triggeredOrderId: engineId,
          ...(parentKnown.venueOrderId === undefined ? {} : { venueOrderId: parentKnown.venueOrderId }),
        });
        continue;
      }
      orders.push(this.fromPlain(row));
    }
    return { ok: true, value: orders };
  }

  async positions(): Promise<VenueResult<VenuePosition[]>> {
    const answer = await this.request<Raw[]>('read', 'fapiPrivateV3', 'GET', 'positionRisk', {});
    if (!answer.ok) return answer;
    const positions: VenuePosition[] = [];
    for (const row of answer.value) {
      const qty = Number(row.positionAmt);
      if (!Number.isFinite(qty) || qty === 0) continue;
      positions.push({
        symbol: text(row.symbol),
        qty,
        entryPrice: Number(row.entryPrice),
        // positionRisk does not carry realised PnL; keel books its own from fills.
        realizedPnl: 0,
        unrealizedPnl: Number(row.unRealizedProfit),
        markPrice: Number(row.markPrice),
        updatedAt: Number(row.updateTime) || this.options.clock.now(),
      });
    }
    return { ok: true, value: positions };
  }

  async fillsSince(sinceTs: number, symbol?: string): Promise<VenueResult<VenueFill[]>> {
    // userTrades needs a symbol: without one, every symbol keel traded or holds is read.
    let symbols: string[];
    if (symbol !== undefined) symbols = [symbol];
    else {
      const held = await this.positions();
      if (!held.ok) return held;
      symbols = [...new Set([...this.symbolsSeen, ...held.value.map((position) => position.symbol)])];
    }
    const fills: VenueFill[] = [];
    for (const each of symbols) {
      const answer = await this.request<Raw[]>('read', 'fapiPrivate', 'GET', 'userTrades', {
        symbol: each,
        startTime: Math.max(0, Math.floor(sinceTs)),
        limit: 1000,
      });
      if (!answer.ok) return answer;
      for (const row of answer.value) {
        const engineId = text(row.orderId);
        const clientOrderId =
          this.byEngineOrderId.get(engineId) ?? (await this.resolveEngineOrder(each, engineId, sinceTs));
        if (clientOrderId === undefined) continue;
        const known = this.known.get(clientOrderId);
        fills.push({
          tradeId: text(row.id),
          clientOrderId,
          venueOrderId: known?.venueOrderId ?? engineId,
          symbol: each,
          side: text(row.side).toLowerCase() === 'buy' ? 'buy' : 'sell',
          qty: Number(row.qty),
          price: Number(row.price),
          fee: Number(row.commission),
          ts: Number(row.time),
        });
      }
    }
    return { ok: true, value: fills };
  }

  subscribe(onMessage: (message: VenueStreamMessage) => void): VenueSubscription {
    this.listeners.add(onMessage);
    this.stream.start({
      onOrderUpdate: (update) => this.onOrderUpdate(update),
      onAlgoUpdate: (update) => this.onAlgoUpdate(update),
      onGap: (reason) => this.publish({ kind: 'gap', reason, ts: this.options.clock.now() }),
    });
    return {
      close: () => {
        this.listeners.delete(onMessage);
        if (this.listeners.size === 0) this.stream.stop();
      },
    };
  }

  // ── the stream ─────────────────────────────────────────────────────────────────────────

  private onOrderUpdate(update: OrderTradeUpdate): void {
    const o = update.o;
    const engineId = String(o.i);
    let clientOrderId = this.byEngineOrderId.get(engineId);
    if (clientOrderId === undefined) {
      const conditionalChild = o.ot !== undefined && CONDITIONAL_WIRE.has(o.ot) && !CONDITIONAL_WIRE.has(o.o);
      if (conditionalChild && !this.known.has(o.c)) {
        // A triggered stop's engine order can speak before the ALGO_UPDATE that names it: hold it.
        this.held.push({ at: this.options.clock.now(), update });
        this.dropStaleHeld();
        return;
      }
      clientOrderId = o.c;
      this.byEngineOrderId.set(engineId, clientOrderId);
    }
    const parent = this.known.get(clientOrderId);
    const linked = parent?.conditional === true && parent.triggeredOrderId === engineId;
    const base = {
      clientOrderId,
      venueOrderId: linked ? (parent.venueOrderId ?? engineId) : engineId,
      venue: this.capabilities.venue,
      symbol: o.s,
      ts: update.E,
    };
    const event = this.eventOf(o, base, linked);
    if (event) this.publish({ kind: 'event', event });
  }

  private eventOf(
    o: OrderTradeUpdate['o'],
    base: { clientOrderId: string; venueOrderId: string; venue: string; symbol: string; ts: number },
    linked: boolean,
  ): VenueEvent | undefined {
    switch (o.x) {
      case 'NEW':
        // A triggered stop's engine order is announced by the algo's TRIGGERED, not as a new order.
        return linked ? undefined : { type: 'venue.order.accepted', ...base };
      case 'TRADE':
      case 'CALCULATED': {
        const qty = Number(o.l);
        const price = Number(o.L);
        if (!(qty > 0) || !(price > 0)) return undefined;
        return {
          type: 'venue.order.filled',
          ...base,
          trade_id: String(o.t),
          qty,
          price,
          ...(o.n === undefined ? {} : { fee: { cost: Number(o.n), currency: o.N ?? 'USDT' } }),
        };
      }
      case 'CANCELED':
        return { type: 'venue.order.canceled', ...base, reason: 'canceled' };
      case 'EXPIRED':
        return { type: 'venue.order.expired', ...base, reason: `expired (reason ${o.er ?? '0'})` };
      case 'AMENDMENT':
        return {
          type: 'venue.order.replaced',
          ...base,
          ...(Number(o.q) > 0 ? { qty: Number(o.q) } : {}),
          ...(Number(o.p) > 0 ? { price: Number(o.p) } : {}),
        };
      default:
        return undefined;
    }
  }

  private onAlgoUpdate(update: AlgoUpdate): void {
    const o = update.o;
    const algoId = String(o.aid);
    const known = this.known.get(o.caid);
    if (known) known.venueOrderId = algoId;
    const base = {
      clientOrderId: o.caid,
      venueOrderId: algoId,
      venue: this.capabilities.venue,
      symbol: o.s,
      ts: update.E,
    };
    switch (o.X) {
      case 'NEW':
        this.publish({ kind: 'event', event: { type: 'venue.order.accepted', ...base } });
        return;
      case 'TRIGGERED': {
        const engineId = o.ai === undefined || o.ai === '' ? undefined : String(o.ai);
        if (engineId !== undefined) this.link(o.caid, engineId, o.s);
        this.publish({
          kind: 'event',
          event: {
            type: 'venue.order.triggered',
            ...base,
            ...(engineId === undefined ? {} : { triggeredOrderId: engineId }),
          },
        });
        if (engineId !== undefined) this.releaseHeld(engineId);
        return;
      }
      case 'CANCELED':
        this.publish({ kind: 'event', event: { type: 'venue.order.canceled', ...base, reason: 'canceled' } });
        return;
      case 'EXPIRED':
      case 'REJECTED':
        this.publish({
          kind: 'event',
          event: {
            type: 'venue.order.expired',
            ...base,
            reason: `algo order ${o.X.toLowerCase()}${o.rm ? `: ${o.rm}` : ''}`,
          },
        });
        return;
      default:
        // TRIGGERING is on its way; FINISHED is told by the engine order's own events.
        return;
    }
  }

  private link(clientOrderId: string, engineId: string, symbol: string): void {
    this.byEngineOrderId.set(engineId, clientOrderId);
    const known = this.known.get(clientOrderId);
    if (known) known.triggeredOrderId = engineId;
    else
      this.remember({
        symbol,
        side: 'sell',
        type: 'stop_market',
        conditional: true,
        clientOrderId,
        triggeredOrderId: engineId,
      });
  }

  private releaseHeld(engineId: string): void {
    const ready = this.held.filter((entry) => String(entry.update.o.i) === engineId);
    this.held = this.held.filter((entry) => String(entry.update.o.i) !== engineId);
    for (const entry of ready) this.onOrderUpdate(entry.update);
  }

  private dropStaleHeld(): void {
    const cutoff = this.options.clock.now() - ORPHAN_EVENT_HOLD_MS;
    const stale = this.held.filter((entry) => entry.at < cutoff);
    if (stale.length === 0) return;
    this.held = this.held.filter((entry) => entry.at >= cutoff);
    // Their fills are on REST; a gap makes the consumer read them there.
    this.publish({
      kind: 'gap',
      reason: `${stale.length} triggered-order events never linked to an algo order`,
      ts: this.options.clock.now(),
    });
  }

  private publish(message: VenueStreamMessage): void {
    for (const listener of [...this.listeners]) listener(message);
  }

  // ── REST helpers ───────────────────────────────────────────────────────────────────────

  private request<T>(
    kind: CallKind,
    api: string,
    method: string,
    path: string,
    params: Raw,
  ): Promise<VenueResult<T>> {
    return this.client.call(
      kind,
      async (exchange: Exchange) => (await exchange.request(path, api, method, params)) as T,
    );
  }

  private async queryPlain(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder | null>> {
    const answer = await this.request<Raw>('read', 'fapiPrivate', 'GET', 'order', {
      symbol,
      origClientOrderId: clientOrderId,
    });
    if (answer.ok) return { ok: true, value: this.fromPlain(answer.value) };
    return NOT_FOUND.has(Number(answer.code)) ? { ok: true, value: null } : answer;
  }

  private async queryAlgo(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder | null>> {
    const answer = await this.request<Raw>('read', 'fapiPrivate', 'GET', 'algoOrder', {
      clientAlgoId: clientOrderId,
    });
    if (!answer.ok) return NOT_FOUND.has(Number(answer.code)) ? { ok: true, value: null } : answer;
    const order = this.fromAlgo(answer.value);
    if (order.symbol !== symbol) return { ok: true, value: null };
    if (order.triggeredOrderId === undefined) return { ok: true, value: order };
    // Triggered: the engine order tells how much filled and whether it is done.
    const child = await this.request<Raw>('read', 'fapiPrivate', 'GET', 'order', {
      symbol,
      orderId: order.triggeredOrderId,
    });
    if (!child.ok) return NOT_FOUND.has(Number(child.code)) ? { ok: true, value: order } : child;
    const engine = this.fromPlain(child.value, false);
    return {
      ok: true,
      value: {
        ...order,
        status: engine.status,
        qty: engine.qty > 0 ? engine.qty : order.qty,
        filledQty: engine.filledQty,
        ...(engine.avgFillPrice === undefined ? {} : { avgFillPrice: engine.avgFillPrice }),
        updatedAt: engine.updatedAt,
      },
    };
  }

  /** The clientOrderId behind an engine order keel has not seen: its own, or its algo order's. */
  private async resolveEngineOrder(
    symbol: string,
    engineId: string,
    sinceTs: number,
  ): Promise<string | undefined> {
    const answer = await this.request<Raw>('read', 'fapiPrivate', 'GET', 'order', {
      symbol,
      orderId: engineId,
    });
    if (!answer.ok) return undefined;
    const origType = text(answer.value.origType ?? answer.value.type);
    if (CONDITIONAL_WIRE.has(origType) && !CONDITIONAL_WIRE.has(text(answer.value.type))) {
      const algos = await this.request<Raw[]>('read', 'fapiPrivate', 'GET', 'allAlgoOrders', {
        symbol,
        startTime: Math.max(0, Math.floor(sinceTs) - 7 * 24 * 3_600_000),
      });
      if (!algos.ok) return undefined;
      for (const row of algos.value) {
        if (text(row.actualOrderId) === engineId) {
          const algo = this.fromAlgo(row);
          this.link(algo.clientOrderId, engineId, symbol);
          return algo.clientOrderId;
        }
      }
      return undefined;
    }
    const clientOrderId = text(answer.value.clientOrderId);
    this.byEngineOrderId.set(engineId, clientOrderId);
    return clientOrderId;
  }

  private fromPlain(row: Raw, learn = true): VenueOrder {
    const clientOrderId = text(row.clientOrderId);
    const venueOrderId = text(row.orderId);
    const type = typeOf(text(row.origType ?? row.type));
    const order: VenueOrder = {
      clientOrderId,
      venueOrderId,
      symbol: text(row.symbol),
      side: text(row.side) === 'BUY' ? 'buy' : 'sell',
      type,
      status: statusOf(text(row.status)),
      qty: Number(row.origQty),
      filledQty: Number(row.executedQty),
      reduceOnly: row.reduceOnly === true,
      closePosition: row.closePosition === true,
      conditional: false,
      updatedAt: Number(row.updateTime ?? row.time) || this.options.clock.now(),
      ...positive('price', row.price),
      ...positive('stopPrice', row.stopPrice),
      ...positive('avgFillPrice', row.avgPrice),
    };
    if (learn) {
      this.byEngineOrderId.set(venueOrderId, clientOrderId);
      const known = this.known.get(clientOrderId);
      if (known && !known.conditional) known.venueOrderId = venueOrderId;
    }
    return order;
  }

  private fromAlgo(row: Raw): VenueOrder {
    const clientOrderId = text(row.clientAlgoId);
    const algoId = text(row.algoId);
    const actual =
      row.actualOrderId === undefined || row.actualOrderId === '' || row.actualOrderId === null
        ? undefined
        : text(row.actualOrderId);
    const status = text(row.algoStatus);
    const order: VenueOrder = {
      clientOrderId,
      venueOrderId: algoId,
      symbol: text(row.symbol),
      side: text(row.side) === 'BUY' ? 'buy' : 'sell',
      type: typeOf(text(row.orderType)),
      status:
        status === 'CANCELED'
          ? 'CANCELED'
          : status === 'EXPIRED' || status === 'REJECTED'
            ? 'EXPIRED'
            : status === 'FINISHED'
              ? 'FILLED'
              : 'NEW',
      qty: Number(row.quantity) || 0,
      filledQty: 0,
      reduceOnly: row.reduceOnly === true,
      closePosition: row.closePosition === true,
      conditional: true,
      updatedAt: Number(row.updateTime ?? row.createTime) || this.options.clock.now(),
      ...positive('stopPrice', row.triggerPrice),
      ...(actual === undefined ? {} : { triggeredOrderId: actual }),
    };
    const known = this.known.get(clientOrderId);
    if (known) known.venueOrderId = algoId;
    else
      this.remember({
        symbol: order.symbol,
        side: order.side,
        type: order.type,
        conditional: true,
        clientOrderId,
        venueOrderId: algoId,
      });
    if (actual !== undefined) this.link(clientOrderId, actual, order.symbol);
    return order;
  }

  private canceledView(symbol: string, clientOrderId: string, row: Raw): VenueOrder {
    const known = this.known.get(clientOrderId);
    return {
      clientOrderId,
      venueOrderId: text(row.algoId ?? known?.venueOrderId ?? ''),
      symbol,
      side: known?.side ?? 'sell',
      type: known?.type ?? 'stop_market',
      status: 'CANCELED',
      qty: 0,
      filledQty: 0,
      reduceOnly: true,
      closePosition: false,
      conditional: true,
      updatedAt: this.options.clock.now(),
    };
  }

  private remember(known: Known): void {
    const previous = this.known.get(known.clientOrderId);
    this.known.set(known.clientOrderId, { ...previous, ...known });
  }

  /** A quantity or price as Binance reads it: a plain decimal string, never exponent notation. */
  private amount(value: number): string {
    return this.client.exchange.numberToString(Number(value.toFixed(12)));
  }

  /** A trigger price on the symbol's tick grid (ccxt's market rules), so an off-tick stop is not refused. */
  private price(symbol: string, value: number): string {
    const markets = this.client.exchange.markets_by_id as
      Record<string, { symbol: string }[] | undefined> | undefined;
    const market = markets?.[symbol]?.[0];
    if (market === undefined) return this.amount(value);
    return this.client.exchange.priceToPrecision(market.symbol, value) ?? this.amount(value);
  }

  /** Loads market rules (tick and step sizes) once; the adapter works without them, rounding nothing. */
  async loadMarkets(): Promise<VenueResult<unknown>> {
    return this.client.call('read', (exchange) => exchange.loadMarkets());
  }
}

/** A wire field as text: Binance sends ids as numbers and most values as strings; anything else is empty. */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : '';
}

function statusOf(status: string): VenueOrder['status'] {
  switch (status) {
    case 'NEW':
    case 'PARTIALLY_FILLED':
    case 'FILLED':
    case 'CANCELED':
    case 'REJECTED':
    case 'EXPIRED':
      return status;
    case 'EXPIRED_IN_MATCH':
      return 'EXPIRED';
    default:
      return 'NEW';
  }
}

function typeOf(wire: string): OrderType {
  switch (wire) {
    case 'LIMIT':
      return 'limit';
    case 'STOP_MARKET':
    case 'STOP':
      return 'stop_market';
    case 'TAKE_PROFIT_MARKET':
    case 'TAKE_PROFIT':
      return 'take_profit_market';
    default:
      return 'market';
  }
}

function positive<K extends string>(key: K, value: unknown): Partial<Record<K, number>> {
  const number = Number(value);
  return Number.isFinite(number) && number > 0 ? ({ [key]: number } as Record<K, number>) : {};
}

/**
 * The other ccxt exchanges (Bybit, OKX) through ccxt's unified methods: createOrder, cancelOrder,
 * editOrder, fetchOrder / fetchOpenOrders / fetchCanceledAndClosedOrders, fetchPositions and
 * fetchMyTrades. What each exchange cannot do is declared in its capabilities, not papered over.
 * Invariants: keel speaks base-asset quantities and the venue may count contracts (an OKX BTC swap
 * contract is 0.01 BTC), so every amount is converted both ways through the market's
 * contractSize; markets are answered by the exchange's own id (BTCUSDT, BTC-USDT-SWAP) whether
 * keel named them so or by a unified symbol; there is no trusted stream — the adapter says so with
 * a gap at every poll interval, and each gap makes keel look every live order up (polling);
 * a triggered conditional order's child order is linked back to it, so its fills are never foreign.
 */
import ccxt, { type Exchange, type Order, type Position, type Trade } from 'ccxt';
import type { OrderSide, OrderType } from '../../../domain/intent.schema.js';
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
import type { RateBudgetLimits } from '../../../domain/venues/rate-budget.js';
import { CcxtClient, refusalAsTheVenueAnswers, type CcxtExchangeId } from './ccxt.client.js';

type Raw = Record<string, unknown>;
type Book = 'plain' | 'trigger';

/** How one exchange names, finds and links orders under ccxt's unified API. */
interface UnifiedProfile {
  capabilities: VenueCapabilities;
  /** Finds an order by keel's id in one book; undefined when the venue does not know it there. */
  find(exchange: Exchange, symbol: string, clientOrderId: string, book: Book): Promise<Order | undefined>;
  /** cancelOrder's parameters naming an order by keel's id, so the venue answers for an unknown one. */
  cancelByClientOrderId(clientOrderId: string): Raw;
  /** How the venue refuses a market it does not list (ccxt refuses it before sending). */
  unknownSymbol: { httpStatus: number; code: number; message: string };
  /** The id of the ordinary order a triggered conditional order became, when the venue made one. */
  triggeredOrderIdOf(order: Order): string | undefined;
}

const UNIFIED_TIME_IN_FORCE = ['GTC', 'IOC', 'FOK'] as const;

/** fetchOrder by clientOrderId in one book, with "not found" as undefined (Binance, OKX). */
async function fetchByClientOrderId(
  exchange: Exchange,
  symbol: string,
  clientOrderId: string,
  book: Book,
): Promise<Order | undefined> {
  try {
    return await exchange.fetchOrder(undefined as unknown as string, symbol, {
      clientOrderId,
      ...(book === 'trigger' ? { trigger: true } : {}),
    });
  } catch (error) {
    if (error instanceof ccxt.OrderNotFound) return undefined;
    throw error;
  }
}

/** ccxt types an order's id as optional; every order a venue returns has one. */
function idOf(order: Order): string {
  return order.id ?? '';
}

function infoOf(order: Order): Raw {
  return order.info !== null && typeof order.info === 'object' ? (order.info as Raw) : {};
}

function nonEmpty(value: unknown): string | undefined {
  return (typeof value === 'string' || typeof value === 'number') &&
    String(value) !== '' &&
    String(value) !== '0'
    ? String(value)
    : undefined;
}

/**
 * What every exchange behind the unified methods offers: amend, stops, reduce-only — and no
 * close-position flag and no trusted stream, which keel must not assume.
 */
function polledCapabilities(venue: string, maxClientOrderIdLength: number): VenueCapabilities {
  return {
    venue,
    amend: true,
    conditionalOrders: true,
    closePosition: false,
    reduceOnly: true,
    timeInForce: UNIFIED_TIME_IN_FORCE,
    maxClientOrderIdLength,
    stream: false,
  };
}

export const UNIFIED_PROFILES: Readonly<Record<CcxtExchangeId, UnifiedProfile>> = {
  // Binance through the unified methods: not how keel trades Binance (binance.venue.ts is), but the
  // one exchange `keel paper-venue` can stand in for, so this adapter's mapping is tested end to end.
  binanceusdm: {
    capabilities: polledCapabilities('binanceusdm', 32),
    find: fetchByClientOrderId,
    cancelByClientOrderId: (clientOrderId) => ({ clientOrderId }),
    unknownSymbol: { httpStatus: 400, code: -1121, message: 'Invalid symbol.' },
    triggeredOrderIdOf: (order) => nonEmpty(infoOf(order).actualOrderId),
  },
  // Bybit v5 (linear USDT perpetuals): fetchOrder only sees an account's last 500 orders, so an
  // order is looked up in the open book, then in the history, by orderLinkId. A triggered
  // conditional order keeps its own orderId, so its fills already carry it.
  bybit: {
    capabilities: polledCapabilities('bybit', 36),
    find: async (exchange, symbol, clientOrderId, book) => {
      const params = { orderLinkId: clientOrderId, ...(book === 'trigger' ? { trigger: true } : {}) };
      const open = await exchange.fetchOpenOrders(symbol, undefined, undefined, params);
      const found = open.find((order) => order.clientOrderId === clientOrderId);
      if (found) return found;
      const closed = await exchange.fetchCanceledAndClosedOrders(symbol, undefined, undefined, params);
      return closed.find((order) => order.clientOrderId === clientOrderId);
    },
    cancelByClientOrderId: (clientOrderId) => ({ orderLinkId: clientOrderId }),
    // Bybit answers business errors with HTTP 200 and a retCode.
    unknownSymbol: { httpStatus: 200, code: 10001, message: 'params error: symbol invalid' },
    triggeredOrderIdOf: () => undefined,
  },
  // OKX swaps: clOrdId is letters and digits, at most 32; conditional orders are algo orders
  // (algoClOrdId) whose triggered order gets a new ordId, named in the algo order's details.
  okx: {
    capabilities: polledCapabilities('okx', 32),
    find: fetchByClientOrderId,
    cancelByClientOrderId: (clientOrderId) => ({ clientOrderId }),
    unknownSymbol: { httpStatus: 200, code: 51001, message: "Instrument ID doesn't exist." },
    triggeredOrderIdOf: (order) => nonEmpty(infoOf(order).ordId),
  },
};

export interface UnifiedCcxtVenueOptions {
  exchange: CcxtExchangeId;
  apiKey: string;
  secret: string;
  /** OKX's API passphrase. */
  password?: string;
  sandbox?: boolean;
  /** Replaces the REST base (Binance's `fapi` URLs only: `keel paper-venue` on loopback). */
  urls?: { rest?: string };
  recvWindowMs?: number;
  timeoutMs?: number;
  /** How often the adapter reports a gap so keel looks its live orders up (default 2 000 ms). */
  pollIntervalMs?: number;
  limits?: Partial<RateBudgetLimits>;
  clock: ClockPort;
  logger?: LoggerPort;
}

/** ccxt's own throttle paces requests; keel's budget only honours 429/418 pauses here. */
const UNIFIED_LIMITS: RateBudgetLimits = {
  weightPerMinute: Number.POSITIVE_INFINITY,
  ordersPer10s: Number.POSITIVE_INFINITY,
  ordersPerMinute: Number.POSITIVE_INFINITY,
  headroom: 1,
};

interface Known {
  symbol: string;
  side: OrderSide;
  type: OrderType;
  book: Book;
  venueOrderId?: string;
  triggeredOrderId?: string;
}

/** The longest span one trade-list request covers (Binance, Bybit: 7 days), less a margin. */
const TRADE_WINDOW_MS = 7 * 24 * 3_600_000 - 60_000;

const CONDITIONAL_TYPES: ReadonlySet<OrderType> = new Set(['stop_market', 'take_profit_market']);

interface MarketView {
  id: string;
  symbol: string;
  contractSize: number;
}

export class UnifiedCcxtVenue implements VenuePort {
  readonly capabilities: VenueCapabilities;
  readonly client: CcxtClient;
  private readonly profile: UnifiedProfile;
  private readonly known = new Map<string, Known>();
  /** Venue order id (the order's own, or a triggered child's) → keel's clientOrderId. */
  private readonly byVenueOrderId = new Map<string, string>();
  private readonly listeners = new Set<(message: VenueStreamMessage) => void>();
  private pollTimer: { cancel(): void } | undefined;
  private readonly symbolsSeen = new Set<string>();

  constructor(private readonly options: UnifiedCcxtVenueOptions) {
    this.profile = UNIFIED_PROFILES[options.exchange];
    this.capabilities = this.profile.capabilities;
    this.client = new CcxtClient({
      exchange: options.exchange,
      apiKey: options.apiKey,
      secret: options.secret,
      ...(options.password === undefined ? {} : { password: options.password }),
      ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
      ...(options.urls?.rest === undefined ? {} : { restUrl: options.urls.rest }),
      ...(options.recvWindowMs === undefined ? {} : { recvWindowMs: options.recvWindowMs }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      limits: { ...UNIFIED_LIMITS, ...options.limits },
      clock: options.clock,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    // Perpetual swaps, not spot: keel trades derivatives positions.
    this.client.exchange.options.defaultType = 'swap';
  }

  /** Loads market rules (ids, contract sizes, precision); every order call needs them. */
  async loadMarkets(): Promise<VenueResult<unknown>> {
    return this.client.call('read', (exchange) => exchange.loadMarkets());
  }

  close(): void {
    this.stopPolling();
    this.listeners.clear();
  }

  // ── orders ──────────────────────────────────────────────────────────────────────────────

  async submit(order: SubmitOrder): Promise<VenueResult<VenueOrder>> {
    const book: Book = CONDITIONAL_TYPES.has(order.type) ? 'trigger' : 'plain';
    return this.client.call('order', async (exchange) => {
      const market = await this.market(exchange, order.symbol);
      this.symbolsSeen.add(market.id);
      this.known.set(order.clientOrderId, { symbol: market.id, side: order.side, type: order.type, book });
      let qty = order.qty;
      if (order.closePosition && qty === undefined) {
        // No close-position flag in the unified API: the stop covers the position held now.
        qty = Math.abs((await this.heldQty(exchange, market)) ?? 0);
        if (qty === 0) throw new ccxt.InvalidOrder('no position to close');
      }
      const params: Raw = {
        clientOrderId: order.clientOrderId,
        ...(order.reduceOnly || order.closePosition ? { reduceOnly: true } : {}),
        ...(order.type === 'limit' ? { timeInForce: order.timeInForce ?? 'GTC' } : {}),
        // ccxt's unified names for a position's stop-loss and take-profit trigger, which each
        // exchange maps to its own (Binance STOP_MARKET algo orders, Bybit triggerDirection, OKX algos).
        ...(order.type === 'stop_market' ? { stopLossPrice: order.stopPrice } : {}),
        ...(order.type === 'take_profit_market' ? { takeProfitPrice: order.stopPrice } : {}),
      };
      const placed = await exchange.createOrder(
        market.symbol,
        order.type === 'limit' ? 'limit' : 'market',
        order.side,
        this.toContracts(market, qty ?? 0),
        order.type === 'limit' ? order.price : undefined,
        params,
      );
      // A create answer is often an acknowledgement only: read the order back for its full state,
      // and make do with the acknowledgement when that read fails — the order is placed either way.
      const full =
        (await this.profile
          .find(exchange, market.symbol, order.clientOrderId, book)
          .catch(() => undefined)) ?? placed;
      return this.view(market, full, order.clientOrderId);
    });
  }

  async cancel(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder>> {
    return this.client.call('read', async (exchange) => {
      const market = await this.market(exchange, symbol);
      const found = await this.locate(exchange, market, clientOrderId);
      if (!found) {
        // Neither book knows it: the venue's own refusal (its code, its message) is the answer.
        const answer = await exchange.cancelOrder(
          undefined as unknown as string,
          market.symbol,
          this.profile.cancelByClientOrderId(clientOrderId),
        );
        return { ...this.view(market, answer, clientOrderId), status: 'CANCELED' as const };
      }
      const { order, book } = found;
      const child = this.profile.triggeredOrderIdOf(order);
      if (book === 'trigger' && child !== undefined && order.status !== 'open') {
        // Already triggered: what is left to cancel is the order it became.
        await exchange.cancelOrder(child, market.symbol);
      } else {
        await exchange.cancelOrder(idOf(order), market.symbol, {
          ...(book === 'trigger' ? { trigger: true } : {}),
        });
      }
      const after = (await this.profile.find(exchange, market.symbol, clientOrderId, book)) ?? order;
      return { ...this.view(market, after, clientOrderId), status: 'CANCELED' };
    });
  }

  async replace(change: ReplaceOrder): Promise<VenueResult<VenueOrder>> {
    return this.client.call('order', async (exchange) => {
      const market = await this.market(exchange, change.symbol);
      const found = await this.locate(exchange, market, change.clientOrderId);
      if (!found) throw new ccxt.OrderNotFound(`Unknown order sent: ${change.clientOrderId}`);
      const { order } = found;
      await exchange.editOrder(
        idOf(order),
        market.symbol,
        order.type ?? 'limit',
        order.side,
        this.toContracts(market, change.qty),
        change.price ?? order.price,
      );
      const after =
        (await this.profile.find(exchange, market.symbol, change.clientOrderId, 'plain')) ?? order;
      return this.view(market, after, change.clientOrderId);
    });
  }

  async queryOrder(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder | null>> {
    return this.client.call('read', async (exchange) => {
      const market = await this.market(exchange, symbol);
      const found = await this.locate(exchange, market, clientOrderId);
      return found ? this.view(market, found.order, clientOrderId) : null;
    });
  }

  async openOrders(symbol?: string): Promise<VenueResult<VenueOrder[]>> {
    return this.client.call('read', async (exchange) => {
      const market = symbol === undefined ? undefined : await this.market(exchange, symbol);
      const orders: VenueOrder[] = [];
      // Conditional orders sit in their own book on every one of these exchanges: read both.
      for (const book of ['plain', 'trigger'] as const) {
        const rows = await exchange.fetchOpenOrders(
          market?.symbol,
          undefined,
          undefined,
          book === 'trigger' ? { trigger: true } : {},
        );
        for (const row of rows) {
          const rowMarket = market ?? (await this.market(exchange, row.symbol ?? ''));
          const clientOrderId = this.clientOrderIdOf(row);
          if (clientOrderId === undefined) continue;
          orders.push(this.view(rowMarket, row, clientOrderId));
        }
      }
      return orders;
    });
  }

  async positions(): Promise<VenueResult<VenuePosition[]>> {
    return this.client.call('read', async (exchange) => {
      await exchange.loadMarkets();
      const rows = await exchange.fetchPositions();
      const positions: VenuePosition[] = [];
      for (const row of rows) {
        const qty = this.signedQty(exchange, row);
        if (qty === 0) continue;
        const market = this.marketOf(exchange, row.symbol ?? '');
        positions.push({
          symbol: market.id,
          qty,
          entryPrice: row.entryPrice ?? 0,
          realizedPnl: row.realizedPnl ?? 0,
          unrealizedPnl: row.unrealizedPnl ?? 0,
          markPrice: row.markPrice ?? 0,
          updatedAt: row.timestamp ?? this.options.clock.now(),
        });
      }
      return positions;
    });
  }

  async fillsSince(sinceTs: number, symbol?: string): Promise<VenueResult<VenueFill[]>> {
    return this.client.call('read', async (exchange) => {
      await exchange.loadMarkets();
      const markets =
        symbol === undefined ? await this.tradedMarkets(exchange) : [await this.market(exchange, symbol)];
      await this.linkTriggeredOrders(exchange);
      // Binance and Bybit answer trade lists for at most a 7-day window from its start (ccxt asks
      // for exactly that window): a start further back would read a week long past.
      const since = Math.max(Math.floor(sinceTs), this.options.clock.now() - TRADE_WINDOW_MS);
      const fills: VenueFill[] = [];
      for (const market of markets) {
        const trades = await exchange.fetchMyTrades(market.symbol, since);
        for (const trade of trades) {
          const fill = this.fillOf(market, trade);
          if (fill) fills.push(fill);
        }
      }
      return fills;
    });
  }

  /**
   * No trusted stream: a gap now and at every poll interval, so keel looks each live order up
   * and re-reads its fills instead of waiting for events that will never come.
   */
  subscribe(onMessage: (message: VenueStreamMessage) => void): VenueSubscription {
    this.listeners.add(onMessage);
    const reason = `${this.capabilities.venue} is polled: keel has no user stream for it`;
    this.options.clock.setTimeout(() => this.publishGap(reason), 0);
    if (this.pollTimer === undefined) this.schedulePoll(reason);
    return {
      close: () => {
        this.listeners.delete(onMessage);
        if (this.listeners.size === 0) this.stopPolling();
      },
    };
  }

  // ── helpers ────────────────────────────────────────────────────────────────────────────

  private schedulePoll(reason: string): void {
    this.pollTimer = this.options.clock.setTimeout(() => {
      if (this.listeners.size === 0) return;
      this.publishGap(reason);
      this.schedulePoll(reason);
    }, this.options.pollIntervalMs ?? 2_000);
  }

  private stopPolling(): void {
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
  }

  private publishGap(reason: string): void {
    const message: VenueStreamMessage = { kind: 'gap', reason, ts: this.options.clock.now() };
    for (const listener of [...this.listeners]) listener(message);
  }

  /** The market keel names by id or unified symbol; an unknown name is the venue's refusal. */
  private async market(exchange: Exchange, name: string): Promise<MarketView> {
    await exchange.loadMarkets();
    return this.marketOf(exchange, name);
  }

  private marketOf(exchange: Exchange, name: string): MarketView {
    type Listed = { id?: string; symbol: string; contractSize?: number };
    const markets = (exchange.markets ?? {}) as Record<string, Listed | undefined>;
    const byId = (exchange.markets_by_id as Record<string, Listed[] | undefined> | undefined)?.[name];
    // An id can name a spot and a swap market: keel trades the swap (its unified symbol has a settle part).
    const listed = byId?.find((market) => market.symbol.includes(':')) ?? byId?.[0];
    const unified = markets[name] ?? (listed === undefined ? undefined : markets[listed.symbol]);
    if (unified === undefined) throw refusalAsTheVenueAnswers(this.profile.unknownSymbol);
    return { id: unified.id ?? name, symbol: unified.symbol, contractSize: unified.contractSize ?? 1 };
  }

  private toContracts(market: MarketView, qty: number): number {
    return Number((qty / market.contractSize).toFixed(12));
  }

  private toBase(market: MarketView, contracts: number | undefined): number {
    return Number(((contracts ?? 0) * market.contractSize).toFixed(12));
  }

  /** The book an order is in: the one keel sent it to first, then the other. */
  private async locate(
    exchange: Exchange,
    market: MarketView,
    clientOrderId: string,
  ): Promise<{ order: Order; book: Book } | undefined> {
    const first = this.known.get(clientOrderId)?.book ?? 'plain';
    for (const book of first === 'plain'
      ? (['plain', 'trigger'] as const)
      : (['trigger', 'plain'] as const)) {
      const order = await this.profile.find(exchange, market.symbol, clientOrderId, book);
      if (order) {
        this.learn(market, order, clientOrderId, book);
        return { order: await this.withChildProgress(exchange, market, order, book), book };
      }
    }
    return undefined;
  }

  /**
   * A triggered conditional order's own record stops at "triggered": its fills belong to the
   * order it became, so the filled quantity, average price and status are read from that one.
   */
  private async withChildProgress(
    exchange: Exchange,
    market: MarketView,
    order: Order,
    book: Book,
  ): Promise<Order> {
    const childId = book === 'trigger' ? this.profile.triggeredOrderIdOf(order) : undefined;
    if (childId === undefined || childId === idOf(order)) return order;
    try {
      const child = await exchange.fetchOrder(childId, market.symbol);
      return {
        ...order,
        filled: child.filled,
        ...(child.average === undefined ? {} : { average: child.average }),
        status: child.status ?? order.status,
      };
    } catch (error) {
      if (error instanceof ccxt.OrderNotFound) return order;
      throw error;
    }
  }

  private learn(market: MarketView, order: Order, clientOrderId: string, book: Book): void {
    const known = this.known.get(clientOrderId);
    const triggeredOrderId = book === 'trigger' ? this.profile.triggeredOrderIdOf(order) : undefined;
    this.known.set(clientOrderId, {
      symbol: market.id,
      side: order.side === 'sell' ? 'sell' : 'buy',
      type: known?.type ?? (book === 'trigger' ? 'stop_market' : order.type === 'limit' ? 'limit' : 'market'),
      book,
      venueOrderId: idOf(order),
      ...(triggeredOrderId === undefined ? {} : { triggeredOrderId }),
    });
    this.byVenueOrderId.set(idOf(order), clientOrderId);
    if (triggeredOrderId !== undefined) this.byVenueOrderId.set(triggeredOrderId, clientOrderId);
  }

  private clientOrderIdOf(order: Order): string | undefined {
    return order.clientOrderId ?? this.byVenueOrderId.get(idOf(order));
  }

  private view(market: MarketView, order: Order, clientOrderId: string): VenueOrder {
    const known = this.known.get(clientOrderId);
    const conditional = known?.book === 'trigger' || order.triggerPrice !== undefined;
    this.learn(market, order, clientOrderId, conditional ? 'trigger' : 'plain');
    const after = this.known.get(clientOrderId);
    const qty = this.toBase(market, order.amount);
    const filledQty = this.toBase(market, order.filled);
    const triggerPrice = order.triggerPrice ?? order.stopLossPrice ?? order.takeProfitPrice;
    return {
      clientOrderId,
      venueOrderId: idOf(order),
      symbol: market.id,
      side: order.side === 'sell' ? 'sell' : 'buy',
      type: known?.type ?? (order.type === 'limit' ? 'limit' : 'market'),
      status: statusOf(order, qty, filledQty),
      qty,
      filledQty,
      ...(order.price === undefined || conditional ? {} : { price: order.price }),
      ...(triggerPrice === undefined ? {} : { stopPrice: Number(triggerPrice) }),
      ...(order.average === undefined || filledQty === 0 ? {} : { avgFillPrice: order.average }),
      reduceOnly: order.reduceOnly ?? false,
      closePosition: false,
      conditional,
      ...(after?.triggeredOrderId === undefined ? {} : { triggeredOrderId: after.triggeredOrderId }),
      updatedAt: order.lastUpdateTimestamp ?? order.timestamp ?? this.options.clock.now(),
    };
  }

  private signedQty(exchange: Exchange, position: Position): number {
    const market = this.marketOf(exchange, position.symbol ?? '');
    const size = this.toBase(market, Math.abs(position.contracts ?? 0));
    return position.side === 'short' ? -size : size;
  }

  private async heldQty(exchange: Exchange, market: MarketView): Promise<number | undefined> {
    const rows = await exchange.fetchPositions([market.symbol]);
    const row = rows.find((position) => position.symbol === market.symbol && (position.contracts ?? 0) !== 0);
    return row === undefined ? undefined : this.signedQty(exchange, row);
  }

  /** Markets keel traded in this process or holds a position in. */
  private async tradedMarkets(exchange: Exchange): Promise<MarketView[]> {
    const held = await exchange.fetchPositions();
    const names = new Set([...this.symbolsSeen]);
    for (const row of held)
      if ((row.contracts ?? 0) !== 0) names.add(this.marketOf(exchange, row.symbol ?? '').id);
    return [...names].map((name) => this.marketOf(exchange, name));
  }

  /** Reads each conditional order not yet linked to its triggered order, so its fills are keel's. */
  private async linkTriggeredOrders(exchange: Exchange): Promise<void> {
    for (const [clientOrderId, known] of this.known) {
      if (known.book !== 'trigger' || known.triggeredOrderId !== undefined) continue;
      const market = this.marketOf(exchange, known.symbol);
      const order = await this.profile.find(exchange, market.symbol, clientOrderId, 'trigger');
      if (order) this.learn(market, order, clientOrderId, 'trigger');
    }
  }

  private fillOf(market: MarketView, trade: Trade): VenueFill | undefined {
    const orderId = trade.order === undefined ? undefined : String(trade.order);
    const info = trade.info !== null && typeof trade.info === 'object' ? (trade.info as Raw) : {};
    const clientOrderId =
      (orderId === undefined ? undefined : this.byVenueOrderId.get(orderId)) ??
      nonEmpty(info.algoClOrdId) ??
      nonEmpty(info.orderLinkId ?? info.clOrdId ?? info.clientOrderId);
    // A trade of an order keel cannot name is not keel's to book (a manual order, a liquidation).
    if (clientOrderId === undefined || orderId === undefined) return undefined;
    const known = this.known.get(clientOrderId);
    return {
      tradeId: String(trade.id),
      clientOrderId,
      venueOrderId: known?.venueOrderId ?? orderId,
      symbol: market.id,
      side: trade.side === 'sell' ? 'sell' : 'buy',
      qty: this.toBase(market, trade.amount),
      price: trade.price ?? 0,
      fee: trade.fee?.cost ?? 0,
      ts: trade.timestamp ?? this.options.clock.now(),
    };
  }
}

/** The port's status from ccxt's unified one (open / closed / canceled / expired / rejected). */
function statusOf(order: Order, qty: number, filledQty: number): VenueOrder['status'] {
  switch (order.status) {
    case 'closed':
      return 'FILLED';
    case 'canceled':
      return 'CANCELED';
    case 'expired':
      return 'EXPIRED';
    case 'rejected':
      return 'REJECTED';
    default:
      return filledQty > 0 && filledQty < qty ? 'PARTIALLY_FILLED' : 'NEW';
  }
}

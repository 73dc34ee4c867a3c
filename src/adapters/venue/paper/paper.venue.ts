/**
 * The paper venue (id `paper`): an embedded, deterministic stand-in for Binance USDⓈ-M futures.
 * Invariants: the same seed, options and calls give the same ground-truth log; time comes only
 * from the injected clock and matching happens when `sync()` steps the feed up to it; venue
 * answers are values (never thrown); every accepted order and fill is in the ground truth, which
 * is persisted atomically after each mutation when a data dir is given, writing only what the call
 * changed (paper.store.ts).
 */
import type { TimeInForce } from '../../../domain/intent.schema.js';
import type { VenueEvent } from '../../../domain/venue-event.schema.js';
import type { ClockPort } from '../../../ports/clock.port.js';
import type {
  ReplaceOrder,
  SubmitOrder,
  VenueCapabilities,
  VenueFailure,
  VenueFill,
  VenueOrder,
  VenuePort,
  VenuePosition,
  VenueResult,
  VenueStreamMessage,
  VenueSubscription,
} from '../../../ports/venue.port.js';
import { FaultDice, type FaultKind, type PaperFaults } from './faults.js';
import {
  DEFAULT_SYMBOL_RULES,
  binanceFailure,
  checkFilters,
  isMultipleOf,
  type SymbolRules,
} from './filters.js';
import {
  applyFill,
  cleanQty,
  conditionalTriggers,
  limitCrosses,
  reduces,
  type PaperPosition,
} from './matching.js';
import { nextPrice, type PriceTick, type RandomWalk } from './price-feed.js';
import { checkPaperOptions } from './paper.schema.js';
import { PaperStore, type GroundTruthEntry, type PaperState } from './paper.store.js';
import { deriveSeed, seededRandom, type SeededRandom } from './rng.js';

/** One symbol the paper venue lists: its filters and how its price moves. */
export type PaperSymbol = Partial<SymbolRules> & RandomWalk;

export interface PaperVenueOptions {
  /** Seeds the price walk and the fault dice. */
  seed: number;
  clock: ClockPort;
  /** Where the state file lives; omit for an in-memory venue. */
  dataDir?: string;
  /** Listed symbols; defaults to BTCUSDT at 50 000 with 0.05 % steps. */
  symbols?: Record<string, PaperSymbol>;
  /** Recorded prices that replace the walk for the symbols they cover. */
  ticks?: readonly PriceTick[];
  /** Milliseconds between feed steps (default 1000). */
  stepMs?: number;
  /** Base-asset quantity that can trade per symbol per step (default unlimited). */
  liquidityPerStep?: number;
  /** Fee rate on every fill (default 0.0004, Binance's taker rate). */
  feeRate?: number;
  faults?: PaperFaults;
  /**
   * How late answers arrive. The venue acts when a request arrives and the REST answer reaches the
   * caller `restMs` later, as over a network; stream messages arrive `streamMs` after the event.
   * Each gets up to `jitterMs` more, drawn from the seed. Default: no latency.
   */
  latency?: PaperLatency;
}

export interface PaperLatency {
  restMs?: number;
  streamMs?: number;
  jitterMs?: number;
}

/** What the venue really did, for tests to compare with keel's beliefs. */
export interface PaperGroundTruth {
  orders: VenueOrder[];
  fills: VenueFill[];
  log: GroundTruthEntry[];
  /** Every symbol ever traded, flat ones included, so realised PnL stays readable. */
  positions: PaperPosition[];
}

interface PaperOrder extends VenueOrder {
  timeInForce?: TimeInForce;
  triggered?: boolean;
}

interface PendingMessage {
  deliverAt: number;
  order: number;
  message: VenueStreamMessage;
}

const VENUE = 'paper';
const DEFAULT_SYMBOLS: Record<string, PaperSymbol> = { BTCUSDT: { start: 50_000, volatility: 0.0005 } };
const LIVE: ReadonlySet<VenueOrder['status']> = new Set(['NEW', 'PARTIALLY_FILLED']);

/** The clientOrderIds the log shows accepted as a new order more than once. */
export function clientOrderIdsAcceptedTwice(log: readonly GroundTruthEntry[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const entry of log) {
    if (entry.kind !== 'order.accepted') continue;
    if (seen.has(entry.clientOrderId)) twice.add(entry.clientOrderId);
    seen.add(entry.clientOrderId);
  }
  return [...twice];
}

/**
 * Opens the paper venue, restoring its saved state from `dataDir` when there is one.
 *
 * @example
 * const venue = openPaperVenue({ seed: 7, clock, dataDir: '.keel/paper' });
 * await venue.submit({ clientOrderId: 'EN-1', symbol: 'BTCUSDT', side: 'buy', type: 'market',
 *   qty: 0.01, reduceOnly: false, closePosition: false });
 */
export function openPaperVenue(options: PaperVenueOptions): PaperVenue {
  const { clock: _clock, ticks: _ticks, ...data } = options;
  checkPaperOptions(data);
  const store = options.dataDir === undefined ? undefined : new PaperStore(options.dataDir);
  return new PaperVenue(options, store);
}

export class PaperVenue implements VenuePort {
  readonly capabilities: VenueCapabilities = {
    venue: VENUE,
    amend: true,
    conditionalOrders: true,
    closePosition: true,
    reduceOnly: true,
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
    maxClientOrderIdLength: 36,
    stream: true,
  };

  private readonly state: PaperState;
  private readonly symbols: Record<string, PaperSymbol>;
  private readonly stepMs: number;
  private readonly priceRandom: SeededRandom;
  private readonly faultRandom: SeededRandom;
  private dice: FaultDice;
  private readonly faultsFired = new Map<FaultKind, number>();
  private readonly liquidityLeft = new Map<string, number>();
  private readonly listeners = new Set<(message: VenueStreamMessage) => void>();
  private pending: PendingMessage[] = [];
  private messageOrder = 0;
  private messagesToLose = 0;
  private dirty = false;
  private newest: Map<string, PaperOrder> | null = null;
  /**
   * The orders that may still be live, in acceptance order: every step visits these instead of
   * every order ever accepted, so a long-running venue does not slow down with its history. An
   * order never becomes live again once done, so dropping done ones lazily is exact.
   */
  private maybeLive: Set<PaperOrder> | null = null;
  private byVenueOrderId: Map<string, PaperOrder> | null = null;
  private replies = 0;
  /** Orders this call changed in place, so the store rewrites their rows and no others. */
  private readonly changed = new Set<PaperOrder>();

  constructor(
    private readonly options: PaperVenueOptions,
    private readonly store?: PaperStore,
  ) {
    this.symbols = options.symbols ?? DEFAULT_SYMBOLS;
    this.stepMs = options.stepMs ?? 1000;
    this.state = store?.saved ?? {
      version: 1,
      seq: 0,
      lastStepAt: options.clock.now(),
      priceRandom: deriveSeed(options.seed, 1),
      faultRandom: deriveSeed(options.seed, 2),
      prices: Object.fromEntries(Object.entries(this.symbols).map(([symbol, walk]) => [symbol, walk.start])),
      orders: [],
      positions: {},
      fills: [],
      log: [],
    };
    this.priceRandom = seededRandom(this.state.priceRandom);
    this.faultRandom = seededRandom(this.state.faultRandom);
    this.dice = new FaultDice(options.faults ?? {}, this.faultRandom);
  }

  /**
   * Replaces the faults from now on (an empty object stops them): a chaos run injects faults for a
   * while, then lets keel settle on a well-behaved venue. The dice keep their seeded sequence.
   */
  setFaults(faults: PaperFaults): void {
    for (const [kind, count] of this.dice.fired)
      this.faultsFired.set(kind, (this.faultsFired.get(kind) ?? 0) + count);
    this.dice = new FaultDice(faults, this.faultRandom);
  }

  /** How many times each fault fired since the venue opened. */
  faultCounts(): Partial<Record<FaultKind, number>> {
    const counts: Partial<Record<FaultKind, number>> = Object.fromEntries(this.faultsFired);
    for (const [kind, count] of this.dice.fired) counts[kind] = (counts[kind] ?? 0) + count;
    return counts;
  }

  /** Every listed symbol with its filters and last price, for an exchange-info answer. */
  listing(): { symbol: string; rules: SymbolRules; price: number }[] {
    return Object.entries(this.symbols).map(([symbol, listed]) => ({
      symbol,
      rules: { ...DEFAULT_SYMBOL_RULES, ...pickRules(listed) },
      price: this.state.prices[symbol] ?? listed.start,
    }));
  }

  /** The newest order under `clientOrderId` on `symbol`, read at once (no fault dice, no latency). */
  order(symbol: string, clientOrderId: string): VenueOrder | undefined {
    const found = this.latest(symbol, clientOrderId);
    return found ? this.copy(found) : undefined;
  }

  /** Every fill of the order under `clientOrderId` on `symbol`, oldest first, read at once. */
  tradesOf(symbol: string, clientOrderId: string): VenueFill[] {
    return this.state.fills
      .filter((fill) => fill.symbol === symbol && fill.clientOrderId === clientOrderId)
      .map((fill) => ({ ...fill }));
  }

  /**
   * The order a venue order id names: an order's own id, or the engine order a triggered
   * conditional became (`triggered: true` then), as Binance looks orders up by `orderId`.
   */
  orderByVenueOrderId(venueOrderId: string): { order: VenueOrder; triggered: boolean } | undefined {
    if (this.byVenueOrderId === null) {
      this.byVenueOrderId = new Map();
      for (const order of this.state.orders) this.indexVenueIds(order);
    }
    const found = this.byVenueOrderId.get(venueOrderId);
    if (!found) return undefined;
    return { order: this.copy(found), triggered: found.triggeredOrderId === venueOrderId };
  }

  /** The last traded price of `symbol`. */
  price(symbol: string): number | undefined {
    return this.state.prices[symbol];
  }

  /**
   * Steps the price feed up to the clock's now, matching resting and conditional orders on every
   * step, then delivers stream messages that are due. Call it after moving the clock.
   */
  sync(): void {
    const now = this.options.clock.now();
    while (this.state.lastStepAt + this.stepMs <= now) {
      this.state.lastStepAt += this.stepMs;
      for (const symbol of Object.keys(this.symbols)) this.stepSymbol(symbol, this.state.lastStepAt);
      this.dirty = true;
    }
    this.settle(undefined);
  }

  /**
   * Steps the venue on the clock's own timer (every `stepMs`), for a daemon that has no test
   * moving time by hand. Cancel the returned handle to stop.
   */
  autoStep(): { cancel(): void } {
    return this.options.clock.setInterval(() => this.sync(), this.stepMs);
  }

  /**
   * Moves `symbol`'s last price to `price` at the clock's now, as a trade there would, and matches
   * what it crosses: resting limits fill and conditional orders trigger. For tests and scripted
   * markets that need a trigger to happen at a known moment, not whenever the walk gets there.
   */
  setPrice(symbol: string, price: number): void {
    if (!(price > 0) || this.state.prices[symbol] === undefined) {
      throw new RangeError(`setPrice needs a listed symbol and a positive price, got ${symbol} ${price}`);
    }
    this.state.prices[symbol] = price;
    this.liquidityLeft.set(symbol, this.options.liquidityPerStep ?? Number.POSITIVE_INFINITY);
    this.matchSymbol(symbol, price, this.options.clock.now());
    this.dirty = true;
    this.settle(undefined);
  }

  /**
   * Reports a stream gap to every subscriber, as a dropped connection would: nothing is lost
   * here, but a consumer cannot know that and must reconcile.
   */
  disconnectStream(reason = 'stream connection dropped'): void {
    this.queue({ kind: 'gap', reason, ts: this.options.clock.now() }, this.options.clock.now());
    this.settle(undefined);
  }

  /** Releases the data dir's database; the venue must not be called afterwards. */
  close(): void {
    this.store?.close();
  }

  /** A copy of everything the venue accepted and filled, in the order it happened. */
  groundTruth(): PaperGroundTruth {
    return structuredClone({
      orders: this.state.orders.map((order) => this.copy(order)),
      fills: this.state.fills,
      log: this.state.log,
      positions: Object.values(this.state.positions),
    });
  }

  submit(order: SubmitOrder): Promise<VenueResult<VenueOrder>> {
    return this.reply(this.settle(this.handleSubmit(order)));
  }

  cancel(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder>> {
    return this.reply(this.settle(this.handleCancel(symbol, clientOrderId)));
  }

  replace(order: ReplaceOrder): Promise<VenueResult<VenueOrder>> {
    return this.reply(this.settle(this.handleReplace(order)));
  }

  queryOrder(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder | null>> {
    const limited = this.rateLimited();
    if (limited) return this.reply(this.settle(limited));
    const found = this.latest(symbol, clientOrderId);
    return this.reply({ ok: true, value: found ? this.copy(found) : null });
  }

  openOrders(symbol?: string): Promise<VenueResult<VenueOrder[]>> {
    const limited = this.rateLimited();
    if (limited) return this.reply(this.settle(limited));
    const open = this.live().filter((order) => symbol === undefined || order.symbol === symbol);
    return this.reply({ ok: true, value: open.map((order) => this.copy(order)) });
  }

  positions(): Promise<VenueResult<VenuePosition[]>> {
    const limited = this.rateLimited();
    if (limited) return this.reply(this.settle(limited));
    const value = Object.values(this.state.positions)
      .filter((position) => position.qty !== 0)
      .map((position): VenuePosition => {
        const markPrice = this.state.prices[position.symbol] ?? position.entryPrice;
        return {
          ...position,
          markPrice,
          unrealizedPnl: position.qty * (markPrice - position.entryPrice),
        };
      });
    return this.reply({ ok: true, value });
  }

  fillsSince(sinceTs: number, symbol?: string): Promise<VenueResult<VenueFill[]>> {
    const limited = this.rateLimited();
    if (limited) return this.reply(this.settle(limited));
    const value = this.state.fills
      .filter((fill) => fill.ts >= sinceTs && (symbol === undefined || fill.symbol === symbol))
      .map((fill) => ({ ...fill }));
    return this.reply({ ok: true, value });
  }

  subscribe(onMessage: (message: VenueStreamMessage) => void): VenueSubscription {
    this.listeners.add(onMessage);
    return { close: () => this.listeners.delete(onMessage) };
  }

  private handleSubmit(request: SubmitOrder): VenueResult<VenueOrder> {
    const limited = this.rateLimited();
    if (limited) return limited;
    const last = this.state.prices[request.symbol];
    const listed = this.symbols[request.symbol];
    if (last === undefined || !listed) return binanceFailure(-1121);
    const refused = checkFilters(request, { ...DEFAULT_SYMBOL_RULES, ...listed }, last);
    if (refused) return refused;
    const rejected = this.dice.fires('reject');
    if (rejected) return binanceFailure(rejected.code);
    // Only the newest order of a clientOrderId can still be open: an id is reused only once its order is done.
    const previous = this.latest(request.symbol, request.clientOrderId);
    if (previous && LIVE.has(previous.status)) return binanceFailure(-4116);
    if (request.reduceOnly && !reduces(request.side, this.position(request.symbol).qty)) {
      return binanceFailure(-2022);
    }
    const conditional = request.type === 'stop_market' || request.type === 'take_profit_market';
    if (conditional && conditionalTriggers(request.type, request.side, request.stopPrice ?? 0, last)) {
      return binanceFailure(-2021);
    }
    if (
      request.type === 'limit' &&
      request.timeInForce === 'GTX' &&
      limitCrosses(request.side, request.price ?? 0, last)
    ) {
      return binanceFailure(-5022);
    }
    if (this.dice.fires('submitTimeoutLost')) return timeout();
    // Binance's 503 "Unknown error" may or may not have reached the engine; the run decides which.
    const unknown = this.dice.fires('executionUnknown');
    if (unknown?.landed === false) return executionUnknown();

    const now = this.options.clock.now();
    const order: PaperOrder = {
      clientOrderId: request.clientOrderId,
      venueOrderId: String(++this.state.seq),
      symbol: request.symbol,
      side: request.side,
      type: request.type,
      status: 'NEW',
      qty: request.qty ?? 0,
      filledQty: 0,
      reduceOnly: request.reduceOnly,
      closePosition: request.closePosition,
      conditional,
      updatedAt: now,
      ...(request.price === undefined ? {} : { price: request.price }),
      ...(request.stopPrice === undefined ? {} : { stopPrice: request.stopPrice }),
      ...(request.timeInForce === undefined ? {} : { timeInForce: request.timeInForce }),
    };
    this.state.orders.push(order);
    this.newest?.set(`${order.symbol} ${order.clientOrderId}`, order);
    this.maybeLive?.add(order);
    if (this.byVenueOrderId) this.indexVenueIds(order);
    this.state.log.push({
      kind: 'order.accepted',
      clientOrderId: order.clientOrderId,
      venueOrderId: order.venueOrderId,
      symbol: order.symbol,
      ts: now,
    });
    const delayed = this.dice.fires('delayedAck');
    this.emit(this.event(order, 'venue.order.accepted'), delayed ? (delayed.delayMs ?? this.stepMs) : 0);
    if (!conditional) this.takeLiquidity(order, last, now, true);

    this.dirty = true;
    if (unknown) return executionUnknown();
    if (this.dice.fires('submitTimeoutLanded')) return timeout();
    return { ok: true, value: this.copy(order) };
  }

  private handleCancel(symbol: string, clientOrderId: string): VenueResult<VenueOrder> {
    const limited = this.rateLimited();
    if (limited) return limited;
    const order = this.latest(symbol, clientOrderId);
    if (!order || !LIVE.has(order.status)) return binanceFailure(-2011);
    if (this.dice.fires('cancelUnknownOrder')) return binanceFailure(-2011);
    if (this.dice.fires('cancelTimeoutLost')) return timeout();
    const now = this.options.clock.now();
    const lateFill = !order.conditional || order.triggered ? this.dice.fires('fillAfterCancel') : undefined;
    const answered = this.copy({ ...order, status: 'CANCELED', updatedAt: now });
    if (lateFill) {
      // The engine filled the order before the cancel reached it; the REST answer is already
      // stale, and the stream tells the truth in the order the race is seen: canceled, then filled.
      this.emit(this.event(order, 'venue.order.canceled', { reason: 'canceled by request' }));
      const last = this.state.prices[order.symbol] ?? order.price ?? 0;
      this.fill(order, cleanQty(order.qty - order.filledQty), last, now);
    } else {
      this.finish(order, 'CANCELED', now, 'canceled by request');
    }
    this.dirty = true;
    if (this.dice.fires('cancelTimeoutLanded')) return timeout();
    return { ok: true, value: answered };
  }

  private handleReplace(request: ReplaceOrder): VenueResult<VenueOrder> {
    const limited = this.rateLimited();
    if (limited) return limited;
    const order = this.latest(request.symbol, request.clientOrderId);
    if (!order || !LIVE.has(order.status)) return binanceFailure(-2013);
    if (order.type !== 'limit') return binanceFailure(-5025);
    const rules = { ...DEFAULT_SYMBOL_RULES, ...this.symbols[order.symbol] };
    const price = request.price ?? order.price ?? 0;
    if (!isMultipleOf(price, rules.tickSize)) return binanceFailure(-4014);
    if (!isMultipleOf(request.qty, rules.stepSize)) return binanceFailure(-1111);
    if (request.qty === order.qty && price === order.price) return binanceFailure(-5027);
    const now = this.options.clock.now();
    const last = this.state.prices[order.symbol];
    if (order.timeInForce === 'GTX' && last !== undefined && limitCrosses(order.side, price, last)) {
      // Binance cancels a post-only order whose amended price would take, rather than refusing the amend.
      this.finish(order, 'CANCELED', now, 'amended post-only order would cross');
    } else if (request.qty <= order.filledQty) {
      // Binance cancels an amend that leaves nothing to fill instead of refusing it.
      this.finish(order, 'CANCELED', now, 'amended quantity at or below the filled quantity');
    } else {
      order.qty = request.qty;
      order.price = price;
      order.updatedAt = now;
      this.changed.add(order);
      this.state.log.push({
        kind: 'order.replaced',
        clientOrderId: order.clientOrderId,
        venueOrderId: order.venueOrderId,
        qty: order.qty,
        price,
        ts: now,
      });
      this.emit(this.event(order, 'venue.order.replaced', { qty: order.qty, price }));
      if (last !== undefined) this.takeLiquidity(order, last, now, true);
    }
    this.dirty = true;
    return { ok: true, value: this.copy(order) };
  }

  private stepSymbol(symbol: string, now: number): void {
    const listed = this.symbols[symbol];
    const current = this.state.prices[symbol];
    if (!listed || current === undefined) return;
    const last = nextPrice({
      symbol,
      current,
      now,
      tickSize: listed.tickSize ?? DEFAULT_SYMBOL_RULES.tickSize,
      walk: listed,
      ticks: this.options.ticks,
      random: this.priceRandom,
    });
    this.state.prices[symbol] = last;
    this.liquidityLeft.set(symbol, this.options.liquidityPerStep ?? Number.POSITIVE_INFINITY);
    this.matchSymbol(symbol, last, now);
  }

  /** Triggers the conditional orders and fills the resting ones that `last` reaches. */
  private matchSymbol(symbol: string, last: number, now: number): void {
    for (const order of this.live()) {
      if (order.symbol !== symbol) continue;
      if (order.conditional && !order.triggered) {
        if (!conditionalTriggers(order.type, order.side, order.stopPrice ?? 0, last)) continue;
        // A triggered conditional becomes a market order in the same step, as on Binance.
        if (!this.trigger(order, now)) continue;
      }
      this.takeLiquidity(order, last, now, false);
    }
  }

  /** Fires a conditional order; false when it expired instead (nothing left to close). */
  private trigger(order: PaperOrder, now: number): boolean {
    const position = this.position(order.symbol).qty;
    if (order.closePosition) {
      if (!reduces(order.side, position)) {
        this.finish(order, 'EXPIRED', now, 'no position to close when triggered');
        return false;
      }
      order.qty = Math.abs(position);
    }
    order.triggered = true;
    this.changed.add(order);
    const triggeredOrderId = String(++this.state.seq);
    order.triggeredOrderId = triggeredOrderId;
    if (this.byVenueOrderId) this.indexVenueIds(order);
    this.state.log.push({
      kind: 'order.triggered',
      clientOrderId: order.clientOrderId,
      venueOrderId: order.venueOrderId,
      triggeredOrderId,
      ts: now,
    });
    this.emit(this.event(order, 'venue.order.triggered', { triggeredOrderId }));
    return true;
  }

  /**
   * Trades `order` against the step's remaining liquidity. On arrival a crossing order takes at
   * the last price; a resting limit fills at its own price when the market comes to it.
   */
  private takeLiquidity(order: PaperOrder, last: number, now: number, arriving: boolean): void {
    const marketable = order.type !== 'limit' || limitCrosses(order.side, order.price ?? 0, last);
    const available =
      this.liquidityLeft.get(order.symbol) ?? this.options.liquidityPerStep ?? Number.POSITIVE_INFINITY;
    let wanted = cleanQty(order.qty - order.filledQty);
    if (order.reduceOnly || order.closePosition) {
      const position = this.position(order.symbol).qty;
      if (!reduces(order.side, position)) {
        // Binance expiry reason 4: a reduce-only order that would open a position is knocked out.
        this.finish(order, 'EXPIRED', now, 'reduce-only order would not reduce the position');
        return;
      }
      wanted = Math.min(wanted, Math.abs(position));
    }
    const tif = order.timeInForce;
    if (arriving && tif === 'FOK' && (!marketable || available < wanted)) {
      this.finish(order, 'EXPIRED', now, 'fill-or-kill could not fill in full');
      return;
    }
    if (marketable && available > 0 && wanted > 0) {
      const qty = cleanQty(Math.min(wanted, available));
      this.liquidityLeft.set(order.symbol, cleanQty(available - qty));
      const price = arriving || order.type !== 'limit' ? last : (order.price ?? last);
      this.fill(order, qty, price, now);
      if ((order.reduceOnly || order.closePosition) && LIVE.has(order.status)) {
        if (this.position(order.symbol).qty === 0) {
          this.finish(order, 'EXPIRED', now, 'reduce-only remainder expired: the position is closed');
          return;
        }
      }
    }
    if (arriving && tif === 'IOC' && LIVE.has(order.status)) {
      this.finish(order, 'EXPIRED', now, 'immediate-or-cancel remainder expired');
    }
  }

  private fill(order: PaperOrder, qty: number, price: number, now: number): void {
    if (qty <= 0) return;
    const before = order.filledQty;
    order.filledQty = cleanQty(before + qty);
    order.avgFillPrice = ((order.avgFillPrice ?? 0) * before + price * qty) / order.filledQty;
    order.status = order.filledQty >= order.qty ? 'FILLED' : 'PARTIALLY_FILLED';
    order.updatedAt = now;
    this.changed.add(order);
    const fee = qty * price * (this.options.feeRate ?? 0.0004);
    const fill: VenueFill = {
      tradeId: `T${++this.state.seq}`,
      clientOrderId: order.clientOrderId,
      venueOrderId: order.venueOrderId,
      symbol: order.symbol,
      side: order.side,
      qty,
      price,
      fee,
      ts: now,
    };
    this.state.fills.push(fill);
    this.state.log.push({ kind: 'order.filled', fill: { ...fill } });
    this.state.positions[order.symbol] = applyFill(
      this.position(order.symbol),
      order.side,
      qty,
      price,
      now,
    ).position;
    const message = this.event(order, 'venue.order.filled', {
      trade_id: fill.tradeId,
      qty,
      price,
      fee: { cost: fee, currency: 'USDT' },
    });
    this.emit(message);
    if (this.dice.fires('duplicateFill')) this.emit(message);
  }

  private finish(order: PaperOrder, status: 'CANCELED' | 'EXPIRED', now: number, reason: string): void {
    order.status = status;
    order.updatedAt = now;
    this.changed.add(order);
    const kind = status === 'CANCELED' ? 'order.canceled' : 'order.expired';
    this.state.log.push({
      kind,
      clientOrderId: order.clientOrderId,
      venueOrderId: order.venueOrderId,
      ts: now,
    });
    this.emit(
      this.event(order, status === 'CANCELED' ? 'venue.order.canceled' : 'venue.order.expired', { reason }),
    );
  }

  private event(
    order: VenueOrder,
    type: VenueEvent['type'],
    extra: Record<string, unknown> = {},
  ): VenueEvent {
    return {
      type,
      clientOrderId: order.clientOrderId,
      venueOrderId: order.venueOrderId,
      venue: VENUE,
      symbol: order.symbol,
      ts: this.options.clock.now(),
      ...extra,
    } as VenueEvent;
  }

  private emit(event: VenueEvent, delayMs = 0): void {
    if (this.messagesToLose === 0) {
      const disconnect = this.dice.fires('streamDisconnect');
      if (disconnect) this.messagesToLose = Math.max(1, disconnect.lose ?? 1);
    }
    const now = this.options.clock.now();
    if (this.messagesToLose > 0) {
      this.messagesToLose -= 1;
      if (this.messagesToLose === 0) {
        this.queue({ kind: 'gap', reason: 'stream disconnected; events were lost', ts: now }, now);
      }
      return;
    }
    this.queue({ kind: 'event', event }, now + delayMs);
  }

  private queue(message: VenueStreamMessage, deliverAt: number): void {
    const order = ++this.messageOrder;
    const latency = this.options.latency;
    const at = latency === undefined ? deliverAt : deliverAt + (latency.streamMs ?? 0) + this.jitter(order);
    this.pending.push({ deliverAt: at, order, message });
    const now = this.options.clock.now();
    // A late message is delivered on time by its own timer, not only at the next call or step.
    if (at > now) this.options.clock.setTimeout(() => this.flush(), at - now);
  }

  /** Extra delay for the `draw`-th answer or message: deterministic from the seed, no shared stream. */
  private jitter(draw: number): number {
    const jitterMs = this.options.latency?.jitterMs ?? 0;
    if (jitterMs === 0) return 0;
    return Math.floor(seededRandom(deriveSeed(this.options.seed, 1_000 + draw)).next() * (jitterMs + 1));
  }

  /** Answers a request after the REST latency; the venue has already acted on it. */
  private reply<T>(result: T): Promise<T> {
    const restMs = this.options.latency?.restMs ?? 0;
    const delay = restMs + this.jitter(++this.replies + 500_000);
    if (this.options.latency === undefined || delay === 0) return Promise.resolve(result);
    return new Promise((resolve) => this.options.clock.setTimeout(() => resolve(result), delay));
  }

  /** Delivers due messages in time order, so a delayed ack arrives after later events. */
  private flush(): void {
    const now = this.options.clock.now();
    const due = this.pending
      .filter((item) => item.deliverAt <= now)
      .sort((left, right) => left.deliverAt - right.deliverAt || left.order - right.order);
    this.pending = this.pending.filter((item) => item.deliverAt > now);
    for (const item of due) for (const listener of [...this.listeners]) listener(item.message);
  }

  private rateLimited(): VenueFailure | undefined {
    const limit = this.dice.fires('rateLimit');
    if (!limit) return undefined;
    return { ...binanceFailure(-1003, 429), retryAfter: limit.retryAfter ?? 1 };
  }

  /** The newest order per clientOrderId and symbol; built from the state once, then kept as orders arrive. */
  private latest(symbol: string, clientOrderId: string): PaperOrder | undefined {
    if (this.newest === null) {
      this.newest = new Map();
      for (const order of this.state.orders) this.newest.set(`${order.symbol} ${order.clientOrderId}`, order);
    }
    return this.newest.get(`${symbol} ${clientOrderId}`);
  }

  private indexVenueIds(order: PaperOrder): void {
    this.byVenueOrderId?.set(order.venueOrderId, order);
    if (order.triggeredOrderId !== undefined) this.byVenueOrderId?.set(order.triggeredOrderId, order);
  }

  private live(): PaperOrder[] {
    this.maybeLive ??= new Set(this.state.orders.filter((order) => LIVE.has(order.status)));
    const live: PaperOrder[] = [];
    for (const order of this.maybeLive) {
      if (LIVE.has(order.status)) live.push(order);
      else this.maybeLive.delete(order);
    }
    return live;
  }

  private position(symbol: string): PaperPosition {
    return this.state.positions[symbol] ?? { symbol, qty: 0, entryPrice: 0, realizedPnl: 0, updatedAt: 0 };
  }

  private copy(order: PaperOrder): VenueOrder {
    const { timeInForce: _timeInForce, triggered: _triggered, ...venueOrder } = order;
    return { ...venueOrder };
  }

  /**
   * Ends every call: persists when the call changed the venue or rolled a die (so a reopened venue
   * continues the very same sequences), then delivers due stream messages.
   */
  private settle<T>(result: T): T {
    const priceRandom = this.priceRandom.state();
    const faultRandom = this.faultRandom.state();
    if (this.dirty || priceRandom !== this.state.priceRandom || faultRandom !== this.state.faultRandom) {
      this.state.priceRandom = priceRandom;
      this.state.faultRandom = faultRandom;
      this.store?.commit(this.state, this.changed);
      this.changed.clear();
      this.dirty = false;
    }
    this.flush();
    return result;
  }
}

function pickRules(listed: PaperSymbol): Partial<SymbolRules> {
  const rules: Partial<SymbolRules> = {};
  if (listed.tickSize !== undefined) rules.tickSize = listed.tickSize;
  if (listed.stepSize !== undefined) rules.stepSize = listed.stepSize;
  if (listed.minQty !== undefined) rules.minQty = listed.minQty;
  if (listed.minNotional !== undefined) rules.minNotional = listed.minNotional;
  return rules;
}

function timeout(): VenueFailure {
  return { ok: false, errno: 'ETIMEDOUT', message: 'request timed out before the venue answered' };
}

function executionUnknown(): VenueFailure {
  return {
    ok: false,
    httpStatus: 503,
    message: 'Unknown error, please check your request or try again later.',
  };
}

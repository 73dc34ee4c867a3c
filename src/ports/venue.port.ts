/**
 * The venue port: everything keel asks of an exchange or broker account.
 * Guarantees every adapter must keep: calls never throw for venue answers — a refusal or an
 * ambiguous outcome comes back as a `VenueFailure` carrying the raw status/code/message that
 * `classifyOrderError` reads; orders are named by keel's clientOrderId; lookups by
 * clientOrderId work for open and recently closed orders; the stream reports every gap, so
 * a consumer knows when to reconcile instead of trusting silence.
 */
import type { OrderSide, OrderType, TimeInForce } from '../domain/intent.schema.js';
import type { VenueEvent } from '../domain/venue-event.schema.js';

/** A request the venue refused, or whose outcome is unknown; raw fields for classifyOrderError. */
export interface VenueFailure {
  ok: false;
  httpStatus?: number;
  code?: number | string;
  message: string;
  errno?: string;
  /** Seconds, from the Retry-After header, when the venue sent one. */
  retryAfter?: number;
}

export type VenueResult<T> = { ok: true; value: T } | VenueFailure;

/** What the venue holds for one order. Quantities are base-asset units. */
export interface VenueOrder {
  clientOrderId: string;
  venueOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';
  qty: number;
  filledQty: number;
  price?: number;
  stopPrice?: number;
  avgFillPrice?: number;
  reduceOnly: boolean;
  closePosition: boolean;
  /** Conditional (stop / take-profit) orders live in a separate book on Binance (algo orders). */
  conditional: boolean;
  /**
   * A triggered conditional order's own engine order id (Binance's `actualOrderId`, ALGO_UPDATE
   * `ai`): its fills carry this id, and are linked back to the conditional order through it.
   */
  triggeredOrderId?: string;
  updatedAt: number;
}

export interface VenuePosition {
  symbol: string;
  /** Signed: positive long, negative short (one-way mode). */
  qty: number;
  entryPrice: number;
  realizedPnl: number;
  unrealizedPnl: number;
  markPrice: number;
  updatedAt: number;
}

export interface VenueFill {
  tradeId: string;
  clientOrderId: string;
  venueOrderId: string;
  symbol: string;
  side: OrderSide;
  qty: number;
  price: number;
  fee: number;
  ts: number;
}

/** An order as keel sends it: the intent's terms plus the id keel chose. */
export interface SubmitOrder {
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  qty?: number;
  price?: number;
  stopPrice?: number;
  timeInForce?: TimeInForce;
  reduceOnly: boolean;
  closePosition: boolean;
}

export interface ReplaceOrder {
  clientOrderId: string;
  symbol: string;
  qty: number;
  price?: number;
}

export interface VenueCapabilities {
  /** ccxt exchange id, e.g. `binanceusdm`, `paper`. */
  venue: string;
  amend: boolean;
  conditionalOrders: boolean;
  closePosition: boolean;
  reduceOnly: boolean;
  timeInForce: readonly TimeInForce[];
  maxClientOrderIdLength: number;
  /** The stream can be trusted for fills; false means polling only. */
  stream: boolean;
}

/** A gap means events may have been lost: the consumer must reconcile. */
export type VenueStreamMessage =
  { kind: 'event'; event: VenueEvent } | { kind: 'gap'; reason: string; ts: number };

export interface VenueSubscription {
  close(): void;
}

export interface VenuePort {
  readonly capabilities: VenueCapabilities;
  submit(order: SubmitOrder): Promise<VenueResult<VenueOrder>>;
  cancel(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder>>;
  replace(order: ReplaceOrder): Promise<VenueResult<VenueOrder>>;
  /** Looks an order up by keel's id; `value: null` when the venue does not know it. */
  queryOrder(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder | null>>;
  openOrders(symbol?: string): Promise<VenueResult<VenueOrder[]>>;
  positions(): Promise<VenueResult<VenuePosition[]>>;
  fillsSince(sinceTs: number, symbol?: string): Promise<VenueResult<VenueFill[]>>;
  subscribe(onMessage: (message: VenueStreamMessage) => void): VenueSubscription;
  /** A network stream's state, for readiness: absent for an in-process venue. */
  streamHealth?(): VenueStreamHealth;
}

export interface VenueStreamHealth {
  connected: boolean;
  /** When the last frame (event or heartbeat) arrived, ms; null before the first. */
  lastFrameAt: number | null;
  /** Gaps reported so far. */
  gaps: number;
}

/**
 * How the paper venue's orders, fills and stream messages look on Binance USDⓈ-M's wire: REST
 * order and algo-order objects, user trades, and user-data-stream events. Invariants: numbers
 * are strings and ids integers, as Binance sends them; a conditional order is an algo order
 * until it triggers, and from then on its fills belong to a new engine order (`actualOrderId`,
 * ALGO_UPDATE `ai`), so a client that does not link them sees foreign fills, as on Binance.
 */
import type { OrderType } from '../../../domain/intent.schema.js';
import type { VenueFill, VenueOrder, VenuePosition } from '../../../ports/venue.port.js';

const WIRE_TYPE: Readonly<Record<OrderType, string>> = {
  market: 'MARKET',
  limit: 'LIMIT',
  stop_market: 'STOP_MARKET',
  take_profit_market: 'TAKE_PROFIT_MARKET',
};

/** Binance's order type name for a keel order type. */
export function wireType(type: OrderType): string {
  return WIRE_TYPE[type];
}

/** The keel order type a Binance type names, or undefined for types the paper venue cannot trade. */
export function orderTypeOf(wire: string): OrderType | undefined {
  const found = Object.entries(WIRE_TYPE).find(([, name]) => name === wire);
  return found ? (found[0] as OrderType) : undefined;
}

/** A decimal string without float noise (Binance answers 8 decimals at most). */
export function decimal(value: number): string {
  if (!Number.isFinite(value)) return '0';
  return String(Number(value.toFixed(8)));
}

/**
 * The clientOrderId of the engine order a triggered conditional became. Binance does not document
 * it; keel's adapter never relies on it and links fills through the algo id instead.
 */
export function childClientOrderId(order: VenueOrder): string {
  return `paper-algo-${order.venueOrderId}`;
}

/** The algo status a conditional order shows: NEW until triggered, FINISHED once its engine order is done. */
export function algoStatusOf(order: VenueOrder): string {
  const triggered = order.triggeredOrderId !== undefined;
  const live = order.status === 'NEW' || order.status === 'PARTIALLY_FILLED';
  if (!triggered) return order.status === 'NEW' ? 'NEW' : order.status;
  return live ? 'TRIGGERED' : 'FINISHED';
}

/** A plain order as `GET /fapi/v1/order` shows it; `child` renders a triggered conditional's engine order. */
export function plainOrderJson(order: VenueOrder, child = false): Record<string, unknown> {
  const avg = order.avgFillPrice ?? 0;
  return {
    orderId: Number(child ? order.triggeredOrderId : order.venueOrderId),
    symbol: order.symbol,
    status: order.status,
    clientOrderId: child ? childClientOrderId(order) : order.clientOrderId,
    price: decimal(order.price ?? 0),
    avgPrice: decimal(avg),
    origQty: decimal(order.qty),
    executedQty: decimal(order.filledQty),
    cumQty: decimal(order.filledQty),
    cumQuote: decimal(order.filledQty * avg),
    timeInForce: 'GTC',
    type: child ? 'MARKET' : wireType(order.type),
    origType: wireType(order.type),
    reduceOnly: order.reduceOnly || (child && order.closePosition),
    closePosition: order.closePosition,
    side: order.side.toUpperCase(),
    positionSide: 'BOTH',
    stopPrice: decimal(order.stopPrice ?? 0),
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    priceMatch: 'NONE',
    selfTradePreventionMode: 'EXPIRE_MAKER',
    goodTillDate: 0,
    time: order.updatedAt,
    updateTime: order.updatedAt,
  };
}

/** A conditional order as the algo-order endpoints show it. */
export function algoOrderJson(order: VenueOrder): Record<string, unknown> {
  return {
    algoId: Number(order.venueOrderId),
    clientAlgoId: order.clientOrderId,
    algoType: 'CONDITIONAL',
    orderType: wireType(order.type),
    symbol: order.symbol,
    side: order.side.toUpperCase(),
    positionSide: 'BOTH',
    timeInForce: 'GTC',
    quantity: decimal(order.qty),
    algoStatus: algoStatusOf(order),
    actualOrderId: order.triggeredOrderId ?? '',
    actualPrice: decimal(order.avgFillPrice ?? 0),
    triggerPrice: decimal(order.stopPrice ?? 0),
    price: '0',
    icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER',
    workingType: 'CONTRACT_PRICE',
    priceMatch: 'NONE',
    closePosition: order.closePosition,
    priceProtect: false,
    reduceOnly: order.reduceOnly,
    createTime: order.updatedAt,
    updateTime: order.updatedAt,
    triggerTime: order.triggeredOrderId === undefined ? 0 : order.updatedAt,
    goodTillDate: 0,
  };
}

/** One row of `GET /fapi/v1/userTrades`; `orderId` is the engine order that traded. */
export function userTradeJson(fill: VenueFill, order: VenueOrder | undefined): Record<string, unknown> {
  const engineOrderId = order?.triggeredOrderId ?? fill.venueOrderId;
  return {
    buyer: fill.side === 'buy',
    commission: decimal(fill.fee),
    commissionAsset: 'USDT',
    id: tradeNumber(fill.tradeId),
    maker: false,
    orderId: Number(engineOrderId),
    price: decimal(fill.price),
    qty: decimal(fill.qty),
    quoteQty: decimal(fill.qty * fill.price),
    realizedPnl: '0',
    side: fill.side.toUpperCase(),
    positionSide: 'BOTH',
    symbol: fill.symbol,
    time: fill.ts,
  };
}

/** Binance trade ids are integers; the paper venue's are `T<seq>`. */
export function tradeNumber(tradeId: string): number {
  return Number(tradeId.replace(/^T/, ''));
}

/** One row of `GET /fapi/v3/positionRisk`. */
export function positionRiskJson(position: VenuePosition): Record<string, unknown> {
  const notional = position.qty * position.markPrice;
  return {
    symbol: position.symbol,
    positionSide: 'BOTH',
    positionAmt: decimal(position.qty),
    entryPrice: decimal(position.entryPrice),
    breakEvenPrice: decimal(position.entryPrice),
    markPrice: decimal(position.markPrice),
    unRealizedProfit: decimal(position.unrealizedPnl),
    liquidationPrice: '0',
    isolatedMargin: '0',
    notional: decimal(notional),
    marginAsset: 'USDT',
    isolatedWallet: '0',
    initialMargin: decimal(Math.abs(notional)),
    maintMargin: decimal(Math.abs(notional) * 0.004),
    positionInitialMargin: decimal(Math.abs(notional)),
    openOrderInitialMargin: '0',
    adl: 0,
    bidNotional: '0',
    askNotional: '0',
    leverage: '1',
    marginType: 'cross',
    updateTime: position.updatedAt,
  };
}

/** The `o` object of an ORDER_TRADE_UPDATE for one execution of `order`. */
export function orderTradeUpdate(args: {
  order: VenueOrder;
  child: boolean;
  execution: 'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED' | 'AMENDMENT';
  status: string;
  cumulative: number;
  ts: number;
  trade?: { id: number; qty: number; price: number; fee: number };
}): Record<string, unknown> {
  const { order, child, trade } = args;
  return {
    e: 'ORDER_TRADE_UPDATE',
    E: args.ts,
    T: args.ts,
    o: {
      s: order.symbol,
      c: child ? childClientOrderId(order) : order.clientOrderId,
      S: order.side.toUpperCase(),
      o: child ? 'MARKET' : wireType(order.type),
      f: 'GTC',
      q: decimal(order.qty),
      p: decimal(order.price ?? 0),
      ap: decimal(order.avgFillPrice ?? 0),
      sp: decimal(order.stopPrice ?? 0),
      x: args.execution,
      X: args.status,
      i: Number(child ? order.triggeredOrderId : order.venueOrderId),
      l: decimal(trade?.qty ?? 0),
      z: decimal(args.cumulative),
      L: decimal(trade?.price ?? 0),
      N: 'USDT',
      n: decimal(trade?.fee ?? 0),
      T: args.ts,
      t: trade?.id ?? 0,
      b: '0',
      a: '0',
      m: false,
      R: order.reduceOnly,
      wt: 'CONTRACT_PRICE',
      ot: wireType(order.type),
      ps: 'BOTH',
      cp: order.closePosition,
      rp: '0',
      pP: false,
      si: 0,
      ss: 0,
      V: 'EXPIRE_MAKER',
      pm: 'NONE',
      gtd: 0,
      er: args.execution === 'EXPIRED' ? '4' : '0',
    },
  };
}

/** An ALGO_UPDATE for a conditional order; `ai` names its engine order once triggered. */
export function algoUpdate(order: VenueOrder, status: string, ts: number): Record<string, unknown> {
  return {
    e: 'ALGO_UPDATE',
    T: ts,
    E: ts,
    o: {
      caid: order.clientOrderId,
      aid: Number(order.venueOrderId),
      at: 'CONDITIONAL',
      o: wireType(order.type),
      s: order.symbol,
      S: order.side.toUpperCase(),
      ps: 'BOTH',
      f: 'GTC',
      q: decimal(order.qty),
      X: status,
      ai: order.triggeredOrderId ?? '',
      ap: decimal(order.avgFillPrice ?? 0),
      aq: decimal(order.filledQty),
      act: '0',
      tp: decimal(order.stopPrice ?? 0),
      p: '0',
      V: 'EXPIRE_MAKER',
      wt: 'CONTRACT_PRICE',
      pm: 'NONE',
      cp: order.closePosition,
      pP: false,
      R: order.reduceOnly,
      tt: 0,
      gtd: 0,
      rm: '',
    },
  };
}

/** An ACCOUNT_UPDATE carrying one symbol's position after a trade. */
export function accountUpdate(position: VenuePosition, ts: number): Record<string, unknown> {
  return {
    e: 'ACCOUNT_UPDATE',
    E: ts,
    T: ts,
    a: {
      m: 'ORDER',
      B: [],
      P: [
        {
          s: position.symbol,
          pa: decimal(position.qty),
          ep: decimal(position.entryPrice),
          bep: decimal(position.entryPrice),
          cr: decimal(position.realizedPnl),
          up: decimal(position.unrealizedPnl),
          mt: 'cross',
          iw: '0',
          ps: 'BOTH',
        },
      ],
    },
  };
}

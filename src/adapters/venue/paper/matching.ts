/**
 * The paper venue's matching rules as pure functions: when a limit crosses, when a conditional
 * order triggers (Binance rules: STOP BUY at last >= trigger, SELL at <=; TAKE_PROFIT the other
 * way round), and how a fill moves a one-way position. Invariants: a position's entry price is the
 * volume-weighted price of the open side only; realised PnL changes only when a fill reduces.
 */
import type { OrderSide, OrderType } from '../../../domain/intent.schema.js';

/** A one-way position: signed quantity, positive long. */
export interface PaperPosition {
  symbol: string;
  qty: number;
  entryPrice: number;
  realizedPnl: number;
  updatedAt: number;
}

/** True when a limit on `side` at `limit` can trade against the last price. */
export function limitCrosses(side: OrderSide, limit: number, last: number): boolean {
  return side === 'buy' ? last <= limit : last >= limit;
}

/** True when a stop or take-profit order with this trigger fires at the last price. */
export function conditionalTriggers(
  type: OrderType,
  side: OrderSide,
  trigger: number,
  last: number,
): boolean {
  const stop = type === 'stop_market';
  const upward = stop === (side === 'buy');
  return upward ? last >= trigger : last <= trigger;
}

/** True when an order on `side` would shrink (not grow or flip open) the position. */
export function reduces(side: OrderSide, positionQty: number): boolean {
  return side === 'buy' ? positionQty < 0 : positionQty > 0;
}

/** Cleans float drift from quantities so 0.3 - 0.1 - 0.2 is 0. */
export function cleanQty(qty: number): number {
  return Number(qty.toFixed(10));
}

/** The position after a fill of `qty` on `side` at `price`, with the realised PnL it books. */
export function applyFill(
  position: PaperPosition,
  side: OrderSide,
  qty: number,
  price: number,
  ts: number,
): { position: PaperPosition; realized: number } {
  const signed = side === 'buy' ? qty : -qty;
  const current = position.qty;
  let realized = 0;
  let entryPrice = position.entryPrice;
  const next = cleanQty(current + signed);
  if (current === 0 || Math.sign(current) === Math.sign(signed)) {
    entryPrice = (Math.abs(current) * position.entryPrice + qty * price) / Math.abs(next);
  } else {
    const closed = Math.min(Math.abs(current), qty);
    realized = closed * (price - position.entryPrice) * Math.sign(current);
    if (next === 0) entryPrice = 0;
    else if (Math.sign(next) !== Math.sign(current)) entryPrice = price;
  }
  return {
    position: {
      symbol: position.symbol,
      qty: next,
      entryPrice,
      realizedPnl: position.realizedPnl + realized,
      updatedAt: ts,
    },
    realized,
  };
}

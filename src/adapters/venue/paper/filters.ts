/**
 * exchangeInfo-style filters for the paper venue and the Binance USDⓈ-M codes they answer with.
 * Invariants: a refused order gets the same code and message Binance sends (HTTP 400); price and
 * quantity steps are checked exactly, not after float drift; reduce-only and close-position
 * orders are exempt from MIN_NOTIONAL, as the -4164 message says.
 */
import { BINANCEUSDM_ERRORS } from '../../../domain/venues/binanceusdm.errors.js';
import type { SubmitOrder, VenueFailure } from '../../../ports/venue.port.js';

/** The filters of one symbol (PRICE_FILTER tickSize, LOT_SIZE stepSize/minQty, MIN_NOTIONAL notional). */
export interface SymbolRules {
  tickSize: number;
  stepSize: number;
  minQty: number;
  minNotional: number;
}

export const DEFAULT_SYMBOL_RULES: SymbolRules = {
  tickSize: 0.1,
  stepSize: 0.001,
  minQty: 0.001,
  minNotional: 5,
};

const CLIENT_ORDER_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;

/** A Binance-shaped refusal: HTTP 400 with the published code and message. */
export function binanceFailure(code: number, httpStatus = 400, detail?: string): VenueFailure {
  const published = BINANCEUSDM_ERRORS.get(code)?.message ?? 'Unknown error.';
  return { ok: false, httpStatus, code, message: detail ?? published };
}

/** True when `value` is a whole multiple of `step` (a step of 0 disables the rule, as on Binance). */
export function isMultipleOf(value: number, step: number): boolean {
  if (step <= 0) return true;
  const ratio = value / step;
  return Math.abs(ratio - Math.round(ratio)) < 1e-9 * Math.max(1, Math.abs(ratio));
}

/**
 * The first filter `order` breaks, as Binance would answer, or undefined when it passes.
 * `markPrice` prices MARKET and conditional orders for MIN_NOTIONAL.
 */
export function checkFilters(
  order: SubmitOrder,
  rules: SymbolRules,
  markPrice: number,
): VenueFailure | undefined {
  if (order.clientOrderId.length > 36) return binanceFailure(-4015);
  if (!CLIENT_ORDER_ID.test(order.clientOrderId)) return binanceFailure(-1100);
  const conditional = order.type === 'stop_market' || order.type === 'take_profit_market';
  if (order.closePosition) {
    if (!conditional) return binanceFailure(-1106, 400, "Parameter 'closePosition' sent when not required.");
    if (order.qty !== undefined) return binanceFailure(-4137);
    if (order.reduceOnly) return binanceFailure(-1106, 400, "Parameter 'reduceonly' sent when not required.");
  } else if (order.qty === undefined || order.qty <= 0) {
    return binanceFailure(-4003);
  }
  if (order.type === 'limit' && order.price === undefined)
    return binanceFailure(
      -1102,
      400,
      "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
    );
  if (conditional && order.stopPrice === undefined)
    return binanceFailure(
      -1102,
      400,
      "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.",
    );
  for (const price of [order.price, order.stopPrice]) {
    if (price === undefined) continue;
    if (price <= 0) return binanceFailure(-4001);
    if (!isMultipleOf(price, rules.tickSize)) return binanceFailure(-4014);
  }
  if (order.qty !== undefined) {
    if (!isMultipleOf(order.qty, rules.stepSize)) return binanceFailure(-1111);
    if (order.qty < rules.minQty) return binanceFailure(-1013, 400, 'Filter failure: LOT_SIZE');
    const notional =
      order.qty * (order.type === 'limit' && order.price !== undefined ? order.price : markPrice);
    if (!order.reduceOnly && notional < rules.minNotional) {
      return binanceFailure(
        -4164,
        400,
        `Order's notional must be no smaller than ${rules.minNotional} (unless you choose reduce only)`,
      );
    }
  }
  return undefined;
}

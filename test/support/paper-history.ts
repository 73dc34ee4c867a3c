/**
 * A paper-venue history built by hand, for the persistence test and the bench: a state file as an
 * earlier keel would have saved it, so a long history costs no fsync per order to build.
 */
import type { PaperState } from '../../src/adapters/venue/paper/paper.store.js';

/**
 * A state as an earlier keel would have saved it after `count` filled market buys: one order, one
 * fill and two log lines each. Written by hand so a long history costs no fsync per order to build.
 */
export function legacyState(count: number, symbol = 'BTCUSDT'): PaperState {
  const state: PaperState = {
    version: 1,
    seq: 2 * count,
    lastStepAt: 0,
    priceRandom: 17,
    faultRandom: 29,
    prices: { [symbol]: 100 },
    orders: [],
    positions: {},
    fills: [],
    log: [],
  };
  for (let index = 0; index < count; index += 1) {
    const base = {
      clientOrderId: `H-${index}`,
      venueOrderId: String(2 * index + 1),
      symbol,
    };
    state.orders.push({
      ...base,
      side: 'buy',
      type: 'market',
      status: 'FILLED',
      qty: 0.001,
      filledQty: 0.001,
      avgFillPrice: 100,
      reduceOnly: false,
      closePosition: false,
      conditional: false,
      updatedAt: 0,
    });
    const fill = {
      ...base,
      tradeId: `T${2 * index + 2}`,
      side: 'buy' as const,
      qty: 0.001,
      price: 100,
      fee: 0.00004,
      ts: 0,
    };
    state.fills.push(fill);
    state.log.push({ kind: 'order.accepted', ...base, ts: 0 }, { kind: 'order.filled', fill });
  }
  state.positions[symbol] = {
    symbol,
    qty: count * 0.001,
    entryPrice: 100,
    realizedPnl: 0,
    updatedAt: 0,
  };
  return state;
}

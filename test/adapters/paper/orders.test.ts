import { describe, expect, it } from 'vitest';
import { clientOrderIdsAcceptedTwice } from '../../../src/adapters/venue/paper/paper.venue.js';
import { SYMBOL, market, order, script, streamTypes, valueOf } from './paper-support.js';

describe('paper venue orders', () => {
  it("fills a market order at the random walk's last price", async () => {
    const { venue, advance } = market({ symbols: { [SYMBOL]: { start: 100, volatility: 0.01 } } });
    advance(3000);
    const last = venue.price(SYMBOL);
    expect(last).not.toBe(100);
    const placed = valueOf(await venue.submit(order()));
    expect(placed.status).toBe('FILLED');
    expect(placed.avgFillPrice).toBe(last);
    expect(valueOf(await venue.fillsSince(0)).map((fill) => fill.price)).toEqual([last]);
  });

  it('fills a market order partially, one liquidity slice per step', async () => {
    const { venue, advance } = market({ liquidityPerStep: 0.4 });
    const placed = valueOf(await venue.submit(order({ qty: 1 })));
    expect(placed).toMatchObject({ status: 'PARTIALLY_FILLED', filledQty: 0.4 });
    advance(1000);
    expect(valueOf(await venue.queryOrder(SYMBOL, 'EN-1'))).toMatchObject({ filledQty: 0.8 });
    advance(1000);
    expect(valueOf(await venue.queryOrder(SYMBOL, 'EN-1'))).toMatchObject({ status: 'FILLED', filledQty: 1 });
    expect(valueOf(await venue.fillsSince(0)).map((fill) => fill.qty)).toEqual([0.4, 0.4, 0.2]);
  });

  it('rests a limit order until the market trades through it, then fills at the limit price', async () => {
    const { venue, advance } = market({ ticks: script({ 1: 99.5, 2: 98.9 }) });
    valueOf(await venue.submit(order({ type: 'limit', price: 99, timeInForce: 'GTC' })));
    advance(1000);
    expect(valueOf(await venue.openOrders(SYMBOL)).map((open) => open.clientOrderId)).toEqual(['EN-1']);
    advance(1000);
    expect(valueOf(await venue.queryOrder(SYMBOL, 'EN-1'))).toMatchObject({
      status: 'FILLED',
      avgFillPrice: 99,
    });
    expect(valueOf(await venue.openOrders(SYMBOL))).toEqual([]);
  });

  it('expires the unfilled rest of an IOC order', async () => {
    const { venue } = market({ liquidityPerStep: 0.4 });
    const crossing = valueOf(await venue.submit(order({ type: 'limit', price: 101, timeInForce: 'IOC' })));
    expect(crossing).toMatchObject({ status: 'EXPIRED', filledQty: 0.4 });
    const away = valueOf(
      await venue.submit(order({ clientOrderId: 'EN-2', type: 'limit', price: 90, timeInForce: 'IOC' })),
    );
    expect(away).toMatchObject({ status: 'EXPIRED', filledQty: 0 });
  });

  it('kills a FOK order that cannot fill in full and fills one that can', async () => {
    const { venue } = market({ liquidityPerStep: 0.4 });
    const killed = valueOf(await venue.submit(order({ type: 'limit', price: 101, timeInForce: 'FOK' })));
    expect(killed).toMatchObject({ status: 'EXPIRED', filledQty: 0 });
    const filled = valueOf(
      await venue.submit(
        order({ clientOrderId: 'EN-2', qty: 0.3, type: 'limit', price: 101, timeInForce: 'FOK' }),
      ),
    );
    expect(filled).toMatchObject({ status: 'FILLED', filledQty: 0.3 });
  });

  it('rejects a post-only (GTX) order that would cross with -5022 and rests one that would not', async () => {
    const { venue } = market();
    const crossing = await venue.submit(order({ type: 'limit', price: 100.5, timeInForce: 'GTX' }));
    expect(crossing).toMatchObject({ ok: false, httpStatus: 400, code: -5022 });
    const resting = valueOf(await venue.submit(order({ type: 'limit', price: 99.5, timeInForce: 'GTX' })));
    expect(resting.status).toBe('NEW');
  });

  it('rejects a reduce-only order that would not reduce with -2022', async () => {
    const { venue } = market();
    expect(await venue.submit(order({ side: 'sell', reduceOnly: true }))).toMatchObject({
      ok: false,
      code: -2022,
    });
    valueOf(await venue.submit(order({ qty: 1 })));
    expect(await venue.submit(order({ clientOrderId: 'EN-2', reduceOnly: true }))).toMatchObject({
      ok: false,
      code: -2022,
    });
  });

  it('clips a reduce-only order to the position and expires the rest', async () => {
    const { venue } = market();
    valueOf(await venue.submit(order({ qty: 1 })));
    const exit = valueOf(
      await venue.submit(order({ clientOrderId: 'EX-1', side: 'sell', qty: 3, reduceOnly: true })),
    );
    expect(exit).toMatchObject({ status: 'EXPIRED', filledQty: 1 });
    expect(valueOf(await venue.positions())).toEqual([]);
  });

  it('triggers a close-position stop-market when the price falls through it and closes the whole position', async () => {
    const { venue, advance, messages } = market({ ticks: script({ 1: 97, 2: 94.9 }) });
    valueOf(await venue.submit(order({ qty: 2 })));
    const { qty: _qty, ...closeAll } = order({
      clientOrderId: 'SL-1',
      side: 'sell',
      type: 'stop_market',
      stopPrice: 95,
      closePosition: true,
    });
    const stop = valueOf(await venue.submit(closeAll));
    expect(stop).toMatchObject({ status: 'NEW', conditional: true });
    advance(1000);
    expect(valueOf(await venue.queryOrder(SYMBOL, 'SL-1'))?.status).toBe('NEW');
    advance(1000);
    expect(valueOf(await venue.queryOrder(SYMBOL, 'SL-1'))).toMatchObject({ status: 'FILLED', filledQty: 2 });
    expect(valueOf(await venue.positions())).toEqual([]);
    expect(streamTypes(messages).slice(-2)).toEqual(['venue.order.triggered', 'venue.order.filled']);
  });

  it('triggers a take-profit sell when the price rises to it', async () => {
    const { venue, advance } = market({ ticks: script({ 1: 105 }) });
    valueOf(await venue.submit(order({ qty: 1 })));
    valueOf(
      await venue.submit(
        order({
          clientOrderId: 'TP-1',
          side: 'sell',
          type: 'take_profit_market',
          stopPrice: 105,
          reduceOnly: true,
        }),
      ),
    );
    advance(1000);
    expect(valueOf(await venue.queryOrder(SYMBOL, 'TP-1'))).toMatchObject({
      status: 'FILLED',
      avgFillPrice: 105,
    });
  });

  it('rejects a stop that would trigger at once (-2021) and a close-position order with a quantity (-4137)', async () => {
    const { venue } = market();
    const crossed = await venue.submit(order({ side: 'sell', type: 'stop_market', stopPrice: 101 }));
    expect(crossed).toMatchObject({ ok: false, code: -2021 });
    const withQty = await venue.submit(
      order({ side: 'sell', type: 'stop_market', stopPrice: 95, closePosition: true }),
    );
    expect(withQty).toMatchObject({ ok: false, code: -4137 });
  });

  it('answers filter violations with the Binance codes', async () => {
    const { venue } = market({
      symbols: {
        [SYMBOL]: { start: 100, volatility: 0, tickSize: 0.1, stepSize: 0.001, minQty: 0.01, minNotional: 5 },
      },
    });
    const cases = [
      [order({ type: 'limit', price: 99.05, timeInForce: 'GTC' }), -4014],
      [order({ qty: 0.0015 }), -1111],
      [order({ qty: 0 }), -4003],
      [order({ qty: 0.005 }), -1013],
      [order({ qty: 0.04 }), -4164],
      [order({ clientOrderId: 'x'.repeat(37) }), -4015],
      [order({ symbol: 'NOPEUSDT' }), -1121],
    ] as const;
    for (const [request, code] of cases) {
      expect(await venue.submit(request), `code ${code}`).toMatchObject({ ok: false, httpStatus: 400, code });
    }
    expect(valueOf(await venue.fillsSince(0))).toEqual([]);
  });

  it('exempts reduce-only orders from the minimum notional', async () => {
    const { venue } = market();
    valueOf(await venue.submit(order({ qty: 1 })));
    const exit = valueOf(
      await venue.submit(order({ clientOrderId: 'EX-1', side: 'sell', qty: 0.01, reduceOnly: true })),
    );
    expect(exit.status).toBe('FILLED');
  });

  it('refuses a clientOrderId that is live with -4116 but accepts it again once the first order is done', async () => {
    const { venue } = market();
    valueOf(await venue.submit(order({ type: 'limit', price: 90, timeInForce: 'GTC' })));
    expect(await venue.submit(order())).toMatchObject({ ok: false, code: -4116 });
    valueOf(await venue.cancel(SYMBOL, 'EN-1'));
    valueOf(await venue.submit(order()));
    expect(clientOrderIdsAcceptedTwice(venue.groundTruth().log)).toEqual(['EN-1']);
  });

  it('answers a cancel of an unknown or finished order with -2011 and a query of an unknown order with null', async () => {
    const { venue } = market();
    expect(await venue.cancel(SYMBOL, 'NOPE')).toMatchObject({ ok: false, httpStatus: 400, code: -2011 });
    valueOf(await venue.submit(order()));
    expect(await venue.cancel(SYMBOL, 'EN-1')).toMatchObject({ ok: false, code: -2011 });
    expect(await venue.queryOrder(SYMBOL, 'NOPE')).toEqual({ ok: true, value: null });
  });

  it('cancels a resting order and drops it from the open orders', async () => {
    const { venue, messages } = market();
    valueOf(await venue.submit(order({ type: 'limit', price: 90, timeInForce: 'GTC' })));
    expect(valueOf(await venue.cancel(SYMBOL, 'EN-1')).status).toBe('CANCELED');
    expect(valueOf(await venue.openOrders())).toEqual([]);
    expect(streamTypes(messages)).toEqual(['venue.order.accepted', 'venue.order.canceled']);
  });

  it('amends a resting limit in place and fills it when the new price crosses', async () => {
    const { venue } = market();
    valueOf(await venue.submit(order({ type: 'limit', price: 90, timeInForce: 'GTC' })));
    const amended = valueOf(
      await venue.replace({ clientOrderId: 'EN-1', symbol: SYMBOL, qty: 2, price: 100.5 }),
    );
    expect(amended).toMatchObject({ status: 'FILLED', qty: 2, filledQty: 2, avgFillPrice: 100 });
  });

  it('cancels a post-only order whose amended price would cross', async () => {
    const { venue } = market();
    valueOf(await venue.submit(order({ type: 'limit', price: 99, timeInForce: 'GTX' })));
    const amended = valueOf(
      await venue.replace({ clientOrderId: 'EN-1', symbol: SYMBOL, qty: 1, price: 101 }),
    );
    expect(amended).toMatchObject({ status: 'CANCELED', filledQty: 0 });
  });

  it('keeps entry price and realised PnL of a one-way position through reduce and flip', async () => {
    const { venue, advance } = market({ ticks: script({ 1: 110 }) });
    valueOf(await venue.submit(order({ qty: 1 })));
    advance(1000);
    valueOf(await venue.submit(order({ clientOrderId: 'EX-1', side: 'sell', qty: 0.5 })));
    const [half] = valueOf(await venue.positions());
    expect(half).toMatchObject({
      qty: 0.5,
      entryPrice: 100,
      realizedPnl: 5,
      markPrice: 110,
      unrealizedPnl: 5,
    });
    valueOf(await venue.submit(order({ clientOrderId: 'EX-2', side: 'sell', qty: 1 })));
    const [flipped] = valueOf(await venue.positions());
    expect(flipped).toMatchObject({ qty: -0.5, entryPrice: 110, realizedPnl: 10 });
  });

  it('books a profit when a short is bought back lower', async () => {
    const { venue, advance } = market({ ticks: script({ 1: 90 }) });
    valueOf(await venue.submit(order({ side: 'sell', qty: 1 })));
    advance(1000);
    const [short] = valueOf(await venue.positions());
    expect(short).toMatchObject({ qty: -1, entryPrice: 100, unrealizedPnl: 10 });
    valueOf(await venue.submit(order({ clientOrderId: 'EX-1', side: 'buy', qty: 1, reduceOnly: true })));
    expect(valueOf(await venue.positions())).toEqual([]);
    expect(venue.groundTruth().positions).toMatchObject([{ symbol: SYMBOL, qty: 0, realizedPnl: 10 }]);
  });
});

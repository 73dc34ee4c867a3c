/**
 * The unified ccxt adapter's own logic for Bybit and OKX, which `keel paper-venue` cannot stand
 * in for: contract sizes (an OKX BTC swap contract is 0.01 BTC), market naming, close-position
 * stops sized to the position, lookups in each exchange's books, fills linked through algo ids,
 * and the polled "stream". ccxt's request layer is replaced at the method boundary (createOrder,
 * fetchOrder, …), so what keel asks ccxt for, and how it reads ccxt's answers, is what is tested.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange, Order, Position, Trade } from 'ccxt';
import { UnifiedCcxtVenue } from '../../../src/adapters/venue/ccxt/unified.venue.js';
import { openCcxtVenue } from '../../../src/adapters/venue/ccxt/index.js';
import type { VenueStreamMessage } from '../../../src/ports/venue.port.js';
import { ManualClock } from '../../support/manual-clock.js';

type Call = { method: string; args: unknown[] };

function market(id: string, contractSize: number) {
  return {
    id,
    symbol: 'BTC/USDT:USDT',
    base: 'BTC',
    quote: 'USDT',
    settle: 'USDT',
    baseId: 'BTC',
    quoteId: 'USDT',
    settleId: 'USDT',
    type: 'swap',
    spot: false,
    margin: false,
    swap: true,
    future: false,
    option: false,
    active: true,
    contract: true,
    linear: true,
    inverse: false,
    contractSize,
    precision: { amount: 1, price: 0.1 },
    limits: { amount: {}, price: {}, cost: {}, leverage: {} },
    info: {},
  };
}

function order(fields: Partial<Order>): Order {
  return {
    id: '100',
    clientOrderId: 'ENabc',
    symbol: 'BTC/USDT:USDT',
    side: 'buy',
    type: 'market',
    status: 'open',
    amount: 5,
    filled: 0,
    remaining: 5,
    info: {},
    timestamp: 1_000,
    ...fields,
  } as Order;
}

/** A venue whose ccxt exchange answers from the given methods and records every call. */
function venueWith(
  exchange: 'okx' | 'bybit',
  contractSize: number,
  methods: Partial<Record<keyof Exchange, (...args: never[]) => unknown>>,
): { venue: UnifiedCcxtVenue; calls: Call[]; clock: ManualClock } {
  const clock = new ManualClock(1_700_000_000_000);
  const venue = new UnifiedCcxtVenue({
    exchange,
    apiKey: 'key',
    secret: 'secret',
    password: 'pass',
    clock,
    pollIntervalMs: 1_000,
  });
  const calls: Call[] = [];
  const target = venue.client.exchange as unknown as Record<string, unknown>;
  venue.client.exchange.setMarkets([
    market(exchange === 'okx' ? 'BTC-USDT-SWAP' : 'BTCUSDT', contractSize),
  ] as never);
  for (const name of [
    'createOrder',
    'fetchOrder',
    'cancelOrder',
    'editOrder',
    'fetchOpenOrders',
    'fetchCanceledAndClosedOrders',
    'fetchPositions',
    'fetchMyTrades',
  ]) {
    const impl = (methods as Record<string, ((...args: unknown[]) => unknown) | undefined>)[name];
    target[name] = (...args: unknown[]) => {
      calls.push({ method: name, args });
      if (!impl) return Promise.reject(new Error(`unexpected call ${name}`));
      return Promise.resolve(impl(...args));
    };
  }
  return { venue, calls, clock };
}

describe('unified ccxt venue (Bybit, OKX)', () => {
  it('converts base quantities to OKX contracts and back, and names the market by its id', async () => {
    const { venue, calls } = venueWith('okx', 0.01, {
      createOrder: () => order({ id: '100', status: undefined }),
      fetchOrder: () => order({ id: '100', status: 'closed', amount: 5, filled: 5, average: 50_000 }),
    });
    const answer = await venue.submit({
      clientOrderId: 'ENabc',
      symbol: 'BTC/USDT:USDT',
      side: 'buy',
      type: 'market',
      qty: 0.05,
      reduceOnly: false,
      closePosition: false,
    });
    expect(calls[0]).toMatchObject({
      method: 'createOrder',
      args: ['BTC/USDT:USDT', 'market', 'buy', 5, undefined, { clientOrderId: 'ENabc' }],
    });
    expect(answer).toEqual({
      ok: true,
      value: expect.objectContaining({
        symbol: 'BTC-USDT-SWAP',
        status: 'FILLED',
        qty: 0.05,
        filledQty: 0.05,
        avgFillPrice: 50_000,
        conditional: false,
      }),
    });
  });

  it("sends a stop as ccxt's stopLossPrice, reduce-only, and looks it up in the trigger book", async () => {
    const { venue, calls } = venueWith('okx', 0.01, {
      createOrder: () => order({ id: 'algo1', clientOrderId: 'SLabc', side: 'sell' }),
      fetchOrder: (_id: never, _symbol: never, params: never) =>
        (params as { trigger?: boolean }).trigger
          ? order({
              id: 'algo1',
              clientOrderId: 'SLabc',
              side: 'sell',
              triggerPrice: 45_000,
              reduceOnly: true,
            })
          : undefined,
    });
    const answer = await venue.submit({
      clientOrderId: 'SLabc',
      symbol: 'BTC-USDT-SWAP',
      side: 'sell',
      type: 'stop_market',
      stopPrice: 45_000,
      qty: 0.05,
      reduceOnly: true,
      closePosition: false,
    });
    expect(calls[0]?.args[5]).toEqual({ clientOrderId: 'SLabc', reduceOnly: true, stopLossPrice: 45_000 });
    expect(calls[1]).toMatchObject({
      method: 'fetchOrder',
      args: [undefined, 'BTC/USDT:USDT', { clientOrderId: 'SLabc', trigger: true }],
    });
    expect(answer).toMatchObject({
      ok: true,
      value: { conditional: true, stopPrice: 45_000, type: 'stop_market' },
    });
  });

  it('sizes a close-position stop to the position held, and sends nothing when flat', async () => {
    let held: Partial<Position>[] = [];
    const { venue, calls } = venueWith('bybit', 1, {
      fetchPositions: () => held,
      createOrder: () => order({ id: '7', clientOrderId: 'SLshort', side: 'buy' }),
      fetchOpenOrders: () => [
        order({ id: '7', clientOrderId: 'SLshort', side: 'buy', amount: 0.3, triggerPrice: 55_000 }),
      ],
    });
    const stop = {
      clientOrderId: 'SLshort',
      symbol: 'BTCUSDT',
      side: 'buy' as const,
      type: 'stop_market' as const,
      stopPrice: 55_000,
      reduceOnly: false,
      closePosition: true,
    };
    const flat = await venue.submit(stop);
    expect(flat).toMatchObject({ ok: false, message: expect.stringContaining('no position to close') });
    expect(calls.some((call) => call.method === 'createOrder')).toBe(false);

    held = [{ symbol: 'BTC/USDT:USDT', contracts: 0.3, side: 'short' }];
    const placed = await venue.submit(stop);
    const create = calls.find((call) => call.method === 'createOrder');
    expect(create?.args.slice(0, 4)).toEqual(['BTC/USDT:USDT', 'market', 'buy', 0.3]);
    expect(create?.args[5]).toMatchObject({ reduceOnly: true, stopLossPrice: 55_000 });
    // Not a close-position order at the venue: if the position grows, this stop does not.
    expect(placed).toMatchObject({ ok: true, value: { closePosition: false, qty: 0.3 } });
  });

  it('refuses an unlisted market as the venue would, before sending anything', async () => {
    const { venue, calls } = venueWith('okx', 0.01, {});
    const answer = await venue.submit({
      clientOrderId: 'ENx',
      symbol: 'NOPE-USDT-SWAP',
      side: 'buy',
      type: 'market',
      qty: 1,
      reduceOnly: false,
      closePosition: false,
    });
    expect(answer).toMatchObject({ ok: false, code: 51001 });
    expect(calls).toEqual([]);
  });

  it('finds a Bybit order in its history by orderLinkId when the open book no longer has it', async () => {
    const { venue, calls } = venueWith('bybit', 1, {
      fetchOpenOrders: () => [],
      fetchCanceledAndClosedOrders: () => [
        order({ id: '9', clientOrderId: 'other' }),
        order({ id: '8', clientOrderId: 'ENold', status: 'canceled', amount: 0.2, filled: 0.1 }),
      ],
    });
    const found = await venue.queryOrder('BTCUSDT', 'ENold');
    expect(calls[0]).toMatchObject({
      method: 'fetchOpenOrders',
      args: ['BTC/USDT:USDT', undefined, undefined, { orderLinkId: 'ENold' }],
    });
    expect(found).toMatchObject({
      ok: true,
      value: { venueOrderId: '8', status: 'CANCELED', qty: 0.2, filledQty: 0.1 },
    });
    const unknown = await venue.queryOrder('BTCUSDT', 'ENnever');
    expect(unknown).toEqual({ ok: true, value: null });
  });

  it("books an OKX algo order's fills under the stop that triggered them, and skips fills it cannot name", async () => {
    const trades: Partial<Trade>[] = [
      {
        id: 't1',
        order: '555',
        side: 'sell',
        amount: 5,
        price: 44_000,
        fee: { cost: 0.1, currency: 'USDT' },
        timestamp: 2,
        info: { algoClOrdId: 'SLabc' },
      },
      { id: 't2', order: '777', side: 'buy', amount: 1, price: 44_000, timestamp: 3, info: {} },
    ];
    const { venue } = venueWith('okx', 0.01, {
      fetchPositions: () => [],
      fetchMyTrades: () => trades,
    });
    const fills = await venue.fillsSince(0, 'BTC-USDT-SWAP');
    expect(fills).toEqual({
      ok: true,
      value: [
        {
          tradeId: 't1',
          clientOrderId: 'SLabc',
          venueOrderId: '555',
          symbol: 'BTC-USDT-SWAP',
          side: 'sell',
          qty: 0.05,
          price: 44_000,
          fee: 0.1,
          ts: 2,
        },
      ],
    });
  });

  it('reads open orders from both the plain and the trigger book', async () => {
    const { venue, calls } = venueWith('bybit', 1, {
      fetchOpenOrders: (_s: never, _since: never, _limit: never, params: never) =>
        (params as { trigger?: boolean }).trigger
          ? [order({ id: '2', clientOrderId: 'SLx', side: 'sell', triggerPrice: 40_000 })]
          : [order({ id: '1', clientOrderId: 'ENy', type: 'limit', price: 39_000 })],
    });
    const open = await venue.openOrders('BTCUSDT');
    expect(calls.map((call) => call.args[3])).toEqual([{}, { trigger: true }]);
    expect(open).toMatchObject({
      ok: true,
      value: [
        { clientOrderId: 'ENy', conditional: false, price: 39_000 },
        { clientOrderId: 'SLx', conditional: true, stopPrice: 40_000 },
      ],
    });
  });

  it('says it is polled: a gap at once and at every interval until the last subscriber leaves', () => {
    const { venue, clock } = venueWith('okx', 0.01, {});
    expect(venue.capabilities).toMatchObject({
      venue: 'okx',
      stream: false,
      closePosition: false,
      maxClientOrderIdLength: 32,
    });
    const seen: VenueStreamMessage[] = [];
    const subscription = venue.subscribe((message) => seen.push(message));
    clock.advance(0);
    expect(seen).toEqual([{ kind: 'gap', reason: expect.stringContaining('polled'), ts: clock.now() }]);
    clock.advance(1_000);
    clock.advance(1_000);
    expect(seen).toHaveLength(3);
    subscription.close();
    clock.advance(5_000);
    expect(seen).toHaveLength(3);
  });

  it('opens Bybit and OKX through openCcxtVenue with their own capabilities', () => {
    const clock = new ManualClock(0);
    const okx = openCcxtVenue({ exchange: 'okx', apiKey: 'k', secret: 's', password: 'p', clock });
    const bybit = openCcxtVenue({ exchange: 'bybit', apiKey: 'k', secret: 's', clock });
    expect(okx.capabilities.venue).toBe('okx');
    expect(bybit.capabilities.venue).toBe('bybit');
    expect((okx as UnifiedCcxtVenue).client.exchange.password).toBe('p');
    okx.close();
    bybit.close();
  });
});

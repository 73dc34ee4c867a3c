import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/domain/errors.js';
import { intentSchema, isProtectiveExit, parseIntent } from '../../src/domain/intent.schema.js';

const limitEntry = {
  strategy_id: 'trend-1',
  bot_id: 'bot-a',
  client_id: 'client-7',
  source: 'api',
  venue: 'binanceusdm',
  account: 'main',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  qty: 0.01,
  price: 60_000,
  time_in_force: 'GTC',
  kind: 'ENTRY',
} as const;

const stopLoss = {
  ...limitEntry,
  side: 'sell',
  type: 'stop_market',
  price: undefined,
  time_in_force: undefined,
  stop_price: 58_000,
  reduce_only: true,
  kind: 'SL',
} as const;

/** The paths of every issue parseIntent reports for `value`. */
function badPaths(value: unknown): string[] {
  try {
    parseIntent(value);
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError);
    expect(error).toMatchObject({ code: 'KEEL_ERR_BAD_INTENT' });
    return (error as BadInputError).issues.map((issue) => issue.path);
  }
  throw new Error('expected parseIntent to refuse the value');
}

describe('intent schema', () => {
  it('accepts a complete limit entry and fills in the reduce flags as false', () => {
    const intent = parseIntent(limitEntry);
    expect(intent).toMatchObject({ type: 'limit', price: 60_000, reduce_only: false, close_position: false });
  });

  it('reads decimal strings from webhook templates as numbers', () => {
    const intent = parseIntent({ ...limitEntry, qty: '0.015', price: '61000.5' });
    expect(intent.qty).toBe(0.015);
    expect(intent.price).toBe(61_000.5);
  });

  it('accepts a close-position stop loss without a quantity', () => {
    const intent = parseIntent({ ...stopLoss, qty: undefined, reduce_only: false, close_position: true });
    expect(intent.qty).toBeUndefined();
    expect(intent.close_position).toBe(true);
  });

  it.each([
    ['a limit order without a price', { ...limitEntry, price: undefined }, 'price'],
    ['a market order with a price', { ...limitEntry, type: 'market', time_in_force: undefined }, 'price'],
    ['a stop without a stop price', { ...stopLoss, stop_price: undefined }, 'stop_price'],
    ['a limit order with a stop price', { ...limitEntry, stop_price: 1 }, 'stop_price'],
    ['an order without qty that does not close the position', { ...limitEntry, qty: undefined }, 'qty'],
    [
      'close_position on a limit order',
      { ...limitEntry, kind: 'TP', close_position: true },
      'close_position',
    ],
    ['close_position with a quantity', { ...stopLoss, reduce_only: false, close_position: true }, 'qty'],
    ['a stop loss that could open a position', { ...stopLoss, reduce_only: false }, 'reduce_only'],
    ['a take profit that could open a position', { ...limitEntry, kind: 'TP' }, 'reduce_only'],
    ['an exit that could open a position', { ...limitEntry, kind: 'EXIT' }, 'reduce_only'],
    ['a reduce-only entry', { ...limitEntry, reduce_only: true }, 'reduce_only'],
    ['a stop loss that is not a stop', { ...limitEntry, kind: 'SL', reduce_only: true }, 'type'],
    ['a take profit sent as a stop', { ...stopLoss, kind: 'TP' }, 'type'],
    ['time in force on a market order', { ...limitEntry, type: 'market', price: undefined }, 'time_in_force'],
    ['post-only on a stop', { ...stopLoss, time_in_force: 'GTX' }, 'time_in_force'],
    ['a zero quantity', { ...limitEntry, qty: 0 }, 'qty'],
    ['a negative price', { ...limitEntry, price: -5 }, 'price'],
    ['a quantity that is not a number', { ...limitEntry, qty: '1e3' }, 'qty'],
    ['a venue that is not a ccxt id', { ...limitEntry, venue: 'Binance USDM' }, 'venue'],
    ['an unknown side', { ...limitEntry, side: 'long' }, 'side'],
    ['an empty strategy id', { ...limitEntry, strategy_id: '  ' }, 'strategy_id'],
  ])('refuses %s, naming the field', (_name, value, path) => {
    expect(badPaths(value)).toContain(path);
  });

  it('names every missing required field at once', () => {
    const paths = badPaths({ type: 'market', qty: 1 });
    expect(paths).toEqual(
      expect.arrayContaining([
        'strategy_id',
        'bot_id',
        'client_id',
        'source',
        'venue',
        'account',
        'symbol',
        'side',
        'kind',
      ]),
    );
  });

  it('refuses unknown fields so that a misspelt one is not silently dropped', () => {
    const { qty: _qty, ...withoutQty } = limitEntry;
    const error = (() => {
      try {
        parseIntent({ ...withoutQty, qyt: 1 });
      } catch (caught) {
        return caught as BadInputError;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/qyt/);
  });

  it('never accepts an intent that breaks the cross-field rules (property)', () => {
    const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
    const candidate = fc.record({
      ...Object.fromEntries(Object.entries(limitEntry).map(([key, value]) => [key, fc.constant(value)])),
      type: fc.constantFrom('market', 'limit', 'stop_market', 'take_profit_market'),
      kind: fc.constantFrom('ENTRY', 'TP', 'SL', 'EXIT'),
      qty: maybe(fc.double({ min: -1, max: 10, noNaN: true })),
      price: maybe(fc.double({ min: -1, max: 1e5, noNaN: true })),
      stop_price: maybe(fc.double({ min: -1, max: 1e5, noNaN: true })),
      time_in_force: maybe(fc.constantFrom('GTC', 'IOC', 'FOK', 'GTX')),
      reduce_only: maybe(fc.boolean()),
      close_position: maybe(fc.boolean()),
    });
    fc.assert(
      fc.property(candidate, (value) => {
        const result = intentSchema.safeParse(value);
        if (!result.success) return;
        const intent = result.data;
        expect(intent.kind === 'ENTRY' || intent.reduce_only || intent.close_position).toBe(true);
        expect(intent.type === 'limit').toBe(intent.price !== undefined);
        expect(intent.type === 'stop_market' || intent.type === 'take_profit_market').toBe(
          intent.stop_price !== undefined,
        );
        expect(intent.close_position).toBe(intent.qty === undefined);
        if (intent.qty !== undefined) expect(intent.qty).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isProtectiveExit', () => {
  it.each([
    ['a plain entry', { kind: 'ENTRY', reduce_only: false, close_position: false }, false],
    ['a reduce-only order', { kind: 'ENTRY', reduce_only: true, close_position: false }, true],
    ['a close-position order', { kind: 'ENTRY', reduce_only: false, close_position: true }, true],
    ['a stop loss', { kind: 'SL', reduce_only: false, close_position: false }, true],
    ['a take profit', { kind: 'TP', reduce_only: false, close_position: false }, true],
    ['an exit', { kind: 'EXIT', reduce_only: false, close_position: false }, true],
  ] as const)('says %s is %s', (_name, intent, expected) => {
    expect(isProtectiveExit(intent)).toBe(expected);
  });

  it('treats every parsed SL, TP and EXIT as protective', () => {
    expect(isProtectiveExit(parseIntent(stopLoss))).toBe(true);
    expect(isProtectiveExit(parseIntent(limitEntry))).toBe(false);
  });
});

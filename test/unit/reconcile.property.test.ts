import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyFill,
  comparePosition,
  protectionCoverage,
  type Fill,
  type Position,
} from '../../src/domain/position.js';
import {
  beliefDebtOf,
  diffPositions,
  mismatchedSymbols,
  protectionBySymbol,
  trackMismatches,
  type PositionMap,
} from '../../src/domain/reconcile.js';

const positionArbitrary: fc.Arbitrary<Position> = fc.record({
  qty: fc.integer({ min: 1, max: 1_000 }).map((units) => units / 10),
  side: fc.constantFrom('long' as const, 'short' as const),
  entryPrice: fc.integer({ min: 1, max: 100_000 }),
});
const maybePosition = fc.option(positionArbitrary, { nil: null });
const fillArbitrary: fc.Arbitrary<Fill> = fc.record({
  qty: fc.integer({ min: 1, max: 1_000 }).map((units) => units / 10),
  side: fc.constantFrom('buy' as const, 'sell' as const),
  price: fc.integer({ min: 1, max: 100_000 }),
});
const signed = (position: Position | null) =>
  position === null ? 0 : position.side === 'long' ? position.qty : -position.qty;
const symbolArbitrary = fc.constantFrom('BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT');
const mapArbitrary: fc.Arbitrary<PositionMap> = fc.dictionary(symbolArbitrary, positionArbitrary);

describe('position arithmetic', () => {
  it('moves the signed size by exactly the fill', () => {
    fc.assert(
      fc.property(maybePosition, fillArbitrary, (position, fill) => {
        const after = applyFill(position, fill);
        const expected = signed(position) + (fill.side === 'buy' ? fill.qty : -fill.qty);
        expect(signed(after)).toBeCloseTo(expected, 9);
        if (after) expect(after.qty).toBeGreaterThan(0);
      }),
    );
  });

  it('averages the entry price when adding and keeps it when reducing', () => {
    const added = applyFill({ qty: 1, side: 'long', entryPrice: 100 }, { qty: 1, side: 'buy', price: 200 });
    expect(added).toEqual({ qty: 2, side: 'long', entryPrice: 150 });
    const reduced = applyFill(added, { qty: 1.5, side: 'sell', price: 300 });
    expect(reduced).toEqual({ qty: 0.5, side: 'long', entryPrice: 150 });
    const flipped = applyFill(reduced, { qty: 1, side: 'sell', price: 310 });
    expect(flipped).toEqual({ qty: 0.5, side: 'short', entryPrice: 310 });
  });

  it('confirms a position against itself and names what differs otherwise', () => {
    fc.assert(
      fc.property(maybePosition, (position) => {
        expect(comparePosition(position, position)).toEqual({ kind: 'confirmed' });
      }),
    );
    const local: Position = { qty: 1, side: 'long', entryPrice: 100 };
    expect(comparePosition(local, { qty: 2, side: 'short', entryPrice: 100.02 })).toEqual({
      kind: 'drift',
      fields: ['side', 'size', 'entry'],
    });
    expect(comparePosition(local, { ...local, entryPrice: 100.005 })).toEqual({ kind: 'confirmed' });
    expect(comparePosition(local, null)).toEqual({ kind: 'phantom' });
    expect(comparePosition(null, local)).toEqual({ kind: 'orphan' });
  });

  it('never judges coverage worse when more stop quantity is added', () => {
    const rank = { covered: 0, 'under-covered': 1, unprotected: 2 } as const;
    fc.assert(
      fc.property(
        maybePosition,
        fc.double({ min: 0, max: 200, noNaN: true }),
        fc.double({ min: 0, max: 200, noNaN: true }),
        (position, stopQty, extra) => {
          const before = protectionCoverage(position, { stopQty, closePosition: false });
          const after = protectionCoverage(position, { stopQty: stopQty + extra, closePosition: false });
          expect(rank[after]).toBeLessThanOrEqual(rank[before]);
          expect(protectionCoverage(position, { stopQty, closePosition: true })).toBe('covered');
        },
      ),
    );
  });
});

describe('reconcile diff and debt', () => {
  it('puts every known symbol in exactly one list, in a deterministic order', () => {
    fc.assert(
      fc.property(mapArbitrary, mapArbitrary, (venue, local) => {
        const diff = diffPositions(venue, local);
        const listed = [...diff.confirmed, ...mismatchedSymbols(diff)].sort();
        expect(listed).toEqual([...new Set([...Object.keys(venue), ...Object.keys(local)])].sort());
        for (const symbol of diff.phantom) expect(venue[symbol]).toBeUndefined();
        for (const symbol of diff.orphan) expect(local[symbol]).toBeUndefined();
        expect(diff.confirmed).toEqual([...diff.confirmed].sort());
      }),
    );
  });

  it('keeps a mismatch first-seen time until the symbol is confirmed', () => {
    const first = trackMismatches({}, ['BTCUSDT', 'ETHUSDT'], 1_000);
    const second = trackMismatches(first, ['BTCUSDT'], 5_000);
    expect(second).toEqual({ BTCUSDT: { firstSeenAt: 1_000, lastSeenAt: 5_000 } });
    const third = trackMismatches(second, ['BTCUSDT', 'ETHUSDT'], 9_000);
    expect(third).toEqual({
      BTCUSDT: { firstSeenAt: 1_000, lastSeenAt: 9_000 },
      ETHUSDT: { firstSeenAt: 9_000, lastSeenAt: 9_000 },
    });
  });

  it('measures debt as the oldest unresolved mismatch and the number of symbols', () => {
    const mismatches = {
      BTCUSDT: { firstSeenAt: 1_000, lastSeenAt: 9_000 },
      ETHUSDT: { firstSeenAt: 7_000, lastSeenAt: 9_000 },
    };
    expect(beliefDebtOf(mismatches, 3, 11_000)).toEqual({ debtSec: 10, debtSymbols: 2, mismatchStreak: 3 });
    expect(beliefDebtOf({}, 0, 11_000)).toEqual({ debtSec: 0, debtSymbols: 0, mismatchStreak: 0 });
  });

  it('counts only reduce-only or close-position stops as protection', () => {
    const order = { symbol: 'BTCUSDT', clientOrderId: 'x', qty: 1, reduceOnly: true, closePosition: false };
    expect(
      protectionBySymbol([
        { ...order, isStop: true },
        { ...order, isStop: true, qty: 0.5 },
        { ...order, isStop: false, qty: 10 },
        { ...order, isStop: true, reduceOnly: false, qty: 10 },
        { ...order, symbol: 'ETHUSDT', isStop: true, reduceOnly: false, closePosition: true },
      ]),
    ).toEqual({
      BTCUSDT: { stopQty: 1.5, closePosition: false },
      ETHUSDT: { stopQty: 0, closePosition: true },
    });
  });
});

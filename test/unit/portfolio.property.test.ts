import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyFill as applyPaperFill, type PaperPosition } from '../../src/adapters/venue/paper/matching.js';
import { buildPnlSnapshot } from '../../src/domain/pnl-snapshot.schema.js';
import { applyFill, emptyPortfolio, type Portfolio, type PortfolioFill } from '../../src/domain/portfolio.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'] as const;

/** Fills on venue steps (0.001) and ticks (0.01), with unique trade ids assigned by position. */
const fillsArbitrary: fc.Arbitrary<PortfolioFill[]> = fc
  .array(
    fc.record({
      symbol: fc.constantFrom(...SYMBOLS),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      qty: fc.integer({ min: 1, max: 5_000 }).map((steps) => steps / 1_000),
      price: fc.integer({ min: 1, max: 100_000 }).map((ticks) => ticks / 100),
      fee: fc.integer({ min: -100, max: 1_000 }).map((cents) => cents / 100),
    }),
    { maxLength: 40 },
  )
  .map((fills) => fills.map((fill, index) => ({ ...fill, tradeId: `t${index}` })));

const pricesArbitrary = fc.record({
  BTCUSDT: fc.integer({ min: 1, max: 100_000 }).map((ticks) => ticks / 100),
  ETHUSDT: fc.integer({ min: 1, max: 100_000 }).map((ticks) => ticks / 100),
});

const replay = (fills: readonly PortfolioFill[]): Portfolio =>
  fills.reduce(applyFill, emptyPortfolio('main'));

function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)));
}

describe('portfolio properties', () => {
  it('books realised plus unrealised PnL equal to the mark-to-market change in value', () => {
    fc.assert(
      fc.property(fillsArbitrary, pricesArbitrary, (fills, prices) => {
        const snapshot = buildPnlSnapshot(replay(fills), prices, 0);
        // Value change with no PnL bookkeeping at all: cash paid and received, plus what is held at the mark.
        const cash = fills.reduce(
          (sum, fill) => sum + (fill.side === 'sell' ? 1 : -1) * fill.qty * fill.price,
          0,
        );
        const held = SYMBOLS.reduce((sum, symbol) => {
          const qty = fills
            .filter((fill) => fill.symbol === symbol)
            .reduce((total, fill) => total + (fill.side === 'buy' ? fill.qty : -fill.qty), 0);
          return sum + qty * prices[symbol];
        }, 0);
        const fees = fills.reduce((sum, fill) => sum + fill.fee, 0);
        expectClose(snapshot.totals.realizedPnl + snapshot.totals.unrealizedPnl, cash + held);
        expectClose(snapshot.totals.equityChange, cash + held - fees);
      }),
    );
  });

  it("agrees with the paper venue's one-way position arithmetic fill by fill", () => {
    fc.assert(
      fc.property(fillsArbitrary, (fills) => {
        let portfolio = emptyPortfolio('main');
        const paper: Record<string, PaperPosition> = {};
        for (const fill of fills) {
          portfolio = applyFill(portfolio, fill);
          const before = paper[fill.symbol] ?? {
            symbol: fill.symbol,
            qty: 0,
            entryPrice: 0,
            realizedPnl: 0,
            updatedAt: 0,
          };
          paper[fill.symbol] = applyPaperFill(before, fill.side, fill.qty, fill.price, 0).position;
          const venue = paper[fill.symbol]!;
          const mine = portfolio.positions[fill.symbol]!;
          expect(mine.qty).toBe(venue.qty);
          expectClose(mine.entryPrice, venue.entryPrice);
          expectClose(mine.realizedPnl, venue.realizedPnl);
        }
      }),
    );
  });

  it('applies every trade id once however often its fill is delivered', () => {
    fc.assert(
      fc.property(fillsArbitrary, fc.nat(), (fills, seed) => {
        const redelivered = fills.flatMap((fill, index) =>
          (seed + index) % 3 === 0 ? [fill, fill] : [fill, ...fills.slice(0, index)],
        );
        expect(replay(redelivered)).toEqual(replay(fills));
      }),
    );
  });
});

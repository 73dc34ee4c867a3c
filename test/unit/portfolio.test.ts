import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/domain/errors.js';
import { buildPnlSnapshot, pnlSnapshotSchema } from '../../src/domain/pnl-snapshot.schema.js';
import {
  applyFill,
  emptyPortfolio,
  markToMarket,
  type Portfolio,
  type PortfolioFill,
} from '../../src/domain/portfolio.js';
import { SYMBOL, market, order, script, valueOf } from '../adapters/paper/paper-support.js';

let nextTrade = 0;
function fill(
  side: 'buy' | 'sell',
  qty: number,
  price: number,
  overrides: Partial<PortfolioFill> = {},
): PortfolioFill {
  nextTrade += 1;
  return { tradeId: `t${nextTrade}`, symbol: SYMBOL, side, qty, price, fee: 0, ...overrides };
}

function replay(fills: readonly PortfolioFill[], start: Portfolio = emptyPortfolio('main')): Portfolio {
  return fills.reduce(applyFill, start);
}

const positionOf = (portfolio: Portfolio) => portfolio.positions[SYMBOL];

describe('portfolio', () => {
  it('opens a long at the fill price and accumulates the fee', () => {
    const portfolio = replay([fill('buy', 2, 100, { fee: 0.08 })]);
    expect(positionOf(portfolio)).toMatchObject({ qty: 2, entryPrice: 100, realizedPnl: 0, fees: 0.08 });
  });

  it('averages the entry price when a fill increases the position', () => {
    const portfolio = replay([fill('buy', 2, 100), fill('buy', 1, 130)]);
    expect(positionOf(portfolio)).toMatchObject({ qty: 3, entryPrice: 110, realizedPnl: 0 });
  });

  it('realises PnL on a reduction and keeps the entry price', () => {
    const portfolio = replay([fill('buy', 2, 100), fill('buy', 1, 130), fill('sell', 1, 120)]);
    expect(positionOf(portfolio)).toMatchObject({ qty: 2, entryPrice: 110, realizedPnl: 10 });
  });

  it('closes to flat with entry price 0 and keeps the realised PnL and fees', () => {
    const portfolio = replay([
      fill('buy', 2, 100, { fee: 0.1 }),
      fill('sell', 1, 120, { fee: 0.05 }),
      fill('sell', 1, 90, { fee: 0.05 }),
    ]);
    expect(positionOf(portfolio)).toMatchObject({ qty: 0, entryPrice: 0, realizedPnl: 10, fees: 0.2 });
  });

  it('realises the closed part of a flip and opens the rest at the fill price', () => {
    const portfolio = replay([fill('buy', 2, 110), fill('sell', 5, 120)]);
    expect(positionOf(portfolio)).toMatchObject({ qty: -3, entryPrice: 120, realizedPnl: 20 });
  });

  it('realises a profit when a short is bought back below its entry', () => {
    const portfolio = replay([fill('sell', 3, 120), fill('buy', 1, 100)]);
    expect(positionOf(portfolio)).toMatchObject({ qty: -2, entryPrice: 120, realizedPnl: 20 });
  });

  it('reaches exactly flat after ten fills of 0.1 are sold as 1', () => {
    const buys = Array.from({ length: 10 }, () => fill('buy', 0.1, 100));
    const portfolio = replay([...buys, fill('sell', 1, 100)]);
    expect(positionOf(portfolio)).toMatchObject({ qty: 0, entryPrice: 0 });
  });

  it('keeps exactly 0.001 after selling 0.008 of 0.009 (regression: rounding noise kept after cancellation)', () => {
    const portfolio = replay([fill('buy', 0.009, 100), fill('sell', 0.008, 100)]);
    expect(positionOf(portfolio)).toMatchObject({ qty: 0.001, entryPrice: 100 });
  });

  it('applies a trade id once when the same fill arrives twice', () => {
    const twice = fill('buy', 1, 100, { fee: 0.04 });
    const once = replay([twice]);
    const again = applyFill(once, twice);
    expect(again).toBe(once);
    expect(positionOf(again)).toMatchObject({ qty: 1, fees: 0.04, tradeIds: [twice.tradeId] });
  });

  it('keeps positions of different symbols apart', () => {
    const portfolio = replay([fill('buy', 1, 100), fill('sell', 2, 10, { symbol: 'ETHUSDT' })]);
    expect(portfolio.positions['ETHUSDT']).toMatchObject({ qty: -2, entryPrice: 10 });
    expect(positionOf(portfolio)).toMatchObject({ qty: 1, entryPrice: 100 });
  });

  it('refuses a fill with a non-positive quantity, naming the field', () => {
    expect(() => applyFill(emptyPortfolio('main'), fill('buy', 0, 100))).toThrow(/qty/);
  });

  it('marks long and short positions to market', () => {
    const portfolio = replay([fill('buy', 2, 110), fill('sell', 3, 10, { symbol: 'ETHUSDT' })]);
    const marks = markToMarket(portfolio, { [SYMBOL]: 125, ETHUSDT: 15 });
    expect(marks.map((mark) => [mark.symbol, mark.unrealizedPnl])).toEqual([
      [SYMBOL, 30],
      ['ETHUSDT', -15],
    ]);
  });

  it('refuses to mark an open position without a price', () => {
    const portfolio = replay([fill('buy', 1, 100)]);
    expect(() => markToMarket(portfolio, {})).toThrow(`prices.${SYMBOL}`);
  });
});

describe('PnL snapshot', () => {
  it('sums the positions into totals with equity change net of fees', () => {
    const portfolio = replay([
      fill('buy', 2, 100, { fee: 0.5 }),
      fill('sell', 1, 120, { fee: 0.5 }),
      fill('sell', 1, 10, { symbol: 'ETHUSDT', fee: 1 }),
    ]);
    const snapshot = buildPnlSnapshot(portfolio, { [SYMBOL]: 130, ETHUSDT: 8 }, 5000);
    expect(snapshot).toMatchObject({ ts: 5000, account: 'main' });
    expect(snapshot.totals).toEqual({ realizedPnl: 20, unrealizedPnl: 32, fees: 2, equityChange: 50 });
  });

  it('rejects totals that do not equal the sums, naming the field path', () => {
    const snapshot = buildPnlSnapshot(replay([fill('buy', 1, 100, { fee: 1 })]), { [SYMBOL]: 110 }, 0);
    const tampered = { ...snapshot, totals: { ...snapshot.totals, realizedPnl: 5, equityChange: 14 } };
    const result = pnlSnapshotSchema.safeParse(tampered);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['totals.realizedPnl']);
  });

  it('rejects an equity change that is not realised + unrealised - fees', () => {
    const snapshot = buildPnlSnapshot(replay([fill('buy', 1, 100, { fee: 1 })]), { [SYMBOL]: 110 }, 0);
    const tampered = { ...snapshot, totals: { ...snapshot.totals, equityChange: 10 } };
    expect(pnlSnapshotSchema.safeParse(tampered).error?.issues.map((issue) => issue.path.join('.'))).toEqual([
      'totals.equityChange',
    ]);
  });

  it('rejects unrealised PnL on a flat position', () => {
    const flat = {
      symbol: SYMBOL,
      qty: 0,
      entryPrice: 0,
      markPrice: 100,
      realizedPnl: 0,
      unrealizedPnl: 3,
      fees: 0,
    };
    const totals = { realizedPnl: 0, unrealizedPnl: 3, fees: 0, equityChange: 3 };
    const result = pnlSnapshotSchema.safeParse({ ts: 0, account: 'main', positions: [flat], totals });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['positions.0.unrealizedPnl']);
  });

  it('rejects a non-finite number', () => {
    const totals = { realizedPnl: Number.POSITIVE_INFINITY, unrealizedPnl: 0, fees: 0, equityChange: 0 };
    const result = pnlSnapshotSchema.safeParse({ ts: 0, account: 'main', positions: [], totals });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain('totals.realizedPnl');
  });

  it('refuses to build a snapshot with an impossible mark price, with a BadInputError naming the field', () => {
    const portfolio = replay([fill('buy', 1, 100)]);
    expect(() => buildPnlSnapshot(portfolio, { [SYMBOL]: -1 }, 0)).toThrow(BadInputError);
    expect(() => buildPnlSnapshot(portfolio, { [SYMBOL]: -1 }, 0)).toThrow('positions.0.markPrice');
  });
});

describe('portfolio against the paper venue', () => {
  it('agrees with the paper venue on position, entry, realised and unrealised PnL for the same fills', async () => {
    const { venue, advance } = market({ ticks: script({ 1: 110, 2: 90, 3: 95 }) });
    valueOf(await venue.submit(order({ clientOrderId: 'EN-1', side: 'buy', qty: 2 })));
    advance(1000);
    valueOf(await venue.submit(order({ clientOrderId: 'EN-2', side: 'sell', qty: 3 })));
    advance(1000);
    valueOf(await venue.submit(order({ clientOrderId: 'EN-3', side: 'buy', qty: 0.5 })));
    advance(1000);
    valueOf(await venue.submit(order({ clientOrderId: 'EN-4', side: 'sell', qty: 0.25 })));

    const fills = valueOf(await venue.fillsSince(0));
    expect(fills).toHaveLength(4);
    const portfolio = replay(fills);
    const [venuePosition] = valueOf(await venue.positions());
    const [mark] = markToMarket(portfolio, { [SYMBOL]: venuePosition!.markPrice });
    expect(mark!.qty).toBeCloseTo(venuePosition!.qty, 9);
    expect(mark!.entryPrice).toBeCloseTo(venuePosition!.entryPrice, 9);
    expect(mark!.realizedPnl).toBeCloseTo(venuePosition!.realizedPnl, 9);
    expect(mark!.unrealizedPnl).toBeCloseTo(venuePosition!.unrealizedPnl, 9);
    expect(mark!.fees).toBeCloseTo(
      fills.reduce((sum, each) => sum + each.fee, 0),
      9,
    );
    // Hand-computed: long 2 @ 100, flip at 110 (+20), buy back 0.5 at 90 (+10), add 0.25 short at 95:
    // entry (0.5 * 110 + 0.25 * 95) / 0.75 = 105.
    expect(mark).toMatchObject({ qty: -0.75, entryPrice: 105 });
    expect(mark!.realizedPnl).toBeCloseTo(30, 9);
  });
});

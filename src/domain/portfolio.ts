/**
 * An account's one-way positions built from its fills, with realised and unrealised PnL.
 * Invariants: quantities are signed (positive long) and summed decimal-safely; a flat position has
 * entry price 0; realised PnL changes only when a fill reduces or flips a position (a flip realises
 * the closed part and opens the rest at the fill price); a trade id is applied at most once.
 */
import { z } from 'zod';
import { BadInputError } from './errors.js';
import { parseOrThrow } from './parse.js';
import { applyFill as nextPosition, type Position } from './position.js';
import { addQuantities } from './quantity.js';

/** One symbol's position in an account; JSON-serialisable. */
export interface PortfolioPosition {
  symbol: string;
  /** Signed base quantity: positive long, negative short, 0 flat. */
  qty: number;
  /** Volume-weighted price of the open side; 0 when flat. */
  entryPrice: number;
  realizedPnl: number;
  fees: number;
  /** The latest trade ids applied (at most RECENT_TRADE_IDS), so a fill delivered twice counts once. */
  tradeIds: string[];
}

export interface Portfolio {
  account: string;
  positions: Record<string, PortfolioPosition>;
}

/** A fill as the venue reports it (the fields of `VenueFill` that move a position). */
export const portfolioFillSchema = z.object({
  tradeId: z.string().min(1),
  symbol: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  qty: z.number().positive(),
  price: z.number().positive(),
  /** Paid fees are positive; a maker rebate is negative. */
  fee: z.number(),
});
export type PortfolioFill = z.infer<typeof portfolioFillSchema>;

/** A position valued at a mark price: one row of a PnL snapshot. */
export interface PositionMark {
  symbol: string;
  qty: number;
  entryPrice: number;
  markPrice: number;
  realizedPnl: number;
  unrealizedPnl: number;
  fees: number;
}

/**
 * An account with no positions.
 * @example const portfolio = emptyPortfolio('main');
 */
export function emptyPortfolio(account: string): Portfolio {
  return { account, positions: {} };
}

/**
 * How many of a position's latest trade ids are remembered to apply a repeated fill once. Each
 * order's lifecycle already applies a trade id once; this window guards fills that reach the
 * portfolio by another path, and is copied on every fill, so it stays small.
 */
export const RECENT_TRADE_IDS = 128;

function flatPosition(symbol: string): PortfolioPosition {
  return { symbol, qty: 0, entryPrice: 0, realizedPnl: 0, fees: 0, tradeIds: [] };
}

const asPosition = (position: PortfolioPosition): Position | null =>
  position.qty === 0
    ? null
    : {
        qty: Math.abs(position.qty),
        side: position.qty > 0 ? 'long' : 'short',
        entryPrice: position.entryPrice,
      };

/** The PnL a fill realises against the position it reduces (0 when it adds or opens). */
export function realizedPnlOfFill(position: PortfolioPosition, fill: PortfolioFill): number {
  const delta = fill.side === 'buy' ? fill.qty : -fill.qty;
  if (position.qty === 0 || Math.sign(position.qty) === Math.sign(delta)) return 0;
  const closed = Math.min(Math.abs(position.qty), fill.qty);
  return closed * (fill.price - position.entryPrice) * Math.sign(position.qty);
}

/**
 * The portfolio after one fill; the same portfolio when the trade id was already applied.
 * @example const next = applyFill(portfolio, { tradeId: 't1', symbol: 'BTCUSDT', side: 'buy', qty: 1, price: 100, fee: 0.04 });
 */
export function applyFill(portfolio: Portfolio, input: PortfolioFill): Portfolio {
  const fill = parseOrThrow(portfolioFillSchema, input, 'fill');
  const position = portfolio.positions[fill.symbol] ?? flatPosition(fill.symbol);
  if (position.tradeIds.includes(fill.tradeId)) return portfolio;
  const qty = addQuantities(position.qty, fill.side === 'buy' ? fill.qty : -fill.qty);
  // Exact tolerance: flatness is decided by the decimal-safe sum above, not by a float threshold.
  const moved = nextPosition(
    asPosition(position),
    { qty: fill.qty, side: fill.side, price: fill.price },
    {
      qtyAbsolute: 0,
      entryPriceRelative: 0,
    },
  );
  const next: PortfolioPosition = {
    symbol: fill.symbol,
    qty,
    entryPrice: qty === 0 || moved === null ? 0 : moved.entryPrice,
    realizedPnl: position.realizedPnl + realizedPnlOfFill(position, fill),
    fees: position.fees + fill.fee,
    // A repeat arrives close behind the original (stream and poll), so a recent window is enough,
    // and keeps a long-lived position from growing, and copying, an unbounded list.
    tradeIds: [...position.tradeIds.slice(-(RECENT_TRADE_IDS - 1)), fill.tradeId],
  };
  return { account: portfolio.account, positions: { ...portfolio.positions, [fill.symbol]: next } };
}

/**
 * Every position valued at its mark price, sorted by symbol. An open position without a price is
 * refused rather than valued at a guess; a flat one needs no price (its unrealised PnL is 0).
 * @example markToMarket(portfolio, { BTCUSDT: 101.5 });
 */
export function markToMarket(portfolio: Portfolio, prices: Readonly<Record<string, number>>): PositionMark[] {
  const positions = Object.values(portfolio.positions).sort((a, b) => a.symbol.localeCompare(b.symbol));
  const missing = positions.filter((position) => position.qty !== 0 && prices[position.symbol] === undefined);
  if (missing.length > 0)
    throw new BadInputError(
      'mark prices',
      missing.map((position) => ({
        path: `prices.${position.symbol}`,
        message: 'no mark price for an open position',
      })),
    );
  return positions.map((position) => {
    const markPrice = prices[position.symbol] ?? 0;
    return {
      symbol: position.symbol,
      qty: position.qty,
      entryPrice: position.entryPrice,
      markPrice,
      realizedPnl: position.realizedPnl,
      unrealizedPnl: position.qty === 0 ? 0 : position.qty * (markPrice - position.entryPrice),
      fees: position.fees,
    };
  });
}

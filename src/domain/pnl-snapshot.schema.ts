/**
 * A PnL snapshot of one account at one instant, and the only way keel builds one.
 * Invariants: every number is finite; a flat position has no unrealised PnL; a position's
 * unrealised PnL is its quantity times (mark - entry); totals are the sums of the rows and
 * equityChange = realised + unrealised - fees. buildPnlSnapshot parses its result, so an
 * inconsistent snapshot can never be constructed.
 */
import { z } from 'zod';
import { parseOrThrow } from './parse.js';
import { markToMarket, type Portfolio } from './portfolio.js';

/** Sums of floats differ from a recomputation in the last bits; anything beyond this is a bug. */
function agrees(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

export const pnlSnapshotPositionSchema = z.object({
  symbol: z.string().min(1),
  qty: z.number(),
  entryPrice: z.number().nonnegative(),
  markPrice: z.number().nonnegative(),
  realizedPnl: z.number(),
  unrealizedPnl: z.number(),
  fees: z.number(),
});

export const pnlSnapshotSchema = z
  .object({
    ts: z.number().int().nonnegative(),
    account: z.string().min(1),
    positions: z.array(pnlSnapshotPositionSchema),
    totals: z.object({
      realizedPnl: z.number(),
      unrealizedPnl: z.number(),
      fees: z.number(),
      equityChange: z.number(),
    }),
  })
  .superRefine((snapshot, context) => {
    snapshot.positions.forEach((position, index) => {
      if (position.qty === 0 && position.unrealizedPnl !== 0)
        context.addIssue({
          code: 'custom',
          path: ['positions', index, 'unrealizedPnl'],
          message: 'a flat position has no unrealised PnL',
        });
      else if (!agrees(position.unrealizedPnl, position.qty * (position.markPrice - position.entryPrice)))
        context.addIssue({
          code: 'custom',
          path: ['positions', index, 'unrealizedPnl'],
          message: 'must equal qty * (markPrice - entryPrice)',
        });
    });
    const sum = (field: 'realizedPnl' | 'unrealizedPnl' | 'fees'): number =>
      snapshot.positions.reduce((total, position) => total + position[field], 0);
    for (const field of ['realizedPnl', 'unrealizedPnl', 'fees'] as const) {
      if (!agrees(snapshot.totals[field], sum(field)))
        context.addIssue({
          code: 'custom',
          path: ['totals', field],
          message: `must equal the sum of the positions' ${field}`,
        });
    }
    const { realizedPnl, unrealizedPnl, fees, equityChange } = snapshot.totals;
    if (!agrees(equityChange, realizedPnl + unrealizedPnl - fees))
      context.addIssue({
        code: 'custom',
        path: ['totals', 'equityChange'],
        message: 'must equal realizedPnl + unrealizedPnl - fees',
      });
  });

export type PnlSnapshot = z.infer<typeof pnlSnapshotSchema>;

/**
 * The account's PnL at `ts` (ms) with positions valued at `prices`; throws a BadInputError
 * naming the field if the result would be inconsistent.
 * @example const snapshot = buildPnlSnapshot(portfolio, { BTCUSDT: 101.5 }, clock.now());
 */
export function buildPnlSnapshot(
  portfolio: Portfolio,
  prices: Readonly<Record<string, number>>,
  ts: number,
): PnlSnapshot {
  const positions = markToMarket(portfolio, prices);
  const total = (field: 'realizedPnl' | 'unrealizedPnl' | 'fees'): number =>
    positions.reduce((sum, position) => sum + position[field], 0);
  const realizedPnl = total('realizedPnl');
  const unrealizedPnl = total('unrealizedPnl');
  const fees = total('fees');
  return parseOrThrow(
    pnlSnapshotSchema,
    {
      ts,
      account: portfolio.account,
      positions,
      totals: { realizedPnl, unrealizedPnl, fees, equityChange: realizedPnl + unrealizedPnl - fees },
    },
    'PnL snapshot',
  );
}

/**
 * The register-first pipeline's entry blockers (reference 003, step 2): risk limits and the execution
 * guard, as pure decisions over what the runtime knows when an intent arrives.
 * Invariants: protective exits (reduce-only, close-position, SL, TP, EXIT) are never blocked here
 * (invariant 7); a block always carries a tag naming its blocker and reason (`RISK_BLOCKED:<reason>`,
 * `GUARD_BLOCKED:<reason>`) and a sentence a person can act on; an unset limit never blocks.
 */
import { z } from 'zod';
import { isProtectiveExit, type Intent } from './intent.schema.js';

export const riskLimitsSchema = z.strictObject({
  /** Largest notional (quantity × price, quote currency) of one entry order. */
  maxNotional: z
    .number()
    .positive()
    .finite()
    .optional()
    .describe('Largest notional (quantity × price, quote currency) of one entry order.'),
  /** Largest absolute position per symbol an entry may build, counting what it would add. */
  maxPositionQty: z
    .number()
    .positive()
    .finite()
    .optional()
    .describe('Largest absolute position per symbol an entry may build, counting what it would add.'),
  /** Realised loss since 00:00 UTC at which entries stop for the rest of the day (a positive number). */
  maxDailyLoss: z
    .number()
    .positive()
    .finite()
    .optional()
    .describe(
      'Realised loss since 00:00 UTC at which entries stop for the rest of the day (a positive number).',
    ),
  /** Seconds a strategy must wait between entries on one symbol. */
  entryCooldownSec: z
    .number()
    .nonnegative()
    .finite()
    .optional()
    .describe('Seconds a strategy must wait between entries on one symbol.'),
});
export type RiskLimits = z.infer<typeof riskLimitsSchema>;

export const executionGuardSchema = z.strictObject({
  /**
   * One live entry per strategy and symbol: a second entry while the first is still working is
   * the classic double-position bug after a timeout (a resend under a new id), so it is refused.
   */
  oneLiveEntryPerStrategySymbol: z.boolean().default(true),
});
export type ExecutionGuard = z.output<typeof executionGuardSchema>;

/** What the runtime knows when it decides: all of it local, none of it fetched on the hot path. */
export interface RiskView {
  /** Price the notional is judged at: the intent's own price, or the last known market price. */
  referencePrice: number | undefined;
  /** The account's signed position on the symbol as keel has booked it. */
  positionQty: number;
  /** Realised PnL since 00:00 UTC (negative is a loss). */
  realizedPnlToday: number;
  /** Seconds since this strategy's last entry on this symbol; undefined if none. */
  secondsSinceLastEntry: number | undefined;
}

export interface GuardView {
  /** Entries of this strategy on this symbol that are registered and not yet finished. */
  liveEntries: number;
}

export type RiskBlockReason =
  'max_notional' | 'max_position' | 'daily_loss' | 'cooldown' | 'no_reference_price';
export type ExecutionGuardReason = 'duplicate_live_entry';

export type BlockDecision =
  { blocked: false } | { blocked: true; stage: 'risk' | 'guard' | 'reconcile'; tag: string; reason: string };

const PASS: BlockDecision = { blocked: false };

function riskBlock(reason: RiskBlockReason, detail: string): BlockDecision {
  return { blocked: true, stage: 'risk', tag: `RISK_BLOCKED:${reason}`, reason: detail };
}

type RiskIntent = Pick<
  Intent,
  'kind' | 'reduce_only' | 'close_position' | 'side' | 'qty' | 'price' | 'stop_price'
>;

/**
 * Checks an intent against the risk limits.
 *
 * @example
 * checkRisk(intent, { referencePrice: 50_000, positionQty: 0, realizedPnlToday: 0,
 *   secondsSinceLastEntry: undefined }, { maxNotional: 1_000 });
 * // → { blocked: true, stage: 'risk', tag: 'RISK_BLOCKED:max_notional', reason: '…' } for 0.1 BTC
 */
export function checkRisk(intent: RiskIntent, view: RiskView, limits: RiskLimits): BlockDecision {
  if (isProtectiveExit(intent)) return PASS;
  const qty = intent.qty ?? 0;
  if (limits.maxDailyLoss !== undefined && -view.realizedPnlToday >= limits.maxDailyLoss) {
    return riskBlock(
      'daily_loss',
      `realised loss today is ${round(-view.realizedPnlToday)}; the limit is ${limits.maxDailyLoss}`,
    );
  }
  if (
    limits.entryCooldownSec !== undefined &&
    view.secondsSinceLastEntry !== undefined &&
    view.secondsSinceLastEntry < limits.entryCooldownSec
  ) {
    return riskBlock(
      'cooldown',
      `last entry ${round(view.secondsSinceLastEntry)}s ago; the cooldown is ${limits.entryCooldownSec}s`,
    );
  }
  if (limits.maxNotional !== undefined) {
    const price = intent.price ?? intent.stop_price ?? view.referencePrice;
    // Without a price the notional is unknown, and an unknown exposure is not within a limit.
    if (price === undefined) {
      return riskBlock('no_reference_price', 'no price is known to judge the order against max_notional');
    }
    const notional = qty * price;
    if (notional > limits.maxNotional) {
      return riskBlock('max_notional', `notional ${round(notional)} exceeds ${limits.maxNotional}`);
    }
  }
  if (limits.maxPositionQty !== undefined) {
    const after = view.positionQty + (intent.side === 'buy' ? qty : -qty);
    if (Math.abs(after) > limits.maxPositionQty + 1e-12) {
      return riskBlock(
        'max_position',
        `the position would be ${round(after)}; the limit is ${limits.maxPositionQty}`,
      );
    }
  }
  return PASS;
}

/**
 * Checks an intent against the execution guard (duplicates per strategy and symbol).
 *
 * @example
 * checkExecutionGuard(intent, { liveEntries: 1 }, { oneLiveEntryPerStrategySymbol: true });
 * // → { blocked: true, stage: 'guard', tag: 'GUARD_BLOCKED:duplicate_live_entry', … }
 */
export function checkExecutionGuard(
  intent: Pick<Intent, 'kind' | 'reduce_only' | 'close_position' | 'strategy_id' | 'symbol'>,
  view: GuardView,
  guard: ExecutionGuard,
): BlockDecision {
  if (isProtectiveExit(intent)) return PASS;
  if (guard.oneLiveEntryPerStrategySymbol && view.liveEntries > 0) {
    return {
      blocked: true,
      stage: 'guard',
      tag: 'GUARD_BLOCKED:duplicate_live_entry',
      reason: `strategy ${intent.strategy_id} already has a live entry on ${intent.symbol}`,
    };
  }
  return PASS;
}

/** The start of the UTC day containing `ts` (ms), where daily loss resets. */
export function utcDayStart(ts: number): number {
  return ts - (((ts % 86_400_000) + 86_400_000) % 86_400_000);
}

function round(value: number): number {
  return Math.round(value * 1e8) / 1e8;
}

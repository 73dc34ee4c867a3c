/**
 * Protection arithmetic: how short a position's protective stop falls, and whether an undersized
 * stop is worth refreshing now (reference 002 §9: `min_delta_ratio`, `max_refresh_interval_sec`).
 * Invariants: a covered position or a refresh already in flight is never refreshed; a refresh
 * after a failed one waits out the cooldown; a shortfall at or above `minDeltaRatio` is refreshed
 * at once, a smaller one only after it has lasted `maxRefreshIntervalMs`, so rounding noise does
 * not churn orders and no shortfall is left standing forever.
 */
import type { FillSide, PositionSide } from './position.js';

export interface StopRefreshConfig {
  /** `min_delta_ratio`: the shortfall (of the position's size) that is refreshed at once. */
  minDeltaRatio: number;
  /** `max_refresh_interval_sec` as ms: a smaller shortfall is refreshed once it has lasted this long. */
  maxRefreshIntervalMs: number;
  /** The wait after a failed placement or refresh before the next attempt (ms). */
  refreshCooldownMs: number;
}

/**
 * Defaults: a stop 5 % or more short of its position is refreshed at once; a smaller shortfall
 * after 5 minutes; a failed attempt waits 30 s (RECONCILE_REPAIR_COOLDOWN_SEC's default).
 *
 * @example
 * decideStopRefresh({ positionQty: 2, stopQty: 1, ... }, DEFAULT_STOP_REFRESH_CONFIG); // refresh
 */
export const DEFAULT_STOP_REFRESH_CONFIG: StopRefreshConfig = {
  minDeltaRatio: 0.05,
  maxRefreshIntervalMs: 300_000,
  refreshCooldownMs: 30_000,
};

/** What part of the position the stop leaves uncovered: 0 covered, 1 no stop at all. */
export function stopShortfall(positionQty: number, stopQty: number): number {
  if (positionQty <= 0) return 0;
  return Math.min(1, Math.max(0, (positionQty - Math.max(0, stopQty)) / positionQty));
}

export interface StopRefreshInput {
  positionQty: number;
  /** The quantity the stops keel knows of cover (a close-position stop covers everything). */
  stopQty: number;
  now: number;
  /** When the current shortfall was first seen; null when none was seen before this check. */
  shortfallSince: number | null;
  /** No attempt before this time (set after a failure). */
  notBefore: number;
  /** A placement or refresh for this position is still waiting for the venue. */
  inFlight: boolean;
}

export type StopRefreshDecision =
  | { refresh: true; reason: 'shortfall' | 'lasting_shortfall'; shortfall: number }
  | {
      refresh: false;
      reason: 'covered' | 'in_flight' | 'cooling_down' | 'below_min_delta';
      shortfall: number;
    };

/**
 * Decides whether an undersized stop is refreshed now.
 *
 * @example
 * decideStopRefresh({ positionQty: 0.02, stopQty: 0.01, now, shortfallSince: null, notBefore: 0, inFlight: false }, config);
 * // → { refresh: true, reason: 'shortfall', shortfall: 0.5 }
 */
export function decideStopRefresh(input: StopRefreshInput, config: StopRefreshConfig): StopRefreshDecision {
  const shortfall = stopShortfall(input.positionQty, input.stopQty);
  if (shortfall === 0) return { refresh: false, reason: 'covered', shortfall };
  if (input.inFlight) return { refresh: false, reason: 'in_flight', shortfall };
  if (input.now < input.notBefore) return { refresh: false, reason: 'cooling_down', shortfall };
  if (shortfall >= config.minDeltaRatio) return { refresh: true, reason: 'shortfall', shortfall };
  const since = input.shortfallSince ?? input.now;
  return input.now - since >= config.maxRefreshIntervalMs
    ? { refresh: true, reason: 'lasting_shortfall', shortfall }
    : { refresh: false, reason: 'below_min_delta', shortfall };
}

/** The order side that closes a position: a long is protected by a sell stop. */
export function exitSideOf(side: PositionSide): FillSide {
  return side === 'long' ? 'sell' : 'buy';
}

/**
 * A venue's request budget as its own headers report it (Binance: X-MBX-USED-WEIGHT-1M,
 * X-MBX-ORDER-COUNT-10S/-1M), and what a caller may do now. Invariants: a 429 or 418 pauses
 * every request until its Retry-After has passed (a ban grows for clients that keep asking);
 * past the headroom share of a window, reads wait for the next window instead of running into
 * a 429, while orders go on until their own count is near its limit, so a protective exit is
 * delayed by the budget only when sending it would be refused anyway.
 */

export interface RateBudgetLimits {
  /** Request weight per minute (Binance: 2400). */
  weightPerMinute: number;
  /** Orders per 10 seconds (Binance: 300). */
  ordersPer10s: number;
  /** Orders per minute (Binance: 1200). */
  ordersPerMinute: number;
  /** Share of a window after which keel holds back (default 0.9). */
  headroom: number;
}

export const BINANCE_USDM_LIMITS: RateBudgetLimits = {
  weightPerMinute: 2_400,
  ordersPer10s: 300,
  ordersPerMinute: 1_200,
  headroom: 0.9,
};

/** What the gate says: go now, wait `waitMs` first, or do not send (paused by the venue). */
export type RateGate =
  | { kind: 'go' }
  | { kind: 'wait'; waitMs: number; reason: string }
  | { kind: 'paused'; retryAfterMs: number; reason: string };

export interface RateBudgetState {
  usedWeight: number;
  weightWindow: number;
  orders10s: number;
  orders10sWindow: number;
  orders1m: number;
  orders1mWindow: number;
  pausedUntil: number;
  pauseReason: string;
}

const MINUTE = 60_000;
const TEN_SECONDS = 10_000;

/** A fresh budget: nothing used, no pause. */
export function emptyRateBudget(): RateBudgetState {
  return {
    usedWeight: 0,
    weightWindow: -1,
    orders10s: 0,
    orders10sWindow: -1,
    orders1m: 0,
    orders1mWindow: -1,
    pausedUntil: 0,
    pauseReason: '',
  };
}

/** Reads one response's headers (names in any case) into the budget. */
export function observeRateHeaders(
  state: RateBudgetState,
  headers: Readonly<Record<string, string | undefined>>,
  now: number,
): RateBudgetState {
  const header = (name: string): number | undefined => {
    const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
    const value = entry === undefined ? undefined : Number(entry[1]);
    return value === undefined || !Number.isFinite(value) ? undefined : value;
  };
  const next = { ...state };
  const weight = header('x-mbx-used-weight-1m');
  if (weight !== undefined) {
    next.usedWeight = weight;
    next.weightWindow = Math.floor(now / MINUTE);
  }
  const orders10s = header('x-mbx-order-count-10s');
  if (orders10s !== undefined) {
    next.orders10s = orders10s;
    next.orders10sWindow = Math.floor(now / TEN_SECONDS);
  }
  const orders1m = header('x-mbx-order-count-1m');
  if (orders1m !== undefined) {
    next.orders1m = orders1m;
    next.orders1mWindow = Math.floor(now / MINUTE);
  }
  return next;
}

/**
 * A 429 (rate limited) or 418 (banned) answer: pause everything until Retry-After has passed,
 * or until the next minute when the venue sent none (a ban: at least two minutes).
 */
export function pauseForLimit(
  state: RateBudgetState,
  httpStatus: number,
  retryAfterSec: number | undefined,
  now: number,
): RateBudgetState {
  const fallback = httpStatus === 418 ? 120_000 : (Math.floor(now / MINUTE) + 1) * MINUTE - now;
  const waitMs = retryAfterSec === undefined ? fallback : Math.max(0, retryAfterSec * 1000);
  const until = Math.max(state.pausedUntil, now + waitMs);
  const reason =
    httpStatus === 418 ? 'the venue banned this IP (HTTP 418)' : 'the venue rate-limited keel (HTTP 429)';
  return { ...state, pausedUntil: until, pauseReason: reason };
}

/** Whether a request of `kind` may be sent now under `limits`. */
export function rateGate(
  state: RateBudgetState,
  kind: 'read' | 'order',
  limits: RateBudgetLimits,
  now: number,
): RateGate {
  if (now < state.pausedUntil) {
    return { kind: 'paused', retryAfterMs: state.pausedUntil - now, reason: state.pauseReason };
  }
  const minute = Math.floor(now / MINUTE);
  const untilNextMinute = (minute + 1) * MINUTE - now;
  if (kind === 'order') {
    const tenSec = Math.floor(now / TEN_SECONDS);
    if (state.orders10sWindow === tenSec && state.orders10s >= limits.ordersPer10s * limits.headroom) {
      return {
        kind: 'wait',
        waitMs: (tenSec + 1) * TEN_SECONDS - now,
        reason: `${state.orders10s} of ${limits.ordersPer10s} orders used in this 10 s window`,
      };
    }
    if (state.orders1mWindow === minute && state.orders1m >= limits.ordersPerMinute * limits.headroom) {
      return {
        kind: 'wait',
        waitMs: untilNextMinute,
        reason: `${state.orders1m} of ${limits.ordersPerMinute} orders used in this minute`,
      };
    }
    return { kind: 'go' };
  }
  if (state.weightWindow === minute && state.usedWeight >= limits.weightPerMinute * limits.headroom) {
    return {
      kind: 'wait',
      waitMs: untilNextMinute,
      reason: `request weight ${state.usedWeight} of ${limits.weightPerMinute} used in this minute`,
    };
  }
  return { kind: 'go' };
}

/**
 * Bounded retry timing: how long to wait before the next attempt of a venue call, or `null` to give up.
 * Invariants: pure (randomness arrives as a number in [0, 1)); the same inputs give the same delay;
 * a delay never exceeds `maxDelayMs` unless the venue's Retry-After asks for longer; no retry is
 * offered once `maxAttempts` calls were made or the wait would end past `maxElapsedMs`.
 */
import { z } from 'zod';
import { parseOrThrow } from './parse.js';

/**
 * - `equal` (the default): half the exponential step is fixed, half is random. A retry never fires
 *   immediately after a failure, which matters when the failure was an overloaded venue, while
 *   two processes that failed together still drift apart.
 * - `full`: anywhere between 0 and the step. Spreads load best under heavy contention (many
 *   clients of one server), but may retry at once; keel is one client per account, so it is opt-in.
 */
export const retryJitterSchema = z.enum(['equal', 'full']);
export type RetryJitter = z.infer<typeof retryJitterSchema>;

export const retryPolicySchema = z.strictObject({
  /** Calls in total, the first one included; at least 1. */
  maxAttempts: z.number().int().min(1).describe('Calls in total, the first one included; at least 1.'),
  /** Time budget from the first call (ms); no wait is started that would end past it. */
  maxElapsedMs: z
    .number()
    .int()
    .nonnegative()
    .describe('Time budget from the first call (ms); no wait is started that would end past it.'),
  /** The step before the second call (ms); it doubles for each call after that. */
  baseDelayMs: z
    .number()
    .int()
    .nonnegative()
    .describe('The step before the second call (ms); it doubles for each call after that.'),
  /** The largest step (ms); only a venue's Retry-After may ask for a longer wait. */
  maxDelayMs: z
    .number()
    .int()
    .nonnegative()
    .describe("The largest step (ms); only a venue's Retry-After may ask for a longer wait."),
  jitter: retryJitterSchema,
});
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

/**
 * Four calls (as the order-intent machine's `maxSubmitAttempts`), 250 ms doubling to at most 5 s,
 * within 30 s: long enough to ride out a venue hiccup, short enough that reconcile takes over
 * while the market has barely moved.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  maxElapsedMs: 30_000,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
  jitter: 'equal',
};

/**
 * Reads a partial policy over the defaults; throws a BadInputError naming each bad field.
 *
 * @example
 * const policy = parseRetryPolicy({ maxAttempts: 6 }); // the other fields from DEFAULT_RETRY_POLICY
 */
export function parseRetryPolicy(input: unknown = {}): RetryPolicy {
  const partial = parseOrThrow(retryPolicySchema.partial(), input, 'bad retry policy');
  const merged: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
  return merged;
}

/**
 * The wait (ms) before call number `attempt + 1`, after `attempt` calls failed and `elapsedMs`
 * passed since the first; `null` when the policy is exhausted and the caller must give up.
 * `random01` is a number in [0, 1) from the caller's seam; `retryAfterMs` is the venue's own
 * wait, used as a floor.
 *
 * @example
 * nextRetryDelay(DEFAULT_RETRY_POLICY, 1, 0, 0.5); // → 187 (equal jitter: 125 fixed + 62 random)
 */
export function nextRetryDelay(
  policy: RetryPolicy,
  attempt: number,
  elapsedMs: number,
  random01: number,
  retryAfterMs?: number,
): number | null {
  if (attempt >= policy.maxAttempts || elapsedMs >= policy.maxElapsedMs) return null;
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const unit = clampUnit(random01);
  const jittered =
    policy.jitter === 'full' ? Math.floor(unit * step) : Math.floor(step / 2 + unit * (step - step / 2));
  const delay = Math.min(Math.max(jittered, retryAfterMs ?? 0), Number.MAX_SAFE_INTEGER);
  // Sleeping into a wait the budget cannot cover only delays the hand-over to reconcile.
  return elapsedMs + delay > policy.maxElapsedMs ? null : delay;
}

function clampUnit(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return value >= 1 ? 1 - Number.EPSILON : value;
}

/**
 * Restart intensity, as Erlang/OTP supervisors count it: at most `maxRestarts` restarts of a child
 * within any `windowMs`; one more means the failure is not transient and must escalate.
 * Invariants: restarts older than the window never count; the history kept never holds more than
 * `maxRestarts + 1` times, so a child that fails forever costs bounded memory.
 */
import { z } from 'zod';

export const restartIntensitySchema = z.strictObject({
  /** Restarts allowed inside the window; one more escalates. */
  maxRestarts: z.number().int().nonnegative(),
  /** The sliding window (ms) restarts are counted in. */
  windowMs: z.number().int().positive(),
});
export type RestartIntensity = z.infer<typeof restartIntensitySchema>;

/**
 * keel's supervisors tick every second and a cycle runs every 10 s: three restarts in a minute is
 * a transient fault recovering (a bad venue answer, a bug hit once); a fourth is a loop, and
 * restarting it again would only hide it. The runtime's intents use the same default.
 *
 * @example
 * recordRestart([], now, DEFAULT_RESTART_INTENSITY); // → { history: [now], exceeded: false }
 */
export const DEFAULT_RESTART_INTENSITY: RestartIntensity = { maxRestarts: 3, windowMs: 60_000 };

/**
 * Counts one more restart at `now`.
 *
 * @example
 * const { history, exceeded } = recordRestart(previous, clock.now(), { maxRestarts: 3, windowMs: 60_000 });
 * if (exceeded) escalate();
 */
export function recordRestart(
  history: readonly number[],
  now: number,
  intensity: RestartIntensity,
): { history: number[]; exceeded: boolean } {
  const recent = history.filter((at) => now - at < intensity.windowMs);
  recent.push(now);
  const kept = recent.slice(-(intensity.maxRestarts + 1));
  return { history: kept, exceeded: kept.length > intensity.maxRestarts };
}

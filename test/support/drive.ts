/**
 * Drives a manual clock until a promise settles: small steps of simulated time, with real turns of
 * the event loop in between so store commits (setImmediate) and venue answers can land.
 */
import type { ManualClock } from './manual-clock.js';

/**
 * @example
 * const settled = await drive(clock, keel.settled('i-1'));
 */
export async function drive<T>(clock: ManualClock, promise: Promise<T>, limitMs = 120_000): Promise<T> {
  let done = false;
  const result = promise.finally(() => (done = true));
  for (let waited = 0; waited <= limitMs; waited += 50) {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    if (done) return result;
    clock.advance(50);
  }
  throw new Error(`still pending after ${limitMs} ms of simulated time`);
}

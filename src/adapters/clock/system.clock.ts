/**
 * The wall clock behind the clock port: the one place a running keel reads real time.
 * Invariants: a running keel keeps its process alive through its tick interval (so a script awaiting
 * `settled` is not cut short), and `close` cancels it; a cancelled timer never fires.
 */
import type { ClockPort } from '../../ports/clock.port.js';

/**
 * @example
 * const keel = await createKeel(config, { clock: systemClock });
 */
export const systemClock: ClockPort = {
  now: () => Date.now(),
  setInterval(callback, ms) {
    const handle = setInterval(callback, ms);
    return { cancel: () => clearInterval(handle) };
  },
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(handle) };
  },
};

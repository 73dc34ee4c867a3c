/** The manual clock lives with the other clocks; tests import it from here as before. */
export { ManualClock } from '../../src/adapters/clock/manual.clock.js';

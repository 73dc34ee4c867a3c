/**
 * The clock port: the only seam through which wall-clock time enters keel. Tests pass a
 * manual clock; the daemon passes the system clock. Machines never read it: time reaches
 * them as `clock.tick { now }` events.
 */
export interface ClockPort {
  /** Milliseconds since the epoch. */
  now(): number;
  setInterval(callback: () => void, ms: number): { cancel(): void };
  setTimeout(callback: () => void, ms: number): { cancel(): void };
}

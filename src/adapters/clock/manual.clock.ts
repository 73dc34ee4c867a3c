/**
 * A manual ClockPort for tests and chaos runs: time moves only when the caller says so, and timers due in the
 * skipped span fire in time order. Invariant: `now()` never goes backwards.
 */
import type { ClockPort } from '../../ports/clock.port.js';

interface Timer {
  id: number;
  at: number;
  every: number | undefined;
  callback: () => void;
}

export class ManualClock implements ClockPort {
  private current: number;
  private timers: Timer[] = [];
  private nextId = 0;

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): { cancel(): void } {
    return this.add(callback, ms, undefined);
  }

  setInterval(callback: () => void, ms: number): { cancel(): void } {
    return this.add(callback, ms, Math.max(1, ms));
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.current = due.at;
      if (due.every === undefined) this.timers = this.timers.filter((timer) => timer !== due);
      else due.at += due.every;
      due.callback();
    }
    this.current = target;
  }

  private add(callback: () => void, ms: number, every: number | undefined): { cancel(): void } {
    const timer: Timer = { id: ++this.nextId, at: this.current + Math.max(0, ms), every, callback };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((other) => other !== timer)) };
  }
}

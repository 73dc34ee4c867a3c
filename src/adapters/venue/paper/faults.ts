/**
 * Fault injection for the paper venue, configured per run: each fault fires on a scripted
 * "next N" count first, then with a seeded probability. Invariants: dice come from the venue's
 * fault stream only (the price walk never shifts when faults change); a fault with neither
 * count nor probability never fires.
 */
import type { SeededRandom } from './rng.js';

/** When a fault fires: the next `next` opportunities, then each one with `probability`. */
export interface FaultTrigger {
  next?: number;
  probability?: number;
}

/** Every fault the paper venue can inject, by kind. */
export interface PaperFaults {
  /** submit answers ETIMEDOUT but the order landed on the book. */
  submitTimeoutLanded?: FaultTrigger;
  /** submit answers ETIMEDOUT and the order never reached the venue. */
  submitTimeoutLost?: FaultTrigger;
  /** submit answers HTTP 503 "Unknown error…" (execution status unknown); the order landed unless `landed: false`. */
  executionUnknown?: FaultTrigger & { landed?: boolean };
  /** cancel answers ETIMEDOUT but the order was cancelled. */
  cancelTimeoutLanded?: FaultTrigger;
  /** cancel answers ETIMEDOUT and the order is still open. */
  cancelTimeoutLost?: FaultTrigger;
  /** cancel answers -2011 "Unknown order sent." although the order is still open. */
  cancelUnknownOrder?: FaultTrigger;
  /** The accepted ack reaches the stream `delayMs` late, after later events (out of order). */
  delayedAck?: FaultTrigger & { delayMs?: number };
  /** The order fills in the engine while the cancel is in flight: the stream says canceled, then filled. */
  fillAfterCancel?: FaultTrigger;
  /** A fill message is sent twice on the stream with the same trade id. */
  duplicateFill?: FaultTrigger;
  /** Any call answers HTTP 429 (-1003) with Retry-After `retryAfter` seconds. */
  rateLimit?: FaultTrigger & { retryAfter?: number };
  /** submit is refused with this Binance code (HTTP 400), e.g. -2019 margin insufficient. */
  reject?: FaultTrigger & { code: number };
  /** The stream disconnects: the next `lose` messages (default 1) are lost, then a gap is reported. */
  streamDisconnect?: FaultTrigger & { lose?: number };
}

export type FaultKind = keyof PaperFaults;

/** Rolls the dice for each fault kind; scripted counts are spent before any probability. */
export class FaultDice {
  private readonly remaining = new Map<FaultKind, number>();
  /** How many times each kind fired: chaos runs report the faults they injected. */
  readonly fired = new Map<FaultKind, number>();

  constructor(
    private readonly faults: PaperFaults,
    private readonly random: SeededRandom,
  ) {
    for (const [kind, trigger] of Object.entries(faults) as [FaultKind, FaultTrigger | undefined][]) {
      if (trigger?.next) this.remaining.set(kind, trigger.next);
    }
  }

  /** The fault's options when it fires now, else undefined. */
  fires<K extends FaultKind>(kind: K): NonNullable<PaperFaults[K]> | undefined {
    const trigger = this.faults[kind];
    if (!trigger) return undefined;
    const left = this.remaining.get(kind) ?? 0;
    if (left > 0) {
      this.remaining.set(kind, left - 1);
      return this.count(kind, trigger);
    }
    if (trigger.probability !== undefined && trigger.probability > 0) {
      return this.random.next() < trigger.probability ? this.count(kind, trigger) : undefined;
    }
    return undefined;
  }

  private count<T>(kind: FaultKind, trigger: T): T {
    this.fired.set(kind, (this.fired.get(kind) ?? 0) + 1);
    return trigger;
  }
}

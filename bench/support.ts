/**
 * Shared pieces of the benchmarks: a clock whose timers never fire, temporary data dirs, intent
 * inputs, a bounded-concurrency pool, percentiles and a forced garbage collection.
 * Invariants: nothing here reads a store or a venue; every temp dir it hands out is removed by
 * `removeTempDirs`; the clock's `now` never goes backwards.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IntentInput } from '../src/domain/intent.schema.js';
import type { ClockPort } from '../src/ports/clock.port.js';

/**
 * A clock for benchmarks: `now` follows the wall clock (so latencies and journal timestamps are
 * real), but timers never fire by themselves, so no measured path waits on one (no feed steps, no
 * tick sweeps, no retry backoff). `advance` moves time on and fires what falls due, for the runs
 * that want keel's ticks (parking quiet intents); `pending` tells a stuck run which timers it set.
 */
export class BenchClock implements ClockPort {
  private offset = 0;
  private last = 0;
  private nextId = 0;
  private readonly timers = new Map<
    number,
    { at: number; every: number | undefined; callback: () => void }
  >();

  now(): number {
    this.last = Math.max(this.last, Date.now() + this.offset);
    return this.last;
  }

  setInterval(callback: () => void, ms: number): { cancel(): void } {
    return this.add(callback, ms, Math.max(1, ms));
  }

  setTimeout(callback: () => void, ms: number): { cancel(): void } {
    return this.add(callback, ms, undefined);
  }

  /**
   * Moves time forward by `ms`, firing in time order every timer due by then; a timer already
   * overdue fires once, at the start, and an interval re-arms from the time it fired.
   */
  advance(ms: number): void {
    const target = this.now() + ms;
    for (;;) {
      let due: { id: number; at: number } | undefined;
      for (const [id, timer] of this.timers) {
        if (timer.at <= target && (due === undefined || timer.at < due.at)) due = { id, at: timer.at };
      }
      const timer = due && this.timers.get(due.id);
      if (!due || !timer) break;
      this.offset += Math.max(0, timer.at - this.now());
      if (timer.every === undefined) this.timers.delete(due.id);
      else timer.at = this.now() + timer.every;
      timer.callback();
    }
    this.offset += Math.max(0, target - this.now());
  }

  /** Timers set and not cancelled, e.g. `{ 'every 1000 ms': 1, 'after 250 ms': 3 }`. */
  pending(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { at, every } of this.timers.values()) {
      const key = every === undefined ? `at ${at}` : `every ${every} ms`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  private add(callback: () => void, ms: number, every: number | undefined): { cancel(): void } {
    const id = ++this.nextId;
    this.timers.set(id, { at: this.now() + Math.max(0, ms), every, callback });
    return { cancel: () => this.timers.delete(id) };
  }
}

const tempDirs: string[] = [];

/** A fresh directory under the OS temp dir, removed by `removeTempDirs`. */
export function makeTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `keel-bench-${label}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Size of a file in bytes, 0 when it does not exist. */
export function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * 0.001 BTC at 25 000: far below the paper price of 50 000, so the order rests at the venue, and valid
 * for its filters (min notional 5). The benches that need live intents rest them with it.
 */
export const RESTING = { type: 'limit', price: 25_000 } as const;

/** A valid paper ENTRY; `index` varies the strategy so no two intents share a guard key. */
export function entryIntent(
  index: number,
  terms: { type: 'market' } | { type: 'limit'; price: number } = { type: 'market' },
): IntentInput {
  return {
    strategy_id: `bench-${index}`,
    bot_id: 'bench-bot',
    client_id: 'bench',
    source: 'library',
    venue: 'paper',
    account: 'main',
    symbol: 'BTCUSDT',
    side: 'buy',
    qty: 0.001,
    kind: 'ENTRY',
    ...terms,
  };
}

/**
 * Runs `task(0..count-1)` with at most `concurrency` calls outstanding, in index order, and
 * rejects with the first failure after the calls already started have finished.
 */
export async function runPool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  async function worker(): Promise<void> {
    while (next < count && failure === undefined) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
  if (failure) throw failure.error;
}

/** The p-th percentile (0–100) of already sorted samples, by nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** `global.gc`, exposing it at run time when node was started without --expose-gc. */
export function garbageCollector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Collects until the heap stops shrinking, so a reading is not skewed by garbage. */
export async function settledHeapUsed(gc: () => void): Promise<number> {
  let previous = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 10; round += 1) {
    // Let pending microtasks and immediates (store commits, finalizers) run before collecting.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= previous * 0.999) return used;
    previous = used;
  }
  return previous;
}

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with `message` if `work` has not settled after `ms`, so a stuck run reports instead of hanging. */
export async function withDeadline<T>(work: Promise<T>, ms: number, message: () => string): Promise<T> {
  let handle: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    handle = setTimeout(() => reject(new Error(message())), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(handle);
  }
}

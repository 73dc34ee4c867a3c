/**
 * keel on the paper venue for the supervisor scenarios: a manual clock, a venue whose `positions()`
 * can be made to fail, hide or double what it holds, a restart on the same data directory, and
 * helpers that move simulated time while letting venue answers and journal writes land.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPaperVenue, type PaperVenue } from '../../src/adapters/venue/paper/paper.venue.js';
import { createKeel, type Keel, type KeelConfigInput } from '../../src/config/create-keel.js';
import type { VenuePort, VenuePosition, VenueResult } from '../../src/ports/venue.port.js';
import { ManualClock } from './manual-clock.js';

/** Run by the test file's afterEach, newest first. */
export const cleanups: (() => Promise<void> | void)[] = [];

export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** What the venue's `positions()` does: answer truly, fail, or report every position gone. */
export type PositionsFault = 'none' | 'fail' | 'hide' | 'double';

export async function start(config: KeelConfigInput = {}) {
  const clock = new ManualClock();
  const dir = mkdtempSync(join(tmpdir(), 'keel-reconcile-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // Two listed symbols, so a scenario can trade one by hand while keel trades the other.
  const paper: PaperVenue = openPaperVenue({
    seed: 11,
    clock,
    symbols: {
      BTCUSDT: { start: 50_000, volatility: 0.0005 },
      ETHUSDT: { start: 3_000, volatility: 0.0005 },
    },
  });
  const stepper = paper.autoStep();
  cleanups.push(() => stepper.cancel());
  const fault = { positions: 'none' as PositionsFault, calls: 0 };
  const venue = new Proxy(paper, {
    get(target, property, receiver) {
      if (property === 'positions')
        return (): Promise<VenueResult<VenuePosition[]>> => {
          fault.calls += 1;
          if (fault.positions === 'fail')
            return Promise.resolve({ ok: false, httpStatus: 503, message: 'service unavailable' });
          if (fault.positions === 'hide') return Promise.resolve({ ok: true, value: [] });
          if (fault.positions === 'double')
            return target.positions().then((answer) =>
              answer.ok
                ? {
                    ok: true,
                    value: answer.value.map((position) => ({ ...position, qty: position.qty * 2 })),
                  }
                : answer,
            );
          return target.positions();
        };
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as VenuePort;
  const keel: Keel = await createKeel(
    { dataDir: dir, mode: 'strict', ...config },
    { clock, venue, random: () => 0.5 },
  );
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await keel.close();
  };
  cleanups.push(close);
  /** A second keel on the same data directory and venue: a restart. */
  const restart = async (next: KeelConfigInput = config) => {
    await close();
    const again = await createKeel(
      { dataDir: dir, mode: 'strict', ...next },
      { clock, venue, random: () => 0.5 },
    );
    cleanups.push(() => again.close());
    return again;
  };
  return { keel, clock, paper, fault, restart };
}

/** Moves the manual clock forward in steps, letting venue answers and writes land in between. */
export async function advance(clock: ManualClock, ms: number, step = 250): Promise<void> {
  for (let moved = 0; moved < ms; moved += step) {
    clock.advance(Math.min(step, ms - moved));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

export async function until(clock: ManualClock, done: () => boolean, limitMs = 600_000): Promise<number> {
  for (let waited = 0; waited <= limitMs; waited += 250) {
    if (done()) return waited;
    await advance(clock, 250);
  }
  throw new Error(`condition still false after ${limitMs} ms of simulated time`);
}

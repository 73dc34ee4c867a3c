/**
 * Opens keel the way every benchmark runs it: `createKeel` over a real SQLite store in a temp dir
 * (WAL + synchronous=FULL, as the store sets them), a venue given as an override, and the bench
 * clock. Invariants: the duplicate-entry guard and the open-orders-per-symbol knob are out of the
 * way (every intent is a separate live entry);
 * `lingerMs` is 0, so an order finishes its lifecycle (DONE) as soon as its last venue call returns
 * instead of waiting on a tick that the bench clock never fires.
 */
import { join } from 'node:path';
import { openSqliteStore } from '../src/adapters/store/sqlite.store.js';
import { createKeel, type Keel, type KeelConfigInput } from '../src/config/create-keel.js';
import type { VenuePort } from '../src/ports/venue.port.js';
import { RecordingStore } from './raw-floor.js';
import { BenchClock, makeTempDir } from './support.js';

export interface BenchKeel {
  keel: Keel;
  store: RecordingStore;
  clock: BenchClock;
  dataDir: string;
  /** Closes keel, then the store it was given. */
  close(): Promise<void>;
}

/** The configuration every benchmark opens keel with over `dataDir`, `config` laid over it. */
export function benchKeelConfig(dataDir: string, config: KeelConfigInput = {}): KeelConfigInput {
  return {
    dataDir,
    mode: 'lenient',
    guard: { oneLiveEntryPerStrategySymbol: false },
    // Hundreds of entries work on one symbol at once here; GREEN's default cap of 4 open orders
    // per symbol would refuse all but the first few, and the bench would measure refusals.
    beliefController: { knobs: { GREEN: { max_open_orders_per_symbol: 1_000_000 } } },
    lingerMs: 0,
    ...config,
  };
}

export async function openBenchKeel(
  label: string,
  venue: (clock: BenchClock) => VenuePort,
  config: KeelConfigInput = {},
): Promise<BenchKeel> {
  const dataDir = join(makeTempDir(label), 'keel');
  const clock = new BenchClock();
  const store = new RecordingStore(openSqliteStore({ dataDir }));
  store.recording = false;
  const keel = await createKeel(benchKeelConfig(dataDir, config), {
    clock,
    venue: venue(clock),
    store,
    random: () => 0.5,
  });
  return {
    keel,
    store,
    clock,
    dataDir,
    async close() {
      await keel.close();
      await store.close();
    },
  };
}

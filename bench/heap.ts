/**
 * heapBytesPerLiveIntent: the JS heap each live intent costs. Limit ENTRY orders far below the price
 * are sent to a venue that acknowledges and never fills, so every intent stays live. Read twice: just
 * after submission, with every intent's actor running, and in the steady state, after keel's ticks
 * have parked the quiet intents as snapshots (the clock is advanced past `parkAfterMs`).
 * Invariants: each reading is the heap after full collections minus a baseline taken the same way
 * with `baseline` parked intents, divided by `count`; the venue keeps nothing per order, so its
 * memory is not charged to keel; SQLite's page cache lives outside the JS heap and is reported
 * separately (RSS, file size).
 */
import { join } from 'node:path';
import { openBenchKeel, type BenchKeel } from './bench-keel.js';
import {
  entryIntent,
  RESTING,
  fileBytes,
  garbageCollector,
  runPool,
  settledHeapUsed,
  withDeadline,
} from './support.js';
import { ackOnlyVenue } from './venues.js';

export interface HeapOptions {
  count: number;
  baseline: number;
  concurrency: number;
}

export interface HeapResult {
  /** Steady state: intents quiet for `parkAfterMs` are parked as snapshots. */
  heapBytesPerLiveIntent: number;
  /** Right after submission, every intent's actor still running. */
  runningHeapBytesPerLiveIntent: number;
  count: number;
  liveIntents: number;
  parkedIntents: number;
  parkAfterMs: number;
  heapUsedBaselineBytes: number;
  heapUsedRunningBytes: number;
  heapUsedParkedBytes: number;
  /** Off-heap: resident set growth (steady state) and the store's files, per live intent. */
  rssBytesPerLiveIntent: number;
  externalBytesPerLiveIntent: number;
  sqliteFileBytesPerIntent: number;
  venueSubmits: number;
}

const TICK_MS = 1_000;
const PARK_AFTER_MS = 5_000;

/** Lets keel's ticks run until every quiet intent has been quiet for `parkAfterMs`, then lets the writes finish. */
async function letIntentsPark(bench: BenchKeel): Promise<void> {
  // The first tick marks an intent quiet; a tick `parkAfterMs` later parks it.
  bench.clock.advance(TICK_MS);
  await bench.keel.idle();
  bench.clock.advance(PARK_AFTER_MS + TICK_MS);
  await bench.keel.idle();
}

export async function runHeap(options: HeapOptions): Promise<HeapResult> {
  const gc = garbageCollector();
  let venue: ReturnType<typeof ackOnlyVenue> | undefined;
  const bench = await openBenchKeel('heap', (clock) => (venue = ackOnlyVenue(clock)), {
    tickMs: TICK_MS,
    parkAfterMs: PARK_AFTER_MS,
  });
  const { keel } = bench;
  const submit = async (index: number): Promise<void> => {
    const sent = await keel.submit(entryIntent(index, RESTING), { intentId: `h-${index}` });
    if (sent.status !== 'SENT_TO_BROKER')
      throw new Error(`intent ${sent.intent_id} is ${sent.status}, not live`);
  };
  try {
    await runPool(options.baseline, options.concurrency, submit);
    await keel.idle();
    await letIntentsPark(bench);
    const baseline = await settledHeapUsed(gc);
    const memoryBefore = process.memoryUsage();

    await withDeadline(
      runPool(options.count, options.concurrency, (index) => submit(options.baseline + index)),
      600_000,
      () => `only ${keel.liveCount()} intents were live before the deadline`,
    );
    await keel.idle();
    const running = await settledHeapUsed(gc);

    await letIntentsPark(bench);
    const parked = await settledHeapUsed(gc);
    const memoryAfter = process.memoryUsage();

    const liveIntents = keel.liveCount();
    if (liveIntents !== options.baseline + options.count) {
      throw new Error(`${liveIntents} intents are live, expected ${options.baseline + options.count}`);
    }
    const file = join(bench.dataDir, 'keel.db');
    return {
      heapBytesPerLiveIntent: (parked - baseline) / options.count,
      runningHeapBytesPerLiveIntent: (running - baseline) / options.count,
      count: options.count,
      liveIntents,
      parkedIntents: keel.parkedCount(),
      parkAfterMs: PARK_AFTER_MS,
      heapUsedBaselineBytes: baseline,
      heapUsedRunningBytes: running,
      heapUsedParkedBytes: parked,
      rssBytesPerLiveIntent: (memoryAfter.rss - memoryBefore.rss) / options.count,
      externalBytesPerLiveIntent: (memoryAfter.external - memoryBefore.external) / options.count,
      sqliteFileBytesPerIntent: (fileBytes(file) + fileBytes(`${file}-wal`)) / liveIntents,
      venueSubmits: venue?.submits ?? 0,
    };
  } finally {
    await bench.close();
  }
}

/**
 * heapBytesPerLiveIntent: the JS heap each live intent costs. Limit ENTRY orders far below the price
 * are sent to a venue that acknowledges and never fills, so every intent stays live (an actor, its
 * registry view, its router state). Invariants: the reading is the heap after full collections with
 * `count` live intents minus the heap with a warmed-up keel holding `baseline` live intents, divided
 * by `count`; the venue keeps nothing per order, so its memory is not charged to keel; SQLite's page
 * cache lives outside the JS heap and is reported separately (RSS, file size).
 */
import { join } from 'node:path';
import { openBenchKeel } from './bench-keel.js';
import {
  entryIntent,
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
  heapBytesPerLiveIntent: number;
  count: number;
  liveIntents: number;
  heapUsedBeforeBytes: number;
  heapUsedAfterBytes: number;
  /** Off-heap: resident set growth and the store's files, per live intent. */
  rssBytesPerLiveIntent: number;
  externalBytesPerLiveIntent: number;
  sqliteFileBytesPerIntent: number;
  venueSubmits: number;
}

/** 100 000 × 0.001 BTC at 25 000: far below the paper price, valid for its filters (min notional 5). */
const RESTING = { type: 'limit', price: 25_000 } as const;

export async function runHeap(options: HeapOptions): Promise<HeapResult> {
  const gc = garbageCollector();
  let venue: ReturnType<typeof ackOnlyVenue> | undefined;
  const bench = await openBenchKeel('heap', (clock) => (venue = ackOnlyVenue(clock)));
  const { keel } = bench;
  const submit = async (index: number): Promise<void> => {
    const sent = await keel.submit(entryIntent(index, RESTING), { intentId: `h-${index}` });
    if (sent.status !== 'SENT_TO_BROKER')
      throw new Error(`intent ${sent.intent_id} is ${sent.status}, not live`);
  };
  try {
    await runPool(options.baseline, options.concurrency, submit);
    await keel.idle();
    const before = await settledHeapUsed(gc);
    const memoryBefore = process.memoryUsage();
    await withDeadline(
      runPool(options.count, options.concurrency, (index) => submit(options.baseline + index)),
      600_000,
      () => `only ${keel.liveCount()} intents were live before the deadline`,
    );
    await keel.idle();
    const after = await settledHeapUsed(gc);
    const memoryAfter = process.memoryUsage();
    const liveIntents = keel.liveCount();
    if (liveIntents !== options.baseline + options.count) {
      throw new Error(`${liveIntents} intents are live, expected ${options.baseline + options.count}`);
    }
    const file = join(bench.dataDir, 'keel.db');
    return {
      heapBytesPerLiveIntent: (after - before) / options.count,
      count: options.count,
      liveIntents,
      heapUsedBeforeBytes: before,
      heapUsedAfterBytes: after,
      rssBytesPerLiveIntent: (memoryAfter.rss - memoryBefore.rss) / options.count,
      externalBytesPerLiveIntent: (memoryAfter.external - memoryBefore.external) / options.count,
      sqliteFileBytesPerIntent: (fileBytes(file) + fileBytes(`${file}-wal`)) / liveIntents,
      venueSubmits: venue?.submits ?? 0,
    };
  } finally {
    await bench.close();
  }
}

/**
 * intentsPerSec: market ENTRY intents through `createKeel` to the end of their lifecycle on an
 * in-memory paper venue, durability on. Invariants: the clock starts after a warm-up and stops once
 * every intent is EXECUTED and keel is idle (every write, DONE included, committed); an intent that
 * ends any other way fails the run; the warm-up's store calls are recorded as the raw floor's profile.
 */
import { openPaperVenue } from '../src/adapters/venue/paper/paper.venue.js';
import { openBenchKeel } from './bench-keel.js';
import {
  countJournal,
  describeProfile,
  typicalProfile,
  type JournalCounts,
  type WriteProfile,
} from './raw-floor.js';
import { entryIntent, runPool, withDeadline } from './support.js';

export interface ThroughputOptions {
  count: number;
  warmup: number;
  concurrency: number;
}

export interface ThroughputResult {
  intentsPerSec: number;
  /** Process CPU (user + system, every thread) of the timed part, per intent. */
  cpuMsPerIntent: number;
  /** Rate counted at the last EXECUTED, before the final DONE writes committed. */
  executedPerSec: number;
  count: number;
  seconds: number;
  journal: JournalCounts;
  /** Store commits and write calls during the timed part. */
  commits: number;
  storeCalls: number;
  largestBatch: number;
  /** The warm-up intent profile the raw floor replays, and the share of intents that had its shape. */
  profile: WriteProfile;
  profileShape: string;
  profileShare: number;
  liveAfter: number;
  anomalies: number;
}

export async function runThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const bench = await openBenchKeel('throughput', (clock) => openPaperVenue({ seed: 7, clock }));
  const { keel, store } = bench;
  const runIntent = async (index: number): Promise<void> => {
    const sent = await keel.submit(entryIntent(index), { intentId: `t-${index}` });
    // The in-memory venue answers at once, so the order may already be EXECUTED here.
    if (sent.status === 'FAILED' || sent.status === 'CREATED') {
      throw new Error(`intent ${sent.intent_id} was not sent: ${sent.status} ${sent.tag ?? ''}`);
    }
    const done = await keel.settled(sent.intent_id);
    if (done.status !== 'EXECUTED') {
      throw new Error(`intent ${done.intent_id} ended ${done.status} ${done.tag ?? ''}, not EXECUTED`);
    }
  };
  const stuck = (): string =>
    `the run stalled with ${keel.liveCount()} live intents; timers keel asked for: ` +
    JSON.stringify(bench.clock.pending());
  try {
    store.recording = true;
    await withDeadline(runPool(options.warmup, options.concurrency, runIntent), 120_000, stuck);
    await keel.idle();
    store.recording = false;
    const { profile, share } = typicalProfile(store.profiles());

    const before = store.inner.stats();
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    let executedAt = started;
    await withDeadline(
      runPool(options.count, options.concurrency, async (index) => {
        await runIntent(options.warmup + index);
        executedAt = performance.now();
      }),
      600_000,
      stuck,
    );
    await keel.idle();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const after = store.inner.stats();
    return {
      intentsPerSec: options.count / seconds,
      cpuMsPerIntent: (cpu.user + cpu.system) / 1000 / options.count,
      executedPerSec: options.count / ((executedAt - started) / 1000),
      count: options.count,
      seconds,
      journal: countJournal(store.inner.readJournal()),
      commits: after.commits - before.commits,
      storeCalls: after.writes - before.writes,
      largestBatch: after.largestBatch,
      profile,
      profileShape: describeProfile(profile),
      profileShare: share,
      liveAfter: keel.liveCount(),
      anomalies: keel.anomalies().length,
    };
  } finally {
    await bench.close();
  }
}

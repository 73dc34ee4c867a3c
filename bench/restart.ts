/**
 * `restartMs`: how long keel takes to start over a store that already holds a long history — closed
 * (terminal) intents and open ones resting at the venue — until recovery is done. Invariants: the
 * open intents are placed by keel itself on an in-memory paper venue, which still holds them when
 * keel restarts, so every restored order is looked up and found; the closed ones are the store calls
 * of a real closed intent, replayed through the store API (`profileWriter`), so their rows are the
 * runtime's; the timed part is `createKeel` over the closed data dir (the store opened by keel
 * itself) plus `keel.idle()`, and the run fails unless every restart restored and reconciled every
 * open intent and journaled each as restored, with no orphan and no anomaly.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { openPaperVenue } from '../src/adapters/venue/paper/paper.venue.js';
import { createKeel } from '../src/config/create-keel.js';
import { benchKeelConfig, openBenchKeel } from './bench-keel.js';
import { profileWriter, typicalProfile } from './raw-floor.js';
import {
  BenchClock,
  entryIntent,
  RESTING,
  fileBytes,
  garbageCollector,
  median,
  runPool,
  withDeadline,
} from './support.js';

export interface RestartOptions {
  /** Terminal intents in the store (EXECUTED market entries). */
  closed: number;
  /** Non-terminal intents: limit entries acknowledged by the venue and resting there. */
  open: number;
  /** Intents in flight while the store is built. */
  concurrency: number;
  /**
   * Timed restarts, one after the other over the same store and venue (each restores the same open
   * intents; the journal grows by their `recovery.restored` rows); the figures are their medians.
   */
  restarts: number;
}

/** One timed restart over the built store. */
export interface RestartRun {
  /** From calling `createKeel` until it resolved and `keel.idle()` found nothing pending. */
  restartMs: number;
  /** From calling `createKeel` until it resolved (recovery's own end, before the idle check). */
  createKeelMs: number;
  /** Process CPU (user + system, every thread) over the same span as `restartMs`. */
  cpuMs: number;
  restored: number;
  reconciled: number;
  abandoned: number;
}

export interface RestartResult {
  /** Median of the restarts' `restartMs`. */
  restartMs: number;
  /** Median of the restarts' `cpuMs`. */
  cpuMs: number;
  runs: RestartRun[];
  closed: number;
  open: number;
  buildSeconds: number;
  /** The database file (and WAL, if any) as keel found it at the first restart. */
  dbBytes: number;
  journalRows: number;
  venueOpenOrders: number;
  /** `recovery.restored` rows durable after the last restart: `open` per restart. */
  restoredRowsJournaled: number;
}

/** Closed intents are written in commit groups this large: building the store is not what is measured. */
const REPLAY_CONCURRENCY = 2_000;

export async function runRestart(options: RestartOptions): Promise<RestartResult> {
  if (options.closed < 1) throw new Error('the restart bench needs at least one closed intent');
  const buildStarted = performance.now();
  // The venue outlives keel, as an exchange does: the restarted keel meets the same resting orders.
  const venue = openPaperVenue({ seed: 7, clock: new BenchClock() });
  const first = await openBenchKeel('restart', () => venue);
  const { dataDir } = first;
  try {
    first.store.recording = true;
    const sent = await first.keel.submit(entryIntent(0), { intentId: 'closed-0' });
    const done = await first.keel.settled(sent.intent_id);
    if (done.status !== 'EXECUTED') throw new Error(`the profile intent ended ${done.status}, not EXECUTED`);
    await first.keel.idle();
    first.store.recording = false;
    const { profile } = typicalProfile(first.store.profiles());

    const writeClosed = profileWriter(first.store.inner, profile, 'closed');
    await runPool(options.closed - 1, REPLAY_CONCURRENCY, (index) => writeClosed(index + 1));

    await withDeadline(
      runPool(options.open, options.concurrency, async (index) => {
        const resting = await first.keel.submit(entryIntent(index, RESTING), { intentId: `open-${index}` });
        if (resting.status !== 'SENT_TO_BROKER')
          throw new Error(`intent ${resting.intent_id} is ${resting.status}, not resting at the venue`);
      }),
      600_000,
      () => `only ${first.keel.liveCount()} intents were live before the deadline`,
    );
    await first.keel.idle();
    if (first.keel.liveCount() !== options.open)
      throw new Error(
        `${first.keel.liveCount()} intents are live before the restart, expected ${options.open}`,
      );
  } finally {
    await first.close();
  }
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  const venueOpenOrders = await venue.openOrders();
  if (!venueOpenOrders.ok || venueOpenOrders.value.length !== options.open)
    throw new Error(`the venue does not hold the ${options.open} open orders keel placed`);
  const file = join(dataDir, 'keel.db');
  const dbBytes = fileBytes(file) + fileBytes(`${file}-wal`);
  const journalRows = countRows(file, 'SELECT count(*) AS n FROM journal');

  const gc = garbageCollector();
  const runs: RestartRun[] = [];
  for (let restart = 1; restart <= options.restarts; restart += 1) {
    // The build's (or the previous restart's) garbage is collected now, not charged to this restart.
    gc();
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const keel = await createKeel(benchKeelConfig(dataDir), {
      clock: new BenchClock(),
      venue,
      random: () => 0.5,
    });
    const createKeelMs = performance.now() - started;
    await keel.idle();
    const restartMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    const { recovery } = keel;
    const liveAfter = keel.liveCount();
    const anomalies = keel.anomalies().length;
    await keel.close();
    const problems = [
      recovery.restored !== options.open && `restored ${recovery.restored}`,
      recovery.reconciled !== options.open && `reconciled ${recovery.reconciled}`,
      recovery.orphans.length > 0 && `${recovery.orphans.length} orphans`,
      liveAfter !== options.open && `${liveAfter} live after`,
      anomalies > 0 && `${anomalies} anomalies`,
    ].filter((problem) => problem !== false);
    if (problems.length > 0) {
      throw new Error(
        `restart ${restart} over ${options.open} open intents did not recover them: ${problems.join(', ')}`,
      );
    }
    runs.push({
      restartMs,
      createKeelMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      restored: recovery.restored,
      reconciled: recovery.reconciled,
      abandoned: recovery.abandoned,
    });
  }
  const restoredRowsJournaled = countRows(
    file,
    "SELECT count(*) AS n FROM journal WHERE type = 'recovery.restored'",
  );
  if (restoredRowsJournaled !== options.open * options.restarts) {
    throw new Error(
      `${restoredRowsJournaled} recovery.restored rows are durable after ${options.restarts} restarts ` +
        `over ${options.open} open intents`,
    );
  }
  return {
    restartMs: median(runs.map((run) => run.restartMs)),
    cpuMs: median(runs.map((run) => run.cpuMs)),
    runs,
    closed: options.closed,
    open: options.open,
    buildSeconds,
    dbBytes,
    journalRows,
    venueOpenOrders: venueOpenOrders.value.length,
    restoredRowsJournaled,
  };
}

/** One count from the closed database, read on a connection of its own. */
function countRows(file: string, sql: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { n: number }>(sql).get()?.n ?? 0;
  } finally {
    db.close();
  }
}

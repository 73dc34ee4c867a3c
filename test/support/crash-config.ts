/**
 * The keel configuration of the crash test's child: a persisted paper venue with a modest mix of
 * faults, short retries and a fast tick so in-flight intents resolve within the test's budget.
 * Invariants: every child of one run gets the same configuration (only `from`/`mode` differ), and
 * the paper venue's data dir is the child's own, so its state file outlives a SIGKILL like a venue.
 */
import type { createKeel, PaperFaults } from '../../src/index.js';
import type { CrashChildArgs } from './crash-plan.js';

export type CrashKeelConfig = Parameters<typeof createKeel>[0];

/** Each fault fires on about one call in twenty-five to fifty: several of each kind per run. */
export const CRASH_FAULTS: PaperFaults = {
  submitTimeoutLanded: { probability: 0.04 },
  submitTimeoutLost: { probability: 0.04 },
  executionUnknown: { probability: 0.03 },
  delayedAck: { probability: 0.05, delayMs: 300 },
  duplicateFill: { probability: 0.05 },
  rateLimit: { probability: 0.02, retryAfter: 0.05 },
  streamDisconnect: { probability: 0.02, lose: 2 },
  cancelTimeoutLanded: { probability: 0.08 },
};

export function crashKeelConfig(args: CrashChildArgs, faults: PaperFaults): CrashKeelConfig {
  return {
    dataDir: args.dataDir,
    mode: 'lenient',
    venue: { kind: 'paper', seed: args.seed, dataDir: args.paperDir, stepMs: 100, faults },
    // Every intent has its own strategy_id; the guard stays on so a double registration would show.
    guard: { oneLiveEntryPerStrategySymbol: true },
    retry: { baseDelayMs: 20, maxDelayMs: 200, maxElapsedMs: 3_000 },
    tickMs: 100,
    // Short enough that the recovery child sees every finished order finalized within seconds.
    lingerMs: 500,
    absentAfterMs: 1_000,
    recovery: { orphans: 'report' },
    // The faults above are a deliberate storm; tripping the kill switch on them would turn the rest
    // of the run into blocked entries and test far less of the order path.
    errorStorm: { maxErrors: 100_000, windowMs: 60_000 },
  };
}

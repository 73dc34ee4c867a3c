/**
 * The whole checker of a finished run, as one pure function: given what keel left (registry,
 * journal, the results it reports, its positions) and the venue's ground truth, every violated
 * invariant of keel chaos, each with a sentence naming the intent. `keel chaos` and the crash-restart
 * soak (scripts/soak.ts, through check-data-dir.ts) judge with the same checks in the same order.
 * Invariants: reads nothing but its argument (no clock, no disk); an empty list means every check passed.
 */
import { clientOrderIdsAcceptedTwice } from '../adapters/venue/paper/paper.venue.js';
import type { GroundTruthEntry } from '../adapters/venue/paper/paper.store.js';
import { replayJournal } from '../domain/registry-replay.js';
import type { JournalEvent } from '../ports/store.port.js';
import type { VenueOrder } from '../ports/venue.port.js';
import type { ChaosInvariant } from './scenario.js';
import {
  blockedProtectiveExits,
  differencesFromReplay,
  disagreementsWithVenue,
  duplicateSubmissions,
  positionDifferences,
  transitionsWithoutCause,
  unsettledIntents,
  type RegistryRowView,
  type ResultView,
} from './truth.js';

/** One violated invariant, without the scenario number a chaos run adds. */
export interface RunFinding {
  invariant: ChaosInvariant;
  detail: string;
}

/** Everything the checker reads about one finished run. */
export interface RunEvidence {
  registry: readonly RegistryRowView[];
  journal: readonly JournalEvent[];
  /** What keel reports for its terminal intents (status, filled quantity), by intent id. */
  results: ReadonlyMap<string, ResultView>;
  /** The lifecycle state an intent was left in, for the settle check's sentence. */
  stateOf?: (intentId: string) => string | undefined;
  /** keel's positions, signed, by symbol; `positionsWhose` names whose view they are. */
  positions: Readonly<Record<string, number>>;
  positionsWhose?: string;
  venue: {
    orders: readonly VenueOrder[];
    log: readonly GroundTruthEntry[];
    /** Signed, by symbol. */
    positions: Readonly<Record<string, number>>;
  };
}

/**
 * @example
 * const findings = judgeRun({ registry, journal, results, positions: { BTCUSDT: 0 }, venue });
 * if (findings.length > 0) process.exitCode = 1;
 */
export function judgeRun(evidence: RunEvidence): RunFinding[] {
  const findings: RunFinding[] = [];
  const flag = (invariant: ChaosInvariant, details: readonly string[]): void => {
    for (const detail of details) findings.push({ invariant, detail });
  };
  const { registry, venue } = evidence;
  // Row by row, as keel chaos has always reported them.
  for (const row of registry) {
    flag('terminal-within-settle', unsettledIntents([row], evidence.stateOf));
    flag('protective-never-blocked', blockedProtectiveExits([row]));
  }
  flag('no-double-submit', duplicateSubmissions(clientOrderIdsAcceptedTwice(venue.log), registry));
  for (const detail of disagreementsWithVenue(registry, venue.orders, evidence.results)) {
    flag(/filled_qty/.test(detail) ? 'fills-booked-once' : 'status-matches-venue', [detail]);
  }
  flag('registry-equals-journal', differencesFromReplay(registry, replayJournal(evidence.journal)));
  flag('transition-has-cause', transitionsWithoutCause(evidence.journal));
  flag(
    'fills-booked-once',
    positionDifferences(evidence.positions, venue.positions, evidence.positionsWhose ?? "keel's"),
  );
  return findings;
}

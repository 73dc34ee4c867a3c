/**
 * keel chaos's checker over a data dir, after the fact: reads what a stopped (or killed) `keel run`
 * left — registry and journal in `keel.db`, the embedded paper venue's ground truth in `paper/` —
 * and judges it with the same checks as a chaos scenario (verdicts.ts), plus what only the disk
 * can show: each venue trade booked exactly once in the journal, the position the journal books,
 * and every submission a client saw acknowledged still there, at least as far along.
 * Invariants: writes nothing (both databases are opened read-only); every finding names its
 * invariant and the intent it concerns.
 */
import { join } from 'node:path';
import { readStoreReadOnly } from '../adapters/store/sqlite.store.js';
import { readPaperState } from '../adapters/venue/paper/paper.store.js';
import { ERROR_CODES, KeelError } from '../domain/errors.js';
import { replayJournal } from '../domain/registry-replay.js';
import type { JournalEvent, RegistryRecord } from '../ports/store.port.js';
import {
  ackedButMissing,
  ackedButNotDurable,
  bookedFillsOf,
  bookedPositions,
  bookingsDisagreeingWithVenue,
  positionDifferences,
  registryViewOf,
  type RegistryRowView,
  type ResultView,
} from './truth.js';
import { judgeRun, type RunFinding } from './verdicts.js';

export interface DataDirCheckOptions {
  /** keel's data dir (`keel.db` inside). */
  dataDir: string;
  /** The paper venue's data dir (default `<dataDir>/paper`, where `keel run` keeps it). */
  paperDir?: string;
  /** Intents a client saw acknowledged (HTTP 2xx), with the status the answer carried. */
  acknowledged?: ReadonlyMap<string, string>;
  /**
   * keel's own signed positions by symbol, as it reported them before it stopped (its beliefs'
   * local side): checked against the venue like keel chaos does, beside the journal's booking.
   */
  livePositions?: Readonly<Record<string, number>>;
}

export interface DataDirReport {
  intents: number;
  /** Trades of keel's orders at the venue. */
  fills: number;
  findings: RunFinding[];
}

/**
 * @example
 * const report = checkDataDir({ dataDir: '.keel/data', acknowledged });
 * for (const { invariant, detail } of report.findings) console.log(invariant, detail);
 */
export function checkDataDir(options: DataDirCheckOptions): DataDirReport {
  const paperDir = options.paperDir ?? join(options.dataDir, 'paper');
  const { registry, journal } = readStoreReadOnly(join(options.dataDir, 'keel.db'));
  const truth = readPaperState(paperDir);
  if (!truth) {
    throw new KeelError(ERROR_CODES.badInput, `${paperDir} holds no paper venue state to check against`);
  }
  const rows = registry.map(rowViewOf);
  const booked = bookedFillsOf(journal);
  const orderOf = new Map(registry.map((row) => [row.clientOrderId, row.intent]));
  const venuePositions = Object.fromEntries(
    Object.values(truth.positions).map((position) => [position.symbol, position.qty]),
  );

  const findings = judgeRun({
    registry: rows,
    journal,
    results: terminalResults(registry),
    stateOf: lastStates(registry, journal),
    positions: bookedPositions(booked, (clientOrderId) => orderOf.get(clientOrderId)),
    positionsWhose: "the journal's booked",
    venue: { orders: truth.orders, log: truth.log, positions: venuePositions },
  });
  for (const detail of bookingsDisagreeingWithVenue(booked, truth.fills, rows))
    findings.push({ invariant: 'fills-booked-once', detail });
  if (options.livePositions) {
    for (const detail of positionDifferences(options.livePositions, venuePositions))
      findings.push({ invariant: 'fills-booked-once', detail });
  }
  if (options.acknowledged) {
    const registered = new Set(registry.map((row) => row.intentId));
    for (const detail of [
      ...ackedButMissing(options.acknowledged.keys(), registered),
      ...ackedButNotDurable(options.acknowledged, replayJournal(journal)),
    ])
      findings.push({ invariant: 'acknowledged-survives-crash', detail });
  }
  const owned = new Set(registry.map((row) => row.clientOrderId));
  return {
    intents: registry.length,
    fills: truth.fills.filter((fill) => owned.has(fill.clientOrderId)).length,
    findings,
  };
}

/**
 * Acknowledged intents missing from the journal of a data dir, or less far along than their
 * acknowledgement said: the check to run the moment a process is killed, before anything restarts.
 */
export function acknowledgedButLost(dataDir: string, acknowledged: ReadonlyMap<string, string>): string[] {
  const { journal } = readStoreReadOnly(join(dataDir, 'keel.db'));
  const replayed = replayJournal(journal);
  return [
    ...ackedButMissing(acknowledged.keys(), new Set(replayed.keys())),
    ...ackedButNotDurable(acknowledged, replayed),
  ];
}

function rowViewOf(row: RegistryRecord): RegistryRowView {
  return { ...registryViewOf(row), intent: row.intent };
}

/**
 * What keel reports for each terminal intent, computed as the runtime does for a record it reads
 * back from the store: the registry's status, and the filled quantity of its persisted snapshot.
 */
function terminalResults(registry: readonly RegistryRecord[]): Map<string, ResultView> {
  const results = new Map<string, ResultView>();
  for (const row of registry) {
    if (row.status !== 'EXECUTED' && row.status !== 'FAILED') continue;
    const context = (row.snapshot as { context?: { filledQty?: unknown } } | null)?.context;
    const filled = typeof context?.filledQty === 'number' ? context.filledQty : 0;
    results.set(row.intentId, { intent_id: row.intentId, status: row.status, filled_qty: filled });
  }
  return results;
}

/** Each intent's last lifecycle state the journal records (registry events excluded). */
function lastStates(
  registry: readonly RegistryRecord[],
  journal: readonly JournalEvent[],
): (intentId: string) => string | undefined {
  const byCorrelation = new Map<string, string>();
  for (const event of journal) {
    if (event.to !== null && !event.type.startsWith('registry.'))
      byCorrelation.set(event.correlationId, event.to);
  }
  const correlationOf = new Map(registry.map((row) => [row.intentId, row.correlationId]));
  return (intentId) => {
    const correlationId = correlationOf.get(intentId);
    return correlationId === undefined ? undefined : byCorrelation.get(correlationId);
  };
}

/**
 * The reconcile loop: runs the reconcile-supervisor machine on the one tick, executes its emitted
 * requests against the venue port (positions, open orders) and the position beliefs, and answers
 * with their results as events.
 * Invariants: a failed or thrown fetch is reported as `reconcile.fetch.failed` (pressure, never
 * silence); an answer for a cycle that is no longer fetching is dropped, not sent; local beliefs are
 * the position-belief actors' (fills, repairs, adoptions, cleared phantoms), seeded at boot from the
 * booked positions and, by policy, the venue's; each cycle's evidence reaches every belief before
 * its repairs run; every summary's debt reaches the belief controller, and a halt request reaches
 * the kill switch.
 */
import type { Anomaly, LifecycleMode } from './checked-actor.js';
import { createSupervisedActor, type ChildSupervision, type SupervisedActor } from './supervised.js';
import type { PositionBeliefs } from './position-beliefs.js';
import type { SupervisorJournal } from './supervisor-journal.js';
import type { BeliefDebt } from '../domain/belief.js';
import type { Position, ProtectionEvidence } from '../domain/position.js';
import type { PositionMap, VenueOpenOrder, VenuePositionReport } from '../domain/reconcile.js';
import {
  reconcileSupervisorMachine,
  type ReconcileSupervisorConfig,
  type ReconcileSupervisorEmitted,
  type ReconcileSupervisorEvent,
} from '../machines/reconcile-supervisor.machine.js';
import type { LoggerPort } from '../ports/logger.port.js';
import type { VenueOrder, VenuePort, VenuePosition } from '../ports/venue.port.js';

export interface ReconcileLoopPorts {
  venue: VenuePort;
  /** The runtime's booked positions by symbol: what the beliefs start from at boot. */
  localPositions: () => PositionMap;
  beliefs: PositionBeliefs;
  journal: SupervisorJournal;
  logger?: LoggerPort;
}

export interface ReconcileLoopHooks {
  /** Feeds the cycle's belief debt to the controller; returns what the summary journals with it. */
  sampleDebt(now: number, debt: BeliefDebt): Record<string, unknown>;
  tripKillSwitch(request: {
    trigger: 'reconcile_mismatch_streak';
    reason: string;
    by: string;
    evidence: Record<string, number>;
  }): void;
  onAnomaly: (anomaly: Anomaly) => void;
  onError: (error: unknown) => void;
  /** Keeps the promise of a venue call so `idle()` can wait for it. */
  track(promise: Promise<unknown>): void;
  /** Restart intensity and reports for the reconcile supervisor actor. */
  supervision(name: string): ChildSupervision;
  /** Each fetched cycle's evidence per symbol, after the beliefs have seen it (the protection manager). */
  onEvidence?(
    now: number,
    observations: ReadonlyArray<{ symbol: string; venue: Position | null; protection: ProtectionEvidence }>,
  ): void;
}

export interface ReconcileLoop {
  tick(now: number): void;
  /** A belief's local position changed (a fill, a repair, an adoption). */
  localChanged(symbol: string, position: Position | null): void;
  protectionGap(symbol: string, breached: boolean): void;
  /** Starts a cycle at once (boot, a stream gap) instead of waiting for the interval. */
  request(): void;
  /** The latest cycle's numbers, for tests and status pages. */
  status(): { cycle: number; mismatchStreak: number; lastFetchFailure: string | null; inFlight: boolean };
  stop(): void;
}

function positionReportOf(position: VenuePosition): VenuePositionReport | null {
  if (position.qty === 0) return null;
  return {
    symbol: position.symbol,
    qty: Math.abs(position.qty),
    side: position.qty > 0 ? 'long' : 'short',
    entryPrice: position.entryPrice,
  };
}

function openOrderOf(order: VenueOrder): VenueOpenOrder {
  return {
    symbol: order.symbol,
    clientOrderId: order.clientOrderId,
    qty: Math.max(0, order.qty - order.filledQty),
    reduceOnly: order.reduceOnly,
    closePosition: order.closePosition,
    isStop: order.type === 'stop_market',
  };
}

/**
 * Starts the reconcile loop; it runs a cycle on the first tick, then every `intervalMs`.
 *
 * @example
 * const loop = createReconcileLoop({ venue, localPositions: () => runtime.positions(), journal }, hooks, {
 *   mode: 'lenient', config: { intervalMs: 10_000 } });
 * clock.setInterval(() => loop.tick(clock.now()), 1_000);
 */
export function createReconcileLoop(
  ports: ReconcileLoopPorts,
  hooks: ReconcileLoopHooks,
  options: {
    mode: LifecycleMode;
    config?: Partial<ReconcileSupervisorConfig>;
    /** A variant of the machine (tests pass one whose actions throw). */
    machine?: typeof reconcileSupervisorMachine;
    /**
     * Adopt the venue positions found by the first successful fetch for symbols keel has booked
     * nothing on (default true): restart rebuilds beliefs from the venue (reference 002 §10),
     * since the booked positions start empty in a new process.
     */
    adoptAtBoot?: boolean;
  },
): ReconcileLoop {
  const { venue, logger } = ports;
  const supervisor: SupervisedActor<typeof reconcileSupervisorMachine> = createSupervisedActor(
    options.machine ?? reconcileSupervisorMachine,
    {
      mode: options.mode,
      input: options.config === undefined ? {} : { config: options.config },
      onAnomaly: (anomaly) => hooks.onAnomaly(anomaly),
      ...hooks.supervision('reconcile-supervisor'),
    },
  );
  const queue: ReconcileSupervisorEmitted[] = [];
  for (const type of [
    'reconcile.fetch.requested',
    'reconcile.evidence.published',
    'reconcile.repair.requested',
    'reconcile.summary',
    'belief.debt.sampled',
    'kill.trip.requested',
  ] as const) {
    supervisor.on(type, (event) => queue.push(event));
  }

  let pendingSummary: Extract<ReconcileSupervisorEmitted, { type: 'reconcile.summary' }> | null = null;
  let lastSummaryQuiet = true;
  let draining = false;
  let stopped = false;
  /** Whether the boot snapshot (the first one fetched) is still to come. */
  let booting = options.adoptAtBoot ?? true;

  /** Sends, then executes whatever the supervisor asked for, in order, until it asks for nothing. */
  function send(event: ReconcileSupervisorEvent): void {
    if (stopped) return;
    supervisor.send(event);
    if (draining) return;
    draining = true;
    try {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) execute(next);
    } finally {
      draining = false;
    }
  }

  function isFetching(cycle: number): boolean {
    const snapshot = supervisor.getSnapshot();
    return snapshot.matches('fetching') && snapshot.context.cycle === cycle;
  }

  async function fetchSnapshot(cycle: number): Promise<void> {
    let answer: ReconcileSupervisorEvent;
    // Fills applied before this point are in the snapshot the venue is about to give.
    const mark = ports.beliefs.fillMark();
    try {
      const [positions, openOrders] = await Promise.all([venue.positions(), venue.openOrders()]);
      if (!positions.ok)
        answer = { type: 'reconcile.fetch.failed', reason: `positions: ${positions.message}` };
      else if (!openOrders.ok)
        answer = { type: 'reconcile.fetch.failed', reason: `open orders: ${openOrders.message}` };
      else
        answer = {
          type: 'reconcile.fetch.succeeded',
          positions: positions.value.map(positionReportOf).filter((report) => report !== null),
          openOrders: openOrders.value.map(openOrderOf),
        };
    } catch (error) {
      answer = {
        type: 'reconcile.fetch.failed',
        reason: error instanceof Error ? error.message : String(error),
      };
    }
    if (stopped) return;
    if (!isFetching(cycle)) {
      logger?.info({ cycle, answer: answer.type }, 'a venue snapshot arrived after its cycle ended');
      return;
    }
    if (booting && answer.type === 'reconcile.fetch.succeeded') {
      booting = false;
      seedAtBoot(answer.positions, mark);
    }
    send(answer);
  }

  /**
   * Boot is restore → reconcile → run (reference 002 §10: local state is rebuilt from the exchange).
   * What the runtime booked since it started is only the fills of this process, on top of a base it
   * does not know after a restart, so with `adoptAtBoot` on (the default) the venue's first snapshot
   * is the base of every belief it has not judged yet: venue positions are adopted, and a belief
   * the venue shows flat is flattened. A belief that took a fill after the snapshot was asked for
   * (`mark`) is left to the ordinary comparison, since the snapshot may predate that fill.
   */
  function seedAtBoot(positions: readonly VenuePositionReport[], mark: number): void {
    for (const [symbol, position] of Object.entries(ports.localPositions()))
      ports.beliefs.seed(symbol, position);
    if (!(options.adoptAtBoot ?? true)) return;
    const adopted: Array<{ symbol: string; qty: number; side: string; entryPrice: number }> = [];
    const reported = new Set<string>();
    for (const report of positions) {
      reported.add(report.symbol);
      const position: Position = { qty: report.qty, side: report.side, entryPrice: report.entryPrice };
      if (ports.beliefs.rebase(report.symbol, position, mark))
        adopted.push({ symbol: report.symbol, ...position });
    }
    const flattened = Object.keys(ports.beliefs.local()).filter(
      (symbol) => !reported.has(symbol) && ports.beliefs.rebase(symbol, null, mark),
    );
    if (adopted.length === 0 && flattened.length === 0) return;
    logger?.info(
      { adopted: adopted.map((entry) => entry.symbol), flattened },
      'took the venue positions as the boot base',
    );
    hooks.track(
      ports.journal.append({
        ts: supervisor.getSnapshot().context.now,
        type: 'reconcile.boot.adopted',
        stage: 'reconcile',
        source: 'system',
        reasonCode: 'BOOT_SNAPSHOT',
        data: { positions: adopted, ...(flattened.length > 0 ? { flattened } : {}) },
      }),
    );
  }

  function repair(symbols: readonly string[]): void {
    for (const symbol of symbols) {
      const outcome = ports.beliefs.repair(symbol);
      send(
        outcome.ok
          ? { type: 'reconcile.repair.succeeded', symbol }
          : { type: 'reconcile.repair.failed', symbol, reason: outcome.reason },
      );
    }
  }

  function journalSummary(
    summary: Extract<ReconcileSupervisorEmitted, { type: 'reconcile.summary' }>,
    belief: Record<string, unknown>,
  ): void {
    const diff = summary.diff;
    const quiet =
      summary.fetched &&
      summary.mismatchStreak === 0 &&
      summary.repairActions === 0 &&
      summary.repairFailures.length === 0 &&
      summary.repairSkipped.length === 0 &&
      summary.protectionGaps.length === 0;
    // Healthy cycles run every few seconds: journal the ones with something to say and the first
    // quiet one after them, so the journal shows trouble starting and ending without growing idle.
    if (quiet && lastSummaryQuiet) return;
    lastSummaryQuiet = quiet;
    hooks.track(
      ports.journal.append({
        ts: summary.at,
        type: 'reconcile.summary',
        stage: 'reconcile',
        source: 'system',
        reasonCode: summary.fetched ? null : 'RECONCILE_FETCH_FAILED',
        data: {
          cycle: summary.cycle,
          fetched: summary.fetched,
          fetch_failure: summary.fetched ? null : supervisor.getSnapshot().context.lastFetchFailure,
          confirmed: diff?.confirmed.length ?? 0,
          drift: diff?.drift ?? [],
          phantom: diff?.phantom ?? [],
          orphan: diff?.orphan ?? [],
          mismatch_streak: summary.mismatchStreak,
          repair_actions: summary.repairActions,
          repair_skipped: summary.repairSkipped,
          repair_failures: summary.repairFailures,
          protection_gaps: summary.protectionGaps,
          // Per-symbol evidence: when each unresolved mismatch was first and last seen.
          mismatches: Object.fromEntries(
            Object.entries(supervisor.getSnapshot().context.mismatches).map(([symbol, seen]) => [
              symbol,
              { first_seen_at: seen.firstSeenAt, last_seen_at: seen.lastSeenAt },
            ]),
          ),
          ...belief,
        },
      }),
    );
  }

  function execute(event: ReconcileSupervisorEmitted): void {
    switch (event.type) {
      case 'reconcile.fetch.requested':
        hooks.track(fetchSnapshot(event.cycle));
        return;
      case 'reconcile.evidence.published':
        ports.beliefs.observe(event.at, event.observations);
        hooks.onEvidence?.(event.at, event.observations);
        return;
      case 'reconcile.repair.requested':
        repair(event.repairs.map((entry) => entry.symbol));
        return;
      case 'reconcile.summary':
        pendingSummary = event;
        return;
      case 'belief.debt.sampled': {
        const belief = hooks.sampleDebt(event.now, {
          debtSec: event.debtSec,
          debtSymbols: event.debtSymbols,
          mismatchStreak: event.mismatchStreak,
        });
        if (pendingSummary) journalSummary(pendingSummary, belief);
        pendingSummary = null;
        return;
      }
      case 'kill.trip.requested':
        hooks.tripKillSwitch({
          trigger: event.trigger,
          reason: event.reason,
          by: 'reconcile-supervisor',
          evidence: event.evidence,
        });
        return;
      default:
        return;
    }
  }

  return {
    tick(now) {
      send({ type: 'clock.tick', now });
      ports.beliefs.tick(now);
    },
    localChanged: (symbol, position) => send({ type: 'belief.local.changed', symbol, position }),
    protectionGap: (symbol, breached) =>
      send({ type: breached ? 'protection.gap.breached' : 'protection.gap.closed', symbol }),
    request: () => send({ type: 'reconcile.requested' }),
    status() {
      const snapshot = supervisor.getSnapshot();
      return {
        cycle: snapshot.context.cycle,
        mismatchStreak: snapshot.context.mismatchStreak,
        lastFetchFailure: snapshot.context.lastFetchFailure,
        inFlight: snapshot.hasTag('in-flight'),
      };
    },
    stop() {
      stopped = true;
      supervisor.stop();
    },
  };
}

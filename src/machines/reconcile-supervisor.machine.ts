/**
 * The reconcile supervisor: the tick cycle of reference 004 §4 as states. When a cycle is due it
 * asks for a venue snapshot, compares it with keel's local beliefs, requests a bounded number of
 * drift repairs, and publishes the cycle's summary and belief debt.
 * Invariants: a failed or overdue fetch raises mismatch pressure (the streak) instead of being
 * ignored; a symbol's mismatch keeps its first-seen time until it is confirmed; no more than
 * `maxRepairsPerCycle` repairs per cycle, none for drift seen only once (a fill may still be on its
 * way) and none for a symbol inside its repair cooldown; a protection gap past its TTL counts as a
 * mismatch until coverage is back; a
 * repair round never waits past its deadline; a kill-switch halt is requested once per streak
 * that passes KILL_RECONCILE_MISMATCH_STREAK_MAX; time enters only through clock.tick.
 */
import { assertEvent, assign, emit, setup } from 'xstate';
import type { SnapshotFrom } from 'xstate';
import {
  DEFAULT_POSITION_TOLERANCE,
  normalisePosition,
  type DriftField,
  type Position,
  type PositionTolerance,
  type ProtectionEvidence,
} from '../domain/position.js';
import {
  beliefDebtOf,
  diffPositions,
  mismatchedSymbols,
  positionMapOf,
  protectionBySymbol,
  trackMismatches,
  type MismatchSeen,
  type PositionMap,
  type ReconcileDiff,
  type VenueOpenOrder,
  type VenuePositionReport,
} from '../domain/reconcile.js';
import {
  STRICT_ACTION,
  STRICT_GUARD,
  isNotInternalEvent,
  refusedEvent,
  strictWildcard,
  type IgnoredEvent,
  type RefusedEvent,
} from './strict.js';

export interface ReconcileSupervisorConfig {
  /** Time between the start of one cycle and the next (ms). */
  intervalMs: number;
  /** How long a venue snapshot may take before the fetch counts as failed (ms). */
  fetchTimeoutMs: number;
  /**
   * After a failed fetch the next cycle starts this long after the failed one, doubling while
   * fetches keep failing and never later than `intervalMs`: a keel that has just restarted is
   * blind until a snapshot arrives, so it asks again soon, without hammering a venue in trouble.
   */
  fetchRetryMs: number;
  /** Most drift repairs requested in one cycle; the rest wait for a later cycle. */
  maxRepairsPerCycle: number;
  /** RECONCILE_REPAIR_COOLDOWN_SEC: the wait before the same symbol is repaired again (ms). */
  repairCooldownMs: number;
  /** How long a cycle waits for repair results before giving up on them (ms). */
  repairTimeoutMs: number;
  /** KILL_RECONCILE_MISMATCH_STREAK_MAX: a longer streak of mismatching cycles requests a halt. */
  killMismatchStreakMax: number;
  tolerance: PositionTolerance;
}

/**
 * Defaults: a cycle every 10 s, a 15 s fetch timeout, at most 3 repairs per cycle, a 30 s repair
 * cooldown per symbol, 20 s for repair results, and a halt request once more than 6 consecutive
 * cycles mismatch (KILL_RECONCILE_MISMATCH_STREAK_MAX=6, reference 002).
 *
 * @example
 * createActor(reconcileSupervisorMachine, { input: { config: { intervalMs: 5_000 } } });
 */
export const DEFAULT_RECONCILE_SUPERVISOR_CONFIG: ReconcileSupervisorConfig = {
  intervalMs: 10_000,
  fetchTimeoutMs: 15_000,
  fetchRetryMs: 1_000,
  maxRepairsPerCycle: 3,
  repairCooldownMs: 30_000,
  repairTimeoutMs: 20_000,
  killMismatchStreakMax: 6,
  tolerance: DEFAULT_POSITION_TOLERANCE,
};

export interface ReconcileSupervisorContext {
  config: ReconcileSupervisorConfig;
  /** Latest time seen on a tick (ms); never moves backwards. */
  now: number;
  /** When the next cycle may start; 0 runs the first cycle on the first tick. */
  nextDueAt: number;
  cycle: number;
  fetchDeadline: number | null;
  /** keel's local beliefs by symbol, as the position-belief actors report them. */
  local: PositionMap;
  /** The latest venue snapshot's positions and stop protection by symbol. */
  venue: PositionMap;
  protection: Record<string, ProtectionEvidence>;
  /** The latest comparison; null while the latest cycle has not compared anything. */
  diff: ReconcileDiff | null;
  /** Consecutive cycles that mismatched or could not fetch. */
  mismatchStreak: number;
  lastFetchFailure: string | null;
  /** Consecutive cycles whose fetch failed: they bring the next cycle forward (`fetchRetryMs`). */
  fetchFailures: number;
  /** First and last time each unresolved mismatch was seen (belief debt). */
  mismatches: Record<string, MismatchSeen>;
  /** No repair is requested for a symbol before its time here. */
  repairCooldownUntil: Record<string, number>;
  /** This cycle's repair plan, the repairs still unanswered, and the round's deadline. */
  repairPlan: Array<{ symbol: string; fields: DriftField[] }>;
  pendingRepairs: string[];
  repairDeadline: number | null;
  /** This cycle's repair bookkeeping for the summary. */
  repairActions: number;
  repairSkipped: string[];
  repairFailures: string[];
  /** Whether a halt was already requested for the current streak. */
  killRequested: boolean;
  /**
   * Symbols whose protection gap outlived its TTL: each counts as a mismatch (pressure) until its
   * stop coverage is back, so a position left unprotected tightens the controller like drift does.
   */
  protectionGaps: string[];
}

export interface ReconcileSupervisorInput {
  config?: Partial<ReconcileSupervisorConfig>;
  /** Local beliefs restored from the store (boot = restore → reconcile → run). */
  local?: PositionMap;
}

export type ReconcileSupervisorEvent =
  | { type: 'clock.tick'; now: number }
  | { type: 'reconcile.requested' }
  | { type: 'reconcile.fetch.succeeded'; positions: VenuePositionReport[]; openOrders: VenueOpenOrder[] }
  | { type: 'reconcile.fetch.failed'; reason: string }
  | { type: 'reconcile.repair.succeeded'; symbol: string }
  | { type: 'reconcile.repair.failed'; symbol: string; reason: string }
  | { type: 'belief.local.changed'; symbol: string; position: Position | null }
  | { type: 'protection.gap.breached'; symbol: string }
  | { type: 'protection.gap.closed'; symbol: string };

export type ReconcileSupervisorEmitted =
  | RefusedEvent
  | IgnoredEvent
  | { type: 'reconcile.fetch.requested'; cycle: number; at: number }
  | {
      type: 'reconcile.evidence.published';
      cycle: number;
      at: number;
      observations: Array<{ symbol: string; venue: Position | null; protection: ProtectionEvidence }>;
    }
  | {
      type: 'reconcile.repair.requested';
      cycle: number;
      at: number;
      repairs: Array<{ symbol: string; fields: DriftField[] }>;
    }
  | {
      type: 'reconcile.summary';
      cycle: number;
      at: number;
      fetched: boolean;
      diff: ReconcileDiff | null;
      mismatchStreak: number;
      repairActions: number;
      repairSkipped: string[];
      repairFailures: string[];
      protectionGaps: string[];
    }
  | { type: 'belief.debt.sampled'; now: number; debtSec: number; debtSymbols: number; mismatchStreak: number }
  | {
      type: 'kill.trip.requested';
      trigger: 'reconcile_mismatch_streak';
      reason: string;
      now: number;
      evidence: { mismatchStreak: number; max: number };
    };

const NO_PROTECTION: ProtectionEvidence = { stopQty: 0, closePosition: false };

/**
 * The reconcile supervisor statechart; the actor layer answers its emitted requests with events.
 *
 * @example
 * const supervisor = createCheckedActor(reconcileSupervisorMachine, { mode: 'lenient' });
 * supervisor.actor.on('reconcile.fetch.requested', () => fetchVenueSnapshot().then(send));
 * supervisor.send({ type: 'clock.tick', now });
 */
export const reconcileSupervisorMachine = setup({
  types: {
    context: {} as ReconcileSupervisorContext,
    input: undefined as ReconcileSupervisorInput | undefined,
    events: {} as ReconcileSupervisorEvent,
    emitted: {} as ReconcileSupervisorEmitted,
    tags: {} as 'in-flight' | 'repairing',
  },
  guards: {
    [STRICT_GUARD]: isNotInternalEvent,
    'is a cycle due': ({ context, event }) =>
      event.type === 'clock.tick' && Math.max(context.now, event.now) >= context.nextDueAt,
    'is the fetch overdue': ({ context, event }) =>
      event.type === 'clock.tick' &&
      context.fetchDeadline !== null &&
      Math.max(context.now, event.now) >= context.fetchDeadline,
    'has repairs to request': ({ context }) => context.repairPlan.length > 0,
    'is an outstanding repair': ({ context, event }) =>
      (event.type === 'reconcile.repair.succeeded' || event.type === 'reconcile.repair.failed') &&
      context.pendingRepairs.includes(event.symbol),
    'are all repairs answered': ({ context }) => context.pendingRepairs.length === 0,
    'is the repair window over': ({ context, event }) =>
      event.type === 'clock.tick' &&
      context.repairDeadline !== null &&
      Math.max(context.now, event.now) >= context.repairDeadline,
    'has the streak passed the kill threshold': ({ context }) =>
      !context.killRequested && context.mismatchStreak > context.config.killMismatchStreakMax,
  },
  actions: {
    [STRICT_ACTION]: emit(({ event }) => refusedEvent(event)),
    'record time': assign({
      now: ({ context, event }) =>
        event.type === 'clock.tick' ? Math.max(context.now, event.now) : context.now,
    }),
    'record protection gap': assign(({ context, event }) => {
      assertEvent(event, ['protection.gap.breached', 'protection.gap.closed']);
      const others = context.protectionGaps.filter((symbol) => symbol !== event.symbol);
      return {
        protectionGaps: event.type === 'protection.gap.breached' ? [...others, event.symbol].sort() : others,
      };
    }),
    'record local belief': assign(({ context, event }) => {
      assertEvent(event, 'belief.local.changed');
      const local = { ...context.local };
      const position = normalisePosition(event.position, context.config.tolerance);
      if (position === null) delete local[event.symbol];
      else local[event.symbol] = position;
      return { local };
    }),
    'start cycle': assign(({ context }) => ({
      cycle: context.cycle + 1,
      fetchDeadline: context.now + context.config.fetchTimeoutMs,
      diff: null,
      repairPlan: [],
      pendingRepairs: [],
      repairDeadline: null,
      repairActions: 0,
      repairSkipped: [],
      repairFailures: [],
    })),
    'request venue snapshot': emit(({ context }) => ({
      type: 'reconcile.fetch.requested' as const,
      cycle: context.cycle,
      at: context.now,
    })),
    'record venue snapshot': assign(({ event }) => {
      assertEvent(event, 'reconcile.fetch.succeeded');
      return {
        venue: positionMapOf(event.positions),
        protection: protectionBySymbol(event.openOrders),
        fetchDeadline: null,
        lastFetchFailure: null,
        fetchFailures: 0,
      };
    }),
    'record fetch failure': assign(({ context, event }) => ({
      fetchDeadline: null,
      lastFetchFailure: event.type === 'reconcile.fetch.failed' ? event.reason : 'venue snapshot timed out',
      fetchFailures: context.fetchFailures + 1,
      // No evidence is not good evidence: the streak grows and the mismatches keep ageing.
      mismatchStreak: context.mismatchStreak + 1,
    })),
    'compare venue with local beliefs': assign(({ context }) => {
      const diff = diffPositions(context.venue, context.local, context.config.tolerance);
      const mismatched = [...new Set([...mismatchedSymbols(diff), ...context.protectionGaps])].sort();
      const mismatchStreak = mismatched.length > 0 ? context.mismatchStreak + 1 : 0;
      // Drift seen for the first time may be a fill still on its way: only drift that was already
      // a mismatch at the previous comparison is corrected.
      const eligible = diff.drift.filter(
        (entry) =>
          context.mismatches[entry.symbol] !== undefined &&
          (context.repairCooldownUntil[entry.symbol] ?? 0) <= context.now,
      );
      const repairPlan = eligible.slice(0, context.config.maxRepairsPerCycle);
      const planned = new Set(repairPlan.map((entry) => entry.symbol));
      return {
        diff,
        mismatches: trackMismatches(context.mismatches, mismatched, context.now),
        mismatchStreak,
        killRequested: mismatchStreak === 0 ? false : context.killRequested,
        repairPlan,
        repairSkipped: diff.drift.map((entry) => entry.symbol).filter((symbol) => !planned.has(symbol)),
      };
    }),
    'publish evidence': emit(({ context }) => ({
      type: 'reconcile.evidence.published' as const,
      cycle: context.cycle,
      at: context.now,
      observations: [...new Set([...Object.keys(context.venue), ...Object.keys(context.local)])]
        .sort()
        .map((symbol) => ({
          symbol,
          venue: context.venue[symbol] ?? null,
          protection: context.protection[symbol] ?? NO_PROTECTION,
        })),
    })),
    'start repairs': assign(({ context }) => {
      const cooldowns = { ...context.repairCooldownUntil };
      for (const { symbol } of context.repairPlan)
        cooldowns[symbol] = context.now + context.config.repairCooldownMs;
      return {
        repairCooldownUntil: cooldowns,
        pendingRepairs: context.repairPlan.map((entry) => entry.symbol),
        repairDeadline: context.now + context.config.repairTimeoutMs,
        repairActions: context.repairPlan.length,
      };
    }),
    'request repairs': emit(({ context }) => ({
      type: 'reconcile.repair.requested' as const,
      cycle: context.cycle,
      at: context.now,
      repairs: context.repairPlan,
    })),
    'record repair result': assign(({ context, event }) => {
      if (event.type !== 'reconcile.repair.succeeded' && event.type !== 'reconcile.repair.failed') return {};
      return {
        pendingRepairs: context.pendingRepairs.filter((symbol) => symbol !== event.symbol),
        repairFailures:
          event.type === 'reconcile.repair.failed'
            ? [...context.repairFailures, event.symbol]
            : context.repairFailures,
      };
    }),
    'give up outstanding repairs': assign(({ context }) => ({
      repairFailures: [...context.repairFailures, ...context.pendingRepairs],
      pendingRepairs: [],
    })),
    'ignore a stale repair result': emit(({ event }) => ({
      type: 'lifecycle.ignored' as const,
      event: event.type,
      reason: 'no repair of this symbol is outstanding in this cycle',
    })),
    'ignore a request during a cycle': emit(() => ({
      type: 'lifecycle.ignored' as const,
      event: 'reconcile.requested',
      reason: 'a reconcile cycle is already running',
    })),
    'publish summary': emit(({ context }) => ({
      type: 'reconcile.summary' as const,
      cycle: context.cycle,
      at: context.now,
      fetched: context.diff !== null,
      diff: context.diff,
      mismatchStreak: context.mismatchStreak,
      repairActions: context.repairActions,
      repairSkipped: context.repairSkipped,
      repairFailures: context.repairFailures,
      protectionGaps: context.protectionGaps,
    })),
    'publish belief debt': emit(({ context }) => ({
      type: 'belief.debt.sampled' as const,
      now: context.now,
      ...beliefDebtOf(context.mismatches, context.mismatchStreak, context.now),
    })),
    'latch kill request': assign({ killRequested: true }),
    'request kill switch halt': emit(({ context }) => ({
      type: 'kill.trip.requested' as const,
      trigger: 'reconcile_mismatch_streak' as const,
      reason: `${context.mismatchStreak} consecutive reconcile cycles mismatched (max ${context.config.killMismatchStreakMax})`,
      now: context.now,
      evidence: { mismatchStreak: context.mismatchStreak, max: context.config.killMismatchStreakMax },
    })),
    'schedule next cycle': assign(({ context }) => {
      const { intervalMs, fetchRetryMs } = context.config;
      const delay =
        context.fetchFailures === 0
          ? intervalMs
          : Math.min(intervalMs, fetchRetryMs * 2 ** Math.min(context.fetchFailures - 1, 30));
      return { nextDueAt: context.now + delay };
    }),
  },
}).createMachine({
  id: 'reconcile-supervisor',
  context: ({ input }) => ({
    config: { ...DEFAULT_RECONCILE_SUPERVISOR_CONFIG, ...input?.config },
    now: 0,
    nextDueAt: 0,
    cycle: 0,
    fetchDeadline: null,
    local: input?.local ?? {},
    venue: {},
    protection: {},
    diff: null,
    mismatchStreak: 0,
    lastFetchFailure: null,
    fetchFailures: 0,
    mismatches: {},
    repairCooldownUntil: {},
    repairPlan: [],
    pendingRepairs: [],
    repairDeadline: null,
    repairActions: 0,
    repairSkipped: [],
    repairFailures: [],
    killRequested: false,
    protectionGaps: [],
  }),
  initial: 'idle',
  on: {
    ...strictWildcard,
    // Beliefs change at any time (fills, repairs, adoption); the next comparison uses the latest.
    'belief.local.changed': { actions: 'record local belief' },
    'protection.gap.breached': { actions: 'record protection gap' },
    'protection.gap.closed': { actions: 'record protection gap' },
    'reconcile.requested': { actions: 'ignore a request during a cycle' },
  },
  states: {
    idle: {
      on: {
        'clock.tick': [
          { guard: 'is a cycle due', target: 'fetching', actions: 'record time' },
          { actions: 'record time' },
        ],
        // A forced cycle (boot, reconnect) starts at once instead of waiting for the interval.
        'reconcile.requested': { target: 'fetching' },
      },
    },
    fetching: {
      tags: ['in-flight'],
      entry: ['start cycle', 'request venue snapshot'],
      on: {
        'reconcile.fetch.succeeded': { target: 'comparing', actions: 'record venue snapshot' },
        'reconcile.fetch.failed': { target: 'publishing', actions: 'record fetch failure' },
        'clock.tick': [
          {
            guard: 'is the fetch overdue',
            target: 'publishing',
            actions: ['record time', 'record fetch failure'],
          },
          { actions: 'record time' },
        ],
      },
    },
    comparing: {
      entry: ['compare venue with local beliefs', 'publish evidence'],
      always: [{ guard: 'has repairs to request', target: 'repairing' }, { target: 'publishing' }],
    },
    repairing: {
      tags: ['in-flight', 'repairing'],
      entry: ['start repairs', 'request repairs'],
      always: { guard: 'are all repairs answered', target: 'publishing' },
      on: {
        'reconcile.repair.succeeded': [
          { guard: 'is an outstanding repair', actions: 'record repair result' },
          { actions: 'ignore a stale repair result' },
        ],
        'reconcile.repair.failed': [
          { guard: 'is an outstanding repair', actions: 'record repair result' },
          { actions: 'ignore a stale repair result' },
        ],
        'clock.tick': [
          {
            guard: 'is the repair window over',
            target: 'publishing',
            actions: ['record time', 'give up outstanding repairs'],
          },
          { actions: 'record time' },
        ],
      },
    },
    publishing: {
      entry: ['publish summary', 'publish belief debt'],
      always: [
        {
          guard: 'has the streak passed the kill threshold',
          target: 'idle',
          actions: ['latch kill request', 'request kill switch halt', 'schedule next cycle'],
        },
        { target: 'idle', actions: 'schedule next cycle' },
      ],
    },
  },
});

export type ReconcileSupervisorSnapshot = SnapshotFrom<typeof reconcileSupervisorMachine>;

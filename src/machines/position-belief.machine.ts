/**
 * One position belief per account and symbol: what keel thinks it holds, checked against venue
 * evidence, with the protective-stop coverage of that position as a parallel region.
 * Invariants: the venue is authoritative but a single observation never clears a local position
 * (a phantom clears only after the grace period and N consecutive misses) nor invents one (an
 * orphan is adopted or frozen by policy only when a second observation confirms it); a repair
 * starts only when the supervisor asks (drift outlived a cycle), never during a cooldown, and is
 * never waited for past its timeout; a failed stage-1 stop opens the protection gap at once; a protection gap past its TTL is reported critical; the current mismatch keeps its
 * first-seen time until evidence confirms the belief; time enters only through events.
 */
import { and, assertEvent, assign, emit, setup } from 'xstate';
import type { SnapshotFrom } from 'xstate';
import {
  DEFAULT_POSITION_TOLERANCE,
  applyFill,
  comparePosition,
  normalisePosition,
  protectionCoverage,
  type DriftField,
  type FillSide,
  type Position,
  type PositionComparison,
  type PositionTolerance,
  type ProtectionCoverage,
  type ProtectionEvidence,
} from '../domain/position.js';
import { trackMismatch, type MismatchSeen } from '../domain/reconcile.js';
import {
  STRICT_ACTION,
  STRICT_GUARD,
  isNotInternalEvent,
  refusedEvent,
  strictWildcard,
  type IgnoredEvent,
  type RefusedEvent,
} from './strict.js';

export interface PositionBeliefConfig {
  /** How long a phantom must have been missing before it may be cleared (ms). */
  phantomGraceMs: number;
  /** Consecutive observations without the position before a phantom may be cleared. */
  phantomMissesToClear: number;
  /** What to do with a venue position keel does not know, once confirmed. */
  orphanPolicy: 'adopt' | 'freeze';
  /** How long a position may stay under-covered or unprotected before the gap is critical (ms). */
  protectionGapTtlMs: number;
  /** RECONCILE_REPAIR_COOLDOWN_SEC: the wait after a failed repair before the next one (ms). */
  repairCooldownMs: number;
  /** How long a requested repair may stay unanswered before it counts as failed (ms). */
  repairTimeoutMs: number;
  tolerance: PositionTolerance;
}

/**
 * Defaults: a phantom clears after 60 s and 3 consecutive misses; orphans freeze entries
 * (BOOT_REBUILD_FREEZE_ON_ORPHANS=1 in reference 002 §10) until an operator adopts them; a
 * protection gap is critical after 30 s; a failed repair waits 30 s; a repair times out after 30 s.
 *
 * @example
 * createActor(positionBeliefMachine, { input: { account: 'main', symbol: 'BTCUSDT', config: { orphanPolicy: 'adopt' } } });
 */
export const DEFAULT_POSITION_BELIEF_CONFIG: PositionBeliefConfig = {
  phantomGraceMs: 60_000,
  phantomMissesToClear: 3,
  orphanPolicy: 'freeze',
  protectionGapTtlMs: 30_000,
  repairCooldownMs: 30_000,
  repairTimeoutMs: 30_000,
  tolerance: DEFAULT_POSITION_TOLERANCE,
};

/** The current disagreement with the venue; the supervisor turns its times into belief debt. */
export interface MismatchRecord extends MismatchSeen {
  kind: 'drift' | 'phantom' | 'orphan';
  fields: DriftField[];
}

export interface ProtectionGap {
  coverage: Exclude<ProtectionCoverage, 'covered'>;
  since: number;
  deadline: number;
  /** Set when the gap was asserted (a failed stage-1 stop) rather than observed. */
  reason: string | null;
}

export interface PositionBeliefContext {
  config: PositionBeliefConfig;
  account: string;
  symbol: string;
  /** Latest time seen on any event (ms); never moves backwards. */
  now: number;
  /** What keel believes it holds; null is flat. */
  local: Position | null;
  /** The venue's position at the latest observation; null is flat or not yet observed. */
  venue: Position | null;
  observedAt: number | null;
  mismatch: MismatchRecord | null;
  /** Consecutive observations that did not show the local position. */
  phantomMisses: number;
  /** The outstanding repair request, if any. */
  repair: { requestedAt: number; deadline: number } | null;
  /** No repair is requested before this time (set after a failed repair). */
  repairNotBefore: number;
  lastRepairFailure: string | null;
  gap: ProtectionGap | null;
}

export interface PositionBeliefInput {
  account: string;
  symbol: string;
  /** The position restored from the store, if any (boot = restore → reconcile → run). */
  local?: Position | null;
  config?: Partial<PositionBeliefConfig>;
}

export type ReconcileObservedEvent = {
  type: 'reconcile.observed';
  now: number;
  venue: Position | null;
  protection: ProtectionEvidence;
};

export type PositionBeliefEvent =
  | ReconcileObservedEvent
  | { type: 'position.fill.applied'; qty: number; side: FillSide; price: number }
  | { type: 'repair.succeeded' }
  | { type: 'repair.failed'; reason: string }
  | { type: 'orphan.adopt'; by: string }
  /** The reconcile supervisor confirmed drift over two cycles and asks to correct it. */
  | { type: 'repair.requested' }
  /** Stage-1 protection failed right after an entry fill: the gap starts now, not at the next cycle. */
  | { type: 'protection.gap.asserted'; now: number; reason: string }
  /**
   * Boot only: the venue's first snapshot becomes the local position of a belief it has not yet
   * judged. After a restart the fills this process booked sit on an unknown base, so they are not
   * a position; the snapshot (asked after those fills) already includes them.
   */
  | { type: 'position.rebased'; position: Position | null }
  | { type: 'clock.tick'; now: number };

interface Subject {
  account: string;
  symbol: string;
  at: number;
}

export type PositionBeliefEmitted =
  | RefusedEvent
  | IgnoredEvent
  | (Subject & {
      type: 'belief.drift.detected' | 'belief.repair.requested';
      fields: DriftField[];
      local: Position | null;
      venue: Position | null;
    })
  | (Subject & { type: 'belief.phantom.suspected'; local: Position | null; firstSeenAt: number })
  | (Subject & {
      type: 'belief.phantom.cleared';
      cleared: Position | null;
      misses: number;
      firstSeenAt: number;
    })
  | (Subject & { type: 'belief.orphan.detected' | 'belief.orphan.frozen'; venue: Position | null })
  | (Subject & { type: 'belief.orphan.adopted'; position: Position | null; by: string })
  | (Subject & {
      type: 'belief.protection.gap';
      severity: 'warning' | 'critical';
      coverage: ProtectionCoverage;
      since: number;
      deadline: number;
      /** Why the gap opened when it was asserted rather than observed (a failed stage-1 stop). */
      reason: string | null;
    })
  | (Subject & { type: 'belief.protection.restored'; since: number });

type Context = PositionBeliefContext;

const nowOf = (context: Context, event: PositionBeliefEvent): number =>
  'now' in event ? Math.max(context.now, event.now) : context.now;

function observed(context: Context, event: PositionBeliefEvent): PositionComparison | null {
  return event.type === 'reconcile.observed'
    ? comparePosition(context.local, event.venue, context.config.tolerance)
    : null;
}

function coverageObserved(context: Context, event: PositionBeliefEvent): ProtectionCoverage | null {
  return event.type === 'reconcile.observed'
    ? protectionCoverage(event.venue, event.protection, context.config.tolerance)
    : null;
}

const subject = (context: Context): Subject => ({
  account: context.account,
  symbol: context.symbol,
  at: context.now,
});

// Routing of one observation by what it shows; every state that accepts evidence uses these.
const toConfirmed = {
  guard: 'evidence confirms the belief',
  target: 'confirmed',
  actions: 'record venue evidence',
} as const;
const toDrift = { guard: 'evidence shows drift', target: 'drift', actions: 'record venue evidence' } as const;
const toPhantom = {
  guard: 'evidence shows a phantom',
  target: 'phantom-suspect',
  actions: 'record venue evidence',
} as const;
const toOrphan = {
  guard: 'evidence shows an orphan',
  target: 'orphan',
  actions: 'record venue evidence',
} as const;
const fillExplainsEvidence = {
  guard: 'is the filled position in line with the venue evidence',
  target: 'confirmed',
  actions: ['apply local fill', 'clear mismatch'],
} as const;
const applyFillOnly = { actions: 'apply local fill' } as const;
const recordTime = { actions: 'record time' } as const;
const openGap = [
  'open protection gap',
  { type: 'announce protection gap', params: { severity: 'warning' } },
] as const;

/**
 * The position-belief statechart, one actor per account and symbol.
 *
 * @example
 * const belief = createCheckedActor(positionBeliefMachine, { mode: 'lenient', input: { account: 'main', symbol: 'BTCUSDT' } });
 * belief.send({ type: 'reconcile.observed', now, venue: null, protection: { stopQty: 0, closePosition: false } });
 * belief.getSnapshot().hasTag('in-sync'); // true: both sides are flat
 */
export const positionBeliefMachine = setup({
  types: {
    context: {} as PositionBeliefContext,
    input: undefined as PositionBeliefInput | undefined,
    events: {} as PositionBeliefEvent,
    emitted: {} as PositionBeliefEmitted,
    tags: {} as
      | 'needs-reconcile'
      | 'entries-denied'
      | 'in-sync'
      | 'mismatch'
      | 'repairing'
      | 'adopted'
      | 'needs-operator'
      | 'protection-gap'
      | 'protection-gap-critical',
  },
  guards: {
    [STRICT_GUARD]: isNotInternalEvent,
    'evidence confirms the belief': ({ context, event }) => observed(context, event)?.kind === 'confirmed',
    'evidence shows drift': ({ context, event }) => observed(context, event)?.kind === 'drift',
    'evidence shows a phantom': ({ context, event }) => observed(context, event)?.kind === 'phantom',
    'evidence shows an orphan': ({ context, event }) => observed(context, event)?.kind === 'orphan',
    'is the filled position in line with the venue evidence': ({ context, event }) => {
      assertEvent(event, 'position.fill.applied');
      const local = applyFill(context.local, event, context.config.tolerance);
      return comparePosition(local, context.venue, context.config.tolerance).kind === 'confirmed';
    },
    'is the mismatch resolved': ({ context }) => context.mismatch === null,
    'is the mismatch a phantom': ({ context }) => context.mismatch?.kind === 'phantom',
    'is the mismatch an orphan': ({ context }) => context.mismatch?.kind === 'orphan',
    'may repair now': ({ context, event }) => nowOf(context, event) >= context.repairNotBefore,
    'is the repair overdue': ({ context, event }) =>
      context.repair !== null && nowOf(context, event) >= context.repair.deadline,
    'is the phantom clearable': ({ context, event }) => {
      // An observation that shows the phantom again is itself one more miss.
      const misses = context.phantomMisses + (event.type === 'reconcile.observed' ? 1 : 0);
      const firstSeenAt = context.mismatch?.firstSeenAt ?? Infinity;
      return (
        misses >= context.config.phantomMissesToClear &&
        nowOf(context, event) - firstSeenAt >= context.config.phantomGraceMs
      );
    },
    'is the orphan policy adopt': ({ context }) => context.config.orphanPolicy === 'adopt',
    'evidence shows full coverage': ({ context, event }) => coverageObserved(context, event) === 'covered',
    'evidence shows under-coverage': ({ context, event }) =>
      coverageObserved(context, event) === 'under-covered',
    'is the protection gap past its ttl': ({ context }) =>
      context.gap !== null && context.now >= context.gap.deadline,
  },
  actions: {
    [STRICT_ACTION]: emit(({ event }) => refusedEvent(event)),
    'record time': assign({ now: ({ context, event }) => nowOf(context, event) }),
    'record venue evidence': assign(({ context, event }) => {
      assertEvent(event, 'reconcile.observed');
      const now = nowOf(context, event);
      const venue = normalisePosition(event.venue, context.config.tolerance);
      const comparison = comparePosition(context.local, venue, context.config.tolerance);
      const seen = trackMismatch(context.mismatch, comparison, now);
      return {
        now,
        venue,
        observedAt: now,
        mismatch:
          seen === null || comparison.kind === 'confirmed'
            ? null
            : {
                ...seen,
                kind: comparison.kind,
                fields: comparison.kind === 'drift' ? comparison.fields : [],
              },
        phantomMisses: comparison.kind === 'phantom' ? context.phantomMisses + 1 : 0,
      };
    }),
    'apply local fill': assign(({ context, event }) => {
      assertEvent(event, 'position.fill.applied');
      return { local: applyFill(context.local, event, context.config.tolerance) };
    }),
    'take the boot snapshot': assign(({ event }) => {
      assertEvent(event, 'position.rebased');
      return { local: event.position === null ? null : { ...event.position } };
    }),
    'clear mismatch': assign({ mismatch: null, phantomMisses: 0 }),
    'adopt venue position': assign(({ context }) => ({
      local: context.venue,
      mismatch: null,
      phantomMisses: 0,
    })),
    'announce drift': emit(({ context }) => ({
      type: 'belief.drift.detected' as const,
      ...subject(context),
      fields: context.mismatch?.fields ?? [],
      local: context.local,
      venue: context.venue,
    })),
    'request repair': assign(({ context }) => ({
      repair: { requestedAt: context.now, deadline: context.now + context.config.repairTimeoutMs },
    })),
    'announce repair request': emit(({ context }) => ({
      type: 'belief.repair.requested' as const,
      ...subject(context),
      fields: context.mismatch?.fields ?? [],
      local: context.local,
      venue: context.venue,
    })),
    'finish repair': assign({ repair: null, lastRepairFailure: null }),
    'record repair failure': assign(({ context, event }) => ({
      repair: null,
      repairNotBefore: context.now + context.config.repairCooldownMs,
      lastRepairFailure: event.type === 'repair.failed' ? event.reason : 'repair timed out',
    })),
    'announce phantom suspicion': emit(({ context }) => ({
      type: 'belief.phantom.suspected' as const,
      ...subject(context),
      local: context.local,
      firstSeenAt: context.mismatch?.firstSeenAt ?? context.now,
    })),
    'announce phantom cleared': emit(({ context }) => ({
      type: 'belief.phantom.cleared' as const,
      ...subject(context),
      cleared: context.local,
      misses: context.phantomMisses,
      firstSeenAt: context.mismatch?.firstSeenAt ?? context.now,
    })),
    'clear phantom': assign({ local: null, mismatch: null, phantomMisses: 0 }),
    'announce orphan': emit(({ context }) => ({
      type: 'belief.orphan.detected' as const,
      ...subject(context),
      venue: context.venue,
    })),
    'announce freeze': emit(({ context }) => ({
      type: 'belief.orphan.frozen' as const,
      ...subject(context),
      venue: context.venue,
    })),
    'announce adoption': emit(({ context, event }) => ({
      type: 'belief.orphan.adopted' as const,
      ...subject(context),
      position: context.local,
      by: event.type === 'orphan.adopt' ? event.by : 'policy',
    })),
    'open asserted gap': assign(({ context, event }) => {
      assertEvent(event, 'protection.gap.asserted');
      const now = nowOf(context, event);
      return {
        now,
        gap: {
          coverage: 'unprotected' as const,
          since: now,
          deadline: now + context.config.protectionGapTtlMs,
          reason: event.reason,
        },
      };
    }),
    'ignore event': emit(({ event }, params: { reason: string }) => ({
      type: 'lifecycle.ignored' as const,
      event: event.type,
      reason: params.reason,
    })),
    'open protection gap': assign(({ context, event }) => {
      const now = nowOf(context, event);
      const coverage = coverageObserved(context, event);
      return {
        gap: {
          coverage: coverage === 'under-covered' ? ('under-covered' as const) : ('unprotected' as const),
          since: now,
          deadline: now + context.config.protectionGapTtlMs,
          reason: null,
        },
      };
    }),
    'update gap coverage': assign(({ context, event }) => {
      const coverage = coverageObserved(context, event);
      return context.gap === null || coverage === null || coverage === 'covered'
        ? {}
        : { gap: { ...context.gap, coverage } };
    }),
    'announce protection gap': emit(({ context }, params: { severity: 'warning' | 'critical' }) => ({
      type: 'belief.protection.gap' as const,
      ...subject(context),
      severity: params.severity,
      coverage: context.gap?.coverage ?? 'unprotected',
      since: context.gap?.since ?? context.now,
      deadline: context.gap?.deadline ?? context.now,
      reason: context.gap?.reason ?? null,
    })),
    'close protection gap': emit(({ context }) => ({
      type: 'belief.protection.restored' as const,
      ...subject(context),
      since: context.gap?.since ?? context.now,
    })),
    'forget protection gap': assign({ gap: null }),
  },
}).createMachine({
  id: 'position-belief',
  context: ({ input }) => {
    const config = { ...DEFAULT_POSITION_BELIEF_CONFIG, ...input?.config };
    return {
      config,
      account: input?.account ?? 'unassigned',
      symbol: input?.symbol ?? 'unassigned',
      now: 0,
      local: normalisePosition(input?.local ?? null, config.tolerance),
      venue: null,
      observedAt: null,
      mismatch: null,
      phantomMisses: 0,
      repair: null,
      repairNotBefore: 0,
      lastRepairFailure: null,
      gap: null,
    };
  },
  type: 'parallel',
  on: {
    ...strictWildcard,
    // Reached only when no region takes the event: the request or assertion is stale, not wrong.
    'repair.requested': {
      actions: { type: 'ignore event', params: { reason: 'no drift awaits repair' } },
    },
    'protection.gap.asserted': {
      actions: { type: 'ignore event', params: { reason: 'a protection gap is already open' } },
    },
  },
  states: {
    belief: {
      initial: 'unknown',
      states: {
        // Nothing is known until the venue has been asked: entries wait for the first reconcile.
        unknown: {
          tags: ['needs-reconcile', 'entries-denied'],
          on: {
            'reconcile.observed': [toConfirmed, toDrift, toPhantom, toOrphan],
            'position.fill.applied': applyFillOnly,
            'position.rebased': { actions: 'take the boot snapshot' },
            'clock.tick': recordTime,
          },
        },
        confirmed: {
          tags: ['in-sync'],
          on: {
            'reconcile.observed': [
              { guard: 'evidence confirms the belief', actions: 'record venue evidence' },
              toDrift,
              toPhantom,
              toOrphan,
            ],
            // A local fill runs ahead of the venue's next report; the next observation judges it.
            'position.fill.applied': applyFillOnly,
            'clock.tick': recordTime,
          },
        },
        drift: {
          tags: ['mismatch', 'needs-reconcile'],
          entry: 'announce drift',
          on: {
            'reconcile.observed': [
              toConfirmed,
              { guard: 'evidence shows drift', actions: 'record venue evidence' },
              toPhantom,
              toOrphan,
            ],
            // The supervisor asks once drift has outlived a cycle (a fill still in flight shows
            // drift once); its plan bounds how many symbols are repaired per cycle.
            'repair.requested': [
              { guard: 'may repair now', target: 'repairing' },
              {
                actions: {
                  type: 'ignore event',
                  params: { reason: 'a failed repair of this symbol is still cooling down' },
                },
              },
            ],
            'position.fill.applied': [fillExplainsEvidence, applyFillOnly],
            'clock.tick': recordTime,
          },
        },
        repairing: {
          tags: ['mismatch', 'needs-reconcile', 'repairing'],
          entry: ['request repair', 'announce repair request'],
          on: {
            'repair.succeeded': { target: 'confirmed', actions: ['adopt venue position', 'finish repair'] },
            // A failed repair leaves the belief wherever the latest evidence puts it.
            'repair.failed': [
              { guard: 'is the mismatch resolved', target: 'confirmed', actions: 'finish repair' },
              {
                guard: 'is the mismatch a phantom',
                target: 'phantom-suspect',
                actions: 'record repair failure',
              },
              { guard: 'is the mismatch an orphan', target: 'orphan', actions: 'record repair failure' },
              { target: 'drift', actions: 'record repair failure' },
            ],
            // Evidence during a repair is kept; the repair's outcome decides where it leads.
            'reconcile.observed': { actions: 'record venue evidence' },
            'position.fill.applied': applyFillOnly,
            // An unanswered repair counts as failed once its timeout has passed.
            'clock.tick': [
              {
                guard: and(['is the repair overdue', 'is the mismatch resolved']),
                target: 'confirmed',
                actions: ['record time', 'finish repair'],
              },
              {
                guard: and(['is the repair overdue', 'is the mismatch a phantom']),
                target: 'phantom-suspect',
                actions: ['record time', 'record repair failure'],
              },
              {
                guard: and(['is the repair overdue', 'is the mismatch an orphan']),
                target: 'orphan',
                actions: ['record time', 'record repair failure'],
              },
              {
                guard: 'is the repair overdue',
                target: 'drift',
                actions: ['record time', 'record repair failure'],
              },
              recordTime,
            ],
          },
        },
        'phantom-suspect': {
          tags: ['mismatch', 'needs-reconcile'],
          entry: 'announce phantom suspicion',
          on: {
            'reconcile.observed': [
              {
                guard: and(['evidence shows a phantom', 'is the phantom clearable']),
                target: 'confirmed',
                actions: ['record venue evidence', 'announce phantom cleared', 'clear phantom'],
              },
              { guard: 'evidence shows a phantom', actions: 'record venue evidence' },
              toConfirmed,
              toDrift,
            ],
            // A late closing fill explains the missing position.
            'position.fill.applied': [fillExplainsEvidence, applyFillOnly],
            'clock.tick': [
              {
                guard: 'is the phantom clearable',
                target: 'confirmed',
                actions: ['record time', 'announce phantom cleared', 'clear phantom'],
              },
              recordTime,
            ],
          },
        },
        orphan: {
          tags: ['mismatch', 'needs-reconcile', 'entries-denied'],
          entry: 'announce orphan',
          on: {
            'reconcile.observed': [
              {
                guard: and(['evidence shows an orphan', 'is the orphan policy adopt']),
                target: 'adopted',
                actions: 'record venue evidence',
              },
              { guard: 'evidence shows an orphan', target: 'frozen', actions: 'record venue evidence' },
              toConfirmed,
              toDrift,
              toPhantom,
            ],
            // A late opening fill explains the unknown position.
            'position.fill.applied': [fillExplainsEvidence, applyFillOnly],
            'clock.tick': recordTime,
          },
        },
        adopted: {
          tags: ['in-sync', 'adopted'],
          entry: ['adopt venue position', 'announce adoption'],
          on: {
            'reconcile.observed': [toConfirmed, toDrift, toPhantom, toOrphan],
            'position.fill.applied': applyFillOnly,
            'clock.tick': recordTime,
          },
        },
        frozen: {
          tags: ['mismatch', 'entries-denied', 'needs-operator'],
          entry: 'announce freeze',
          on: {
            'orphan.adopt': { target: 'adopted' },
            'reconcile.observed': [
              toConfirmed,
              toDrift,
              toPhantom,
              { guard: 'evidence shows an orphan', actions: 'record venue evidence' },
            ],
            'position.fill.applied': [fillExplainsEvidence, applyFillOnly],
            'clock.tick': recordTime,
          },
        },
      },
    },
    protection: {
      initial: 'unverified',
      states: {
        unverified: {
          on: {
            'protection.gap.asserted': {
              target: 'unprotected',
              actions: [
                'open asserted gap',
                { type: 'announce protection gap', params: { severity: 'warning' } },
              ],
            },
            'reconcile.observed': [
              { guard: 'evidence shows full coverage', target: 'covered' },
              { guard: 'evidence shows under-coverage', target: 'under-covered', actions: openGap },
              { target: 'unprotected', actions: openGap },
            ],
          },
        },
        covered: {
          on: {
            'protection.gap.asserted': {
              target: 'unprotected',
              actions: [
                'open asserted gap',
                { type: 'announce protection gap', params: { severity: 'warning' } },
              ],
            },
            'reconcile.observed': [
              { guard: 'evidence shows full coverage' },
              { guard: 'evidence shows under-coverage', target: 'under-covered', actions: openGap },
              { target: 'unprotected', actions: openGap },
            ],
          },
        },
        'under-covered': {
          initial: 'within-ttl',
          on: {
            'reconcile.observed': [
              {
                guard: 'evidence shows full coverage',
                target: 'covered',
                actions: ['close protection gap', 'forget protection gap'],
              },
              { guard: 'evidence shows under-coverage' },
              // The gap goes on (its TTL keeps counting); only its kind changes.
              { target: 'unprotected', actions: 'update gap coverage' },
            ],
          },
          states: {
            'within-ttl': {
              tags: ['protection-gap'],
              always: {
                guard: 'is the protection gap past its ttl',
                target: 'ttl-breached',
                actions: { type: 'announce protection gap', params: { severity: 'critical' } },
              },
            },
            'ttl-breached': { tags: ['protection-gap', 'protection-gap-critical', 'entries-denied'] },
          },
        },
        unprotected: {
          initial: 'within-ttl',
          on: {
            'reconcile.observed': [
              {
                guard: 'evidence shows full coverage',
                target: 'covered',
                actions: ['close protection gap', 'forget protection gap'],
              },
              {
                guard: 'evidence shows under-coverage',
                target: 'under-covered',
                actions: 'update gap coverage',
              },
              {},
            ],
          },
          states: {
            'within-ttl': {
              tags: ['protection-gap'],
              always: {
                guard: 'is the protection gap past its ttl',
                target: 'ttl-breached',
                actions: { type: 'announce protection gap', params: { severity: 'critical' } },
              },
            },
            'ttl-breached': { tags: ['protection-gap', 'protection-gap-critical', 'entries-denied'] },
          },
        },
      },
    },
  },
});

export type PositionBeliefSnapshot = SnapshotFrom<typeof positionBeliefMachine>;

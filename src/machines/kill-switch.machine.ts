/**
 * The kill switch: armed until something trips it, then latched until an operator resets it or,
 * for triggers whose policy allows it, until their halt duration has elapsed on the clock.
 * Invariants: a trip always latches and records its trigger and metadata; a second trip while
 * latched is recorded, never lost, and never shortens the halt; only cancels and protective exits
 * pass while tripped (see `admit` in src/domain/admission.ts); time enters only as clock.tick.
 */
import { assertEvent, assign, emit, setup } from 'xstate';
import type { SnapshotFrom } from 'xstate';
import type { KillSwitchView, KillTrigger } from '../domain/admission.js';
import {
  STRICT_ACTION,
  STRICT_GUARD,
  isNotInternalEvent,
  refusedEvent,
  strictWildcard,
  type IgnoredEvent,
  type RefusedEvent,
} from './strict.js';

export interface KillSwitchConfig {
  /**
   * Halt duration per trigger after which the switch resets itself (ms). A trigger without an
   * entry latches until an operator resets it.
   */
  autoResetAfterMs: Partial<Record<KillTrigger, number>>;
  /** Trips recorded while already latched, beyond which the oldest extra ones are dropped. */
  maxAdditionalTrips: number;
}

/**
 * Defaults: only a reconcile mismatch storm resets by policy, after KILL_RECONCILE_MISMATCH_HALT_SEC
 * (300 s, reference 002 §7); every other trigger waits for an operator.
 *
 * @example
 * createActor(killSwitchMachine, { input: { config: { autoResetAfterMs: { error_storm: 600_000 } } } });
 */
export const DEFAULT_KILL_SWITCH_CONFIG: KillSwitchConfig = {
  autoResetAfterMs: { reconcile_mismatch_streak: 300_000 },
  maxAdditionalTrips: 16,
};

/** Evidence attached to a trip: flat and JSON-serialisable so snapshots persist. */
export type TripEvidence = Record<string, string | number | boolean | null>;

export interface TripRecord {
  trigger: KillTrigger;
  reason: string;
  at: number;
  evidence?: TripEvidence;
  by?: string;
}

export interface ResetRecord {
  by: string;
  reason: string;
  at: number;
  byPolicy: boolean;
}

export interface KillSwitchContext {
  config: KillSwitchConfig;
  /** Latest time seen on any event (ms); never moves backwards. */
  now: number;
  /** The trip that latched the switch; null while armed. */
  trip: TripRecord | null;
  /** Trips received while already latched, oldest first. */
  additionalTrips: TripRecord[];
  /** When policy may reset the switch; null while armed or when an operator must reset it. */
  autoResetAt: number | null;
  lastReset: ResetRecord | null;
}

export interface KillSwitchInput {
  config?: Partial<KillSwitchConfig>;
}

export type KillTripEvent = {
  type: 'kill.trip';
  trigger: KillTrigger;
  reason: string;
  now: number;
  evidence?: TripEvidence;
  by?: string;
};

export type KillSwitchEvent =
  KillTripEvent | { type: 'kill.reset'; by: string; reason: string } | { type: 'clock.tick'; now: number };

export type KillSwitchEmitted =
  | RefusedEvent
  | IgnoredEvent
  | {
      type: 'kill.tripped';
      trigger: KillTrigger;
      reason: string;
      at: number;
      /** True when the switch was already latched by an earlier trip. */
      additional: boolean;
      autoResetAt: number | null;
    }
  | {
      type: 'kill.reset.done';
      by: string;
      reason: string;
      byPolicy: boolean;
      at: number;
      triggers: KillTrigger[];
    };

function tripRecord(event: KillTripEvent, at: number): TripRecord {
  const record: TripRecord = { trigger: event.trigger, reason: event.reason, at };
  if (event.evidence !== undefined) record.evidence = event.evidence;
  if (event.by !== undefined) record.by = event.by;
  return record;
}

/** When every recorded trigger allows a policy reset: the latest of their halt ends; else null. */
function autoResetTime(trips: TripRecord[], config: KillSwitchConfig): number | null {
  let latest = -Infinity;
  for (const trip of trips) {
    const halt = config.autoResetAfterMs[trip.trigger];
    if (halt === undefined) return null;
    latest = Math.max(latest, trip.at + halt);
  }
  return trips.length > 0 ? latest : null;
}

function tripsOf(context: KillSwitchContext): TripRecord[] {
  return context.trip ? [context.trip, ...context.additionalTrips] : [...context.additionalTrips];
}

/**
 * The kill switch statechart; run it with `createCheckedActor` and read it through `killSwitchView`.
 *
 * @example
 * const killSwitch = createCheckedActor(killSwitchMachine, { mode: 'lenient' });
 * killSwitch.send({ type: 'kill.trip', trigger: 'operator', reason: 'manual stop', by: 'alice', now: clock.now() });
 * admit(intent, { killSwitch: killSwitchView(killSwitch.getSnapshot()), knobs });
 */
export const killSwitchMachine = setup({
  types: {
    context: {} as KillSwitchContext,
    input: undefined as KillSwitchInput | undefined,
    events: {} as KillSwitchEvent,
    emitted: {} as KillSwitchEmitted,
    tags: {} as 'entries-denied' | 'latched',
  },
  guards: {
    [STRICT_GUARD]: isNotInternalEvent,
    'is the policy halt over': ({ context, event }) =>
      event.type === 'clock.tick' &&
      context.autoResetAt !== null &&
      Math.max(context.now, event.now) >= context.autoResetAt,
  },
  actions: {
    [STRICT_ACTION]: emit(({ event }) => refusedEvent(event)),
    'record time': assign({
      now: ({ context, event }) => ('now' in event ? Math.max(context.now, event.now) : context.now),
    }),
    'record trip': assign(({ context, event }) => {
      assertEvent(event, 'kill.trip');
      const trip = tripRecord(event, Math.max(context.now, event.now));
      return { trip, additionalTrips: [], autoResetAt: autoResetTime([trip], context.config) };
    }),
    'record additional trip': assign(({ context, event }) => {
      assertEvent(event, 'kill.trip');
      const extra = tripRecord(event, Math.max(context.now, event.now));
      const additionalTrips = [...context.additionalTrips, extra].slice(-context.config.maxAdditionalTrips);
      // Folded into the running value rather than recomputed from the (capped) list, so a later
      // trip can only extend the halt or make it operator-only, never shorten it.
      const candidate = autoResetTime([extra], context.config);
      const autoResetAt =
        context.autoResetAt === null || candidate === null ? null : Math.max(context.autoResetAt, candidate);
      return { additionalTrips, autoResetAt };
    }),
    'announce trip': emit(({ context, event }) => {
      assertEvent(event, 'kill.trip');
      return {
        type: 'kill.tripped' as const,
        trigger: event.trigger,
        reason: event.reason,
        at: context.now,
        additional: context.additionalTrips.length > 0,
        autoResetAt: context.autoResetAt,
      };
    }),
    'reset by operator': assign(({ context, event }) => {
      assertEvent(event, 'kill.reset');
      return { lastReset: { by: event.by, reason: event.reason, at: context.now, byPolicy: false } };
    }),
    'reset by policy': assign(({ context }) => ({
      lastReset: {
        by: 'policy',
        reason: `halt for ${tripsOf(context)
          .map((trip) => trip.trigger)
          .join(', ')} elapsed`,
        at: context.now,
        byPolicy: true,
      },
    })),
    'announce reset': emit(({ context }) => ({
      type: 'kill.reset.done' as const,
      by: context.lastReset?.by ?? 'policy',
      reason: context.lastReset?.reason ?? '',
      byPolicy: context.lastReset?.byPolicy ?? true,
      at: context.now,
      triggers: tripsOf(context).map((trip) => trip.trigger),
    })),
    'clear trips': assign({ trip: null, additionalTrips: [], autoResetAt: null }),
    'ignore reset of an armed switch': emit(() => ({
      type: 'lifecycle.ignored' as const,
      event: 'kill.reset',
      reason: 'the kill switch is already armed',
    })),
  },
}).createMachine({
  id: 'kill-switch',
  context: ({ input }) => ({
    config: {
      ...DEFAULT_KILL_SWITCH_CONFIG,
      ...input?.config,
      autoResetAfterMs: {
        ...DEFAULT_KILL_SWITCH_CONFIG.autoResetAfterMs,
        ...input?.config?.autoResetAfterMs,
      },
    },
    now: 0,
    trip: null,
    additionalTrips: [],
    autoResetAt: null,
    lastReset: null,
  }),
  initial: 'armed',
  on: { ...strictWildcard },
  states: {
    armed: {
      on: {
        'kill.trip': { target: 'tripped', actions: ['record time', 'record trip', 'announce trip'] },
        // Resets are idempotent: a second operator click must not count as an anomaly.
        'kill.reset': { actions: 'ignore reset of an armed switch' },
        'clock.tick': { actions: 'record time' },
      },
    },
    tripped: {
      tags: ['entries-denied', 'latched'],
      on: {
        'kill.trip': { actions: ['record time', 'record additional trip', 'announce trip'] },
        'kill.reset': { target: 'armed', actions: ['reset by operator', 'announce reset', 'clear trips'] },
        'clock.tick': [
          {
            guard: 'is the policy halt over',
            target: 'armed',
            actions: ['record time', 'reset by policy', 'announce reset', 'clear trips'],
          },
          { actions: 'record time' },
        ],
      },
    },
  },
});

export type KillSwitchSnapshot = SnapshotFrom<typeof killSwitchMachine>;

/** The kill switch as admission sees it. */
export function killSwitchView(snapshot: KillSwitchSnapshot): KillSwitchView {
  const trip = snapshot.context.trip;
  return snapshot.hasTag('latched') && trip ? { tripped: true, trigger: trip.trigger } : { tripped: false };
}

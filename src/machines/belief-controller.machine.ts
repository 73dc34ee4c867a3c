/**
 * The belief controller: turns belief-debt samples into a posture (GREEN, YELLOW, ORANGE, RED)
 * and publishes the guard knobs of that posture (reference 004 §5).
 * Invariants: the state is always the mode of the published knobs; up-moves wait for the
 * escalation window except that a growth burst or a RED-level score trips RED at once; down-moves
 * wait for the lower exit threshold to hold for the recovery window, so debt oscillating inside
 * the hysteresis band never flaps the mode; RED asks for a kill-switch trip when its knobs say so.
 */
import { assertEvent, assign, emit, enqueueActions, setup } from 'xstate';
import type { SnapshotFrom } from 'xstate';
import {
  DEFAULT_BELIEF_CONTROLLER_CONFIG,
  INITIAL_POSTURE_MEMORY,
  knobsForMode,
  stepPosture,
  type BeliefControllerConfig,
  type BeliefDebt,
  type BeliefMode,
  type GuardKnobs,
  type PostureMemory,
} from '../domain/belief.js';
import {
  STRICT_ACTION,
  STRICT_GUARD,
  isNotInternalEvent,
  refusedEvent,
  strictWildcard,
  type RefusedEvent,
} from './strict.js';

export { DEFAULT_BELIEF_CONTROLLER_CONFIG };

export interface BeliefControllerContext {
  /** Top-level keys given in the input replace the defaults' keys. */
  config: BeliefControllerConfig;
  /** Time of the latest sample (ms); never moves backwards. */
  now: number;
  memory: PostureMemory;
  /** The latest debt sample and what the controller made of it. */
  lastSample: BeliefDebt | null;
  score: number;
  /** Whether the latest sample's measured growth was a burst. */
  burst: boolean;
  /** The published knobs; `knobs.mode` is the current mode. */
  knobs: GuardKnobs;
}

export interface BeliefControllerInput {
  config?: Partial<BeliefControllerConfig>;
}

export type BeliefDebtSampledEvent = {
  type: 'belief.debt.sampled';
  now: number;
  debtSec: number;
  debtSymbols: number;
  mismatchStreak: number;
};

export type BeliefControllerEvent = BeliefDebtSampledEvent;

export type BeliefControllerEmitted =
  | RefusedEvent
  | {
      type: 'controller.mode.changed';
      from: BeliefMode;
      to: BeliefMode;
      score: number;
      growthPerMinute: number;
      burst: boolean;
      at: number;
    }
  | { type: 'controller.knobs.published'; knobs: GuardKnobs; at: number }
  | {
      type: 'kill.trip.requested';
      trigger: 'belief_red';
      reason: string;
      now: number;
      evidence: { score: number; growthPerMinute: number };
    };

function step(context: BeliefControllerContext, event: BeliefDebtSampledEvent) {
  const now = Math.max(context.now, event.now);
  return { now, ...stepPosture(context.knobs.mode, context.memory, event, now, context.config) };
}

const sampled = (mode: BeliefMode, target: string) => ({
  guard: `posture moves to ${mode}` as const,
  target,
  actions: ['record debt sample' as const, { type: 'announce mode change' as const, params: { to: mode } }],
});

/**
 * The belief controller statechart; its context's `knobs` are the guard knobs to publish.
 *
 * @example
 * const controller = createCheckedActor(beliefControllerMachine, { mode: 'lenient' });
 * controller.send({ type: 'belief.debt.sampled', now: 60_000, debtSec: 12, debtSymbols: 1, mismatchStreak: 2 });
 * controller.getSnapshot().context.knobs.allow_entries; // true while GREEN…ORANGE
 */
export const beliefControllerMachine = setup({
  types: {
    context: {} as BeliefControllerContext,
    input: undefined as BeliefControllerInput | undefined,
    events: {} as BeliefControllerEvent,
    emitted: {} as BeliefControllerEmitted,
    tags: {} as 'degraded' | 'entries-denied',
  },
  guards: {
    [STRICT_GUARD]: isNotInternalEvent,
    'posture moves to GREEN': ({ context, event }) => step(context, event).mode === 'GREEN',
    'posture moves to YELLOW': ({ context, event }) => step(context, event).mode === 'YELLOW',
    'posture moves to ORANGE': ({ context, event }) => step(context, event).mode === 'ORANGE',
    'posture moves to RED': ({ context, event }) => step(context, event).mode === 'RED',
  },
  actions: {
    [STRICT_ACTION]: emit(({ event }) => refusedEvent(event)),
    'record debt sample': assign(({ context, event }) => {
      assertEvent(event, 'belief.debt.sampled');
      const next = step(context, event);
      return {
        now: next.now,
        memory: next.memory,
        score: next.score,
        burst: next.burst,
        lastSample: {
          debtSec: event.debtSec,
          debtSymbols: event.debtSymbols,
          mismatchStreak: event.mismatchStreak,
        },
      };
    }),
    'announce mode change': emit(({ context }, params: { to: BeliefMode }) => ({
      type: 'controller.mode.changed' as const,
      from: context.knobs.mode,
      to: params.to,
      score: context.score,
      growthPerMinute: context.memory.growthPerMinute,
      burst: context.burst,
      at: context.now,
    })),
    'adopt guard knobs': assign(({ context }, params: { mode: BeliefMode }) => ({
      knobs: knobsForMode(params.mode, context.config),
    })),
    'publish guard knobs': emit(({ context }) => ({
      type: 'controller.knobs.published' as const,
      knobs: context.knobs,
      at: context.now,
    })),
    'request kill switch trip': enqueueActions(({ context, enqueue }) => {
      // RED's knobs decide whether the controller may halt entries on its own (reference 004 §4.7).
      if (!context.knobs.kill_switch_trip) return;
      enqueue.emit({
        type: 'kill.trip.requested',
        trigger: 'belief_red',
        reason: `belief debt score ${context.score.toFixed(2)} put the controller in RED`,
        now: context.now,
        evidence: { score: context.score, growthPerMinute: context.memory.growthPerMinute },
      });
    }),
  },
}).createMachine({
  id: 'belief-controller',
  context: ({ input }) => {
    const config = { ...DEFAULT_BELIEF_CONTROLLER_CONFIG, ...input?.config };
    return {
      config,
      now: 0,
      memory: INITIAL_POSTURE_MEMORY,
      lastSample: null,
      score: 0,
      burst: false,
      knobs: knobsForMode('GREEN', config),
    };
  },
  initial: 'green',
  on: { ...strictWildcard },
  states: {
    green: {
      entry: [{ type: 'adopt guard knobs', params: { mode: 'GREEN' } }, 'publish guard knobs'],
      on: {
        'belief.debt.sampled': [
          sampled('RED', 'red'),
          sampled('ORANGE', 'orange'),
          sampled('YELLOW', 'yellow'),
          { actions: 'record debt sample' },
        ],
      },
    },
    yellow: {
      tags: ['degraded'],
      entry: [{ type: 'adopt guard knobs', params: { mode: 'YELLOW' } }, 'publish guard knobs'],
      on: {
        'belief.debt.sampled': [
          sampled('RED', 'red'),
          sampled('ORANGE', 'orange'),
          sampled('GREEN', 'green'),
          { actions: 'record debt sample' },
        ],
      },
    },
    orange: {
      tags: ['degraded'],
      entry: [{ type: 'adopt guard knobs', params: { mode: 'ORANGE' } }, 'publish guard knobs'],
      on: {
        'belief.debt.sampled': [
          sampled('RED', 'red'),
          sampled('YELLOW', 'yellow'),
          sampled('GREEN', 'green'),
          { actions: 'record debt sample' },
        ],
      },
    },
    red: {
      tags: ['degraded', 'entries-denied'],
      entry: [
        { type: 'adopt guard knobs', params: { mode: 'RED' } },
        'publish guard knobs',
        'request kill switch trip',
      ],
      on: {
        'belief.debt.sampled': [
          sampled('ORANGE', 'orange'),
          sampled('YELLOW', 'yellow'),
          sampled('GREEN', 'green'),
          { actions: 'record debt sample' },
        ],
      },
    },
  },
});

export type BeliefControllerSnapshot = SnapshotFrom<typeof beliefControllerMachine>;

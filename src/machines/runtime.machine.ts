/**
 * The runtime root: booting → restoring → reconciling → running → draining → stopped, plus halted.
 * Start-up and crash recovery are one path (restore → reconcile → run), and resuming from a halt
 * takes it again. Supervised children are restarted within an intensity limit.
 * Invariants: nothing runs before a reconcile has completed; reconcile attempts and their waits
 * are bounded, and exhausting them halts rather than runs on unreconciled state; at most
 * `maxRestarts` child restarts happen within `restartPeriodMs`, and the next crash halts the
 * runtime, asks for a kill-switch trip and raises an alert; a drain ends by its deadline; time
 * enters only through clock.tick.
 */
import { and, assertEvent, assign, emit, setup } from 'xstate';
import type { SnapshotFrom } from 'xstate';
import {
  STRICT_ACTION,
  STRICT_GUARD,
  isNotInternalEvent,
  refusedEvent,
  strictWildcard,
  type IgnoredEvent,
  type RefusedEvent,
} from './strict.js';

export interface RuntimeConfig {
  /** Most child restarts allowed within `restartPeriodMs` (restart intensity R). */
  maxRestarts: number;
  /** The sliding window for restart intensity (T, in ms). */
  restartPeriodMs: number;
  /** Reconcile attempts before the runtime halts instead of running on unreconciled state. */
  reconcileAttempts: number;
  /** Wait before the first reconcile retry; each later retry waits twice as long (ms). */
  reconcileRetryDelayMs: number;
  /** How long one reconcile attempt may take before it counts as failed (ms). */
  reconcileTimeoutMs: number;
  /** How long a drain may take before the runtime stops anyway (ms). */
  drainTimeoutMs: number;
}

/**
 * Defaults: at most 5 restarts in 60 s; 3 reconcile attempts, retried after 5 s then 10 s, each
 * allowed 60 s; a drain gets 30 s.
 *
 * @example
 * createActor(runtimeMachine, { input: { config: { maxRestarts: 3, restartPeriodMs: 30_000 } } });
 */
export const DEFAULT_RUNTIME_CONFIG: RuntimeConfig = {
  maxRestarts: 5,
  restartPeriodMs: 60_000,
  reconcileAttempts: 3,
  reconcileRetryDelayMs: 5_000,
  reconcileTimeoutMs: 60_000,
  drainTimeoutMs: 30_000,
};

export type HaltCause = 'restart-intensity' | 'restore-failed' | 'reconcile-failed' | 'operator';

export interface RuntimeContext {
  config: RuntimeConfig;
  /** Latest time seen on any event (ms); never moves backwards. */
  now: number;
  /** Child restarts inside the current intensity window, oldest first. */
  restarts: Array<{ child: string; at: number }>;
  /** Reconcile attempts made on the current pass through reconciling. */
  reconcileAttempt: number;
  /** When the current reconcile attempt times out; null while none is outstanding. */
  reconcileDeadline: number | null;
  /** When the next reconcile attempt starts after a failure; null while none is scheduled. */
  reconcileRetryAt: number | null;
  lastFailure: string | null;
  halt: { cause: HaltCause; detail: string; at: number } | null;
  drainDeadline: number | null;
  /** Why the runtime stopped; `forced` when it stopped without a completed drain. */
  stop: { reason: string; forced: boolean; at: number } | null;
}

export interface RuntimeInput {
  config?: Partial<RuntimeConfig>;
}

export type RuntimeEvent =
  | { type: 'clock.tick'; now: number }
  | { type: 'runtime.boot.completed' }
  | { type: 'runtime.boot.failed'; reason: string }
  | { type: 'runtime.restore.completed' }
  | { type: 'runtime.restore.failed'; reason: string }
  | { type: 'runtime.reconcile.completed' }
  | { type: 'runtime.reconcile.failed'; reason: string }
  | { type: 'supervisor.child.crashed'; child: string; now: number }
  | { type: 'runtime.halt'; by: string; reason: string }
  | { type: 'runtime.resume'; by: string }
  | { type: 'runtime.drain'; reason: string }
  | { type: 'runtime.drained' };

export type RuntimeEmitted =
  | RefusedEvent
  | IgnoredEvent
  | { type: 'runtime.restore.requested'; at: number }
  | { type: 'runtime.reconcile.requested'; attempt: number; at: number }
  | { type: 'runtime.started'; at: number }
  | { type: 'supervisor.child.restart.requested'; child: string; restartsInWindow: number; at: number }
  | {
      type: 'kill.trip.requested';
      trigger: 'supervision';
      reason: string;
      now: number;
      evidence: { restartsInWindow: number; maxRestarts: number; periodMs: number };
    }
  | { type: 'runtime.alert'; severity: 'critical'; code: string; message: string; at: number }
  | { type: 'runtime.halted'; cause: HaltCause; detail: string; at: number }
  | { type: 'runtime.resumed'; by: string; at: number }
  | { type: 'runtime.drain.requested'; reason: string; deadline: number; at: number }
  | { type: 'runtime.stopped'; reason: string; forced: boolean; at: number };

type Context = RuntimeContext;

const nowOf = (context: Context, event: RuntimeEvent): number =>
  'now' in event ? Math.max(context.now, event.now) : context.now;

/** Restarts still inside the intensity window at `now`. */
const restartsInWindow = (context: Context, now: number) =>
  context.restarts.filter((restart) => restart.at > now - context.config.restartPeriodMs);

const childCrashed = {
  'supervisor.child.crashed': [
    {
      guard: 'is within restart intensity',
      actions: ['record time', 'record restart', 'request child restart'],
    },
    {
      target: '#runtime.halted',
      actions: [
        'record time',
        'record restart',
        { type: 'record halt', params: { cause: 'restart-intensity' } },
        'request kill switch trip',
        'raise supervision alert',
      ],
    },
  ],
} as const;

// Every live state keeps time; stopped does not, since a finished actor takes no more events.
const keepTime = { 'clock.tick': { actions: 'record time' } } as const;

const haltByOperator = {
  'runtime.halt': {
    target: '#runtime.halted',
    actions: { type: 'record halt', params: { cause: 'operator' } },
  },
} as const;

/**
 * The runtime root statechart; its emitted requests are the daemon's to carry out.
 *
 * @example
 * const runtime = createCheckedActor(runtimeMachine, { mode: 'lenient' });
 * runtime.actor.on('runtime.restore.requested', restoreFromStore);
 * runtime.send({ type: 'runtime.boot.completed' });
 */
export const runtimeMachine = setup({
  types: {
    context: {} as RuntimeContext,
    input: undefined as RuntimeInput | undefined,
    events: {} as RuntimeEvent,
    emitted: {} as RuntimeEmitted,
    tags: {} as 'terminal' | 'needs-reconcile' | 'entries-denied' | 'degraded' | 'needs-operator' | 'running',
  },
  guards: {
    [STRICT_GUARD]: isNotInternalEvent,
    // The crash being handled counts too: R restarts fit in the window, the R+1st does not.
    'is within restart intensity': ({ context, event }) =>
      restartsInWindow(context, nowOf(context, event)).length < context.config.maxRestarts,
    'has reconcile attempts left': ({ context }) =>
      context.reconcileAttempt < context.config.reconcileAttempts,
    'is the reconcile attempt overdue': ({ context, event }) =>
      context.reconcileDeadline !== null && nowOf(context, event) >= context.reconcileDeadline,
    'is a reconcile retry due': ({ context, event }) =>
      context.reconcileRetryAt !== null && nowOf(context, event) >= context.reconcileRetryAt,
    'is the drain overdue': ({ context, event }) =>
      context.drainDeadline !== null && nowOf(context, event) >= context.drainDeadline,
  },
  actions: {
    [STRICT_ACTION]: emit(({ event }) => refusedEvent(event)),
    'record time': assign({ now: ({ context, event }) => nowOf(context, event) }),
    'request restore': emit(({ context }) => ({
      type: 'runtime.restore.requested' as const,
      at: context.now,
    })),
    'reset reconcile attempts': assign({ reconcileAttempt: 0, reconcileRetryAt: null }),
    'start reconcile attempt': assign(({ context }) => ({
      reconcileAttempt: context.reconcileAttempt + 1,
      reconcileDeadline: context.now + context.config.reconcileTimeoutMs,
      reconcileRetryAt: null,
    })),
    'request reconcile': emit(({ context }) => ({
      type: 'runtime.reconcile.requested' as const,
      attempt: context.reconcileAttempt,
      at: context.now,
    })),
    'record reconcile failure': assign(({ event }) => ({
      lastFailure: event.type === 'runtime.reconcile.failed' ? event.reason : 'reconcile timed out',
      reconcileDeadline: null,
    })),
    'schedule reconcile retry': assign(({ context }) => ({
      reconcileRetryAt:
        context.now + context.config.reconcileRetryDelayMs * 2 ** Math.max(0, context.reconcileAttempt - 1),
    })),
    'announce start': emit(({ context }) => ({ type: 'runtime.started' as const, at: context.now })),
    'finish reconcile': assign({
      reconcileDeadline: null,
      reconcileRetryAt: null,
      halt: null,
      lastFailure: null,
    }),
    'record restart': assign(({ context, event }) => {
      assertEvent(event, 'supervisor.child.crashed');
      // One more than the limit is all the guard needs to see; older entries would only grow context.
      const restarts = [...restartsInWindow(context, context.now), { child: event.child, at: context.now }];
      return { restarts: restarts.slice(-(context.config.maxRestarts + 1)) };
    }),
    'request child restart': emit(({ context, event }) => {
      assertEvent(event, 'supervisor.child.crashed');
      return {
        type: 'supervisor.child.restart.requested' as const,
        child: event.child,
        restartsInWindow: context.restarts.length,
        at: context.now,
      };
    }),
    'record halt': assign(({ context, event }, params: { cause: HaltCause }) => ({
      halt: {
        cause: params.cause,
        detail:
          event.type === 'supervisor.child.crashed'
            ? `${context.restarts.length} child crashes within ${context.config.restartPeriodMs} ms (last: ${event.child})`
            : event.type === 'runtime.halt'
              ? `${event.reason} (halted by ${event.by})`
              : (context.lastFailure ?? 'unknown failure'),
        at: context.now,
      },
      reconcileDeadline: null,
      reconcileRetryAt: null,
    })),
    'announce halt': emit(({ context }) => ({
      type: 'runtime.halted' as const,
      cause: context.halt?.cause ?? 'operator',
      detail: context.halt?.detail ?? '',
      at: context.now,
    })),
    'request kill switch trip': emit(({ context }) => ({
      type: 'kill.trip.requested' as const,
      trigger: 'supervision' as const,
      reason: context.halt?.detail ?? 'restart intensity exceeded',
      now: context.now,
      evidence: {
        restartsInWindow: context.restarts.length,
        maxRestarts: context.config.maxRestarts,
        periodMs: context.config.restartPeriodMs,
      },
    })),
    'raise supervision alert': emit(({ context }) => ({
      type: 'runtime.alert' as const,
      severity: 'critical' as const,
      code: 'RESTART_INTENSITY_EXCEEDED',
      message: `runtime halted: ${context.halt?.detail ?? 'restart intensity exceeded'}`,
      at: context.now,
    })),
    'record failure reason': assign(({ event }) => ({
      lastFailure: 'reason' in event ? event.reason : null,
    })),
    'forget restarts': assign({ restarts: [] }),
    'announce resume': emit(({ context, event }) => ({
      type: 'runtime.resumed' as const,
      by: event.type === 'runtime.resume' ? event.by : 'unknown',
      at: context.now,
    })),
    'ignore a crash outside supervision': emit(({ event }) => ({
      type: 'lifecycle.ignored' as const,
      event: event.type,
      reason: 'children are not restarted while the runtime is halted or draining',
    })),
    'start drain': assign(({ context }) => ({ drainDeadline: context.now + context.config.drainTimeoutMs })),
    'request drain': emit(({ context, event }) => ({
      type: 'runtime.drain.requested' as const,
      reason: event.type === 'runtime.drain' ? event.reason : 'drain',
      deadline: context.drainDeadline ?? context.now,
      at: context.now,
    })),
    'record stop': assign(({ context, event }, params: { forced: boolean }) => ({
      stop: {
        reason: params.forced
          ? 'drain timed out'
          : event.type === 'runtime.boot.failed'
            ? event.reason
            : 'drained',
        forced: params.forced,
        at: context.now,
      },
      drainDeadline: null,
    })),
    'announce stop': emit(({ context }) => ({
      type: 'runtime.stopped' as const,
      reason: context.stop?.reason ?? '',
      forced: context.stop?.forced ?? false,
      at: context.now,
    })),
  },
}).createMachine({
  id: 'runtime',
  context: ({ input }) => ({
    config: { ...DEFAULT_RUNTIME_CONFIG, ...input?.config },
    now: 0,
    restarts: [],
    reconcileAttempt: 0,
    reconcileDeadline: null,
    reconcileRetryAt: null,
    lastFailure: null,
    halt: null,
    drainDeadline: null,
    stop: null,
  }),
  initial: 'booting',
  on: { ...strictWildcard },
  states: {
    // No child is supervised before boot completes, so a crash report here is refused.
    booting: {
      tags: ['entries-denied', 'needs-reconcile'],
      on: {
        'runtime.boot.completed': { target: 'restoring' },
        'runtime.boot.failed': {
          target: 'stopped',
          actions: { type: 'record stop', params: { forced: true } },
        },
        ...keepTime,
      },
    },
    restoring: {
      tags: ['entries-denied', 'needs-reconcile'],
      entry: ['request restore', 'reset reconcile attempts'],
      on: {
        'runtime.restore.completed': { target: 'reconciling' },
        'runtime.restore.failed': {
          target: 'halted',
          actions: ['record failure reason', { type: 'record halt', params: { cause: 'restore-failed' } }],
        },
        ...childCrashed,
        ...haltByOperator,
        ...keepTime,
      },
    },
    reconciling: {
      tags: ['entries-denied', 'needs-reconcile'],
      entry: ['start reconcile attempt', 'request reconcile'],
      on: {
        'runtime.reconcile.completed': { target: 'running', actions: 'finish reconcile' },
        'runtime.reconcile.failed': [
          {
            guard: 'has reconcile attempts left',
            actions: ['record reconcile failure', 'schedule reconcile retry'],
          },
          {
            target: 'halted',
            actions: [
              'record reconcile failure',
              { type: 'record halt', params: { cause: 'reconcile-failed' } },
            ],
          },
        ],
        'clock.tick': [
          // Re-entering runs the entry again: a new attempt with its own deadline.
          { guard: 'is a reconcile retry due', target: 'reconciling', reenter: true, actions: 'record time' },
          // An unanswered attempt counts as a failed one.
          {
            guard: and(['is the reconcile attempt overdue', 'has reconcile attempts left']),
            actions: ['record time', 'record reconcile failure', 'schedule reconcile retry'],
          },
          {
            guard: 'is the reconcile attempt overdue',
            target: 'halted',
            actions: [
              'record time',
              'record reconcile failure',
              { type: 'record halt', params: { cause: 'reconcile-failed' } },
            ],
          },
          { actions: 'record time' },
        ],
        ...childCrashed,
        ...haltByOperator,
      },
    },
    running: {
      tags: ['running'],
      entry: 'announce start',
      on: {
        'runtime.drain': { target: 'draining' },
        ...childCrashed,
        ...haltByOperator,
        ...keepTime,
      },
    },
    halted: {
      tags: ['entries-denied', 'degraded', 'needs-operator'],
      entry: 'announce halt',
      on: {
        // Resuming takes the boot path again: nothing runs on state that was not reconciled.
        // An operator's resume is a fresh start for supervision too.
        'runtime.resume': { target: 'restoring', actions: ['forget restarts', 'announce resume'] },
        'runtime.drain': { target: 'draining' },
        'supervisor.child.crashed': { actions: ['record time', 'ignore a crash outside supervision'] },
        ...keepTime,
      },
    },
    draining: {
      tags: ['entries-denied'],
      entry: ['start drain', 'request drain'],
      on: {
        'runtime.drained': { target: 'stopped', actions: { type: 'record stop', params: { forced: false } } },
        'supervisor.child.crashed': { actions: ['record time', 'ignore a crash outside supervision'] },
        'clock.tick': [
          {
            guard: 'is the drain overdue',
            target: 'stopped',
            actions: ['record time', { type: 'record stop', params: { forced: true } }],
          },
          { actions: 'record time' },
        ],
      },
    },
    stopped: {
      type: 'final',
      tags: ['terminal', 'entries-denied'],
      entry: 'announce stop',
    },
  },
});

export type RuntimeSnapshot = SnapshotFrom<typeof runtimeMachine>;

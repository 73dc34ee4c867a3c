/**
 * Runs a canonical machine as a root actor with strict or lenient handling of refused events.
 * Guarantees: strict mode throws a TransitionError from `send` naming the state the actor was
 * in and the event, and the actor does not move; lenient mode records the anomaly through
 * `onAnomaly` and keeps running. Every root actor gets an error observer, so an action that
 * throws never becomes an uncaught exception that kills the process.
 */
import {
  createActor,
  type AnyActorLogic,
  type AnyStateMachine,
  type Actor,
  type ActorOptions,
  type EventFromLogic,
  type InputFrom,
  type SnapshotFrom,
  type StateValue,
} from 'xstate';
import { TransitionError } from '../domain/errors.js';

export type LifecycleMode = 'strict' | 'lenient';

export interface Anomaly {
  machine: string;
  state: string;
  event: string;
}

export interface CheckedActorOptions<TLogic extends AnyStateMachine> {
  mode: LifecycleMode;
  input?: InputFrom<TLogic>;
  clock?: ActorOptions<TLogic>['clock'];
  snapshot?: SnapshotFrom<TLogic>;
  id?: string;
  /** Called for every refused event in lenient mode (strict mode throws instead). */
  onAnomaly?: (anomaly: Anomaly) => void;
  /** Called when an action or guard throws and the actor dies. */
  onError?: (error: unknown) => void;
  inspect?: ActorOptions<TLogic>['inspect'];
}

/** Renders a (possibly compound or parallel) state value as `a.b, c.d`. */
export function describeState(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([key, child]) => {
      if (child === undefined) return key;
      const inner = describeState(child);
      return inner.includes(', ')
        ? inner
            .split(', ')
            .map((part) => `${key}.${part}`)
            .join(', ')
        : `${key}.${inner}`;
    })
    .join(', ');
}

export interface CheckedActor<TLogic extends AnyStateMachine> {
  readonly actor: Actor<TLogic>;
  readonly mode: LifecycleMode;
  /** Sends an event; in strict mode throws TransitionError if the current state refuses it. */
  send(event: EventFromLogic<TLogic>): void;
  getSnapshot(): SnapshotFrom<TLogic>;
  stop(): void;
}

export function createCheckedActor<TLogic extends AnyStateMachine>(
  machine: TLogic,
  options: CheckedActorOptions<TLogic>,
): CheckedActor<TLogic> {
  const actorOptions: Record<string, unknown> = {};
  if (options.input !== undefined) actorOptions.input = options.input;
  if (options.clock !== undefined) actorOptions.clock = options.clock;
  if (options.snapshot !== undefined) actorOptions.snapshot = options.snapshot;
  if (options.id !== undefined) actorOptions.id = options.id;
  if (options.inspect !== undefined) actorOptions.inspect = options.inspect;
  const actor = createActor(machine as AnyActorLogic, actorOptions) as unknown as Actor<TLogic>;

  let refused: string | undefined;
  actor.on('lifecycle.refused', (emitted: { event: string }) => {
    refused = emitted.event;
  });
  actor.subscribe({
    error: (error: unknown) => {
      if (options.onError) options.onError(error);
    },
  });
  actor.start();

  return {
    actor,
    mode: options.mode,
    send(event) {
      const before = describeState((actor.getSnapshot() as { value: StateValue }).value);
      refused = undefined;
      actor.send(event);
      if (refused === undefined) return;
      const anomaly: Anomaly = { machine: machine.id, state: before, event: refused };
      refused = undefined;
      if (options.mode === 'strict') throw new TransitionError(anomaly.machine, anomaly.state, anomaly.event);
      options.onAnomaly?.(anomaly);
    },
    getSnapshot: () => actor.getSnapshot(),
    stop: () => actor.stop(),
  };
}

export type { AnyActorLogic };

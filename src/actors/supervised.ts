/**
 * A checked actor under a supervisor: when an action or guard throws, the actor is restarted from
 * the snapshot it had before the event that crashed it, within a restart intensity; past it, the
 * supervisor gives up once and says so.
 * Invariants: the crashing event is dropped and reported, never replayed (it would crash again);
 * handlers for emitted events survive restarts; a strict-mode refusal is the caller's error, not a
 * crash, and still throws; after giving up, `send` changes nothing and is reported, and
 * `gaveUp()` stays true so the owner can fail safe (deny entries).
 */
import type { AnyStateMachine, EmittedFrom, EventFromLogic, SnapshotFrom } from 'xstate';
import { createCheckedActor, type CheckedActor, type CheckedActorOptions } from './checked-actor.js';
import { recordRestart, type RestartIntensity } from '../domain/restart-window.js';

export interface CrashReport {
  /** The supervised child, e.g. `kill-switch` or `position-belief:BTCUSDT`. */
  name: string;
  error: unknown;
  /** The event that crashed it (dropped). */
  event: string;
  /** Restarts inside the current window, this one included. */
  restarts: number;
}

export interface SupervisedOptions<TLogic extends AnyStateMachine> extends Omit<
  CheckedActorOptions<TLogic>,
  'onError'
> {
  name: string;
  now: () => number;
  intensity: RestartIntensity;
  /** Called after each restart. */
  onRestart: (report: CrashReport) => void;
  /** Called once, when a crash goes past the intensity; the actor stays down. */
  onGiveUp: (report: CrashReport & { windowMs: number }) => void;
  /** Called for each event sent after giving up (it changes nothing). */
  onDropped?: (event: string) => void;
}

export interface SupervisedActor<TLogic extends AnyStateMachine> {
  send(event: EventFromLogic<TLogic>): void;
  getSnapshot(): SnapshotFrom<TLogic>;
  /** Subscribes to an emitted event type on this actor and on every restart of it. */
  on<TType extends EmittedFrom<TLogic>['type']>(
    type: TType,
    handler: (event: EmittedFrom<TLogic> & { type: TType }) => void,
  ): void;
  restarts(): number;
  gaveUp(): boolean;
  stop(): void;
}

/**
 * Starts a supervised actor.
 *
 * @example
 * const controller = createSupervisedActor(beliefControllerMachine, { mode: 'lenient', name: 'belief-controller',
 *   now: () => clock.now(), intensity: { maxRestarts: 3, windowMs: 60_000 }, onRestart, onGiveUp });
 */
export function createSupervisedActor<TLogic extends AnyStateMachine>(
  machine: TLogic,
  options: SupervisedOptions<TLogic>,
): SupervisedActor<TLogic> {
  const handlers: Array<[string, (event: never) => void]> = [];
  let crash: unknown = undefined;
  let crashed = false;
  let history: number[] = [];
  let total = 0;
  let down = false;

  function start(snapshot?: SnapshotFrom<TLogic>): CheckedActor<TLogic> {
    const {
      name: _name,
      now: _now,
      intensity: _intensity,
      onRestart: _r,
      onGiveUp: _g,
      onDropped: _d,
      ...checked
    } = options;
    const actor = createCheckedActor(machine, {
      ...checked,
      ...(snapshot === undefined ? {} : { snapshot }),
      onError: (error) => {
        crashed = true;
        crash = error;
      },
    });
    for (const [type, handler] of handlers) actor.actor.on(type, handler as (event: unknown) => void);
    return actor;
  }

  let current = start(options.snapshot);

  return {
    send(event) {
      const type = (event as { type: string }).type;
      if (down) {
        options.onDropped?.(type);
        return;
      }
      // The snapshot before the event: immutable, so keeping the reference costs nothing.
      const before = current.getSnapshot();
      crashed = false;
      current.send(event);
      if (!crashed) return;
      const error = crash;
      crash = undefined;
      crashed = false;
      const counted = recordRestart(history, options.now(), options.intensity);
      history = counted.history;
      const report: CrashReport = { name: options.name, error, event: type, restarts: history.length };
      if (counted.exceeded) {
        down = true;
        options.onGiveUp({ ...report, windowMs: options.intensity.windowMs });
        return;
      }
      total += 1;
      current.stop();
      const persisted = machine.getPersistedSnapshot(before) as SnapshotFrom<TLogic>;
      current = start(persisted);
      options.onRestart(report);
    },
    getSnapshot: () => current.getSnapshot(),
    on(type, handler) {
      handlers.push([type, handler]);
      current.actor.on(type, handler);
    },
    restarts: () => total,
    gaveUp: () => down,
    stop: () => current.stop(),
  };
}

/** What a supervised child needs from its supervisor: its name, the time, the intensity and the two reports. */
export interface ChildSupervision {
  name: string;
  now: () => number;
  intensity: RestartIntensity;
  onRestart: (report: CrashReport) => void;
  onGiveUp: (report: CrashReport & { windowMs: number }) => void;
  onDropped: (event: string) => void;
}

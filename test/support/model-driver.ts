/**
 * Drives a generated model path through a real checked actor, the way every canonical model test
 * does: strict mode (the probe event must be refused with a TransitionError, every other event
 * must be accepted), a SimulatedClock, transition coverage through inspection, and at each step
 * the actor's state value, tags and relevant context compared with the model's snapshot, plus the
 * machine's own invariants over the snapshot and the commands the step emitted. "Relevant context"
 * is what the model's `serializeState` keeps: the traversal stores one snapshot per key, so the
 * fields a key drops may legitimately differ from the ones this path produced.
 */
import { expect } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine, EventFromLogic, InputFrom } from 'xstate';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import { TransitionError } from '../../src/domain/errors.js';
import { PROBE_EVENT, TransitionCoverage, forwardEveryEvent } from './model.js';

export interface StepView {
  /** The actor's snapshot after the step. */
  snapshot: AnyMachineSnapshot;
  /** The snapshot before the step (the initial snapshot for the first step). */
  previous: AnyMachineSnapshot;
  /** The event the step sent. */
  event: AnyEventObject;
  /** Everything the machine emitted while handling the step. */
  emitted: AnyEventObject[];
}

export interface ModelDriverOptions<TMachine extends AnyStateMachine> {
  /** The same projection the model's traversal uses as its state key. */
  serializeState: (snapshot: AnyMachineSnapshot) => string;
  input?: InputFrom<TMachine>;
  /** Machine-specific invariants, checked after every step. */
  invariant?: (step: StepView) => void;
}

interface TestablePath {
  test(params: {
    states: Record<string, (snapshot: AnyMachineSnapshot) => void>;
    events: ReturnType<typeof forwardEveryEvent>;
  }): Promise<unknown>;
}

export function createModelDriver<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: ModelDriverOptions<TMachine>,
) {
  const coverage = new TransitionCoverage(machine);

  async function run(path: TestablePath): Promise<void> {
    const sut = createCheckedActor(machine, {
      mode: 'strict',
      clock: new SimulatedClock(),
      inspect: coverage.inspect,
      ...(options.input === undefined ? {} : { input: options.input }),
    });
    const emitted: AnyEventObject[] = [];
    sut.actor.on('*', (event: AnyEventObject) => emitted.push(event));
    let previous = sut.getSnapshot() as AnyMachineSnapshot;
    let lastEvent: AnyEventObject = { type: 'xstate.init' };

    await path.test({
      states: {
        '*': (model) => {
          const actual = sut.getSnapshot() as AnyMachineSnapshot;
          expect(actual.value).toEqual(model.value);
          expect(options.serializeState(actual)).toEqual(options.serializeState(model));
          expect([...actual.tags].sort()).toEqual([...model.tags].sort());
          options.invariant?.({ snapshot: actual, previous, event: lastEvent, emitted: [...emitted] });
          previous = actual;
          emitted.length = 0;
        },
      },
      events: forwardEveryEvent((event) => {
        lastEvent = event;
        // A finished actor takes no more events (xstate only warns), so only a running one can
        // refuse the probe; a finished one must simply be done.
        const status = (sut.getSnapshot() as AnyMachineSnapshot).status;
        if (event.type === PROBE_EVENT.type && status === 'active') {
          expect(() => sut.send(event as EventFromLogic<TMachine>)).toThrow(TransitionError);
        } else if (event.type === PROBE_EVENT.type) {
          expect(status).toBe('done');
        } else {
          sut.send(event as EventFromLogic<TMachine>);
        }
      }),
    });
    sut.stop();
  }

  return { coverage, run };
}

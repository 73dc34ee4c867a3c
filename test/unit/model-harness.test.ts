import { describe, expect, it } from 'vitest';
import { emit, setup } from 'xstate';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import {
  STRICT_ACTION,
  STRICT_GUARD,
  isNotInternalEvent,
  refusedEvent,
  strictWildcard,
} from '../../src/machines/strict.js';
import {
  TransitionCoverage,
  canonicalTestModel,
  forwardEveryEvent,
  listTransitions,
} from '../support/model.js';

type DoorEvent = { type: 'door.open' } | { type: 'door.close' } | { type: 'door.lock'; code: number };

const door = setup({
  types: { events: {} as DoorEvent, emitted: {} as ReturnType<typeof refusedEvent> },
  guards: {
    [STRICT_GUARD]: isNotInternalEvent,
    'is the right code': ({ event }) => event.type === 'door.lock' && event.code === 1,
  },
  actions: { [STRICT_ACTION]: emit(({ event }) => refusedEvent(event)) },
}).createMachine({
  id: 'door',
  initial: 'closed',
  on: { ...strictWildcard },
  states: {
    closed: { on: { 'door.open': 'open', 'door.lock': { guard: 'is the right code', target: 'locked' } } },
    open: { on: { 'door.close': 'closed' } },
    locked: {},
  },
});

describe('model harness', () => {
  it('lists every declared transition, including the strict-mode wildcard', () => {
    expect(listTransitions(door).sort()).toEqual([
      'door on * #0',
      'door.closed on door.lock #0',
      'door.closed on door.open #0',
      'door.open on door.close #0',
    ]);
  });

  it('reports the transitions a run did not take', () => {
    const coverage = new TransitionCoverage(door);
    const sut = createCheckedActor(door, { mode: 'lenient', inspect: coverage.inspect });
    sut.send({ type: 'door.open' });
    expect(coverage.uncovered().sort()).toEqual([
      'door on * #0',
      'door.closed on door.lock #0',
      'door.open on door.close #0',
    ]);
  });

  it('generates paths that, driven through the actor, cover every transition', async () => {
    const coverage = new TransitionCoverage(door);
    const model = canonicalTestModel(door, {
      events: [
        { type: 'door.lock', code: 1 },
        { type: 'door.lock', code: 2 },
      ],
    });
    const paths = model.getShortestPaths();
    expect(paths.some((path) => path.description.includes('probe.unhandled'))).toBe(true);
    for (const path of paths) {
      const sut = createCheckedActor(door, { mode: 'lenient', inspect: coverage.inspect });
      await path.test({
        states: { '*': (snapshot) => expect(sut.getSnapshot().value).toEqual(snapshot.value) },
        events: forwardEveryEvent((event) => sut.send(event as DoorEvent)),
      });
    }
    expect(coverage.uncovered()).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { emit, setup } from 'xstate';
import { createCheckedActor, describeState } from '../../src/actors/checked-actor.js';
import { TransitionError } from '../../src/domain/errors.js';
import {
  STRICT_ACTION,
  STRICT_GUARD,
  isNotInternalEvent,
  refusedEvent,
  strictWildcard,
} from '../../src/machines/strict.js';

const door = setup({
  types: {
    events: {} as { type: 'door.open' } | { type: 'door.close' },
    emitted: {} as ReturnType<typeof refusedEvent>,
  },
  guards: { [STRICT_GUARD]: isNotInternalEvent },
  actions: { [STRICT_ACTION]: emit(({ event }) => refusedEvent(event)) },
}).createMachine({
  id: 'door',
  initial: 'closed',
  on: { ...strictWildcard },
  states: {
    closed: { on: { 'door.open': 'open' } },
    open: { on: { 'door.close': 'closed' } },
  },
});

describe('checked actor', () => {
  it('throws a TransitionError naming the state and the event in strict mode, and does not move', () => {
    const door1 = createCheckedActor(door, { mode: 'strict' });
    expect(() => door1.send({ type: 'door.close' })).toThrow(TransitionError);
    try {
      door1.send({ type: 'door.close' });
    } catch (error) {
      expect(error).toMatchObject({
        code: 'KEEL_ERR_TRANSITION',
        state: 'closed',
        event: 'door.close',
        machine: 'door',
      });
    }
    expect(door1.getSnapshot().value).toBe('closed');
  });

  it('reports the anomaly and keeps running in lenient mode', () => {
    const anomalies: unknown[] = [];
    const door1 = createCheckedActor(door, {
      mode: 'lenient',
      onAnomaly: (anomaly) => anomalies.push(anomaly),
    });
    door1.send({ type: 'door.close' });
    door1.send({ type: 'door.open' });
    expect(anomalies).toEqual([{ machine: 'door', state: 'closed', event: 'door.close' }]);
    expect(door1.getSnapshot().value).toBe('open');
  });

  it('renders nested and parallel state values as dotted paths', () => {
    expect(describeState({ working: 'open', request: { cancel: 'pending' } })).toBe(
      'working.open, request.cancel.pending',
    );
  });
});

/**
 * A machine that uses every construct the diagram generator must draw: compound, parallel and final
 * states, history, guarded (plain and composed) and targetless transitions, `always`, `onDone`,
 * a root-level transition, the root '*' strict hook, tags, descriptions, entry actions, and state
 * keys Mermaid could misread (a colon, a reserved word). The viz tests prove the converter on it.
 */
import { and, emit, not, setup } from 'xstate';
import {
  STRICT_ACTION,
  STRICT_GUARD,
  isNotInternalEvent,
  refusedEvent,
  strictWildcard,
} from '../../src/machines/strict.js';

type FixtureEvent =
  | { type: 'order.submit' }
  | { type: 'venue.order.accepted' }
  | { type: 'venue.order.filled'; qty: number }
  | { type: 'intent.cancel' }
  | { type: 'clock.tick'; now: number }
  | { type: 'supervisor.start' }
  | { type: 'supervisor.resume' }
  | { type: 'stream.lost' }
  | { type: 'stream.restored' }
  | { type: 'kill.trip' };

/** A fresh, structurally identical machine on every call (determinism is checked across two). */
export function createFixtureMachine() {
  return setup({
    types: { events: {} as FixtureEvent, emitted: {} as ReturnType<typeof refusedEvent> },
    guards: {
      [STRICT_GUARD]: isNotInternalEvent,
      'is within risk limits': () => true,
      'is complete fill': () => false,
      'is past ack deadline': () => false,
      'is lookup pending': () => false,
      'is reconcile due': () => true,
      'is reconcile complete': () => true,
    },
    actions: {
      [STRICT_ACTION]: emit(({ event }) => refusedEvent(event)),
      'record risk block': () => {},
      'submit order': () => {},
      'record partial fill': () => {},
      'request order lookup': () => {},
      'request reconcile': () => {},
    },
  }).createMachine({
    id: 'viz-fixture',
    description: 'Every construct the diagram generator draws.',
    initial: 'idle',
    on: { ...strictWildcard, 'kill.trip': { target: '.halted' } },
    states: {
      idle: {
        description: 'Nothing sent yet.',
        on: {
          'order.submit': [
            { guard: 'is within risk limits', target: 'working' },
            { target: 'rejected', actions: 'record risk block' },
          ],
          'supervisor.start': 'supervised',
        },
      },
      working: {
        tags: ['in-flight'],
        entry: 'submit order',
        initial: 'awaiting-ack',
        onDone: 'end',
        states: {
          'awaiting-ack': {
            on: {
              'venue.order.accepted': 'open',
              'clock.tick': {
                guard: and(['is past ack deadline', not('is lookup pending')]),
                actions: 'request order lookup',
              },
            },
          },
          open: {
            on: {
              'venue.order.filled': [
                { guard: 'is complete fill', target: 'filled' },
                { actions: 'record partial fill' },
              ],
              'intent.cancel': 'cancel: pending',
            },
          },
          'cancel: pending': { tags: ['needs-reconcile'] },
          filled: { type: 'final' },
        },
      },
      supervised: {
        type: 'parallel',
        states: {
          stream: {
            initial: 'connected',
            states: {
              connected: { on: { 'stream.lost': 'disconnected' } },
              disconnected: { on: { 'stream.restored': 'connected' } },
              resume: { type: 'history', history: 'deep' },
            },
          },
          reconcile: {
            initial: 'waiting',
            states: {
              waiting: {
                on: {
                  'clock.tick': {
                    guard: 'is reconcile due',
                    target: 'running',
                    actions: 'request reconcile',
                  },
                },
              },
              running: { always: { guard: 'is reconcile complete', target: 'waiting' } },
            },
          },
        },
        on: { 'supervisor.resume': { target: '.stream.resume' } },
      },
      halted: { tags: ['terminal'] },
      rejected: { type: 'final', tags: ['terminal'] },
      end: { type: 'final', tags: ['terminal'] },
    },
  });
}

export const fixtureMachine = createFixtureMachine();

/** States below the root and declared transitions of the fixture, counted by hand from the config above. */
export const FIXTURE_STATE_COUNT = 17;
export const FIXTURE_TRANSITION_COUNT = 16;

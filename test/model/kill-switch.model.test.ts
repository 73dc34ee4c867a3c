import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { AnyMachineSnapshot } from 'xstate';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import { admit } from '../../src/domain/admission.js';
import { DEFAULT_BELIEF_CONTROLLER_CONFIG, knobsForMode } from '../../src/domain/belief.js';
import {
  DEFAULT_KILL_SWITCH_CONFIG,
  killSwitchMachine,
  killSwitchView,
  type KillSwitchContext,
  type KillSwitchEvent,
  type KillSwitchSnapshot,
} from '../../src/machines/kill-switch.machine.js';
import { canonicalTestModel } from '../support/model.js';
import { createModelDriver } from '../support/model-driver.js';

const HALT_MS = DEFAULT_KILL_SWITCH_CONFIG.autoResetAfterMs.reconcile_mismatch_streak ?? 0;
const T0 = 1_000;
const AFTER_HALT = T0 + HALT_MS;

const events: KillSwitchEvent[] = [
  { type: 'kill.trip', trigger: 'operator', reason: 'manual stop', by: 'alice', now: T0 },
  {
    type: 'kill.trip',
    trigger: 'reconcile_mismatch_streak',
    reason: 'mismatch streak 7 > 6',
    evidence: { streak: 7 },
    now: T0,
  },
  { type: 'kill.reset', by: 'alice', reason: 'venue checked by hand' },
  { type: 'clock.tick', now: T0 },
  { type: 'clock.tick', now: AFTER_HALT },
];

function serializeState(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as KillSwitchContext;
  return JSON.stringify([
    snapshot.value,
    context.trip?.trigger ?? null,
    [...new Set(context.additionalTrips.map((trip) => trip.trigger))].sort(),
    context.autoResetAt,
    context.now,
  ]);
}

const entry = { action: 'submit', kind: 'ENTRY', notional: 1 } as const;
const knobs = knobsForMode('GREEN', DEFAULT_BELIEF_CONTROLLER_CONFIG);

const driver = createModelDriver(killSwitchMachine, {
  serializeState,
  invariant: ({ snapshot, previous, emitted }) => {
    const view = killSwitchView(snapshot as KillSwitchSnapshot);
    const tripped = snapshot.hasTag('latched');
    expect(snapshot.hasTag('entries-denied')).toBe(tripped);
    expect(admit(entry, { killSwitch: view, knobs }).admitted).toBe(!tripped);
    expect(admit({ action: 'cancel' }, { killSwitch: view, knobs }).admitted).toBe(true);
    expect(
      admit({ action: 'submit', kind: 'SL', reduce_only: true }, { killSwitch: view, knobs }).admitted,
    ).toBe(true);
    const types = emitted.map((event) => event.type);
    if (tripped && !previous.hasTag('latched')) expect(types).toContain('kill.tripped');
    if (!tripped && previous.hasTag('latched')) expect(types).toContain('kill.reset.done');
  },
});

describe('kill-switch model', () => {
  const paths = canonicalTestModel(killSwitchMachine, { events, serializeState }).getShortestPaths();

  for (const path of paths) {
    it(path.description, async () => {
      await driver.run(path);
    });
  }

  it('covers every transition of kill-switch', () => {
    expect(driver.coverage.uncovered()).toEqual([]);
  });
});

describe('kill-switch behaviour', () => {
  const start = () => createCheckedActor(killSwitchMachine, { mode: 'strict', clock: new SimulatedClock() });

  it('stays latched and records the extra trigger when tripped again', () => {
    const sut = start();
    sut.send({ type: 'kill.trip', trigger: 'belief_red', reason: 'RED', now: 10 });
    sut.send({ type: 'kill.trip', trigger: 'error_storm', reason: '50 errors in 60 s', now: 20 });
    const { context } = sut.getSnapshot();
    expect(sut.getSnapshot().hasTag('latched')).toBe(true);
    expect(context.trip?.trigger).toBe('belief_red');
    expect(context.additionalTrips.map((trip) => trip.trigger)).toEqual(['error_storm']);
  });

  it('resets by policy only once the halt duration of an auto-reset trigger has elapsed', () => {
    const sut = start();
    sut.send({ type: 'kill.trip', trigger: 'reconcile_mismatch_streak', reason: 'storm', now: 1_000 });
    sut.send({ type: 'clock.tick', now: 1_000 + HALT_MS - 1 });
    expect(sut.getSnapshot().value).toBe('tripped');
    sut.send({ type: 'clock.tick', now: 1_000 + HALT_MS });
    expect(sut.getSnapshot().value).toBe('armed');
    expect(sut.getSnapshot().context.lastReset).toMatchObject({ by: 'policy', byPolicy: true });
  });

  it('waits for an operator when an operator-only trigger joins an auto-reset trip', () => {
    const sut = start();
    sut.send({ type: 'kill.trip', trigger: 'reconcile_mismatch_streak', reason: 'storm', now: 1_000 });
    sut.send({ type: 'kill.trip', trigger: 'operator', reason: 'look at this', by: 'bob', now: 2_000 });
    sut.send({ type: 'clock.tick', now: 10 * HALT_MS });
    expect(sut.getSnapshot().value).toBe('tripped');
    sut.send({ type: 'kill.reset', by: 'bob', reason: 'checked' });
    expect(sut.getSnapshot().value).toBe('armed');
  });

  it('never shortens the halt when a later auto-reset trip arrives', () => {
    const sut = start();
    sut.send({ type: 'kill.trip', trigger: 'reconcile_mismatch_streak', reason: 'storm', now: 1_000 });
    sut.send({ type: 'kill.trip', trigger: 'reconcile_mismatch_streak', reason: 'again', now: 5_000 });
    sut.send({ type: 'clock.tick', now: 1_000 + HALT_MS });
    expect(sut.getSnapshot().value).toBe('tripped');
    sut.send({ type: 'clock.tick', now: 5_000 + HALT_MS });
    expect(sut.getSnapshot().value).toBe('armed');
  });

  it('keeps its latch and halt across a JSON round trip of the persisted snapshot', () => {
    const sut = start();
    sut.send({ type: 'kill.trip', trigger: 'reconcile_mismatch_streak', reason: 'storm', now: 1_000 });
    const persisted: unknown = JSON.parse(JSON.stringify(sut.actor.getPersistedSnapshot()));
    sut.stop();
    const restored = createCheckedActor(killSwitchMachine, {
      mode: 'strict',
      snapshot: persisted as KillSwitchSnapshot,
    });
    expect(restored.getSnapshot().hasTag('latched')).toBe(true);
    restored.send({ type: 'clock.tick', now: 1_000 + HALT_MS });
    expect(restored.getSnapshot().value).toBe('armed');
  });
});

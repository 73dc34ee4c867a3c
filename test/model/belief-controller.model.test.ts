import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { AnyMachineSnapshot } from 'xstate';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import { allowsNoMoreThan, modeRank, type BeliefDebt, type GuardKnobs } from '../../src/domain/belief.js';
import {
  DEFAULT_BELIEF_CONTROLLER_CONFIG,
  beliefControllerMachine,
  type BeliefControllerContext,
  type BeliefControllerEvent,
  type BeliefControllerSnapshot,
} from '../../src/machines/belief-controller.machine.js';
import { canonicalTestModel } from '../support/model.js';
import { createModelDriver } from '../support/model-driver.js';

const config = DEFAULT_BELIEF_CONTROLLER_CONFIG;
const T1 = 10_000;
// Sample times: a short step (a fast rise is a burst), and steps longer than both windows.
const times = [
  T1,
  T1 + 10_000,
  T1 + 10_000 + config.recoveryWindowMs,
  T1 + 10_000 + 2 * config.recoveryWindowMs,
];
// Debt levels with the default weights: none, inside YELLOW's hysteresis band (0.35),
// YELLOW (0.6), ORANGE (1.2) and RED (2.0).
const levels: BeliefDebt[] = [
  { debtSec: 0, debtSymbols: 0, mismatchStreak: 0 },
  { debtSec: 0, debtSymbols: 1, mismatchStreak: 1 },
  { debtSec: 0, debtSymbols: 2, mismatchStreak: 1 },
  { debtSec: 0, debtSymbols: 4, mismatchStreak: 2 },
  { debtSec: 600, debtSymbols: 0, mismatchStreak: 0 },
];
const events: BeliefControllerEvent[] = times.flatMap((now) =>
  levels.map((level) => ({ type: 'belief.debt.sampled' as const, now, ...level })),
);

function serializeState(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as BeliefControllerContext;
  // The last measured growth only feeds reports; guards measure growth afresh from the anchor.
  const { growthAnchor, escalatingSince, recoveringSince } = context.memory;
  return JSON.stringify([snapshot.value, growthAnchor, escalatingSince, recoveringSince, context.now]);
}

const modeOfState = (snapshot: AnyMachineSnapshot) => (snapshot.context as BeliefControllerContext).knobs;

const driver = createModelDriver(beliefControllerMachine, {
  serializeState,
  invariant: ({ snapshot, previous, emitted }) => {
    const knobs: GuardKnobs = modeOfState(snapshot);
    const before: GuardKnobs = modeOfState(previous);
    expect(String(snapshot.value).toUpperCase()).toBe(knobs.mode);
    expect(snapshot.hasTag('entries-denied')).toBe(!knobs.allow_entries);
    const changes = emitted.filter((event) => event.type === 'controller.mode.changed');
    if (knobs.mode === before.mode) {
      expect(changes).toEqual([]);
    } else {
      expect(changes).toMatchObject([{ from: before.mode, to: knobs.mode }]);
      expect(emitted.filter((event) => event.type === 'controller.knobs.published')).toMatchObject([
        { knobs },
      ]);
      if (modeRank(knobs.mode) > modeRank(before.mode)) expect(allowsNoMoreThan(knobs, before)).toBe(true);
      else expect(allowsNoMoreThan(before, knobs)).toBe(true);
    }
    const tripRequested = emitted.some((event) => event.type === 'kill.trip.requested');
    expect(tripRequested).toBe(knobs.mode === 'RED' && before.mode !== 'RED');
  },
});

describe('belief-controller model', () => {
  const paths = canonicalTestModel(beliefControllerMachine, { events, serializeState }).getShortestPaths();

  for (const path of paths) {
    it(path.description, async () => {
      await driver.run(path);
    });
  }

  it('covers every transition of belief-controller', () => {
    expect(driver.coverage.uncovered()).toEqual([]);
  });
});

describe('belief-controller behaviour', () => {
  const start = () =>
    createCheckedActor(beliefControllerMachine, { mode: 'strict', clock: new SimulatedClock() });
  const sample = (now: number, level: BeliefDebt) => ({
    type: 'belief.debt.sampled' as const,
    now,
    ...level,
  });
  const yellowDebt = { debtSec: 0, debtSymbols: 2, mismatchStreak: 1 };

  it('moves up only after the higher threshold has held for the escalation window', () => {
    const sut = start();
    sut.send(sample(0, levels[0] as BeliefDebt));
    sut.send(sample(60_000, yellowDebt));
    expect(sut.getSnapshot().value).toBe('green');
    sut.send(sample(60_000 + config.escalationWindowMs - 1, yellowDebt));
    expect(sut.getSnapshot().value).toBe('green');
    sut.send(sample(60_000 + config.escalationWindowMs, yellowDebt));
    expect(sut.getSnapshot().value).toBe('yellow');
    expect(sut.getSnapshot().context.knobs).toEqual({ ...config.knobs.YELLOW, mode: 'YELLOW' });
  });

  it('trips RED at once on a growth burst before absolute debt accumulates', () => {
    const sut = start();
    sut.send(sample(0, levels[0] as BeliefDebt));
    sut.send(sample(config.growthIntervalMs, { debtSec: 0, debtSymbols: 4, mismatchStreak: 2 }));
    expect(sut.getSnapshot().value).toBe('red');
    expect(sut.getSnapshot().context.score).toBeLessThan(config.thresholds.RED.enter);
  });

  it('survives a JSON round trip of its persisted snapshot and keeps counting its windows', () => {
    const sut = start();
    sut.send(sample(0, levels[0] as BeliefDebt));
    sut.send(sample(60_000, yellowDebt));
    const persisted: unknown = JSON.parse(JSON.stringify(sut.actor.getPersistedSnapshot()));
    sut.stop();
    const restored = createCheckedActor(beliefControllerMachine, {
      mode: 'strict',
      snapshot: persisted as BeliefControllerSnapshot,
    });
    expect(restored.getSnapshot().value).toBe('green');
    restored.send(sample(60_000 + config.escalationWindowMs, yellowDebt));
    expect(restored.getSnapshot().value).toBe('yellow');
  });
});

import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { AnyEventObject, AnyMachineSnapshot } from 'xstate';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import type { Position } from '../../src/domain/position.js';
import type { VenuePositionReport } from '../../src/domain/reconcile.js';
import {
  DEFAULT_RECONCILE_SUPERVISOR_CONFIG,
  reconcileSupervisorMachine,
  type ReconcileSupervisorContext,
  type ReconcileSupervisorEvent,
  type ReconcileSupervisorSnapshot,
} from '../../src/machines/reconcile-supervisor.machine.js';
import { canonicalTestModel } from '../support/model.js';
import { createModelDriver, type StepView } from '../support/model-driver.js';

const config = DEFAULT_RECONCILE_SUPERVISOR_CONFIG;
// The model halts after a streak of 3 instead of 7: the same transitions, far fewer states.
const modelInput = { config: { killMismatchStreakMax: 2 } };
const modelMax = modelInput.config.killMismatchStreakMax;
const T1 = 1_000;
// Far beyond every deadline (fetch, repair, cooldown, interval).
const T2 = 1_000_000;
const long = (qty: number): Position => ({ qty, side: 'long', entryPrice: 100 });
const report = (symbol: string, qty: number): VenuePositionReport => ({ symbol, ...long(qty) });

const events: ReconcileSupervisorEvent[] = [
  { type: 'clock.tick', now: T1 },
  { type: 'clock.tick', now: T2 },
  { type: 'reconcile.requested' },
  { type: 'reconcile.fetch.succeeded', positions: [], openOrders: [] },
  {
    type: 'reconcile.fetch.succeeded',
    positions: [report('BTCUSDT', 1)],
    openOrders: [
      {
        symbol: 'BTCUSDT',
        clientOrderId: 'sl-1',
        qty: 1,
        reduceOnly: true,
        closePosition: false,
        isStop: true,
      },
    ],
  },
  { type: 'reconcile.fetch.succeeded', positions: [report('BTCUSDT', 2)], openOrders: [] },
  { type: 'reconcile.fetch.failed', reason: 'HTTP 503' },
  { type: 'reconcile.repair.succeeded', symbol: 'BTCUSDT' },
  { type: 'reconcile.repair.failed', symbol: 'BTCUSDT', reason: 'venue busy' },
  { type: 'reconcile.repair.succeeded', symbol: 'ETHUSDT' },
  { type: 'reconcile.repair.failed', symbol: 'ETHUSDT', reason: 'venue busy' },
  { type: 'belief.local.changed', symbol: 'BTCUSDT', position: long(1) },
  { type: 'belief.local.changed', symbol: 'BTCUSDT', position: null },
  { type: 'protection.gap.breached', symbol: 'BTCUSDT' },
  { type: 'protection.gap.closed', symbol: 'BTCUSDT' },
];

function serializeState(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as ReconcileSupervisorContext;
  const passed = (deadline: number | null | undefined) =>
    deadline === null || deadline === undefined ? null : deadline <= context.now;
  return JSON.stringify([
    snapshot.value,
    context.local.BTCUSDT?.qty ?? 0,
    context.venue.BTCUSDT?.qty ?? 0,
    Math.min(context.mismatchStreak, modelMax + 1),
    context.killRequested,
    Object.keys(context.mismatches),
    passed(context.repairCooldownUntil.BTCUSDT),
    context.pendingRepairs,
    passed(context.nextDueAt),
    passed(context.fetchDeadline),
    passed(context.repairDeadline),
    context.protectionGaps,
  ]);
}

const ofType = (emitted: AnyEventObject[], type: string) => emitted.filter((event) => event.type === type);

function checkInvariants({ snapshot, previous, emitted }: StepView): void {
  const context = snapshot.context as ReconcileSupervisorContext;
  const before = previous.context as ReconcileSupervisorContext;
  const cycleEnded = snapshot.matches('idle') && !previous.matches('idle');
  expect(ofType(emitted, 'reconcile.summary')).toHaveLength(cycleEnded ? 1 : 0);
  const samples = ofType(emitted, 'belief.debt.sampled');
  expect(samples).toHaveLength(cycleEnded ? 1 : 0);
  for (const sample of samples) expect(sample.debtSymbols).toBe(Object.keys(context.mismatches).length);
  if (cycleEnded && context.diff === null) expect(context.mismatchStreak).toBe(before.mismatchStreak + 1);

  const kills = ofType(emitted, 'kill.trip.requested');
  expect(kills.length).toBeLessThanOrEqual(1);
  if (kills.length > 0) {
    expect(before.killRequested).toBe(false);
    expect(context.mismatchStreak).toBeGreaterThan(context.config.killMismatchStreakMax);
  }
  if (context.mismatchStreak > context.config.killMismatchStreakMax && snapshot.matches('idle'))
    expect(context.killRequested).toBe(true);

  for (const request of ofType(emitted, 'reconcile.repair.requested')) {
    expect(request.repairs.length).toBeLessThanOrEqual(context.config.maxRepairsPerCycle);
    for (const { symbol } of request.repairs as Array<{ symbol: string }>)
      expect(before.repairCooldownUntil[symbol] ?? 0).toBeLessThanOrEqual(context.now);
  }
  expect(snapshot.hasTag('repairing')).toBe(context.pendingRepairs.length > 0);
}

describe('reconcile-supervisor model', () => {
  const driver = createModelDriver(reconcileSupervisorMachine, {
    input: modelInput,
    serializeState,
    invariant: checkInvariants,
  });
  const paths = canonicalTestModel(reconcileSupervisorMachine, {
    events,
    serializeState,
    input: modelInput,
  }).getShortestPaths();

  for (const path of paths) {
    it(path.description, async () => {
      await driver.run(path);
    });
  }

  it('covers every transition of reconcile-supervisor', () => {
    expect(driver.coverage.uncovered()).toEqual([]);
  });
});

describe('reconcile-supervisor behaviour', () => {
  const start = (local: Record<string, Position> = {}) => {
    const sut = createCheckedActor(reconcileSupervisorMachine, {
      mode: 'strict',
      clock: new SimulatedClock(),
      input: { local },
    });
    const emitted: AnyEventObject[] = [];
    sut.actor.on('*', (event: AnyEventObject) => emitted.push(event));
    return { sut, emitted };
  };

  it('raises mismatch pressure when the venue snapshot fails, and requests one halt past the maximum', () => {
    const { sut, emitted } = start();
    for (let cycle = 0; cycle <= config.killMismatchStreakMax + 2; cycle += 1) {
      sut.send({ type: 'reconcile.requested' });
      sut.send({ type: 'reconcile.fetch.failed', reason: 'HTTP 503' });
    }
    expect(sut.getSnapshot().context.mismatchStreak).toBe(config.killMismatchStreakMax + 3);
    expect(ofType(emitted, 'kill.trip.requested')).toHaveLength(1);
    expect(ofType(emitted, 'belief.debt.sampled').at(-1)).toMatchObject({
      mismatchStreak: config.killMismatchStreakMax + 3,
    });
  });

  it('counts an unanswered fetch as failed once its timeout has passed', () => {
    const { sut } = start();
    sut.send({ type: 'clock.tick', now: 1_000 });
    expect(sut.getSnapshot().value).toBe('fetching');
    sut.send({ type: 'clock.tick', now: 1_000 + config.fetchTimeoutMs });
    expect(sut.getSnapshot().value).toBe('idle');
    expect(sut.getSnapshot().context).toMatchObject({
      mismatchStreak: 1,
      lastFetchFailure: 'venue snapshot timed out',
    });
  });

  it('repairs only drift already seen at the previous cycle, at most the per-cycle number, honouring each cooldown', () => {
    const symbols = ['AAAUSDT', 'BBBUSDT', 'CCCUSDT', 'DDDUSDT', 'EEEUSDT'];
    const { sut, emitted } = start(Object.fromEntries(symbols.map((symbol) => [symbol, long(1)])));
    const drifted = symbols.map((symbol) => report(symbol, 2));
    sut.send({ type: 'clock.tick', now: 1_000 });
    sut.send({ type: 'reconcile.fetch.succeeded', positions: drifted, openOrders: [] });
    // First sighting: a fill may still be on its way, so nothing is repaired yet.
    expect(ofType(emitted, 'reconcile.repair.requested')).toEqual([]);
    expect(ofType(emitted, 'reconcile.summary').at(-1)).toMatchObject({ repairSkipped: symbols });

    sut.send({ type: 'clock.tick', now: 1_000 + config.intervalMs });
    sut.send({ type: 'reconcile.fetch.succeeded', positions: drifted, openOrders: [] });
    const first = ofType(emitted, 'reconcile.repair.requested')[0];
    expect(first?.repairs.map((repair: { symbol: string }) => repair.symbol)).toEqual(symbols.slice(0, 3));
    for (const symbol of symbols.slice(0, 3))
      sut.send({ type: 'reconcile.repair.failed', symbol, reason: 'x' });
    expect(sut.getSnapshot().value).toBe('idle');

    sut.send({ type: 'clock.tick', now: 1_000 + 2 * config.intervalMs });
    sut.send({ type: 'reconcile.fetch.succeeded', positions: drifted, openOrders: [] });
    const second = ofType(emitted, 'reconcile.repair.requested')[1];
    expect(second?.repairs.map((repair: { symbol: string }) => repair.symbol)).toEqual(symbols.slice(3));
    for (const symbol of symbols.slice(3)) sut.send({ type: 'reconcile.repair.succeeded', symbol });
    expect(ofType(emitted, 'reconcile.summary').at(-1)).toMatchObject({ repairSkipped: symbols.slice(0, 3) });
  });

  it('counts a protection gap past its TTL as a mismatch until coverage is back', () => {
    const { sut, emitted } = start({ BTCUSDT: long(1) });
    sut.send({ type: 'protection.gap.breached', symbol: 'BTCUSDT' });
    sut.send({ type: 'clock.tick', now: 1_000 });
    sut.send({ type: 'reconcile.fetch.succeeded', positions: [report('BTCUSDT', 1)], openOrders: [] });
    expect(ofType(emitted, 'reconcile.summary').at(-1)).toMatchObject({
      protectionGaps: ['BTCUSDT'],
      mismatchStreak: 1,
    });
    expect(ofType(emitted, 'belief.debt.sampled').at(-1)).toMatchObject({
      debtSymbols: 1,
      mismatchStreak: 1,
    });
    sut.send({ type: 'protection.gap.closed', symbol: 'BTCUSDT' });
    sut.send({ type: 'clock.tick', now: 1_000 + config.intervalMs });
    sut.send({ type: 'reconcile.fetch.succeeded', positions: [report('BTCUSDT', 1)], openOrders: [] });
    expect(ofType(emitted, 'belief.debt.sampled').at(-1)).toMatchObject({
      debtSymbols: 0,
      mismatchStreak: 0,
    });
  });

  it('ages belief debt from the first time a mismatch was seen until it is confirmed', () => {
    const { sut, emitted } = start({ BTCUSDT: long(1) });
    sut.send({ type: 'clock.tick', now: 1_000 });
    sut.send({ type: 'reconcile.fetch.succeeded', positions: [], openOrders: [] });
    sut.send({ type: 'clock.tick', now: 31_000 });
    sut.send({ type: 'reconcile.fetch.failed', reason: 'HTTP 503' });
    expect(ofType(emitted, 'belief.debt.sampled').at(-1)).toEqual({
      type: 'belief.debt.sampled',
      now: 31_000,
      debtSec: 30,
      debtSymbols: 1,
      mismatchStreak: 2,
    });
    sut.send({ type: 'belief.local.changed', symbol: 'BTCUSDT', position: null });
    sut.send({ type: 'clock.tick', now: 61_000 });
    sut.send({ type: 'reconcile.fetch.succeeded', positions: [], openOrders: [] });
    expect(ofType(emitted, 'belief.debt.sampled').at(-1)).toMatchObject({
      debtSec: 0,
      debtSymbols: 0,
      mismatchStreak: 0,
    });
  });

  it('survives a JSON round trip of its persisted snapshot in the middle of a repair round', () => {
    const { sut } = start({ BTCUSDT: long(1) });
    sut.send({ type: 'clock.tick', now: 1_000 });
    sut.send({ type: 'reconcile.fetch.succeeded', positions: [report('BTCUSDT', 2)], openOrders: [] });
    sut.send({ type: 'clock.tick', now: 1_000 + config.intervalMs });
    sut.send({ type: 'reconcile.fetch.succeeded', positions: [report('BTCUSDT', 2)], openOrders: [] });
    expect(sut.getSnapshot().value).toBe('repairing');
    const persisted: unknown = JSON.parse(JSON.stringify(sut.actor.getPersistedSnapshot()));
    sut.stop();
    const restored = createCheckedActor(reconcileSupervisorMachine, {
      mode: 'strict',
      snapshot: persisted as ReconcileSupervisorSnapshot,
    });
    restored.send({ type: 'reconcile.repair.succeeded', symbol: 'BTCUSDT' });
    expect(restored.getSnapshot().value).toBe('idle');
    expect(restored.getSnapshot().context.repairActions).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { AnyEventObject, AnyMachineSnapshot } from 'xstate';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import type { Position } from '../../src/domain/position.js';
import {
  DEFAULT_POSITION_BELIEF_CONFIG,
  positionBeliefMachine,
  type PositionBeliefContext,
  type PositionBeliefEvent,
  type PositionBeliefInput,
  type PositionBeliefSnapshot,
} from '../../src/machines/position-belief.machine.js';
import { canonicalTestModel } from '../support/model.js';
import { createModelDriver, type StepView } from '../support/model-driver.js';

const config = DEFAULT_POSITION_BELIEF_CONFIG;
const input: PositionBeliefInput = { account: 'main', symbol: 'BTCUSDT' };
const T1 = 1_000;
// Ticks far enough apart that every window (grace, TTL, cooldown, timeout) can elapse between them.
const T2 = 1_000_000;
const T3 = 2_000_000;

const long = (qty: number): Position => ({ qty, side: 'long', entryPrice: 100 });
const observe = (venue: Position | null, stopQty: number, closePosition = false): PositionBeliefEvent => ({
  type: 'reconcile.observed',
  now: T1,
  venue,
  protection: { stopQty, closePosition },
});

// Belief-focused events: stops always cover whatever the venue holds, so the protection
// region stays quiet while the belief region is explored.
const beliefEvents: PositionBeliefEvent[] = [
  observe(null, 0),
  observe(long(1), 1),
  observe(long(2), 0, true),
  { type: 'position.fill.applied', qty: 1, side: 'buy', price: 100 },
  { type: 'position.fill.applied', qty: 1, side: 'sell', price: 100 },
  { type: 'position.rebased', position: long(1) },
  { type: 'position.rebased', position: null },
  { type: 'repair.succeeded' },
  { type: 'repair.failed', reason: 'venue busy' },
  { type: 'orphan.adopt', by: 'alice' },
  { type: 'repair.requested' },
  { type: 'protection.gap.asserted', now: T1, reason: 'stage-1 stop refused' },
  { type: 'clock.tick', now: T2 },
  { type: 'clock.tick', now: T3 },
];

/** Keeps local sizes between flat and long 2: larger or short positions add states, not behaviour. */
function boundedBeliefEvents(snapshot: AnyMachineSnapshot): PositionBeliefEvent[] {
  const { local } = snapshot.context as PositionBeliefContext;
  return beliefEvents.filter(
    (event) =>
      event.type !== 'position.fill.applied' ||
      (event.side === 'buy' ? (local?.qty ?? 0) < 2 : local !== null && local.side === 'long'),
  );
}

// Protection-focused events: one long position under every kind of stop coverage, with the
// belief's other events kept so that every event the machine accepts has a real payload.
const protectionInput: PositionBeliefInput = { ...input, local: long(1) };
const protectionEvents = (snapshot: AnyMachineSnapshot): PositionBeliefEvent[] => [
  observe(null, 0),
  observe(long(1), 1),
  observe(long(1), 0),
  observe(long(1), 0.5),
  observe(long(1), 0, true),
  ...boundedBeliefEvents(snapshot).filter((event) => event.type !== 'reconcile.observed'),
];

/**
 * The state key keeps what guards read, with times reduced to "has this deadline passed": every
 * window is far shorter than the gap between ticks, so that is all that decides the next step.
 */
function serializeState(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as PositionBeliefContext;
  const passed = (deadline: number | undefined) => (deadline === undefined ? null : deadline <= context.now);
  const mismatch = context.mismatch;
  return JSON.stringify([
    snapshot.value,
    context.local && [context.local.side, Math.min(context.local.qty, 2)],
    context.venue?.qty ?? 0,
    mismatch && [mismatch.kind, passed(mismatch.firstSeenAt + config.phantomGraceMs)],
    Math.min(context.phantomMisses, config.phantomMissesToClear),
    passed(context.repair?.deadline),
    passed(context.repairNotBefore),
    context.gap?.coverage ?? null,
  ]);
}

/** The protection suite explores coverage; belief details beyond the state value are merged. */
function serializeProtectionState(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as PositionBeliefContext;
  return JSON.stringify([snapshot.value, context.local?.qty ?? 0, context.gap?.coverage ?? null]);
}

const beliefOf = (snapshot: AnyMachineSnapshot) => (snapshot.value as { belief: string }).belief;
// A repair may outlive its mismatch (a late fill explains it): only its outcome ends it.
const MISMATCHED = new Set(['drift', 'phantom-suspect', 'orphan', 'frozen']);
const AGREEING = new Set(['unknown', 'confirmed', 'adopted']);
const ofType = (emitted: AnyEventObject[], type: string) => emitted.filter((event) => event.type === type);

function checkInvariants({ snapshot, previous, emitted }: StepView): void {
  const context = snapshot.context as PositionBeliefContext;
  const before = previous.context as PositionBeliefContext;
  const belief = beliefOf(snapshot);
  if (MISMATCHED.has(belief)) expect(context.mismatch).not.toBeNull();
  if (AGREEING.has(belief)) expect(context.mismatch).toBeNull();
  if (context.mismatch) expect(context.mismatch.firstSeenAt).toBeLessThanOrEqual(context.mismatch.lastSeenAt);
  if (context.local) expect(context.local.qty).toBeGreaterThan(0);
  expect(snapshot.hasTag('protection-gap')).toBe(context.gap !== null);
  expect(snapshot.hasTag('entries-denied')).toBe(
    ['unknown', 'orphan', 'frozen'].includes(belief) || snapshot.hasTag('protection-gap-critical'),
  );

  for (const cleared of ofType(emitted, 'belief.phantom.cleared')) {
    expect(cleared.misses).toBeGreaterThanOrEqual(config.phantomMissesToClear);
    expect(cleared.at - cleared.firstSeenAt).toBeGreaterThanOrEqual(config.phantomGraceMs);
    expect(context.local).toBeNull();
  }
  const repairs = ofType(emitted, 'belief.repair.requested');
  expect(repairs.length).toBe(belief === 'repairing' && beliefOf(previous) !== 'repairing' ? 1 : 0);
  for (const repair of repairs) expect(repair.at).toBeGreaterThanOrEqual(before.repairNotBefore);
  for (const gap of ofType(emitted, 'belief.protection.gap').filter(
    (event) => event.severity === 'critical',
  )) {
    expect(gap.at).toBeGreaterThanOrEqual(gap.deadline);
  }
  if (snapshot.hasTag('protection-gap-critical'))
    expect(context.now).toBeGreaterThanOrEqual(context.gap?.deadline ?? 0);
}

describe('position-belief model', () => {
  const drivers = [
    createModelDriver(positionBeliefMachine, { input, serializeState, invariant: checkInvariants }),
    createModelDriver(positionBeliefMachine, {
      input: { ...input, config: { orphanPolicy: 'adopt' } },
      serializeState,
      invariant: checkInvariants,
    }),
    createModelDriver(positionBeliefMachine, {
      input: protectionInput,
      serializeState: serializeProtectionState,
      invariant: checkInvariants,
    }),
  ] as const;
  const [freeze, adopt, protection] = drivers;
  const model = (
    driverInput: PositionBeliefInput,
    events: typeof boundedBeliefEvents,
    serialize: (snapshot: AnyMachineSnapshot) => string = serializeState,
  ) => canonicalTestModel(positionBeliefMachine, { events, serializeState: serialize, input: driverInput });

  for (const path of model(input, boundedBeliefEvents).getShortestPaths()) {
    it(path.description, async () => {
      await freeze.run(path);
    });
  }

  // The adopt policy only changes what a confirmed orphan becomes: paths to adoption suffice.
  const adoptPaths = model(
    { ...input, config: { orphanPolicy: 'adopt' } },
    boundedBeliefEvents,
  ).getShortestPaths({
    toState: (snapshot) => snapshot.matches({ belief: 'adopted' }),
  });
  for (const path of adoptPaths) {
    it(`with orphanPolicy adopt: ${path.description}`, async () => {
      await adopt.run(path);
    });
  }

  for (const path of model(protectionInput, protectionEvents, serializeProtectionState).getShortestPaths()) {
    it(`protection: ${path.description}`, async () => {
      await protection.run(path);
    });
  }

  it('covers every transition of position-belief', () => {
    const uncovered = drivers.map((driver) => new Set(driver.coverage.uncovered()));
    const [first, ...rest] = uncovered;
    expect([...(first ?? [])].filter((key) => rest.every((set) => set.has(key)))).toEqual([]);
  });
});

describe('position-belief behaviour', () => {
  const start = (overrides: Partial<PositionBeliefInput> = {}) =>
    createCheckedActor(positionBeliefMachine, {
      mode: 'strict',
      clock: new SimulatedClock(),
      input: { ...input, ...overrides },
    });
  const emittedBy = (sut: ReturnType<typeof start>) => {
    const emitted: AnyEventObject[] = [];
    sut.actor.on('*', (event: AnyEventObject) => emitted.push(event));
    return emitted;
  };
  const flat = (now: number): PositionBeliefEvent => ({
    type: 'reconcile.observed',
    now,
    venue: null,
    protection: { stopQty: 0, closePosition: false },
  });

  it('keeps a phantom until both the grace period and N consecutive misses have passed', () => {
    const sut = start({ local: long(1) });
    const emitted = emittedBy(sut);
    sut.send(flat(0));
    sut.send(flat(config.phantomGraceMs + 1));
    expect(sut.getSnapshot().matches({ belief: 'phantom-suspect' })).toBe(true);
    sut.send(flat(config.phantomGraceMs + 2));
    expect(sut.getSnapshot().matches({ belief: 'confirmed' })).toBe(true);
    expect(sut.getSnapshot().context.local).toBeNull();
    expect(ofType(emitted, 'belief.phantom.cleared')).toHaveLength(1);
  });

  it('does not clear a phantom on many quick misses inside the grace period', () => {
    const sut = start({ local: long(1) });
    for (let index = 0; index < 10; index += 1) sut.send(flat(index));
    expect(sut.getSnapshot().matches({ belief: 'phantom-suspect' })).toBe(true);
    expect(sut.getSnapshot().context.mismatch).toMatchObject({
      kind: 'phantom',
      firstSeenAt: 0,
      lastSeenAt: 9,
    });
  });

  it('repairs drift only when asked, and waits out the cooldown after a failed repair', () => {
    const sut = start({ local: long(1) });
    const emitted = emittedBy(sut);
    const drifted = (now: number): PositionBeliefEvent => ({
      type: 'reconcile.observed',
      now,
      venue: long(2),
      protection: { stopQty: 2, closePosition: false },
    });
    sut.send(drifted(0));
    sut.send(drifted(1_000));
    // Drift seen again is still only drift: the supervisor decides when a repair runs.
    expect(sut.getSnapshot().matches({ belief: 'drift' })).toBe(true);
    sut.send({ type: 'repair.requested' });
    expect(sut.getSnapshot().matches({ belief: 'repairing' })).toBe(true);
    sut.send({ type: 'repair.failed', reason: 'rate limited' });
    sut.send(drifted(2_000));
    sut.send({ type: 'repair.requested' });
    expect(sut.getSnapshot().matches({ belief: 'drift' })).toBe(true);
    expect(ofType(emitted, 'lifecycle.ignored').map((event) => event.reason)).toEqual([
      'a failed repair of this symbol is still cooling down',
    ]);
    sut.send(drifted(1_000 + config.repairCooldownMs));
    sut.send({ type: 'repair.requested' });
    expect(sut.getSnapshot().matches({ belief: 'repairing' })).toBe(true);
    sut.send({ type: 'repair.succeeded' });
    expect(sut.getSnapshot().context.local).toEqual(long(2));
    expect(ofType(emitted, 'belief.repair.requested')).toHaveLength(2);
    expect(sut.getSnapshot().context.mismatch).toBeNull();
  });

  it('opens a protection gap at once when stage-1 protection is asserted to have failed', () => {
    const sut = start({ local: long(1) });
    const emitted = emittedBy(sut);
    sut.send({ type: 'protection.gap.asserted', now: 5_000, reason: 'stop refused: -2021' });
    expect(sut.getSnapshot().hasTag('protection-gap')).toBe(true);
    expect(sut.getSnapshot().context.gap).toEqual({
      coverage: 'unprotected',
      since: 5_000,
      deadline: 5_000 + config.protectionGapTtlMs,
      reason: 'stop refused: -2021',
    });
    sut.send({ type: 'clock.tick', now: 5_000 + config.protectionGapTtlMs });
    expect(sut.getSnapshot().hasTag('protection-gap-critical')).toBe(true);
    expect(ofType(emitted, 'belief.protection.gap').map((event) => [event.severity, event.reason])).toEqual([
      ['warning', 'stop refused: -2021'],
      ['critical', 'stop refused: -2021'],
    ]);
  });

  it('reports a protection gap as critical once its TTL has passed, and its end', () => {
    const sut = start({ local: long(1) });
    const emitted = emittedBy(sut);
    sut.send({
      type: 'reconcile.observed',
      now: 0,
      venue: long(1),
      protection: { stopQty: 0, closePosition: false },
    });
    sut.send({ type: 'clock.tick', now: config.protectionGapTtlMs - 1 });
    expect(sut.getSnapshot().hasTag('protection-gap-critical')).toBe(false);
    sut.send({ type: 'clock.tick', now: config.protectionGapTtlMs });
    expect(sut.getSnapshot().hasTag('protection-gap-critical')).toBe(true);
    sut.send({
      type: 'reconcile.observed',
      now: 40_000,
      venue: long(1),
      protection: { stopQty: 1, closePosition: false },
    });
    expect(ofType(emitted, 'belief.protection.gap').map((event) => event.severity)).toEqual([
      'warning',
      'critical',
    ]);
    expect(ofType(emitted, 'belief.protection.restored')).toHaveLength(1);
    expect(sut.getSnapshot().matches({ protection: 'covered' })).toBe(true);
  });

  it('survives a JSON round trip of its persisted snapshot and finishes clearing a phantom', () => {
    const sut = start({ local: long(1) });
    sut.send(flat(0));
    sut.send(flat(1));
    const persisted: unknown = JSON.parse(JSON.stringify(sut.actor.getPersistedSnapshot()));
    sut.stop();
    const restored = createCheckedActor(positionBeliefMachine, {
      mode: 'strict',
      snapshot: persisted as PositionBeliefSnapshot,
      input,
    });
    expect(restored.getSnapshot().context.phantomMisses).toBe(2);
    restored.send(flat(config.phantomGraceMs));
    expect(restored.getSnapshot().matches({ belief: 'confirmed' })).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { AnyEventObject, AnyMachineSnapshot } from 'xstate';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import {
  DEFAULT_RUNTIME_CONFIG,
  runtimeMachine,
  type RuntimeContext,
  type RuntimeEvent,
  type RuntimeSnapshot,
} from '../../src/machines/runtime.machine.js';
import { canonicalTestModel } from '../support/model.js';
import { createModelDriver, type StepView } from '../support/model-driver.js';

// Smaller limits than the defaults reach the same transitions in far fewer states.
const modelInput = { config: { maxRestarts: 2, reconcileAttempts: 2 } };
const T1 = 1_000;
// Ticks a long way apart: every deadline, retry delay and restart window passes between two.
const [T2, T3, T4] = [1_000_000, 2_000_000, 3_000_000];

const events: RuntimeEvent[] = [
  { type: 'runtime.boot.completed' },
  { type: 'runtime.boot.failed', reason: 'store locked' },
  { type: 'runtime.restore.completed' },
  { type: 'runtime.restore.failed', reason: 'snapshot unreadable' },
  { type: 'runtime.reconcile.completed' },
  { type: 'runtime.reconcile.failed', reason: 'venue unreachable' },
  { type: 'supervisor.child.crashed', child: 'reconcile-supervisor', now: T1 },
  { type: 'runtime.halt', by: 'alice', reason: 'maintenance' },
  { type: 'runtime.resume', by: 'alice' },
  { type: 'runtime.drain', reason: 'SIGTERM' },
  { type: 'runtime.drained' },
  { type: 'clock.tick', now: T2 },
  { type: 'clock.tick', now: T3 },
  { type: 'clock.tick', now: T4 },
];

function serializeState(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as RuntimeContext;
  const passed = (deadline: number | null) => (deadline === null ? null : deadline <= context.now);
  const inWindow = context.restarts.filter(
    (restart) => restart.at > context.now - context.config.restartPeriodMs,
  );
  return JSON.stringify([
    snapshot.value,
    inWindow.length,
    context.reconcileAttempt,
    passed(context.reconcileDeadline),
    passed(context.reconcileRetryAt),
    passed(context.drainDeadline),
    context.halt?.cause ?? null,
    context.now,
  ]);
}

const ofType = (emitted: AnyEventObject[], type: string) => emitted.filter((event) => event.type === type);

function checkInvariants({ snapshot, previous, event, emitted }: StepView): void {
  const context = snapshot.context as RuntimeContext;
  const entered = (state: string) => snapshot.matches(state) && !previous.matches(state);
  if (entered('running')) {
    expect(previous.matches('reconciling')).toBe(true);
    expect(event.type).toBe('runtime.reconcile.completed');
  }
  expect(snapshot.hasTag('entries-denied')).toBe(!snapshot.matches('running'));
  expect(context.reconcileAttempt).toBeLessThanOrEqual(context.config.reconcileAttempts);

  const restarts = ofType(emitted, 'supervisor.child.restart.requested');
  for (const restart of restarts)
    expect(restart.restartsInWindow).toBeLessThanOrEqual(context.config.maxRestarts);
  const haltedBySupervision = entered('halted') && context.halt?.cause === 'restart-intensity';
  expect(ofType(emitted, 'kill.trip.requested')).toHaveLength(haltedBySupervision ? 1 : 0);
  expect(ofType(emitted, 'runtime.alert')).toHaveLength(haltedBySupervision ? 1 : 0);
  if (haltedBySupervision) expect(context.restarts.length).toBeGreaterThan(context.config.maxRestarts);
  if (entered('halted')) expect(ofType(emitted, 'runtime.halted')).toHaveLength(1);
  if (entered('stopped')) expect(ofType(emitted, 'runtime.stopped')).toHaveLength(1);
}

describe('runtime model', () => {
  const driver = createModelDriver(runtimeMachine, {
    input: modelInput,
    serializeState,
    invariant: checkInvariants,
  });
  const paths = canonicalTestModel(runtimeMachine, {
    events,
    serializeState,
    input: modelInput,
  }).getShortestPaths();

  for (const path of paths) {
    it(path.description, async () => {
      await driver.run(path);
    });
  }

  it('covers every transition of runtime', () => {
    expect(driver.coverage.uncovered()).toEqual([]);
  });
});

describe('runtime behaviour', () => {
  const config = DEFAULT_RUNTIME_CONFIG;
  const start = () => {
    const sut = createCheckedActor(runtimeMachine, { mode: 'strict', clock: new SimulatedClock() });
    const emitted: AnyEventObject[] = [];
    sut.actor.on('*', (event: AnyEventObject) => emitted.push(event));
    return { sut, emitted };
  };
  const bootToRunning = (sut: ReturnType<typeof start>['sut']) => {
    sut.send({ type: 'runtime.boot.completed' });
    sut.send({ type: 'runtime.restore.completed' });
    sut.send({ type: 'runtime.reconcile.completed' });
  };

  it('boots through restore and reconcile before it runs', () => {
    const { sut, emitted } = start();
    bootToRunning(sut);
    expect(sut.getSnapshot().hasTag('running')).toBe(true);
    expect(emitted.map((event) => event.type)).toEqual([
      'runtime.restore.requested',
      'runtime.reconcile.requested',
      'runtime.started',
    ]);
  });

  it('restarts crashed children up to the intensity limit, then halts, asks for a kill-switch trip and alerts', () => {
    const { sut, emitted } = start();
    bootToRunning(sut);
    for (let crash = 0; crash < config.maxRestarts; crash += 1)
      sut.send({ type: 'supervisor.child.crashed', child: 'reconcile-supervisor', now: 1_000 + crash });
    expect(sut.getSnapshot().value).toBe('running');
    expect(ofType(emitted, 'supervisor.child.restart.requested')).toHaveLength(config.maxRestarts);
    sut.send({ type: 'supervisor.child.crashed', child: 'venue-stream', now: 2_000 });
    expect(sut.getSnapshot().value).toBe('halted');
    expect(ofType(emitted, 'kill.trip.requested')).toMatchObject([{ trigger: 'supervision' }]);
    expect(ofType(emitted, 'runtime.alert')).toMatchObject([
      { severity: 'critical', code: 'RESTART_INTENSITY_EXCEEDED' },
    ]);
  });

  it('forgets restarts older than the intensity window', () => {
    const { sut } = start();
    bootToRunning(sut);
    for (let crash = 0; crash < config.maxRestarts; crash += 1)
      sut.send({ type: 'supervisor.child.crashed', child: 'reconcile-supervisor', now: 1_000 });
    sut.send({
      type: 'supervisor.child.crashed',
      child: 'reconcile-supervisor',
      now: 1_000 + config.restartPeriodMs,
    });
    expect(sut.getSnapshot().value).toBe('running');
    expect(sut.getSnapshot().context.restarts).toHaveLength(1);
  });

  it('retries a failed reconcile with growing waits and halts once the attempts are spent', () => {
    const { sut, emitted } = start();
    sut.send({ type: 'runtime.boot.completed' });
    sut.send({ type: 'runtime.restore.completed' });
    sut.send({ type: 'runtime.reconcile.failed', reason: 'venue unreachable' });
    sut.send({ type: 'clock.tick', now: config.reconcileRetryDelayMs - 1 });
    expect(ofType(emitted, 'runtime.reconcile.requested')).toHaveLength(1);
    sut.send({ type: 'clock.tick', now: config.reconcileRetryDelayMs });
    expect(ofType(emitted, 'runtime.reconcile.requested')).toHaveLength(2);
    sut.send({ type: 'runtime.reconcile.failed', reason: 'venue unreachable' });
    sut.send({ type: 'clock.tick', now: 3 * config.reconcileRetryDelayMs - 1 });
    expect(ofType(emitted, 'runtime.reconcile.requested')).toHaveLength(2);
    sut.send({ type: 'clock.tick', now: 3 * config.reconcileRetryDelayMs });
    sut.send({ type: 'runtime.reconcile.failed', reason: 'venue unreachable' });
    expect(sut.getSnapshot().value).toBe('halted');
    expect(sut.getSnapshot().context.halt).toMatchObject({
      cause: 'reconcile-failed',
      detail: 'venue unreachable',
    });
  });

  it('resumes from a halt through restore and reconcile again', () => {
    const { sut } = start();
    bootToRunning(sut);
    sut.send({ type: 'runtime.halt', by: 'alice', reason: 'maintenance' });
    sut.send({ type: 'runtime.resume', by: 'alice' });
    expect(sut.getSnapshot().value).toBe('restoring');
    sut.send({ type: 'runtime.restore.completed' });
    expect(sut.getSnapshot().value).toBe('reconciling');
  });

  it('stops once the drain deadline passes even if the drain never finishes', () => {
    const { sut } = start();
    bootToRunning(sut);
    sut.send({ type: 'runtime.drain', reason: 'SIGTERM' });
    sut.send({ type: 'clock.tick', now: config.drainTimeoutMs });
    expect(sut.getSnapshot().status).toBe('done');
    expect(sut.getSnapshot().context.stop).toMatchObject({ forced: true });
  });

  it('survives a JSON round trip of its persisted snapshot and keeps counting restarts', () => {
    const { sut } = start();
    bootToRunning(sut);
    for (let crash = 0; crash < config.maxRestarts; crash += 1)
      sut.send({ type: 'supervisor.child.crashed', child: 'reconcile-supervisor', now: 1_000 });
    const persisted: unknown = JSON.parse(JSON.stringify(sut.actor.getPersistedSnapshot()));
    sut.stop();
    const restored = createCheckedActor(runtimeMachine, {
      mode: 'strict',
      snapshot: persisted as RuntimeSnapshot,
    });
    expect(restored.getSnapshot().value).toBe('running');
    restored.send({ type: 'supervisor.child.crashed', child: 'reconcile-supervisor', now: 1_001 });
    expect(restored.getSnapshot().value).toBe('halted');
  });
});

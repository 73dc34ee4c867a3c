/**
 * Supervision of the supervisors (issue 4 §6): a crashed supervisor actor is restarted from its
 * last snapshot within a restart intensity; past it, entries stop — the kill switch trips with
 * `supervision` (or, when the kill switch itself is down, admission reads it as tripped, and a
 * restart of keel latches it again) — and a critical alert goes out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, emit, setup } from 'xstate';
import { createSupervisedActor, type CrashReport } from '../../src/actors/supervised.js';
import {
  KILL_SWITCH_CORRELATION_ID,
  SUPERVISION_CORRELATION_ID,
  createSupervisors,
  type SupervisorsConfig,
} from '../../src/actors/supervisors.js';
import { openSqliteStore } from '../../src/adapters/store/sqlite.store.js';
import { openPaperVenue } from '../../src/adapters/venue/paper/paper.venue.js';
import { TransitionError } from '../../src/domain/errors.js';
import { recordRestart } from '../../src/domain/restart-window.js';
import { beliefControllerMachine } from '../../src/machines/belief-controller.machine.js';
import { killSwitchMachine } from '../../src/machines/kill-switch.machine.js';
import { positionBeliefMachine } from '../../src/machines/position-belief.machine.js';
import { reconcileSupervisorMachine } from '../../src/machines/reconcile-supervisor.machine.js';
import {
  STRICT_ACTION,
  STRICT_GUARD,
  isNotInternalEvent,
  refusedEvent,
  strictWildcard,
} from '../../src/machines/strict.js';
import type { Alert } from '../../src/ports/notifier.port.js';
import type { StorePort } from '../../src/ports/store.port.js';
import { ManualClock } from '../support/manual-clock.js';

const dirs: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A counter that crashes on `boom` and announces every count, under the strict-mode hook. */
const counter = setup({
  types: {
    context: {} as { count: number },
    events: {} as { type: 'add' } | { type: 'boom' } | { type: 'stop.counting' },
    emitted: {} as { type: 'counted'; count: number } | { type: 'lifecycle.refused'; event: string },
  },
  guards: { [STRICT_GUARD]: isNotInternalEvent },
  actions: {
    [STRICT_ACTION]: emit(({ event }) => refusedEvent(event)),
    add: assign({ count: ({ context }) => context.count + 1 }),
    announce: emit(({ context }) => ({ type: 'counted' as const, count: context.count })),
    explode: () => {
      throw new Error('injected failure');
    },
  },
}).createMachine({
  id: 'counter',
  context: { count: 0 },
  initial: 'counting',
  on: { ...strictWildcard },
  states: {
    counting: {
      on: { add: { actions: ['add', 'announce'] }, boom: { actions: 'explode' }, 'stop.counting': 'stopped' },
    },
    stopped: {},
  },
});

function supervisedCounter(intensity = { maxRestarts: 2, windowMs: 10_000 }) {
  let now = 0;
  const restarts: CrashReport[] = [];
  const giveUps: CrashReport[] = [];
  const counted: number[] = [];
  const actor = createSupervisedActor(counter, {
    mode: 'strict',
    name: 'counter',
    now: () => now,
    intensity,
    onRestart: (report) => restarts.push(report),
    onGiveUp: (report) => giveUps.push(report),
  });
  actor.on('counted', (event) => counted.push(event.count));
  return { actor, restarts, giveUps, counted, advance: (ms: number) => (now += ms) };
}

describe('a supervised actor', () => {
  it('restarts from the snapshot before the crash, with its context and its listeners intact', () => {
    const { actor, restarts, counted } = supervisedCounter();
    actor.send({ type: 'add' });
    actor.send({ type: 'add' });
    actor.send({ type: 'boom' });
    expect(restarts).toEqual([
      expect.objectContaining({
        name: 'counter',
        event: 'boom',
        restarts: 1,
        error: expect.any(Error) as Error,
      }),
    ]);
    expect(actor.getSnapshot().status).toBe('active');
    expect(actor.getSnapshot().context.count).toBe(2);
    actor.send({ type: 'add' });
    expect(counted).toEqual([1, 2, 3]);
    expect(actor.restarts()).toBe(1);
  });

  it('gives up once past the intensity, and then changes nothing', () => {
    const { actor, giveUps, counted } = supervisedCounter({ maxRestarts: 2, windowMs: 10_000 });
    actor.send({ type: 'add' });
    for (let crash = 0; crash < 3; crash += 1) actor.send({ type: 'boom' });
    expect(giveUps).toHaveLength(1);
    expect(giveUps[0]).toMatchObject({ restarts: 3, windowMs: 10_000 });
    expect(actor.gaveUp()).toBe(true);
    actor.send({ type: 'add' });
    actor.send({ type: 'boom' });
    expect(giveUps).toHaveLength(1);
    expect(counted).toEqual([1]);
  });

  it('keeps restarting crashes spread wider than the window', () => {
    const { actor, giveUps, advance } = supervisedCounter({ maxRestarts: 2, windowMs: 10_000 });
    for (let crash = 0; crash < 10; crash += 1) {
      actor.send({ type: 'boom' });
      advance(5_001);
    }
    expect(giveUps).toEqual([]);
    expect(actor.restarts()).toBe(10);
  });

  it('treats a strict refusal as the caller\u2019s error, not a crash', () => {
    const { actor, restarts } = supervisedCounter();
    actor.send({ type: 'stop.counting' });
    expect(() => actor.send({ type: 'add' })).toThrow(TransitionError);
    expect(restarts).toEqual([]);
    expect(actor.gaveUp()).toBe(false);
  });

  it('never counts more than maxRestarts restarts inside any window', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 60 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 20_000 }),
        (gaps, maxRestarts, windowMs) => {
          let history: number[] = [];
          let now = 0;
          const all: number[] = [];
          for (const gap of gaps) {
            now += gap;
            all.push(now);
            const counted = recordRestart(history, now, { maxRestarts, windowMs });
            history = counted.history;
            const inWindow = all.filter((at) => now - at < windowMs).length;
            expect(counted.exceeded).toBe(inWindow > maxRestarts);
            expect(history.length).toBeLessThanOrEqual(maxRestarts + 1);
          }
        },
      ),
    );
  });
});

const failing = new Error('injected supervisor failure');

describe('the supervisors under supervision', () => {
  function open(config: Partial<SupervisorsConfig> = {}, store?: StorePort, withVenue = false) {
    const dir = mkdtempSync(join(tmpdir(), 'keel-supervision-'));
    dirs.push(dir);
    const opened = store ?? openSqliteStore({ dataDir: dir });
    const clock = new ManualClock();
    const alerts: Alert[] = [];
    const venue = withVenue ? openPaperVenue({ seed: 3, clock }) : undefined;
    const supervisors = createSupervisors(
      {
        store: opened,
        clock,
        notifier: { notify: (alert) => Promise.resolve(void alerts.push(alert)) },
        ...(venue === undefined ? {} : { venue, localPositions: () => ({}) }),
      },
      { mode: 'strict', supervision: { maxRestarts: 2, windowMs: 60_000 }, ...config },
    );
    cleanups.push(async () => {
      await supervisors.idle();
      supervisors.stop();
      if (!store) await opened.close();
    });
    return { store: opened, clock, supervisors, alerts };
  }

  it('restarts a belief controller that crashed on one sample, keeps its mode, and journals the restart', async () => {
    const controller = beliefControllerMachine.provide({
      actions: {
        'record debt sample': ({ event }) => {
          if (event.type === 'belief.debt.sampled' && event.debtSymbols === 13) throw failing;
        },
      },
    });
    const { store, clock, supervisors } = open({ machines: { beliefController: controller } });
    supervisors.sampleDebt(clock.now(), { debtSec: 0, debtSymbols: 13, mismatchStreak: 0 });
    expect(supervisors.beliefState().mode).toBe('GREEN');
    expect(supervisors.guardView().killSwitch).toEqual({ tripped: false });
    await supervisors.idle();
    expect(store.journal({ correlationId: SUPERVISION_CORRELATION_ID })).toEqual([
      expect.objectContaining({
        type: 'supervision.actor.failed',
        data: expect.objectContaining({
          actor: 'belief-controller',
          event: 'belief.debt.sampled',
          restarts: 1,
        }) as object,
      }),
    ]);
  });

  it('trips the kill switch with supervision and reads the dead controller as RED once it fails past the intensity', async () => {
    const controller = beliefControllerMachine.provide({
      actions: {
        'record debt sample': () => {
          throw failing;
        },
      },
    });
    const { store, clock, supervisors, alerts } = open({ machines: { beliefController: controller } });
    for (let sample = 0; sample < 3; sample += 1)
      supervisors.sampleDebt(clock.now() + sample * 1_000, { debtSec: 0, debtSymbols: 0, mismatchStreak: 0 });
    await supervisors.idle();
    const view = supervisors.guardView();
    expect(view.killSwitch).toEqual({ tripped: true, trigger: 'supervision' });
    expect(view.knobs).toMatchObject({ mode: 'RED', allow_entries: false });
    expect(supervisors.killSwitch().trip).toMatchObject({ trigger: 'supervision', by: 'supervisor' });
    expect(alerts.map((alert) => alert.code)).toContain('KILL_SWITCH_TRIPPED');
    expect(store.journal({ correlationId: SUPERVISION_CORRELATION_ID }).map((event) => event.type)).toEqual([
      'supervision.actor.failed',
      'supervision.actor.failed',
      'supervision.escalated',
    ]);
  });

  it('reads a kill switch that failed past the intensity as tripped, and latches it again after a restart', async () => {
    const killSwitch = killSwitchMachine.provide({
      actions: {
        'record trip': () => {
          throw failing;
        },
      },
    });
    const first = open({ machines: { killSwitch } });
    for (let trip = 0; trip < 3; trip += 1)
      await first.supervisors.tripKillSwitch({ reason: `drill ${trip}`, by: 'erin' });
    await first.supervisors.idle();
    expect(first.supervisors.guardView().killSwitch).toEqual({ tripped: true, trigger: 'supervision' });
    expect(first.alerts.map((alert) => alert.code)).toContain('KILL_SWITCH_TRIPPED');
    expect(first.store.journal({ correlationId: KILL_SWITCH_CORRELATION_ID }).at(-1)).toMatchObject({
      type: 'kill_switch.tripped',
      reasonCode: 'KILL_SWITCH:supervision',
    });

    // Start-up and crash recovery are one path: a healthy switch on the same journal is latched.
    const second = open({}, first.store);
    expect(second.supervisors.guardView().killSwitch).toEqual({ tripped: true, trigger: 'supervision' });
  });

  it('restarts the reconcile supervisor after a crash, and trips the kill switch when it keeps crashing', async () => {
    const reconcileSupervisor = reconcileSupervisorMachine.provide({
      actions: {
        'record venue snapshot': () => {
          throw failing;
        },
      },
    });
    const { store, clock, supervisors } = open(
      // The answer that crashed it is dropped: the restarted cycle ends on its fetch timeout.
      { machines: { reconcileSupervisor }, reconcile: { intervalMs: 1_000, fetchTimeoutMs: 2_000 } },
      undefined,
      true,
    );
    for (let tick = 0; tick < 60 && !supervisors.guardView().killSwitch.tripped; tick += 1) {
      clock.advance(1_000);
      supervisors.tick(clock.now());
      for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    }
    await supervisors.idle();
    const journal = store.journal({ correlationId: SUPERVISION_CORRELATION_ID });
    expect(journal.map((event) => [event.type, event.data.actor])).toEqual([
      ['supervision.actor.failed', 'reconcile-supervisor'],
      ['supervision.actor.failed', 'reconcile-supervisor'],
      ['supervision.escalated', 'reconcile-supervisor'],
    ]);
    expect(supervisors.guardView().killSwitch).toEqual({ tripped: true, trigger: 'supervision' });
  });

  it('denies entries on a symbol whose position belief failed past the intensity', async () => {
    const positionBelief = positionBeliefMachine.provide({
      actions: {
        'apply local fill': () => {
          throw failing;
        },
      },
    });
    const { supervisors } = open({ machines: { positionBelief } });
    for (let fill = 0; fill < 2; fill += 1)
      supervisors.applyFill('BTCUSDT', { qty: 1, side: 'buy', price: 100 });
    expect(supervisors.entryBlock('BTCUSDT')).toBeNull();
    supervisors.applyFill('BTCUSDT', { qty: 1, side: 'buy', price: 100 });
    expect(supervisors.entryBlock('BTCUSDT')).toMatchObject({ tag: 'RECONCILE_BLOCKED:belief_down' });
    expect(supervisors.entryBlock('ETHUSDT')).toBeNull();
    await supervisors.idle();
    expect(supervisors.guardView().killSwitch).toEqual({ tripped: true, trigger: 'supervision' });
  });
});

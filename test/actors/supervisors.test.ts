/**
 * The supervisors wired into keel: the kill switch denies entries and nothing else, operators
 * trip and reset it with every step journaled, the belief controller's RED trips it, and a latched
 * switch survives a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite.store.js';
import {
  BELIEF_CORRELATION_ID,
  KILL_SWITCH_CORRELATION_ID,
  createSupervisors,
} from '../../src/actors/supervisors.js';
import { createKeel, type KeelConfigInput } from '../../src/config/create-keel.js';
import { DEFAULT_BELIEF_CONTROLLER_CONFIG } from '../../src/domain/belief.js';
import type { IntentInput } from '../../src/domain/intent.schema.js';
import type { Alert } from '../../src/ports/notifier.port.js';
import type { StorePort } from '../../src/ports/store.port.js';
import { entryIntent } from '../support/intents.js';
import { drive } from '../support/drive.js';
import { ManualClock } from '../support/manual-clock.js';

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-supervisors-'));
  dirs.push(dir);
  return dir;
}

async function start(config: KeelConfigInput = {}, clock = new ManualClock(), dir = tempDir()) {
  const alerts: Alert[] = [];
  const keel = await createKeel(
    { dataDir: dir, mode: 'strict', venue: { kind: 'paper', seed: 11 }, ...config },
    {
      clock,
      random: () => 0.5,
      notifier: {
        notify: (alert) => {
          alerts.push(alert);
          return Promise.resolve();
        },
      },
    },
  );
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await keel.close();
  };
  cleanups.push(close);
  return { keel, clock, alerts, dir, close };
}

const exit = (overrides: Partial<IntentInput> = {}) =>
  entryIntent({ kind: 'EXIT', side: 'sell', reduce_only: true, ...overrides });

describe('the kill switch in keel', () => {
  it('denies entries with KILL_SWITCH:operator at the guard stage while a reduce-only exit and a cancel go through', async () => {
    const { keel, clock } = await start();
    // A position to reduce and a resting order to cancel, both in place before the trip.
    await keel.submit(entryIntent(), { intentId: 'long' });
    expect(await drive(clock, keel.settled('long'))).toMatchObject({ status: 'EXECUTED' });
    const resting = await keel.submit(entryIntent({ strategy_id: 's2', type: 'limit', price: 40_000 }), {
      intentId: 'resting',
    });
    expect(resting.status).toBe('SENT_TO_BROKER');
    await drive(clock, keel.idle());

    const tripped = await keel.killSwitch.trip({
      reason: 'venue incident',
      by: 'alice',
      evidence: { ticket: 'INC-7' },
    });
    expect(tripped.view).toEqual({ tripped: true, trigger: 'operator' });
    const ordersBefore = keel.paper!.groundTruth().orders.length;

    const entry = await keel.submit(entryIntent({ strategy_id: 's3' }), { intentId: 'denied' });
    expect(entry).toMatchObject({
      status: 'FAILED',
      stage: 'guard',
      tag: 'KILL_SWITCH:operator',
      reason_code: 'KILL_SWITCH:operator',
    });

    const reduce = await keel.submit(exit(), { intentId: 'reduce' });
    expect(reduce.status).toBe('SENT_TO_BROKER');
    expect(await drive(clock, keel.settled('reduce'))).toMatchObject({
      status: 'EXECUTED',
      order_status: 'FILLED',
    });

    await keel.cancel('resting');
    expect(await drive(clock, keel.settled('resting'))).toMatchObject({ status: 'FAILED', tag: 'CANCELED' });
    // The denied entry never reached the venue; the exit did.
    const orders = keel.paper!.groundTruth().orders;
    expect(orders).toHaveLength(ordersBefore + 1);
    expect(orders.at(-1)).toMatchObject({ reduceOnly: true, status: 'FILLED' });
  });

  it('lets entries through again after an operator reset, and journals the trip and the reset with trigger, evidence and who', async () => {
    const { keel, clock, alerts } = await start();
    await keel.killSwitch.trip({ reason: 'venue incident', by: 'alice', evidence: { ticket: 'INC-7' } });
    expect((await keel.submit(entryIntent(), { intentId: 'denied' })).tag).toBe('KILL_SWITCH:operator');

    clock.advance(5_000);
    const reset = await keel.killSwitch.reset({ by: 'bob', reason: 'venue recovered' });
    expect(reset.view).toEqual({ tripped: false });
    expect(reset.lastReset).toMatchObject({ by: 'bob', reason: 'venue recovered', byPolicy: false });

    const admitted = await keel.submit(entryIntent(), { intentId: 'admitted' });
    expect(admitted.status).toBe('SENT_TO_BROKER');
    expect(await drive(clock, keel.settled('admitted'))).toMatchObject({ status: 'EXECUTED' });
    await keel.idle();

    const journal = keel.store.journal({ correlationId: KILL_SWITCH_CORRELATION_ID });
    expect(journal.map((event) => event.type)).toEqual(['kill_switch.tripped', 'kill_switch.reset']);
    const [trip, resetEvent] = journal;
    expect(trip).toMatchObject({
      stage: 'operator',
      source: 'operator',
      reasonCode: 'KILL_SWITCH:operator',
      from: 'armed',
      to: 'tripped',
      data: { trigger: 'operator', reason: 'venue incident', by: 'alice', evidence: { ticket: 'INC-7' } },
    });
    expect(resetEvent).toMatchObject({
      stage: 'operator',
      source: 'operator',
      from: 'tripped',
      to: 'armed',
      causingEventId: trip?.eventId,
      data: {
        by: 'bob',
        reason: 'venue recovered',
        byPolicy: false,
        triggers: ['operator'],
        trips: [{ trigger: 'operator', by: 'alice', evidence: { ticket: 'INC-7' } }],
      },
    });
    expect(resetEvent!.ts - trip!.ts).toBe(5_000);
    expect(alerts.map((alert) => [alert.severity, alert.code])).toEqual([
      ['critical', 'KILL_SWITCH_TRIPPED'],
      ['warning', 'KILL_SWITCH_RESET'],
    ]);
  });

  it('refuses a trip without a reason or an operator name, and stays armed', async () => {
    const { keel } = await start();
    await expect(keel.killSwitch.trip({ reason: '', by: 'alice' })).rejects.toMatchObject({
      code: 'KEEL_ERR_BAD_INPUT',
    });
    await expect(keel.killSwitch.trip({ reason: 'x' } as never)).rejects.toThrow(/by/);
    expect(keel.killSwitch.view().view).toEqual({ tripped: false });
    expect(keel.store.journal({ correlationId: KILL_SWITCH_CORRELATION_ID })).toEqual([]);
  });

  it('treats a reset of an armed switch as a no-op, not an anomaly', async () => {
    const { keel } = await start();
    const status = await keel.killSwitch.reset({ by: 'bob', reason: 'just in case' });
    expect(status.view).toEqual({ tripped: false });
    expect(keel.store.journal({ correlationId: KILL_SWITCH_CORRELATION_ID })).toEqual([]);
  });

  it('stays latched across a restart, and journal event ids keep increasing', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const first = await start({}, clock, dir);
    await first.keel.killSwitch.trip({ reason: 'before the crash', by: 'alice' });
    await first.close();

    const second = await start({}, clock, dir);
    expect(second.keel.killSwitch.view()).toMatchObject({
      view: { tripped: true, trigger: 'operator' },
      trip: { reason: 'before the crash', by: 'alice' },
    });
    expect((await second.keel.submit(entryIntent(), { intentId: 'after' })).tag).toBe('KILL_SWITCH:operator');
    await second.keel.killSwitch.reset({ by: 'bob', reason: 'checked after restart' });
    await second.keel.idle();

    const journal = second.keel.store.journal({ correlationId: KILL_SWITCH_CORRELATION_ID });
    expect(journal.map((event) => event.type)).toEqual([
      'kill_switch.tripped',
      'kill_switch.restored',
      'kill_switch.reset',
    ]);
    const ids = journal.map((event) => event.eventId);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
  });

  it('publishes the configured knobs and refuses a threshold without hysteresis', async () => {
    const { keel } = await start({ beliefController: { knobs: { GREEN: { max_notional: 123 } } } });
    expect(keel.beliefState()).toMatchObject({
      mode: 'GREEN',
      knobs: { max_notional: 123, max_leverage: 10 },
    });
    const denied = await keel.submit(entryIntent({ type: 'limit', price: 40_000 }), { intentId: 'big' });
    expect(denied).toMatchObject({ status: 'FAILED', stage: 'guard', tag: 'GUARD_BLOCKED:max_notional' });

    await expect(
      createKeel({ dataDir: tempDir(), beliefController: { thresholds: { RED: { enter: 2, exit: 2 } } } }),
    ).rejects.toMatchObject({
      code: 'KEEL_ERR_BAD_CONFIG',
      message: expect.stringMatching(/thresholds\.RED\.exit/),
    });
  });
});

describe('the supervisors on their own', () => {
  function open(config: Parameters<typeof createSupervisors>[1] = { mode: 'strict' }) {
    const store: StorePort = openSqliteStore({ dataDir: tempDir() });
    const clock = new ManualClock();
    const supervisors = createSupervisors({ store, clock }, config);
    cleanups.push(async () => {
      await supervisors.idle();
      supervisors.stop();
      await store.close();
    });
    return { store, clock, supervisors };
  }

  it('trips the switch with belief_red when the controller reaches RED with kill_switch_trip', async () => {
    const { store, clock, supervisors } = open();
    supervisors.sampleDebt(clock.now(), { debtSec: 0, debtSymbols: 1, mismatchStreak: 1 });
    expect(supervisors.guardView().killSwitch).toEqual({ tripped: false });

    // Eight mismatched symbols score 2.0: RED at once, without waiting for the escalation window.
    const state = supervisors.sampleDebt(clock.now() + 1_000, {
      debtSec: 0,
      debtSymbols: 8,
      mismatchStreak: 2,
    });
    expect(state).toMatchObject({ mode: 'RED', belief_debt_symbols: 8, mismatch_streak: 2 });
    expect(state.belief_confidence).toBeLessThan(1 / 3);
    await supervisors.idle();
    expect(supervisors.guardView()).toMatchObject({
      killSwitch: { tripped: true, trigger: 'belief_red' },
      knobs: { mode: 'RED', allow_entries: false },
    });
    const [trip] = store.journal({ correlationId: KILL_SWITCH_CORRELATION_ID });
    expect(trip).toMatchObject({
      stage: 'reconcile',
      source: 'system',
      data: { trigger: 'belief_red', by: 'belief-controller' },
    });
    expect((trip?.data.evidence as { score: number }).score).toBeCloseTo(2.2);
    const beliefStates = store.journal({ correlationId: BELIEF_CORRELATION_ID });
    expect(beliefStates.at(-1)).toMatchObject({
      type: 'execution.belief_state',
      from: 'GREEN',
      to: 'RED',
      reasonCode: 'BELIEF_MODE:RED',
      data: { belief_debt_symbols: 8, mode: 'RED', knobs: { kill_switch_trip: true } },
    });
  });

  it('leaves the switch armed in RED when RED knobs do not ask for a trip, and still denies entries by knob', async () => {
    const { supervisors, clock } = open({
      mode: 'strict',
      beliefController: {
        knobs: {
          ...DEFAULT_BELIEF_CONTROLLER_CONFIG.knobs,
          RED: { ...DEFAULT_BELIEF_CONTROLLER_CONFIG.knobs.RED, kill_switch_trip: false },
        },
      },
    });
    supervisors.sampleDebt(clock.now(), { debtSec: 0, debtSymbols: 8, mismatchStreak: 0 });
    await supervisors.idle();
    expect(supervisors.guardView()).toMatchObject({
      killSwitch: { tripped: false },
      knobs: { mode: 'RED', allow_entries: false },
    });
  });

  it('resets a reconcile-mismatch trip by policy once its halt has elapsed, and journals who reset it', async () => {
    const { store, clock, supervisors } = open({
      mode: 'strict',
      killSwitch: { autoResetAfterMs: { reconcile_mismatch_streak: 60_000 } },
    });
    await supervisors.tripKillSwitch({
      trigger: 'reconcile_mismatch_streak',
      reason: '7 consecutive reconcile cycles mismatched (max 6)',
      by: 'reconcile-supervisor',
      evidence: { mismatchStreak: 7, max: 6 },
    });
    supervisors.tick(clock.now() + 59_999);
    expect(supervisors.killSwitch().view.tripped).toBe(true);
    supervisors.tick(clock.now() + 60_000);
    expect(supervisors.killSwitch().view.tripped).toBe(false);
    await supervisors.idle();
    expect(store.journal({ correlationId: KILL_SWITCH_CORRELATION_ID }).at(-1)).toMatchObject({
      type: 'kill_switch.reset',
      stage: 'reconcile',
      source: 'system',
      data: {
        by: 'policy',
        byPolicy: true,
        trips: [{ trigger: 'reconcile_mismatch_streak', evidence: { mismatchStreak: 7, max: 6 } }],
      },
    });
  });
});

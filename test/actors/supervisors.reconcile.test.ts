/**
 * The reconcile loop on the paper venue with injected faults: a failed fetch raises pressure, a
 * mismatch storm trips the kill switch within the configured streak, and once the faults stop the
 * debt decays and the controller comes back to GREEN.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BELIEF_CORRELATION_ID,
  KILL_SWITCH_CORRELATION_ID,
  RECONCILE_CORRELATION_ID,
} from '../../src/actors/supervisors.js';
import { entryIntent } from '../support/intents.js';
import { advance, runCleanups, start, until } from '../support/reconcile-harness.js';

afterEach(runCleanups);

describe('the reconcile loop on the paper venue', () => {
  it('confirms a filled position against the venue without raising debt', async () => {
    const { keel, clock, fault } = await start({ reconcile: { intervalMs: 1_000 } });
    await keel.submit(entryIntent(), { intentId: 'long' });
    await until(clock, () => keel.get('long')?.status === 'EXECUTED');
    await advance(clock, 10_000);
    expect(fault.calls).toBeGreaterThanOrEqual(9);
    expect(keel.positions()).toEqual({ BTCUSDT: expect.objectContaining({ qty: 0.01, side: 'long' }) });
    expect(keel.beliefState()).toMatchObject({ mode: 'GREEN', belief_debt_symbols: 0, mismatch_streak: 0 });
    expect(keel.killSwitch.view().view).toEqual({ tripped: false });
  });

  it('raises pressure on failed fetches, trips the kill switch once the streak passes its max, and resets by policy after the faults stop', async () => {
    const { keel, clock, fault } = await start({
      reconcile: { intervalMs: 1_000, killMismatchStreakMax: 3 },
      killSwitch: { autoResetAfterMs: { reconcile_mismatch_streak: 20_000 } },
    });
    await advance(clock, 1_000);
    fault.positions = 'fail';

    // Three failed cycles make a streak of 3, which is the max: not yet over it.
    await until(clock, () => keel.beliefState().mismatch_streak === 3);
    expect(keel.killSwitch.view().view).toEqual({ tripped: false });
    await until(clock, () => keel.beliefState().mismatch_streak === 4);
    await keel.idle();
    expect(keel.killSwitch.view()).toMatchObject({
      view: { tripped: true, trigger: 'reconcile_mismatch_streak' },
      trip: { by: 'reconcile-supervisor', evidence: { mismatchStreak: 4, max: 3 } },
    });
    const denied = await keel.submit(entryIntent(), { intentId: 'denied' });
    expect(denied).toMatchObject({
      status: 'FAILED',
      stage: 'guard',
      tag: 'KILL_SWITCH:reconcile_mismatch_streak',
    });

    fault.positions = 'none';
    await until(clock, () => keel.beliefState().mismatch_streak === 0);
    // The trip stays latched until its halt has run out, though the evidence is clean again.
    expect(keel.killSwitch.view().view.tripped).toBe(true);
    await until(clock, () => !keel.killSwitch.view().view.tripped);
    expect(keel.killSwitch.view().lastReset).toMatchObject({ by: 'policy', byPolicy: true });
    expect((await keel.submit(entryIntent(), { intentId: 'admitted' })).status).toBe('SENT_TO_BROKER');
    await keel.idle();

    const summaries = keel.store.journal({ correlationId: RECONCILE_CORRELATION_ID });
    expect(summaries[0]).toMatchObject({
      type: 'reconcile.summary',
      stage: 'reconcile',
      reasonCode: 'RECONCILE_FETCH_FAILED',
      data: {
        fetched: false,
        fetch_failure: 'positions: service unavailable',
        mismatch_streak: 1,
        belief_debt_sec: 0,
        belief_debt_symbols: 0,
        mode: 'GREEN',
        knobs: expect.objectContaining({ allow_entries: true }),
      },
    });
    expect(summaries.at(-1)).toMatchObject({ data: { fetched: true, mismatch_streak: 0 } });
    expect(
      keel.store.journal({ correlationId: KILL_SWITCH_CORRELATION_ID }).map((event) => event.type),
    ).toEqual(['kill_switch.tripped', 'kill_switch.reset']);
  });

  it('turns a position the venue no longer shows into belief debt, RED and a trip, and decays back to GREEN after the fault stops', async () => {
    // The phantom's grace outlasts the outage, so the position is still believed when it comes back.
    const { keel, clock, fault } = await start({
      reconcile: { intervalMs: 1_000, phantomGraceMs: 600_000 },
      protection: { requireStops: false },
    });
    await keel.submit(entryIntent(), { intentId: 'long' });
    await until(clock, () => keel.get('long')?.status === 'EXECUTED');
    await advance(clock, 2_000);
    expect(keel.beliefState().belief_debt_symbols).toBe(0);

    fault.positions = 'hide';
    await until(clock, () => keel.beliefState().mode === 'RED', 120_000);
    const red = keel.beliefState();
    expect(red.belief_debt_symbols).toBe(1);
    expect(red.belief_debt_sec).toBeGreaterThan(0);
    expect(red.belief_confidence).toBeLessThan(0.5);
    await keel.idle();
    const view = keel.killSwitch.view();
    // The streak trips the switch first (more than 6 cycles); RED adds its own trip to the latch.
    expect(view.trip).toMatchObject({ trigger: 'reconcile_mismatch_streak' });
    expect(view.additionalTrips).toEqual([
      expect.objectContaining({ trigger: 'belief_red', by: 'belief-controller' }),
    ]);

    fault.positions = 'none';
    const recovered = await until(clock, () => keel.beliefState().mode === 'GREEN', 300_000);
    // Down-moves wait for the recovery window (60 s by default): no early GREEN.
    expect(recovered).toBeGreaterThanOrEqual(60_000);
    expect(keel.beliefState()).toMatchObject({
      belief_debt_sec: 0,
      belief_debt_symbols: 0,
      mismatch_streak: 0,
    });
    expect(keel.beliefState().belief_confidence).toBe(1);
    // belief_red has no halt duration by default: an operator decides when entries resume.
    await advance(clock, 400_000, 5_000);
    expect(keel.killSwitch.view().view).toEqual({ tripped: true, trigger: 'reconcile_mismatch_streak' });
    await keel.killSwitch.reset({ by: 'carol', reason: 'venue positions are back' });
    expect((await keel.submit(entryIntent({ strategy_id: 's2' }), { intentId: 'after' })).status).toBe(
      'SENT_TO_BROKER',
    );
    await keel.idle();

    const states = keel.store.journal({ correlationId: BELIEF_CORRELATION_ID });
    expect(states.map((event) => event.to)).toEqual(expect.arrayContaining(['RED', 'GREEN']));
    const summaries = keel.store.journal({ correlationId: RECONCILE_CORRELATION_ID });
    expect(summaries.some((event) => (event.data.phantom as string[]).includes('BTCUSDT'))).toBe(true);
    // The evidence keeps its first sighting while the mismatch lasts, and its latest.
    const during = summaries.filter((event) => (event.data.phantom as string[]).includes('BTCUSDT'));
    const seen = during.map(
      (event) =>
        (event.data.mismatches as Record<string, { first_seen_at: number; last_seen_at: number }>).BTCUSDT,
    );
    expect(new Set(seen.map((entry) => entry?.first_seen_at)).size).toBe(1);
    expect(seen.at(-1)?.last_seen_at).toBe(during.at(-1)?.ts);
    expect(seen.at(-1)!.last_seen_at).toBeGreaterThan(seen[0]!.first_seen_at);
  });

  it('corrects a drifted size to the venue once, and the next cycles confirm it instead of repairing again', async () => {
    const { keel, clock, fault } = await start({ reconcile: { intervalMs: 1_000 } });
    await keel.submit(entryIntent(), { intentId: 'long' });
    await until(clock, () => keel.get('long')?.status === 'EXECUTED');
    await advance(clock, 2_000);
    fault.positions = 'double';
    await advance(clock, 20_000);
    await keel.idle();

    const summaries = keel.store.journal({ correlationId: RECONCILE_CORRELATION_ID });
    const repairs = summaries.filter((event) => event.data.repair_actions !== 0);
    expect(repairs).toHaveLength(1);
    expect(repairs[0]?.data).toMatchObject({
      drift: [{ symbol: 'BTCUSDT', fields: ['size'] }],
      repair_actions: 1,
    });
    expect(summaries.at(-1)?.data).toMatchObject({ drift: [], mismatch_streak: 0 });
    expect(keel.beliefState()).toMatchObject({ mode: 'GREEN', belief_debt_symbols: 0 });
    // The runtime's own book is untouched: the correction lives in the supervisor's beliefs.
    expect(keel.positions('main').BTCUSDT?.qty).toBe(0.01);
  });

  it('exposes booked positions per account and netted across accounts, as copies', async () => {
    const { keel, clock } = await start({ reconcile: { enabled: false } });
    await keel.submit(entryIntent({ qty: 0.01 }), { intentId: 'main-long' });
    await keel.submit(entryIntent({ account: 'alt', side: 'sell', qty: 0.004 }), { intentId: 'alt-short' });
    await until(
      clock,
      () => keel.get('main-long')?.status === 'EXECUTED' && keel.get('alt-short')?.status === 'EXECUTED',
    );
    const main = keel.positions('main');
    expect(main).toEqual({ BTCUSDT: { qty: 0.01, side: 'long', entryPrice: expect.any(Number) } });
    expect(keel.positions('alt')).toEqual({
      BTCUSDT: expect.objectContaining({ qty: 0.004, side: 'short' }),
    });
    expect(keel.positions('nobody')).toEqual({});
    const net = keel.positions();
    expect(net.BTCUSDT?.side).toBe('long');
    expect(net.BTCUSDT?.qty).toBeCloseTo(0.006, 12);
    expect(net.BTCUSDT?.entryPrice).toBe(main.BTCUSDT?.entryPrice);

    main.BTCUSDT!.qty = 99;
    expect(keel.positions('main').BTCUSDT?.qty).toBe(0.01);
  });

  it('adopts the venue positions at boot after a restart, instead of reporting them as orphans', async () => {
    const { keel, clock, restart } = await start({ reconcile: { intervalMs: 1_000 } });
    await keel.submit(entryIntent(), { intentId: 'long' });
    await until(clock, () => keel.get('long')?.status === 'EXECUTED');

    const again = await restart();
    expect(again.positions()).toEqual({}); // nothing booked in the new process
    await advance(clock, 20_000);
    await again.idle();
    expect(again.beliefState()).toMatchObject({ mode: 'GREEN', belief_debt_symbols: 0, mismatch_streak: 0 });
    const journal = again.store.journal({ correlationId: RECONCILE_CORRELATION_ID });
    expect(journal.map((event) => event.type)).toEqual(['reconcile.boot.adopted']);
    expect(journal[0]?.data).toMatchObject({ positions: [{ symbol: 'BTCUSDT', qty: 0.01, side: 'long' }] });
  });

  it('takes the venue snapshot as the base after a restart, though fills were booked on the unknown base before it', async () => {
    const { keel, clock, fault, restart } = await start({ reconcile: { intervalMs: 10_000 } });
    await keel.submit(entryIntent({ qty: 0.01 }), { intentId: 'long' });
    await until(clock, () => keel.get('long')?.status === 'EXECUTED');

    // The restarted keel cannot see the venue's positions yet, and half the position is sold meanwhile.
    fault.positions = 'fail';
    const again = await restart();
    const exit = entryIntent({
      side: 'sell',
      qty: 0.004,
      kind: 'EXIT',
      reduce_only: true,
      strategy_id: 'out',
    });
    await again.submit(exit, { intentId: 'half-out' });
    await until(clock, () => again.get('half-out')?.status === 'EXECUTED');
    // Booked on an unknown base, the fill alone reads as a short position.
    expect(again.beliefs()[0]?.local).toMatchObject({ qty: 0.004, side: 'short' });

    fault.positions = 'none';
    // A failed fetch brings the next cycle forward (1 s, doubling), instead of waiting out the interval.
    const waited = await until(clock, () => again.beliefs()[0]?.local?.side === 'long', 9_000);
    expect(waited).toBeLessThan(9_000);
    await again.idle();
    expect(again.beliefs()[0]).toMatchObject({ local: { qty: 0.006, side: 'long' }, state: 'confirmed' });
    const boot = again.store
      .journal({ correlationId: RECONCILE_CORRELATION_ID })
      .find((event) => event.type === 'reconcile.boot.adopted');
    expect(boot).toMatchObject({
      reasonCode: 'BOOT_SNAPSHOT',
      data: { positions: [{ symbol: 'BTCUSDT', qty: 0.006, side: 'long' }] },
    });
    const summaries = again.store
      .journal({ correlationId: RECONCILE_CORRELATION_ID })
      .filter((event) => event.type === 'reconcile.summary' && event.data.fetched === true);
    // No drift was ever seen: the venue's snapshot was the base, not a disagreement to repair.
    expect(summaries.every((event) => (event.data.drift as unknown[]).length === 0)).toBe(true);
  });

  it('reports the venue positions found after a restart as orphans when boot adoption is off', async () => {
    const { keel, clock, restart } = await start({ reconcile: { intervalMs: 1_000 } });
    await keel.submit(entryIntent(), { intentId: 'long' });
    await until(clock, () => keel.get('long')?.status === 'EXECUTED');

    const again = await restart({ reconcile: { intervalMs: 1_000, adoptAtBoot: false } });
    await advance(clock, 5_000);
    await again.idle();
    expect(again.beliefState()).toMatchObject({ belief_debt_symbols: 1 });
    expect(again.beliefState().mismatch_streak).toBeGreaterThanOrEqual(4);
    const summary = again.store.journal({ correlationId: RECONCILE_CORRELATION_ID })[0];
    expect(summary).toMatchObject({ type: 'reconcile.summary', data: { orphan: ['BTCUSDT'] } });
  });

  it('runs no cycle when the reconcile loop is disabled', async () => {
    const { keel, clock, fault } = await start({ reconcile: { enabled: false } });
    await advance(clock, 30_000, 1_000);
    expect(fault.calls).toBe(0);
    expect(keel.beliefState().mode).toBe('GREEN');
  });
});

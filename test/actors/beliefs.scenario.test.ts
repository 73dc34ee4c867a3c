/**
 * Position beliefs and protection on the paper venue, with injected faults: a phantom position is
 * cleared only after its grace period and its misses; an orphan is frozen or adopted per policy;
 * stage-1 protection follows an entry fill at once, an undersized stop is refreshed once and not
 * again, and a failed stage-1 stop opens the gap at once and, past its TTL, raises pressure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { beliefCorrelationId } from '../../src/actors/position-beliefs.js';
import { PROTECTION_CORRELATION_ID } from '../../src/actors/protection-manager.js';
import { RECONCILE_CORRELATION_ID } from '../../src/actors/supervisors.js';
import type { Keel } from '../../src/config/create-keel.js';
import type { VenueOrder } from '../../src/ports/venue.port.js';
import { entryIntent } from '../support/intents.js';
import { advance, runCleanups, start, until } from '../support/reconcile-harness.js';

afterEach(runCleanups);

const belief = (keel: Keel, symbol = 'BTCUSDT') => keel.beliefs().find((view) => view.symbol === symbol);

const journalTypes = (keel: Keel, correlationId: string) =>
  keel.store.journal({ correlationId }).map((event) => event.type);

async function openStops(keel: Keel, symbol = 'BTCUSDT'): Promise<VenueOrder[]> {
  const open = await keel.venue.openOrders();
  if (!open.ok) throw new Error(open.message);
  return open.value.filter((order) => order.symbol === symbol && order.type === 'stop_market');
}

describe('position beliefs on the paper venue', () => {
  it('clears a phantom only once both its grace period and its misses have passed', async () => {
    // Cycles every 1 s: three misses come long before the 10 s grace, so the grace decides.
    const { keel, clock, fault } = await start({
      reconcile: { intervalMs: 1_000, phantomGraceMs: 10_000, phantomMisses: 3 },
      protection: { requireStops: false },
    });
    await keel.submit(entryIntent(), { intentId: 'long' });
    await until(clock, () => keel.get('long')?.status === 'EXECUTED');
    await advance(clock, 2_000);
    expect(belief(keel)).toMatchObject({ state: 'confirmed', local: { qty: 0.01, side: 'long' } });

    fault.positions = 'hide';
    const suspectedAfter = await until(clock, () => belief(keel)?.state === 'phantom-suspect');
    const firstSeenAt = belief(keel)?.mismatch?.firstSeenAt ?? 0;
    await until(clock, () => clock.now() >= firstSeenAt + 9_000);
    // Nine cycles have missed it, yet the grace has not passed: the belief still holds the position.
    expect(belief(keel)).toMatchObject({ state: 'phantom-suspect', local: { qty: 0.01 } });
    await until(clock, () => belief(keel)?.state === 'confirmed', 5_000);
    expect(clock.now() - firstSeenAt).toBeGreaterThanOrEqual(10_000);
    expect(suspectedAfter).toBeLessThanOrEqual(2_000);
    expect(belief(keel)?.local).toBeNull();
    await keel.idle();
    const cleared = keel.store
      .journal({ correlationId: beliefCorrelationId('paper', 'BTCUSDT') })
      .find((event) => event.type === 'belief.phantom.cleared');
    expect(cleared?.data).toMatchObject({ misses: expect.any(Number) as number, firstSeenAt });
    expect(cleared?.data.misses as number).toBeGreaterThanOrEqual(3);
  });

  it('waits for the misses when the grace period is short: cycles every 10 s clear on the third miss', async () => {
    const { keel, clock, fault } = await start({
      reconcile: { intervalMs: 10_000, phantomGraceMs: 1_000, phantomMisses: 3 },
      protection: { requireStops: false },
    });
    await keel.submit(entryIntent(), { intentId: 'long' });
    await until(clock, () => keel.get('long')?.status === 'EXECUTED');
    await advance(clock, 11_000);
    fault.positions = 'hide';
    await until(clock, () => belief(keel)?.state === 'phantom-suspect', 30_000);
    const firstSeenAt = belief(keel)?.mismatch?.firstSeenAt ?? 0;
    await advance(clock, 15_000);
    // Grace long past, but only two misses: still believed.
    expect(belief(keel)).toMatchObject({ state: 'phantom-suspect', local: { qty: 0.01 } });
    await until(clock, () => belief(keel)?.local === null, 30_000);
    expect(clock.now() - firstSeenAt).toBeGreaterThanOrEqual(20_000);
  });

  it('freezes entries on an orphan position until an operator adopts it, and leaves other symbols alone', async () => {
    const { keel, clock, paper } = await start({
      reconcile: { intervalMs: 1_000 },
      protection: { requireStops: false },
    });
    await advance(clock, 2_000);
    // Someone trades on the account by hand: keel never saw this order.
    const manual = await paper.submit({
      clientOrderId: 'by-hand-1',
      symbol: 'ETHUSDT',
      side: 'buy',
      type: 'market',
      qty: 0.5,
      reduceOnly: false,
      closePosition: false,
    });
    expect(manual.ok).toBe(true);
    await until(clock, () => belief(keel, 'ETHUSDT')?.state === 'frozen', 10_000);

    const denied = await keel.submit(entryIntent({ symbol: 'ETHUSDT', qty: 0.1 }), { intentId: 'eth' });
    expect(denied).toMatchObject({
      status: 'FAILED',
      tag: 'RECONCILE_BLOCKED:orphan_position',
      stage: 'reconcile',
    });
    const other = await keel.submit(entryIntent(), { intentId: 'btc' });
    expect(other.status).toBe('SENT_TO_BROKER');
    // An exit on the frozen symbol still flows: freezing blocks new exposure only.
    const exit = await keel.submit(
      entryIntent({ symbol: 'ETHUSDT', side: 'sell', qty: 0.1, kind: 'EXIT', reduce_only: true }),
      { intentId: 'eth-exit' },
    );
    expect(exit.status).not.toBe('FAILED');

    const adopted = await keel.adoptOrphan('ETHUSDT', 'dana');
    expect(adopted).toMatchObject({ state: 'adopted', local: { side: 'long' } });
    await until(clock, () => keel.get('eth-exit')?.status === 'EXECUTED', 10_000);
    const again = await keel.submit(entryIntent({ symbol: 'ETHUSDT', strategy_id: 's2', qty: 0.1 }), {
      intentId: 'eth-2',
    });
    expect(again.status).toBe('SENT_TO_BROKER');
    await keel.idle();
    const journal = keel.store.journal({ correlationId: beliefCorrelationId('paper', 'ETHUSDT') });
    expect(journal.map((event) => event.type)).toEqual(
      expect.arrayContaining(['belief.orphan.detected', 'belief.orphan.frozen', 'belief.orphan.adopted']),
    );
    expect(journal.find((event) => event.type === 'belief.orphan.adopted')).toMatchObject({
      source: 'operator',
      data: { by: 'dana' },
    });
  });

  it('adopts an orphan position by policy on its second sighting, without freezing entries', async () => {
    const { keel, clock, paper } = await start({
      reconcile: { intervalMs: 1_000, orphanPositions: 'adopt' },
      protection: { requireStops: false },
    });
    await advance(clock, 2_000);
    await paper.submit({
      clientOrderId: 'by-hand-2',
      symbol: 'ETHUSDT',
      side: 'sell',
      type: 'market',
      qty: 0.3,
      reduceOnly: false,
      closePosition: false,
    });
    await until(clock, () => belief(keel, 'ETHUSDT')?.state === 'adopted', 10_000);
    expect(belief(keel, 'ETHUSDT')).toMatchObject({ local: { qty: 0.3, side: 'short' }, mismatch: null });
    const entry = await keel.submit(entryIntent({ symbol: 'ETHUSDT', qty: 0.1 }), { intentId: 'eth' });
    expect(entry.status).toBe('SENT_TO_BROKER');
    await advance(clock, 5_000);
    expect(keel.beliefState().belief_debt_symbols).toBe(0);
  });
});

describe('protection on the paper venue', () => {
  it('places a stage-1 stop as soon as an entry fills, then refreshes it once when the position grows, not again', async () => {
    const { keel, clock, paper } = await start({ reconcile: { intervalMs: 1_000 } });
    const price = paper.price('BTCUSDT') ?? 0;
    const stopLoss = Math.floor(price * 0.9);
    await keel.submit(entryIntent({ stop_loss: stopLoss }), { intentId: 'first' });
    await until(
      clock,
      () => (keel.protection()[0]?.stop?.qty ?? 0) === 0.01 && !keel.protection()[0]?.inFlight,
    );
    let stops = await openStops(keel);
    expect(stops).toEqual([
      expect.objectContaining({ side: 'sell', qty: 0.01, stopPrice: stopLoss, reduceOnly: true }),
    ]);

    await keel.submit(entryIntent({ strategy_id: 's2', qty: 0.02, stop_loss: stopLoss }), {
      intentId: 'second',
    });
    await until(clock, () => keel.protection()[0]?.refreshes === 1 && !keel.protection()[0]?.inFlight);
    await advance(clock, 30_000);
    await keel.idle();
    stops = await openStops(keel);
    // New first, then the old one cancelled: one stop for the whole position.
    expect(stops).toEqual([expect.objectContaining({ qty: 0.03, stopPrice: stopLoss, reduceOnly: true })]);
    expect(keel.protection()[0]).toMatchObject({ refreshes: 1, stop: { qty: 0.03 } });
    expect(journalTypes(keel, PROTECTION_CORRELATION_ID)).toEqual([
      'protection.stop.placed',
      'protection.stop.refreshed',
    ]);
    expect(belief(keel)).toMatchObject({ state: 'confirmed', protection: 'covered', gap: null });
    expect(keel.beliefState().mode).toBe('GREEN');
  });

  it('refreshes a stop the venue shows undersized after drift is repaired, once, and never during the refresh', async () => {
    const { keel, clock, paper } = await start({ reconcile: { intervalMs: 1_000 } });
    const stopLoss = Math.floor((paper.price('BTCUSDT') ?? 0) * 0.9);
    await keel.submit(entryIntent({ stop_loss: stopLoss }), { intentId: 'first' });
    await until(clock, () => keel.protection()[0]?.stop !== null && !keel.protection()[0]?.inFlight);
    // A fill keel never sees grows the position: drift, repaired to the venue's size, leaves the stop short.
    await paper.submit({
      clientOrderId: 'by-hand-3',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'market',
      qty: 0.01,
      reduceOnly: false,
      closePosition: false,
    });
    await until(
      clock,
      () => keel.protection()[0]?.refreshes === 1 && !keel.protection()[0]?.inFlight,
      30_000,
    );
    await advance(clock, 60_000);
    await keel.idle();
    expect(keel.protection()[0]).toMatchObject({ refreshes: 1, stop: { qty: 0.02 } });
    expect(await openStops(keel)).toEqual([expect.objectContaining({ qty: 0.02 })]);
    const refreshed = keel.store
      .journal({ correlationId: PROTECTION_CORRELATION_ID })
      .filter((event) => event.type === 'protection.stop.refreshed');
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]?.data).toMatchObject({ cause: 'reconcile:shortfall', qty: 0.02, replaced_qty: 0.01 });
  });

  it('asserts the gap at once when the stage-1 stop fails, and past its TTL denies entries on the symbol and raises pressure', async () => {
    const { keel, clock, paper } = await start({
      reconcile: { intervalMs: 1_000 },
      protection: { gapTtlMs: 5_000, refreshCooldownMs: 600_000 },
    });
    // A long's stop above the market would trigger at once: the venue refuses it (-2021).
    const stopLoss = Math.ceil((paper.price('BTCUSDT') ?? 0) * 1.1);
    await keel.submit(entryIntent({ stop_loss: stopLoss }), { intentId: 'long' });
    await until(
      clock,
      () => keel.protection()[0]?.lastFailure !== null && keel.protection()[0] !== undefined,
    );
    // Asserted, not observed: the gap is open before any reconcile cycle could have seen it.
    expect(belief(keel)?.gap).toMatchObject({ coverage: 'unprotected', critical: false });
    await until(clock, () => belief(keel)?.gap?.critical === true, 10_000);

    const denied = await keel.submit(entryIntent({ strategy_id: 's2' }), { intentId: 'more' });
    expect(denied).toMatchObject({ status: 'FAILED', tag: 'RECONCILE_BLOCKED:protection_gap' });
    await advance(clock, 3_000);
    expect(keel.beliefState().belief_debt_symbols).toBe(1);
    expect(keel.beliefState().mismatch_streak).toBeGreaterThan(0);
    await keel.idle();
    const summaries = keel.store.journal({ correlationId: RECONCILE_CORRELATION_ID });
    expect(summaries.at(-1)?.data).toMatchObject({ protection_gaps: ['BTCUSDT'] });
    const gaps = keel.store
      .journal({ correlationId: beliefCorrelationId('paper', 'BTCUSDT') })
      .filter((event) => event.type === 'belief.protection.gap');
    expect(gaps.map((event) => event.data.severity)).toEqual(['warning', 'critical']);
    expect(gaps[0]?.data.reason).toMatch(/-2021/);
  });
});

describe('protection across a restart', () => {
  it('takes over the stop a previous run placed, and refreshes it rather than placing a second one', async () => {
    const { keel, clock, paper, restart } = await start({ reconcile: { intervalMs: 1_000 } });
    const stopLoss = Math.floor((paper.price('BTCUSDT') ?? 0) * 0.9);
    await keel.submit(entryIntent({ stop_loss: stopLoss }), { intentId: 'first' });
    await until(clock, () => keel.protection()[0]?.stop !== null && !keel.protection()[0]?.inFlight);
    const placed = keel.protection()[0]?.stop?.intentId;

    const again = await restart();
    expect(again.protection()).toEqual([
      expect.objectContaining({
        symbol: 'BTCUSDT',
        stopPrice: stopLoss,
        stop: { intentId: placed, qty: 0.01 },
      }),
    ]);
    await advance(clock, 3_000);
    expect(belief(again)).toMatchObject({ state: 'confirmed', protection: 'covered' });
    await again.submit(entryIntent({ strategy_id: 's2', qty: 0.01 }), { intentId: 'second' });
    await until(clock, () => again.protection()[0]?.refreshes === 1 && !again.protection()[0]?.inFlight);
    await advance(clock, 10_000);
    await again.idle();
    expect(await openStops(again)).toEqual([expect.objectContaining({ qty: 0.02, stopPrice: stopLoss })]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeel, type Keel } from '../../src/config/create-keel.js';
import {
  openSqliteStore,
  readStoreReadOnly,
  type SqliteStore,
} from '../../src/adapters/store/sqlite.store.js';
import {
  clientOrderIdsAcceptedTwice,
  openPaperVenue,
  type PaperVenue,
} from '../../src/adapters/venue/paper/paper.venue.js';
import { lifeline, severableClock, severableVenue, type Lifeline } from '../../src/chaos/sever.js';
import { bookedFillsOf } from '../../src/chaos/truth.js';
import type { SubmitOrder, VenueOrder, VenuePort, VenueResult } from '../../src/ports/venue.port.js';
import { entryIntent } from '../support/intents.js';
import { ManualClock } from '../support/manual-clock.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const entry = entryIntent;

/**
 * A venue whose submit never answers and whose stream goes silent — the process "dies" while the
 * request is out. `land` decides whether the order reached the venue before the crash.
 */
function crashingOnSubmit(venue: PaperVenue, land: (order: SubmitOrder) => boolean): VenuePort {
  return new Proxy(venue, {
    get(target, property, receiver) {
      if (property === 'submit') {
        return (order: SubmitOrder): Promise<VenueResult<VenueOrder>> => {
          if (land(order)) void target.submit(order);
          return new Promise(() => undefined);
        };
      }
      if (property === 'subscribe') return () => ({ close: () => undefined });
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The paper venue as one keel process sees it, with a few of its calls replaced. The process is
 * killed by cutting `line`: its timers stop, its venue calls and stream go quiet.
 */
function processView(
  venue: PaperVenue,
  line: Lifeline,
  calls: Partial<Pick<VenuePort, 'submit' | 'fillsSince'>> = {},
): VenuePort {
  const view = new Proxy(venue, {
    get(target, property, receiver) {
      if (property === 'submit' && calls.submit) return calls.submit;
      if (property === 'fillsSince' && calls.fillsSince) return calls.fillsSince;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return severableVenue(view, line);
}

function scenario() {
  const dir = mkdtempSync(join(tmpdir(), 'keel-recovery-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock();
  const venue = openPaperVenue({ seed: 5, clock });
  return { dir, clock, venue };
}

async function drive(keel: Keel, clock: ManualClock, rounds = 40): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await keel.idle();
    clock.advance(250);
  }
  await keel.idle();
}

describe('restart is recovery: restore → reconcile → run', () => {
  it('resolves intents in flight at a crash to what the venue really did, sending nothing twice', async () => {
    const { dir, clock, venue } = scenario();
    let submits = 0;
    // The first order lands before the crash, the second never leaves the process.
    const before = crashingOnSubmit(venue, () => ++submits === 1);
    const crashedStore = openSqliteStore({ dataDir: dir });
    const first = await createKeel(
      { dataDir: dir, mode: 'strict', guard: { oneLiveEntryPerStrategySymbol: false } },
      { clock, venue: before, store: crashedStore, random: () => 0.5 },
    );
    const landed = await first.submit(entry(), { intentId: 'landed' });
    const lost = await first.submit(entry({ side: 'sell', qty: 0.005 }), { intentId: 'lost' });
    expect([landed.status, lost.status]).toEqual(['SENT_TO_BROKER', 'SENT_TO_BROKER']);
    // The crash: the first keel is abandoned mid-request, never closed.
    await crashedStore.close();

    const keel = await createKeel(
      { dataDir: dir, mode: 'strict', guard: { oneLiveEntryPerStrategySymbol: false } },
      { clock, venue, random: () => 0.5 },
    );
    cleanups.push(() => keel.close());
    expect(keel.recovery).toMatchObject({ restored: 2, reconciled: 2, abandoned: 0, orphans: [] });
    await drive(keel, clock);

    expect(keel.get('landed')).toMatchObject({
      status: 'EXECUTED',
      order_status: 'FILLED',
      filled_qty: 0.01,
    });
    expect(keel.get('lost')).toMatchObject({ status: 'EXECUTED', order_status: 'FILLED', filled_qty: 0.005 });
    const truth = venue.groundTruth();
    expect(clientOrderIdsAcceptedTwice(truth.log)).toEqual([]);
    expect(truth.orders.map((order) => order.clientOrderId).sort()).toEqual(
      [landed.clientOrderId, lost.clientOrderId].sort(),
    );
    expect(keel.anomalies()).toEqual([]);
  });

  it('fails an intent registered but never sent before the crash, rather than sending it late', async () => {
    const { dir, clock, venue } = scenario();
    const store = openSqliteStore({ dataDir: dir });
    // Registered, then the process died before the blockers ran.
    await store.register(
      {
        intentId: 'stale',
        correlationId: 'corr-stale-000000000001',
        clientOrderId: 'EN-stale0000000000000000000',
        status: 'CREATED',
        tag: null,
        venue: 'paper',
        venueOrderId: null,
        intent: { ...entry(), reduce_only: false, close_position: false } as never,
        snapshot: null,
        createdAt: clock.now(),
        updatedAt: clock.now(),
      },
      {
        eventId: 'corr-stale-000000000001.000001',
        ts: clock.now(),
        correlationId: 'corr-stale-000000000001',
        clientOrderId: 'EN-stale0000000000000000000',
        type: 'intent.registered',
        stage: 'ingress',
        source: 'library',
        reasonCode: null,
        causingEventId: null,
        from: null,
        to: 'intent-created',
        data: {},
      },
    );
    await store.close();

    const keel = await createKeel({ dataDir: dir, mode: 'strict' }, { clock, venue, random: () => 0.5 });
    cleanups.push(() => keel.close());
    await keel.idle();

    expect(keel.recovery.abandoned).toBe(1);
    expect(keel.get('stale')).toMatchObject({
      status: 'FAILED',
      stage: 'reconcile',
      tag: 'RECOVERY_ABANDONED:not_sent_before_restart',
    });
    expect(venue.groundTruth().orders).toHaveLength(0);
  });

  it('reports venue orders keel did not place, and freezes entries on them when told to', async () => {
    const { dir, clock, venue } = scenario();
    await venue.submit({
      clientOrderId: 'manual-order-1',
      symbol: 'BTCUSDT',
      side: 'buy',
      type: 'limit',
      qty: 0.01,
      price: 40_000,
      timeInForce: 'GTC',
      reduceOnly: false,
      closePosition: false,
    });

    const keel = await createKeel(
      { dataDir: dir, mode: 'strict', recovery: { orphans: 'freeze' } },
      { clock, venue, random: () => 0.5 },
    );
    cleanups.push(() => keel.close());

    expect(keel.recovery.orphans).toEqual([
      expect.objectContaining({ clientOrderId: 'manual-order-1', symbol: 'BTCUSDT', status: 'NEW' }),
    ]);
    expect(keel.recovery.entriesFrozen).toBe(true);
    const blocked = await keel.submit(entry(), { intentId: 'e-1' });
    expect(blocked).toMatchObject({
      status: 'FAILED',
      stage: 'reconcile',
      tag: 'RECONCILE_BLOCKED:orphan_orders',
    });
    const exit = await keel.submit(entry({ kind: 'EXIT', side: 'sell', reduce_only: true }), {
      intentId: 'x-1',
    });
    expect(exit.status).toBe('SENT_TO_BROKER');

    keel.clearEntryFreeze();
    const after = await keel.submit(entry(), { intentId: 'e-2' });
    expect(after.status).toBe('SENT_TO_BROKER');
    const store = keel.store as SqliteStore;
    expect(store.get('e-1')?.status).toBe('FAILED');
  });

  it('books a fill it never read on an order it had closed before a crash, then finalizes it (regression: chaos --network --crash)', async () => {
    // keel chaos --network --crash found this: a reduce-only market exit filled 0.001 of 0.003 and
    // the rest expired; after a restart the lookup wrote FAILED/EXPIRED but the trade read failed,
    // and the process was killed again before a fill sync succeeded. The next keel restored only
    // non-terminal intents, so the exit stayed FAILED with filled_qty 0 and the fill was never booked.
    const { dir, clock, venue } = scenario();
    const config = { dataDir: dir, mode: 'strict', tickMs: 100, lingerMs: 1_000 } as const;
    const open = async (line: Lifeline, view: VenuePort) => {
      const store = openSqliteStore({ dataDir: dir });
      const keel = await createKeel(config, {
        clock: severableClock(clock, line),
        venue: view,
        store,
        random: () => 0.5,
      });
      return { keel, store };
    };

    // First process: a long 0.001, then the exit, whose send lands as the process is killed.
    const first = lifeline();
    const firstRun = await open(
      first,
      processView(venue, first, {
        submit: (order) => {
          if (order.reduceOnly && order.type === 'market') first.sever();
          return venue.submit(order);
        },
      }),
    );
    await firstRun.keel.submit(entry({ qty: 0.001 }), { intentId: 'entry' });
    await drive(firstRun.keel, clock);
    expect(firstRun.keel.liveCount()).toBe(0);
    const exit = await firstRun.keel.submit(
      entry({ kind: 'EXIT', side: 'sell', reduce_only: true, qty: 0.003 }),
      { intentId: 'exit' },
    );
    expect(exit.status).toBe('SENT_TO_BROKER');
    // The send leaves once SENT_TO_BROKER is durable; the process dies with it (its calls never answer).
    for (let turn = 0; turn < 20 && first.alive; turn++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(first.alive).toBe(false);
    firstRun.store.abandon();
    const atVenue = venue.groundTruth().orders.find((order) => order.clientOrderId === exit.clientOrderId);
    expect(atVenue).toMatchObject({ status: 'EXPIRED', filledQty: 0.001 });

    // Second process: the restart's lookup closes the exit, its trade read fails, and it is killed.
    const second = lifeline();
    const secondRun = await open(
      second,
      processView(venue, second, {
        fillsSince: () => Promise.resolve({ ok: false, errno: 'ETIMEDOUT', message: 'timed out' }),
      }),
    );
    expect(secondRun.keel.recovery).toMatchObject({ restored: 1, reconciled: 1 });
    await secondRun.keel.idle();
    second.sever();
    secondRun.store.abandon();
    const left = readStoreReadOnly(join(dir, 'keel.db'));
    expect(left.registry.find((row) => row.intentId === 'exit')).toMatchObject({
      status: 'FAILED',
      tag: 'EXPIRED',
    });
    const exitJournal = (events: typeof left.journal) =>
      events.filter((event) => event.clientOrderId === exit.clientOrderId);
    expect(exitJournal(left.journal).map((event) => event.type)).not.toContain('intent.finalize');
    expect(bookedFillsOf(exitJournal(left.journal))).toEqual([]);

    // Third process: the exit is restored though it is terminal, its fill is read and booked, and it
    // is finalized after lingering.
    const third = lifeline();
    const thirdRun = await open(third, processView(venue, third));
    cleanups.push(() => thirdRun.keel.close());
    await drive(thirdRun.keel, clock);
    expect(thirdRun.keel.get('exit')).toMatchObject({
      status: 'EXECUTED',
      order_status: 'EXPIRED',
      tag: 'EXPIRED_PARTIALLY_FILLED',
      filled_qty: 0.001,
    });
    expect(thirdRun.keel.recovery).toMatchObject({ restored: 0, lingering: 1, abandoned: 0, orphans: [] });
    expect(thirdRun.keel.liveCount()).toBe(0);
    const journal = thirdRun.store.readJournal();
    const venueTrades = venue.groundTruth().fills.filter((fill) => fill.clientOrderId === exit.clientOrderId);
    expect(venueTrades).toHaveLength(1);
    expect(bookedFillsOf(exitJournal(journal))).toEqual([
      { clientOrderId: exit.clientOrderId, tradeId: venueTrades[0]?.tradeId, qty: 0.001 },
    ]);
    expect(exitJournal(journal).at(-1)).toMatchObject({ type: 'intent.finalize', to: 'done' });
    expect(thirdRun.keel.anomalies()).toEqual([]);
    await thirdRun.keel.close();
    await thirdRun.store.close();

    // Finalized, it is left alone by the next restart.
    const fourth = await createKeel(config, { clock, venue, random: () => 0.5 });
    cleanups.push(() => fourth.close());
    expect(fourth.recovery).toMatchObject({ restored: 0, lingering: 0 });
    expect(fourth.get('exit')).toMatchObject({ status: 'EXECUTED', filled_qty: 0.001 });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeel, type Keel, type KeelConfigInput } from '../../src/config/create-keel.js';
import { replayJournal } from '../../src/domain/registry-replay.js';
import { intentResultSchema, type IntentResult } from '../../src/domain/intent-result.schema.js';
import type { SqliteStore } from '../../src/adapters/store/sqlite.store.js';
import type { IntentInput } from '../../src/domain/intent.schema.js';
import { entryIntent } from '../support/intents.js';
import { openPaperVenue, type PaperVenue } from '../../src/adapters/venue/paper/paper.venue.js';
import type { SubmitOrder, VenuePort } from '../../src/ports/venue.port.js';
import { drive } from '../support/drive.js';
import { ManualClock } from '../support/manual-clock.js';

const dirs: string[] = [];
const open: Keel[] = [];

afterEach(async () => {
  for (const keel of open.splice(0)) await keel.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The e2e intents carry distinct owner fields, so the metadata checks can tell them apart. */
function intent(overrides: Partial<IntentInput> = {}): IntentInput {
  return entryIntent({ strategy_id: 'trend-1', bot_id: 'bot-a', client_id: 'desk-7', ...overrides });
}

async function start(config: KeelConfigInput = {}, clock = new ManualClock()) {
  const dir = mkdtempSync(join(tmpdir(), 'keel-e2e-'));
  dirs.push(dir);
  const keel = await createKeel(
    { dataDir: dir, mode: 'strict', venue: { kind: 'paper', seed: 11 }, ...config },
    { clock, random: () => 0.5 },
  );
  open.push(keel);
  return { keel, clock, dir };
}

/** The paper venue with some of its calls replaced: the faults a test needs at an exact moment. */
function venueWith(paper: PaperVenue, overrides: Partial<VenuePort>): VenuePort {
  return new Proxy(paper, {
    get(target, property, receiver) {
      const own = (overrides as Record<PropertyKey, unknown>)[property];
      if (own !== undefined) return own;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function expectFullMetadata(result: IntentResult): void {
  // The schema is the contract: parsing again proves every invariant-11 field is present.
  expect(() => intentResultSchema.parse(result)).not.toThrow();
  expect(result).toMatchObject({
    strategy_id: 'trend-1',
    bot_id: 'bot-a',
    client_id: 'desk-7',
    venue: 'paper',
    source: 'library',
  });
  expect(result.event_id).toMatch(new RegExp(`^${result.correlation_id}\\.`));
}

describe('keel end to end on the paper venue', () => {
  it('takes a market entry from registration to FILLED and DONE with full metadata', async () => {
    const { keel, clock } = await start({ lingerMs: 1_000 });
    const statuses: string[] = [];
    keel.onResult((result) =>
      statuses.push(`${result.status}${result.venue_order_id === null ? '' : ' acked'}`),
    );

    const sent = await keel.submit(intent(), { intentId: 'happy-1' });
    expect(sent.status).toBe('SENT_TO_BROKER'); // durable before the venue call; the fill comes after

    const settled = await drive(clock, keel.settled('happy-1'));
    expect(settled).toMatchObject({
      intent_id: 'happy-1',
      status: 'EXECUTED',
      order_status: 'FILLED',
      stage: 'venue',
      filled_qty: 0.01,
    });
    expect(settled.venue_order_id).not.toBeNull();
    expect(settled.causing_event_id).toBeDefined();
    expectFullMetadata(settled);
    // Each registry change is heard once: sent, acknowledged by the venue, filled.
    expect(statuses).toEqual(['SENT_TO_BROKER', 'SENT_TO_BROKER acked', 'EXECUTED acked']);

    // After the linger window the actor is finalized: DONE, and no longer held in memory.
    await drive(
      clock,
      (async () => {
        while (keel.liveCount() > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
    );
    const store = keel.store as SqliteStore;
    const record = store.get('happy-1');
    expect(record?.status).toBe('EXECUTED');
    // The registry keeps the last restorable snapshot; DONE itself is the journal's last word.
    expect((record?.snapshot as { value: unknown }).value).toEqual({ closed: 'filled' });

    // The journal tells the whole story in order, each step with its cause.
    const journal = store.journal({ correlationId: settled.correlation_id });
    const types = journal.map((event) => event.type);
    expect(types.indexOf('intent.registered')).toBe(0);
    // The send is recorded in the same commit as SENT_TO_BROKER, which precedes any venue answer.
    const submitted = journal.find((event) => event.type === 'intent.submit');
    expect(submitted?.data.emitted).toEqual([
      expect.objectContaining({ type: 'order.submit.requested', attempt: 1 }),
    ]);
    const sentAt = journal.findIndex(
      (event) => event.type === 'registry.updated' && event.to === 'SENT_TO_BROKER',
    );
    expect(journal[sentAt]?.causingEventId).toBe(submitted?.eventId);
    const acceptedAt = types.indexOf('venue.order.accepted');
    expect(acceptedAt).toBeGreaterThan(sentAt);
    expect(journal[acceptedAt]?.causingEventId).toBe(submitted?.eventId);
    const filled = journal.find((event) => event.type === 'venue.order.filled');
    expect(filled?.data.emitted).toEqual([expect.objectContaining({ type: 'order.fill.booked', qty: 0.01 })]);
    expect(journal.at(-1)).toMatchObject({ type: 'intent.finalize', to: 'done' });
    for (const event of journal.slice(1)) expect(event.causingEventId).not.toBeNull();
    expect(keel.anomalies()).toEqual([]);

    // The paper venue saw exactly one order, and it filled.
    const truth = keel.paper!.groundTruth();
    expect(truth.orders).toHaveLength(1);
    expect(truth.orders[0]).toMatchObject({ clientOrderId: settled.clientOrderId, status: 'FILLED' });
  });

  it('reaches FILLED through REST and stream latency, answering from whichever arrives first', async () => {
    const clock = new ManualClock();
    // Start-up itself asks the venue (open orders), so time must move while keel starts.
    const { keel } = await drive(
      clock,
      start(
        { venue: { kind: 'paper', seed: 11, latency: { restMs: 120, streamMs: 40, jitterMs: 30 } } },
        clock,
      ),
    );
    await drive(clock, keel.submit(intent(), { intentId: 'slow' }));
    const settled = await drive(clock, keel.settled('slow'));
    expect(settled).toMatchObject({ status: 'EXECUTED', order_status: 'FILLED', filled_qty: 0.01 });
    await drive(clock, keel.idle());
    expect(keel.paper!.groundTruth().orders).toHaveLength(1);
    expect(keel.anomalies()).toEqual([]);
  });

  it('blocks an entry over the risk limit at the risk stage, FAILED with its tag, and sends nothing', async () => {
    const { keel } = await start({ risk: { maxNotional: 100 } });

    const result = await keel.submit(intent({ qty: 0.01 }), { intentId: 'too-big' });

    expect(result).toMatchObject({
      status: 'FAILED',
      order_status: 'FAILED',
      stage: 'risk',
      tag: 'RISK_BLOCKED:max_notional',
      reason_code: 'RISK_BLOCKED:max_notional',
    });
    expect(result.reason).toMatch(/notional .* exceeds 100/);
    expectFullMetadata(result);
    expect(keel.paper!.groundTruth().orders).toHaveLength(0);
    expect((keel.store as SqliteStore).get('too-big')?.status).toBe('FAILED');
  });

  it('lets a reduce-only exit through the limits that block entries', async () => {
    const { keel, clock } = await start({ risk: { maxNotional: 100 } });
    // Build a position first with limits that allow it, through a second keel would be overkill:
    // the exit is refused by the venue (-2022, nothing to reduce) — proving it was not blocked by keel.
    const exit = await keel.submit(intent({ kind: 'EXIT', side: 'sell', reduce_only: true }), {
      intentId: 'exit-1',
    });
    expect(exit.status).toBe('SENT_TO_BROKER');
    const settled = await drive(clock, keel.settled('exit-1'));
    expect(settled).toMatchObject({ status: 'FAILED', stage: 'venue', tag: 'VENUE_REJECTED:-2022' });
  });

  it('blocks a second live entry of one strategy on one symbol at the guard stage', async () => {
    const { keel } = await start();
    const resting = await keel.submit(intent({ type: 'limit', price: 40_000 }), { intentId: 'rest-1' });
    expect(resting.status).toBe('SENT_TO_BROKER');

    const second = await keel.submit(intent(), { intentId: 'dup-1' });

    expect(second).toMatchObject({
      status: 'FAILED',
      stage: 'guard',
      tag: 'GUARD_BLOCKED:duplicate_live_entry',
    });
    expectFullMetadata(second);
  });

  it('says the venue rejected an order, with the venue code and reason', async () => {
    const { keel, clock } = await start({
      venue: { kind: 'paper', seed: 11, faults: { reject: { next: 1, code: -2019 } } },
    });

    await keel.submit(intent(), { intentId: 'margin-1' });
    const settled = await drive(clock, keel.settled('margin-1'));

    expect(settled).toMatchObject({
      status: 'FAILED',
      order_status: 'REJECTED',
      stage: 'venue',
      tag: 'VENUE_REJECTED:-2019',
      reason_code: 'VENUE_REJECTED:-2019',
    });
    expect(settled.reason).toMatch(/margin/i);
    expectFullMetadata(settled);
  });

  it('registers an intent id once, however often it is submitted', async () => {
    const { keel, clock } = await start();
    const [first, second] = await Promise.all([
      keel.submit(intent(), { intentId: 'same' }),
      keel.submit(intent(), { intentId: 'same' }),
    ]);
    expect(second.clientOrderId).toBe(first.clientOrderId);
    await drive(clock, keel.settled('same'));
    const third = await keel.submit(intent(), { intentId: 'same' });
    expect(third.clientOrderId).toBe(first.clientOrderId);
    expect((keel.store as SqliteStore).list()).toHaveLength(1);
    expect(keel.paper!.groundTruth().orders).toHaveLength(1);
  });

  it('refuses a bad intent naming each bad field, and registers nothing', async () => {
    const { keel } = await start();
    await expect(keel.submit({ ...intent(), qty: -1, symbol: '' })).rejects.toMatchObject({
      code: 'KEEL_ERR_BAD_INTENT',
      issues: expect.arrayContaining([
        expect.objectContaining({ path: 'qty' }),
        expect.objectContaining({ path: 'symbol' }),
      ]) as unknown,
    });
    expect((keel.store as SqliteStore).list()).toHaveLength(0);
  });

  it('books fills into positions and PnL that agree with the venue, and limits positions with them', async () => {
    const { keel, clock } = await start({ risk: { maxPositionQty: 0.015 } });
    await keel.submit(intent(), { intentId: 'buy' });
    await drive(clock, keel.settled('buy'));

    const more = await keel.submit(intent({ strategy_id: 'other' }), { intentId: 'more' });
    expect(more).toMatchObject({ status: 'FAILED', stage: 'risk', tag: 'RISK_BLOCKED:max_position' });

    clock.advance(5_000); // the price walks
    await keel.submit(intent({ kind: 'EXIT', side: 'sell', reduce_only: true }), { intentId: 'sell' });
    await drive(clock, keel.settled('sell'));

    const pnl = keel.pnl('main');
    const venue = keel.paper!.groundTruth().positions.find((position) => position.symbol === 'BTCUSDT');
    const [position] = pnl.positions;
    expect(position).toMatchObject({ symbol: 'BTCUSDT', qty: 0, unrealizedPnl: 0 });
    expect(position?.realizedPnl).toBeCloseTo(venue!.realizedPnl, 9);
    const fees = keel.paper!.groundTruth().fills.reduce((sum, fill) => sum + fill.fee, 0);
    expect(pnl.totals.fees).toBeCloseTo(fees, 9);
    expect(pnl.totals.equityChange).toBeCloseTo(venue!.realizedPnl - fees, 9);
  });

  it('parks a resting order as its snapshot once quiet, and wakes it for the next venue event', async () => {
    const { keel, clock } = await start({ parkAfterMs: 2_000, tickMs: 500 });
    const resting = await keel.submit(intent({ type: 'limit', price: 40_000 }), { intentId: 'rest' });
    expect(resting.status).toBe('SENT_TO_BROKER');
    await drive(clock, keel.idle());
    expect(keel.parkedCount()).toBe(0);

    clock.advance(3_000);
    await keel.idle();
    expect(keel.parkedCount()).toBe(1);
    expect(keel.get('rest')).toMatchObject({
      status: 'SENT_TO_BROKER',
      state: expect.stringContaining('working') as unknown,
    });

    await keel.cancel('rest');
    const settled = await drive(clock, keel.settled('rest'));
    expect(settled).toMatchObject({ status: 'FAILED', order_status: 'CANCELED', tag: 'CANCELED' });
    expect(keel.anomalies()).toEqual([]);
  });

  it('cancels an order whose send timed out without resending it behind the cancel', async () => {
    // The crash test found this race: the send is lost, a cancel finds no order, and the send's
    // pending retry then placed it, leaving a resting order keel had called cancelled.
    const { keel, clock } = await start({
      venue: { kind: 'paper', seed: 11, faults: { submitTimeoutLost: { next: 1 } } },
      retry: { baseDelayMs: 20 },
    });
    await keel.submit(intent({ type: 'limit', price: 40_000 }), { intentId: 'race' });
    await keel.cancel('race');

    const settled = await drive(clock, keel.settled('race'));
    await drive(clock, keel.idle());

    expect(settled).toMatchObject({ status: 'FAILED', order_status: 'CANCELED' });
    // Not placed and then cancelled: never placed at all, because the resend was stopped.
    expect(keel.paper!.groundTruth().orders).toEqual([]);
  });

  it('never resends an order once its cancel was asked for, even when a lookup ends the pending cancel', async () => {
    // keel chaos --network found this race: the send is lost, the cancel's answer is lost too, and
    // while the cancel waits to retry, the ack deadline's lookup answers "unknown order", which also
    // ends the pending cancel. The runtime then took the order for one nobody was cancelling and
    // sent it again: a market entry the caller had cancelled filled.
    const clock = new ManualClock();
    const paper = openPaperVenue({ seed: 11, clock, faults: { submitTimeoutLost: { next: 1 } } });
    let cancels = 0;
    const venue = venueWith(paper, {
      cancel: (symbol, clientOrderId) =>
        (cancels += 1) === 1
          ? Promise.resolve({ ok: false, errno: 'ETIMEDOUT', message: 'timed out' })
          : paper.cancel(symbol, clientOrderId),
    });
    const dir = mkdtempSync(join(tmpdir(), 'keel-e2e-'));
    dirs.push(dir);
    const keel = await createKeel(
      {
        dataDir: dir,
        mode: 'strict',
        retry: { baseDelayMs: 400, maxDelayMs: 400 },
        limits: { ackTimeoutMs: 400 },
        tickMs: 50,
      },
      { clock, venue, random: () => 0.5 },
    );
    open.push(keel);
    const stepper = paper.autoStep();
    await keel.submit(intent(), { intentId: 'cancelled-unsent' });
    await keel.cancel('cancelled-unsent');

    const settled = await drive(clock, keel.settled('cancelled-unsent'));
    await drive(clock, keel.idle());
    stepper.cancel();

    expect(settled).toMatchObject({ status: 'FAILED', order_status: 'CANCELED' });
    expect(paper.groundTruth().orders).toEqual([]);
  });

  it('cancels an order that lands at the venue after its intent was closed', async () => {
    const clock = new ManualClock();
    const paper = openPaperVenue({ seed: 11, clock });
    let late: SubmitOrder | undefined;
    // The first send times out and only reaches the venue later, after keel has given the order up.
    const venue = venueWith(paper, {
      submit: (order) => {
        if (late === undefined) {
          late = order;
          return Promise.resolve({ ok: false, errno: 'ETIMEDOUT', message: 'timed out' });
        }
        return paper.submit(order);
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'keel-e2e-'));
    dirs.push(dir);
    const keel = await createKeel(
      {
        dataDir: dir,
        mode: 'strict',
        retry: { maxAttempts: 1 },
        limits: { maxSubmitAttempts: 1 },
        absentAfterMs: 1_000,
      },
      { clock, venue, random: () => 0.5 },
    );
    open.push(keel);
    await keel.submit(intent({ type: 'limit', price: 40_000 }), { intentId: 'late' });
    const closed = await drive(clock, keel.settled('late'));
    expect(closed).toMatchObject({ status: 'FAILED', tag: 'VENUE_REJECTED:NOT_FOUND', stage: 'reconcile' });

    await paper.submit(late!); // the lost send lands now
    await drive(clock, keel.idle());

    expect(paper.groundTruth().orders.map((order) => order.status)).toEqual(['CANCELED']);
    const journal = (keel.store as SqliteStore).journal({ correlationId: closed.correlation_id });
    expect(journal.map((event) => event.type)).toContain('reconcile.stray.detected');
  });

  it('decides a cancel that never landed from the lookup, and a second cancel then lands', async () => {
    // Every cancel attempt times out while the order stays open: CANCEL_SENT_UNKNOWN once the
    // cancel's deadline passes. The lookup that follows finds the order working, so the cancel did
    // not land; the intent must not stay stuck waiting for an answer that will never come.
    const { keel, clock } = await start({
      venue: { kind: 'paper', seed: 11, faults: { cancelTimeoutLost: { next: 3 } } },
      retry: { baseDelayMs: 20, maxAttempts: 3 },
    });
    const sent = await keel.submit(intent({ type: 'limit', price: 40_000 }), { intentId: 'stuck' });
    await keel.cancel('stuck');
    const store = keel.store as SqliteStore;
    const notLanded = () =>
      store
        .journal({ correlationId: sent.correlation_id })
        .find((event) => event.reasonCode === 'CANCEL_NOT_LANDED');
    await drive(
      clock,
      (async () => {
        while (notLanded() === undefined) await new Promise((resolve) => setImmediate(resolve));
      })(),
    );
    expect(notLanded()).toMatchObject({ type: 'venue.cancel.rejected', stage: 'reconcile' });
    expect(keel.get('stuck')).toMatchObject({ status: 'SENT_TO_BROKER' });
    expect(keel.get('stuck')?.state).toContain('live.request.idle');

    await keel.cancel('stuck');
    const settled = await drive(clock, keel.settled('stuck'));
    expect(settled).toMatchObject({ status: 'FAILED', order_status: 'CANCELED' });
    expect(keel.paper!.groundTruth().orders.map((order) => order.status)).toEqual(['CANCELED']);
  });

  it('books a fill that raced its cancel though the stream lost it, before the order is retired', async () => {
    const { keel, clock } = await start({ lingerMs: 1_000 });
    const sent = await keel.submit(intent({ type: 'limit', price: 40_000 }), { intentId: 'race' });
    await drive(clock, keel.idle());
    // The venue answers the cancel CANCELED, but its engine filled the order first. The stream's
    // "canceled, then filled" is lost, and the gap only shows once a later message is lost too:
    // by then the cancelled intent is closed and lingering, the last chance to hear of that fill.
    keel.paper!.setFaults({ fillAfterCancel: { next: 1 }, streamDisconnect: { next: 1, lose: 3 } });
    await keel.cancel('race');
    expect(await drive(clock, keel.settled('race'))).toMatchObject({ order_status: 'CANCELED' });
    await drive(clock, keel.submit(intent({ type: 'limit', price: 40_000, strategy_id: 'later' })));
    await drive(clock, new Promise((resolve) => clock.setTimeout(() => resolve(null), 3_000)));
    await drive(clock, keel.idle());

    expect(keel.paper!.faultCounts()).toMatchObject({ fillAfterCancel: 1, streamDisconnect: 1 });
    expect(keel.paper!.groundTruth().orders[0]).toMatchObject({ status: 'FILLED', filledQty: 0.01 });
    expect(keel.get('race')).toMatchObject({ status: 'EXECUTED', filled_qty: 0.01, state: 'done' });
    const types = (keel.store as SqliteStore)
      .journal({ correlationId: sent.correlation_id })
      .map((event) => event.type);
    expect(types.indexOf('venue.order.filled')).toBeGreaterThan(types.indexOf('venue.order.canceled'));
  });

  it('amends a resting order through the venue, and keeps it as it was when the venue refuses', async () => {
    const { keel, clock } = await start({ risk: { maxNotional: 1_000 } });
    await keel.submit(intent({ type: 'limit', price: 40_000, qty: 0.02 }), { intentId: 'amend' });
    await drive(clock, keel.idle());

    await keel.replace('amend', 0.01);
    await drive(clock, keel.idle());
    const [order] = keel.paper!.groundTruth().orders;
    expect(order).toMatchObject({ qty: 0.01, status: 'NEW' });
    expect(keel.get('amend')?.status).toBe('SENT_TO_BROKER');

    // A quantity off the venue's step size: the venue refuses the amend (-1111), once, and the order
    // stays as it was.
    await keel.replace('amend', 0.0105);
    await drive(clock, keel.idle());
    expect(keel.paper!.groundTruth().orders).toEqual([expect.objectContaining({ qty: 0.01, status: 'NEW' })]);
    const types = (keel.store as SqliteStore)
      .journal({ correlationId: keel.get('amend')!.correlation_id })
      .map((event) => event.type);
    expect(types.filter((type) => type === 'venue.order.replaced')).toHaveLength(1);
    expect(types.filter((type) => type === 'venue.replace.rejected')).toHaveLength(1);
    expect(types).not.toContain('order.retry');

    // Growing an entry meets the entry blockers at its new size, and changes nothing when refused.
    await expect(keel.replace('amend', 0.5)).rejects.toMatchObject({
      code: 'KEEL_ERR_BLOCKED',
      message: expect.stringContaining('RISK_BLOCKED:max_notional') as unknown,
    });
    await expect(keel.replace('amend', -1)).rejects.toMatchObject({ code: 'KEEL_ERR_BAD_INPUT' });
    await drive(clock, keel.idle());
    expect(keel.paper!.groundTruth().orders).toEqual([expect.objectContaining({ qty: 0.01 })]);
    expect(keel.anomalies()).toEqual([]);
  });

  it('keeps the registry equal to a replay of its journal', async () => {
    const { keel, clock } = await start({ guard: { oneLiveEntryPerStrategySymbol: false } });
    await keel.submit(intent(), { intentId: 'a' });
    await keel.submit(intent({ type: 'limit', price: 40_000 }), { intentId: 'b' });
    await keel.submit(intent({ qty: 5 }), { intentId: 'c' });
    await keel.cancel('b');
    await drive(clock, Promise.all(['a', 'b', 'c'].map((id) => keel.settled(id))));
    await keel.idle();
    const store = keel.store as SqliteStore;
    const replayed = replayJournal(store.readJournal());
    for (const record of store.list()) {
      expect(replayed.get(record.intentId)).toMatchObject({
        status: record.status,
        tag: record.tag,
        venueOrderId: record.venueOrderId,
      });
    }
    expect(store.get('b')).toMatchObject({ status: 'FAILED', tag: 'CANCELED' });
  });
});

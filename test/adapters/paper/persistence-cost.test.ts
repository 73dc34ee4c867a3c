// The persisted paper venue writes what a call changed, not its whole history: a venue holding 20,000
// orders writes the same rows and about the same WAL bytes per call as a new one. Also: a
// paper-venue.json from an earlier keel is migrated on open and the venue carries on from it.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DB_FILE,
  MIGRATED_STATE_FILE,
  STATE_FILE,
  paperWritesOfLastCommit,
  readPaperState,
} from '../../../src/adapters/venue/paper/paper.store.js';
import { openPaperVenue, type PaperVenue } from '../../../src/adapters/venue/paper/paper.venue.js';
import { ManualClock } from '../../support/manual-clock.js';
import { SYMBOL, order, script, valueOf } from './paper-support.js';
import { legacyState } from '../../support/paper-history.js';

const HISTORY = 20_000;
const symbols = { [SYMBOL]: { start: 100, volatility: 0, tickSize: 0.1, stepSize: 0.001 } };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-paper-cost-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(dir: string, clock = new ManualClock(0)): PaperVenue {
  const venue = openPaperVenue({ seed: 3, clock, dataDir: dir, symbols });
  cleanups.unshift(() => venue.close());
  return venue;
}

/** A data dir holding `count` orders of history, migrated from a legacy state file. */
function withHistory(count: number): string {
  const dir = dataDir();
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(legacyState(count)));
  return dir;
}

/**
 * The WAL bytes one call appends: the WAL is checkpointed and truncated first (from a second
 * connection, as any reader could), so afterwards its size is exactly what the call's commit wrote.
 */
async function walBytesOf(dir: string, call: () => Promise<unknown>): Promise<number> {
  const db = new Database(join(dir, DB_FILE));
  try {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    expect(result?.busy).toBe(0);
  } finally {
    db.close();
  }
  expect(statSync(join(dir, `${DB_FILE}-wal`)).size).toBe(0);
  await call();
  return statSync(join(dir, `${DB_FILE}-wal`)).size;
}

/** The same four calls against a venue: a filled market order, a resting limit, its cancel, a step. */
async function fourCalls(venue: PaperVenue, clock: ManualClock, dir: string) {
  const rows = [];
  const bytes = [];
  bytes.push(await walBytesOf(dir, () => venue.submit(order({ clientOrderId: 'EN-new', qty: 0.1 }))));
  rows.push(paperWritesOfLastCommit(dir));
  bytes.push(
    await walBytesOf(dir, () =>
      venue.submit(
        order({ clientOrderId: 'LM-new', type: 'limit', price: 90, timeInForce: 'GTC', qty: 0.1 }),
      ),
    ),
  );
  rows.push(paperWritesOfLastCommit(dir));
  bytes.push(await walBytesOf(dir, () => venue.cancel(SYMBOL, 'LM-new')));
  rows.push(paperWritesOfLastCommit(dir));
  bytes.push(
    await walBytesOf(dir, () => {
      clock.advance(1000);
      venue.sync();
      return Promise.resolve();
    }),
  );
  rows.push(paperWritesOfLastCommit(dir));
  return { rows, bytes };
}

describe('paper venue persistence cost', () => {
  it(`writes only the rows a call changed, with ${HISTORY} orders of history`, async () => {
    const dir = withHistory(HISTORY);
    const clock = new ManualClock(0);
    const venue = open(dir, clock);
    const { rows } = await fourCalls(venue, clock, dir);
    // Each call committed once (the migration was commit 1).
    expect(rows.map((row) => row?.commit)).toEqual([2, 3, 4, 5]);
    const [submitted, rested, canceled, stepped] = rows;
    // A filled market order: its row, its fill, two log lines, the position, and the seq and counter.
    expect(submitted).toMatchObject({ orders: 1, fills: 1, log: 2, positions: 1 });
    expect(submitted?.kv).toBeLessThanOrEqual(3);
    expect(rested).toMatchObject({ orders: 1, fills: 0, log: 1, positions: 0 });
    // The cancel rewrites the one order it ended, not the 20,000 before it.
    expect(canceled).toMatchObject({ orders: 1, fills: 0, log: 1, positions: 0 });
    expect(stepped).toMatchObject({ orders: 0, fills: 0, log: 0, positions: 0 });
    expect(stepped?.kv).toBeLessThanOrEqual(3);

    const saved = readPaperState(dir);
    expect(saved?.orders).toHaveLength(HISTORY + 2);
    expect(saved?.log).toHaveLength(2 * HISTORY + 4);
    expect(saved?.orders.at(-1)).toMatchObject({ clientOrderId: 'LM-new', status: 'CANCELED' });
  });

  it('appends about as many WAL bytes per call with 20,000 orders of history as with none', async () => {
    const emptyDir = dataDir();
    const emptyClock = new ManualClock(0);
    const empty = open(emptyDir, emptyClock);
    // The first commit writes the whole (new, small) state; measure the calls after it.
    valueOf(await empty.submit(order({ clientOrderId: 'EN-first', qty: 0.1 })));
    const longDir = withHistory(HISTORY);
    const longClock = new ManualClock(0);
    const long = open(longDir, longClock);

    const fresh = await fourCalls(empty, emptyClock, emptyDir);
    const aged = await fourCalls(long, longClock, longDir);
    const inspect = new Database(join(longDir, DB_FILE), { readonly: true });
    const page = Number(inspect.pragma('page_size', { simple: true }));
    inspect.close();
    // The state file of 20,000 orders is several MB; a call writes a few pages of it.
    expect(statSync(join(longDir, DB_FILE)).size).toBeGreaterThan(100 * page * 8);
    for (const [index, bytes] of aged.bytes.entries()) {
      const before = fresh.bytes[index] ?? 0;
      expect(before).toBeGreaterThan(0);
      // A deeper B-tree dirties a few more interior pages per table touched; nothing scales with history.
      expect(bytes, `call ${index}: ${bytes} bytes vs ${before} with no history`).toBeLessThanOrEqual(
        before + 6 * (page + 24),
      );
      expect(bytes).toBeLessThan(16 * (page + 24));
    }
  });

  it('migrates a state file from an earlier keel on open and carries on from it', async () => {
    const dir = withHistory(3);
    const legacy = legacyState(3);
    const venue = open(dir);
    expect(existsSync(join(dir, STATE_FILE))).toBe(false);
    expect(existsSync(join(dir, MIGRATED_STATE_FILE))).toBe(true);
    expect(venue.groundTruth().log).toEqual(legacy.log);
    expect(valueOf(await venue.positions())).toMatchObject([{ symbol: SYMBOL, qty: 0.003 }]);
    // A reused clientOrderId of the migrated history is still known to the venue.
    expect(
      await venue.submit(order({ clientOrderId: 'H-1', type: 'limit', price: 90, timeInForce: 'GTC' })),
    ).toMatchObject({
      ok: true,
      value: { venueOrderId: '7' },
    });
    const reopened = open(dir);
    expect(reopened.groundTruth()).toEqual(venue.groundTruth());
    expect(readPaperState(dir)?.seq).toBe(7);
  });

  it('saves after every call exactly what the venue holds, through triggers, partial fills and faults', async () => {
    const dir = dataDir();
    const clock = new ManualClock(0);
    const options = {
      seed: 9,
      clock,
      dataDir: dir,
      symbols: { [SYMBOL]: { start: 100, volatility: 0.01, tickSize: 0.1, stepSize: 0.001 } },
      liquidityPerStep: 0.05,
      faults: { fillAfterCancel: { probability: 0.3 }, duplicateFill: { probability: 0.2 } },
    };
    const venue = openPaperVenue(options);
    cleanups.unshift(() => venue.close());
    const matchesDisk = async (step: string): Promise<void> => {
      const reopened = openPaperVenue(options);
      try {
        expect(reopened.groundTruth(), step).toEqual(venue.groundTruth());
        expect(valueOf(await reopened.openOrders()), step).toEqual(valueOf(await venue.openOrders()));
        expect(reopened.price(SYMBOL), step).toBe(venue.price(SYMBOL));
      } finally {
        reopened.close();
      }
    };
    for (let round = 0; round < 8; round += 1) {
      const price = venue.price(SYMBOL) ?? 100;
      const side = round % 2 === 0 ? 'buy' : 'sell';
      await venue.submit(order({ clientOrderId: `EN-${round}`, side, qty: 0.12 }));
      await matchesDisk(`market ${round}`);
      await venue.submit(
        order({
          clientOrderId: `LM-${round}`,
          type: 'limit',
          timeInForce: 'GTC',
          qty: 0.2,
          price: Math.round(price * (side === 'buy' ? 0.99 : 1.01) * 10) / 10,
          side,
        }),
      );
      // A close-position stop carries no quantity, as on Binance.
      const { qty: _qty, ...stop } = order({
        clientOrderId: `SL-${round}`,
        type: 'stop_market',
        side: side === 'buy' ? 'sell' : 'buy',
        stopPrice: Math.round(price * (side === 'buy' ? 0.995 : 1.005) * 10) / 10,
        closePosition: true,
      });
      valueOf(await venue.submit(stop));
      await matchesDisk(`limit and stop ${round}`);
      await venue.replace({ symbol: SYMBOL, clientOrderId: `LM-${round}`, qty: 0.3 });
      clock.advance(3000);
      venue.sync();
      await matchesDisk(`steps ${round}`);
      await venue.cancel(SYMBOL, `LM-${round}`);
      await matchesDisk(`cancel ${round}`);
    }
    const truth = venue.groundTruth();
    const kinds = new Set(truth.log.map((entry) => entry.kind));
    // The session reached every kind of in-place change the store has to follow.
    expect([...kinds].sort()).toEqual([
      'order.accepted',
      'order.canceled',
      'order.expired',
      'order.filled',
      'order.replaced',
      'order.triggered',
    ]);
    expect(truth.orders.some((saved) => saved.status === 'PARTIALLY_FILLED' || saved.filledQty > 0)).toBe(
      true,
    );
  });

  it('keeps a stop triggered across a reopen when the step had no liquidity left to fill it', async () => {
    const dir = dataDir();
    const options = {
      seed: 1,
      symbols,
      liquidityPerStep: 0.05,
      ticks: script({ 1: 102, 2: 102, 3: 102 }),
    };
    const calls = async (venue: PaperVenue, clock: ManualClock): Promise<void> => {
      const sell = order({
        clientOrderId: 'LM-1',
        side: 'sell',
        type: 'limit',
        price: 101,
        timeInForce: 'GTC',
      });
      valueOf(await venue.submit({ ...sell, qty: 0.05 }));
      valueOf(
        await venue.submit(order({ clientOrderId: 'SB-1', type: 'stop_market', stopPrice: 101, qty: 0.05 })),
      );
      // The limit, accepted first, takes the step's liquidity; the stop triggers and waits.
      clock.advance(1000);
      venue.sync();
    };
    const twinClock = new ManualClock(0);
    const twin = openPaperVenue({ ...options, clock: twinClock });
    await calls(twin, twinClock);
    const clock = new ManualClock(0);
    const first = openPaperVenue({ ...options, clock, dataDir: dir });
    await calls(first, clock);
    first.close();
    expect(twin.groundTruth().log.filter((entry) => entry.kind === 'order.triggered')).toHaveLength(1);

    const reopened = open(dir, clock);
    for (const [venue, at] of [
      [twin, twinClock],
      [reopened, clock],
    ] as const) {
      at.advance(1000);
      venue.sync();
    }
    expect(reopened.groundTruth()).toEqual(twin.groundTruth());
    expect(valueOf(await reopened.queryOrder(SYMBOL, 'SB-1'))).toMatchObject({ status: 'FILLED' });
  });

  it('restores an amended order and a stepped price after a reopen', async () => {
    const dir = dataDir();
    const clock = new ManualClock(0);
    const venue = open(dir, clock);
    valueOf(
      await venue.submit(
        order({ clientOrderId: 'LM-1', type: 'limit', price: 90, timeInForce: 'GTC', qty: 0.1 }),
      ),
    );
    valueOf(await venue.replace({ symbol: SYMBOL, clientOrderId: 'LM-1', qty: 0.2, price: 95 }));
    clock.advance(3000);
    venue.sync();
    const reopened = open(dir, clock);
    expect(reopened.groundTruth()).toEqual(venue.groundTruth());
    expect(valueOf(await reopened.openOrders())).toEqual(valueOf(await venue.openOrders()));
    expect(reopened.price(SYMBOL)).toBe(venue.price(SYMBOL));
  });
});

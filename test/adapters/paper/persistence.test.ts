import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPaperVenue } from '../../../src/adapters/venue/paper/paper.venue.js';
import { ManualClock } from '../../support/manual-clock.js';
import { SYMBOL, order, valueOf } from './paper-support.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-paper-'));
  dirs.push(dir);
  return dir;
}

const walk = { [SYMBOL]: { start: 100, volatility: 0.01 } };

/** Trades through a random walk; `reopenAt` restarts the venue from disk after that many orders. */
async function session(seed: number, dir?: string, reopenAt?: number) {
  const clock = new ManualClock(0);
  const options = {
    seed,
    clock,
    symbols: walk,
    faults: { rateLimit: { probability: 0.2 } },
    ...(dir === undefined ? {} : { dataDir: dir }),
  };
  let venue = openPaperVenue(options);
  for (let index = 0; index < 6; index += 1) {
    if (index === reopenAt) venue = openPaperVenue(options);
    clock.advance(2000);
    venue.sync();
    const price = venue.price(SYMBOL) ?? 0;
    await venue.submit(order({ clientOrderId: `EN-${index}`, side: index % 2 ? 'sell' : 'buy', qty: 0.1 }));
    await venue.submit(
      order({
        clientOrderId: `LM-${index}`,
        type: 'limit',
        timeInForce: 'GTC',
        price: Math.round(price * 0.995 * 10) / 10,
      }),
    );
  }
  return venue.groundTruth();
}

describe('paper venue determinism and persistence', () => {
  it('produces the same ground-truth log from the same seed', async () => {
    const first = await session(42);
    expect(first.fills.length).toBeGreaterThan(3);
    expect(await session(42)).toEqual(first);
    expect(await session(43)).not.toEqual(first);
  });

  it('restores book, positions and log after a reopen', async () => {
    const dir = dataDir();
    const clock = new ManualClock(0);
    const venue = openPaperVenue({ seed: 5, clock, dataDir: dir, symbols: walk });
    valueOf(await venue.submit(order({ qty: 0.2 })));
    valueOf(
      await venue.submit(order({ clientOrderId: 'LM-1', type: 'limit', price: 50, timeInForce: 'GTC' })),
    );
    const reopened = openPaperVenue({ seed: 5, clock, dataDir: dir, symbols: walk });
    expect(reopened.groundTruth()).toEqual(venue.groundTruth());
    expect(valueOf(await reopened.openOrders())).toEqual(valueOf(await venue.openOrders()));
    expect(valueOf(await reopened.positions())).toEqual(valueOf(await venue.positions()));
    expect(await reopened.submit(order({ clientOrderId: 'LM-1' }))).toMatchObject({ ok: false, code: -4116 });
  });

  it('continues the same price path and fault dice after a reopen as without one', async () => {
    const uninterrupted = await session(7, dataDir());
    const restarted = await session(7, dataDir(), 3);
    expect(restarted).toEqual(uninterrupted);
  });

  it('keeps its state in one SQLite database, leaving no temp file behind', async () => {
    const dir = dataDir();
    const venue = openPaperVenue({ seed: 1, clock: new ManualClock(0), dataDir: dir, symbols: walk });
    valueOf(await venue.submit(order({ qty: 0.2 })));
    expect(existsSync(join(dir, 'paper-venue.db'))).toBe(true);
    // The WAL sidecars belong to the open database; nothing else may appear.
    expect(readdirSync(dir).sort()).toEqual(['paper-venue.db', 'paper-venue.db-shm', 'paper-venue.db-wal']);
    venue.close();
  });

  it('refuses a state file that is not the paper venue state instead of half-reading it', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'paper-venue.json'), JSON.stringify({ version: 1, orders: 'none' }));
    expect(() => openPaperVenue({ seed: 1, clock: new ManualClock(0), dataDir: dir, symbols: walk })).toThrow(
      /paper venue state .*orders/,
    );
  });
});

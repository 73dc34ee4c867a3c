import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeel, type Keel } from '../../src/config/create-keel.js';
import type { SqliteStore } from '../../src/adapters/store/sqlite.store.js';
import { drive } from '../support/drive.js';
import { entryIntent } from '../support/intents.js';
import { ManualClock } from '../support/manual-clock.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function keelWithRejects(maxErrors: number): Promise<{ keel: Keel; clock: ManualClock }> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-storm-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock();
  // Every submit is refused for insufficient margin (-2019): a fatal answer, each one counted.
  const keel = await createKeel(
    {
      dataDir: dir,
      mode: 'strict',
      venue: { kind: 'paper', seed: 3, faults: { reject: { probability: 1, code: -2019 } } },
      guard: { oneLiveEntryPerStrategySymbol: false },
      errorStorm: { maxErrors, windowMs: 60_000 },
      reconcile: { enabled: false },
    },
    { clock, random: () => 0.5 },
  );
  cleanups.push(() => keel.close());
  return { keel, clock };
}

describe('venue error storm', () => {
  it('trips the latched kill switch once past maxErrors fatal answers, then denies entries but not exits', async () => {
    const { keel, clock } = await keelWithRejects(5);
    for (let i = 0; i < 5; i++) {
      await keel.submit(entryIntent(), { intentId: `e-${i}` });
      await drive(clock, keel.settled(`e-${i}`));
    }
    expect(keel.killSwitch.view().view).toEqual({ tripped: false });

    await keel.submit(entryIntent(), { intentId: 'e-5' });
    await drive(clock, keel.settled('e-5'));
    await drive(clock, keel.idle());

    expect(keel.killSwitch.view().view).toEqual({ tripped: true, trigger: 'error_storm' });
    const blocked = await keel.submit(entryIntent(), { intentId: 'e-6' });
    expect(blocked).toMatchObject({ status: 'FAILED', tag: 'KILL_SWITCH:error_storm', stage: 'guard' });
    const exit = await keel.submit(entryIntent({ kind: 'EXIT', side: 'sell', reduce_only: true }), {
      intentId: 'x-1',
    });
    expect(exit.status).toBe('SENT_TO_BROKER');
    const trips = (keel.store as SqliteStore)
      .journal({ correlationId: 'supervisor.kill-switch' })
      .filter((event) => event.type.includes('trip'));
    expect(trips).toHaveLength(1);
    expect(trips[0]?.data).toMatchObject({ trigger: 'error_storm' });
  });
});

/**
 * A graceful stop with `shutdown.cancelOpenEntries`: working entry orders are cancelled at the
 * venue before keel closes, a resting protective stop is left working, and the journal says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite.store.js';
import { startDaemon } from '../../src/daemon/run.js';
import { entryIntent } from '../support/intents.js';
import { testDaemonOptions } from '../support/daemon.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-shutdown-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a graceful stop', () => {
  it('cancels working entries when configured to, and leaves protective stops working', async () => {
    const dataDir = join(dir, 'data');
    const daemon = await startDaemon(
      testDaemonOptions(dataDir, { shutdown: { graceMs: 5_000, cancelOpenEntries: true } }),
    );
    const price = daemon.keel.paper?.price('BTCUSDT') ?? 50_000;
    await daemon.keel.submit(entryIntent({ strategy_id: 'long' }), { intentId: 'long' });
    const resting = await daemon.keel.submit(entryIntent({ type: 'limit', price: Math.floor(price * 0.5) }), {
      intentId: 'resting-entry',
    });
    expect(resting.status).toBe('SENT_TO_BROKER');
    const stop = await daemon.keel.submit(
      entryIntent({
        kind: 'SL',
        side: 'sell',
        type: 'stop_market',
        stop_price: Math.floor(price * 0.8),
        reduce_only: true,
      }),
      { intentId: 'stop' },
    );
    expect(stop.status).toBe('SENT_TO_BROKER');
    await daemon.keel.idle();

    expect(await daemon.stop('test')).toEqual({ clean: true });
    const store = openSqliteStore({ dataDir });
    try {
      expect(store.get('resting-entry')).toMatchObject({ status: 'FAILED', tag: 'CANCELED' });
      expect(store.get('stop')?.status).toBe('SENT_TO_BROKER');
    } finally {
      await store.close();
    }
  });
});

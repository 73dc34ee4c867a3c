/**
 * What one call of the persisted paper venue writes, with no history and with a long one: the WAL
 * bytes its commit appends (checkpointed and truncated before every call, so the size after it is
 * exactly that call's write), its rows, and its wall time. Invariants: the long history is built as
 * a legacy state file and migrated on open (no fsync per historic order); both runs make the same
 * cycle of calls (a filled market order, a resting limit, its cancel, one feed step).
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { DB_FILE, STATE_FILE, paperWritesOfLastCommit } from '../src/adapters/venue/paper/paper.store.js';
import { openPaperVenue, type PaperVenue } from '../src/adapters/venue/paper/paper.venue.js';
import type { ClockPort } from '../src/ports/clock.port.js';
import { makeTempDir, median, percentile } from './support.js';
import { legacyState } from '../test/support/paper-history.js';

const SYMBOL = 'BTCUSDT';

export interface PaperPersistResult {
  history: number;
  calls: number;
  walBytesPerCallMedian: number;
  walBytesPerCallMax: number;
  rowsPerCallMedian: number;
  rowsPerCallMax: number;
  callMsP50: number;
  callMsP99: number;
  dbFileBytes: number;
}

/** A clock that moves only when told to and never fires timers (the venue runs with no latency). */
function stillClock(): ClockPort & { advance(ms: number): void } {
  let now = 0;
  const none = { cancel: () => undefined };
  return {
    now: () => now,
    setInterval: () => none,
    setTimeout: () => none,
    advance: (ms) => (now += ms),
  };
}

export async function runPaperPersist(options: {
  history: number;
  cycles: number;
}): Promise<PaperPersistResult> {
  const dir = makeTempDir(`paper-${options.history}`);
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(legacyState(options.history)));
  const clock = stillClock();
  const venue: PaperVenue = openPaperVenue({
    seed: 3,
    clock,
    dataDir: dir,
    symbols: { [SYMBOL]: { start: 100, volatility: 0.0005, tickSize: 0.1, stepSize: 0.001 } },
  });
  const wal = join(dir, `${DB_FILE}-wal`);
  const checkpoint = new Database(join(dir, DB_FILE));
  const bytes: number[] = [];
  const rows: number[] = [];
  const ms: number[] = [];
  const measure = async (call: () => Promise<unknown>): Promise<void> => {
    checkpoint.pragma('wal_checkpoint(TRUNCATE)');
    const start = performance.now();
    await call();
    ms.push(performance.now() - start);
    bytes.push(statSync(wal).size);
    const written = paperWritesOfLastCommit(dir);
    rows.push(written ? written.kv + written.orders + written.fills + written.log + written.positions : 0);
  };
  try {
    for (let cycle = 0; cycle < options.cycles; cycle += 1) {
      await measure(() => venue.submit(market(`EN-${cycle}`)));
      await measure(() =>
        venue.submit({ ...market(`LM-${cycle}`), type: 'limit', price: 50, timeInForce: 'GTC' }),
      );
      await measure(() => venue.cancel(SYMBOL, `LM-${cycle}`));
      await measure(() => {
        clock.advance(1000);
        venue.sync();
        return Promise.resolve();
      });
    }
  } finally {
    checkpoint.close();
    venue.close();
  }
  const sortedMs = [...ms].sort((a, b) => a - b);
  return {
    history: options.history,
    calls: ms.length,
    walBytesPerCallMedian: median(bytes),
    walBytesPerCallMax: Math.max(...bytes),
    rowsPerCallMedian: median(rows),
    rowsPerCallMax: Math.max(...rows),
    callMsP50: percentile(sortedMs, 50),
    callMsP99: percentile(sortedMs, 99),
    dbFileBytes: statSync(join(dir, DB_FILE)).size,
  };
}

function market(clientOrderId: string) {
  return {
    clientOrderId,
    symbol: SYMBOL,
    side: 'buy' as const,
    type: 'market' as const,
    qty: 0.1,
    reduceOnly: false,
    closePosition: false,
  };
}

/**
 * `reconcileTickMs` (issue 4): the CPU one reconcile tick costs over 1 000 symbols and 10 000 open
 * orders, driven through the real supervisors (`createSupervisors(...).tick(now)`, the call the runtime
 * makes on every tick) over a real SQLite store, against a stub venue that answers at once.
 * Invariants: every measured tick runs one full cycle (fetch answered, compared, summary and belief
 * debt journaled) and the run fails loudly otherwise; the venue's answers are built before the clock
 * starts, so their cost is not charged to keel; the booked positions seed the position beliefs at
 * boot and disagree with the venue on the same few symbols (drift, phantom, orphan), so every tick
 * compares, feeds the beliefs and journals, and drift is repaired whenever its cooldown allows.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSupervisors, RECONCILE_CORRELATION_ID } from '../src/actors/supervisors.js';
import { openSqliteStore } from '../src/adapters/store/sqlite.store.js';
import type { Position } from '../src/domain/position.js';
import type { PositionMap } from '../src/domain/reconcile.js';
import type { JournalEvent, StorePort } from '../src/ports/store.port.js';
import type { VenueOrder, VenuePort, VenuePosition, VenueResult } from '../src/ports/venue.port.js';
import { BenchClock, makeTempDir, median, percentile } from './support.js';

export interface ReconcileTickOptions {
  symbols: number;
  openOrders: number;
  warmupTicks: number;
  ticks: number;
}

export interface ReconcileTickResult {
  /** Median CPU (user + system) of one tick, from `tick(now)` until every write it started is durable. */
  cpuMs: number;
  cpuP90Ms: number;
  cpuMaxMs: number;
  /** Median CPU from `tick(now)` until the loop hands the cycle's summary to the journal. */
  cpuToSummaryMs: number;
  wallMs: number;
  ticks: number;
  symbols: number;
  openOrders: number;
  conditionalOrders: number;
  /** Symbols with a protective stop (reduce-only or close-position) among the open orders. */
  symbolsWithStops: number;
  /** The last measured cycle's comparison, as its summary journaled it. */
  lastCycle: {
    confirmed: number;
    drift: number;
    phantom: number;
    orphan: number;
    repairActions: number;
    repairSkipped: number;
  };
  /** Journal rows written per measured tick (summary, belief state, kill switch). */
  journalRowsPerTick: number;
  killSwitchTripped: boolean;
}

/** How each symbol's local belief relates to the venue's position. */
type Role = 'confirmed' | 'drift' | 'phantom' | 'orphan';

const DRIFT = 5;
const PHANTOM = 3;
const ORPHAN = 2;
const INTERVAL_MS = 10_000;

const symbolOf = (index: number): string => `S${String(index).padStart(4, '0')}USDT`;

function roleOf(index: number, symbols: number): Role {
  // Spread over the book rather than bunched, so the sorted comparison meets them in the middle.
  const stride = Math.floor(symbols / (DRIFT + PHANTOM + ORPHAN + 1));
  const slot = index % stride === stride - 1 ? Math.floor(index / stride) : -1;
  if (slot < 0) return 'confirmed';
  if (slot < DRIFT) return 'drift';
  if (slot < DRIFT + PHANTOM) return 'phantom';
  if (slot < DRIFT + PHANTOM + ORPHAN) return 'orphan';
  return 'confirmed';
}

const positionOf = (index: number): Position => ({
  qty: 0.5 + (index % 17) * 0.25,
  side: index % 2 === 0 ? 'long' : 'short',
  entryPrice: 100 + index * 0.5,
});

/**
 * The venue's snapshot number `variant`. Drifted symbols report a size that grows a little with every
 * snapshot: a repair adopts what the venue said, and the next snapshot drifts from it again.
 */
function venuePositions(roles: readonly Role[], variant: number, afterBoot: boolean): VenuePosition[] {
  return roles.map((role, index) => {
    const position = positionOf(index);
    let qty = position.side === 'long' ? position.qty : -position.qty;
    // The boot snapshot is the base of every belief, so a phantom or an orphan only shows after it.
    if ((role === 'phantom' && afterBoot) || (role === 'orphan' && !afterBoot)) qty = 0;
    if (role === 'drift') qty *= 1.5 + variant / 100;
    // Binance reports every symbol of the account, flat ones with size 0.
    return {
      symbol: symbolOf(index),
      qty,
      entryPrice: qty === 0 ? 0 : position.entryPrice,
      realizedPnl: 0,
      unrealizedPnl: 0,
      markPrice: position.entryPrice,
      updatedAt: 0,
    };
  });
}

/**
 * `perSymbol` orders for every symbol: on most open positions a reduce-only stop for the whole size
 * (every 10th a close-position stop, every 25th none), a reduce-only take-profit, then resting
 * limit orders, some partly filled. Each is one object literal with its fields in the venue port's
 * order, as an adapter's parser builds them: objects assembled from layered spreads made keel's
 * mapping of them twenty times slower in a first version of this bench.
 */
function openOrdersOf(symbols: number, total: number): VenueOrder[] {
  const orders: VenueOrder[] = [];
  const perSymbol = Math.ceil(total / symbols);
  for (let index = 0; index < symbols && orders.length < total; index += 1) {
    const symbol = symbolOf(index);
    const position = positionOf(index);
    const exit = position.side === 'long' ? 'sell' : 'buy';
    for (let slot = 0; slot < perSymbol && orders.length < total; slot += 1) {
      const clientOrderId = `keel-${symbol}-${slot}`;
      const venueOrderId = `v-${orders.length}`;
      if ((slot === 0 && index % 25 !== 0) || slot === 1) {
        const stop = slot === 0;
        const close = stop && index % 10 === 0;
        const away = stop === (exit === 'sell') ? 0.95 : 1.05;
        orders.push({
          clientOrderId,
          venueOrderId,
          symbol,
          side: exit,
          type: stop ? 'stop_market' : 'take_profit_market',
          status: 'NEW',
          qty: close ? 0 : position.qty,
          filledQty: 0,
          stopPrice: position.entryPrice * away,
          reduceOnly: !close,
          closePosition: close,
          conditional: true,
          updatedAt: 0,
        });
      } else {
        const partial = slot % 3 === 0;
        orders.push({
          clientOrderId,
          venueOrderId,
          symbol,
          side: slot % 2 === 0 ? 'buy' : 'sell',
          type: 'limit',
          status: partial ? 'PARTIALLY_FILLED' : 'NEW',
          qty: 0.1 * (slot + 1),
          filledQty: partial ? 0.05 : 0,
          price: position.entryPrice * (slot % 2 === 0 ? 0.98 : 1.02),
          reduceOnly: false,
          closePosition: false,
          conditional: false,
          updatedAt: 0,
        });
      }
    }
  }
  return orders;
}

/** Answers `positions()` and `openOrders()` from prebuilt snapshots at once; anything else is a bench bug. */
function snapshotVenue(roles: readonly Role[], orders: VenueOrder[], count: number): VenuePort {
  // Snapshot 0 is the boot one (phantoms still held, no orphans yet); a call past the prebuilt ones fails the run.
  const answers = Array.from({ length: count }, (_, index) => venuePositions(roles, index, index > 0));
  let snapshots = 0;
  const unexpected = (method: string) => (): Promise<never> =>
    Promise.reject(new Error(`the reconcile bench venue does not answer ${method}`));
  return {
    capabilities: {
      venue: 'paper',
      amend: false,
      conditionalOrders: true,
      closePosition: true,
      reduceOnly: true,
      timeInForce: ['GTC'],
      maxClientOrderIdLength: 36,
      stream: false,
    },
    // Orphans appear after boot (opened by hand, say), so boot adoption does not absorb them.
    positions(): Promise<VenueResult<VenuePosition[]>> {
      const value = answers[snapshots];
      snapshots += 1;
      if (!value) return Promise.reject(new Error(`no venue snapshot prebuilt for call ${snapshots}`));
      return Promise.resolve({ ok: true, value });
    },
    openOrders: () => Promise.resolve({ ok: true, value: orders }),
    submit: unexpected('submit'),
    cancel: unexpected('cancel'),
    replace: unexpected('replace'),
    queryOrder: unexpected('queryOrder'),
    fillsSince: unexpected('fillsSince'),
    subscribe: () => ({ close: () => undefined }),
  };
}

/** The store, with the CPU reading taken as the loop hands each reconcile summary to it. */
function summaryMarkingStore(inner: StorePort, onSummary: () => void): StorePort & { appended: number } {
  let appended = 0;
  const append = (event: JournalEvent, also?: readonly JournalEvent[]): Promise<void> => {
    if (event.type === 'reconcile.summary') onSummary();
    appended += 1 + (also?.length ?? 0);
    return inner.append(event, also);
  };
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'append') return append;
      if (property === 'appended') return appended;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as StorePort & { appended: number };
}

const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

export async function runReconcileTick(options: ReconcileTickOptions): Promise<ReconcileTickResult> {
  const { symbols } = options;
  const roles = Array.from({ length: symbols }, (_, index) => roleOf(index, symbols));
  const orders = openOrdersOf(symbols, options.openOrders);
  const venue = snapshotVenue(roles, orders, options.warmupTicks + options.ticks);

  // What Runtime.positions() returns: a fresh map of the booked positions on every call.
  const booked = roles.flatMap((role, index) =>
    role === 'orphan' ? [] : [{ symbol: symbolOf(index), position: positionOf(index) }],
  );
  const localPositions = (): PositionMap => {
    const map: PositionMap = {};
    for (const { symbol, position } of booked) map[symbol] = { ...position };
    return map;
  };

  let summaryCpu: NodeJS.CpuUsage | null = null;
  let tickStart: NodeJS.CpuUsage = process.cpuUsage();
  const sqlite = openSqliteStore({ dataDir: join(makeTempDir('reconcile'), 'keel') });
  const store = summaryMarkingStore(sqlite, () => {
    summaryCpu = process.cpuUsage(tickStart);
  });
  const clock = new BenchClock();
  const supervisors = createSupervisors(
    { store, clock, venue, localPositions },
    { mode: 'lenient', reconcile: { intervalMs: INTERVAL_MS } },
  );

  const cpu: number[] = [];
  const toSummary: number[] = [];
  const wall: number[] = [];
  let rowsBefore = 0;
  try {
    for (let tick = 0; tick < options.warmupTicks + options.ticks; tick += 1) {
      if (tick === options.warmupTicks) rowsBefore = store.appended;
      const cycleBefore = supervisors.reconcileStatus()?.cycle ?? 0;
      // Each tick is a cycle's due time: the interval has passed since the previous one.
      clock.advance(INTERVAL_MS);
      const now = clock.now();
      summaryCpu = null;
      const wallStart = performance.now();
      tickStart = process.cpuUsage();
      supervisors.tick(now);
      await supervisors.idle();
      const tickCpu = cpuMsSince(tickStart);
      const tickWall = performance.now() - wallStart;
      const status = supervisors.reconcileStatus();
      // Every tick must run a cycle; only measured ones must journal a summary: a quiet cycle journals
      // none, and the boot cycle is quiet when the venue's first snapshot becomes the beliefs' base.
      const summaryMissing = summaryCpu === null && tick >= options.warmupTicks;
      if (!status || status.cycle !== cycleBefore + 1 || status.inFlight || summaryMissing) {
        throw new Error(
          `reconcile tick ${tick} did not run one full cycle: ${JSON.stringify(status)}, ` +
            `summary ${summaryCpu === null ? 'not journaled' : 'journaled'}`,
        );
      }
      if (tick < options.warmupTicks || summaryCpu === null) continue;
      const marked: NodeJS.CpuUsage = summaryCpu;
      cpu.push(tickCpu);
      toSummary.push((marked.user + marked.system) / 1000);
      wall.push(tickWall);
    }
    if (supervisors.anomalies().length > 0)
      throw new Error(`the supervisors refused events: ${JSON.stringify(supervisors.anomalies())}`);
    const summaries = store.journal({ correlationId: RECONCILE_CORRELATION_ID });
    const last = summaries.at(-1)?.data as
      | {
          confirmed: number;
          drift: unknown[];
          phantom: unknown[];
          orphan: unknown[];
          repair_actions: number;
          repair_skipped: unknown[];
        }
      | undefined;
    if (!last) throw new Error('no reconcile summary was journaled');
    const sorted = [...cpu].sort((a, b) => a - b);
    return {
      cpuMs: median(cpu),
      cpuP90Ms: percentile(sorted, 90),
      cpuMaxMs: sorted.at(-1) ?? Number.NaN,
      cpuToSummaryMs: median(toSummary),
      wallMs: median(wall),
      ticks: cpu.length,
      symbols,
      openOrders: orders.length,
      conditionalOrders: orders.filter((order) => order.conditional).length,
      symbolsWithStops: new Set(
        orders.filter((order) => order.type === 'stop_market').map((order) => order.symbol),
      ).size,
      lastCycle: {
        confirmed: last.confirmed,
        drift: last.drift.length,
        phantom: last.phantom.length,
        orphan: last.orphan.length,
        repairActions: last.repair_actions,
        repairSkipped: last.repair_skipped.length,
      },
      journalRowsPerTick: (store.appended - rowsBefore) / cpu.length,
      killSwitchTripped: supervisors.killSwitch().view.tripped,
    };
  } finally {
    supervisors.stop();
    await sqlite.close();
  }
}

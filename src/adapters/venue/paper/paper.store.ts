/**
 * The paper venue's own store: `paper-venue.db` in a data dir (SQLite via better-sqlite3, WAL,
 * synchronous=FULL), so the paper book, positions, ground-truth log and generator state survive a
 * restart of keel. Invariants: each commit is one transaction, so a crash leaves the old or the new
 * state, never half; a commit writes only what changed since the last one (new orders, fills and log
 * entries as new rows, touched orders and positions as updated rows, scalars whose value moved), so
 * its cost does not grow with history; a `paper-venue.json` from an earlier keel is migrated on open.
 *
 * Why SQLite rather than an append-only log with compaction: keel already ships better-sqlite3 with
 * the same WAL + FULL settings (one fsync per commit, measured in notes/storage.md); its transactions
 * give multi-row atomicity and torn-write recovery for free, and an order's later changes update its
 * row in place, so the file tracks the state's size with no compaction pass, framing or torn-tail
 * handling of our own to get wrong.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ERROR_CODES, KeelError } from '../../../domain/errors.js';
import type { VenueFill, VenueOrder } from '../../../ports/venue.port.js';
import type { PaperPosition } from './matching.js';
import { parsePaperMarket, parsePaperState } from './paper.schema.js';

/** One line of the ground truth: what the venue really did, in order. */
export type GroundTruthEntry =
  | { kind: 'order.accepted'; clientOrderId: string; venueOrderId: string; symbol: string; ts: number }
  | { kind: 'order.filled'; fill: VenueFill }
  | {
      kind: 'order.triggered';
      clientOrderId: string;
      venueOrderId: string;
      triggeredOrderId: string;
      ts: number;
    }
  | { kind: 'order.canceled' | 'order.expired'; clientOrderId: string; venueOrderId: string; ts: number }
  | {
      kind: 'order.replaced';
      clientOrderId: string;
      venueOrderId: string;
      qty: number;
      price: number;
      ts: number;
    };

/** Everything the paper venue holds; plain JSON. */
export interface PaperState {
  version: 1;
  seq: number;
  lastStepAt: number;
  priceRandom: number;
  faultRandom: number;
  prices: Record<string, number>;
  /** Every order ever accepted, newest last; a reused clientOrderId adds a new entry. */
  orders: VenueOrder[];
  positions: Record<string, PaperPosition>;
  fills: VenueFill[];
  log: GroundTruthEntry[];
}

/** The state file of earlier versions; read once to migrate it, then renamed out of the way. */
export const STATE_FILE = 'paper-venue.json';
export const DB_FILE = 'paper-venue.db';
/** The name a migrated state file is kept under, for a person to inspect; nothing reads it. */
export const MIGRATED_STATE_FILE = `${STATE_FILE}.migrated`;

/** The database layout's version, in `kv` under `format`; its presence marks a written state. */
const FORMAT = 2;
/** The scalars of PaperState, one kv row each (prices as one JSON object: its size is the symbol list). */
const SCALARS = ['seq', 'lastStepAt', 'priceRandom', 'faultRandom', 'prices'] as const;

// `written_in` is the number of the commit that last wrote the row: a restart does not need it, but
// it shows (to tests and to a person) which rows each call actually touched.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, written_in INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY, client_order_id TEXT NOT NULL, symbol TEXT NOT NULL, status TEXT NOT NULL,
    body TEXT NOT NULL, written_in INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS fills (
    position INTEGER PRIMARY KEY, trade_id TEXT NOT NULL, body TEXT NOT NULL, written_in INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS log (
    position INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, written_in INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS positions (
    symbol TEXT PRIMARY KEY, body TEXT NOT NULL, written_in INTEGER NOT NULL
  ) STRICT;
`;

/** Rows one commit wrote, per table; see `paperWritesOfLastCommit`. */
export interface PaperCommitWrites {
  commit: number;
  kv: number;
  orders: number;
  fills: number;
  log: number;
  positions: number;
}

/**
 * The paper venue's open database. It remembers how much of the append-only lists it has written
 * and the last value of every scalar and position, so a commit diffs only those, never the history.
 */
export class PaperStore {
  /** The state restored on open (migrated from a legacy state file if need be); undefined when new. */
  readonly saved: PaperState | undefined;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepare>;
  private commits: number;
  private ordersWritten: number;
  private fillsWritten: number;
  private logWritten: number;
  private readonly scalarsWritten = new Map<string, string>();
  private readonly positionsWritten = new Map<string, string>();

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, DB_FILE));
    try {
      // WAL + FULL: one fsync per commit, and a committed call survives power loss.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
      this.statements = prepare(this.db);
      let saved = loadState(this.db, join(dataDir, DB_FILE));
      this.commits = saved === undefined ? 0 : Number(readKv(this.db, 'commits') ?? 0);
      if (saved === undefined) saved = this.migrate(dataDir);
      this.saved = saved;
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.ordersWritten = this.saved?.orders.length ?? 0;
    this.fillsWritten = this.saved?.fills.length ?? 0;
    this.logWritten = this.saved?.log.length ?? 0;
    if (this.saved) {
      for (const key of SCALARS) this.scalarsWritten.set(key, JSON.stringify(this.saved[key]));
      for (const [symbol, position] of Object.entries(this.saved.positions)) {
        this.positionsWritten.set(symbol, JSON.stringify(position));
      }
    }
  }

  /**
   * Makes `state` durable in one transaction. `changedOrders` are the orders the call mutated in
   * place (new orders are found by count); lists only ever grow, so their new tails are the rest.
   */
  commit(state: PaperState, changedOrders: Iterable<VenueOrder>): void {
    const commit = this.commits + 1;
    const scalars = new Map<string, string>();
    for (const key of SCALARS) {
      const value = JSON.stringify(state[key]);
      if (this.scalarsWritten.get(key) !== value) scalars.set(key, value);
    }
    const positions = new Map<string, string>();
    for (const [symbol, position] of Object.entries(state.positions)) {
      const value = JSON.stringify(position);
      if (this.positionsWritten.get(symbol) !== value) positions.set(symbol, value);
    }
    const { upsertKv, insertOrder, updateOrder, insertFill, insertLog, upsertPosition } = this.statements;
    this.db.transaction(() => {
      if (this.commits === 0) upsertKv.run('format', String(FORMAT), commit);
      upsertKv.run('commits', String(commit), commit);
      for (const [key, value] of scalars) upsertKv.run(key, value, commit);
      for (const order of changedOrders) {
        // An order accepted in this very call is inserted whole below.
        if (updateOrder.run(order.status, JSON.stringify(order), commit, orderSeq(order)).changes === 0) {
          if (state.orders.indexOf(order, this.ordersWritten) === -1) throw unknownOrder(order);
        }
      }
      for (let index = this.ordersWritten; index < state.orders.length; index += 1) {
        writeOrder(insertOrder, state.orders[index], commit);
      }
      for (let index = this.fillsWritten; index < state.fills.length; index += 1) {
        const fill = state.fills[index];
        if (fill) insertFill.run(index, fill.tradeId, JSON.stringify(fill), commit);
      }
      for (let index = this.logWritten; index < state.log.length; index += 1) {
        const entry = state.log[index];
        if (entry) insertLog.run(index, entry.kind, JSON.stringify(entry), commit);
      }
      for (const [symbol, value] of positions) upsertPosition.run(symbol, value, commit);
    })();
    // Only after the commit landed: a failed one leaves every watermark where it was, to retry.
    this.commits = commit;
    this.ordersWritten = state.orders.length;
    this.fillsWritten = state.fills.length;
    this.logWritten = state.log.length;
    for (const [key, value] of scalars) this.scalarsWritten.set(key, value);
    for (const [symbol, value] of positions) this.positionsWritten.set(symbol, value);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Imports a legacy state file in one transaction, then moves the file aside; undefined when none. */
  private migrate(dataDir: string): PaperState | undefined {
    const legacy = readLegacyState(dataDir);
    if (legacy === undefined) return undefined;
    const { upsertKv, insertOrder, insertFill, insertLog, upsertPosition } = this.statements;
    const commit = 1;
    this.db.transaction(() => {
      upsertKv.run('format', String(FORMAT), commit);
      upsertKv.run('commits', String(commit), commit);
      for (const key of SCALARS) upsertKv.run(key, JSON.stringify(legacy[key]), commit);
      for (const order of legacy.orders) writeOrder(insertOrder, order, commit);
      legacy.fills.forEach((fill, index) =>
        insertFill.run(index, fill.tradeId, JSON.stringify(fill), commit),
      );
      legacy.log.forEach((entry, index) => insertLog.run(index, entry.kind, JSON.stringify(entry), commit));
      for (const [symbol, position] of Object.entries(legacy.positions)) {
        upsertPosition.run(symbol, JSON.stringify(position), commit);
      }
    })();
    this.commits = commit;
    // A crash before this rename is harmless: the database has `format` now and wins on the next open.
    renameSync(join(dataDir, STATE_FILE), join(dataDir, MIGRATED_STATE_FILE));
    return legacy;
  }
}

/**
 * Reads the saved state without writing anything, or undefined when the data dir has none yet.
 * Safe while a venue in this or another process has the database open (it sees the last commit).
 */
export function readPaperState(dataDir: string): PaperState | undefined {
  const file = join(dataDir, DB_FILE);
  const db = openReadOnly(file);
  if (db !== undefined) {
    try {
      const state = loadState(db, file);
      if (state !== undefined) return state;
    } finally {
      db.close();
    }
  }
  return readLegacyState(dataDir);
}

/**
 * The last prices and the positions alone, read-only: cheap enough to poll while a venue in
 * another process trades, where `readPaperState` reads the whole history. Undefined when nothing
 * is saved yet (or the state is still a legacy file, which `readPaperState` reads).
 */
export function readPaperMarket(dataDir: string): Pick<PaperState, 'prices' | 'positions'> | undefined {
  const file = join(dataDir, DB_FILE);
  const db = openReadOnly(file);
  if (db === undefined) return undefined;
  try {
    const hasKv = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kv'").get();
    if (!hasKv) return undefined;
    return db.transaction(() => {
      const prices = readKv(db, 'prices');
      if (readKv(db, 'format') === undefined || prices === undefined) return undefined;
      const positions: Record<string, unknown> = {};
      for (const row of db.prepare('SELECT symbol, body FROM positions').all() as {
        symbol: string;
        body: string;
      }[]) {
        positions[row.symbol] = JSON.parse(row.body);
      }
      return parsePaperMarket({ prices: JSON.parse(prices) as unknown, positions }, file);
    })();
  } finally {
    db.close();
  }
}

/** How many rows of each table the last commit wrote (read-only); undefined when nothing is saved. */
export function paperWritesOfLastCommit(dataDir: string): PaperCommitWrites | undefined {
  const file = join(dataDir, DB_FILE);
  const db = openReadOnly(file);
  if (db === undefined) return undefined;
  try {
    const last = readKv(db, 'commits');
    if (last === undefined) return undefined;
    const commit = Number(last);
    const count = (table: string): number =>
      (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE written_in = ?`).get(commit) as { n: number }).n;
    return {
      commit,
      kv: count('kv'),
      orders: count('orders'),
      fills: count('fills'),
      log: count('log'),
      positions: count('positions'),
    };
  } finally {
    db.close();
  }
}

function prepare(db: Database.Database) {
  return {
    upsertKv: db.prepare<[string, string, number]>(
      'INSERT INTO kv (key, value, written_in) VALUES (?, ?, ?) ' +
        'ON CONFLICT (key) DO UPDATE SET value = excluded.value, written_in = excluded.written_in',
    ),
    insertOrder: db.prepare<[number, string, string, string, string, number]>(
      'INSERT INTO orders (seq, client_order_id, symbol, status, body, written_in) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    updateOrder: db.prepare<[string, string, number, number]>(
      'UPDATE orders SET status = ?, body = ?, written_in = ? WHERE seq = ?',
    ),
    insertFill: db.prepare<[number, string, string, number]>(
      'INSERT INTO fills (position, trade_id, body, written_in) VALUES (?, ?, ?, ?)',
    ),
    insertLog: db.prepare<[number, string, string, number]>(
      'INSERT INTO log (position, kind, body, written_in) VALUES (?, ?, ?, ?)',
    ),
    upsertPosition: db.prepare<[string, string, number]>(
      'INSERT INTO positions (symbol, body, written_in) VALUES (?, ?, ?) ' +
        'ON CONFLICT (symbol) DO UPDATE SET body = excluded.body, written_in = excluded.written_in',
    ),
  };
}

function writeOrder(
  insert: ReturnType<typeof prepare>['insertOrder'],
  order: VenueOrder | undefined,
  commit: number,
): void {
  if (!order) return;
  insert.run(orderSeq(order), order.clientOrderId, order.symbol, order.status, JSON.stringify(order), commit);
}

/** The venue's sequence number at acceptance, which is its venueOrderId: unique and increasing. */
function orderSeq(order: VenueOrder): number {
  const seq = Number(order.venueOrderId);
  if (!Number.isSafeInteger(seq) || String(seq) !== order.venueOrderId) {
    throw new KeelError(
      ERROR_CODES.badConfig,
      `paper venue order ${order.clientOrderId} has venueOrderId ${order.venueOrderId}, not the venue's sequence number`,
    );
  }
  return seq;
}

function unknownOrder(order: VenueOrder): KeelError {
  return new KeelError(
    ERROR_CODES.badConfig,
    `paper venue order ${order.clientOrderId} (${order.venueOrderId}) changed but was never stored`,
  );
}

function readKv(db: Database.Database, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

/** The whole state from the database, or undefined when no commit has written it yet. */
function loadState(db: Database.Database, where: string): PaperState | undefined {
  const hasKv = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kv'").get();
  if (!hasKv) return undefined;
  // One read transaction, so a writer committing meanwhile cannot tear what we read.
  return db.transaction(() => {
    const format = readKv(db, 'format');
    if (format === undefined) return undefined;
    if (Number(format) !== FORMAT) {
      throw new KeelError(
        ERROR_CODES.badConfig,
        `paper venue state ${where} has format ${format}; this keel reads format ${FORMAT}`,
      );
    }
    const scalar = (key: (typeof SCALARS)[number]): unknown => JSON.parse(readKv(db, key) ?? 'null');
    const bodies = (sql: string): unknown[] =>
      (db.prepare(sql).pluck().all() as string[]).map((body) => JSON.parse(body) as unknown);
    const positions: Record<string, unknown> = {};
    for (const row of db.prepare('SELECT symbol, body FROM positions ORDER BY symbol').all() as {
      symbol: string;
      body: string;
    }[]) {
      positions[row.symbol] = JSON.parse(row.body);
    }
    const state = {
      version: 1,
      seq: scalar('seq'),
      lastStepAt: scalar('lastStepAt'),
      priceRandom: scalar('priceRandom'),
      faultRandom: scalar('faultRandom'),
      prices: scalar('prices'),
      orders: bodies('SELECT body FROM orders ORDER BY seq'),
      positions,
      fills: bodies('SELECT body FROM fills ORDER BY position'),
      log: bodies('SELECT body FROM log ORDER BY position'),
    };
    return parsePaperState(state, where);
  })();
}

function readLegacyState(dataDir: string): PaperState | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, STATE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parsePaperState(JSON.parse(text) as unknown, join(dataDir, STATE_FILE));
}

const SQLITE_HEADER = 'SQLite format 3\0';

/**
 * A read-only connection that leaves no file behind. With a `-wal` present a writer owns the
 * sidecar files (or crashed leaving them) and a read-only connection sees its last commit; without
 * one, every commit is in the main file, which is read into memory (marked rollback, as an
 * in-memory copy cannot do WAL) so no `-wal`/`-shm` is created beside it.
 */
function openReadOnly(file: string): Database.Database | undefined {
  if (existsSync(`${file}-wal`)) return new Database(file, { readonly: true, fileMustExist: true });
  let image: Buffer;
  try {
    image = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // A file a writer has created but not yet written holds no state.
  if (image.length === 0) return undefined;
  if (image.length >= 100 && image.toString('latin1', 0, 16) === SQLITE_HEADER) {
    image[18] = 1;
    image[19] = 1;
  }
  return new Database(image, { readonly: true });
}

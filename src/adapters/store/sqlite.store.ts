/**
 * The durable store on SQLite (better-sqlite3, WAL, synchronous=FULL): registry, journal, JSONL mirror.
 * Invariants: a registry change and the events that explain it commit in one transaction; a write
 * resolves only after its commit (group commit, one savepoint per write); one row per intent id and
 * per clientOrderId; the registry equals `replayJournal` of the journal; a row is marked finalized
 * only when terminal, in the transaction of its DONE event. One process writes a data dir (the
 * runtime's single-instance lock); others may only read it.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BadInputError, ERROR_CODES, KeelError } from '../../domain/errors.js';
import type { Intent } from '../../domain/intent.schema.js';
import {
  REGISTRY_EVENT_TYPES,
  isRegistryEventType,
  type RegistryCreatedData,
  type RegistryUpdatedData,
} from '../../domain/registry-replay.js';
import type {
  JournalEvent,
  RegistrationFollowUp,
  RegistryRecord,
  RegistryStatus,
  RegistryUpdate,
  StorePort,
} from '../../ports/store.port.js';
import { JournalMirror, type MirrorLine } from './journal-mirror.js';
import { MIGRATIONS, migrate, type Migration } from './migrations.js';

export interface SqliteStoreOptions {
  /** Directory for `keel.db` and `journal.jsonl`; created if missing. */
  dataDir: string;
  /** The schema to migrate to; tests pass a prefix to build an older file. */
  migrations?: readonly Migration[];
}

/** Counters for tests and metrics: how writes were grouped into transactions. */
export interface SqliteStoreStats {
  /** Transactions committed by group commit (migrations not counted). */
  commits: number;
  /** Write calls that committed. */
  writes: number;
  /** Write calls that failed and changed nothing. */
  failedWrites: number;
  /** The most write calls one transaction carried. */
  largestBatch: number;
  /** Mirror appends that failed; the mirror catches up on the next commit or open. */
  mirrorErrors: number;
}

interface RegistryRow {
  intent_id: string;
  correlation_id: string;
  client_order_id: string;
  status: RegistryStatus;
  tag: string | null;
  venue: string;
  venue_order_id: string | null;
  intent: string;
  snapshot: string | null;
  created_at: number;
  updated_at: number;
  /** When the intent was finalized (DONE); null while it may still change, absent before schema 3. */
  finalized_at?: number | null;
}

interface JournalRow {
  seq: number;
  event_id: string;
  ts: number;
  correlation_id: string;
  client_order_id: string | null;
  type: string;
  stage: string;
  source: string;
  reason_code: string | null;
  causing_event_id: string | null;
  from_state: string | null;
  to_state: string | null;
  data: string;
}

interface FinalizingStatements {
  finalizeRow: Database.Statement<[number, string]>;
  unfinalized: Database.Statement<[], RegistryRow>;
}

interface PendingWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const DB_FILE = 'keel.db';
const MIRROR_FILE = 'journal.jsonl';

/**
 * Opens (creating or migrating) the store in `dataDir`.
 *
 * @example
 * const store = openSqliteStore({ dataDir: '.keel/data' });
 * const { created } = await store.register(record, event);
 * await store.close();
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}

export class SqliteStore implements StorePort {
  readonly file: string;
  readonly mirrorPath: string;
  private readonly db: Database.Database;
  private readonly mirror: JournalMirror;
  private readonly counters: SqliteStoreStats = {
    commits: 0,
    writes: 0,
    failedWrites: 0,
    largestBatch: 0,
    mirrorErrors: 0,
  };
  private queue: PendingWrite[] = [];
  /** Mirror lines of the events inserted by the batch being committed, in seq order. */
  private written: MirrorLine[] = [];
  private scheduled = false;
  private accepting = true;
  private closing: Promise<void> | null = null;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private finalizingStatements: FinalizingStatements | null = null;

  constructor(options: SqliteStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.file = join(options.dataDir, DB_FILE);
    this.mirrorPath = join(options.dataDir, MIRROR_FILE);
    this.db = new Database(this.file);
    try {
      // WAL + FULL: one fsync per commit, and a committed transaction survives power loss.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = ON');
      // The journal's indexes take every insert; a 64 MiB page cache keeps their hot pages in memory.
      this.db.pragma('cache_size = -65536');
      this.db.pragma('wal_autocheckpoint = 10000');
      migrate(this.db, this.file, options.migrations ?? MIGRATIONS);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.statements = prepareStatements(this.db);
    this.mirror = new JournalMirror(this.mirrorPath);
    // A crash between a commit and its mirror append leaves the mirror behind: catch it up.
    this.syncMirror();
  }

  /** The durability settings in force on this connection (WAL, synchronous=FULL). */
  durability(): { journalMode: string; synchronous: string } {
    const journalMode = String(this.db.pragma('journal_mode', { simple: true }));
    const level = Number(this.db.pragma('synchronous', { simple: true }));
    return { journalMode, synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][level] ?? String(level) };
  }

  /** How writes were grouped so far. */
  stats(): SqliteStoreStats {
    return { ...this.counters };
  }

  register(
    record: RegistryRecord,
    event: JournalEvent,
    then?: RegistrationFollowUp,
  ): Promise<{ record: RegistryRecord; created: boolean }> {
    if (record.status !== 'CREATED') {
      return Promise.reject(
        new BadInputError('registry record', [
          { path: 'status', message: `registers as CREATED (reference 003 rule 1), not ${record.status}` },
        ]),
      );
    }
    return this.enqueue(() => {
      const existing = this.statements.getById.get(record.intentId);
      if (existing) return { record: toRecord(existing), created: false };
      const clash = this.statements.getByClientOrderId.get(record.clientOrderId);
      if (clash) {
        throw new KeelError(
          ERROR_CODES.duplicateClientOrderId,
          `clientOrderId ${record.clientOrderId} already belongs to intent ${clash.intent_id}; ` +
            `intent ${record.intentId} was not registered`,
        );
      }
      assertCallerEvent(event);
      this.statements.insertRow.run(toRow(record));
      this.insertEvent(event);
      const data: RegistryCreatedData = {
        intentId: record.intentId,
        clientOrderId: record.clientOrderId,
        correlationId: record.correlationId,
        venue: record.venue,
        status: record.status,
        tag: record.tag,
        venueOrderId: record.venueOrderId,
      };
      this.insertEvent(registryEvent(event, REGISTRY_EVENT_TYPES.created, null, record.status, data));
      if (then) {
        for (const earlier of then.before ?? []) {
          assertCallerEvent(earlier);
          this.insertEvent(earlier);
        }
        this.applyTransition(record.intentId, then.update, then.event, then.also ?? []);
      }
      // Read back so the caller sees exactly what a restart will see (JSON round trip included).
      return { record: this.mustGet(record.intentId), created: true };
    });
  }

  transition(
    intentId: string,
    update: RegistryUpdate,
    event: JournalEvent,
    also: readonly JournalEvent[] = [],
  ): Promise<void> {
    return this.enqueue(() => this.applyTransition(intentId, update, event, also));
  }

  /** The body of `transition`, inside a write already under way. */
  private applyTransition(
    intentId: string,
    update: RegistryUpdate,
    event: JournalEvent,
    also: readonly JournalEvent[],
  ): void {
    const before = this.statements.getStatusById.get(intentId);
    if (!before) {
      throw new KeelError(ERROR_CODES.unknownIntent, `no registered intent ${intentId} to transition`);
    }
    assertCallerEvent(event);
    for (const follower of also) assertCallerEvent(follower);
    const status = update.status ?? before.status;
    const tag = update.tag === undefined ? before.tag : update.tag;
    const venueOrderId = update.venueOrderId === undefined ? before.venue_order_id : update.venueOrderId;
    // A finalized row is never restored: one still working at the venue would be lost to restart.
    if (update.finalized === true && status !== 'EXECUTED' && status !== 'FAILED') {
      throw new BadInputError('registry update', [
        { path: 'finalized', message: `only an EXECUTED or FAILED intent is finalized, not ${status}` },
      ]);
    }
    const changes: Record<string, unknown> = {
      intent_id: intentId,
      status,
      tag,
      venue_order_id: venueOrderId,
      updated_at: update.updatedAt,
    };
    if ('snapshot' in update) {
      changes.snapshot = update.snapshot === undefined ? null : JSON.stringify(update.snapshot);
      this.statements.updateRow.run(changes);
    } else {
      this.statements.updateRowKeepSnapshot.run(changes);
    }
    if (update.finalized === true) this.finalizing().finalizeRow.run(event.ts, intentId);
    this.insertEvent(event);
    // Replay needs only the changes; a transition that leaves the row's fields as they were
    // (a new snapshot, a partial fill) writes no registry event.
    if (status !== before.status || tag !== before.tag || venueOrderId !== before.venue_order_id) {
      const data: RegistryUpdatedData = { intentId, status, tag, venueOrderId };
      this.insertEvent(registryEvent(event, REGISTRY_EVENT_TYPES.updated, before.status, status, data));
    }
    for (const follower of also) this.insertEvent(follower);
  }

  append(event: JournalEvent, also: readonly JournalEvent[] = []): Promise<void> {
    return this.enqueue(() => {
      assertCallerEvent(event);
      for (const follower of also) assertCallerEvent(follower);
      this.insertEvent(event);
      for (const follower of also) this.insertEvent(follower);
    });
  }

  get(intentId: string): RegistryRecord | null {
    const row = this.statements.getById.get(intentId);
    return row ? toRecord(row) : null;
  }

  findByClientOrderId(clientOrderId: string): RegistryRecord | null {
    const row = this.statements.getByClientOrderId.get(clientOrderId);
    return row ? toRecord(row) : null;
  }

  nonTerminal(): RegistryRecord[] {
    return this.statements.nonTerminal.all().map(toRecord);
  }

  unfinalized(): RegistryRecord[] {
    return this.finalizing().unfinalized.all().map(toRecord);
  }

  list(filter: { status?: RegistryStatus; limit?: number } = {}): RegistryRecord[] {
    // LIMIT -1 is SQLite's "no limit".
    const limit = filter.limit ?? -1;
    const rows =
      filter.status === undefined
        ? this.statements.listAll.all(limit)
        : this.statements.listByStatus.all(filter.status, limit);
    return rows.map(toRecord);
  }

  journal(key: { correlationId?: string; clientOrderId?: string }): JournalEvent[] {
    if (key.correlationId !== undefined) {
      return this.statements.journalByCorrelation.all(key.correlationId).map(toEvent);
    }
    if (key.clientOrderId !== undefined) {
      return this.statements.journalByClientOrderId.all(key.clientOrderId, key.clientOrderId).map(toEvent);
    }
    throw new BadInputError('journal lookup', [
      { path: '(root)', message: 'give a correlationId or a clientOrderId' },
    ]);
  }

  /** The whole journal after `afterSeq`, in commit order: what replay and the mirror read. */
  readJournal(afterSeq = 0): JournalEvent[] {
    return this.statements.journalAfter.all(afterSeq).map(toEvent);
  }

  /** Waits for queued writes to commit, then closes the database and the mirror. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // A no-op write queues behind everything issued so far and resolves after their commit.
      const drained = this.enqueue(() => undefined);
      this.accepting = false;
      await drained.catch(() => undefined);
      this.mirror.close();
      this.db.close();
    })();
    return this.closing;
  }

  /**
   * Stops as a killed process would, for chaos runs: writes not yet committed are dropped and
   * their callers never hear back, nothing more is accepted, and the connection closes without a
   * last commit. What is on disk is exactly what a SIGKILL at this moment would have left.
   */
  abandon(): void {
    if (this.closing) return;
    this.accepting = false;
    this.queue = [];
    this.closing = Promise.resolve();
    this.mirror.close();
    this.db.close();
  }

  /**
   * The statements over migration 3's `finalized_at`, prepared on first use: a file built to an
   * older schema (the upgrade tests make one) must still open and take writes.
   */
  private finalizing(): FinalizingStatements {
    this.finalizingStatements ??= {
      // Set once, by the write that finalizes the row, and never cleared.
      finalizeRow: this.db.prepare<[number, string]>(
        'UPDATE registry SET finalized_at = ? WHERE intent_id = ? AND finalized_at IS NULL',
      ),
      // Read through the partial index registry_unfinalized, which holds these rows only.
      unfinalized: this.db.prepare<[], RegistryRow>(
        'SELECT * FROM registry WHERE finalized_at IS NULL ORDER BY created_at, intent_id',
      ),
    };
    return this.finalizingStatements;
  }

  private mustGet(intentId: string): RegistryRecord {
    const row = this.statements.getById.get(intentId);
    if (!row)
      throw new KeelError(
        ERROR_CODES.unknownIntent,
        `intent ${intentId} vanished inside its own transaction`,
      );
    return toRecord(row);
  }

  private insertEvent(event: JournalEvent): void {
    const data = JSON.stringify(event.data);
    const { lastInsertRowid } = this.statements.insertEvent.run({
      event_id: event.eventId,
      ts: event.ts,
      correlation_id: event.correlationId,
      client_order_id: event.clientOrderId,
      type: event.type,
      stage: event.stage,
      source: event.source,
      reason_code: event.reasonCode,
      causing_event_id: event.causingEventId,
      from_state: event.from,
      to_state: event.to,
      data,
    });
    // The mirror line is made now, from the text just stored, so a commit need not read its events back.
    const seq = Number(lastInsertRowid);
    const head = JSON.stringify({
      seq,
      eventId: event.eventId,
      ts: event.ts,
      correlationId: event.correlationId,
      clientOrderId: event.clientOrderId,
      type: event.type,
      stage: event.stage,
      source: event.source,
      reasonCode: event.reasonCode,
      causingEventId: event.causingEventId,
      from: event.from,
      to: event.to,
    });
    this.written.push({ seq, line: `${head.slice(0, -1)},"data":${data}}` });
  }

  private enqueue<T>(run: () => T): Promise<T> {
    if (!this.accepting) {
      return Promise.reject(new Error(`store ${this.file} is closed`));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /**
   * Group commit: the first write of an idle store schedules a commit on the next turn of the
   * event loop; every write issued before it runs joins that transaction, and writes issued
   * while it commits wait for the next one, which starts as soon as this one has finished.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.commitBatch());
  }

  private commitBatch(): void {
    // Abandoned between scheduling and this turn: the process is gone, nothing commits.
    if (!this.db.open) return;
    const batch = this.queue;
    this.queue = [];
    let outcomes: { ok: boolean; value: unknown }[];
    try {
      // The common case: every write of the batch succeeds, in one transaction, with no savepoints.
      // Should any write throw, the whole transaction rolls back and the batch runs again with a
      // savepoint per write, so a failed write changes nothing and the others still commit.
      outcomes = this.runBatch(batch, false) ?? this.runBatch(batch, true) ?? [];
    } catch (error) {
      this.written = [];
      this.counters.failedWrites += batch.length;
      for (const write of batch) write.reject(error);
      this.afterBatch();
      return;
    }
    this.counters.commits += 1;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.length);
    this.mirrorCommitted();
    batch.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) {
        this.counters.writes += 1;
        write.resolve(outcome.value);
      } else {
        this.counters.failedWrites += 1;
        write.reject(outcome?.value);
      }
    });
    this.afterBatch();
  }

  /**
   * Runs a batch in one IMMEDIATE transaction. Without savepoints, returns null (having rolled
   * everything back) as soon as one write throws; with them, isolates each write's failure.
   */
  private runBatch(
    batch: readonly PendingWrite[],
    isolated: boolean,
  ): { ok: boolean; value: unknown }[] | null {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    this.written = [];
    const failedFast = new Error('a write failed; retrying the batch with a savepoint per write');
    try {
      this.db
        .transaction(() => {
          for (const write of batch) {
            if (!isolated) {
              try {
                outcomes.push({ ok: true, value: write.run() });
              } catch {
                throw failedFast;
              }
              continue;
            }
            const mark = this.written.length;
            try {
              // A nested transaction is a savepoint: a failed write rolls back only itself.
              outcomes.push({ ok: true, value: this.db.transaction(write.run)() });
            } catch (error) {
              this.written.length = mark;
              outcomes.push({ ok: false, value: error });
            }
          }
        })
        .immediate();
    } catch (error) {
      if (error === failedFast) {
        this.written = [];
        return null;
      }
      throw error;
    }
    return outcomes;
  }

  /** Appends the batch's lines when the mirror is level with the database; otherwise catches up from it. */
  private mirrorCommitted(): void {
    const lines = this.written;
    this.written = [];
    const first = lines[0];
    if (first === undefined) return;
    if (first.seq !== this.mirror.lastSeq + 1) {
      this.syncMirror();
      return;
    }
    try {
      this.mirror.appendLines(lines);
    } catch {
      this.counters.mirrorErrors += 1;
    }
  }

  private afterBatch(): void {
    this.scheduled = false;
    if (this.queue.length > 0) this.schedule();
  }

  private syncMirror(): void {
    try {
      this.mirror.append(this.readJournal(this.mirror.lastSeq));
    } catch {
      // The database already holds the events; the mirror catches up on the next commit or open.
      this.counters.mirrorErrors += 1;
    }
  }
}

function prepareStatements(db: Database.Database) {
  return {
    getById: db.prepare<[string], RegistryRow>('SELECT * FROM registry WHERE intent_id = ?'),
    getByClientOrderId: db.prepare<[string], RegistryRow>('SELECT * FROM registry WHERE client_order_id = ?'),
    getStatusById: db.prepare<[string], Pick<RegistryRow, 'status' | 'tag' | 'venue_order_id'>>(
      'SELECT status, tag, venue_order_id FROM registry WHERE intent_id = ?',
    ),
    insertRow: db.prepare(
      `INSERT INTO registry (intent_id, correlation_id, client_order_id, status, tag, venue, venue_order_id,
         intent, snapshot, created_at, updated_at)
       VALUES (@intent_id, @correlation_id, @client_order_id, @status, @tag, @venue, @venue_order_id,
         @intent, @snapshot, @created_at, @updated_at)`,
    ),
    updateRow: db.prepare(
      `UPDATE registry SET status = @status, tag = @tag, venue_order_id = @venue_order_id,
         snapshot = @snapshot, updated_at = @updated_at WHERE intent_id = @intent_id`,
    ),
    updateRowKeepSnapshot: db.prepare(
      `UPDATE registry SET status = @status, tag = @tag, venue_order_id = @venue_order_id,
         updated_at = @updated_at WHERE intent_id = @intent_id`,
    ),
    insertEvent: db.prepare(
      `INSERT INTO journal (event_id, ts, correlation_id, client_order_id, type, stage, source, reason_code,
         causing_event_id, from_state, to_state, data)
       VALUES (@event_id, @ts, @correlation_id, @client_order_id, @type, @stage, @source, @reason_code,
         @causing_event_id, @from_state, @to_state, @data)`,
    ),
    nonTerminal: db.prepare<[], RegistryRow>(
      "SELECT * FROM registry WHERE status IN ('CREATED', 'SENT_TO_BROKER') ORDER BY created_at, intent_id",
    ),
    listAll: db.prepare<[number], RegistryRow>(
      'SELECT * FROM registry ORDER BY created_at, intent_id LIMIT ?',
    ),
    listByStatus: db.prepare<[string, number], RegistryRow>(
      'SELECT * FROM registry WHERE status = ? ORDER BY created_at, intent_id LIMIT ?',
    ),
    journalAfter: db.prepare<[number], JournalRow>('SELECT * FROM journal WHERE seq > ? ORDER BY seq'),
    journalByCorrelation: db.prepare<[string], JournalRow>(
      'SELECT * FROM journal WHERE correlation_id = ? ORDER BY seq',
    ),
    journalByClientOrderId: db.prepare<[string, string], JournalRow>(
      `SELECT * FROM journal WHERE correlation_id IN
         (SELECT correlation_id FROM registry WHERE client_order_id = ?)
       OR client_order_id = ? ORDER BY seq`,
    ),
  };
}

/** `registry.*` events are the store's own: a caller writing one could make replay diverge. */
function assertCallerEvent(event: JournalEvent): void {
  if (isRegistryEventType(event.type)) {
    throw new BadInputError('journal event', [
      { path: 'type', message: `${event.type}: registry.* events are written by the store only` },
    ]);
  }
}

function registryEvent(
  cause: JournalEvent,
  type: string,
  from: string | null,
  to: string,
  data: RegistryCreatedData | RegistryUpdatedData,
): JournalEvent {
  return {
    eventId: `${cause.eventId}:registry`,
    ts: cause.ts,
    correlationId: cause.correlationId,
    clientOrderId: cause.clientOrderId,
    type,
    stage: cause.stage,
    source: 'store',
    reasonCode: cause.reasonCode,
    causingEventId: cause.eventId,
    from,
    to,
    data: { ...data },
  };
}

function toRow(record: RegistryRecord): RegistryRow {
  return {
    intent_id: record.intentId,
    correlation_id: record.correlationId,
    client_order_id: record.clientOrderId,
    status: record.status,
    tag: record.tag,
    venue: record.venue,
    venue_order_id: record.venueOrderId,
    intent: JSON.stringify(record.intent),
    snapshot: record.snapshot === undefined ? null : JSON.stringify(record.snapshot),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function toRecord(row: RegistryRow): RegistryRecord {
  return {
    intentId: row.intent_id,
    correlationId: row.correlation_id,
    clientOrderId: row.client_order_id,
    status: row.status,
    tag: row.tag,
    venue: row.venue,
    venueOrderId: row.venue_order_id,
    // Written by toRow from a parsed Intent; the file is keel's own, so it is not re-parsed.
    intent: JSON.parse(row.intent) as Intent,
    snapshot: row.snapshot === null ? null : (JSON.parse(row.snapshot) as unknown),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toEvent(row: JournalRow): JournalEvent {
  return {
    seq: row.seq,
    eventId: row.event_id,
    ts: row.ts,
    correlationId: row.correlation_id,
    clientOrderId: row.client_order_id,
    type: row.type,
    stage: row.stage,
    source: row.source,
    reasonCode: row.reason_code,
    causingEventId: row.causing_event_id,
    from: row.from_state,
    to: row.to_state,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}

const SQLITE_HEADER = 'SQLite format 3\0';

/**
 * Opens the database without leaving a file behind. A read-only connection to a WAL database
 * creates `-shm` and `-wal` files; so, when no `-wal` exists (no writer is running and the last
 * one checkpointed on close), the main file holds every commit and is read into memory instead.
 * When a `-wal` exists, a writer owns the sidecar files already and a read-only connection is
 * the only way to see its latest commits.
 */
function openReadOnly(path: string): Database.Database {
  if (existsSync(`${path}-wal`)) return new Database(path, { readonly: true, fileMustExist: true });
  const image = readFileSync(path);
  // Header bytes 18-19 say "WAL" (2); an in-memory copy cannot do WAL, so it reads as rollback (1).
  if (image.length >= 100 && image.toString('latin1', 0, 16) === SQLITE_HEADER) {
    image[18] = 1;
    image[19] = 1;
  }
  return new Database(image, { readonly: true });
}

/**
 * The registry and the whole journal of a database, read in one transaction without writing
 * anything: for checkers that judge a data dir after the fact and must leave the evidence as it is.
 */
export function readStoreReadOnly(path: string): { registry: RegistryRecord[]; journal: JournalEvent[] } {
  const db = openReadOnly(path);
  try {
    return db.transaction(() => ({
      registry: db
        .prepare<[], RegistryRow>('SELECT * FROM registry ORDER BY created_at, intent_id')
        .all()
        .map(toRecord),
      journal: db.prepare<[], JournalRow>('SELECT * FROM journal ORDER BY seq').all().map(toEvent),
    }))();
  } finally {
    db.close();
  }
}

/**
 * Every journal event of a database, in order, read without writing anything (no migration,
 * no sidecar files when no writer is running). For `keel replay` and other inspection tools.
 */
export function readJournalReadOnly(path: string): JournalEvent[] {
  const db = openReadOnly(path);
  try {
    return db.prepare<[], JournalRow>('SELECT * FROM journal ORDER BY seq').all().map(toEvent);
  } finally {
    db.close();
  }
}

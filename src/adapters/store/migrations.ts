/**
 * The store's schema as an ordered list of migrations, and the code that applies them.
 * Invariants: `schema_version` holds exactly one row, the version of the last migration
 * applied; each migration runs in its own transaction with its version bump, so a file is
 * never half-migrated; a file written by a newer keel is refused, never downgraded.
 */
import type Database from 'better-sqlite3';
import { ERROR_CODES, KeelError } from '../../domain/errors.js';

export interface Migration {
  /** 1, 2, 3, … with no gaps: the schema version this migration produces. */
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'registry rows and the journal',
    sql: `
      CREATE TABLE registry (
        intent_id        TEXT PRIMARY KEY,
        correlation_id   TEXT NOT NULL,
        client_order_id  TEXT NOT NULL UNIQUE,
        status           TEXT NOT NULL CHECK (status IN ('CREATED', 'SENT_TO_BROKER', 'EXECUTED', 'FAILED')),
        tag              TEXT,
        venue            TEXT NOT NULL,
        venue_order_id   TEXT,
        intent           TEXT NOT NULL,
        snapshot         TEXT,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE journal (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id         TEXT NOT NULL UNIQUE,
        ts               INTEGER NOT NULL,
        correlation_id   TEXT NOT NULL,
        client_order_id  TEXT,
        type             TEXT NOT NULL,
        stage            TEXT NOT NULL,
        source           TEXT NOT NULL,
        reason_code      TEXT,
        causing_event_id TEXT,
        from_state       TEXT,
        to_state         TEXT,
        data             TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    // Separate from version 1 so that restart (nonTerminal) and replay by id stay index
    // lookups as the journal grows; it is also the migration the upgrade test exercises.
    version: 2,
    description: 'indexes for restart and per-intent replay',
    sql: `
      CREATE INDEX registry_by_status ON registry (status);
      CREATE INDEX journal_by_correlation ON journal (correlation_id, seq);
      CREATE INDEX journal_by_client_order ON journal (client_order_id, seq);
    `,
  },
  {
    // A finished intent lingers (late fills, a fill sync) until it is finalized (DONE), and a
    // restart must restore every intent not yet finalized, terminal or not. The DONE event alone
    // cannot find them cheaply (every terminal row would be checked against the journal), and a
    // window of recent rows is unsound (a fill sync may fail for hours, keel may be down for days).
    // So the row says it, in the DONE event's own transaction, and a partial index holds only the
    // rows not yet finalized: restart reads those, never the closed history. Rows already here
    // take the time of their DONE event; a terminal row without one is restored once, as it must be.
    version: 3,
    description: 'finalized intents, and an index of the ones not yet finalized',
    sql: `
      ALTER TABLE registry ADD COLUMN finalized_at INTEGER;
      UPDATE registry SET finalized_at = (
        SELECT max(journal.ts) FROM journal
        WHERE journal.correlation_id = registry.correlation_id
          AND journal.type = 'intent.finalize' AND journal.to_state = 'done'
      ) WHERE status IN ('EXECUTED', 'FAILED');
      CREATE INDEX registry_unfinalized ON registry (created_at, intent_id) WHERE finalized_at IS NULL;
    `,
  },
];

/** The schema version of the open file; 0 for a new, empty file. */
export function schemaVersion(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT');
  const row = db.prepare<[], { version: number }>('SELECT version FROM schema_version').get();
  return row?.version ?? 0;
}

/**
 * Brings the file up to the last migration in `migrations`. Returns the versions before and
 * after; throws KEEL_ERR_STORE_SCHEMA for a file newer than this code knows.
 */
export function migrate(
  db: Database.Database,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: number; to: number } {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`migration ${index} has version ${migration.version}, expected ${index + 1}`);
    }
  });
  const from = schemaVersion(db);
  const latest = migrations.length;
  if (from > latest) {
    throw new KeelError(
      ERROR_CODES.storeSchema,
      `${file} has schema version ${from}, newer than this keel understands (${latest}); ` +
        'upgrade keel or open a copy made by this version',
    );
  }
  for (const migration of migrations.slice(from)) {
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('DELETE FROM schema_version').run();
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(migration.version);
    }).immediate();
  }
  return { from, to: Math.max(from, latest) };
}

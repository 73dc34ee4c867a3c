import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/adapters/store/sqlite.store.js';
import { MIGRATIONS } from '../../src/adapters/store/migrations.js';
import { replayJournal } from '../../src/domain/registry-replay.js';
import type { JournalEvent } from '../../src/ports/store.port.js';
import { eventFor, recordFor, tempDir } from './store-fixtures.js';

let dir: string;
let remove: () => void;
let store: SqliteStore | undefined;

beforeEach(() => {
  ({ dir, remove } = tempDir());
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  remove();
});

function open(options: { migrations?: typeof MIGRATIONS } = {}): SqliteStore {
  store = openSqliteStore({ dataDir: dir, ...options });
  return store;
}

/** A second, independent connection: it sees only what was committed. */
function reader<T>(read: (db: Database.Database) => T): T {
  const db = new Database(`${dir}/keel.db`, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

function mirrorLines(): JournalEvent[] {
  return readFileSync(`${dir}/journal.jsonl`, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as JournalEvent);
}

describe('sqlite store', () => {
  it('opens a database in WAL mode with synchronous=FULL and answers queries', async () => {
    const s = open();
    expect(s.durability()).toEqual({ journalMode: 'wal', synchronous: 'FULL' });
    const { created, record } = await s.register(recordFor(1), eventFor(1, 'intent.received'));
    expect(created).toBe(true);
    expect(s.get('intent-1')).toEqual(record);
    expect(s.findByClientOrderId('k-1')?.intentId).toBe('intent-1');
    expect(s.get('intent-404')).toBeNull();
    expect(s.list().map((r) => r.intentId)).toEqual(['intent-1']);
    expect(s.nonTerminal().map((r) => r.intentId)).toEqual(['intent-1']);
    expect(s.journal({ correlationId: 'corr-1' }).map((e) => e.type)).toEqual([
      'intent.received',
      'registry.created',
    ]);
  });

  it('answers list by status and limit, and leaves terminal intents out of nonTerminal', async () => {
    const s = open();
    await Promise.all([1, 2, 3].map((n) => s.register(recordFor(n), eventFor(n, 'intent.received'))));
    await s.transition(
      'intent-2',
      { status: 'FAILED', tag: 'RISK_BLOCKED:max_notional', updatedAt: 5 },
      eventFor(2, 'risk.blocked'),
    );
    await s.transition(
      'intent-3',
      { status: 'SENT_TO_BROKER', updatedAt: 6 },
      eventFor(3, 'order.submitting'),
    );
    expect(s.list({ status: 'FAILED' }).map((r) => [r.intentId, r.tag])).toEqual([
      ['intent-2', 'RISK_BLOCKED:max_notional'],
    ]);
    expect(s.list({ limit: 2 })).toHaveLength(2);
    expect(s.nonTerminal().map((r) => r.intentId)).toEqual(['intent-1', 'intent-3']);
  });

  it('keeps a finished intent among the unfinalized until its DONE event marks it finalized', async () => {
    const s = open();
    await Promise.all([1, 2, 3].map((n) => s.register(recordFor(n), eventFor(n, 'intent.received'))));
    await s.transition('intent-2', { status: 'EXECUTED', updatedAt: 5 }, eventFor(2, 'venue.order.filled'));
    await s.transition(
      'intent-3',
      { status: 'FAILED', tag: 'EXPIRED', updatedAt: 6 },
      eventFor(3, 'expired'),
    );
    expect(s.unfinalized().map((r) => r.intentId)).toEqual(['intent-1', 'intent-2', 'intent-3']);

    await s.transition(
      'intent-2',
      { finalized: true, updatedAt: 7 },
      eventFor(2, 'intent.finalize', { from: 'closed.filled', to: 'done' }),
    );
    expect(s.unfinalized().map((r) => r.intentId)).toEqual(['intent-1', 'intent-3']);
    // Finalizing changes nothing a replay or a result reads: no registry event, the snapshot kept.
    expect(s.get('intent-2')).toMatchObject({ status: 'EXECUTED', snapshot: { value: 'idle', n: 2 } });
    expect(s.journal({ correlationId: 'corr-2' }).at(-1)?.type).toBe('intent.finalize');

    // An intent still working at the venue is never finalized: restart would lose it.
    await expect(
      s.transition('intent-1', { finalized: true, updatedAt: 8 }, eventFor(1, 'intent.finalize')),
    ).rejects.toMatchObject({ code: 'KEEL_ERR_BAD_INPUT' });
    expect(s.unfinalized().map((r) => r.intentId)).toEqual(['intent-1', 'intent-3']);
  });

  it('finds the unfinalized intents through an index of them alone, not the closed history', async () => {
    await open().close();
    store = undefined;
    const plan = reader((db) =>
      db
        .prepare<[], { detail: string }>(
          'EXPLAIN QUERY PLAN SELECT * FROM registry WHERE finalized_at IS NULL ORDER BY created_at, intent_id',
        )
        .all()
        .map((row) => row.detail),
    );
    expect(plan).toEqual(['SCAN registry USING INDEX registry_unfinalized']);
  });

  it('registers and applies the first verdict in one commit, and applies no verdict to a known intent', async () => {
    const s = open();
    const verdict = {
      before: [eventFor(1, 'intent.checked')],
      update: { status: 'SENT_TO_BROKER' as const, snapshot: { value: 'sent' }, updatedAt: 2 },
      event: eventFor(1, 'intent.submit'),
      also: [eventFor(1, 'order.note')],
    };
    const commitsBefore = s.stats().commits;
    const { created } = await s.register(recordFor(1), eventFor(1, 'intent.received'), verdict);
    expect(created).toBe(true);
    expect(s.stats().commits - commitsBefore).toBe(1);
    expect(s.get('intent-1')).toMatchObject({ status: 'SENT_TO_BROKER', snapshot: { value: 'sent' } });
    expect(s.journal({ correlationId: 'corr-1' }).map((event) => event.type)).toEqual([
      'intent.received',
      'registry.created',
      'intent.checked',
      'intent.submit',
      'registry.updated',
      'order.note',
    ]);

    const again = await s.register(recordFor(1), eventFor(1, 'intent.received.again'), {
      update: { status: 'FAILED', tag: 'RISK_BLOCKED:x', updatedAt: 3 },
      event: eventFor(1, 'intent.blocked'),
    });
    expect(again.created).toBe(false);
    expect(s.get('intent-1')?.status).toBe('SENT_TO_BROKER');
    expect(s.journal({ correlationId: 'corr-1' })).toHaveLength(6);
  });

  it('changes only the fields a transition names, and clears a field set to null', async () => {
    const s = open();
    await s.register(recordFor(1), eventFor(1, 'intent.received'));
    await s.transition(
      'intent-1',
      { status: 'SENT_TO_BROKER', tag: 'SLOW_ACK', venueOrderId: 'v-1', updatedAt: 5 },
      eventFor(1, 'order.accepted'),
    );
    await s.transition('intent-1', { tag: null, updatedAt: 6 }, eventFor(1, 'order.note'));
    const after = s.get('intent-1')!;
    expect(after).toMatchObject({ status: 'SENT_TO_BROKER', tag: null, venueOrderId: 'v-1', updatedAt: 6 });
    expect(after.snapshot).toEqual(recordFor(1).snapshot);
  });

  it('returns from register exactly the record a later read sees, and stores a snapshot as JSON', async () => {
    const s = open();
    const { record } = await s.register(
      recordFor(1, { snapshot: undefined }),
      eventFor(1, 'intent.received'),
    );
    expect(record).toEqual(s.get('intent-1'));
    expect(record.snapshot).toBeNull();
    await s.transition(
      'intent-1',
      { snapshot: { value: 'sent', dropped: undefined }, updatedAt: 3 },
      eventFor(1, 'order.submitting'),
    );
    expect(s.get('intent-1')?.snapshot).toStrictEqual({ value: 'sent' });
  });

  it('journals each registry change as a store event caused by the caller event, with from and to', async () => {
    const s = open();
    const received = eventFor(1, 'intent.received');
    const accepted = eventFor(1, 'order.accepted', { reasonCode: 'VENUE_ACK' });
    await s.register(recordFor(1), received);
    await s.transition('intent-1', { status: 'SENT_TO_BROKER', venueOrderId: 'v-1', updatedAt: 4 }, accepted);
    const registryEvents = s.journal({ correlationId: 'corr-1' }).filter((e) => e.source === 'store');
    expect(registryEvents).toMatchObject([
      { type: 'registry.created', causingEventId: received.eventId, from: null, to: 'CREATED' },
      {
        type: 'registry.updated',
        causingEventId: accepted.eventId,
        reasonCode: 'VENUE_ACK',
        from: 'CREATED',
        to: 'SENT_TO_BROKER',
        data: { intentId: 'intent-1', status: 'SENT_TO_BROKER', tag: null, venueOrderId: 'v-1' },
      },
    ]);
  });

  it('registers concurrent duplicates of one intent as exactly one row with one creation event', async () => {
    const s = open();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => s.register(recordFor(7), eventFor(7, 'intent.received'))),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    for (const result of results) expect(result.record.intentId).toBe('intent-7');
    const again = await s.register(recordFor(7, { tag: 'changed' }), eventFor(7, 'intent.received'));
    expect(again).toEqual({ created: false, record: s.get('intent-7') });
    expect(again.record.tag).toBeNull();
    expect(reader((db) => db.prepare('SELECT count(*) AS n FROM registry').get())).toEqual({ n: 1 });
    expect(s.journal({ correlationId: 'corr-7' }).map((e) => e.type)).toEqual([
      'intent.received',
      'registry.created',
    ]);
  });

  it('refuses a second intent with a clientOrderId already in use and writes nothing for it', async () => {
    const s = open();
    await s.register(recordFor(1), eventFor(1, 'intent.received'));
    await expect(
      s.register(recordFor(2, { clientOrderId: 'k-1' }), eventFor(2, 'intent.received')),
    ).rejects.toMatchObject({ code: 'KEEL_ERR_DUPLICATE_CLIENT_ORDER_ID' });
    expect(s.get('intent-2')).toBeNull();
    expect(s.journal({ correlationId: 'corr-2' })).toEqual([]);
  });

  it('refuses to register anything but CREATED (register first, decide later)', async () => {
    const s = open();
    await expect(
      s.register(recordFor(1, { status: 'FAILED' }), eventFor(1, 'intent.received')),
    ).rejects.toMatchObject({ code: 'KEEL_ERR_BAD_INPUT' });
    expect(s.list()).toEqual([]);
  });

  it('leaves neither the row change nor the journal event when a transition fails mid-transaction', async () => {
    const s = open();
    const first = eventFor(1, 'intent.received');
    await s.register(recordFor(1), first);
    const before = s.get('intent-1');
    const journalBefore = s.readJournal();
    // The row update succeeds, then the event insert hits the unique event id: both must go.
    const failing = s.transition(
      'intent-1',
      { status: 'SENT_TO_BROKER', venueOrderId: 'v-1', updatedAt: 99 },
      { ...eventFor(1, 'order.submitting'), eventId: first.eventId },
    );
    // A neighbour in the same group commit is isolated from the failure.
    const neighbour = s.register(recordFor(2), eventFor(2, 'intent.received'));
    await expect(failing).rejects.toThrow(/UNIQUE/);
    await expect(neighbour).resolves.toMatchObject({ created: true });
    expect(s.get('intent-1')).toEqual(before);
    expect(s.readJournal().filter((e) => e.correlationId === 'corr-1')).toEqual(journalBefore);
    expect(s.stats()).toMatchObject({ commits: 2, failedWrites: 1 });
  });

  it('refuses a transition of an unknown intent and a caller-written registry.* event', async () => {
    const s = open();
    await expect(
      s.transition('intent-9', { status: 'FAILED', updatedAt: 1 }, eventFor(9, 'risk.blocked')),
    ).rejects.toMatchObject({ code: 'KEEL_ERR_UNKNOWN_INTENT' });
    await expect(s.append(eventFor(9, 'registry.updated'))).rejects.toMatchObject({
      code: 'KEEL_ERR_BAD_INPUT',
    });
    expect(s.readJournal()).toEqual([]);
  });

  it('commits writes issued together as one transaction and later writes as exactly the next one', async () => {
    const s = open();
    let secondWave: Promise<unknown>[] = [];
    const firstWave = Array.from({ length: 20 }, (_, n) =>
      s.register(recordFor(n), eventFor(n, 'intent.received')),
    );
    void firstWave[0]?.then(() => {
      secondWave = Array.from({ length: 5 }, (_, n) =>
        s.transition(
          `intent-${n}`,
          { status: 'SENT_TO_BROKER', updatedAt: 50 },
          eventFor(n, 'order.submitting'),
        ),
      );
    });
    await Promise.all(firstWave);
    expect(s.stats()).toMatchObject({ commits: 1, writes: 20, largestBatch: 20 });
    await Promise.all(secondWave);
    expect(secondWave).toHaveLength(5);
    expect(s.stats()).toMatchObject({ commits: 2, writes: 25 });
  });

  it('resolves every write only after its transaction is visible to another connection', async () => {
    const s = open();
    const seen = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        s
          .register(recordFor(n), eventFor(n, 'intent.received'))
          .then(() =>
            reader((db) => db.prepare('SELECT status FROM registry WHERE intent_id = ?').get(`intent-${n}`)),
          ),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 10 }, () => ({ status: 'CREATED' })));
  });

  it('keeps every committed write across a close and reopen', async () => {
    const s = open();
    await s.register(recordFor(1), eventFor(1, 'intent.received'));
    await s.transition(
      'intent-1',
      { status: 'SENT_TO_BROKER', venueOrderId: 'v-1', snapshot: { value: 'sent' }, updatedAt: 9 },
      eventFor(1, 'order.accepted'),
    );
    const record = s.get('intent-1');
    const journal = s.readJournal();
    await s.close();
    const reopened = open();
    expect(reopened.get('intent-1')).toEqual(record);
    expect(reopened.get('intent-1')?.snapshot).toEqual({ value: 'sent' });
    expect(reopened.readJournal()).toEqual(journal);
  });

  it('commits writes still queued when close is called, then refuses new ones', async () => {
    const s = open();
    const pending = s.register(recordFor(1), eventFor(1, 'intent.received'));
    const closing = s.close();
    await expect(s.append(eventFor(1, 'late'))).rejects.toThrow(/closed/);
    await closing;
    await expect(pending).resolves.toMatchObject({ created: true });
    const reopened = open();
    expect(reopened.get('intent-1')?.status).toBe('CREATED');
  });

  it('looks the journal up by clientOrderId, including events journaled under the correlation id only', async () => {
    const s = open();
    await s.register(recordFor(1), eventFor(1, 'intent.received'));
    await s.append(eventFor(1, 'order.retry', { clientOrderId: null }));
    await s.register(recordFor(2), eventFor(2, 'intent.received'));
    const types = s.journal({ clientOrderId: 'k-1' }).map((e) => e.type);
    expect(types).toEqual(['intent.received', 'registry.created', 'order.retry']);
    expect(() => s.journal({})).toThrow(/correlationId or a clientOrderId/);
  });
});

describe('journal mirror', () => {
  it('holds exactly the committed journal, one JSON object per line, and nothing that failed', async () => {
    const s = open();
    await s.register(recordFor(1), eventFor(1, 'intent.received'));
    await s
      .transition('intent-9', { status: 'FAILED', updatedAt: 1 }, eventFor(9, 'x'))
      .catch(() => undefined);
    await s.transition('intent-1', { status: 'EXECUTED', updatedAt: 3 }, eventFor(1, 'order.filled'));
    expect(mirrorLines()).toEqual(s.readJournal());
    expect(mirrorLines().map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('cuts a torn last line and catches up from the database on reopen', async () => {
    const s = open();
    await s.register(recordFor(1), eventFor(1, 'intent.received'));
    await s.register(recordFor(2), eventFor(2, 'intent.received'));
    const journal = s.readJournal();
    await s.close();
    // A crash after the commit but mid-append: the first line survived, the rest is torn.
    const [firstLine] = readFileSync(`${dir}/journal.jsonl`, 'utf8').split('\n');
    writeFileSync(`${dir}/journal.jsonl`, `${firstLine}\n`);
    appendFileSync(`${dir}/journal.jsonl`, '{"seq":2,"eventId":"to');
    open();
    expect(mirrorLines()).toEqual(journal);
  });

  it('is rebuilt whole when it was deleted', async () => {
    const s = open();
    await s.register(recordFor(1), eventFor(1, 'intent.received'));
    const journal = s.readJournal();
    await s.close();
    writeFileSync(`${dir}/journal.jsonl`, '');
    open();
    expect(mirrorLines()).toEqual(journal);
  });
});

describe('migrations', () => {
  const versionOf = (): unknown =>
    reader((db) => db.prepare('SELECT version FROM schema_version').pluck().get());

  it('creates a new file at the latest schema version', async () => {
    await open().close();
    expect(versionOf()).toBe(MIGRATIONS.length);
  });

  it('migrates an older file on open and keeps its data', async () => {
    const old = open({ migrations: MIGRATIONS.slice(0, 1) });
    await old.register(recordFor(1), eventFor(1, 'intent.received'));
    await old.close();
    expect(versionOf()).toBe(1);
    const indexesBefore = reader((db) =>
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'journal_by%'").all(),
    );
    expect(indexesBefore).toEqual([]);
    const current = open();
    expect(versionOf()).toBe(MIGRATIONS.length);
    expect(current.get('intent-1')?.clientOrderId).toBe('k-1');
    expect(current.journal({ clientOrderId: 'k-1' })).toHaveLength(2);
    await current.close();
    open();
    expect(versionOf()).toBe(MIGRATIONS.length);
  });

  it('marks the intents an older file finalized (DONE) as finalized, and only those', async () => {
    const old = open({ migrations: MIGRATIONS.slice(0, 2) });
    await Promise.all([1, 2, 3].map((n) => old.register(recordFor(n), eventFor(n, 'intent.received'))));
    for (const n of [2, 3])
      await old.transition(`intent-${n}`, { status: 'EXECUTED', updatedAt: 5 }, eventFor(n, 'filled'));
    const done = eventFor(2, 'intent.finalize', { from: 'closed.filled', to: 'done' });
    await old.append(done);
    await old.close();

    const current = open();
    expect(versionOf()).toBe(3);
    // intent-3 finished but was never finalized: the next restart must look at it again.
    expect(current.unfinalized().map((r) => r.intentId)).toEqual(['intent-1', 'intent-3']);
    expect(
      reader((db) =>
        db.prepare("SELECT finalized_at FROM registry WHERE intent_id = 'intent-2'").pluck().get(),
      ),
    ).toBe(done.ts);
  });

  it('refuses a file written by a newer schema with a clear error', async () => {
    await open().close();
    store = undefined;
    const db = new Database(`${dir}/keel.db`);
    db.prepare('UPDATE schema_version SET version = 99').run();
    db.close();
    let refusal: unknown;
    try {
      open();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({
      code: 'KEEL_ERR_STORE_SCHEMA',
      message: expect.stringMatching(
        new RegExp(`schema version 99, newer than this keel understands \\(${MIGRATIONS.length}\\)`),
      ),
    });
    expect(versionOf()).toBe(99);
  });
});

describe('replayJournal', () => {
  it('refuses a journal that updates an intent before creating it', () => {
    expect(() =>
      replayJournal([
        {
          type: 'registry.updated',
          data: { intentId: 'a', status: 'FAILED', tag: null, venueOrderId: null },
        },
      ]),
    ).toThrow(/events\.0\.data\.intentId: intent a was updated before it was created/);
  });

  it('names the bad field of a malformed registry event', () => {
    expect(() => replayJournal([{ type: 'registry.created', data: { intentId: 'a' } }])).toThrow(
      /events\.0\.data\.clientOrderId/,
    );
  });
});

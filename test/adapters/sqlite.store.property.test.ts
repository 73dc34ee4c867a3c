import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite.store.js';
import { REGISTRY_STATUSES, replayJournal } from '../../src/domain/registry-replay.js';
import type { JournalEvent, RegistryRecord, RegistryUpdate } from '../../src/ports/store.port.js';
import { eventFor, recordFor, tempDir } from './store-fixtures.js';

// Intent numbers 0..2 exist only once registered; 3 is never registered, so its writes fail.
const intentNumber = fc.integer({ min: 0, max: 3 });
const registrableNumber = fc.integer({ min: 0, max: 2 });
const nullableText = (values: string[]) => fc.option(fc.constantFrom(...values), { nil: null });

const operation = fc.oneof(
  fc.record({ kind: fc.constant('register' as const), n: registrableNumber }),
  fc.record({
    kind: fc.constant('transition' as const),
    n: intentNumber,
    status: fc.option(fc.constantFrom(...REGISTRY_STATUSES), { nil: undefined }),
    tag: fc.option(nullableText(['RISK_BLOCKED:max_notional', 'VENUE_REJECTED:-2019']), { nil: undefined }),
    venueOrderId: fc.option(nullableText(['v-1', 'v-2']), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('append' as const), n: intentNumber }),
  // A caller event that reuses an event id: its write must fail and leave nothing behind.
  fc.record({ kind: fc.constant('duplicate-event' as const), n: intentNumber }),
);

// Operations arrive in waves: each wave is issued at once (one group commit), then awaited.
const waves = fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 });

describe('sqlite store against a replay of its journal', () => {
  it('keeps the registry equal to replayJournal(journal) and the mirror equal to the journal', async () => {
    await fc.assert(
      fc.asyncProperty(waves, async (plan) => {
        const { dir, remove } = tempDir();
        const store = openSqliteStore({ dataDir: dir });
        try {
          const reusedEventId = eventFor(0, 'seed').eventId;
          await store.append({ ...eventFor(0, 'seed'), eventId: reusedEventId });
          for (const wave of plan) {
            await Promise.allSettled(
              wave.map((op) => {
                if (op.kind === 'register') {
                  return store.register(recordFor(op.n), eventFor(op.n, 'intent.received'));
                }
                if (op.kind === 'append') return store.append(eventFor(op.n, 'order.retry'));
                if (op.kind === 'duplicate-event') {
                  return store.transition(
                    `intent-${op.n}`,
                    { status: 'FAILED', updatedAt: 1 },
                    { ...eventFor(op.n, 'risk.blocked'), eventId: reusedEventId },
                  );
                }
                const update: RegistryUpdate = { updatedAt: 7 };
                if (op.status !== undefined) update.status = op.status;
                if (op.tag !== undefined) update.tag = op.tag;
                if (op.venueOrderId !== undefined) update.venueOrderId = op.venueOrderId;
                return store.transition(`intent-${op.n}`, update, eventFor(op.n, 'order.updated'));
              }),
            );
          }
          const journal = store.readJournal();
          const replayed = replayJournal(journal);
          const rows = store.list();
          expect(rows.length).toBe(replayed.size);
          for (const row of rows) {
            expect(replayed.get(row.intentId)).toEqual({
              intentId: row.intentId,
              clientOrderId: row.clientOrderId,
              correlationId: row.correlationId,
              venue: row.venue,
              status: row.status,
              tag: row.tag,
              venueOrderId: row.venueOrderId,
            });
          }
          expect(Object.fromEntries(rows.map((row) => [row.intentId, fieldsOf(row)]))).toEqual(
            expectedRegistry(plan.flat()),
          );
          const mirror = readFileSync(`${dir}/journal.jsonl`, 'utf8')
            .split('\n')
            .filter((line) => line.length > 0)
            .map((line) => JSON.parse(line) as JournalEvent);
          expect(mirror).toEqual(journal);
        } finally {
          await store.close();
          remove();
        }
      }),
      { numRuns: 60 },
    );
  });
});

type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;
type Fields = Pick<RegistryRecord, 'status' | 'tag' | 'venueOrderId'>;

function fieldsOf(record: RegistryRecord): Fields {
  return { status: record.status, tag: record.tag, venueOrderId: record.venueOrderId };
}

/** The registry the operations should leave, applied in issue order (group commit keeps it). */
function expectedRegistry(operations: Operation[]): Record<string, Fields> {
  const registry: Record<string, Fields> = {};
  for (const op of operations) {
    const key = `intent-${op.n}`;
    const current = registry[key];
    if (op.kind === 'register' && !current)
      registry[key] = { status: 'CREATED', tag: null, venueOrderId: null };
    if (op.kind === 'transition' && current) {
      registry[key] = {
        status: op.status ?? current.status,
        tag: op.tag === undefined ? current.tag : op.tag,
        venueOrderId: op.venueOrderId === undefined ? current.venueOrderId : op.venueOrderId,
      };
    }
  }
  return registry;
}

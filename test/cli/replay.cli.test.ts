/**
 * `keel replay` through the built binary, on a real store: the timeline of one intent by
 * correlation id or clientOrderId, from the database and from its JSONL mirror, and the exit
 * codes for bad options (2), an unknown key (1) and a corrupted journal line (2).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite.store.js';
import type { JournalEvent } from '../../src/ports/store.port.js';
import { eventFor, recordFor, tempDir } from '../adapters/store-fixtures.js';
import { runKeel } from '../support/cli.js';

interface ReplayJson {
  key: string;
  correlationId: string;
  clientOrderIds: string[];
  events: JournalEvent[];
  registry: { intentId: string; status: string; tag: string | null; venueOrderId: string | null } | null;
}

let dir: string;
let remove: () => void;
let db: string;
let mirror: string;
const causes: Record<'created' | 'sent' | 'filled', JournalEvent> = {
  created: eventFor(7, 'intent.created', { to: 'CREATED', stage: 'api', source: 'api' }),
  sent: eventFor(7, 'order.submit', {
    from: 'CREATED',
    to: 'SENT_TO_BROKER',
    stage: 'router',
    source: 'router',
  }),
  filled: eventFor(7, 'venue.order.filled', {
    from: 'SENT_TO_BROKER',
    to: 'EXECUTED',
    stage: 'venue',
    source: 'paper',
    reasonCode: 'FILLED',
  }),
};

beforeAll(async () => {
  ({ dir, remove } = tempDir());
  const store = openSqliteStore({ dataDir: dir });
  // A second intent in the same journal: replay must leave it out.
  await store.register(recordFor(8), eventFor(8, 'intent.created'));
  await store.register(recordFor(7), causes.created);
  await store.append(eventFor(8, 'order.submit'));
  await store.transition('intent-7', { status: 'SENT_TO_BROKER', updatedAt: 3_000 }, causes.sent);
  await store.transition(
    'intent-7',
    { status: 'EXECUTED', tag: 'FILLED', venueOrderId: 'v-77', updatedAt: 4_000 },
    causes.filled,
  );
  await store.close();
  db = store.file;
  mirror = store.mirrorPath;
});

afterAll(() => remove());

async function replayJson(args: string[]): Promise<ReplayJson> {
  const result = await runKeel(['replay', ...args, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ReplayJson;
}

describe('keel replay', () => {
  const sources = () => ({ db: ['--db', db], journal: ['--journal', mirror] });

  for (const source of ['db', 'journal'] as const) {
    for (const key of ['corr-7', 'k-7']) {
      it(`shows the timeline of one intent by ${key} from the ${source}, in order with causes`, async () => {
        const timeline = await replayJson([key, ...sources()[source]]);
        expect(timeline.key).toBe(key);
        expect(timeline.correlationId).toBe('corr-7');
        expect(timeline.clientOrderIds).toEqual(['k-7']);
        expect(timeline.events.every((event) => event.correlationId === 'corr-7')).toBe(true);
        expect(timeline.events.map((event) => event.type)).toEqual([
          'intent.created',
          'registry.created',
          'order.submit',
          'registry.updated',
          'venue.order.filled',
          'registry.updated',
        ]);
        const seqs = timeline.events.map((event) => event.seq ?? 0);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        const registryEvents = timeline.events.filter((event) => event.type.startsWith('registry.'));
        expect(registryEvents.map((event) => event.causingEventId)).toEqual([
          causes.created.eventId,
          causes.sent.eventId,
          causes.filled.eventId,
        ]);
        expect(registryEvents.map((event) => `${event.from ?? ''}>${event.to ?? ''}`)).toEqual([
          '>CREATED',
          'CREATED>SENT_TO_BROKER',
          'SENT_TO_BROKER>EXECUTED',
        ]);
        expect(timeline.events.at(-1)?.reasonCode).toBe('FILLED');
        expect(timeline.registry).toMatchObject({
          intentId: 'intent-7',
          status: 'EXECUTED',
          tag: 'FILLED',
          venueOrderId: 'v-77',
        });
      });
    }
  }

  it('reads the database without creating, migrating or changing any file', async () => {
    const before = readdirSync(dir).sort();
    const image = readFileSync(db);
    expect((await runKeel(['replay', 'k-7', '--db', db])).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readFileSync(db).equals(image)).toBe(true);
  });

  it('exits 2 when the file is not a keel database', async () => {
    const notDb = join(dir, 'not-a.db');
    writeFileSync(notDb, 'hello');
    const result = await runKeel(['replay', 'k-7', '--db', notDb]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(notDb);
  });

  it('prints a readable timeline with times, transitions, stages and causes', async () => {
    const result = await runKeel(['replay', 'k-7', '--db', db]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toContain('corr-7');
    const executed = lines.find((line) => line.includes('registry.updated  SENT_TO_BROKER → EXECUTED'));
    expect(executed).toBeDefined();
    expect(executed).toContain(new Date(causes.filled.ts).toISOString());
    expect(executed).toContain('[venue/store]');
    expect(executed).toContain('reason=FILLED');
    expect(executed).toContain(`cause=${causes.filled.eventId}`);
    expect(lines.at(-1)).toBe('registry: intent-7 EXECUTED tag=FILLED venueOrderId=v-77');
  });

  it('exits 1 naming the key when no journal event matches', async () => {
    const result = await runKeel(['replay', 'k-404', '--db', db]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no journal events for k-404');
    expect(result.stdout).toBe('');
  });

  it('exits 2 naming the field when both --db and --journal are given', async () => {
    const result = await runKeel(['replay', 'k-7', '--db', db, '--journal', mirror, '--json']);
    expect(result.code).toBe(2);
    const body = JSON.parse(result.stdout) as { error: { code: string; issues: { path: string }[] } };
    expect(body.error.code).toBe('KEEL_ERR_BAD_INPUT');
    expect(body.error.issues.map((issue) => issue.path)).toEqual(['journal']);
  });

  it('exits 2 naming the key when it is empty', async () => {
    const result = await runKeel(['replay', '  ', '--db', db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('key:');
  });

  it('exits 2 on an unknown option', async () => {
    const result = await runKeel(['replay', 'k-7', '--dbx', db]);
    expect(result.code).toBe(2);
  });

  it('exits 2 on a missing database without creating it', async () => {
    const missing = join(dir, 'nowhere', 'keel.db');
    const result = await runKeel(['replay', 'k-7', '--db', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });

  it('reads the default ./.keel/keel.db when no source is given, and exits 2 when it is absent', async () => {
    const result = await runKeel(['replay', 'k-7'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no database at .keel/keel.db');
    expect(existsSync(join(dir, '.keel'))).toBe(false);
  });

  it('exits 2 on a missing journal file', async () => {
    const result = await runKeel(['replay', 'k-7', '--journal', join(dir, 'absent.jsonl')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read journal');
  });

  it('exits 2 naming the line of a journal line that is not JSON', async () => {
    const lines = readFileSync(mirror, 'utf8').trim().split('\n');
    lines.splice(2, 0, '{"eventId": "torn');
    const corrupted = join(dir, 'corrupted.jsonl');
    writeFileSync(corrupted, `${lines.join('\n')}\n`);
    const result = await runKeel(['replay', 'k-7', '--journal', corrupted]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`line 3 of ${corrupted} is not valid JSON`);
  });

  it('exits 2 naming the line and field of a journal line that is not a valid event', async () => {
    const lines = readFileSync(mirror, 'utf8').trim().split('\n');
    const bad = JSON.parse(lines[3] ?? '{}') as Record<string, unknown>;
    bad['ts'] = 'yesterday';
    lines[3] = JSON.stringify(bad);
    const corrupted = join(dir, 'invalid.jsonl');
    writeFileSync(corrupted, `${lines.join('\n')}\n`);
    const result = await runKeel(['replay', 'k-7', '--journal', corrupted, '--json']);
    expect(result.code).toBe(2);
    const body = JSON.parse(result.stdout) as { error: { message: string; issues: { path: string }[] } };
    expect(body.error.message).toContain('line 4 of');
    expect(body.error.issues.map((issue) => issue.path)).toEqual(['line 4: ts']);
  });
});

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite.store.js';
import { replayJournal } from '../../src/domain/registry-replay.js';
import type { JournalEvent } from '../../src/ports/store.port.js';
import { tempDir } from './store-fixtures.js';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));

it('keeps every acknowledged write after the writer is killed with SIGKILL', async () => {
  const { dir, remove } = tempDir();
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
        if (acked.length >= 150) resolve();
      });
      child.on('exit', () => reject(new Error(`writer exited before the kill: ${stderr}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const check = new Database(`${dir}/keel.db`);
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();

    const store = openSqliteStore({ dataDir: dir });
    try {
      for (const n of acked) {
        expect(store.get(`intent-${n}`)).toMatchObject({ status: 'SENT_TO_BROKER', venueOrderId: `v-${n}` });
      }
      const journal = store.readJournal();
      const replayed = replayJournal(journal);
      for (const row of store.list()) {
        expect(replayed.get(row.intentId)).toMatchObject({
          status: row.status,
          venueOrderId: row.venueOrderId,
        });
      }
      expect(replayed.size).toBe(store.list().length);
      const mirror = readFileSync(`${dir}/journal.jsonl`, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as JournalEvent);
      expect(mirror).toEqual(journal);
    } finally {
      await store.close();
    }
  } finally {
    remove();
  }
});

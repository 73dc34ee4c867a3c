/**
 * The README's library example must keep running: it is executed as a user would run it, and the
 * database it leaves behind is read back with `keel replay` from both the database and the journal.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite.store.js';
import { runKeel } from '../support/cli.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/library/quick-start.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'keel-example-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runExample(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', EXAMPLE, dir],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('the library quick start', () => {
  it('fills an entry, blocks an oversized one, cancels a resting one, and journals all three', async () => {
    const { code, stdout, stderr } = await runExample();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^entry: +EXECUTED FILLED 0\.01 \(stage venue\)$/m);
    expect(stdout).toMatch(/^blocked: +FAILED RISK_BLOCKED:max_notional — notional \d+ exceeds 5000$/m);
    expect(stdout).toMatch(/^cancelled: +FAILED CANCELED \(tag CANCELED\)$/m);

    const store = openSqliteStore({ dataDir: dir });
    const records = store.list();
    await store.close();
    expect(records.map((record) => record.status).sort()).toEqual(['EXECUTED', 'FAILED', 'FAILED']);
    const filled = records.find((record) => record.status === 'EXECUTED');

    for (const source of [
      ['--db', join(dir, 'keel.db')],
      ['--journal', join(dir, 'journal.jsonl')],
    ]) {
      const replay = await runKeel(['replay', filled!.clientOrderId, ...source, '--json']);
      expect(replay.code).toBe(0);
      const timeline = JSON.parse(replay.stdout) as {
        events: { type: string; data: { emitted?: { type: string }[] } }[];
      };
      const types = timeline.events.map((event) => event.type);
      expect(types.slice(0, 2)).toEqual(['intent.registered', 'registry.created']);
      const commands = timeline.events.flatMap((event) => event.data.emitted ?? []);
      expect(commands.map((command) => command.type)).toEqual(
        expect.arrayContaining(['order.submit.requested', 'order.fill.booked']),
      );
    }
  });
});

/**
 * The crash-restart soak (scripts/soak.ts) as a user runs it: the built `keel run` under load for
 * half a minute, killed with SIGKILL every few seconds and restarted on its data dir, then settled,
 * stopped and checked offline. Needs `npm run build` first, like the other CLI tests.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KEEL_BIN } from '../support/cli.js';

const SOAK = fileURLToPath(new URL('../../scripts/soak.ts', import.meta.url));

function soak(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(KEEL_BIN)) throw new Error(`${KEEL_BIN} is missing: run \`npm run build\` first`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', SOAK, ...args],
      { timeout: 58_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the crash-restart soak', () => {
  it('kills and restarts keel run under load, and finds every acknowledged intent and the venue in agreement', async () => {
    const run = await soak([
      '--minutes',
      '0.5',
      '--seed',
      '7',
      '--kill-every-min',
      '3',
      '--kill-every-max',
      '7',
      '--rate',
      '20',
      '--json',
    ]);
    const last = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    expect(last.startsWith('{'), `${run.stdout}\n${run.stderr}`).toBe(true);
    const report = JSON.parse(last) as {
      kills: number;
      restarts: number;
      intentsAcknowledged: number;
      fills: number;
      meanRestartMs: number | null;
      violations: Array<{ invariant: string; detail: string }>;
    };
    expect(report.violations, run.stdout).toEqual([]);
    expect(run.code).toBe(0);
    expect(report.kills).toBeGreaterThanOrEqual(3);
    expect(report.restarts).toBe(report.kills);
    expect(report.meanRestartMs).toBeGreaterThan(0);
    expect(report.intentsAcknowledged).toBeGreaterThan(100);
    expect(report.fills).toBeGreaterThan(0);
  }, 60_000);

  it('refuses bad flags with exit 2, naming each, and runs nothing', async () => {
    const bad = await soak(['--minutes', '0', '--seed', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--minutes:');
    expect(bad.stderr).toContain('--seed:');
    expect(bad.stdout).toBe('');
    const crossed = await soak([
      '--minutes',
      '1',
      '--seed',
      '1',
      '--kill-every-min',
      '9',
      '--kill-every-max',
      '3',
    ]);
    expect(crossed.code).toBe(2);
    expect(crossed.stderr).toContain('--kill-every-min: must not be above --kill-every-max');
    const unknown = await soak(['--minutes', '1', '--seed', '1', '--kills', '3']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("'--kills'");
  });
});

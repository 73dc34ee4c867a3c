/**
 * `keel status` and `keel kill` against a running daemon (in process, loopback): status shows the
 * mode and the kill switch, kill trips it with the reason journaled, --reset resets it, a bad or
 * missing token and a missing reason are refused with their own exit codes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KILL_SWITCH_CORRELATION_ID } from '../../src/actors/supervisors.js';
import { startDaemon, type Daemon } from '../../src/daemon/run.js';
import { testDaemonOptions } from '../support/daemon.js';
import { STATUS_EXIT } from '../../src/cli/status.command.js';
import { runKeel } from '../support/cli.js';

let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-status-cli-'));
  // No configured token: the daemon generates one and keeps it in the data dir, where the CLI reads it.
  daemon = await startDaemon(testDaemonOptions(join(dir, 'data')));
});

afterAll(async () => {
  await daemon.stop('test over');
  rmSync(dir, { recursive: true, force: true });
});

const client = () => ['--url', daemon.url, '--token-file', daemon.tokenFile ?? ''];

describe('keel status and keel kill', () => {
  it('shows the mode and the kill switch, trips it with a reason and resets it', async () => {
    const status = await runKeel(['status', ...client()]);
    expect(status.code).toBe(STATUS_EXIT.ok);
    expect(status.stdout).toMatch(/mode\s+GREEN/);
    expect(status.stdout).toMatch(/kill switch\s+armed/);

    const trip = await runKeel(['kill', ...client(), '--reason', 'cli drill', '--by', 'frank']);
    expect(trip.code).toBe(STATUS_EXIT.ok);
    expect(trip.stdout).toContain('TRIPPED (operator)');
    const tripped = JSON.parse((await runKeel(['status', ...client(), '--json'])).stdout) as {
      belief: { killSwitch: { view: { tripped: boolean }; trip: { reason: string; by: string } } };
    };
    expect(tripped.belief.killSwitch).toMatchObject({
      view: { tripped: true },
      trip: { reason: 'cli drill', by: 'frank' },
    });

    const reset = await runKeel(['kill', '--reset', ...client(), '--reason', 'drill over']);
    expect(reset.code).toBe(STATUS_EXIT.ok);
    expect(reset.stdout).toContain('kill switch armed');
    await daemon.keel.idle();
    expect(
      daemon.keel.store.journal({ correlationId: KILL_SWITCH_CORRELATION_ID }).map((event) => event.type),
    ).toEqual(['kill_switch.tripped', 'kill_switch.reset']);
  });

  it('refuses a kill without a reason, a wrong token and an unreachable daemon, each with its exit code', async () => {
    const noReason = await runKeel(['kill', ...client()]);
    expect(noReason.code).toBe(STATUS_EXIT.badInput);
    expect(noReason.stderr).toMatch(/reason/);

    const badTokenFile = join(dir, 'wrong-token');
    writeFileSync(badTokenFile, 'not-the-token\n');
    const wrong = await runKeel(['status', '--url', daemon.url, '--token-file', badTokenFile]);
    expect(wrong.code).toBe(STATUS_EXIT.daemon);
    expect(wrong.stderr).toMatch(/401/);
    expect(wrong.stderr).not.toContain('not-the-token');

    const envWins = await runKeel(['status', '--url', daemon.url, '--token-file', badTokenFile], {
      env: { KEEL_API_TOKEN: 'also-wrong' },
    });
    expect(envWins.code).toBe(STATUS_EXIT.daemon);

    const down = await runKeel(['status', '--url', 'http://127.0.0.1:1', '--token-file', badTokenFile]);
    expect(down.code).toBe(STATUS_EXIT.daemon);
    expect(down.stderr).toMatch(/cannot reach keel/);

    const badUrl = await runKeel(['status', '--url', 'not a url']);
    expect(badUrl.code).toBe(STATUS_EXIT.badInput);
    expect(badUrl.stderr).toMatch(/url/);
  });
});

/**
 * Fixed-seed chaos runs as a user starts them: `keel chaos --seed S --scenarios 200 --json`, with
 * and without `--crash`. Each run must report zero violations; the report names any that appear
 * with the seed and scenario to reproduce it.
 */
import { expect } from 'vitest';
import { runKeel } from '../support/cli.js';

/** The seeds the suite holds keel to. Found violations were fixed, never these seeds changed. */
export const CHAOS_SEEDS = [1, 2, 3] as const;
export const CHAOS_SCENARIOS = 200;

interface ChaosReport {
  seed: number;
  scenarios: number;
  intents: number;
  faultsInjected: number;
  crashes: number;
  violations: { scenario: number; invariant: string; detail: string }[];
}

export async function expectCleanChaosRun(seed: number, crash: boolean): Promise<ChaosReport> {
  const args = ['chaos', '--seed', String(seed), '--scenarios', String(CHAOS_SCENARIOS), '--json'];
  const run = await runKeel(crash ? [...args, '--crash'] : args, { timeoutMs: 600_000 });
  const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as ChaosReport;
  expect(
    report.violations,
    `reproduce: keel chaos --seed ${seed} --from <scenario> --scenarios 1${crash ? ' --crash' : ''}`,
  ).toEqual([]);
  expect(run.code).toBe(0);
  expect(report).toMatchObject({ seed, scenarios: CHAOS_SCENARIOS });
  // The run did what it says: intents traded, faults fired, and (with --crash) processes died.
  expect(report.intents).toBeGreaterThan(CHAOS_SCENARIOS * 5);
  expect(report.faultsInjected).toBeGreaterThan(CHAOS_SCENARIOS);
  if (crash) expect(report.crashes).toBeGreaterThan(CHAOS_SCENARIOS);
  else expect(report.crashes).toBe(0);
  return report;
}

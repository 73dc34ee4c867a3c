/**
 * keel chaos: plans are reproducible from (seed, scenario); the checker catches a deliberately
 * broken keel (lookups before a resend disabled: orders sent twice); the command line refuses bad
 * flags with their paths and prints its report as one JSON line.
 */
import { describe, expect, it } from 'vitest';
import { CHAOS_FAULT_KINDS, planScenario } from '../../src/chaos/plan.js';
import { runChaos } from '../../src/chaos/run.js';
import { runKeel } from '../support/cli.js';

const OPTIONS = { intents: 14, faults: CHAOS_FAULT_KINDS, crash: true } as const;

describe('chaos plans', () => {
  it('are a function of seed and scenario, whatever else runs', () => {
    expect(planScenario(9, 4, OPTIONS)).toEqual(planScenario(9, 4, OPTIONS));
    expect(planScenario(9, 4, OPTIONS)).not.toEqual(planScenario(9, 5, OPTIONS));
    expect(planScenario(9, 4, OPTIONS)).not.toEqual(planScenario(10, 4, OPTIONS));
  });

  it('mix every action kind, fault kind and crashes, and cancel or replace only what was planned before', () => {
    const plans = Array.from({ length: 40 }, (_, scenario) => planScenario(3, scenario, OPTIONS));
    const kinds = new Set(plans.flatMap((plan) => plan.actions.map((action) => action.kind)));
    expect([...kinds].sort()).toEqual(['cancel', 'crash', 'replace', 'reset', 'submit', 'trip']);
    const faults = new Set(plans.flatMap((plan) => Object.keys(plan.faults)));
    expect([...faults].sort()).toEqual([...CHAOS_FAULT_KINDS].sort());
    for (const plan of plans) {
      const planned = new Set<string>();
      for (const action of plan.actions) {
        if (action.kind === 'submit') planned.add(action.intentId);
        if (action.kind === 'cancel' || action.kind === 'replace') expect(planned).toContain(action.intentId);
      }
    }
    expect(planScenario(3, 0, { ...OPTIONS, crash: false }).actions.some((a) => a.kind === 'crash')).toBe(
      false,
    );
  });
});

describe('the chaos checker', () => {
  it('reports orders sent twice when keel resends without looking up first, and none when it looks', async () => {
    const run = { seed: 11, scenarios: 12, intents: 14, crash: false } as const;
    const broken = await runChaos({ ...run, breakage: 'lookup-before-resend-disabled' });
    const doubled = broken.violations.filter((violation) => violation.invariant === 'no-double-submit');
    expect(doubled.length).toBeGreaterThan(0);
    expect(doubled[0]?.detail).toMatch(/accepted it as a new order more than once/);
    const sound = await runChaos(run);
    expect(sound.faultsInjected).toBeGreaterThan(0);
    expect(sound.violations.filter((violation) => violation.invariant === 'no-double-submit')).toEqual([]);
  }, 60_000);
});

describe('keel chaos (command line)', () => {
  it('refuses bad flags with the path of each, exit 2, and runs nothing', async () => {
    const run = await runKeel(['chaos', '--seed', 'x', '--scenarios', '0', '--faults', 'nope,rateLimit']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('seed:');
    expect(run.stderr).toContain('scenarios:');
    expect(run.stderr).toContain('faults.0:');
    expect(run.stdout).toBe('');
  });

  it('prints its report as one JSON object on the last line, exit 1 exactly when it found violations', async () => {
    const run = await runKeel(['chaos', '--seed', '21', '--scenarios', '3', '--crash', '--json']);
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    const report = JSON.parse(last) as Record<string, unknown> & { violations: unknown[] };
    expect(Object.keys(report).sort()).toEqual([
      'crashes',
      'faultsByKind',
      'faultsInjected',
      'intents',
      'scenarios',
      'seed',
      'violations',
    ]);
    expect(report).toMatchObject({ seed: 21, scenarios: 3 });
    expect(run.code).toBe(report.violations.length === 0 ? 0 : 1);
  }, 60_000);
});

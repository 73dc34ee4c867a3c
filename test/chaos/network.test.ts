/**
 * keel chaos --network: keel's Binance adapter trades `keel paper-venue`'s server over loopback
 * through the seeded fault proxy. Network faults are part of the plan, a few scenarios with crashes
 * run clean through the command line while network faults fire, and the checker still catches the
 * broken keel (lookups before a resend disabled) when the answers it loses are network ones.
 */
import type { ChaosReport } from '../../src/chaos/run.js';
import { describe, expect, it } from 'vitest';
import { NETWORK_FAULT_KINDS } from '../../src/chaos/network.js';
import { CHAOS_FAULT_KINDS, planScenario } from '../../src/chaos/plan.js';
import { runScenario } from '../../src/chaos/scenario.js';
import { runKeel } from '../support/cli.js';

const ALL_FAULTS = [...CHAOS_FAULT_KINDS, ...NETWORK_FAULT_KINDS];
const OPTIONS = { intents: 12, faults: ALL_FAULTS, crash: true, network: true } as const;

type Report = ChaosReport;

describe('chaos plans over the network', () => {
  it('add network faults from a stream of their own, leaving the rest of the plan as it was', () => {
    const withNetwork = planScenario(4, 2, OPTIONS);
    const without = planScenario(4, 2, { ...OPTIONS, network: false });
    expect(withNetwork).toEqual(planScenario(4, 2, OPTIONS));
    const { network, ...rest } = withNetwork;
    expect(rest).toEqual(without);
    expect(without).not.toHaveProperty('network');
    const kinds = new Set(
      Array.from({ length: 40 }, (_, scenario) =>
        Object.keys(planScenario(4, scenario, OPTIONS).network ?? {}),
      ).flat(),
    );
    expect([...kinds].sort()).toEqual([...NETWORK_FAULT_KINDS].sort());
    expect(network).toBeDefined();
  });
});

describe('keel chaos --network (command line)', () => {
  it('refuses network fault kinds without --network, with the path of each, exit 2', async () => {
    const run = await runKeel(['chaos', '--faults', 'rateLimit,netDropResponse']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('faults.1:');
    expect(run.stderr).toContain('netDropResponse needs --network');
    expect(run.stdout).toBe('');
  });

  it('runs scenarios with crashes over loopback clean while network faults fire, and counts them by kind', async () => {
    const run = await runKeel(
      ['chaos', '--network', '--crash', '--seed', '1', '--scenarios', '3', '--json'],
      {
        timeoutMs: 90_000,
      },
    );
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as Report;
    expect(
      report.violations,
      'reproduce: keel chaos --network --crash --seed 1 --from <scenario> --scenarios 1',
    ).toEqual([]);
    expect(run.code).toBe(0);
    expect(report).toMatchObject({ seed: 1, scenarios: 3 });
    expect(report.crashes).toBeGreaterThan(0);
    const networkFaults = Object.entries(report.faultsByKind).filter(([kind]) => kind.startsWith('net'));
    expect(networkFaults.length).toBeGreaterThan(0);
    const total = Object.values(report.faultsByKind).reduce((sum, count) => sum + count, 0);
    expect(report.faultsInjected).toBe(total);
  }, 90_000);
});

describe('the chaos checker over the network', () => {
  it('reports orders sent twice when keel resends without looking up first, after answers lost on the wire', async () => {
    // Half the answers are lost after the venue executed the request: a keel that does not look an
    // order up before resending it soon sends a filled market order again; a sound one never does.
    const planOf = (scenario: number) => ({
      ...planScenario(1, scenario, { intents: 12, faults: [], crash: false, network: true }),
      network: { netDropResponse: { probability: 0.5 } },
    });
    let doubled: string[] = [];
    let scenario = 0;
    for (; scenario < 4 && doubled.length === 0; scenario += 1) {
      const broken = await runScenario(planOf(scenario), {
        network: true,
        breakage: 'lookup-before-resend-disabled',
      });
      doubled = broken.violations
        .filter((violation) => violation.invariant === 'no-double-submit')
        .map((violation) => violation.detail);
    }
    expect(doubled.length).toBeGreaterThan(0);
    expect(doubled[0]).toMatch(/accepted it as a new order more than once/);
    const sound = await runScenario(planOf(scenario - 1), { network: true });
    expect(sound.faultsByKind.netDropResponse).toBeGreaterThan(0);
    expect(sound.violations).toEqual([]);
  }, 60_000);
});

/**
 * A chaos run: N scenarios of one seed, each planned, run and checked on its own, summed into the
 * report `keel chaos --json` prints. Invariant: scenario n of seed S is the same scenario in every
 * run, whatever N is, so a violation is reproduced with `--seed S` and the scenario's number.
 */
import { NETWORK_FAULT_KINDS, type NetworkFaultKind } from './network.js';
import { CHAOS_FAULT_KINDS, planScenario, type ChaosFaultKind } from './plan.js';
import { runScenario, type ChaosScenarioOptions, type ChaosViolation } from './scenario.js';

export interface ChaosRunOptions extends ChaosScenarioOptions {
  seed: number;
  scenarios: number;
  /** Intents (actions) per scenario. */
  intents: number;
  /** Default: every paper venue fault, and with `network` every network fault too. */
  faults?: readonly (ChaosFaultKind | NetworkFaultKind)[];
  crash?: boolean;
  /** The first scenario's number (to rerun one: `from: n, scenarios: 1`). */
  from?: number;
  /** Called after each scenario, for progress lines. */
  onScenario?: (done: number, violations: number) => void;
}

export interface ChaosReport {
  seed: number;
  scenarios: number;
  intents: number;
  faultsInjected: number;
  /** The faults that fired, by kind, summed over the scenarios. */
  faultsByKind: Record<string, number>;
  crashes: number;
  violations: ChaosViolation[];
}

/**
 * @example
 * const report = await runChaos({ seed: 7, scenarios: 200, intents: 12, crash: true });
 * if (report.violations.length > 0) process.exitCode = 1;
 */
export async function runChaos(options: ChaosRunOptions): Promise<ChaosReport> {
  const report: ChaosReport = {
    seed: options.seed,
    scenarios: 0,
    intents: 0,
    faultsInjected: 0,
    faultsByKind: {},
    crashes: 0,
    violations: [],
  };
  const faults =
    options.faults ?? (options.network ? [...CHAOS_FAULT_KINDS, ...NETWORK_FAULT_KINDS] : CHAOS_FAULT_KINDS);
  const from = options.from ?? 0;
  for (let scenario = from; scenario < from + options.scenarios; scenario += 1) {
    const plan = planScenario(options.seed, scenario, {
      intents: options.intents,
      faults,
      crash: options.crash ?? false,
      network: options.network ?? false,
    });
    const result = await runScenario(plan, options);
    report.scenarios += 1;
    report.intents += result.intents;
    report.faultsInjected += result.faultsInjected;
    for (const [kind, count] of Object.entries(result.faultsByKind))
      report.faultsByKind[kind] = (report.faultsByKind[kind] ?? 0) + count;
    report.crashes += result.crashes;
    report.violations.push(...result.violations);
    options.onScenario?.(report.scenarios, report.violations.length);
  }
  return report;
}

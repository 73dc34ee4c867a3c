/**
 * A chaos run: N scenarios of one seed, each planned, run and checked on its own, summed into the
 * report `keel chaos --json` prints. Invariant: scenario n of seed S is the same scenario in every
 * run, whatever N is, so a violation is reproduced with `--seed S` and the scenario's number.
 */
import { CHAOS_FAULT_KINDS, planScenario, type ChaosFaultKind } from './plan.js';
import { runScenario, type ChaosScenarioOptions, type ChaosViolation } from './scenario.js';

export interface ChaosRunOptions extends ChaosScenarioOptions {
  seed: number;
  scenarios: number;
  /** Intents (actions) per scenario. */
  intents: number;
  faults?: readonly ChaosFaultKind[];
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
    crashes: 0,
    violations: [],
  };
  const from = options.from ?? 0;
  for (let scenario = from; scenario < from + options.scenarios; scenario += 1) {
    const plan = planScenario(options.seed, scenario, {
      intents: options.intents,
      faults: options.faults ?? CHAOS_FAULT_KINDS,
      crash: options.crash ?? false,
    });
    const result = await runScenario(plan, options);
    report.scenarios += 1;
    report.intents += result.intents;
    report.faultsInjected += result.faultsInjected;
    report.crashes += result.crashes;
    report.violations.push(...result.violations);
    options.onScenario?.(report.scenarios, report.violations.length);
  }
  return report;
}

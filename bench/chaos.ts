/**
 * `chaosScenariosPerSec`: how many seeded chaos scenarios (`runChaos`, as `keel chaos --crash` runs
 * them: faults, simulated crashes and restarts, then the independent checker) one process gets
 * through per wall second. Invariants: the measured scenarios are the same in every run (fixed seed,
 * numbers 0..N-1, fixed actions per scenario); the warm-up runs scenarios of another seed, so it
 * never changes which ones are measured; violations are counted and reported, never hidden.
 */
import { performance } from 'node:perf_hooks';
import { runChaos, type ChaosReport } from '../src/chaos/run.js';

export interface ChaosBenchOptions {
  seed: number;
  scenarios: number;
  /** Actions per scenario (the CLI's `--intents`). */
  intents: number;
  /** Scenarios run first, of seed `seed + 1`, and not measured. */
  warmupScenarios: number;
}

export interface ChaosBenchResult {
  scenariosPerSec: number;
  seconds: number;
  /** Process CPU (user + system, every thread) per scenario: the part that waits on no disk. */
  cpuMsPerScenario: number;
  report: ChaosReport;
}

export async function runChaosBench(options: ChaosBenchOptions): Promise<ChaosBenchResult> {
  const plan = { intents: options.intents, crash: true };
  if (options.warmupScenarios > 0)
    await runChaos({ ...plan, seed: options.seed + 1, scenarios: options.warmupScenarios });
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const report = await runChaos({ ...plan, seed: options.seed, scenarios: options.scenarios });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return {
    scenariosPerSec: report.scenarios / seconds,
    seconds,
    cpuMsPerScenario: (cpu.user + cpu.system) / 1000 / report.scenarios,
    report,
  };
}

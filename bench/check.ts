/**
 * `npm run bench:check`: the regression gate CI runs after the tests (issue 7 §5). A short bench —
 * calibration, three small throughput rounds, the chaos scenarios, restarts over a small store, some
 * reconcile ticks — gives the gated ratios of `regression-gate.ts`, which are
 * compared with the committed `bench/baseline.json`. Exit 0 when no ratio is worse than its baseline
 * by more than the tolerance (2×), 1 when one is, 2 when the gate cannot judge (bad flags, a bench
 * that failed, a figure missing). `--update-baseline` writes the ratios measured now instead;
 * `--rounds n` runs the short bench n times and takes each ratio's median.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { issuesOf } from '../src/domain/parse.js';
import { runCalibration } from './calibration.js';
import { runChaosBench } from './chaos.js';
import { runReconcileTick } from './reconcile-tick.js';
import {
  compareToBaseline,
  GATED_FIGURES,
  parseBaseline,
  type Baseline,
  type GateResult,
} from './regression-gate.js';
import { runRestart } from './restart.js';
import { median, removeTempDirs } from './support.js';
import { runThroughput } from './throughput.js';

/**
 * The short bench's sizes. They are part of what the baseline's ratios mean: change one and the
 * baseline must be refreshed. The restart store is a tenth of `restartMs`'s (whose build alone takes
 * half a minute here); recovery's cost follows the open intents, so the small store still exercises it.
 */
const SHORT = {
  calibration: { passes: 5, iterations: 100_000 },
  throughput: { count: 3_000, warmup: 500, concurrency: 500, rounds: 3 },
  chaos: { seed: 1, scenarios: 40, intents: 12, warmupScenarios: 5 },
  restart: { closed: 10_000, open: 1_000, restarts: 5, concurrency: 500 },
  // 15 measured ticks gave ratios 1.5× apart between runs (a collection landing in a few of them), 40 gave 1.3×.
  reconcile: { symbols: 1_000, openOrders: 10_000, warmupTicks: 10, ticks: 40 },
} as const;

const REFRESH =
  'Measured by `npm run bench:check -- --update-baseline --rounds 3` on the machine class CI runs on; refresh it ' +
  'the same way when that machine class changes, when a change makes keel faster on purpose, or when ' +
  "the short bench's sizes in bench/check.ts change (see the README's Benchmarks section).";

const flagsSchema = z.strictObject({
  baseline: z.string().min(1),
  tolerance: z.coerce.number().gt(1, 'must be greater than 1 (a ratio can be this many times worse)'),
  rounds: z.coerce.number().int().min(1).max(9),
  'update-baseline': z.boolean(),
  json: z.boolean(),
});

type Flags = z.output<typeof flagsSchema>;

/** Exit code 2: the gate could not judge (as opposed to 1, a regression). */
class CannotJudge extends Error {}

function parseFlags(argv: readonly string[]): Flags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        baseline: { type: 'string', default: 'bench/baseline.json' },
        tolerance: { type: 'string', default: '2' },
        rounds: { type: 'string', default: '1' },
        'update-baseline': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    // parseArgs names the unknown or malformed flag itself.
    throw new CannotJudge(`bad bench:check flags: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = flagsSchema.safeParse(values);
  if (!result.success) {
    const issues = issuesOf(result.error).map((issue) => `--${issue.path}: ${issue.message}`);
    throw new CannotJudge(`bad bench:check flags: ${issues.join('; ')}`);
  }
  return result.data;
}

function readBaseline(path: string): Baseline {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CannotJudge(`cannot read the baseline ${path}: ${String(error)}`);
  }
  try {
    return parseBaseline(JSON.parse(text));
  } catch (error) {
    throw new CannotJudge(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function commitOfWorkingTree(): string {
  try {
    const git = (args: string[]): string =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git(['rev-parse', '--short', 'HEAD']);
    const dirty = git(['status', '--porcelain']) !== '';
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return 'unknown';
  }
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;
/** Ratios are kept to four significant digits: the gate's tolerance is 2×, not 0.01 %. */
const significant = (value: number): number => Number(value.toPrecision(4));

/** Runs the short bench and returns the gated ratios, printing one line per measurement. */
async function measureRatios(): Promise<{ ratios: Record<string, number>; calibrationCpuMs: number }> {
  const calibration = runCalibration(SHORT.calibration);
  console.log(
    `calibration: ${round3(calibration.cpuMs)} ms CPU per pass (median of ${calibration.passCpuMs.length})`,
  );

  // Rounds as the full bench runs them; their median is what is gated.
  const intentCpuMs: number[] = [];
  for (let round = 0; round < SHORT.throughput.rounds; round += 1) {
    intentCpuMs.push((await runThroughput(SHORT.throughput)).cpuMsPerIntent);
  }
  console.log(
    `throughput: ${round3(median(intentCpuMs))} ms CPU per intent (${SHORT.throughput.count} intents, ` +
      `median of ${SHORT.throughput.rounds} rounds)`,
  );

  const chaos = await runChaosBench(SHORT.chaos);
  console.log(
    `chaos: ${chaos.report.scenarios} scenarios in ${chaos.seconds.toFixed(2)} s, ` +
      `${round3(chaos.cpuMsPerScenario)} ms CPU per scenario, ${chaos.report.violations.length} violation(s)`,
  );

  const restart = await runRestart(SHORT.restart);
  console.log(
    `small restart: ${SHORT.restart.closed} closed + ${SHORT.restart.open} open intents, median ` +
      `${Math.round(restart.restartMs)} ms, ${Math.round(restart.cpuMs)} ms CPU (of ${restart.runs.length})`,
  );

  const tick = await runReconcileTick(SHORT.reconcile);
  console.log(`reconcile tick: ${round3(tick.cpuMs)} ms CPU (median of ${tick.ticks})`);

  return {
    calibrationCpuMs: calibration.cpuMs,
    ratios: {
      intentCpuRatio: significant(median(intentCpuMs) / calibration.cpuMs),
      chaosScenarioCpuRatio: significant(chaos.cpuMsPerScenario / calibration.cpuMs),
      smallRestartCpuRatio: significant(restart.cpuMs / calibration.cpuMs),
      reconcileTickCpuRatio: significant(tick.cpuMs / calibration.cpuMs),
    },
  };
}

function printTable(result: GateResult, tolerance: number, baselinePath: string): void {
  console.table(
    Object.fromEntries(
      result.rows.map((row) => [
        row.figure,
        {
          better: row.better,
          baseline: row.baseline,
          current: row.current,
          'worse by': `${row.worseBy.toFixed(2)}×`,
          verdict: row.verdict,
        },
      ]),
    ),
  );
  console.log(
    result.regressed
      ? `bench:check FAILED: a ratio is more than ${tolerance}× worse than in ${baselinePath}; if the ` +
          "slowdown is intended, refresh the baseline as the README's Benchmarks section says"
      : `bench:check passed: no ratio is more than ${tolerance}× worse than its baseline`,
  );
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  // Read first, so a broken baseline fails before a minute of benchmarking.
  const baseline = flags['update-baseline'] ? null : readBaseline(flags.baseline);
  const started = performance.now();
  console.log(
    `keel bench:check: node ${process.version}, ${cpus().length} cpus, load average ${(loadavg()[0] ?? 0).toFixed(1)}`,
  );
  const rounds: Awaited<ReturnType<typeof measureRatios>>[] = [];
  try {
    for (let round = 1; round <= flags.rounds; round += 1) {
      if (flags.rounds > 1) console.log(`round ${round} of ${flags.rounds}`);
      rounds.push(await measureRatios());
    }
  } catch (error) {
    throw new CannotJudge(`the short bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  }
  // With several rounds (worth it when refreshing the baseline), each ratio is the median of its rounds.
  const measured = {
    calibrationCpuMs: median(rounds.map((round) => round.calibrationCpuMs)),
    ratios: Object.fromEntries(
      GATED_FIGURES.map(({ name }) => [
        name,
        median(rounds.map((round) => round.ratios[name] ?? Number.NaN)),
      ]),
    ),
  };
  const seconds = (performance.now() - started) / 1000;

  if (baseline === null) {
    const written: Baseline = {
      refresh: REFRESH,
      measured: {
        commit: commitOfWorkingTree(),
        date: new Date().toISOString().slice(0, 10),
        node: process.version,
        cpus: cpus().length,
        calibrationCpuMs: round3(measured.calibrationCpuMs),
      },
      ratios: measured.ratios,
    };
    writeFileSync(flags.baseline, `${JSON.stringify(written, null, 2)}\n`);
    console.log(`wrote ${flags.baseline} (${seconds.toFixed(1)} s): ${JSON.stringify(measured.ratios)}`);
    return 0;
  }

  let result: GateResult;
  try {
    result = compareToBaseline(baseline.ratios, measured.ratios, {
      figures: GATED_FIGURES,
      tolerance: flags.tolerance,
    });
  } catch (error) {
    throw new CannotJudge(error instanceof Error ? error.message : String(error));
  }
  printTable(result, flags.tolerance, flags.baseline);
  console.log(`bench:check took ${seconds.toFixed(1)} s`);
  if (flags.json) {
    console.log(JSON.stringify({ ...result, tolerance: flags.tolerance, seconds: round3(seconds) }));
  }
  return result.regressed ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof CannotJudge ? error.message : error);
  process.exitCode = 2;
} finally {
  removeTempDirs();
}

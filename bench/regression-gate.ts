/**
 * The regression gate's verdict, as a pure function: each gated figure is a ratio measured in one run
 * (a figure over a calibration taken on the same machine), compared with the committed baseline's
 * ratio in the direction that figure gets worse. Invariants: a figure fails only when it is worse
 * than its baseline by more than `tolerance` times; a gated figure missing from either side, or a
 * ratio that is not a positive finite number, is an error (never a silent pass); the baseline file is
 * parsed with zod where it enters.
 */
import { z } from 'zod';
import { parseOrThrow } from '../src/domain/parse.js';

/** Which way a figure improves. */
export type Better = 'higher' | 'lower';

export interface GatedFigure {
  name: string;
  better: Better;
}

/**
 * The figures `npm run bench:check` gates. Keel's own work is timed in process CPU and divided by the
 * calibration's CPU: on this machine half of a chaos scenario's wall time waits on fsync, whose cost
 * varies between machines independently of their CPU, so no single calibration would cancel it. The
 * wall-clock `ratioToRawFloor` is not gated: short runs of it came out nearly 2× apart under load.
 */
export const GATED_FIGURES: readonly GatedFigure[] = [
  // CPU ms per market entry through keel to EXECUTED ÷ calibration CPU ms.
  { name: 'intentCpuRatio', better: 'lower' },
  // CPU ms per chaos scenario (seeded, with crashes) ÷ calibration CPU ms.
  { name: 'chaosScenarioCpuRatio', better: 'lower' },
  // CPU ms of a restart over the small store of bench/check.ts ÷ calibration CPU ms.
  { name: 'smallRestartCpuRatio', better: 'lower' },
  // CPU ms of one reconcile tick (1 000 symbols, 10 000 orders) ÷ calibration CPU ms.
  { name: 'reconcileTickCpuRatio', better: 'lower' },
];

export const baselineSchema = z.strictObject({
  /** How to refresh the file; JSON has no comments, so it travels as a field. */
  refresh: z.string(),
  measured: z.strictObject({
    commit: z.string(),
    date: z.string(),
    node: z.string(),
    cpus: z.number().int().positive(),
    calibrationCpuMs: z.number().positive(),
  }),
  ratios: z.record(z.string(), z.number().positive()),
});

export type Baseline = z.output<typeof baselineSchema>;

/** Parses a baseline file's contents, naming every bad field. */
export function parseBaseline(value: unknown): Baseline {
  return parseOrThrow(baselineSchema, value, 'bad bench baseline');
}

export interface GateRow {
  figure: string;
  better: Better;
  baseline: number;
  current: number;
  /** How many times worse than the baseline (below 1: better). */
  worseBy: number;
  verdict: 'ok' | 'REGRESSED';
}

export interface GateResult {
  rows: GateRow[];
  regressed: boolean;
}

/** A gated figure missing or unusable: the gate cannot judge, which is not a pass. */
export class GateError extends Error {
  override name = 'GateError';
}

/**
 * Compares `current` ratios with `baseline` ones, figure by figure.
 *
 * @example
 * const { regressed, rows } = compareToBaseline(baseline.ratios, { intentCpuRatio: 3.4, ... }, {
 *   figures: GATED_FIGURES,
 *   tolerance: 2,
 * });
 */
export function compareToBaseline(
  baseline: Readonly<Record<string, number>>,
  current: Readonly<Record<string, number>>,
  options: { figures: readonly GatedFigure[]; tolerance: number },
): GateResult {
  if (!(options.tolerance > 1)) throw new GateError(`the tolerance must exceed 1, got ${options.tolerance}`);
  const usable = (value: number | undefined): value is number =>
    value !== undefined && Number.isFinite(value) && value > 0;
  const problems: string[] = [];
  const rows: GateRow[] = [];
  for (const { name, better } of options.figures) {
    const was = baseline[name];
    const now = current[name];
    if (!usable(was)) problems.push(`${name} has no usable baseline ratio (${String(was)})`);
    if (!usable(now)) problems.push(`${name} was not measured as a usable ratio (${String(now)})`);
    if (!usable(was) || !usable(now)) continue;
    const worseBy = better === 'higher' ? was / now : now / was;
    rows.push({
      figure: name,
      better,
      baseline: was,
      current: now,
      worseBy,
      verdict: worseBy > options.tolerance ? 'REGRESSED' : 'ok',
    });
  }
  if (problems.length > 0) throw new GateError(`the gate cannot judge: ${problems.join('; ')}`);
  return { rows, regressed: rows.some((row) => row.verdict === 'REGRESSED') };
}

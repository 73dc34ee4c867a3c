/**
 * The bench regression gate's verdict (bench/regression-gate.ts), without running a bench: a ratio
 * fails only when it is more than the tolerance worse than its baseline, in the direction its figure
 * gets worse; a figure the gate cannot judge is an error, never a pass.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compareToBaseline,
  GATED_FIGURES,
  GateError,
  parseBaseline,
  type GatedFigure,
} from '../../bench/regression-gate.js';

const FIGURES: readonly GatedFigure[] = [
  { name: 'throughputRatio', better: 'higher' },
  { name: 'restartCpuRatio', better: 'lower' },
];
const BASELINE = { throughputRatio: 0.25, restartCpuRatio: 1.2 };
const judge = (current: Record<string, number>) =>
  compareToBaseline(BASELINE, current, { figures: FIGURES, tolerance: 2 });

describe('the bench regression gate', () => {
  it('fails a figure 2.5× worse than its baseline, whichever way the figure gets worse', () => {
    const lowerIsWorse = judge({ throughputRatio: 0.25 / 2.5, restartCpuRatio: 1.2 });
    expect(lowerIsWorse.regressed).toBe(true);
    expect(lowerIsWorse.rows.find((row) => row.figure === 'throughputRatio')).toMatchObject({
      verdict: 'REGRESSED',
      worseBy: expect.closeTo(2.5, 6),
    });

    const higherIsWorse = judge({ throughputRatio: 0.25, restartCpuRatio: 1.2 * 2.5 });
    expect(higherIsWorse.regressed).toBe(true);
    expect(higherIsWorse.rows.find((row) => row.figure === 'restartCpuRatio')?.verdict).toBe('REGRESSED');
  });

  it('passes figures 1.5× worse than their baseline: noise within the tolerance is not a regression', () => {
    const result = judge({ throughputRatio: 0.25 / 1.5, restartCpuRatio: 1.2 * 1.5 });
    expect(result.regressed).toBe(false);
    expect(result.rows.map((row) => row.verdict)).toEqual(['ok', 'ok']);
    expect(result.rows.map((row) => row.worseBy)).toEqual([expect.closeTo(1.5, 6), expect.closeTo(1.5, 6)]);
  });

  it('passes figures that got better, by however much', () => {
    const result = judge({ throughputRatio: 0.25 * 10, restartCpuRatio: 1.2 / 10 });
    expect(result.regressed).toBe(false);
    expect(result.rows.every((row) => row.worseBy < 1)).toBe(true);
  });

  it('passes a figure exactly at the tolerance: only more than 2× worse fails', () => {
    expect(judge({ throughputRatio: 0.125, restartCpuRatio: 2.4 }).regressed).toBe(false);
  });

  it('refuses to judge when a gated figure was not measured, rather than passing it', () => {
    expect(() => judge({ throughputRatio: 0.25 })).toThrow(GateError);
    expect(() => judge({ throughputRatio: 0.25 })).toThrow(/restartCpuRatio was not measured/);
    expect(() => judge({ throughputRatio: 0.25, restartCpuRatio: Number.NaN })).toThrow(/restartCpuRatio/);
  });

  it('refuses to judge a figure the baseline does not hold', () => {
    expect(() =>
      compareToBaseline({ throughputRatio: 0.25 }, BASELINE, { figures: FIGURES, tolerance: 2 }),
    ).toThrow(/restartCpuRatio has no usable baseline ratio/);
  });

  it('refuses a tolerance that would fail every figure', () => {
    expect(() => compareToBaseline(BASELINE, BASELINE, { figures: FIGURES, tolerance: 1 })).toThrow(
      GateError,
    );
  });

  it('reads the committed baseline, which holds a ratio for every gated figure', () => {
    const baseline = parseBaseline(
      JSON.parse(readFileSync(new URL('../../bench/baseline.json', import.meta.url), 'utf8')),
    );
    const result = compareToBaseline(baseline.ratios, baseline.ratios, {
      figures: GATED_FIGURES,
      tolerance: 2,
    });
    expect(result.rows.map((row) => row.figure)).toEqual(GATED_FIGURES.map((figure) => figure.name));
    expect(result.regressed).toBe(false);
  });

  it('names the bad field of a malformed baseline', () => {
    expect(() => parseBaseline({ refresh: 'x', measured: {}, ratios: { throughputRatio: -1 } })).toThrow(
      /ratios\.throughputRatio/,
    );
  });
});

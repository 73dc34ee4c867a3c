/**
 * The stop-refresh gate: never refresh a covered position, a refresh in flight or one cooling
 * down; refresh a shortfall at or above min_delta_ratio at once, a smaller one only once it has
 * lasted max_refresh_interval; and more shortfall never turns a refresh into a skip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STOP_REFRESH_CONFIG,
  decideStopRefresh,
  exitSideOf,
  stopShortfall,
  type StopRefreshConfig,
  type StopRefreshInput,
} from '../../src/domain/protection.js';

const config: StopRefreshConfig = DEFAULT_STOP_REFRESH_CONFIG;

const input = fc.record({
  positionQty: fc.double({ min: 0.001, max: 1_000, noNaN: true }),
  // Half the cases near full coverage, where min_delta_ratio decides: a plain double rarely lands there.
  stopFraction: fc.oneof(
    fc.double({ min: 0, max: 1.5, noNaN: true }),
    fc.double({ min: 0.85, max: 1, noNaN: true }),
  ),
  now: fc.integer({ min: 1_000_000, max: 2_000_000 }),
  shortfallAge: fc.option(
    fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 290_000, max: 310_000 })),
    { nil: null },
  ),
  coolingFor: fc.integer({ min: -100_000, max: 100_000 }),
  inFlight: fc.boolean(),
});

function toInput(raw: {
  positionQty: number;
  stopFraction: number;
  now: number;
  shortfallAge: number | null;
  coolingFor: number;
  inFlight: boolean;
}): StopRefreshInput {
  return {
    positionQty: raw.positionQty,
    stopQty: raw.positionQty * raw.stopFraction,
    now: raw.now,
    shortfallSince: raw.shortfallAge === null ? null : raw.now - raw.shortfallAge,
    notBefore: raw.now + raw.coolingFor,
    inFlight: raw.inFlight,
  };
}

describe('the stop-refresh gate', () => {
  it('never refreshes a covered position, a refresh in flight, or one still cooling down', () => {
    fc.assert(
      fc.property(input, (raw) => {
        const decision = decideStopRefresh(toInput(raw), config);
        if (!decision.refresh) return;
        expect(raw.stopFraction).toBeLessThan(1);
        expect(raw.inFlight).toBe(false);
        expect(raw.coolingFor).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('refreshes a free shortfall at or above min_delta_ratio at once, and a smaller one only once it has lasted', () => {
    fc.assert(
      fc.property(input, (raw) => {
        const free = { ...raw, inFlight: false, coolingFor: 0 };
        const decision = decideStopRefresh(toInput(free), config);
        const shortfall = stopShortfall(free.positionQty, free.positionQty * free.stopFraction);
        if (shortfall === 0) expect(decision).toMatchObject({ refresh: false, reason: 'covered' });
        else if (shortfall >= config.minDeltaRatio)
          expect(decision).toMatchObject({ refresh: true, reason: 'shortfall' });
        else
          expect(decision.refresh).toBe(
            free.shortfallAge !== null && free.shortfallAge >= config.maxRefreshIntervalMs,
          );
      }),
    );
  });

  it('never skips a refresh because the stop got smaller', () => {
    fc.assert(
      fc.property(input, fc.double({ min: 0, max: 1, noNaN: true }), (raw, less) => {
        const before = decideStopRefresh(toInput(raw), config);
        const after = decideStopRefresh(toInput({ ...raw, stopFraction: raw.stopFraction * less }), config);
        if (before.refresh) expect(after.refresh).toBe(true);
        expect(after.shortfall).toBeGreaterThanOrEqual(before.shortfall);
      }),
    );
  });

  it('protects a long with a sell stop and a short with a buy stop', () => {
    expect(exitSideOf('long')).toBe('sell');
    expect(exitSideOf('short')).toBe('buy');
    expect(stopShortfall(0, 1)).toBe(0);
    expect(stopShortfall(2, 0)).toBe(1);
  });
});

/**
 * The request budget read from Binance's X-MBX headers: keel holds calls back before the venue
 * would answer 429, and after a 429 or 418 it sends nothing until Retry-After has passed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BINANCE_USDM_LIMITS,
  emptyRateBudget,
  observeRateHeaders,
  pauseForLimit,
  rateGate,
} from '../../src/domain/venues/rate-budget.js';

const MINUTE = 60_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % MINUTE); // the start of a minute

describe('rate budget', () => {
  it('lets calls go while the used weight is below the headroom', () => {
    const state = observeRateHeaders(emptyRateBudget(), { 'X-MBX-USED-WEIGHT-1M': '2000' }, T0 + 1_000);
    expect(rateGate(state, 'read', BINANCE_USDM_LIMITS, T0 + 1_000)).toEqual({ kind: 'go' });
  });

  it('holds reads back until the next minute once the weight reaches 90% of 2400', () => {
    const state = observeRateHeaders(emptyRateBudget(), { 'x-mbx-used-weight-1m': '2160' }, T0 + 15_000);
    expect(rateGate(state, 'read', BINANCE_USDM_LIMITS, T0 + 15_000)).toMatchObject({
      kind: 'wait',
      waitMs: 45_000,
    });
    // The count belongs to its minute: in the next one the budget is fresh.
    expect(rateGate(state, 'read', BINANCE_USDM_LIMITS, T0 + MINUTE)).toEqual({ kind: 'go' });
  });

  it('holds orders back on the 10-second and the 1-minute order counts', () => {
    const tenSec = observeRateHeaders(emptyRateBudget(), { 'x-mbx-order-count-10s': '270' }, T0 + 3_000);
    expect(rateGate(tenSec, 'order', BINANCE_USDM_LIMITS, T0 + 3_000)).toMatchObject({
      kind: 'wait',
      waitMs: 7_000,
    });
    expect(rateGate(tenSec, 'read', BINANCE_USDM_LIMITS, T0 + 3_000)).toEqual({ kind: 'go' });
    const minute = observeRateHeaders(emptyRateBudget(), { 'x-mbx-order-count-1m': '1080' }, T0 + 20_000);
    expect(rateGate(minute, 'order', BINANCE_USDM_LIMITS, T0 + 20_000)).toMatchObject({
      kind: 'wait',
      waitMs: 40_000,
    });
  });

  it('ignores headers that are absent or not numbers', () => {
    const state = observeRateHeaders(emptyRateBudget(), { 'x-mbx-used-weight-1m': 'lots', other: '1' }, T0);
    expect(state).toEqual(emptyRateBudget());
  });

  it('pauses everything after a 429 for Retry-After seconds', () => {
    const state = pauseForLimit(emptyRateBudget(), 429, 7, T0);
    expect(rateGate(state, 'read', BINANCE_USDM_LIMITS, T0 + 6_999)).toMatchObject({
      kind: 'paused',
      retryAfterMs: 1,
      reason: expect.stringContaining('429'),
    });
    expect(rateGate(state, 'order', BINANCE_USDM_LIMITS, T0 + 1)).toMatchObject({ kind: 'paused' });
    expect(rateGate(state, 'read', BINANCE_USDM_LIMITS, T0 + 7_000)).toEqual({ kind: 'go' });
  });

  it('without Retry-After, waits out the minute after a 429 and two minutes after a 418 ban', () => {
    expect(pauseForLimit(emptyRateBudget(), 429, undefined, T0 + 50_000).pausedUntil).toBe(T0 + MINUTE);
    const banned = pauseForLimit(emptyRateBudget(), 418, undefined, T0);
    expect(banned.pausedUntil).toBe(T0 + 120_000);
    expect(banned.pauseReason).toContain('418');
  });

  it('never shortens a pause already in force', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3_600 }),
        fc.integer({ min: 0, max: 3_600 }),
        fc.constantFrom(429, 418),
        (first, second, status) => {
          const once = pauseForLimit(emptyRateBudget(), 418, first, T0);
          const twice = pauseForLimit(once, status, second, T0 + 1_000);
          expect(twice.pausedUntil).toBeGreaterThanOrEqual(once.pausedUntil);
          expect(twice.pausedUntil).toBeGreaterThanOrEqual(T0 + 1_000 + second * 1_000);
        },
      ),
    );
  });
});

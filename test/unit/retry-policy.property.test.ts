import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/domain/errors.js';
import {
  DEFAULT_RETRY_POLICY,
  nextRetryDelay,
  parseRetryPolicy,
  type RetryPolicy,
} from '../../src/domain/retry-policy.js';

const policyArb: fc.Arbitrary<RetryPolicy> = fc.record({
  maxAttempts: fc.integer({ min: 1, max: 12 }),
  maxElapsedMs: fc.integer({ min: 0, max: 600_000 }),
  baseDelayMs: fc.integer({ min: 0, max: 10_000 }),
  maxDelayMs: fc.integer({ min: 0, max: 60_000 }),
  jitter: fc.constantFrom('equal' as const, 'full' as const),
});
const unitArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('nextRetryDelay', () => {
  it('never waits longer than maxDelayMs when the venue asks for no wait', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 1, max: 40 }), fc.nat(600_000), unitArb, (p, n, t, r) => {
        const delay = nextRetryDelay(p, n, t, r);
        expect(delay === null || (delay >= 0 && delay <= p.maxDelayMs)).toBe(true);
      }),
    );
  });

  it('waits at least the Retry-After, and beyond maxDelayMs only up to it', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.integer({ min: 1, max: 40 }),
        fc.nat(600_000),
        unitArb,
        fc.nat(120_000),
        (p, n, t, r, after) => {
          const delay = nextRetryDelay(p, n, t, r, after);
          if (delay === null) return;
          expect(delay).toBeGreaterThanOrEqual(after);
          expect(delay).toBeLessThanOrEqual(Math.max(p.maxDelayMs, after));
        },
      ),
    );
  });

  it('gives up once maxAttempts calls were made', () => {
    fc.assert(
      fc.property(policyArb, fc.nat(20), fc.nat(600_000), unitArb, (p, extra, t, r) => {
        expect(nextRetryDelay(p, p.maxAttempts + extra, t, r)).toBeNull();
      }),
    );
  });

  it('gives up once the elapsed time reaches maxElapsedMs', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 1, max: 40 }), fc.nat(100_000), unitArb, (p, n, over, r) => {
        expect(nextRetryDelay(p, n, p.maxElapsedMs + over, r)).toBeNull();
      }),
    );
  });

  it('never offers a wait that ends past the time budget', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.integer({ min: 1, max: 40 }),
        fc.nat(600_000),
        unitArb,
        fc.nat(120_000),
        (p, n, t, r, after) => {
          const delay = nextRetryDelay(p, n, t, r, after);
          if (delay !== null) expect(t + delay).toBeLessThanOrEqual(p.maxElapsedMs);
        },
      ),
    );
  });

  it('offers a retry while attempts and time remain and the step fits the budget', () => {
    const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 5, maxElapsedMs: 60_000 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), unitArb, (n, r) => {
        expect(nextRetryDelay(policy, n, 0, r)).not.toBeNull();
      }),
    );
  });

  it('is deterministic for a given random value', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.integer({ min: 1, max: 40 }),
        fc.nat(600_000),
        unitArb,
        fc.option(fc.nat(120_000), { nil: undefined }),
        (p, n, t, r, after) => {
          expect(nextRetryDelay(p, n, t, r, after)).toBe(nextRetryDelay(p, n, t, r, after));
        },
      ),
    );
  });

  it('doubles the step with each attempt until maxDelayMs', () => {
    const policy: RetryPolicy = {
      maxAttempts: 10,
      maxElapsedMs: 1_000_000,
      baseDelayMs: 100,
      maxDelayMs: 1_000,
      jitter: 'full',
    };
    // With full jitter and a random value just under 1 the delay sits just under the step.
    const steps = [1, 2, 3, 4, 5, 6].map((n) => nextRetryDelay(policy, n, 0, 0.999_999));
    expect(steps).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('keeps half the step fixed under equal jitter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), unitArb, (n, r) => {
        const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 10, maxElapsedMs: 1_000_000 };
        const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
        const delay = nextRetryDelay(policy, n, 0, r);
        expect(delay).not.toBeNull();
        expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2));
        expect(delay).toBeLessThanOrEqual(step);
      }),
    );
  });
});

describe('parseRetryPolicy', () => {
  it('fills missing fields from the defaults', () => {
    expect(parseRetryPolicy({ maxAttempts: 7 })).toEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 7 });
  });

  it('names the bad field of a malformed policy', () => {
    expect(() => parseRetryPolicy({ maxAttempts: 0 })).toThrow(BadInputError);
    expect(() => parseRetryPolicy({ maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRouter, type RouterEvent } from '../../src/actors/router.js';
import type { SubmitOrder, VenueOrder, VenueResult } from '../../src/ports/venue.port.js';
import { FakeVenue, TIMEOUT, failure, ok, venueOrder } from '../support/fake-venue.js';
import { ManualClock } from '../support/manual-clock.js';

const ORDER: SubmitOrder = {
  clientOrderId: 'keel-1',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'market',
  qty: 1,
  reduceOnly: false,
  closePosition: false,
};

const FATAL = failure({ httpStatus: 400, code: -2019, message: 'Margin is insufficient.' });
const submitAnswers: Record<string, VenueResult<VenueOrder>> = {
  timeout: TIMEOUT,
  unavailable: failure({ httpStatus: 503, message: 'Service Unavailable.' }),
  rateLimited: failure({ httpStatus: 429, code: -1003, message: 'Too many requests.', retryAfter: 1 }),
  duplicate: failure({ httpStatus: 400, code: -4116, message: 'ClientOrderId is duplicated.' }),
  fatal: FATAL,
  accepted: ok(venueOrder()),
};
const lookupAnswers: Record<string, VenueResult<VenueOrder | null>> = {
  missing: ok(null),
  found: ok(venueOrder({ status: 'FILLED', filledQty: 1 })),
  timeout: TIMEOUT,
};

async function settle<T>(clock: ManualClock, promise: Promise<T>): Promise<T> {
  let done = false;
  const result = promise.finally(() => (done = true));
  for (let waited = 0; waited <= 600_000; waited += 50) {
    for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
    if (done) return result;
    clock.advance(50);
  }
  throw new Error('still pending');
}

describe('router submit under any script of venue answers', () => {
  it('stays bounded, numbers its retries, resends only after a lookup, and rejects only on venue evidence', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...Object.keys(submitAnswers)), { minLength: 12, maxLength: 12 }),
        fc.array(fc.constantFrom(...Object.keys(lookupAnswers)), { minLength: 12, maxLength: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        async (submits, lookups, maxAttempts, random01) => {
          const clock = new ManualClock();
          const venue = new FakeVenue(clock);
          venue.script('submit', ...submits.map((name) => submitAnswers[name]!));
          venue.script('queryOrder', ...lookups.map((name) => lookupAnswers[name]!));
          const events: RouterEvent[] = [];
          const policy = { maxAttempts, maxElapsedMs: 20_000, baseDelayMs: 100, maxDelayMs: 1_000 };
          const router = createRouter({
            venue,
            clock,
            policy,
            random: () => random01,
            onEvent: (e) => events.push(e),
          });

          const outcome = await settle(clock, router.submit(ORDER));

          const retries = events.filter((event) => event.type === 'order.retry');
          const gaveUp = events.filter((event) => event.type === 'order.submit.gave_up');
          // Retries are numbered 2, 3, … without gaps and never pass the bound.
          expect(retries.map((event) => event.attempt)).toEqual(retries.map((_, index) => index + 2));
          expect(retries.length).toBeLessThan(maxAttempts);
          expect(gaveUp).toHaveLength(outcome.kind === 'gave_up' ? 1 : 0);
          // Every call fits the time budget.
          const times = venue.calls.map((call) => call.at);
          expect(Math.max(...times) - Math.min(...times)).toBeLessThanOrEqual(policy.maxElapsedMs);
          // Every send uses the same clientOrderId.
          expect(new Set(venue.callsOf('submit').map((call) => call.clientOrderId))).toEqual(
            new Set(['keel-1']),
          );
          // A send that may have landed is never followed by another send without a lookup in between.
          const sequence = venue.calls.map((call, index) =>
            call.method === 'submit'
              ? `submit:${submits[venue.callsOf('submit').indexOf(call)]}`
              : `lookup:${index}`,
          );
          sequence.forEach((entry, index) => {
            const next = sequence[index + 1];
            if ((entry === 'submit:timeout' || entry === 'submit:duplicate') && next !== undefined) {
              expect(next.startsWith('lookup')).toBe(true);
            }
          });
          // Once a lookup found the order nothing is sent again.
          const foundAt = venue.calls.findIndex(
            (call) =>
              call.method === 'queryOrder' && lookups[venue.callsOf('queryOrder').indexOf(call)] === 'found',
          );
          if (foundAt >= 0) expect(venue.calls.slice(foundAt + 1)).toEqual([]);
          // A rejection needs the venue's fatal answer.
          const rejected = events.some((event) => event.type === 'venue.order.rejected');
          expect(rejected).toBe(outcome.kind === 'rejected');
          if (rejected) expect(submits.slice(0, venue.callsOf('submit').length)).toContain('fatal');
        },
      ),
      { numRuns: 300 },
    );
  });
});

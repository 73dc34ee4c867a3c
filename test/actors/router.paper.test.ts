import { describe, expect, it } from 'vitest';
import { clientOrderIdsAcceptedTwice } from '../../src/adapters/venue/paper/paper.venue.js';
import type { PaperFaults } from '../../src/adapters/venue/paper/faults.js';
import { createRouter, type RouterEvent } from '../../src/actors/router.js';
import { market, order } from '../adapters/paper/paper-support.js';
import type { ManualClock } from '../support/manual-clock.js';

/** A resting buy well under the flat price of 100, so it stays open until cancelled. */
const RESTING = order({ clientOrderId: 'EN-1', type: 'limit', price: 90, qty: 1, timeInForce: 'GTC' });

function routed(faults: PaperFaults, seed = 1) {
  const paper = market({ faults, seed });
  const events: RouterEvent[] = [];
  const router = createRouter({
    venue: paper.venue,
    clock: paper.clock,
    random: () => 0.5,
    onEvent: (event) => events.push(event),
  });
  const truth = () => paper.venue.groundTruth();
  return { ...paper, router, events, truth };
}

async function settle<T>(clock: ManualClock, promise: Promise<T>): Promise<T> {
  let done = false;
  const result = promise.finally(() => (done = true));
  for (let waited = 0; waited <= 600_000; waited += 10) {
    for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
    if (done) return result;
    clock.advance(10);
  }
  throw new Error('still pending');
}

describe('router against the paper venue', () => {
  it('places an order whose submit timed out after landing exactly once', async () => {
    const { clock, router, truth } = routed({ submitTimeoutLanded: { next: 1 } });

    const outcome = await settle(clock, router.submit(RESTING));

    expect(outcome.kind).toBe('placed');
    expect(truth().orders.filter((o) => o.clientOrderId === 'EN-1')).toHaveLength(1);
    expect(clientOrderIdsAcceptedTwice(truth().log)).toEqual([]);
  });

  it('resends an order whose submit timed out before landing, and it lands once', async () => {
    const { clock, router, truth, events } = routed({ submitTimeoutLost: { next: 1 } });

    const outcome = await settle(clock, router.submit(RESTING));

    expect(outcome.kind).toBe('placed');
    expect(events.filter((event) => event.type === 'order.retry')).toHaveLength(1);
    expect(truth().orders.filter((o) => o.clientOrderId === 'EN-1')).toHaveLength(1);
  });

  it('never doubles an order whatever submit faults fire', async () => {
    for (let seed = 1; seed <= 25; seed++) {
      // A market order fills at once, so the venue's duplicate-id guard (open orders only) cannot save a resend.
      const submitted = seed % 2 === 0 ? RESTING : order({ clientOrderId: 'EN-1', type: 'market', qty: 1 });
      const { clock, router, truth } = routed(
        {
          submitTimeoutLanded: { probability: 0.3 },
          submitTimeoutLost: { probability: 0.3 },
          executionUnknown: { probability: 0.2 },
          rateLimit: { probability: 0.1, retryAfter: 1 },
        },
        seed,
      );
      await settle(clock, router.submit(submitted));
      expect(clientOrderIdsAcceptedTwice(truth().log), `seed ${seed}`).toEqual([]);
    }
  });

  it('cancels again when the venue answers unknown order for an order still open', async () => {
    const { clock, router, truth } = routed({ cancelUnknownOrder: { next: 1 } });
    await settle(clock, router.submit(RESTING));

    const outcome = await settle(clock, router.cancel('BTCUSDT', 'EN-1'));

    expect(outcome.kind).toBe('canceled');
    expect(truth().orders.find((o) => o.clientOrderId === 'EN-1')?.status).toBe('CANCELED');
  });

  it('cancels an order whose first cancel timed out without landing', async () => {
    const { clock, router, truth } = routed({ cancelTimeoutLost: { next: 1 } });
    await settle(clock, router.submit(RESTING));

    const outcome = await settle(clock, router.cancel('BTCUSDT', 'EN-1'));

    expect(outcome.kind).toBe('canceled');
    expect(truth().orders.find((o) => o.clientOrderId === 'EN-1')?.status).toBe('CANCELED');
  });
});

import { describe, expect, it } from 'vitest';
import { createRouter, type RouterEvent, type RouterOptions } from '../../src/actors/router.js';
import type { RetryPolicy } from '../../src/domain/retry-policy.js';
import type { SubmitOrder, VenueCapabilities } from '../../src/ports/venue.port.js';
import { FakeVenue, TIMEOUT, UNKNOWN_ORDER, failure, ok, venueOrder } from '../support/fake-venue.js';
import { ManualClock } from '../support/manual-clock.js';

const ORDER: SubmitOrder = {
  clientOrderId: 'keel-1',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  qty: 1,
  price: 50_000,
  timeInForce: 'GTC',
  reduceOnly: false,
  closePosition: false,
};

/** Not executed, no lookup needed: a plain retryable refusal. */
const UNAVAILABLE = failure({ httpStatus: 503, message: 'Service Unavailable.' });

function setup(policy: Partial<RetryPolicy> = {}, capabilities: Partial<VenueCapabilities> = {}) {
  const clock = new ManualClock();
  const venue = new FakeVenue(clock, capabilities);
  const events: RouterEvent[] = [];
  const options: RouterOptions = {
    venue,
    clock,
    policy: { maxAttempts: 4, maxElapsedMs: 30_000, baseDelayMs: 200, maxDelayMs: 2_000, ...policy },
    random: () => 0.5,
    onEvent: (event) => events.push(event),
    correlationId: 'corr-1',
  };
  const router = createRouter(options);
  const ofType = (type: RouterEvent['type']) => events.filter((event) => event.type === type);
  return { clock, venue, events, router, ofType };
}

/** Lets promises settle, moving the manual clock in small steps until `promise` resolves. */
async function settle<T>(clock: ManualClock, promise: Promise<T>, limitMs = 600_000): Promise<T> {
  let done = false;
  const result = promise.finally(() => (done = true));
  for (let waited = 0; ; waited += 10) {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    if (done) return result;
    if (waited > limitMs) throw new Error(`still pending after ${limitMs} ms of clock time`);
    clock.advance(10);
  }
}

describe('router submit', () => {
  it('does not resend an order that landed despite a timeout: the lookup finds it', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('submit', TIMEOUT).script('queryOrder', ok(venueOrder({ status: 'NEW' })));

    const outcome = await settle(clock, router.submit(ORDER));

    expect(outcome.kind).toBe('placed');
    expect(venue.callsOf('submit')).toHaveLength(1);
    expect(venue.callsOf('queryOrder')).toHaveLength(1);
    expect(ofType('venue.order.accepted')).toEqual([
      { type: 'venue.order.accepted', clientOrderId: 'keel-1', venueOrderId: 'v-1' },
    ]);
    expect(ofType('order.retry')).toHaveLength(0);
  });

  it('reports the fills of an order found by the lookup instead of resending it', async () => {
    const { clock, venue, router, ofType } = setup();
    venue
      .script('submit', TIMEOUT)
      .script('queryOrder', ok(venueOrder({ status: 'FILLED', filledQty: 1, avgFillPrice: 50_010 })));

    await settle(clock, router.submit(ORDER));

    expect(venue.callsOf('submit')).toHaveLength(1);
    expect(ofType('venue.order.filled')).toEqual([
      { type: 'venue.order.filled', clientOrderId: 'keel-1', qty: 1, price: 50_010 },
    ]);
  });

  it('resends exactly once with the same clientOrderId when the timed-out order did not land', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('submit', TIMEOUT, ok(venueOrder())).script('queryOrder', ok(null));

    const outcome = await settle(clock, router.submit(ORDER));

    expect(outcome.kind).toBe('placed');
    const submits = venue.callsOf('submit');
    expect(submits.map((call) => call.clientOrderId)).toEqual(['keel-1', 'keel-1']);
    // The lookup sits between the two sends.
    expect(venue.calls.map((call) => call.method)).toEqual(['submit', 'queryOrder', 'submit']);
    const retries = ofType('order.retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({
      type: 'order.retry',
      operation: 'submit',
      clientOrderId: 'keel-1',
      correlationId: 'corr-1',
      attempt: 2,
      policy: 'retryable',
    });
    const delayMs = (retries[0] as { delayMs: number }).delayMs;
    expect(submits[1]!.at - submits[0]!.at).toBe(delayMs);
  });

  it('looks up and reports the order on a duplicate clientOrderId instead of resending', async () => {
    const { clock, venue, router, ofType } = setup();
    venue
      .script('submit', failure({ httpStatus: 400, code: -4116, message: 'ClientOrderId is duplicated.' }))
      .script('queryOrder', ok(venueOrder()));

    const outcome = await settle(clock, router.submit(ORDER));

    expect(outcome.kind).toBe('placed');
    expect(venue.callsOf('submit')).toHaveLength(1);
    expect(ofType('venue.order.rejected')).toHaveLength(0);
  });

  it('stops at maxAttempts with one retry event per retry and one give-up, never a rejection', async () => {
    const { clock, venue, router, ofType } = setup({ maxAttempts: 3 });
    venue.script('submit', UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, UNAVAILABLE);

    const outcome = await settle(clock, router.submit(ORDER));

    expect(outcome).toMatchObject({ kind: 'gave_up', attempts: 3 });
    expect(venue.callsOf('submit')).toHaveLength(3);
    expect(ofType('order.retry').map((event) => (event as { attempt: number }).attempt)).toEqual([2, 3]);
    expect(ofType('order.submit.gave_up')).toEqual([
      expect.objectContaining({ clientOrderId: 'keel-1', correlationId: 'corr-1', attempts: 3 }),
    ]);
    expect(ofType('venue.order.rejected')).toHaveLength(0);
  });

  it('stops at maxElapsedMs before maxAttempts is reached', async () => {
    const { clock, venue, router, ofType } = setup({
      maxAttempts: 100,
      maxElapsedMs: 2_000,
      baseDelayMs: 500,
      maxDelayMs: 500,
    });
    venue.script('submit', ...Array.from({ length: 100 }, () => UNAVAILABLE));

    const outcome = await settle(clock, router.submit(ORDER));

    const submits = venue.callsOf('submit');
    // Equal jitter at 0.5 waits 375 ms: sends at 0, 375, … 1875; the next would end past 2 s.
    expect(submits).toHaveLength(6);
    expect(submits.at(-1)!.at - submits[0]!.at).toBeLessThanOrEqual(2_000);
    expect(outcome).toMatchObject({ kind: 'gave_up', attempts: 6 });
    expect(ofType('order.retry')).toHaveLength(5);
    expect(ofType('order.submit.gave_up')).toHaveLength(1);
  });

  it('waits at least the Retry-After of a 429 before the next send', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script(
      'submit',
      failure({ httpStatus: 429, code: -1003, message: 'Too many requests.', retryAfter: 7 }),
      ok(venueOrder()),
    );

    await settle(clock, router.submit(ORDER));

    const submits = venue.callsOf('submit');
    expect(submits).toHaveLength(2);
    expect(submits[1]!.at - submits[0]!.at).toBeGreaterThanOrEqual(7_000);
    expect(ofType('order.retry')[0]).toMatchObject({ delayMs: 7_000, code: -1003 });
    // A rate limit refuses the request unprocessed: no lookup is needed.
    expect(venue.callsOf('queryOrder')).toHaveLength(0);
  });

  it('reports a fatal refusal as rejected with its code and does not retry', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('submit', failure({ httpStatus: 400, code: -2019, message: 'Margin is insufficient.' }));

    const outcome = await settle(clock, router.submit(ORDER));

    expect(outcome).toMatchObject({ kind: 'rejected', code: -2019 });
    expect(venue.callsOf('submit')).toHaveLength(1);
    expect(venue.callsOf('queryOrder')).toHaveLength(0);
    expect(ofType('order.retry')).toHaveLength(0);
    expect(ofType('venue.order.rejected')).toEqual([
      expect.objectContaining({ clientOrderId: 'keel-1', code: -2019 }),
    ]);
  });

  it('answers rejected, not placed, when the order the lookup found was rejected by the venue', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('submit', TIMEOUT).script('queryOrder', ok(venueOrder({ status: 'REJECTED' })));

    const outcome = await settle(clock, router.submit(ORDER));

    expect(outcome.kind).toBe('rejected');
    expect(venue.callsOf('submit')).toHaveLength(1);
    expect(ofType('venue.order.rejected')).toHaveLength(1);
    expect(ofType('venue.order.accepted')).toHaveLength(0);
  });

  it('neither rejects nor resends when the adapter throws and the lookup finds nothing', async () => {
    const { clock, venue, router, ofType } = setup();
    // Nothing scripted for submit: the fake venue throws, as a broken adapter would.
    venue.script('queryOrder', ok(null));

    const outcome = await settle(clock, router.submit(ORDER));

    expect(outcome).toMatchObject({ kind: 'gave_up', attempts: 1 });
    expect(venue.callsOf('submit')).toHaveLength(1);
    expect(ofType('venue.order.rejected')).toHaveLength(0);
    expect(ofType('order.submit.gave_up')).toHaveLength(1);
  });

  it('looks up again instead of resending when the lookup after a timeout fails', async () => {
    const { clock, venue, router, ofType } = setup();
    venue
      .script('submit', TIMEOUT)
      .script('queryOrder', TIMEOUT, ok(venueOrder({ status: 'FILLED', filledQty: 1 })));

    const outcome = await settle(clock, router.submit(ORDER));

    expect(outcome.kind).toBe('placed');
    expect(venue.calls.map((call) => call.method)).toEqual(['submit', 'queryOrder', 'queryOrder']);
    expect(ofType('order.retry')).toHaveLength(1);
    expect(ofType('venue.order.filled')).toHaveLength(1);
  });

  it('gives up without resending while every lookup fails', async () => {
    const { clock, venue, router, ofType } = setup({ maxAttempts: 3 });
    venue.script('submit', TIMEOUT).script('queryOrder', TIMEOUT, TIMEOUT, TIMEOUT);

    const outcome = await settle(clock, router.submit(ORDER));

    expect(outcome).toMatchObject({ kind: 'gave_up', attempts: 3 });
    expect(venue.callsOf('submit')).toHaveLength(1);
    expect(venue.callsOf('queryOrder')).toHaveLength(3);
    expect(ofType('order.submit.gave_up')).toHaveLength(1);
  });
});

describe('router lookup', () => {
  it('reports what the venue holds for the order', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('queryOrder', ok(venueOrder({ status: 'PARTIALLY_FILLED', filledQty: 0.4 })));

    const outcome = await settle(clock, router.lookup('BTCUSDT', 'keel-1'));

    expect(outcome.kind).toBe('found');
    expect(ofType('venue.order.accepted')).toHaveLength(1);
    expect(ofType('venue.order.filled')).toEqual([
      { type: 'venue.order.filled', clientOrderId: 'keel-1', qty: 0.4 },
    ]);
  });

  it('reports only the fills not reported before', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script(
      'queryOrder',
      ok(venueOrder({ status: 'PARTIALLY_FILLED', filledQty: 0.4 })),
      ok(venueOrder({ status: 'FILLED', filledQty: 1 })),
    );

    await settle(clock, router.lookup('BTCUSDT', 'keel-1'));
    await settle(clock, router.lookup('BTCUSDT', 'keel-1'));

    expect(ofType('venue.order.filled').map((event) => (event as { qty: number }).qty)).toEqual([0.4, 0.6]);
    expect(ofType('venue.order.accepted')).toHaveLength(1);
  });

  it('reports an order the venue does not know as unknown, not as gone', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('queryOrder', ok(null));

    const outcome = await settle(clock, router.lookup('BTCUSDT', 'keel-1'));

    expect(outcome.kind).toBe('not_found');
    expect(ofType('venue.order.unknown')).toHaveLength(1);
    expect(ofType('venue.order.canceled')).toHaveLength(0);
    expect(ofType('venue.order.rejected')).toHaveLength(0);
  });

  it('retries a failed lookup within the bound and gives up on a fatal one at once', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script(
      'queryOrder',
      UNAVAILABLE,
      ok(venueOrder()),
      failure({ httpStatus: 401, message: 'Invalid API-key, IP, or permissions for action.' }),
    );

    const first = await settle(clock, router.lookup('BTCUSDT', 'keel-1'));
    const second = await settle(clock, router.lookup('BTCUSDT', 'keel-1'));

    expect(first.kind).toBe('found');
    expect(second).toMatchObject({ kind: 'gave_up', attempts: 1 });
    expect(ofType('order.retry')).toEqual([
      expect.objectContaining({ operation: 'lookup', attempt: 2, maxAttempts: 4 }),
    ]);
    expect(ofType('order.lookup.gave_up')).toHaveLength(1);
  });
});

describe('router close', () => {
  it('ends a waiting retry with one give-up and no further venue call', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('submit', UNAVAILABLE, UNAVAILABLE);

    const pending = router.submit(ORDER);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(ofType('order.retry')).toHaveLength(1);
    router.close();
    const outcome = await pending;
    clock.advance(60_000);

    expect(outcome).toMatchObject({ kind: 'gave_up', attempts: 1 });
    expect(venue.callsOf('submit')).toHaveLength(1);
    expect(ofType('order.submit.gave_up')).toHaveLength(1);
  });
});

describe('router cancel', () => {
  it('reports an unknown-order cancel of a filled order as filled, not canceled', async () => {
    const { clock, venue, router, ofType } = setup();
    venue
      .script('cancel', UNKNOWN_ORDER)
      .script('queryOrder', ok(venueOrder({ status: 'FILLED', filledQty: 1 })));

    const outcome = await settle(clock, router.cancel('BTCUSDT', 'keel-1'));

    expect(outcome.kind).toBe('filled');
    expect(ofType('venue.order.filled')).toHaveLength(1);
    expect(ofType('venue.order.canceled')).toHaveLength(0);
    expect(venue.callsOf('cancel')).toHaveLength(1);
  });

  it('cancels again when the venue says unknown order but still lists it open', async () => {
    const { clock, venue, router, ofType } = setup();
    venue
      .script('cancel', UNKNOWN_ORDER, ok(venueOrder({ status: 'CANCELED' })))
      .script('queryOrder', ok(venueOrder({ status: 'NEW' })));

    const outcome = await settle(clock, router.cancel('BTCUSDT', 'keel-1'));

    expect(outcome.kind).toBe('canceled');
    expect(venue.callsOf('cancel')).toHaveLength(2);
    expect(ofType('order.retry')).toHaveLength(1);
    expect(ofType('venue.order.canceled')).toHaveLength(1);
  });

  it('treats an unknown order the venue no longer knows as canceled', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('cancel', UNKNOWN_ORDER).script('queryOrder', ok(null));

    const outcome = await settle(clock, router.cancel('BTCUSDT', 'keel-1'));

    expect(outcome).toMatchObject({ kind: 'canceled', order: null });
    expect(ofType('venue.order.canceled')).toHaveLength(1);
    expect(ofType('venue.cancel.rejected')).toHaveLength(0);
  });

  it('sends one venue cancel when asked twice, and the second answer is not an error', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('cancel', ok(venueOrder({ status: 'CANCELED' })));

    const [first, concurrent] = await settle(
      clock,
      Promise.all([router.cancel('BTCUSDT', 'keel-1'), router.cancel('BTCUSDT', 'keel-1')]),
    );
    const later = await settle(clock, router.cancel('BTCUSDT', 'keel-1'));

    expect(venue.callsOf('cancel')).toHaveLength(1);
    expect(first).toMatchObject({ kind: 'canceled', repeated: false });
    expect(concurrent).toMatchObject({ kind: 'canceled', repeated: true });
    expect(later).toMatchObject({ kind: 'canceled', repeated: true });
    expect(ofType('venue.order.canceled')).toHaveLength(1);
  });

  it('answers a cancel of an order canceled earlier (unknown to this router) as canceled', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('cancel', UNKNOWN_ORDER).script('queryOrder', ok(venueOrder({ status: 'CANCELED' })));

    const outcome = await settle(clock, router.cancel('BTCUSDT', 'keel-1'));

    expect(outcome.kind).toBe('canceled');
    expect(ofType('venue.cancel.rejected')).toHaveLength(0);
    expect(ofType('order.cancel.gave_up')).toHaveLength(0);
  });

  it('looks the order up after a cancel timeout before cancelling again', async () => {
    const { clock, venue, router } = setup();
    venue
      .script('cancel', TIMEOUT, ok(venueOrder({ status: 'CANCELED' })))
      .script('queryOrder', ok(venueOrder({ status: 'NEW' })));

    const outcome = await settle(clock, router.cancel('BTCUSDT', 'keel-1'));

    expect(outcome.kind).toBe('canceled');
    expect(venue.calls.map((call) => call.method)).toEqual(['cancel', 'queryOrder', 'cancel']);
  });

  it('gives up on a cancel at the bound with one give-up event', async () => {
    const { clock, venue, router, ofType } = setup({ maxAttempts: 3 });
    const open = ok(venueOrder({ status: 'NEW' }));
    venue.script('cancel', TIMEOUT, TIMEOUT, TIMEOUT, TIMEOUT).script('queryOrder', open, open, open, open);

    const outcome = await settle(clock, router.cancel('BTCUSDT', 'keel-1'));

    expect(outcome).toMatchObject({ kind: 'gave_up', attempts: 3 });
    expect(venue.callsOf('cancel')).toHaveLength(3);
    expect(ofType('order.retry')).toHaveLength(2);
    expect(ofType('order.cancel.gave_up')).toEqual([expect.objectContaining({ attempts: 3 })]);
    expect(ofType('venue.order.canceled')).toHaveLength(0);
  });
});

describe('router replace', () => {
  it('amends in place and reports the replacement', async () => {
    const { clock, venue, router, ofType } = setup();
    venue.script('replace', ok(venueOrder({ qty: 2 })));

    const outcome = await settle(
      clock,
      router.replace({ clientOrderId: 'keel-1', symbol: 'BTCUSDT', qty: 2 }),
    );

    expect(outcome.kind).toBe('replaced');
    expect(ofType('venue.order.replaced')).toHaveLength(1);
  });

  it('gives up on an amend at the bound with one give-up event', async () => {
    const { clock, venue, router, ofType } = setup({ maxAttempts: 3 });
    venue.script('replace', UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, UNAVAILABLE);

    const outcome = await settle(
      clock,
      router.replace({ clientOrderId: 'keel-1', symbol: 'BTCUSDT', qty: 2 }),
    );

    expect(outcome).toMatchObject({ kind: 'gave_up', attempts: 3 });
    expect(venue.callsOf('replace')).toHaveLength(3);
    expect(ofType('order.retry')).toHaveLength(2);
    expect(ofType('order.replace.gave_up')).toHaveLength(1);
  });

  it('takes "no need to modify" (-5027) as the amend done, confirmed by a lookup, without resending', async () => {
    const { clock, venue, router, ofType } = setup();
    venue
      .script('replace', failure({ httpStatus: 400, code: -5027, message: 'No need to modify the order.' }))
      .script('queryOrder', ok(venueOrder({ qty: 2 })));

    const outcome = await settle(
      clock,
      router.replace({ clientOrderId: 'keel-1', symbol: 'BTCUSDT', qty: 2 }),
    );

    expect(outcome).toMatchObject({ kind: 'replaced' });
    expect(venue.callsOf('replace')).toHaveLength(1);
    expect(ofType('order.retry')).toHaveLength(0);
    expect(ofType('venue.order.replaced')).toHaveLength(1);
  });

  it('refuses to amend an order that filled meanwhile and reports the fill', async () => {
    const { clock, venue, router, ofType } = setup();
    venue
      .script('replace', failure({ httpStatus: 400, code: -2013, message: 'Order does not exist.' }))
      .script('queryOrder', ok(venueOrder({ status: 'FILLED', filledQty: 1 })));

    const outcome = await settle(
      clock,
      router.replace({ clientOrderId: 'keel-1', symbol: 'BTCUSDT', qty: 2 }),
    );

    expect(outcome.kind).toBe('refused');
    expect(ofType('venue.order.filled')).toHaveLength(1);
    expect(ofType('venue.replace.rejected')).toHaveLength(1);
    expect(venue.callsOf('replace')).toHaveLength(1);
  });

  it('without amend, cancels then submits the replacement for the unfilled rest', async () => {
    const { clock, venue, router } = setup({}, { amend: false });
    venue
      .script('cancel', ok(venueOrder({ status: 'CANCELED', filledQty: 0.25 })))
      .script('submit', ok(venueOrder({ clientOrderId: 'keel-2', qty: 1.75 })));

    const outcome = await settle(
      clock,
      router.replace(
        { clientOrderId: 'keel-1', symbol: 'BTCUSDT', qty: 2 },
        { ...ORDER, clientOrderId: 'keel-2', qty: 2 },
      ),
    );

    expect(outcome.kind).toBe('replaced');
    expect(venue.callsOf('submit')[0]!.args).toMatchObject({ clientOrderId: 'keel-2', qty: 1.75 });
  });

  it('without amend, does not submit the replacement when the old order filled', async () => {
    const { clock, venue, router } = setup({}, { amend: false });
    venue
      .script('cancel', UNKNOWN_ORDER)
      .script('queryOrder', ok(venueOrder({ status: 'FILLED', filledQty: 1 })));

    const outcome = await settle(
      clock,
      router.replace(
        { clientOrderId: 'keel-1', symbol: 'BTCUSDT', qty: 2 },
        { ...ORDER, clientOrderId: 'keel-2' },
      ),
    );

    expect(outcome.kind).toBe('refused');
    expect(venue.callsOf('submit')).toHaveLength(0);
  });

  it('without amend, gives up the replace when the cancel gives up', async () => {
    const { clock, venue, router, ofType } = setup({ maxAttempts: 2 }, { amend: false });
    const open = ok(venueOrder({ status: 'NEW' }));
    venue.script('cancel', TIMEOUT, TIMEOUT).script('queryOrder', open, open);

    const outcome = await settle(
      clock,
      router.replace(
        { clientOrderId: 'keel-1', symbol: 'BTCUSDT', qty: 2 },
        { ...ORDER, clientOrderId: 'keel-2' },
      ),
    );

    expect(outcome.kind).toBe('gave_up');
    expect(ofType('order.cancel.gave_up')).toHaveLength(1);
    expect(ofType('order.replace.gave_up')).toHaveLength(1);
    expect(venue.callsOf('submit')).toHaveLength(0);
  });
});

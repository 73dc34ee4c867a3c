import { describe, expect, it } from 'vitest';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import { createRouter, isRouterReport, toIntentEvent, type RouterEvent } from '../../src/actors/router.js';
import { orderIntentMachine } from '../../src/machines/order-intent.machine.js';
import type { SubmitOrder } from '../../src/ports/venue.port.js';
import { FakeVenue, TIMEOUT, UNKNOWN_ORDER, failure, ok, venueOrder } from '../support/fake-venue.js';
import { ManualClock } from '../support/manual-clock.js';

const ORDER: SubmitOrder = {
  clientOrderId: 'keel-1',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  qty: 1,
  price: 50_000,
  reduceOnly: false,
  closePosition: false,
};

async function settle<T>(clock: ManualClock, promise: Promise<T>): Promise<T> {
  let done = false;
  const result = promise.finally(() => (done = true));
  for (let waited = 0; waited <= 600_000; waited += 10) {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    if (done) return result;
    clock.advance(10);
  }
  throw new Error('still pending');
}

/** A strict order-intent actor fed every router report: a report it cannot accept throws. */
function wire() {
  const clock = new ManualClock();
  const venue = new FakeVenue(clock);
  const actor = createCheckedActor(orderIntentMachine, {
    mode: 'strict',
    input: { clientOrderId: 'keel-1', correlationId: 'corr-1', qty: 1 },
  });
  const telemetry: RouterEvent[] = [];
  const router = createRouter({
    venue,
    clock,
    random: () => 0.5,
    onEvent: (event) => (isRouterReport(event) ? actor.send(toIntentEvent(event)) : telemetry.push(event)),
  });
  return { clock, venue, actor, router, telemetry };
}

describe('router reports driving a strict order-intent actor', () => {
  it('moves the intent to working after a timed-out submit the lookup found', async () => {
    const { clock, venue, actor, router } = wire();
    venue.script('submit', TIMEOUT).script('queryOrder', ok(venueOrder()));

    actor.send({ type: 'intent.submit' });
    await settle(clock, router.submit(ORDER));

    expect(actor.getSnapshot().hasTag('in-flight')).toBe(true);
    expect(actor.getSnapshot().context.venueOrderId).toBe('v-1');
  });

  it('closes the intent as filled when its cancel meets an order that filled', async () => {
    const { clock, venue, actor, router } = wire();
    venue
      .script('submit', ok(venueOrder()))
      .script('cancel', UNKNOWN_ORDER)
      .script('queryOrder', ok(venueOrder({ status: 'FILLED', filledQty: 1 })));

    actor.send({ type: 'intent.submit' });
    await settle(clock, router.submit(ORDER));
    actor.send({ type: 'intent.cancel' });
    await settle(clock, router.cancel('BTCUSDT', 'keel-1'));

    const snapshot = actor.getSnapshot();
    expect(snapshot.hasTag('terminal')).toBe(true);
    expect(snapshot.context.terminalStatus).toBe('FILLED');
    expect(snapshot.context.filledQty).toBe(1);
  });

  it('closes the intent as rejected with the venue code on a fatal refusal', async () => {
    const { clock, venue, actor, router } = wire();
    venue.script('submit', failure({ httpStatus: 400, code: -2019, message: 'Margin is insufficient.' }));

    actor.send({ type: 'intent.submit' });
    await settle(clock, router.submit(ORDER));

    const snapshot = actor.getSnapshot();
    expect(snapshot.context.terminalStatus).toBe('REJECTED');
    expect(snapshot.context.rejectCode).toBe('-2019');
  });

  it('keeps an intent whose ack timed out in needs-reconcile when the lookup finds nothing', async () => {
    const { clock, venue, actor, router } = wire();
    venue.script('queryOrder', ok(null), ok(venueOrder()));

    actor.send({ type: 'intent.submit' });
    actor.send({ type: 'venue.request.timeout' });
    await settle(clock, router.lookup('BTCUSDT', 'keel-1'));
    expect(actor.getSnapshot().hasTag('needs-reconcile')).toBe(true);
    expect(actor.getSnapshot().context.notFoundCount).toBe(1);

    await settle(clock, router.lookup('BTCUSDT', 'keel-1'));
    expect(actor.getSnapshot().hasTag('needs-reconcile')).toBe(false);
    expect(actor.getSnapshot().context.venueOrderId).toBe('v-1');
  });

  it('leaves the intent in flight, not rejected, when the router gives up', async () => {
    const { clock, venue, actor, router, telemetry } = wire();
    const unavailable = failure({ httpStatus: 503, message: 'Service Unavailable.' });
    venue.script('submit', unavailable, unavailable, unavailable, unavailable);

    actor.send({ type: 'intent.submit' });
    await settle(clock, router.submit(ORDER));

    expect(telemetry.filter((event) => event.type === 'order.submit.gave_up')).toHaveLength(1);
    expect(actor.getSnapshot().hasTag('in-flight')).toBe(true);
    expect(actor.getSnapshot().context.terminalStatus).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { runOrderIntent } from '../../src/actors/order-intent.actor.js';
import type { RouterEvent } from '../../src/actors/router.js';
import type { SubmitOrder } from '../../src/ports/venue.port.js';
import { FakeVenue, TIMEOUT, UNKNOWN_ORDER, ok, venueOrder } from '../support/fake-venue.js';
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

function start(amend = true) {
  const clock = new ManualClock();
  const venue = new FakeVenue(clock, { amend });
  const errors: unknown[] = [];
  const telemetry: RouterEvent[] = [];
  const run = runOrderIntent({
    order: ORDER,
    correlationId: 'corr-1',
    venue,
    clock,
    random: () => 0.5,
    mode: 'strict',
    onTelemetry: (event) => telemetry.push(event),
    onError: (error) => errors.push(error),
  });
  /** Lets every venue call finish, moving the clock through the backoff waits. */
  async function drain(): Promise<void> {
    for (let step = 0; step < 10_000; step++) {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      let busy = true;
      void run.idle().then(() => (busy = false));
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      if (!busy) return;
      clock.advance(10);
    }
    throw new Error('venue work never finished');
  }
  return { clock, venue, run, errors, telemetry, drain };
}

describe('an order intent run', () => {
  it('submits on intent.submit and reaches working from a lookup after a timeout, sending once', async () => {
    const { venue, run, errors, drain } = start();
    venue.script('submit', TIMEOUT).script('queryOrder', ok(venueOrder()));

    run.actor.send({ type: 'intent.submit' });
    await drain();

    expect(errors).toEqual([]);
    expect(venue.callsOf('submit')).toHaveLength(1);
    expect(run.actor.getSnapshot().context.venueOrderId).toBe('v-1');
    expect(run.actor.getSnapshot().hasTag('in-flight')).toBe(true);
    run.stop();
  });

  it('cancels through the router and closes the intent as canceled', async () => {
    const { venue, run, errors, drain } = start();
    venue.script('submit', ok(venueOrder())).script('cancel', ok(venueOrder({ status: 'CANCELED' })));

    run.actor.send({ type: 'intent.submit' });
    await drain();
    run.actor.send({ type: 'intent.cancel' });
    await drain();

    expect(errors).toEqual([]);
    expect(venue.callsOf('cancel')).toHaveLength(1);
    expect(run.actor.getSnapshot().context.terminalStatus).toBe('CANCELED');
  });

  it('closes the intent as filled when the cancel meets an order that filled', async () => {
    const { venue, run, errors, drain } = start();
    venue
      .script('submit', ok(venueOrder()))
      .script('cancel', UNKNOWN_ORDER)
      .script('queryOrder', ok(venueOrder({ status: 'FILLED', filledQty: 1 })));

    run.actor.send({ type: 'intent.submit' });
    await drain();
    run.actor.send({ type: 'intent.cancel' });
    await drain();

    expect(errors).toEqual([]);
    expect(run.actor.getSnapshot().context.terminalStatus).toBe('FILLED');
  });

  it('amends through the router on intent.replace', async () => {
    const { venue, run, errors, drain } = start();
    venue.script('submit', ok(venueOrder())).script('replace', ok(venueOrder({ qty: 2 })));

    run.actor.send({ type: 'intent.submit' });
    await drain();
    run.actor.send({ type: 'intent.replace', newQty: 2 });
    await drain();

    expect(errors).toEqual([]);
    expect(venue.callsOf('replace')[0]!.args).toMatchObject({ clientOrderId: 'keel-1', qty: 2 });
    expect(run.actor.getSnapshot().context.qtyInForce).toBe(2);
  });

  it('refuses a replace the venue cannot amend and keeps the order it had', async () => {
    const { venue, run, errors, drain } = start(false);
    venue.script('submit', ok(venueOrder()));

    run.actor.send({ type: 'intent.submit' });
    await drain();
    run.actor.send({ type: 'intent.replace', newQty: 2 });
    await drain();

    expect(errors).toEqual([]);
    expect(venue.callsOf('replace')).toHaveLength(0);
    expect(venue.callsOf('submit')).toHaveLength(1);
    expect(run.actor.getSnapshot().context.qtyInForce).toBe(1);
  });

  it('looks up before a resend the machine asks for, and does not resend a found order', async () => {
    const { venue, run, errors, drain } = start();
    venue.script('submit', ok(venueOrder({ status: 'NEW' }))).script('queryOrder', ok(venueOrder()));

    run.actor.send({ type: 'intent.submit' });
    run.actor.send({ type: 'venue.request.timeout' });
    run.actor.send({ type: 'intent.submit', retry: true });
    await drain();

    expect(errors).toEqual([]);
    expect(venue.calls.map((call) => call.method)).toEqual(['submit', 'queryOrder', 'queryOrder']);
  });
});

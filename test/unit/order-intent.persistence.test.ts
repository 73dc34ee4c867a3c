import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import { orderIntentMachine } from '../../src/machines/order-intent.machine.js';
import { reportedOrderStatus } from '../../src/machines/order-intent.status.js';

describe('order-intent persistence', () => {
  it('survives a JSON round trip mid-lifecycle and carries on where it stopped', () => {
    const original = createCheckedActor(orderIntentMachine, {
      mode: 'strict',
      input: { clientOrderId: 'EN-persist-1', correlationId: 'c-1', qty: 10 },
    });
    original.send({ type: 'intent.submit', now: 1_000 });
    original.send({ type: 'venue.order.accepted', venueOrderId: '42' });
    original.send({ type: 'venue.order.filled', qty: 4, tradeId: 't1' });
    original.send({ type: 'intent.cancel', now: 2_000 });
    const stored = JSON.stringify(original.actor.getPersistedSnapshot());
    original.stop();

    const restored = createCheckedActor(orderIntentMachine, {
      mode: 'strict',
      input: { clientOrderId: 'ignored-on-restore', correlationId: 'ignored', qty: 1 },
      snapshot: JSON.parse(stored) as never,
    });
    const before = restored.getSnapshot();
    expect(before.context).toMatchObject({
      clientOrderId: 'EN-persist-1',
      filledQty: 4,
      venueOrderId: '42',
      pendingRequest: 'cancel',
    });
    expect(before.hasTag('in-flight')).toBe(true);

    // The duplicate execution is still recognised after the restore; the new one completes the order.
    restored.send({ type: 'venue.order.filled', qty: 4, tradeId: 't1' });
    restored.send({ type: 'venue.order.filled', qty: 6, tradeId: 't2' });
    const after = restored.getSnapshot();
    expect(after.matches({ closed: 'filled-after-cancel' })).toBe(true);
    expect(after.context.filledQty).toBe(10);
    expect(reportedOrderStatus(after)).toBe('FILLED');
  });

  it('re-arms deadlines from context after a restore: a tick past the ack deadline asks for a lookup', () => {
    const original = createActor(orderIntentMachine, {
      input: { clientOrderId: 'EN-persist-2', correlationId: 'c-2', qty: 1 },
    }).start();
    original.send({ type: 'intent.submit', now: 0 });
    const stored = JSON.parse(JSON.stringify(original.getPersistedSnapshot()));
    original.stop();

    // Input is required by the type but unused when a snapshot is given.
    const restored = createActor(orderIntentMachine, {
      input: { clientOrderId: 'ignored', correlationId: 'ignored', qty: 1 },
      snapshot: stored,
    }).start();
    const lookups: string[] = [];
    restored.on('order.lookup.requested', (event) => lookups.push(event.reason));
    restored.send({ type: 'clock.tick', now: 4_999 });
    expect(lookups).toEqual([]);
    restored.send({ type: 'clock.tick', now: 5_000 });
    expect(lookups).toEqual(['clock.tick']);
    expect(restored.getSnapshot().hasTag('needs-reconcile')).toBe(true);
  });
});

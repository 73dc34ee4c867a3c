/**
 * Venue ports for the benchmarks: a wrapper that notes when keel calls `submit`, and a venue that
 * acknowledges every order and never fills one (for intents that must stay live).
 * Invariants: the wrapper changes no answer; the ack-only venue keeps nothing per order, so the
 * heap it adds is not charged to keel.
 */
import type { ClockPort } from '../src/ports/clock.port.js';
import type {
  ReplaceOrder,
  SubmitOrder,
  VenueOrder,
  VenuePort,
  VenueResult,
  VenueStreamMessage,
  VenueSubscription,
} from '../src/ports/venue.port.js';

/** `inner`, with `onSubmit(clientOrderId)` called as each submit call arrives, before the venue answers. */
export function observedVenue(inner: VenuePort, onSubmit: (clientOrderId: string) => void): VenuePort {
  return {
    capabilities: inner.capabilities,
    submit(order: SubmitOrder) {
      onSubmit(order.clientOrderId);
      return inner.submit(order);
    },
    cancel: (symbol, clientOrderId) => inner.cancel(symbol, clientOrderId),
    replace: (order) => inner.replace(order),
    queryOrder: (symbol, clientOrderId) => inner.queryOrder(symbol, clientOrderId),
    openOrders: (symbol) => inner.openOrders(symbol),
    positions: () => inner.positions(),
    fillsSince: (sinceTs, symbol) => inner.fillsSince(sinceTs, symbol),
    subscribe: (onMessage) => inner.subscribe(onMessage),
  };
}

/**
 * Accepts every order as NEW and never fills, cancels or streams anything. It remembers no order:
 * a lookup answers "unknown", which keel only asks after an ambiguous answer (this venue gives none).
 */
export function ackOnlyVenue(clock: ClockPort): VenuePort & { submits: number } {
  let submits = 0;
  const asOrder = (order: SubmitOrder, status: VenueOrder['status']): VenueOrder => ({
    clientOrderId: order.clientOrderId,
    venueOrderId: `ack-${submits}`,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    status,
    qty: order.qty ?? 0,
    filledQty: 0,
    ...(order.price === undefined ? {} : { price: order.price }),
    reduceOnly: order.reduceOnly,
    closePosition: order.closePosition,
    conditional: false,
    updatedAt: clock.now(),
  });
  return {
    get submits() {
      return submits;
    },
    capabilities: {
      venue: 'paper',
      amend: false,
      conditionalOrders: false,
      closePosition: false,
      reduceOnly: true,
      timeInForce: ['GTC'],
      maxClientOrderIdLength: 36,
      stream: true,
    },
    submit(order: SubmitOrder): Promise<VenueResult<VenueOrder>> {
      submits += 1;
      return Promise.resolve({ ok: true, value: asOrder(order, 'NEW') });
    },
    cancel(): Promise<VenueResult<VenueOrder>> {
      return Promise.resolve({ ok: false, code: -2011, message: 'Unknown order sent.' });
    },
    replace(_order: ReplaceOrder): Promise<VenueResult<VenueOrder>> {
      return Promise.resolve({ ok: false, code: -5025, message: 'amend is not supported' });
    },
    queryOrder: () => Promise.resolve({ ok: true, value: null }),
    openOrders: () => Promise.resolve({ ok: true, value: [] }),
    positions: () => Promise.resolve({ ok: true, value: [] }),
    fillsSince: () => Promise.resolve({ ok: true, value: [] }),
    subscribe(_onMessage: (message: VenueStreamMessage) => void): VenueSubscription {
      return { close: () => undefined };
    },
  };
}

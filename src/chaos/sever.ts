/**
 * How a chaos run kills a keel instance without killing the process it shares: the instance's
 * clock, venue and store are views that can be severed at once. After `sever()` its timers never
 * fire, its venue calls never answer (though a request already sent still lands at the venue, as
 * with a real kill), its stream goes quiet, and its store drops every uncommitted write — what is
 * left on disk and at the venue is what a SIGKILL at that moment would have left.
 */
import type { ClockPort } from '../ports/clock.port.js';
import type { VenuePort, VenueResult, VenueStreamMessage } from '../ports/venue.port.js';

export interface Lifeline {
  readonly alive: boolean;
  sever(): void;
}

export function lifeline(): Lifeline {
  let alive = true;
  return {
    get alive() {
      return alive;
    },
    sever: () => {
      alive = false;
    },
  };
}

/** The master clock as one instance sees it: its callbacks stop when the line is cut. */
export function severableClock(master: ClockPort, line: Lifeline): ClockPort {
  return {
    now: () => master.now(),
    setTimeout: (callback, ms) => master.setTimeout(() => line.alive && callback(), ms),
    setInterval: (callback, ms) => master.setInterval(() => line.alive && callback(), ms),
  };
}

/** A promise that follows `work` while the line holds, and never settles once it is cut. */
function whileAlive<T>(line: Lifeline, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    work.then(
      (value) => line.alive && resolve(value),
      (error: unknown) => line.alive && reject(error instanceof Error ? error : new Error(String(error))),
    );
  });
}

/** The shared venue as one instance sees it. */
export function severableVenue(venue: VenuePort, line: Lifeline): VenuePort {
  const guard = <T>(call: () => Promise<VenueResult<T>>): Promise<VenueResult<T>> =>
    line.alive ? whileAlive(line, call()) : new Promise(() => undefined);
  return {
    capabilities: venue.capabilities,
    submit: (order) => guard(() => venue.submit(order)),
    cancel: (symbol, clientOrderId) => guard(() => venue.cancel(symbol, clientOrderId)),
    replace: (order) => guard(() => venue.replace(order)),
    queryOrder: (symbol, clientOrderId) => guard(() => venue.queryOrder(symbol, clientOrderId)),
    openOrders: (symbol) => guard(() => venue.openOrders(symbol)),
    positions: () => guard(() => venue.positions()),
    fillsSince: (sinceTs, symbol) => guard(() => venue.fillsSince(sinceTs, symbol)),
    subscribe: (onMessage: (message: VenueStreamMessage) => void) =>
      venue.subscribe((message) => {
        if (line.alive) onMessage(message);
      }),
  };
}

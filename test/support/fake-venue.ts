/**
 * A scripted VenuePort for router tests: each call takes the next answer queued for its method
 * and is recorded with the clock time it was made. Invariant: an unscripted call fails the test
 * loudly instead of inventing an answer.
 */
import type { ClockPort } from '../../src/ports/clock.port.js';
import type {
  ReplaceOrder,
  SubmitOrder,
  VenueCapabilities,
  VenueFailure,
  VenueOrder,
  VenuePort,
  VenueResult,
  VenueSubscription,
} from '../../src/ports/venue.port.js';

export type ScriptedMethod = 'submit' | 'cancel' | 'replace' | 'queryOrder';

export interface VenueCall {
  method: ScriptedMethod;
  at: number;
  clientOrderId: string;
  args: unknown;
}

type Answer = VenueResult<VenueOrder> | VenueResult<VenueOrder | null>;

export const PAPER_CAPABILITIES: VenueCapabilities = {
  venue: 'paper',
  amend: true,
  conditionalOrders: true,
  closePosition: true,
  reduceOnly: true,
  timeInForce: ['GTC', 'IOC', 'FOK'],
  maxClientOrderIdLength: 36,
  stream: false,
};

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function failure(fields: Omit<VenueFailure, 'ok'>): VenueFailure {
  return { ok: false, ...fields };
}

/** A socket timeout: no HTTP answer, so a write may or may not have landed. */
export const TIMEOUT = failure({ errno: 'ETIMEDOUT', message: 'connect ETIMEDOUT' });
/** Binance -2011 to a cancel: the venue does not see an open order by that id. */
export const UNKNOWN_ORDER = failure({ httpStatus: 400, code: -2011, message: 'Unknown order sent.' });

export function venueOrder(overrides: Partial<VenueOrder> = {}): VenueOrder {
  return {
    clientOrderId: 'keel-1',
    venueOrderId: 'v-1',
    symbol: 'BTCUSDT',
    side: 'buy',
    type: 'limit',
    status: 'NEW',
    qty: 1,
    filledQty: 0,
    price: 50_000,
    reduceOnly: false,
    closePosition: false,
    conditional: false,
    updatedAt: 0,
    ...overrides,
  };
}

export class FakeVenue implements VenuePort {
  readonly calls: VenueCall[] = [];
  readonly capabilities: VenueCapabilities;
  private readonly queues = new Map<ScriptedMethod, Answer[]>();

  constructor(
    private readonly clock: ClockPort,
    capabilities: Partial<VenueCapabilities> = {},
  ) {
    this.capabilities = { ...PAPER_CAPABILITIES, ...capabilities };
  }

  /** Queues answers for the next calls of `method`, in order. */
  script(method: ScriptedMethod, ...answers: Answer[]): this {
    this.queues.set(method, [...(this.queues.get(method) ?? []), ...answers]);
    return this;
  }

  callsOf(method: ScriptedMethod): VenueCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  submit(order: SubmitOrder): Promise<VenueResult<VenueOrder>> {
    return this.answer('submit', order.clientOrderId, order) as Promise<VenueResult<VenueOrder>>;
  }

  cancel(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder>> {
    return this.answer('cancel', clientOrderId, { symbol }) as Promise<VenueResult<VenueOrder>>;
  }

  replace(order: ReplaceOrder): Promise<VenueResult<VenueOrder>> {
    return this.answer('replace', order.clientOrderId, order) as Promise<VenueResult<VenueOrder>>;
  }

  queryOrder(symbol: string, clientOrderId: string): Promise<VenueResult<VenueOrder | null>> {
    return this.answer('queryOrder', clientOrderId, { symbol });
  }

  openOrders(): Promise<VenueResult<VenueOrder[]>> {
    return Promise.reject(new Error('fake venue: openOrders is not scripted'));
  }

  positions(): Promise<never> {
    return Promise.reject(new Error('fake venue: positions is not scripted'));
  }

  fillsSince(): Promise<never> {
    return Promise.reject(new Error('fake venue: fillsSince is not scripted'));
  }

  subscribe(): VenueSubscription {
    return { close: () => undefined };
  }

  private answer(method: ScriptedMethod, clientOrderId: string, args: unknown): Promise<Answer> {
    this.calls.push({ method, at: this.clock.now(), clientOrderId, args });
    const next = this.queues.get(method)?.shift();
    if (next === undefined) {
      return Promise.reject(
        new Error(`fake venue: no answer scripted for ${method} call ${this.callsOf(method).length}`),
      );
    }
    return Promise.resolve(next);
  }
}

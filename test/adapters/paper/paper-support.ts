/**
 * Shared set-up for the paper venue tests: a flat or scripted BTCUSDT market on a manual clock,
 * an order builder with valid defaults, and a recorder for stream messages.
 */
import type { PaperVenue, PaperVenueOptions } from '../../../src/adapters/venue/paper/paper.venue.js';
import { openPaperVenue } from '../../../src/adapters/venue/paper/paper.venue.js';
import type { PriceTick } from '../../../src/adapters/venue/paper/price-feed.js';
import type { SubmitOrder, VenueResult, VenueStreamMessage } from '../../../src/ports/venue.port.js';
import { ManualClock } from '../../support/manual-clock.js';

export const SYMBOL = 'BTCUSDT';

export function order(overrides: Partial<SubmitOrder> = {}): SubmitOrder {
  return {
    clientOrderId: 'EN-1',
    symbol: SYMBOL,
    side: 'buy',
    type: 'market',
    qty: 1,
    reduceOnly: false,
    closePosition: false,
    ...overrides,
  };
}

/** Prices at whole seconds after the clock's start (t=0), as a recorded feed. */
export function script(prices: Record<number, number>): PriceTick[] {
  return Object.entries(prices).map(([second, price]) => ({
    ts: Number(second) * 1000,
    symbol: SYMBOL,
    price,
  }));
}

export interface Market {
  venue: PaperVenue;
  clock: ManualClock;
  messages: VenueStreamMessage[];
  /** Moves the clock and lets the venue match on every step it passed. */
  advance: (ms: number) => void;
}

export function market(options: Partial<Omit<PaperVenueOptions, 'clock'>> = {}): Market {
  const clock = new ManualClock(0);
  const venue = openPaperVenue({
    seed: 1,
    symbols: {
      [SYMBOL]: { start: 100, volatility: 0, tickSize: 0.1, stepSize: 0.001, minQty: 0.001, minNotional: 5 },
    },
    ...options,
    clock,
  });
  const messages: VenueStreamMessage[] = [];
  venue.subscribe((message) => messages.push(message));
  return {
    venue,
    clock,
    messages,
    advance: (ms: number) => {
      clock.advance(ms);
      venue.sync();
    },
  };
}

/** The value of an ok result; fails the test with the venue's answer otherwise. */
export function valueOf<T>(result: VenueResult<T>): T {
  if (!result.ok) throw new Error(`venue refused: ${JSON.stringify(result)}`);
  return result.value;
}

/** The event types the stream delivered, in order (gaps as 'gap'). */
export function streamTypes(messages: readonly VenueStreamMessage[]): string[] {
  return messages.map((message) => (message.kind === 'gap' ? 'gap' : message.event.type));
}

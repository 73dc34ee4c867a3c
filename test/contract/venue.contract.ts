/**
 * The venue contract: one suite every venue adapter runs (paper first, live adapters later),
 * so "faithful to the venue port" means the same thing everywhere. Invariants it checks:
 * answers are values (never thrown), orders are found by clientOrderId, a live id is never
 * accepted twice, cancel of an unknown order is a refusal, and fills show up in fillsSince and
 * on the stream. Tests a venue cannot run are skipped by id with a reason, never silently.
 */
import { describe, expect, it } from 'vitest';
import type { PaperFaults } from '../../src/adapters/venue/paper/faults.js';
import type {
  SubmitOrder,
  VenueCapabilities,
  VenuePort,
  VenueResult,
  VenueStreamMessage,
} from '../../src/ports/venue.port.js';

/** One venue under test, fresh per test. */
export interface VenueContractHarness {
  venue: VenuePort;
  symbol: string;
  /** A quantity that passes the symbol's filters (step, minimum quantity and notional). */
  qty: number;
  /** A buy limit price on the tick grid far enough below the market that it rests. */
  restingBuyPrice(): number;
  /** Lets the venue make progress for `ms` (paper: move the clock; live: wait). */
  settle(ms: number): Promise<void>;
  /** The symbol's last price. */
  price(): number;
  /**
   * Moves the symbol's last price, matching what it crosses (resting limits fill, conditional
   * orders trigger). Absent on a real venue, whose market nobody moves: those tests are skipped.
   */
  setPrice?(price: number): Promise<void>;
  /** Cuts the stream connection as a network failure would. Absent where that cannot be done. */
  cutStream?(): Promise<void>;
  close?(): Promise<void>;
}

/** What a test asks of a fresh venue: injected faults and thin liquidity, where the venue can. */
export interface VenueContractSetup {
  faults?: PaperFaults;
  /** Base quantity that can trade per price step, so an order fills in parts. */
  liquidityPerStep?: number;
}

export interface VenueContractOptions {
  /** Shown in the suite's title. */
  name: string;
  create(setup: VenueContractSetup): VenueContractHarness | Promise<VenueContractHarness>;
  /** What the adapter claims; the suite checks the claim against the adapter's own. */
  capabilities: VenueCapabilities;
  skip?: { reason: string; tests: VenueContractTest[] }[];
}

export const VENUE_CONTRACT_TESTS = [
  'declares its capabilities',
  'fills a market order and reports it by clientOrderId',
  'answers a query for an unknown order with null',
  'refuses a cancel of an unknown order without throwing',
  'rests a limit order, lists it as open and cancels it once',
  'refuses a second live order with the same clientOrderId',
  'refuses a reduce-only order when flat',
  'shows a signed position after a fill and closes it reduce-only',
  'reports fills on the stream',
  'answers an unlisted symbol with a failure value, not a throw',
] as const;

export type VenueContractTest = (typeof VENUE_CONTRACT_TESTS)[number];

let sequence = 0;
/** A fresh clientOrderId inside Binance's charset and length rule. */
function clientOrderId(prefix: string): string {
  sequence += 1;
  return `${prefix}-contract-${sequence}`;
}

function valueOf<T>(result: VenueResult<T>): T {
  if (!result.ok) throw new Error(`venue refused: ${JSON.stringify(result)}`);
  return result.value;
}

/**
 * Registers the venue contract suite for one adapter.
 *
 * @example
 * runVenueContract({ name: 'paper', create: () => paperHarness(), capabilities: PAPER_CAPABILITIES });
 */
export function runVenueContract(options: VenueContractOptions): void {
  const skipped = new Map<VenueContractTest, string>();
  for (const entry of options.skip ?? []) for (const test of entry.tests) skipped.set(test, entry.reason);

  const contract = (
    name: VenueContractTest,
    body: (harness: VenueContractHarness) => Promise<void>,
  ): void => {
    if (skipped.has(name)) return;
    it(name, async () => {
      const harness = await options.create({});
      try {
        await body(harness);
      } finally {
        await harness.close?.();
      }
    });
  };

  const market = (harness: VenueContractHarness, overrides: Partial<SubmitOrder>): SubmitOrder => ({
    clientOrderId: clientOrderId('EN'),
    symbol: harness.symbol,
    side: 'buy',
    type: 'market',
    qty: harness.qty,
    reduceOnly: false,
    closePosition: false,
    ...overrides,
  });

  describe(`venue contract: ${options.name}`, () => {
    if (skipped.size > 0) {
      it(`skips only tests the contract has (${[...new Set(skipped.values())].join('; ')})`, () => {
        for (const name of skipped.keys()) expect(VENUE_CONTRACT_TESTS).toContain(name);
      });
    }

    contract('declares its capabilities', async ({ venue }) => {
      expect(venue.capabilities).toEqual(options.capabilities);
      expect(venue.capabilities.maxClientOrderIdLength).toBeGreaterThan(0);
      await Promise.resolve();
    });

    contract('fills a market order and reports it by clientOrderId', async (harness) => {
      const order = market(harness, {});
      valueOf(await harness.venue.submit(order));
      await harness.settle(1000);
      const found = valueOf(await harness.venue.queryOrder(harness.symbol, order.clientOrderId));
      expect(found).toMatchObject({
        clientOrderId: order.clientOrderId,
        status: 'FILLED',
        filledQty: harness.qty,
      });
      const fills = valueOf(await harness.venue.fillsSince(0, harness.symbol));
      const filledQty = fills
        .filter((fill) => fill.clientOrderId === order.clientOrderId)
        .reduce((sum, fill) => sum + fill.qty, 0);
      expect(filledQty).toBeCloseTo(harness.qty, 10);
    });

    contract('answers a query for an unknown order with null', async ({ venue, symbol }) => {
      expect(await venue.queryOrder(symbol, clientOrderId('NONE'))).toEqual({ ok: true, value: null });
    });

    contract('refuses a cancel of an unknown order without throwing', async ({ venue, symbol }) => {
      const answer = await venue.cancel(symbol, clientOrderId('NONE'));
      expect(answer.ok).toBe(false);
    });

    contract('rests a limit order, lists it as open and cancels it once', async (harness) => {
      const order = market(harness, { type: 'limit', price: harness.restingBuyPrice(), timeInForce: 'GTC' });
      expect(valueOf(await harness.venue.submit(order)).status).toBe('NEW');
      const open = valueOf(await harness.venue.openOrders(harness.symbol));
      expect(open.map((each) => each.clientOrderId)).toContain(order.clientOrderId);
      expect(valueOf(await harness.venue.cancel(harness.symbol, order.clientOrderId)).status).toBe(
        'CANCELED',
      );
      const after = valueOf(await harness.venue.openOrders(harness.symbol));
      expect(after.map((each) => each.clientOrderId)).not.toContain(order.clientOrderId);
      expect((await harness.venue.cancel(harness.symbol, order.clientOrderId)).ok).toBe(false);
    });

    contract('refuses a second live order with the same clientOrderId', async (harness) => {
      const order = market(harness, { type: 'limit', price: harness.restingBuyPrice(), timeInForce: 'GTC' });
      valueOf(await harness.venue.submit(order));
      expect((await harness.venue.submit(order)).ok).toBe(false);
      const open = valueOf(await harness.venue.openOrders(harness.symbol));
      expect(open.filter((each) => each.clientOrderId === order.clientOrderId)).toHaveLength(1);
    });

    contract('refuses a reduce-only order when flat', async (harness) => {
      const answer = await harness.venue.submit(market(harness, { side: 'sell', reduceOnly: true }));
      expect(answer.ok).toBe(false);
    });

    contract('shows a signed position after a fill and closes it reduce-only', async (harness) => {
      valueOf(await harness.venue.submit(market(harness, { side: 'sell' })));
      await harness.settle(1000);
      const [short] = valueOf(await harness.venue.positions()).filter(
        (each) => each.symbol === harness.symbol,
      );
      expect(short?.qty).toBeCloseTo(-harness.qty, 10);
      valueOf(await harness.venue.submit(market(harness, { side: 'buy', reduceOnly: true })));
      await harness.settle(1000);
      const after = valueOf(await harness.venue.positions()).filter((each) => each.symbol === harness.symbol);
      expect(after.every((each) => each.qty === 0)).toBe(true);
    });

    contract('reports fills on the stream', async (harness) => {
      const messages: VenueStreamMessage[] = [];
      const subscription = harness.venue.subscribe((message) => messages.push(message));
      const order = market(harness, {});
      valueOf(await harness.venue.submit(order));
      await harness.settle(1000);
      subscription.close();
      const fills = messages.filter(
        (message) =>
          message.kind === 'event' &&
          message.event.type === 'venue.order.filled' &&
          message.event.clientOrderId === order.clientOrderId,
      );
      expect(fills.length).toBeGreaterThan(0);
    });

    contract('answers an unlisted symbol with a failure value, not a throw', async (harness) => {
      const answer = await harness.venue.submit(market(harness, { symbol: 'NOTLISTED999' }));
      expect(answer.ok).toBe(false);
    });
  });
}

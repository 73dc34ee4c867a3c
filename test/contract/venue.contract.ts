/**
 * The venue contract: one suite every venue adapter runs (paper first, live adapters later),
 * so "faithful to the venue port" means the same thing everywhere. Invariants it checks:
 * answers are values (never thrown) carrying Binance's HTTP status and code, orders are found by
 * clientOrderId, a live id is never accepted twice, fills show up once per trade id in fillsSince
 * and on the stream, conditional orders fill under their own clientOrderId, and a cut stream says
 * so. Stream messages are awaited, never assumed synchronous, so the suite also holds over a
 * network. Tests a venue cannot run are skipped by id with a reason, never silently.
 */
import { describe, expect, it } from 'vitest';
import type { PaperFaults } from '../../src/adapters/venue/paper/faults.js';
import type { VenueEventOf, VenueEventType } from '../../src/domain/venue-event.schema.js';
import type {
  SubmitOrder,
  VenueCapabilities,
  VenueFailure,
  VenueOrder,
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
  /** Resolves once a subscription's stream is connected (a network stream connects after subscribe). */
  streamReady?(): Promise<void>;
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
  'fills a market order in parts when liquidity is thin, one trade id per part',
  'amends a resting limit order in place and reports the new price and quantity',
  'refuses an amend that changes nothing and leaves the order as it was',
  'finds a cancelled order by clientOrderId with status CANCELED',
  'triggers a reduce-only stop when the price falls through it and fills it under the same clientOrderId',
  'closes the whole position with a close-position stop when the price falls through it',
  'refuses a conditional order that would trigger immediately',
  'reports a gap when the stream is cut',
  'keeps delivering events after the stream is cut',
  'answers an injected rejection with HTTP 400 and its code, and registers nothing',
  'answers an execution-unknown submit with HTTP 503, and the order is found afterwards',
  'answers a lost submit timeout with an errno, and the order is not found',
  'answers a rate-limited call with HTTP 429, code -1003 and Retry-After, then takes the retry',
  'lists each fill once in fillsSince although the stream repeats it',
] as const;

export type VenueContractTest = (typeof VENUE_CONTRACT_TESTS)[number];

/** Binance's 503 text for "sent, but no answer in time": the order may have landed (exchange.md a.10). */
const EXECUTION_UNKNOWN_MESSAGE = 'Unknown error, please check your request or try again later.';

/** How long a stream message or a venue change may take to show, and how often to look. */
const EVENTUALLY_MS = 5_000;
const POLL_MS = 10;

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

/** The refusal itself; an acceptance fails the test, with what the venue accepted. */
function failureOf<T>(result: VenueResult<T>): VenueFailure {
  if (result.ok) throw new Error(`venue accepted what it should refuse: ${JSON.stringify(result.value)}`);
  return result;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Retries `check` until it stops throwing or EVENTUALLY_MS pass, letting the venue make progress
 * between tries without moving its market (settle(0)), then rethrows the last failure.
 */
async function eventually<T>(harness: VenueContractHarness, check: () => T | Promise<T>): Promise<T> {
  const deadline = Date.now() + EVENTUALLY_MS;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await harness.settle(0);
    await sleep(POLL_MS);
  }
}

/** Everything one subscription heard, in arrival order. */
interface StreamRecorder {
  messages: VenueStreamMessage[];
  /** The events of `type`, for one order when `clientOrderId` is given. */
  events<T extends VenueEventType>(type: T, clientOrderId?: string): VenueEventOf<T>[];
  /** Arrival index of the first event of `type` for the order, -1 when none arrived. */
  indexOf(type: VenueEventType, clientOrderId: string): number;
}

function record(venue: VenuePort, closers: (() => void)[]): StreamRecorder {
  const messages: VenueStreamMessage[] = [];
  const subscription = venue.subscribe((message) => messages.push(message));
  closers.push(() => subscription.close());
  const matches = (message: VenueStreamMessage, type: VenueEventType, id?: string): boolean =>
    message.kind === 'event' &&
    message.event.type === type &&
    (id === undefined || message.event.clientOrderId === id);
  return {
    messages,
    events: <T extends VenueEventType>(type: T, id?: string) =>
      messages.flatMap((message) =>
        message.kind === 'event' && matches(message, type, id) ? [message.event as VenueEventOf<T>] : [],
      ),
    indexOf: (type, id) => messages.findIndex((message) => matches(message, type, id)),
  };
}

type Hook = 'setPrice' | 'cutStream';

/**
 * Fails with a clear message when the harness lacks a hook the test needs: such a test must be
 * listed in `skip` with a reason, so a venue that cannot run it never passes it silently.
 */
function requireHook<K extends Hook>(
  harness: VenueContractHarness,
  hook: K,
  test: VenueContractTest,
): asserts harness is VenueContractHarness & Required<Pick<VenueContractHarness, K>> {
  if (harness[hook] === undefined) {
    throw new Error(
      `the harness has no ${hook}(), which '${test}' needs: give the harness ${hook}() or list the test in skip with a reason`,
    );
  }
}

/** A price on any tick grid up to 1: the market price scaled by `factor`, rounded to a whole number. */
function scaled(price: number, factor: number): number {
  return Math.round(price * factor);
}

/** The signed position in the harness's symbol, 0 when flat. */
async function positionQty(harness: VenueContractHarness): Promise<number> {
  const positions = valueOf(await harness.venue.positions());
  return positions.filter((each) => each.symbol === harness.symbol).reduce((sum, each) => sum + each.qty, 0);
}

async function query(harness: VenueContractHarness, id: string): Promise<VenueOrder | null> {
  return valueOf(await harness.venue.queryOrder(harness.symbol, id));
}

/** Per-test context: stream recording that the suite closes after the test. */
interface ContractScope {
  listen: () => StreamRecorder;
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

  /**
   * One contract test on a fresh venue. A setup given as a function of the harness quantity is
   * fed from a probe venue first, because thin liquidity must be sized to the quantity traded.
   */
  const contract = (
    name: VenueContractTest,
    body: (harness: VenueContractHarness, scope: ContractScope) => Promise<void>,
    setup: VenueContractSetup | ((qty: number) => VenueContractSetup) = {},
  ): void => {
    if (skipped.has(name)) return;
    it(name, async () => {
      let resolved: VenueContractSetup;
      if (typeof setup === 'function') {
        const probe = await options.create({});
        await probe.close?.();
        resolved = setup(probe.qty);
      } else {
        resolved = setup;
      }
      const harness = await options.create(resolved);
      const closers: (() => void)[] = [];
      try {
        await body(harness, { listen: () => record(harness.venue, closers) });
      } finally {
        for (const close of closers) close();
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

  const restingLimit = (harness: VenueContractHarness): SubmitOrder =>
    market(harness, { type: 'limit', price: harness.restingBuyPrice(), timeInForce: 'GTC' });

  /** Buys the harness quantity at market and waits until the venue shows the long position. */
  const goLong = async (harness: VenueContractHarness): Promise<void> => {
    valueOf(await harness.venue.submit(market(harness, {})));
    await harness.settle(1000);
    await eventually(harness, async () => expect(await positionQty(harness)).toBeCloseTo(harness.qty, 10));
  };

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
      const found = await eventually(harness, async () => {
        const current = await query(harness, order.clientOrderId);
        expect(current).toMatchObject({ clientOrderId: order.clientOrderId, status: 'FILLED' });
        return current;
      });
      expect(found?.filledQty).toBeCloseTo(harness.qty, 10);
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
      expect(failureOf(answer)).toMatchObject({ ok: false, httpStatus: 400, code: -2011 });
    });

    contract('rests a limit order, lists it as open and cancels it once', async (harness) => {
      const order = restingLimit(harness);
      expect(valueOf(await harness.venue.submit(order)).status).toBe('NEW');
      const open = valueOf(await harness.venue.openOrders(harness.symbol));
      expect(open.map((each) => each.clientOrderId)).toContain(order.clientOrderId);
      expect(valueOf(await harness.venue.cancel(harness.symbol, order.clientOrderId)).status).toBe(
        'CANCELED',
      );
      const after = valueOf(await harness.venue.openOrders(harness.symbol));
      expect(after.map((each) => each.clientOrderId)).not.toContain(order.clientOrderId);
      const again = await harness.venue.cancel(harness.symbol, order.clientOrderId);
      expect(failureOf(again)).toMatchObject({ httpStatus: 400, code: -2011 });
    });

    contract('refuses a second live order with the same clientOrderId', async (harness) => {
      const order = restingLimit(harness);
      valueOf(await harness.venue.submit(order));
      expect(failureOf(await harness.venue.submit(order))).toMatchObject({ httpStatus: 400, code: -4116 });
      const open = valueOf(await harness.venue.openOrders(harness.symbol));
      expect(open.filter((each) => each.clientOrderId === order.clientOrderId)).toHaveLength(1);
    });

    contract('refuses a reduce-only order when flat', async (harness) => {
      const order = market(harness, { side: 'sell', reduceOnly: true });
      const answer = await harness.venue.submit(order);
      expect(failureOf(answer)).toMatchObject({ httpStatus: 400, code: -2022 });
      expect(await query(harness, order.clientOrderId)).toBeNull();
    });

    contract('shows a signed position after a fill and closes it reduce-only', async (harness) => {
      valueOf(await harness.venue.submit(market(harness, { side: 'sell' })));
      await harness.settle(1000);
      await eventually(harness, async () => expect(await positionQty(harness)).toBeCloseTo(-harness.qty, 10));
      valueOf(await harness.venue.submit(market(harness, { side: 'buy', reduceOnly: true })));
      await harness.settle(1000);
      await eventually(harness, async () => expect(await positionQty(harness)).toBeCloseTo(0, 10));
    });

    contract('reports fills on the stream', async (harness, { listen }) => {
      const stream = listen();
      const order = market(harness, {});
      valueOf(await harness.venue.submit(order));
      await harness.settle(1000);
      await eventually(harness, () => {
        const fills = stream.events('venue.order.filled', order.clientOrderId);
        expect(fills.length).toBeGreaterThan(0);
        expect(fills.reduce((sum, fill) => sum + fill.qty, 0)).toBeCloseTo(harness.qty, 10);
      });
    });

    contract('answers an unlisted symbol with a failure value, not a throw', async (harness) => {
      const answer = await harness.venue.submit(market(harness, { symbol: 'NOTLISTED999' }));
      expect(failureOf(answer)).toMatchObject({ httpStatus: 400, code: -1121 });
    });

    contract(
      'fills a market order in parts when liquidity is thin, one trade id per part',
      async (harness, { listen }) => {
        const stream = listen();
        const order = market(harness, {});
        valueOf(await harness.venue.submit(order));
        // Half the quantity trades per step: after the first part, the order is partly filled.
        const partial = await eventually(harness, async () => {
          const current = await query(harness, order.clientOrderId);
          expect(current?.status).toBe('PARTIALLY_FILLED');
          return current;
        });
        expect(partial?.filledQty).toBeCloseTo(harness.qty / 2, 10);
        await harness.settle(1000);
        const filled = await eventually(harness, async () => {
          const current = await query(harness, order.clientOrderId);
          expect(current?.status).toBe('FILLED');
          return current;
        });
        expect(filled?.filledQty).toBeCloseTo(harness.qty, 10);
        if (options.capabilities.stream) {
          const parts = await eventually(harness, () => {
            const fills = stream.events('venue.order.filled', order.clientOrderId);
            expect(new Set(fills.map((fill) => fill.trade_id)).size).toBe(2);
            return fills;
          });
          for (const part of parts) expect(part.qty).toBeCloseTo(harness.qty / 2, 10);
        }
        const listed = valueOf(await harness.venue.fillsSince(0, harness.symbol)).filter(
          (fill) => fill.clientOrderId === order.clientOrderId,
        );
        expect(new Set(listed.map((fill) => fill.tradeId)).size).toBe(2);
        expect(listed.reduce((sum, fill) => sum + fill.qty, 0)).toBeCloseTo(harness.qty, 10);
      },
      (qty) => ({ liquidityPerStep: qty / 2 }),
    );

    contract(
      'amends a resting limit order in place and reports the new price and quantity',
      async (harness, { listen }) => {
        const stream = listen();
        const order = restingLimit(harness);
        valueOf(await harness.venue.submit(order));
        const amended = { qty: harness.qty * 2, price: scaled(order.price ?? 0, 0.99) };
        const answer = await harness.venue.replace({
          clientOrderId: order.clientOrderId,
          symbol: harness.symbol,
          ...amended,
        });
        if (!options.capabilities.amend) {
          // A venue without amend says so with a failure value, and the order keeps its terms.
          expect(answer.ok).toBe(false);
          expect(await query(harness, order.clientOrderId)).toMatchObject({ price: order.price });
          return;
        }
        expect(valueOf(answer)).toMatchObject({ clientOrderId: order.clientOrderId, price: amended.price });
        const found = await query(harness, order.clientOrderId);
        expect(found).toMatchObject({
          clientOrderId: order.clientOrderId,
          status: 'NEW',
          price: amended.price,
        });
        expect(found?.qty).toBeCloseTo(amended.qty, 10);
        if (!options.capabilities.stream) return;
        await eventually(harness, () => {
          const [replaced] = stream.events('venue.order.replaced', order.clientOrderId);
          expect(replaced?.price).toBe(amended.price);
          expect(replaced?.qty).toBeCloseTo(amended.qty, 10);
        });
      },
    );

    contract('refuses an amend that changes nothing and leaves the order as it was', async (harness) => {
      const order = restingLimit(harness);
      valueOf(await harness.venue.submit(order));
      const answer = await harness.venue.replace({
        clientOrderId: order.clientOrderId,
        symbol: harness.symbol,
        qty: harness.qty,
        ...(order.price === undefined ? {} : { price: order.price }),
      });
      const refusal = failureOf(answer);
      if (options.capabilities.amend) expect(refusal).toMatchObject({ httpStatus: 400, code: -5027 });
      const found = await query(harness, order.clientOrderId);
      expect(found).toMatchObject({ status: 'NEW', price: order.price, filledQty: 0 });
      expect(found?.qty).toBeCloseTo(harness.qty, 10);
    });

    contract('finds a cancelled order by clientOrderId with status CANCELED', async (harness) => {
      const order = restingLimit(harness);
      valueOf(await harness.venue.submit(order));
      valueOf(await harness.venue.cancel(harness.symbol, order.clientOrderId));
      const found = await eventually(harness, async () => {
        const current = await query(harness, order.clientOrderId);
        expect(current).toMatchObject({ clientOrderId: order.clientOrderId, status: 'CANCELED' });
        return current;
      });
      expect(found?.filledQty).toBeCloseTo(0, 10);
    });

    contract(
      'triggers a reduce-only stop when the price falls through it and fills it under the same clientOrderId',
      async (harness, { listen }) => {
        requireHook(
          harness,
          'setPrice',
          'triggers a reduce-only stop when the price falls through it and fills it under the same clientOrderId',
        );
        const stream = listen();
        await goLong(harness);
        const stop = market(harness, {
          side: 'sell',
          type: 'stop_market',
          stopPrice: scaled(harness.price(), 0.95),
          reduceOnly: true,
        });
        expect(valueOf(await harness.venue.submit(stop))).toMatchObject({
          clientOrderId: stop.clientOrderId,
          status: 'NEW',
          conditional: true,
        });
        const open = valueOf(await harness.venue.openOrders(harness.symbol));
        expect(open.find((each) => each.clientOrderId === stop.clientOrderId)).toMatchObject({
          conditional: true,
          stopPrice: stop.stopPrice,
        });

        await harness.setPrice(scaled(stop.stopPrice ?? 0, 0.98));
        const triggered = options.capabilities.stream
          ? await eventually(harness, () => {
              const [event] = stream.events('venue.order.triggered', stop.clientOrderId);
              expect(event?.triggeredOrderId).toEqual(expect.any(String));
              const fillAt = stream.indexOf('venue.order.filled', stop.clientOrderId);
              expect(fillAt).toBeGreaterThan(stream.indexOf('venue.order.triggered', stop.clientOrderId));
              return event;
            })
          : undefined;
        const found = await eventually(harness, async () => {
          const current = await query(harness, stop.clientOrderId);
          expect(current).toMatchObject({ status: 'FILLED', conditional: true });
          return current;
        });
        // A polled venue has no trigger event: the lookup alone names the order the stop became.
        if (triggered) expect(found?.triggeredOrderId).toBe(triggered.triggeredOrderId);
        else expect(found?.triggeredOrderId).toEqual(expect.any(String));
        const fills = valueOf(await harness.venue.fillsSince(0, harness.symbol));
        const stopFilled = fills.filter((fill) => fill.clientOrderId === stop.clientOrderId);
        // The fills of the order the stop became are linked back to the stop, not left foreign.
        expect(stopFilled.reduce((sum, fill) => sum + fill.qty, 0)).toBeCloseTo(harness.qty, 10);
        expect(found?.filledQty).toBeCloseTo(harness.qty, 10);
        await eventually(harness, async () => expect(await positionQty(harness)).toBeCloseTo(0, 10));
      },
    );

    contract(
      'closes the whole position with a close-position stop when the price falls through it',
      async (harness, { listen }) => {
        requireHook(
          harness,
          'setPrice',
          'closes the whole position with a close-position stop when the price falls through it',
        );
        const stream = listen();
        await goLong(harness);
        const { qty: _qty, ...stop } = market(harness, {
          side: 'sell',
          type: 'stop_market',
          stopPrice: scaled(harness.price(), 0.95),
          closePosition: true,
        });
        // A venue without a close-position flag sizes a reduce-only stop to the position held,
        // and says so: the order is not marked close-position.
        expect(valueOf(await harness.venue.submit(stop))).toMatchObject({
          status: 'NEW',
          conditional: true,
          closePosition: options.capabilities.closePosition,
        });
        await harness.setPrice(scaled(stop.stopPrice ?? 0, 0.98));
        if (options.capabilities.stream) {
          await eventually(harness, () => {
            expect(stream.indexOf('venue.order.triggered', stop.clientOrderId)).toBeGreaterThanOrEqual(0);
            const fills = stream.events('venue.order.filled', stop.clientOrderId);
            expect(fills.reduce((sum, fill) => sum + fill.qty, 0)).toBeCloseTo(harness.qty, 10);
          });
        }
        await eventually(harness, async () => {
          expect(await query(harness, stop.clientOrderId)).toMatchObject({ status: 'FILLED' });
          expect(await positionQty(harness)).toBeCloseTo(0, 10);
        });
      },
    );

    contract('refuses a conditional order that would trigger immediately', async (harness) => {
      // A sell stop triggers at or below its stop price: one above the market fires at once.
      const stop = market(harness, {
        side: 'sell',
        type: 'stop_market',
        stopPrice: scaled(harness.price(), 1.05),
      });
      expect(failureOf(await harness.venue.submit(stop))).toMatchObject({ httpStatus: 400, code: -2021 });
      expect(await query(harness, stop.clientOrderId)).toBeNull();
      const open = valueOf(await harness.venue.openOrders(harness.symbol));
      expect(open.map((each) => each.clientOrderId)).not.toContain(stop.clientOrderId);
    });

    contract('reports a gap when the stream is cut', async (harness, { listen }) => {
      requireHook(harness, 'cutStream', 'reports a gap when the stream is cut');
      const stream = listen();
      // A venue may report a gap when its stream first connects; only a gap after the cut counts here.
      await harness.streamReady?.();
      const cutAt = stream.messages.length;
      await harness.cutStream();
      await eventually(harness, () => {
        expect(stream.messages.slice(cutAt).some((message) => message.kind === 'gap')).toBe(true);
      });
    });

    contract('keeps delivering events after the stream is cut', async (harness, { listen }) => {
      requireHook(harness, 'cutStream', 'keeps delivering events after the stream is cut');
      const stream = listen();
      await harness.streamReady?.();
      const cutAt = stream.messages.length;
      await harness.cutStream();
      const gapAfterCut = (): number =>
        stream.messages.findIndex((message, index) => index >= cutAt && message.kind === 'gap');
      await eventually(harness, () => {
        expect(gapAfterCut()).toBeGreaterThanOrEqual(0);
      });
      const order = market(harness, {});
      valueOf(await harness.venue.submit(order));
      await harness.settle(1000);
      await eventually(harness, () => {
        expect(stream.indexOf('venue.order.filled', order.clientOrderId)).toBeGreaterThan(gapAfterCut());
      });
    });

    contract(
      'answers an injected rejection with HTTP 400 and its code, and registers nothing',
      async (harness) => {
        const order = market(harness, {});
        const answer = await harness.venue.submit(order);
        expect(failureOf(answer)).toMatchObject({ ok: false, httpStatus: 400, code: -2019 });
        await harness.settle(1000);
        expect(await query(harness, order.clientOrderId)).toBeNull();
        expect(await positionQty(harness)).toBeCloseTo(0, 10);
      },
      { faults: { reject: { next: 1, code: -2019 } } },
    );

    contract(
      'answers an execution-unknown submit with HTTP 503, and the order is found afterwards',
      async (harness) => {
        const order = market(harness, {});
        const refusal = failureOf(await harness.venue.submit(order));
        expect(refusal).toMatchObject({ ok: false, httpStatus: 503 });
        expect(refusal.message).toContain(EXECUTION_UNKNOWN_MESSAGE);
        await harness.settle(1000);
        // The outcome was unknown, not failed: this run's order landed, and a query shows it.
        const found = await eventually(harness, async () => {
          const current = await query(harness, order.clientOrderId);
          expect(current).toMatchObject({ clientOrderId: order.clientOrderId, status: 'FILLED' });
          return current;
        });
        expect(found?.filledQty).toBeCloseTo(harness.qty, 10);
      },
      { faults: { executionUnknown: { next: 1 } } },
    );

    contract(
      'answers a lost submit timeout with an errno, and the order is not found',
      async (harness) => {
        const order = market(harness, {});
        const refusal = failureOf(await harness.venue.submit(order));
        expect(refusal.errno).toEqual(expect.any(String));
        expect(refusal.errno).not.toBe('');
        await harness.settle(1000);
        expect(await query(harness, order.clientOrderId)).toBeNull();
        expect(await positionQty(harness)).toBeCloseTo(0, 10);
      },
      { faults: { submitTimeoutLost: { next: 1 } } },
    );

    contract(
      'answers a rate-limited call with HTTP 429, code -1003 and Retry-After, then takes the retry',
      async (harness) => {
        const order = market(harness, {});
        expect(failureOf(await harness.venue.submit(order))).toMatchObject({
          ok: false,
          httpStatus: 429,
          code: -1003,
          retryAfter: 1,
        });
        // Retry-After is honoured: an adapter may hold every call back until it has passed.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(await query(harness, order.clientOrderId)).toBeNull();
        valueOf(await harness.venue.submit(order));
        await harness.settle(1000);
        await eventually(harness, async () =>
          expect(await query(harness, order.clientOrderId)).toMatchObject({ status: 'FILLED' }),
        );
      },
      { faults: { rateLimit: { next: 1, retryAfter: 1 } } },
    );

    contract(
      'lists each fill once in fillsSince although the stream repeats it',
      async (harness, { listen }) => {
        const stream = listen();
        const order = market(harness, {});
        valueOf(await harness.venue.submit(order));
        await harness.settle(1000);
        // The stream repeats the fill under the same trade id, which is how a consumer drops it.
        const tradeIds = await eventually(harness, () => {
          const fills = stream.events('venue.order.filled', order.clientOrderId);
          const ids = new Set(fills.map((fill) => fill.trade_id));
          expect(fills.length).toBeGreaterThan(ids.size);
          return ids;
        });
        const listed = valueOf(await harness.venue.fillsSince(0, harness.symbol)).filter(
          (fill) => fill.clientOrderId === order.clientOrderId,
        );
        expect(listed.map((fill) => fill.tradeId).sort()).toEqual([...tradeIds].sort());
        expect(listed.reduce((sum, fill) => sum + fill.qty, 0)).toBeCloseTo(harness.qty, 10);
      },
      { faults: { duplicateFill: { next: 1 } } },
    );
  });
}

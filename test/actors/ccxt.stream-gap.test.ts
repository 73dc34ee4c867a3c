/**
 * Killing the user-data WebSocket mid-run loses no fills: keel trades through the ccxt
 * binanceusdm adapter against the paper venue's Binance server on loopback; the connection is
 * dropped and kept down while a resting order fills, so the fill's stream events are never sent.
 * The adapter reports the gap, keel looks its live orders up and re-reads their trades over REST,
 * and books the fill exactly once — the same quantity, price and position as the venue's truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock/system.clock.js';
import { BinanceUsdmVenue } from '../../src/adapters/venue/ccxt/binance.venue.js';
import {
  startPaperVenueServer,
  type PaperVenueServer,
} from '../../src/adapters/venue/paper/binance.server.js';
import { openPaperVenue, type PaperVenue } from '../../src/adapters/venue/paper/paper.venue.js';
import { createKeel, type Keel } from '../../src/config/create-keel.js';
import type { VenueStreamMessage } from '../../src/ports/venue.port.js';
import { entryIntent } from '../support/intents.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(done: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function setup(): Promise<{
  keel: Keel;
  paper: PaperVenue;
  server: PaperVenueServer;
  venue: BinanceUsdmVenue;
  messages: VenueStreamMessage[];
}> {
  // The paper venue's walk never steps by itself here: the test moves the price.
  const paper = openPaperVenue({ seed: 9, clock: systemClock, stepMs: 3_600_000 });
  const server = await startPaperVenueServer({
    venue: paper,
    apiKey: 'k',
    apiSecret: 's',
    wallClock: systemClock,
  });
  const venue = new BinanceUsdmVenue({
    apiKey: 'k',
    secret: 's',
    urls: { rest: server.url, ws: server.wsUrl },
    clock: systemClock,
    // The reconnect waits long enough for the fill to happen while nobody listens.
    stream: { backoffMs: { first: 1_500, max: 1_500 } },
  });
  const messages: VenueStreamMessage[] = [];
  const watch = venue.subscribe((message) => messages.push(message));
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-gap-'));
  const keel = await createKeel({ dataDir, reconcile: { intervalMs: 60_000 } }, { venue });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => paper.close());
  cleanups.push(() => server.close());
  cleanups.push(() => venue.close());
  cleanups.push(() => keel.close());
  cleanups.push(() => watch.close());
  await until(() => venue.streamStatus().connected);
  return { keel, paper, server, venue, messages };
}

describe('a dropped user stream', () => {
  it('loses no fill: the gap is reported and keel recovers the fill over REST, booked once', async () => {
    const { keel, paper, server, venue, messages } = await setup();
    const last = paper.price('BTCUSDT') ?? 50_000;
    const restingPrice = Math.round(last * 0.9);
    const sent = await keel.submit(
      entryIntent({ venue: 'binanceusdm', type: 'limit', price: restingPrice, time_in_force: 'GTC' }),
    );
    await until(() => keel.get(sent.intent_id)?.venue_order_id !== null);
    const gapsBefore = venue.streamStatus().gaps;

    server.dropStreams();
    await until(() => !venue.streamStatus().connected);
    // While the stream is down the market trades through the resting order.
    paper.setPrice('BTCUSDT', restingPrice - 100);
    const truth = paper.groundTruth();
    const venueFills = truth.fills.filter(
      (fill) => fill.clientOrderId === keel.get(sent.intent_id)?.clientOrderId,
    );
    expect(venueFills).toHaveLength(1);
    // The fill was never on the stream: it happened with no socket to send it to.
    const streamedFills = (): number =>
      messages.filter((message) => message.kind === 'event' && message.event.type === 'venue.order.filled')
        .length;
    expect(streamedFills()).toBe(0);

    await until(() => keel.get(sent.intent_id)?.order_status === 'FILLED');
    expect(venue.streamStatus().gaps).toBeGreaterThanOrEqual(gapsBefore + 1);
    // The stream comes back, and says so with a second gap covering the whole outage.
    await until(() => venue.streamStatus().connected);
    expect(venue.streamStatus().gaps).toBeGreaterThanOrEqual(gapsBefore + 2);
    expect(streamedFills()).toBe(0);
    const result = keel.get(sent.intent_id);
    expect(result).toMatchObject({ status: 'EXECUTED', order_status: 'FILLED', filled_qty: 0.01 });
    // Booked once, at the venue's price: keel's position equals the venue's.
    await keel.idle();
    const position = keel.positions('main').BTCUSDT;
    expect(position?.qty).toBeCloseTo(0.01, 10);
    expect(position?.entryPrice).toBeCloseTo(venueFills[0]?.price ?? 0, 6);
    const venuePosition = await venue.positions();
    expect(
      venuePosition.ok && venuePosition.value.find((each) => each.symbol === 'BTCUSDT')?.qty,
    ).toBeCloseTo(0.01, 10);
    const fillEvents = keel.store
      .journal({ correlationId: sent.correlation_id })
      .filter((event) => event.type === 'venue.order.filled');
    expect(fillEvents).toHaveLength(1);
  });
});

/**
 * What the Binance adapter does on each failure class, driven over loopback against
 * `keel paper-venue`'s server: clock skew (-1021 → resync, one re-signed resend), rate limits
 * (429 pauses every call without sending it), bad credentials (the venue's own codes), and the
 * user stream's failures — listenKeyExpired, a keepalive refused with -1125, and a connection
 * that stays open but goes silent. Every gap is followed by a reconnect on a working key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { systemClock } from '../../../src/adapters/clock/system.clock.js';
import {
  BinanceUsdmVenue,
  type BinanceUsdmVenueOptions,
} from '../../../src/adapters/venue/ccxt/binance.venue.js';
import {
  startPaperVenueServer,
  type PaperVenueServerOptions,
} from '../../../src/adapters/venue/paper/binance.server.js';
import { openPaperVenue, type PaperVenue } from '../../../src/adapters/venue/paper/paper.venue.js';
import type { SubmitOrder, VenueStreamMessage } from '../../../src/ports/venue.port.js';
import { ManualClock } from '../../support/manual-clock.js';

const KEY = 'failures-key';
const SECRET = 'failures-secret';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(read: () => T | undefined, what: string, ms = 5_000): Promise<T> {
  for (let waited = 0; waited < ms; waited += 10) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function setup(
  server: Partial<PaperVenueServerOptions> = {},
  adapter: Partial<BinanceUsdmVenueOptions> = {},
): Promise<{
  paper: PaperVenue;
  venue: BinanceUsdmVenue;
  control: Awaited<ReturnType<typeof startPaperVenueServer>>;
}> {
  const clock = new ManualClock(Date.now());
  const paper = openPaperVenue({ seed: 5, clock, symbols: { BTCUSDT: { start: 50_000, volatility: 0 } } });
  const control = await startPaperVenueServer({
    venue: paper,
    apiKey: KEY,
    apiSecret: SECRET,
    wallClock: systemClock,
    ...server,
  });
  const venue = new BinanceUsdmVenue({
    apiKey: KEY,
    secret: SECRET,
    urls: { rest: control.url, ws: control.wsUrl },
    clock: systemClock,
    ...adapter,
    stream: { backoffMs: { first: 20, max: 200 }, ...adapter.stream },
  });
  cleanups.push(
    () => paper.close(),
    () => control.close(),
    () => venue.close(),
  );
  return { paper, venue, control };
}

let sequence = 0;
function marketBuy(): SubmitOrder {
  sequence += 1;
  return {
    clientOrderId: `EN-failures-${sequence}`,
    symbol: 'BTCUSDT',
    side: 'buy',
    type: 'market',
    qty: 0.01,
    reduceOnly: false,
    closePosition: false,
  };
}

function listen(venue: BinanceUsdmVenue): VenueStreamMessage[] {
  const seen: VenueStreamMessage[] = [];
  const subscription = venue.subscribe((message) => seen.push(message));
  cleanups.push(() => subscription.close());
  return seen;
}

const gaps = (seen: VenueStreamMessage[]): string[] =>
  seen.flatMap((message) => (message.kind === 'gap' ? [message.reason] : []));

describe('Binance adapter failure classes', () => {
  it('answers -1021 by reading the venue time and sending once more, re-signed: one order, not two', async () => {
    const { paper, venue, control } = await setup();
    control.setClockOffset(30_000); // the venue's clock runs 30 s ahead: keel's timestamps are stale
    const order = marketBuy();
    const answer = await venue.submit(order);
    expect(answer).toMatchObject({
      ok: true,
      value: { clientOrderId: order.clientOrderId, status: 'FILLED' },
    });
    // ccxt signs with now - timeDifference: the venue is 30 s ahead, so the difference is about -30 s.
    expect(Number(venue.client.exchange.options.timeDifference)).toBeLessThan(-29_000);
    expect(
      paper.groundTruth().fills.filter((fill) => fill.clientOrderId === order.clientOrderId),
    ).toHaveLength(1);
  });

  it('reports -1021 when resynchronising fails, without sending again', async () => {
    const { venue, control } = await setup({}, { recvWindowMs: 1_000 });
    control.setClockOffset(30_000);
    // When the venue time cannot be read, keel has nothing to re-sign with: it reports, never loops.
    venue.client.resyncClock = () => Promise.resolve(false);
    const answer = await venue.submit(marketBuy());
    expect(answer).toMatchObject({ ok: false, code: -1021 });
  });

  it('pauses every call after a 429 until Retry-After, without sending them to the venue', async () => {
    // keel's own budget set high, so the venue's much lower limit is what answers.
    const { venue } = await setup(
      { limits: { requestWeightPerMinute: 8 } },
      { limits: { weightPerMinute: 1_000_000 } },
    );
    let limited;
    for (let call = 0; call < 20 && limited === undefined; call += 1) {
      const answer = await venue.openOrders('BTCUSDT');
      if (!answer.ok) limited = answer;
    }
    expect(limited).toMatchObject({ ok: false, httpStatus: 429, code: -1003 });
    expect(limited?.retryAfter).toBeGreaterThan(0);
    expect(venue.client.budgetState().pausedUntil).toBeGreaterThan(Date.now());
    // The venue bans an IP that keeps calling after a 429 (418): keel holds back, so no ban comes.
    for (let call = 0; call < 6; call += 1) {
      const answer = await venue.openOrders('BTCUSDT');
      expect(answer).toMatchObject({
        ok: false,
        httpStatus: 429,
        message: expect.stringMatching(/^not sent: /),
      });
    }
  });

  it('answers a wrong secret with -1022 and an unknown key with -2015, changing nothing', async () => {
    const { paper, control } = await setup();
    const forged = new BinanceUsdmVenue({
      apiKey: KEY,
      secret: 'not-the-secret',
      urls: { rest: control.url },
      clock: systemClock,
    });
    const stranger = new BinanceUsdmVenue({
      apiKey: 'who',
      secret: SECRET,
      urls: { rest: control.url },
      clock: systemClock,
    });
    cleanups.push(
      () => forged.close(),
      () => stranger.close(),
    );
    expect(await forged.submit(marketBuy())).toMatchObject({ ok: false, code: -1022 });
    expect(await stranger.submit(marketBuy())).toMatchObject({ ok: false, code: -2015 });
    expect(paper.groundTruth().fills).toHaveLength(0);
  });

  it('on listenKeyExpired reports a gap, takes a new key and keeps delivering events', async () => {
    const { venue, control } = await setup();
    const seen = listen(venue);
    await until(() => venue.streamStatus().connected, 'the first connection');
    control.expireListenKeys();
    await until(() => gaps(seen).some((reason) => reason.includes('listenKey expired')), 'the expiry gap');
    await until(() => venue.streamStatus().connected, 'a connection on a new key');
    const order = marketBuy();
    expect((await venue.submit(order)).ok).toBe(true);
    await until(
      () =>
        seen.some(
          (m) =>
            m.kind === 'event' &&
            m.event.type === 'venue.order.filled' &&
            m.event.clientOrderId === order.clientOrderId,
        ),
      'the fill on the new connection',
    );
  });

  it('on a keepalive refused with -1125 reports a gap and reconnects on a new key', async () => {
    // The key lives 150 ms and keel keeps it alive every 400 ms: the keepalive finds it gone.
    const { venue } = await setup({ listenKeyTtlMs: 150 }, { stream: { keepAliveMs: 400 } });
    const seen = listen(venue);
    await until(
      () => gaps(seen).some((reason) => reason.includes('listenKey no longer exists')),
      'the -1125 gap',
    );
    await until(() => venue.streamStatus().connected, 'a connection on a new key');
  });

  it('treats an open connection that sends nothing as dead: a gap, then a reconnect', async () => {
    // A stream endpoint that accepts the connection but never speaks, nor answers pings.
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    await new Promise<void>((resolve) => silent.once('listening', () => resolve()));
    let connections = 0;
    silent.on('connection', () => (connections += 1));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const client of silent.clients) client.terminate();
          silent.close(() => resolve());
        }),
    );
    const address = silent.address() as { port: number };
    const { control } = await setup();
    // REST on the paper venue, the stream on the silent endpoint.
    const silentVenue = new BinanceUsdmVenue({
      apiKey: KEY,
      secret: SECRET,
      urls: { rest: control.url, ws: `ws://127.0.0.1:${address.port}` },
      clock: systemClock,
      stream: { pingMs: 50, silenceMs: 300, backoffMs: { first: 20, max: 200 } },
    });
    cleanups.push(() => silentVenue.close());
    const seen = listen(silentVenue);
    await until(() => gaps(seen).some((reason) => /no frame for \d+ ms/.test(reason)), 'the silence gap');
    await until(() => connections >= 2, 'a second connection');
  });
});

/**
 * The venue contract against keel's ccxt adapter (binanceusdm) talking over loopback HTTP and
 * WebSocket to `keel paper-venue`'s server: the same suite the in-process paper venue passes, now
 * through signing, Binance's wire format, the algo order API and the user data stream.
 */
import { systemClock } from '../../src/adapters/clock/system.clock.js';
import { BinanceUsdmVenue, BINANCEUSDM_CAPABILITIES } from '../../src/adapters/venue/ccxt/binance.venue.js';
import { startPaperVenueServer } from '../../src/adapters/venue/paper/binance.server.js';
import { openPaperVenue } from '../../src/adapters/venue/paper/paper.venue.js';
import { ManualClock } from '../support/manual-clock.js';
import { runVenueContract } from './venue.contract.js';

const API_KEY = 'contract-key';
const API_SECRET = 'contract-secret';

/** Long enough for a WebSocket frame to cross loopback. */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

runVenueContract({
  name: 'ccxt binanceusdm over loopback to keel paper-venue',
  create: async (setup) => {
    const clock = new ManualClock(Date.now());
    const paper = openPaperVenue({
      seed: 11,
      clock,
      symbols: { BTCUSDT: { start: 50_000, volatility: 0.0005 } },
      ...(setup.faults === undefined ? {} : { faults: setup.faults }),
      ...(setup.liquidityPerStep === undefined ? {} : { liquidityPerStep: setup.liquidityPerStep }),
    });
    const server = await startPaperVenueServer({
      venue: paper,
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      wallClock: systemClock,
    });
    const venue = new BinanceUsdmVenue({
      apiKey: API_KEY,
      secret: API_SECRET,
      urls: { rest: server.url, ws: server.wsUrl },
      clock: systemClock,
      // Fast enough that a dropped connection is back within a test.
      stream: { backoffMs: { first: 20, max: 200 } },
    });
    return {
      venue,
      symbol: 'BTCUSDT',
      qty: 0.01,
      restingBuyPrice: () => Math.round((paper.price('BTCUSDT') ?? 50_000) * 0.8),
      price: () => paper.price('BTCUSDT') ?? 50_000,
      setPrice: async (price: number) => {
        paper.setPrice('BTCUSDT', price);
        await sleep(30);
      },
      streamReady: async () => {
        for (let waited = 0; !venue.streamStatus().connected && waited < 5_000; waited += 10) await sleep(10);
      },
      cutStream: async () => {
        server.dropStreams();
        await sleep(30);
      },
      settle: async (ms: number) => {
        clock.advance(ms);
        paper.sync();
        await sleep(30);
      },
      close: async () => {
        venue.close();
        await server.close();
        paper.close();
      },
    };
  },
  capabilities: BINANCEUSDM_CAPABILITIES,
});

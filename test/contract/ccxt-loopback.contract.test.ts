/**
 * The venue contract against keel's ccxt adapter (binanceusdm) talking over loopback HTTP and
 * WebSocket to `keel paper-venue`'s server: the same suite the in-process paper venue passes, now
 * through signing, Binance's wire format, the algo order API and the user data stream.
 */
import { systemClock } from '../../src/adapters/clock/system.clock.js';
import { BinanceUsdmVenue, BINANCEUSDM_CAPABILITIES } from '../../src/adapters/venue/ccxt/binance.venue.js';
import { LOOPBACK_API_KEY, LOOPBACK_API_SECRET, sleep, startLoopback } from './loopback.js';
import { runVenueContract } from './venue.contract.js';

runVenueContract({
  name: 'ccxt binanceusdm over loopback to keel paper-venue',
  create: async (setup) => {
    const { server, harness } = await startLoopback(setup, 11);
    const venue = new BinanceUsdmVenue({
      apiKey: LOOPBACK_API_KEY,
      secret: LOOPBACK_API_SECRET,
      urls: { rest: server.url, ws: server.wsUrl },
      clock: systemClock,
      // Fast enough that a dropped connection is back within a test.
      stream: { backoffMs: { first: 20, max: 200 } },
    });
    return {
      ...harness(venue),
      streamReady: async () => {
        for (let waited = 0; !venue.streamStatus().connected && waited < 5_000; waited += 10) await sleep(10);
      },
      cutStream: async () => {
        server.dropStreams();
        await sleep(30);
      },
    };
  },
  capabilities: BINANCEUSDM_CAPABILITIES,
});

/**
 * The venue contract against keel's unified ccxt adapter — the one Bybit and OKX run through —
 * driven with ccxt's binanceusdm class over loopback to `keel paper-venue`, the one exchange keel
 * can serve offline. Its unified calls (createOrder with stopLossPrice, fetchOrder by
 * clientOrderId, editOrder, fetchOpenOrders with trigger, fetchPositions, fetchMyTrades) and
 * keel's mapping of their answers are what is under test; it has no stream, so it is polled.
 */
import { systemClock } from '../../src/adapters/clock/system.clock.js';
import { UnifiedCcxtVenue, UNIFIED_PROFILES } from '../../src/adapters/venue/ccxt/unified.venue.js';
import { LOOPBACK_API_KEY, LOOPBACK_API_SECRET, startLoopback } from './loopback.js';
import { runVenueContract } from './venue.contract.js';

runVenueContract({
  name: 'ccxt unified methods (binanceusdm) over loopback to keel paper-venue',
  create: async (setup) => {
    const { server, harness } = await startLoopback(setup, 12);
    const venue = new UnifiedCcxtVenue({
      exchange: 'binanceusdm',
      apiKey: LOOPBACK_API_KEY,
      secret: LOOPBACK_API_SECRET,
      urls: { rest: server.url },
      clock: systemClock,
      pollIntervalMs: 50,
    });
    return harness(venue);
  },
  capabilities: UNIFIED_PROFILES.binanceusdm.capabilities,
  skip: [
    {
      reason: 'a polled venue has no stream to carry events or to cut; its gaps are tested in the unit tests',
      tests: [
        'reports fills on the stream',
        'reports a gap when the stream is cut',
        'keeps delivering events after the stream is cut',
        'lists each fill once in fillsSince although the stream repeats it',
      ],
    },
  ],
});

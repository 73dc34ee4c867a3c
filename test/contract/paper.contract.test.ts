import { openPaperVenue } from '../../src/adapters/venue/paper/paper.venue.js';
import { ManualClock } from '../support/manual-clock.js';
import { runVenueContract } from './venue.contract.js';

runVenueContract({
  name: 'paper',
  create: (setup) => {
    const clock = new ManualClock(0);
    const venue = openPaperVenue({
      seed: 11,
      clock,
      symbols: { BTCUSDT: { start: 50_000, volatility: 0.0005 } },
      ...(setup.faults === undefined ? {} : { faults: setup.faults }),
      ...(setup.liquidityPerStep === undefined ? {} : { liquidityPerStep: setup.liquidityPerStep }),
    });
    return {
      venue,
      symbol: 'BTCUSDT',
      qty: 0.01,
      restingBuyPrice: () => Math.round((venue.price('BTCUSDT') ?? 50_000) * 0.8),
      price: () => venue.price('BTCUSDT') ?? 50_000,
      setPrice: (price: number) => {
        venue.setPrice('BTCUSDT', price);
        return Promise.resolve();
      },
      cutStream: () => {
        venue.disconnectStream();
        return Promise.resolve();
      },
      settle: (ms: number) => {
        clock.advance(ms);
        venue.sync();
        return Promise.resolve();
      },
    };
  },
  capabilities: {
    venue: 'paper',
    amend: true,
    conditionalOrders: true,
    closePosition: true,
    reduceOnly: true,
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
    maxClientOrderIdLength: 36,
    stream: true,
  },
});

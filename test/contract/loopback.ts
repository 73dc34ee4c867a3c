/**
 * The paper venue served over loopback by `keel paper-venue`'s server, as the contract runs of
 * the ccxt adapters see it: a fresh venue and server per test, and the harness hooks that move
 * its market and clock. The adapter under test is the caller's.
 */
import { systemClock } from '../../src/adapters/clock/system.clock.js';
import {
  startPaperVenueServer,
  type PaperVenueServer,
} from '../../src/adapters/venue/paper/binance.server.js';
import { openPaperVenue, type PaperVenue } from '../../src/adapters/venue/paper/paper.venue.js';
import type { VenuePort } from '../../src/ports/venue.port.js';
import { ManualClock } from '../support/manual-clock.js';
import type { VenueContractHarness, VenueContractSetup } from './venue.contract.js';

export const LOOPBACK_API_KEY = 'contract-key';
export const LOOPBACK_API_SECRET = 'contract-secret';

/** Long enough for a frame or an HTTP answer to cross loopback. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Loopback {
  paper: PaperVenue;
  server: PaperVenueServer;
  /** The harness for `venue`, an adapter pointed at `server`; `close` also closes the adapter. */
  harness: (venue: VenuePort & { close(): void }) => VenueContractHarness;
}

export async function startLoopback(setup: VenueContractSetup, seed: number): Promise<Loopback> {
  const clock = new ManualClock(Date.now());
  const paper = openPaperVenue({
    seed,
    clock,
    symbols: { BTCUSDT: { start: 50_000, volatility: 0.0005 } },
    ...(setup.faults === undefined ? {} : { faults: setup.faults }),
    ...(setup.liquidityPerStep === undefined ? {} : { liquidityPerStep: setup.liquidityPerStep }),
  });
  const server = await startPaperVenueServer({
    venue: paper,
    apiKey: LOOPBACK_API_KEY,
    apiSecret: LOOPBACK_API_SECRET,
    wallClock: systemClock,
  });
  return {
    paper,
    server,
    harness: (venue) => ({
      venue,
      symbol: 'BTCUSDT',
      qty: 0.01,
      restingBuyPrice: () => Math.round((paper.price('BTCUSDT') ?? 50_000) * 0.8),
      price: () => paper.price('BTCUSDT') ?? 50_000,
      setPrice: async (price: number) => {
        paper.setPrice('BTCUSDT', price);
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
    }),
  };
}

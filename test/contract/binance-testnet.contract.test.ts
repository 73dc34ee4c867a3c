/**
 * The venue contract against Binance's real USDⓈ-M futures testnet, opt-in: it runs only when
 * KEEL_TESTNET_API_KEY and KEEL_TESTNET_API_SECRET are set (keys from
 * https://testnet.binancefuture.com), and is reported as skipped otherwise — never as passed.
 * Nobody moves a real market or injects its faults, so the tests that need that are skipped by
 * name with the reason; everything else is the same suite the paper venue passes.
 */
import { describe, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock/system.clock.js';
import { BinanceUsdmVenue, BINANCEUSDM_CAPABILITIES } from '../../src/adapters/venue/ccxt/binance.venue.js';
import { runVenueContract } from './venue.contract.js';

const apiKey = process.env.KEEL_TESTNET_API_KEY;
const secret = process.env.KEEL_TESTNET_API_SECRET;
const symbol = process.env.KEEL_TESTNET_SYMBOL ?? 'BTCUSDT';
// Large enough for testnet BTCUSDT's 100 USDT minimum notional at the usual prices.
const qty = Number(process.env.KEEL_TESTNET_QTY ?? '0.002');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

if (!apiKey || !secret) {
  describe('venue contract: Binance USDⓈ-M futures testnet', () => {
    it.skip('needs KEEL_TESTNET_API_KEY and KEEL_TESTNET_API_SECRET (opt-in: real testnet orders)', () =>
      undefined);
  });
} else {
  runVenueContract({
    name: 'Binance USDⓈ-M futures testnet',
    create: async () => {
      const venue = new BinanceUsdmVenue({ apiKey, secret, sandbox: true, clock: systemClock });
      const markets = await venue.loadMarkets();
      if (!markets.ok) throw new Error(`testnet unreachable: ${markets.message}`);
      let last = 0;
      const refresh = async (): Promise<void> => {
        const ticker = await venue.client.call('read', (exchange) =>
          exchange.request('ticker/price', 'fapiPublic', 'GET', { symbol }),
        );
        if (ticker.ok) last = Number((ticker.value as { price: string }).price);
      };
      await refresh();
      return {
        venue,
        symbol,
        qty,
        price: () => last,
        restingBuyPrice: () => Math.round(last * 0.8),
        settle: async (ms: number) => {
          await sleep(Math.max(ms, 250));
          await refresh();
        },
        streamReady: async () => {
          for (let waited = 0; !venue.streamStatus().connected && waited < 10_000; waited += 50)
            await sleep(50);
        },
        cutStream: async () => {
          venue.interruptStream('contract test cut');
          await sleep(50);
        },
        close: async () => {
          // Leave the testnet account as found: nothing open, nothing held.
          const open = await venue.openOrders(symbol);
          if (open.ok) for (const order of open.value) await venue.cancel(symbol, order.clientOrderId);
          const held = await venue.positions();
          if (held.ok) {
            for (const position of held.value.filter((each) => each.symbol === symbol && each.qty !== 0)) {
              await venue.submit({
                clientOrderId: `EX-contract-close-${Date.now()}`,
                symbol,
                side: position.qty > 0 ? 'sell' : 'buy',
                type: 'market',
                qty: Math.abs(position.qty),
                reduceOnly: true,
                closePosition: false,
              });
            }
          }
          venue.close();
        },
      };
    },
    capabilities: BINANCEUSDM_CAPABILITIES,
    skip: [
      {
        reason: 'nobody can move a real market to a price on demand',
        tests: [
          'triggers a reduce-only stop when the price falls through it and fills it under the same clientOrderId',
          'closes the whole position with a close-position stop when the price falls through it',
        ],
      },
      {
        reason: "a real venue's liquidity and faults cannot be injected",
        tests: [
          'fills a market order in parts when liquidity is thin, one trade id per part',
          'answers an injected rejection with HTTP 400 and its code, and registers nothing',
          'answers an execution-unknown submit with HTTP 503, and the order is found afterwards',
          'answers a lost submit timeout with an errno, and the order is not found',
          'answers a rate-limited call with HTTP 429, code -1003 and Retry-After, then takes the retry',
          'lists each fill once in fillsSince although the stream repeats it',
        ],
      },
    ],
  });
}

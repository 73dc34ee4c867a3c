import { describe, expect, it } from 'vitest';
import { nextPrice, parseTickCsv, roundToStep } from '../../../src/adapters/venue/paper/price-feed.js';
import { seededRandom } from '../../../src/adapters/venue/paper/rng.js';
import { SYMBOL, market } from './paper-support.js';

describe('paper price feed', () => {
  it('reads a CSV of ticks, skipping the header and blank lines, sorted by time', () => {
    const ticks = parseTickCsv('ts,symbol,price\n2000,BTCUSDT,101.5\n\n1000,BTCUSDT,100\n');
    expect(ticks).toEqual([
      { ts: 1000, symbol: 'BTCUSDT', price: 100 },
      { ts: 2000, symbol: 'BTCUSDT', price: 101.5 },
    ]);
  });

  it('refuses a CSV line that is not ts,symbol,price', () => {
    expect(() => parseTickCsv('ts,symbol,price\n1000,BTCUSDT,abc')).toThrow(/line 2/);
  });

  it('walks on the tick grid, within the volatility bound, always positive', () => {
    const random = seededRandom(9);
    let price = 100;
    for (let step = 0; step < 500; step += 1) {
      const next = nextPrice({
        symbol: SYMBOL,
        current: price,
        now: step,
        tickSize: 0.1,
        walk: { start: 100, volatility: 0.01 },
        ticks: undefined,
        random,
      });
      expect(next).toBeGreaterThan(0);
      expect(roundToStep(next, 0.1)).toBe(next);
      expect(Math.abs(next - price)).toBeLessThanOrEqual(price * 0.01 + 0.05 + 1e-9);
      price = next;
    }
  });

  it('steps the venue price from recorded ticks as the clock passes them', () => {
    const { venue, advance } = market({
      ticks: parseTickCsv('ts,symbol,price\n1000,BTCUSDT,101\n3000,BTCUSDT,99'),
    });
    advance(1000);
    expect(venue.price(SYMBOL)).toBe(101);
    advance(1000);
    expect(venue.price(SYMBOL)).toBe(101);
    advance(1000);
    expect(venue.price(SYMBOL)).toBe(99);
  });
});

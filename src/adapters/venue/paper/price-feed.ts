/**
 * Where the paper venue's last price comes from: a seeded random walk per symbol, or a CSV of
 * recorded ticks. Invariants: a price is always positive and a multiple of the symbol's tick
 * size; the walk moves only when the venue steps, so the same seed and steps give the same path.
 */
import type { SeededRandom } from './rng.js';

/** A random walk: each step moves the price by at most `volatility` (a fraction, 0.001 = 0.1 %). */
export interface RandomWalk {
  start: number;
  volatility: number;
}

/** One recorded trade price. */
export interface PriceTick {
  ts: number;
  symbol: string;
  price: number;
}

/**
 * Reads `ts,symbol,price` lines (a header line and blank lines are skipped) into ticks sorted by time.
 *
 * @example
 * parseTickCsv('ts,symbol,price\n0,BTCUSDT,100\n1000,BTCUSDT,101');
 */
export function parseTickCsv(text: string): PriceTick[] {
  const ticks: PriceTick[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || (index === 0 && /^ts\b/i.test(line))) continue;
    const [ts, symbol, price] = line.split(',').map((cell) => cell.trim());
    const tsValue = Number(ts);
    const priceValue = Number(price);
    if (!symbol || !Number.isFinite(tsValue) || !(priceValue > 0)) {
      throw new Error(`price CSV line ${index + 1} is not ts,symbol,price: ${line}`);
    }
    ticks.push({ ts: tsValue, symbol, price: priceValue });
  }
  return ticks.sort((left, right) => left.ts - right.ts);
}

/** Rounds to the nearest multiple of `step`, without binary-fraction noise. */
export function roundToStep(value: number, step: number): number {
  if (step <= 0) return value;
  const decimals = Math.max(0, Math.ceil(-Math.log10(step)) + 2);
  return Number((Math.round(value / step) * step).toFixed(decimals));
}

/** The next price of `symbol`: from the CSV when it covers the symbol, else one step of its walk. */
export function nextPrice(args: {
  symbol: string;
  current: number;
  now: number;
  tickSize: number;
  walk: RandomWalk | undefined;
  ticks: readonly PriceTick[] | undefined;
  random: SeededRandom;
}): number {
  const recorded = args.ticks?.filter((tick) => tick.symbol === args.symbol);
  if (recorded && recorded.length > 0) {
    let price = args.current;
    for (const tick of recorded) {
      if (tick.ts > args.now) break;
      price = tick.price;
    }
    return roundToStep(price, args.tickSize);
  }
  const volatility = args.walk?.volatility ?? 0;
  const move = 1 + volatility * (2 * args.random.next() - 1);
  return Math.max(args.tickSize, roundToStep(args.current * move, args.tickSize));
}

/**
 * The intents tests submit: one market entry on the paper venue's BTCUSDT, varied per test.
 */
import type { IntentInput } from '../../src/domain/intent.schema.js';

/**
 * @example
 * await keel.submit(entryIntent({ type: 'limit', price: 40_000 }));
 */
export function entryIntent(overrides: Partial<IntentInput> = {}): IntentInput {
  return {
    strategy_id: 's1',
    bot_id: 'b1',
    client_id: 'c1',
    source: 'library',
    venue: 'paper',
    account: 'main',
    symbol: 'BTCUSDT',
    side: 'buy',
    type: 'market',
    qty: 0.01,
    kind: 'ENTRY',
    ...overrides,
  };
}

/**
 * keel as a library, against the embedded paper venue: one entry filled, one entry blocked by a
 * risk limit, one resting order cancelled. Run it with `npx tsx examples/library/quick-start.ts`
 * (or point it at the built package: `import { createKeel } from 'keel'`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeel } from '../../src/index.js';

const dataDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'keel-quick-start-'));

const keel = await createKeel({
  dataDir,
  venue: { kind: 'paper', seed: 42 },
  risk: { maxNotional: 5_000 },
});
console.log(`recovered: ${JSON.stringify(keel.recovery)}`);

const base = {
  strategy_id: 'quick-start',
  bot_id: 'example',
  client_id: 'me',
  source: 'library',
  venue: 'paper',
  account: 'main',
  symbol: 'BTCUSDT',
  kind: 'ENTRY',
} as const;

// 1. A market entry: registered, sent, filled by the venue.
const sent = await keel.submit({ ...base, side: 'buy', type: 'market', qty: 0.01 });
const filled = await keel.settled(sent.intent_id);
console.log(
  `entry:     ${filled.status} ${filled.order_status} ${filled.filled_qty} (stage ${filled.stage})`,
);

// 2. Too large for the risk limit: FAILED before anything reaches the venue, and it says why.
const blocked = await keel.submit({ ...base, strategy_id: 'other', side: 'buy', type: 'market', qty: 1 });
console.log(`blocked:   ${blocked.status} ${blocked.tag} — ${blocked.reason}`);

// 3. A resting limit order, then cancelled.
const resting = await keel.submit({
  ...base,
  strategy_id: 'maker',
  side: 'buy',
  type: 'limit',
  price: 40_000,
  qty: 0.01,
});
await keel.cancel(resting.intent_id);
const cancelled = await keel.settled(resting.intent_id);
console.log(`cancelled: ${cancelled.status} ${cancelled.order_status} (tag ${cancelled.tag})`);

await keel.close();
console.log(`journal:   ${join(dataDir, 'journal.jsonl')}`);

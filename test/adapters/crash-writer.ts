// Child process for the crash test: registers and transitions intents in concurrent waves and
// prints `ack <n>` only after a write's promise resolved, until the parent kills it.
import { openSqliteStore } from '../../src/adapters/store/sqlite.store.js';
import { eventFor, recordFor } from './store-fixtures.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: crash-writer <dataDir>');
const store = openSqliteStore({ dataDir });
process.stdout.write('ready\n');

for (let wave = 0; ; wave += 1) {
  const numbers = Array.from({ length: 8 }, (_, i) => wave * 8 + i);
  await Promise.all(
    numbers.map(async (n) => {
      await store.register(recordFor(n), eventFor(n, 'intent.received'));
      await store.transition(
        `intent-${n}`,
        { status: 'SENT_TO_BROKER', venueOrderId: `v-${n}`, updatedAt: 2 },
        eventFor(n, 'order.accepted'),
      );
      process.stdout.write(`ack ${n}\n`);
    }),
  );
}

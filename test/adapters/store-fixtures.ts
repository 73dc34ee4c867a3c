// Builders for store tests: a registry record and journal events for one intent, in a temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIntent } from '../../src/domain/intent.schema.js';
import type { JournalEvent, RegistryRecord } from '../../src/ports/store.port.js';

export const intent = parseIntent({
  strategy_id: 'breakout',
  bot_id: 'bot-1',
  client_id: 'desk',
  source: 'api',
  venue: 'paper',
  account: 'main',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  qty: 0.01,
  price: 60000,
  kind: 'ENTRY',
});

/** A CREATED record for intent number `n`; ids are derived from `n` so tests can refer to them. */
export function recordFor(n: number, overrides: Partial<RegistryRecord> = {}): RegistryRecord {
  return {
    intentId: `intent-${n}`,
    correlationId: `corr-${n}`,
    clientOrderId: `k-${n}`,
    status: 'CREATED',
    tag: null,
    venue: 'paper',
    venueOrderId: null,
    intent,
    snapshot: { value: 'idle', n },
    createdAt: 1_000 + n,
    updatedAt: 1_000 + n,
    ...overrides,
  };
}

let eventCounter = 0;

/** A journal event of intent number `n`; every call gets a fresh event id. */
export function eventFor(n: number, type: string, overrides: Partial<JournalEvent> = {}): JournalEvent {
  eventCounter += 1;
  return {
    eventId: `corr-${n}.${String(eventCounter).padStart(6, '0')}`,
    ts: 2_000 + eventCounter,
    correlationId: `corr-${n}`,
    clientOrderId: `k-${n}`,
    type,
    stage: 'test',
    source: 'api',
    reasonCode: null,
    causingEventId: null,
    from: null,
    to: null,
    data: { n },
    ...overrides,
  };
}

/** A fresh temp directory and a function that removes it. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'keel-store-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

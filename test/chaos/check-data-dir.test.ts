/**
 * keel chaos's checker over a data dir after the fact (src/chaos/check-data-dir.ts), as the soak
 * uses it: silent on what a sound keel left, and naming the invariant and the intent for each kind
 * of damage planted in the registry, the journal and the venue's ground truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDataDir } from '../../src/chaos/check-data-dir.js';
import { createKeel } from '../../src/index.js';
import { entryIntent } from '../support/intents.js';

let dir: string;
let dataDir: string;
const acknowledged = new Map<string, string>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-check-'));
  dataDir = join(dir, 'data');
  const keel = await createKeel({
    dataDir,
    venue: { kind: 'paper', seed: 5 },
    protection: { requireStops: false },
  });
  const submit = async (intentId: string, input: Parameters<typeof entryIntent>[0]) => {
    const result = await keel.submit(entryIntent(input), { intentId });
    acknowledged.set(intentId, result.status);
  };
  await submit('long', { strategy_id: 'a' });
  await keel.settled('long');
  await submit('exit', { strategy_id: 'a', kind: 'EXIT', side: 'sell', reduce_only: true });
  await keel.settled('exit');
  await submit('resting', { strategy_id: 'b', type: 'limit', price: 30_000 });
  await keel.cancel('resting');
  await keel.settled('resting');
  await keel.idle();
  await keel.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the checker over a data dir', () => {
  it('finds nothing wrong with what a sound keel left', () => {
    const report = checkDataDir({ dataDir, acknowledged, livePositions: { BTCUSDT: 0 } });
    expect(report.findings).toEqual([]);
    expect(report.intents).toBe(3);
    expect(report.fills).toBe(2);
  });

  it('names the invariant and the intent of every kind of planted damage', () => {
    const keelDb = new Database(join(dataDir, 'keel.db'));
    const filled = keelDb
      .prepare(
        "SELECT journal.* FROM journal JOIN registry USING (correlation_id) WHERE registry.intent_id = 'exit' AND type = 'venue.order.filled'",
      )
      .get() as { correlation_id: string; client_order_id: string; data: string };
    const trade = (JSON.parse(filled.data) as { tradeId: string; qty: number }).tradeId;
    const insert = keelDb.prepare(
      `INSERT INTO journal (event_id, ts, correlation_id, client_order_id, type, stage, source, reason_code,
         causing_event_id, from_state, to_state, data) VALUES (?, 1, ?, ?, ?, 'venue', 'system', NULL, NULL, ?, ?, ?)`,
    );
    // The same trade booked a second time, by a transition that names no cause.
    insert.run(
      'planted.1',
      filled.correlation_id,
      filled.client_order_id,
      'order.fill.booked',
      null,
      null,
      JSON.stringify({ clientOrderId: filled.client_order_id, qty: 0.01, tradeId: trade }),
    );
    insert.run(
      'planted.2',
      filled.correlation_id,
      filled.client_order_id,
      'venue.order.filled',
      'a',
      'b',
      '{}',
    );
    keelDb.prepare("UPDATE registry SET status = 'FAILED', tag = 'CANCELED' WHERE intent_id = 'long'").run();
    keelDb.prepare("UPDATE registry SET tag = 'KILL_SWITCH:operator' WHERE intent_id = 'exit'").run();
    keelDb.prepare("UPDATE registry SET status = 'SENT_TO_BROKER' WHERE intent_id = 'resting'").run();
    keelDb.close();
    // The venue accepting the first order a second time under the same clientOrderId.
    const paperDb = new Database(join(dataDir, 'paper', 'paper-venue.db'));
    const accepted = paperDb.prepare("SELECT body FROM log WHERE kind = 'order.accepted' LIMIT 1").get() as {
      body: string;
    };
    paperDb
      .prepare(
        "INSERT INTO log (position, kind, body, written_in) SELECT max(position) + 1, 'order.accepted', ?, 0 FROM log",
      )
      .run(accepted.body);
    paperDb.close();

    const findings = checkDataDir({
      dataDir,
      acknowledged: new Map([...acknowledged, ['ghost', 'SENT_TO_BROKER']]),
      livePositions: { BTCUSDT: 0.5 },
    }).findings;
    const named = (invariant: string, pattern: RegExp) =>
      findings.some((finding) => finding.invariant === invariant && pattern.test(finding.detail));
    expect(
      named('acknowledged-survives-crash', /^ghost: .*registry has no row/),
      JSON.stringify(findings),
    ).toBe(true);
    expect(named('terminal-within-settle', /^resting \(ENTRY limit\) is still SENT_TO_BROKER/)).toBe(true);
    expect(named('protective-never-blocked', /^exit \(EXIT\) failed KILL_SWITCH:operator/)).toBe(true);
    expect(named('no-double-submit', /^long .*accepted it as a new order more than once/)).toBe(true);
    expect(named('status-matches-venue', /^long .*registry says FAILED .*FILLED/)).toBe(true);
    expect(
      named(
        'registry-equals-journal',
        /^long: the registry has status FAILED, the journal replays to EXECUTED/,
      ),
    ).toBe(true);
    expect(named('transition-has-cause', /^venue\.order\.filled a → b .*names no cause/)).toBe(true);
    expect(named('fills-booked-once', new RegExp(`trade ${trade} is booked 2 times`))).toBe(true);
    expect(
      named('fills-booked-once', /^the journal's booked BTCUSDT position is -0\.01, the venue's is 0$/),
    ).toBe(true);
    expect(named('fills-booked-once', /^keel's BTCUSDT position is 0\.5, the venue's is 0$/)).toBe(true);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/actors/runtime.js';
import { openSqliteStore } from '../../src/adapters/store/sqlite.store.js';
import { openPaperVenue } from '../../src/adapters/venue/paper/paper.venue.js';
import { parseIntent } from '../../src/domain/intent.schema.js';
import { orderIntentMachine } from '../../src/machines/order-intent.machine.js';
import type { Alert } from '../../src/ports/notifier.port.js';
import { entryIntent } from '../support/intents.js';
import { ManualClock } from '../support/manual-clock.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const OPTIONS: RuntimeOptions = {
  mode: 'strict',
  risk: {},
  guard: { oneLiveEntryPerStrategySymbol: false },
  tickMs: 100,
  lingerMs: 0,
  parkAfterMs: 1_000,
  absentAfterMs: 1_000,
  recovery: { orphans: 'report' },
  supervision: { maxRestarts: 2, windowMs: 60_000 },
  errorStorm: { maxErrors: 20, windowMs: 60_000 },
};

const ENTRY = parseIntent(entryIntent());

/** The order-intent machine whose `action` throws the first `failures` times it runs. */
function failingIn(action: 'record acknowledgement' | 'book the fill', failures: number) {
  let thrown = 0;
  return orderIntentMachine.provide({
    actions: {
      [action]: () => {
        if (thrown < failures) {
          thrown += 1;
          throw new Error(`${action} bug #${thrown}`);
        }
      },
    },
  });
}

async function runtimeWith(
  machine: typeof orderIntentMachine,
  escalate?: (escalation: { reason: string; evidence: Record<string, string | number> }) => void,
) {
  const dir = mkdtempSync(join(tmpdir(), 'keel-supervision-'));
  const clock = new ManualClock();
  const store = openSqliteStore({ dataDir: dir });
  const venue = openPaperVenue({ seed: 3, clock });
  const alerts: Alert[] = [];
  const runtime: Runtime = createRuntime(
    {
      venue,
      store,
      clock,
      random: () => 0.5,
      ...(escalate === undefined ? {} : { escalate }),
      notifier: {
        notify: (alert) => {
          alerts.push(alert);
          return Promise.resolve();
        },
      },
    },
    { ...OPTIONS, machine },
  );
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  cleanups.push(() => runtime.close());
  await runtime.start();
  return { runtime, store, venue, clock, alerts };
}

async function settle(runtime: Runtime, clock: ManualClock): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await runtime.idle();
    clock.advance(100);
  }
  await runtime.idle();
}

describe('supervision of intent actors', () => {
  it('restarts an actor whose action threw from its last committed snapshot, and the order still completes', async () => {
    const { runtime, store, venue, clock } = await runtimeWith(failingIn('record acknowledgement', 1));

    await runtime.submit(ENTRY, { intentId: 'i-1' });
    await settle(runtime, clock);

    const record = store.get('i-1');
    expect(record?.status).toBe('EXECUTED');
    const types = store.journal({ correlationId: record!.correlationId }).map((event) => event.type);
    expect(types).toContain('supervision.actor.failed');
    expect(types).toContain('supervision.actor.restarted');
    expect(types).not.toContain('supervision.escalated');
    // Restarting did not resend: the venue holds exactly one order for the intent.
    expect(venue.groundTruth().orders).toHaveLength(1);
    expect(runtime.entryFreeze()).toBeNull();
  });

  it('escalates repeated failures: entries freeze, exits still pass, and the process keeps running', async () => {
    const { runtime, store, clock, alerts } = await runtimeWith(failingIn('book the fill', 1_000));

    await runtime.submit(ENTRY, { intentId: 'i-1' });
    await settle(runtime, clock);

    const record = store.get('i-1');
    const journal = store.journal({ correlationId: record!.correlationId });
    const failures = journal.filter((event) => event.type === 'supervision.actor.failed');
    expect(failures.length).toBeGreaterThan(OPTIONS.supervision.maxRestarts);
    // Bounded: no restart loop once escalated.
    expect(failures.length).toBeLessThanOrEqual(OPTIONS.supervision.maxRestarts + 2);
    expect(journal.map((event) => event.type)).toContain('supervision.escalated');
    expect(alerts.map((alert) => alert.code)).toContain('SUPERVISION_ESCALATED');
    expect(runtime.entryFreeze()?.tag).toBe('KILL_SWITCH:supervision');

    const entry = await runtime.submit(ENTRY, { intentId: 'i-2' });
    expect(entry).toMatchObject({ status: 'FAILED', tag: 'KILL_SWITCH:supervision' });
    const exit = await runtime.submit(
      parseIntent({ ...ENTRY, kind: 'EXIT', side: 'sell', reduce_only: true }),
      {
        intentId: 'i-3',
      },
    );
    expect(exit.status).toBe('SENT_TO_BROKER');
  });

  it('escalates to the kill switch it is given, once per intent, instead of freezing entries itself', async () => {
    const escalations: { reason: string; evidence: Record<string, string | number> }[] = [];
    const { runtime, clock } = await runtimeWith(failingIn('book the fill', 1_000), (escalation) =>
      escalations.push(escalation),
    );

    await runtime.submit(ENTRY, { intentId: 'i-1' });
    await settle(runtime, clock);

    expect(escalations).toHaveLength(1);
    expect(escalations[0]?.evidence).toMatchObject({ intentId: 'i-1' });
    expect(runtime.entryFreeze()).toBeNull();
  });
});

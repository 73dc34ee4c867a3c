/**
 * Exits and cancels are never blocked in any state the supervisors can actually reach (issue 4,
 * Done when). Random walks of debt samples, ticks, trips by every trigger and resets drive the real
 * supervisors (kill switch, belief controller); after every step the guard view they publish must
 * admit a cancel and every kind of protective exit, and admit an entry only when the switch is
 * armed and the knobs allow it. The walks must visit all eight (mode × tripped) states, so the
 * property is not true for want of reaching them. An end-to-end variant submits real exits and a
 * cancel through the runtime after each walk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createRuntime, type RuntimeOptions } from '../../src/actors/runtime.js';
import { createSupervisors, type Supervisors } from '../../src/actors/supervisors.js';
import { openSqliteStore } from '../../src/adapters/store/sqlite.store.js';
import { openPaperVenue } from '../../src/adapters/venue/paper/paper.venue.js';
import { KILL_TRIGGERS, admit, type KillTrigger } from '../../src/domain/admission.js';
import { BELIEF_MODES } from '../../src/domain/belief.js';
import { parseIntent, type IntentKind } from '../../src/domain/intent.schema.js';
import { entryIntent } from '../support/intents.js';
import { ManualClock } from '../support/manual-clock.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Step =
  | { kind: 'sample'; afterMs: number; debtSec: number; debtSymbols: number; mismatchStreak: number }
  | {
      kind: 'hold';
      everyMs: number;
      samples: number;
      debtSec: number;
      debtSymbols: number;
      mismatchStreak: number;
    }
  | { kind: 'tick'; afterMs: number }
  | { kind: 'trip'; trigger: KillTrigger }
  | { kind: 'reset' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('sample' as const),
      afterMs: fc.integer({ min: 0, max: 90_000 }),
      debtSec: fc.integer({ min: 0, max: 1_200 }),
      debtSymbols: fc.integer({ min: 0, max: 12 }),
      mismatchStreak: fc.integer({ min: 0, max: 20 }),
    }),
  },
  // The same debt sampled for a while: modes move on held scores, so walks must hold some. Half the
  // holds sit at a score inside one mode's band (0, 0.6, 1.2, 2.5 with the default weights), the
  // others anywhere: random debt alone rarely stays inside YELLOW's narrow band.
  {
    weight: 4,
    arbitrary: fc
      .record({
        kind: fc.constant('hold' as const),
        everyMs: fc.integer({ min: 5_000, max: 20_000 }),
        samples: fc.integer({ min: 2, max: 12 }),
        debt: fc.oneof(
          fc.record({
            debtSec: fc.integer({ min: 0, max: 900 }),
            debtSymbols: fc.integer({ min: 0, max: 8 }),
            mismatchStreak: fc.integer({ min: 0, max: 10 }),
          }),
          fc.constantFrom(
            { debtSec: 0, debtSymbols: 0, mismatchStreak: 0 },
            { debtSec: 0, debtSymbols: 2, mismatchStreak: 1 },
            { debtSec: 0, debtSymbols: 4, mismatchStreak: 2 },
            { debtSec: 0, debtSymbols: 10, mismatchStreak: 0 },
          ),
        ),
      })
      .map(({ debt, ...hold }) => ({ ...hold, ...debt })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      afterMs: fc.integer({ min: 0, max: 600_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('trip' as const), trigger: fc.constantFrom(...KILL_TRIGGERS) }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

/** Fields an exit may carry: the guard must ignore every one of them. */
const exitFields = fc.record({
  notional: fc.double({ min: 0, max: 1e9, noNaN: true }),
  leverage: fc.double({ min: 1, max: 125, noNaN: true }),
  confidence: fc.double({ min: 0, max: 1, noNaN: true }),
  openOrdersForSymbol: fc.integer({ min: 0, max: 100 }),
  secondsSinceLastEntry: fc.double({ min: 0, max: 1e6, noNaN: true }),
});

function openSupervisors(): { supervisors: Supervisors; clock: ManualClock; close: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'keel-reachable-'));
  dirs.push(dir);
  const store = openSqliteStore({ dataDir: dir });
  const clock = new ManualClock();
  const supervisors = createSupervisors({ store, clock }, { mode: 'strict' });
  return {
    supervisors,
    clock,
    async close() {
      await supervisors.idle();
      supervisors.stop();
      await store.close();
    },
  };
}

async function walk(supervisors: Supervisors, clock: ManualClock, steps: readonly Step[], after: () => void) {
  for (const next of steps) {
    if (next.kind === 'sample') {
      clock.advance(next.afterMs);
      supervisors.sampleDebt(clock.now(), next);
    } else if (next.kind === 'hold') {
      for (let sample = 0; sample < next.samples; sample += 1) {
        clock.advance(next.everyMs);
        supervisors.sampleDebt(clock.now(), next);
        after();
      }
    } else if (next.kind === 'tick') {
      clock.advance(next.afterMs);
      supervisors.tick(clock.now());
    } else if (next.kind === 'trip') {
      await supervisors.tripKillSwitch({ trigger: next.trigger, reason: 'walk', by: 'fast-check' });
    } else {
      await supervisors.resetKillSwitch({ by: 'fast-check', reason: 'walk' });
    }
    after();
  }
}

const PROTECTIVE: Array<{ kind: IntentKind; reduce_only?: boolean; close_position?: boolean }> = [
  { kind: 'SL' },
  { kind: 'TP' },
  { kind: 'EXIT' },
  { kind: 'ENTRY', reduce_only: true },
  { kind: 'SL', close_position: true },
];

describe('the guard in every reachable supervisor state', () => {
  it('admits every cancel and protective exit, and an entry only when armed and within the knobs', async () => {
    const visited = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), exitFields, async (steps, fields) => {
        const { supervisors, clock, close } = openSupervisors();
        try {
          await walk(supervisors, clock, steps, () => {
            const view = supervisors.guardView();
            visited.add(`${view.knobs.mode}/${view.killSwitch.tripped ? 'tripped' : 'armed'}`);
            expect(admit({ action: 'cancel', ...fields }, view).admitted).toBe(true);
            for (const exit of PROTECTIVE)
              expect(admit({ action: 'submit', ...exit, ...fields }, view)).toEqual({
                admitted: true,
                basis: 'protective_exit',
              });
            // The smallest, most confident entry: refused only by the switch or a closed mode.
            const entry = admit(
              {
                action: 'submit',
                kind: 'ENTRY',
                notional: 0,
                leverage: 1,
                confidence: 1,
                openOrdersForSymbol: 0,
              },
              view,
            );
            const expected =
              !view.killSwitch.tripped &&
              view.knobs.allow_entries &&
              view.knobs.max_open_orders_per_symbol > 0 &&
              view.knobs.max_leverage >= 1;
            expect(entry.admitted).toBe(expected);
            if (!entry.admitted && view.killSwitch.tripped)
              expect(entry.tag).toBe(`KILL_SWITCH:${view.killSwitch.trigger}`);
          });
        } finally {
          await close();
        }
      }),
      { numRuns: 150 },
    );
    const all = BELIEF_MODES.flatMap((mode) => [`${mode}/armed`, `${mode}/tripped`]);
    console.log([...visited].sort());
    expect([...visited].sort()).toEqual(all.sort());
  });

  it('lets a reduce-only exit, a stop and a cancel through the runtime after any walk', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const { supervisors, clock, close } = openSupervisors();
        const dir = mkdtempSync(join(tmpdir(), 'keel-reachable-runtime-'));
        dirs.push(dir);
        const store = openSqliteStore({ dataDir: dir });
        const venue = openPaperVenue({ seed: 5, clock });
        const options: RuntimeOptions = {
          mode: 'strict',
          risk: {},
          guard: { oneLiveEntryPerStrategySymbol: false },
          tickMs: 1_000,
          lingerMs: 0,
          parkAfterMs: 60_000,
          absentAfterMs: 10_000,
          recovery: { orphans: 'report' },
          supervision: { maxRestarts: 3, windowMs: 60_000 },
          errorStorm: { maxErrors: 20, windowMs: 60_000 },
        };
        const runtime = createRuntime(
          { venue, store, clock, random: () => 0.5, guardView: () => supervisors.guardView() },
          options,
        );
        try {
          await runtime.start();
          // A position and a resting order exist before the walk, as they would in a live account.
          await venue.submit({
            clientOrderId: 'seed-long',
            symbol: 'BTCUSDT',
            side: 'buy',
            type: 'market',
            qty: 0.05,
            reduceOnly: false,
            closePosition: false,
          });
          const price = venue.price('BTCUSDT') ?? 50_000;
          const resting = await runtime.submit(
            parseIntent(entryIntent({ type: 'limit', price: Math.floor(price * 0.5), qty: 0.001 })),
          );
          await walk(supervisors, clock, steps, () => undefined);
          const view = supervisors.guardView();
          const exit = await runtime.submit(
            parseIntent(entryIntent({ kind: 'EXIT', side: 'sell', qty: 0.01, reduce_only: true })),
          );
          const stop = await runtime.submit(
            parseIntent(
              entryIntent({
                kind: 'SL',
                side: 'sell',
                type: 'stop_market',
                qty: 0.01,
                stop_price: Math.floor(price * 0.8),
                reduce_only: true,
              }),
            ),
          );
          const canceled = resting.status === 'FAILED' ? null : await runtime.cancel(resting.intent_id);
          for (const result of [exit, stop, ...(canceled ? [canceled] : [])]) {
            expect(result.tag ?? '', `${view.knobs.mode} ${JSON.stringify(view.killSwitch)}`).not.toMatch(
              /^(KILL_SWITCH|GUARD_BLOCKED|RISK_BLOCKED|RECONCILE_BLOCKED):/,
            );
          }
        } finally {
          await runtime.close();
          await store.close();
          await close();
        }
      }),
      { numRuns: 15 },
    );
  });
});

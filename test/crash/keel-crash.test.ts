// keel's crash test (issue 3): a child keel is killed with SIGKILL at planned points of a stream of
// intents against a persisted paper venue with faults on, restarted each time, then recovered once
// more; the registry, the journal and the venue's ground truth must agree with what was acknowledged.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openSqliteStore, readJournalReadOnly } from '../../src/adapters/store/sqlite.store.js';
import { readPaperState } from '../../src/adapters/venue/paper/paper.store.js';
import { clientOrderIdsAcceptedTwice, openPaperVenue } from '../../src/adapters/venue/paper/paper.venue.js';
import { replayJournal } from '../../src/domain/registry-replay.js';
import type { JournalEvent } from '../../src/ports/store.port.js';
import {
  MIN_GAP,
  crashSteps,
  indexOfIntentId,
  parseChildLine,
  planKills,
  type ChildLine,
  type CrashChildArgs,
  type KillPoint,
} from '../support/crash-plan.js';
import {
  ackedButMissing,
  ackedButNotDurable,
  differencesFromReplay,
  disagreementsWithVenue,
  duplicateSubmissions,
  registryViewOf,
  type RegistryView,
  type ResultView,
} from '../support/crash-truth.js';
import { ManualClock } from '../support/manual-clock.js';

const SEED = Number(process.env.KEEL_CRASH_SEED ?? 20_261_122);
const INTENTS = 200;
const KILL_PLAN = { intents: INTENTS, afterAck: 22, duringStartup: 3, maxDelayMs: 25 };
const CHILD = fileURLToPath(new URL('../support/crash-child.ts', import.meta.url));
/** A child that neither finishes nor reaches its kill point in this time is hung: a failure, not a wait. */
const CHILD_TIMEOUT_MS = 20_000;

interface ChildRun {
  lines: ChildLine[];
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
  hung: boolean;
}

/** Runs one child to its end, killing it with SIGKILL at `kill` (if given). */
function runChild(args: CrashChildArgs, kill: KillPoint | undefined): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: ChildLine[] = [];
    let stderr = '';
    let buffered = '';
    let killScheduled = false;
    let hung = false;
    let killed = false;
    const killNow = (): void => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const killAfter = (delayMs: number): void => {
      if (killScheduled) return;
      killScheduled = true;
      if (delayMs === 0) killNow();
      else setTimeout(killNow, delayMs);
    };
    const watchdog = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const text of parts) {
        const line = parseChildLine(text);
        lines.push(line);
        if (kill?.kind === 'during-startup') {
          // At the latest when recovery is over: the kill is meant for restore → reconcile.
          if (line.kind === 'starting') killAfter(kill.delayMs);
          if (line.kind === 'ready') killNow();
        }
        if (kill?.kind === 'after-ack' && line.kind === 'ack') {
          const index = indexOfIntentId(line.intentId) ?? -1;
          if (index >= kill.index) killAfter(kill.delayMs);
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      resolve({ lines, signal, code, stderr, hung });
    });
  });
}

function describeRun(run: ChildRun): string {
  const tail = run.stderr.split('\n').slice(-30).join('\n');
  return `code ${String(run.code)}, signal ${String(run.signal)}, hung ${run.hung}; stderr:\n${tail}`;
}

/** The registry and journal a finished run left, read after its last child closed the store. */
async function readStore(dataDir: string): Promise<{ registry: RegistryView[]; journal: JournalEvent[] }> {
  const store = openSqliteStore({ dataDir });
  try {
    return { registry: store.list().map(registryViewOf), journal: store.readJournal() };
  } finally {
    await store.close();
  }
}

function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'keel-crash-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describe(`keel's crash plan (seed ${SEED})`, () => {
  it('plans the same steps and kill points for the same seed, and different ones for another', () => {
    expect(crashSteps(SEED, INTENTS)).toEqual(crashSteps(SEED, INTENTS));
    expect(planKills(SEED, KILL_PLAN)).toEqual(planKills(SEED, KILL_PLAN));
    expect(planKills(SEED + 1, KILL_PLAN)).not.toEqual(planKills(SEED, KILL_PLAN));
  });

  it('plans at least 20 kills after an ACK, increasing and spaced, ending before the stream does', () => {
    for (const seed of [SEED, 1, 2, 3, 99]) {
      const points = planKills(seed, KILL_PLAN).flatMap((point) =>
        point.kind === 'after-ack' ? [point.index] : [],
      );
      expect(points.length, `seed ${seed}`).toBeGreaterThanOrEqual(20);
      for (let n = 1; n < points.length; n += 1) {
        expect((points[n] ?? 0) - (points[n - 1] ?? 0), `seed ${seed}`).toBeGreaterThanOrEqual(MIN_GAP);
      }
      expect(points.at(-1) ?? INTENTS, `seed ${seed}`).toBeLessThan(INTENTS - MIN_GAP);
    }
  });

  it('mixes markets, limits, an exit and cancels of earlier limits, each with its own strategy', () => {
    const steps = crashSteps(SEED, INTENTS);
    const shapes = new Set(steps.map((step) => step.shape));
    expect([...shapes].sort()).toEqual(
      ['far-limit', 'market', 'marketable-limit', 'near-limit', 'reduce-only-exit'].sort(),
    );
    const cancels = steps.flatMap((step) => step.cancels.map((target) => ({ at: step.index, target })));
    expect(cancels.length).toBeGreaterThan(10);
    for (const { at, target } of cancels) {
      const targetStep = steps[indexOfIntentId(target) ?? -1];
      expect(targetStep?.index).toBeLessThan(at);
      expect(targetStep?.input.type).toBe('limit');
    }
    expect(new Set(steps.map((step) => step.input.strategy_id)).size).toBe(INTENTS);
  });
});

describe('the crash test verdicts', () => {
  it('finds every disagreement between a registry and the paper venue state it left on disk', async () => {
    const { dir, remove } = tempDir();
    try {
      const clock = new ManualClock();
      const venue = openPaperVenue({ seed: 1, clock, dataDir: dir });
      const base = { symbol: 'BTCUSDT', reduceOnly: false, closePosition: false, qty: 0.001 } as const;
      await venue.submit({ ...base, clientOrderId: 'EN-filled', side: 'buy', type: 'market' });
      await venue.submit({ ...base, clientOrderId: 'EN-resting', side: 'buy', type: 'limit', price: 40_000 });
      await venue.submit({
        ...base,
        clientOrderId: 'EN-canceled',
        side: 'buy',
        type: 'limit',
        price: 40_000,
      });
      await venue.cancel('BTCUSDT', 'EN-canceled');
      await venue.submit({ ...base, clientOrderId: 'EN-stray', side: 'sell', type: 'limit', price: 60_000 });
      const state = readPaperState(dir);
      if (!state) throw new Error('the paper venue wrote no state file');
      const venueOrderId = (clientOrderId: string): string =>
        state.orders.find((order) => order.clientOrderId === clientOrderId)?.venueOrderId ?? '?';

      const agreeing: RegistryView[] = [
        { intentId: 'i-0', clientOrderId: 'EN-filled', status: 'EXECUTED', tag: null, venueOrderId: null },
        {
          intentId: 'i-1',
          clientOrderId: 'EN-resting',
          status: 'SENT_TO_BROKER',
          tag: null,
          venueOrderId: venueOrderId('EN-resting'),
        },
        {
          intentId: 'i-2',
          clientOrderId: 'EN-canceled',
          status: 'FAILED',
          tag: 'CANCELED',
          venueOrderId: null,
        },
        {
          intentId: 'i-3',
          clientOrderId: 'EN-never',
          status: 'FAILED',
          tag: 'VENUE_REJECTED',
          venueOrderId: null,
        },
        {
          intentId: 'i-4',
          clientOrderId: 'EN-stray',
          status: 'SENT_TO_BROKER',
          tag: null,
          venueOrderId: null,
        },
      ];
      const results = new Map<string, ResultView>([
        ['i-0', { intent_id: 'i-0', status: 'EXECUTED', filled_qty: 0.001 }],
        ['i-2', { intent_id: 'i-2', status: 'FAILED', filled_qty: 0 }],
      ]);
      expect(disagreementsWithVenue(agreeing, state.orders, results)).toEqual([]);

      const wrong: RegistryView[] = [
        { ...agreeing[0]!, status: 'SENT_TO_BROKER' },
        { ...agreeing[1]!, venueOrderId: 'v-999' },
        { ...agreeing[2]!, status: 'EXECUTED' },
        { ...agreeing[3]!, status: 'SENT_TO_BROKER' },
      ];
      const wrongResults = new Map<string, ResultView>([
        ['i-0', { intent_id: 'i-0', status: 'SENT_TO_BROKER', filled_qty: 0 }],
      ]);
      const problems = disagreementsWithVenue(wrong, state.orders, wrongResults);
      expect(problems).toEqual([
        expect.stringMatching(/^i-0 .*registry says SENT_TO_BROKER.*FILLED.*expected EXECUTED/),
        expect.stringMatching(/^i-0 .*filled_qty 0, but the venue has it FILLED/),
        expect.stringMatching(/^i-1 .*venueOrderId v-999/),
        expect.stringMatching(/^i-2 .*registry says EXECUTED.*CANCELED.*expected FAILED/),
        expect.stringMatching(/^i-3 .*registry says SENT_TO_BROKER.*never accepted it; expected FAILED/),
        expect.stringMatching(/^clientOrderId EN-stray: .*no registered intent owns it/),
      ]);
    } finally {
      remove();
    }
  });

  it('names acknowledged intents missing from the registry', () => {
    expect(ackedButMissing(['i-1', 'i-2', 'i-3'], new Set(['i-1', 'i-3']))).toEqual([
      'i-2: its submit was acknowledged, but the registry has no row for it',
    ]);
  });

  it('names acknowledged intents the journal shows less far along than their ACK', () => {
    const acked = new Map([
      ['i-1', 'SENT_TO_BROKER'],
      ['i-2', 'SENT_TO_BROKER'],
      ['i-3', 'EXECUTED'],
      ['i-4', 'FAILED'],
      ['i-5', 'SENT_TO_BROKER'],
      ['i-6', 'CREATED'],
    ]);
    const journal = new Map([
      ['i-1', { status: 'EXECUTED' }],
      ['i-2', { status: 'CREATED' }],
      ['i-3', { status: 'SENT_TO_BROKER' }],
      ['i-4', { status: 'FAILED' }],
    ]);
    expect(ackedButNotDurable(acked, journal)).toEqual([
      'i-2: its submit was acknowledged as SENT_TO_BROKER, but the journal says CREATED',
      'i-3: its submit was acknowledged as EXECUTED, but the journal says SENT_TO_BROKER',
      'i-6: its submit resolved as CREATED, before the blockers decided',
    ]);
  });

  it('names a clientOrderId the venue accepted twice with the intent that owns it', () => {
    const log = [
      { kind: 'order.accepted', clientOrderId: 'EN-a', venueOrderId: '1', symbol: 'BTCUSDT', ts: 1 },
      { kind: 'order.accepted', clientOrderId: 'EN-b', venueOrderId: '2', symbol: 'BTCUSDT', ts: 2 },
      { kind: 'order.accepted', clientOrderId: 'EN-a', venueOrderId: '3', symbol: 'BTCUSDT', ts: 3 },
    ] as const;
    const registry: RegistryView[] = [
      { intentId: 'i-7', clientOrderId: 'EN-a', status: 'EXECUTED', tag: null, venueOrderId: '3' },
    ];
    expect(duplicateSubmissions(clientOrderIdsAcceptedTwice(log), registry)).toEqual([
      'i-7 (clientOrderId EN-a): the venue accepted it as a new order more than once',
    ]);
  });

  it('finds registry rows that a replay of the journal does not reproduce', () => {
    const row: RegistryView = {
      intentId: 'i-1',
      clientOrderId: 'EN-a',
      status: 'EXECUTED',
      tag: null,
      venueOrderId: '5',
    };
    const replayed = new Map([
      ['i-1', { ...row, correlationId: 'c-1', venue: 'paper', status: 'SENT_TO_BROKER' as const }],
      ['i-2', { ...row, intentId: 'i-2', correlationId: 'c-2', venue: 'paper', status: 'FAILED' as const }],
    ]);
    expect(differencesFromReplay([row], replayed)).toEqual([
      'i-1: the registry has status EXECUTED, the journal replays to SENT_TO_BROKER',
      'i-2: the journal creates it, but the registry has no row for it',
    ]);
    expect(differencesFromReplay([row, { ...row, intentId: 'i-3' }], new Map())).toHaveLength(2);
  });
});

describe(`keel killed with SIGKILL during a stream of ${INTENTS} intents with faults on (seed ${SEED}; set KEEL_CRASH_SEED to replay another)`, () => {
  it('keeps every acknowledged intent, never resends a clientOrderId, and resolves every intent to the venue truth', async () => {
    const { dir, remove } = tempDir();
    const dataDir = join(dir, 'keel');
    const paperDir = join(dir, 'paper');
    const common = { seed: SEED, dataDir, paperDir, count: INTENTS, settleTimeoutMs: 15_000 };
    const acked = new Map<string, string>();
    const failures: string[] = [];
    const history: string[] = [];
    let next = 0;
    let kills = 0;
    let passed = false;
    let reconciled = 0;
    const runFailure = (message: string): Error =>
      new Error(`${message}\nseed ${SEED}; run data kept in ${dir}\n${history.join('\n')}`);
    try {
      const absorb = (run: ChildRun): void => {
        for (const line of run.lines) {
          if (line.kind !== 'ack') continue;
          acked.set(line.intentId, line.status);
          next = Math.max(next, (indexOfIntentId(line.intentId) ?? -1) + 1);
        }
      };

      for (const [n, point] of planKills(SEED, KILL_PLAN).entries()) {
        const from = next;
        const exact = point.kind === 'after-ack' && point.delayMs === 0;
        const run = await runChild(
          { ...common, mode: 'run', from, ...(exact ? { killAtAck: point.index } : {}) },
          exact ? undefined : point,
        );
        absorb(run);
        const ready = run.lines.find((line) => line.kind === 'ready');
        if (ready?.kind === 'ready')
          reconciled += (JSON.parse(ready.detail) as { reconciled: number }).reconciled;
        history.push(
          `run ${n} from i-${from} (${JSON.stringify(point)}): acked up to i-${next - 1}; recovery ${ready?.kind === 'ready' ? ready.detail : 'not reached'}`,
        );
        if (run.signal !== 'SIGKILL' || run.hung) {
          throw runFailure(
            `child ${n} (${JSON.stringify(point)}) did not die by the planned kill: ${describeRun(run)}`,
          );
        }
        kills += 1;
        // What was acknowledged is on disk the moment the process dies, before any restart.
        const replayed = replayJournal(readJournalReadOnly(join(dataDir, 'keel.db')));
        for (const problem of [
          ...ackedButMissing(acked.keys(), new Set(replayed.keys())),
          ...ackedButNotDurable(acked, replayed),
        ]) {
          failures.push(`after kill ${n}: ${problem}`);
        }
      }

      const last = await runChild({ ...common, mode: 'run', from: next }, undefined);
      absorb(last);
      if (last.code !== 0 || !last.lines.some((line) => line.kind === 'end')) {
        throw runFailure(`the stream's last child did not finish cleanly: ${describeRun(last)}`);
      }

      const recovery = await runChild({ ...common, mode: 'recover', from: INTENTS }, undefined);
      if (recovery.code !== 0 || !recovery.lines.some((line) => line.kind === 'closed')) {
        throw runFailure(`the recovery child did not close cleanly: ${describeRun(recovery)}`);
      }
      for (const line of recovery.lines) {
        if (line.kind === 'unsettled') failures.push(`still in flight after recovery: ${line.detail}`);
      }
      const results = new Map<string, ResultView>();
      for (const line of recovery.lines) {
        if (line.kind !== 'result') continue;
        const result = line.result as ResultView;
        // A terminal result cannot change before close; a live one may fill in between.
        if (result.status === 'EXECUTED' || result.status === 'FAILED') results.set(result.intent_id, result);
      }

      const { registry, journal } = await readStore(dataDir);
      const venue = readPaperState(paperDir);
      if (!venue) throw runFailure('the paper venue left no state file');

      failures.push(...ackedButMissing(acked.keys(), new Set(registry.map((row) => row.intentId))));
      failures.push(...duplicateSubmissions(clientOrderIdsAcceptedTwice(venue.log), registry));
      failures.push(...disagreementsWithVenue(registry, venue.orders, results));
      failures.push(...differencesFromReplay(registry, replayJournal(journal)));

      expect(kills).toBeGreaterThanOrEqual(20);
      expect(reconciled, 'the kills left in-flight intents for recovery to reconcile').toBeGreaterThan(0);
      expect(acked.size, 'every planned intent was acknowledged by some child').toBe(INTENTS);
      expect(failures, `seed ${SEED}; run data kept in ${dir}\n${history.join('\n')}`).toEqual([]);
      passed = true;
    } finally {
      // A failed run keeps its data dirs: `keel replay` and the paper state file explain it.
      if (passed) remove();
    }
  }, 150_000);
});

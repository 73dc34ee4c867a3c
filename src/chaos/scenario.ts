/**
 * One chaos scenario: keel (SQLite store in a temporary directory) trades the paper venue while the
 * planned faults fire and the planned actions run; then the faults stop, every live order is
 * cancelled and positions are flattened, keel is given a bounded time to settle, and the
 * independent checker compares keel's registry and journal with the venue's ground truth. With
 * crashes planned, an instance is killed (severed: see sever.ts) and a new one recovers from the
 * same directory, as `keel run` would after a SIGKILL. Where the venue is and whose time it runs on
 * is the rig's (rig.ts): in process on simulated time, or over loopback sockets through the
 * network fault proxy on the wall clock.
 * Invariants: in process, nothing here reads the wall clock or Math.random — the scenario is a
 * function of its plan; on either rig every violation names its invariant and the intent it concerns.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteStore } from '../adapters/store/sqlite.store.js';
import { clientOrderIdsAcceptedTwice } from '../adapters/venue/paper/paper.venue.js';
import { createKeel, type Keel, type KeelConfigInput } from '../config/create-keel.js';
import type { IntentResult } from '../domain/intent-result.schema.js';
import { replayJournal } from '../domain/registry-replay.js';
import type { RegistryRecord } from '../ports/store.port.js';
import type { VenuePort } from '../ports/venue.port.js';
import { scenarioSeed, seededRandom, type ChaosScenarioPlan } from './plan.js';
import { openNetworkRig, openPaperRig, type ChaosRig } from './rig.js';
import { lifeline, severableVenue, type Lifeline } from './sever.js';
import {
  differencesFromReplay,
  disagreementsWithVenue,
  duplicateSubmissions,
  registryViewOf,
  type ResultView,
} from './truth.js';

export const CHAOS_INVARIANTS = [
  'no-double-submit',
  'terminal-within-settle',
  'status-matches-venue',
  'fills-booked-once',
  'protective-never-blocked',
  'registry-equals-journal',
  'transition-has-cause',
  'acknowledged-survives-crash',
] as const;

export type ChaosInvariant = (typeof CHAOS_INVARIANTS)[number];

export interface ChaosViolation {
  scenario: number;
  invariant: ChaosInvariant;
  detail: string;
}

export interface ChaosScenarioResult {
  scenario: number;
  intents: number;
  faultsInjected: number;
  /** The faults that fired, by kind (paper venue and network). */
  faultsByKind: Record<string, number>;
  crashes: number;
  violations: ChaosViolation[];
}

export interface ChaosScenarioOptions {
  /**
   * Run keel's Binance adapter against `keel paper-venue`'s server over loopback, through the
   * network fault proxy, on the wall clock (the plan needs its network faults: `network: true`).
   */
  network?: boolean;
  /** Time keel gets to settle once the faults stop (default 120 s simulated; 15 s real over the network). */
  settleMs?: number;
  /** Keeps the scenario's data directory (for `keel replay`), and says where. */
  keepDir?: boolean;
  /**
   * A deliberately broken keel, for the checker's own test: with `lookup-before-resend-disabled`
   * every lookup by clientOrderId answers "unknown", so keel resends what may have landed.
   */
  breakage?: 'lookup-before-resend-disabled';
}

/** Tags that mean a guard stopped an order: a protective exit must never carry one. */
const BLOCKED_TAG = /^(KILL_SWITCH|RISK_BLOCKED|BELIEF_|GUARD_|MODE_)/;
const TERMINAL = new Set(['EXECUTED', 'FAILED']);
const QTY_EPSILON = 1e-9;

/** keel's believed BTCUSDT position, signed (short below zero). */
function keelPosition(keel: Keel): number {
  const local = keel.beliefs().find((belief) => belief.symbol === 'BTCUSDT')?.local ?? null;
  return local === null ? 0 : local.side === 'long' ? local.qty : -local.qty;
}

interface Instance {
  keel: Keel;
  store: SqliteStore;
  line: Lifeline;
}

/**
 * Runs one planned scenario and checks it.
 *
 * @example
 * const result = await runScenario(planScenario(7, 0, { intents: 12, faults: CHAOS_FAULT_KINDS, crash: true }));
 */
export async function runScenario(
  plan: ChaosScenarioPlan,
  options: ChaosScenarioOptions = {},
): Promise<ChaosScenarioResult & { dataDir?: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-chaos-'));
  const seed = scenarioSeed(plan.seed, plan.scenario);
  let rig: ChaosRig | null = null;
  const violations: ChaosViolation[] = [];
  const flag = (invariant: ChaosInvariant, detail: string): void => {
    violations.push({ scenario: plan.scenario, invariant, detail });
  };
  const acked = new Map<string, string>();
  const submitted = new Set<string>();
  let crashes = 0;
  let instance: Instance | null = null;

  async function open(on: ChaosRig): Promise<Instance> {
    const line = lifeline();
    const store = openSqliteStore({ dataDir: dir });
    const made = on.instance(line);
    const view = made instanceof Promise ? await made : made;
    const config: KeelConfigInput = {
      dataDir: dir,
      mode: 'lenient',
      guard: { oneLiveEntryPerStrategySymbol: true },
      retry: { baseDelayMs: 20, maxDelayMs: 200, maxElapsedMs: 3_000 },
      tickMs: 100,
      lingerMs: 500,
      absentAfterMs: 1_000,
      recovery: { orphans: 'report' },
      errorStorm: { maxErrors: 100_000, windowMs: 60_000 },
      ...view.config,
    };
    if (view.warmUp) await on.drive(view.warmUp.catch(() => undefined));
    const keel = await on.drive(
      createKeel(config, {
        clock: view.clock,
        venue: severableVenue(options.breakage === undefined ? view.venue : blindLookups(view.venue), line),
        store,
        random: seededRandom(seed ^ 0xc4a05),
      }),
    );
    if (!keel) throw new Error(`scenario ${plan.scenario}: keel did not start within a minute`);
    return { keel, store, line };
  }

  try {
    rig = options.network ? await openNetworkRig(plan) : openPaperRig(plan);
    const { paper, clock, drive } = rig;
    instance = await open(rig);
    for (const action of plan.actions) {
      await rig.advanceTo(rig.planTime(action.at));
      const { keel } = instance;
      switch (action.kind) {
        case 'submit': {
          submitted.add(action.intentId);
          const result = await drive(
            keel.submit(action.input, { intentId: action.intentId }).catch(() => null),
          );
          if (result) acked.set(action.intentId, result.status);
          break;
        }
        case 'cancel': {
          const wasLive = isLive(keel.get(action.intentId));
          const result = await drive(keel.cancel(action.intentId).catch(() => null));
          if (wasLive && result && isBlocked(result)) {
            flag('protective-never-blocked', `cancel of ${action.intentId} was refused: ${describe(result)}`);
          }
          break;
        }
        case 'replace':
          await drive(keel.replace(action.intentId, action.qty).catch(() => null));
          break;
        case 'trip':
          await drive(keel.killSwitch.trip({ reason: 'chaos', by: 'keel-chaos' }).catch(() => null));
          break;
        case 'reset':
          await drive(keel.killSwitch.reset({ reason: 'chaos', by: 'keel-chaos' }).catch(() => null));
          break;
        case 'crash': {
          crashes += 1;
          instance.line.sever();
          instance.store.abandon();
          rig.killed();
          instance = await open(rig);
          for (const [intentId, status] of acked) {
            if (instance.store.get(intentId) === null) {
              flag(
                'acknowledged-survives-crash',
                `${intentId} was acknowledged (${status}) but is gone after restart ${crashes}`,
              );
            }
          }
          break;
        }
      }
    }

    // The storm is over: a well-behaved venue, every live order cancelled, positions flattened.
    await rig.advanceTo(rig.planTime(plan.faultsEndAt));
    rig.calm();
    const { keel, store } = instance;
    const deadline = clock.now() + (options.settleMs ?? rig.settleMs);
    for (let round = 0; clock.now() < deadline; round += 1) {
      const live = store.list().filter((row) => !TERMINAL.has(row.status));
      const position = paper.groundTruth().positions.find((each) => each.symbol === 'BTCUSDT')?.qty ?? 0;
      // Settled means keel's belief has caught up too: its reconcile loop is part of what is timed.
      if (live.length === 0 && Math.abs(position) < QTY_EPSILON && Math.abs(keelPosition(keel)) < QTY_EPSILON)
        break;
      for (const row of live) {
        const wasLive = isLive(keel.get(row.intentId));
        const result = await drive(
          keel.cancel(row.intentId).catch(() => null),
          10_000,
        );
        if (wasLive && result && isBlocked(result)) {
          flag('protective-never-blocked', `cancel of ${row.intentId} was refused: ${describe(result)}`);
        }
      }
      if (Math.abs(position) >= QTY_EPSILON) {
        await drive(
          keel
            .submit(
              {
                strategy_id: `chaos-flatten-${round}`,
                bot_id: 'chaos-bot',
                client_id: 'keel-chaos',
                source: 'library',
                venue: 'paper',
                account: 'main',
                symbol: 'BTCUSDT',
                side: position > 0 ? 'sell' : 'buy',
                type: 'market',
                qty: Math.abs(position),
                reduce_only: true,
                kind: 'EXIT',
              },
              { intentId: `chaos-${plan.scenario}-flatten-${round}` },
            )
            .catch(() => null),
          10_000,
        );
      }
      await rig.advanceTo(Math.min(deadline, clock.now() + rig.settleRoundMs));
    }
    await drive(keel.idle(), 10_000);
    await rig.advanceTo(clock.now() + rig.settleRoundMs);

    const registry = store.list();
    const results = new Map<string, ResultView>();
    for (const row of registry) {
      const result = keel.get(row.intentId);
      if (result && TERMINAL.has(result.status)) results.set(row.intentId, result);
      if (!TERMINAL.has(row.status)) {
        flag(
          'terminal-within-settle',
          `${row.intentId} (${row.intent.kind} ${row.intent.type}) is still ${row.status}${result ? ` in ${result.state}` : ''} after the settle bound`,
        );
      }
      if (isProtective(row) && row.tag !== null && BLOCKED_TAG.test(row.tag)) {
        flag('protective-never-blocked', `${row.intentId} (${row.intent.kind}) failed ${row.tag}`);
      }
    }
    const truth = paper.groundTruth();
    const views = registry.map(registryViewOf);
    for (const detail of duplicateSubmissions(clientOrderIdsAcceptedTwice(truth.log), views))
      flag('no-double-submit', detail);
    for (const detail of disagreementsWithVenue(views, truth.orders, results)) {
      flag(/filled_qty/.test(detail) ? 'fills-booked-once' : 'status-matches-venue', detail);
    }
    const journal = store.readJournal();
    for (const detail of differencesFromReplay(views, replayJournal(journal)))
      flag('registry-equals-journal', detail);
    for (const event of journal) {
      // A transition (not a sample that stayed put) must say what caused it: an event or a reason.
      const moved = event.to !== null && event.from !== null && event.from !== event.to;
      if (moved && event.causingEventId === null && event.reasonCode === null) {
        flag(
          'transition-has-cause',
          `${event.type} ${event.from} → ${event.to} (source ${event.source}, stage ${event.stage}, clientOrderId ${event.clientOrderId ?? '-'}) names no cause`,
        );
      }
    }
    const venueQty = truth.positions.find((each) => each.symbol === 'BTCUSDT')?.qty ?? 0;
    const keelQty = keelPosition(keel);
    if (Math.abs(keelQty - venueQty) > QTY_EPSILON) {
      flag('fills-booked-once', `keel's BTCUSDT position is ${keelQty}, the venue's is ${venueQty}`);
    }
    const faultsByKind = rig.faultCounts();
    const faultsInjected = Object.values(faultsByKind).reduce((sum, count) => sum + count, 0);
    return {
      scenario: plan.scenario,
      intents: submitted.size,
      faultsInjected,
      faultsByKind,
      crashes,
      violations,
      ...(options.keepDir ? { dataDir: dir } : {}),
    };
  } finally {
    if (rig && instance)
      await rig
        .drive(
          instance.keel.close().catch(() => undefined),
          10_000,
        )
        .catch(() => undefined);
    await rig?.close();
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The venue with every lookup by clientOrderId answering "unknown" (the broken build). */
function blindLookups(venue: VenuePort): VenuePort {
  return {
    capabilities: venue.capabilities,
    submit: (order) => venue.submit(order),
    cancel: (symbol, clientOrderId) => venue.cancel(symbol, clientOrderId),
    replace: (order) => venue.replace(order),
    queryOrder: () => Promise.resolve({ ok: true, value: null }),
    openOrders: (symbol) => venue.openOrders(symbol),
    positions: () => venue.positions(),
    fillsSince: (sinceTs, symbol) => venue.fillsSince(sinceTs, symbol),
    subscribe: (onMessage) => venue.subscribe(onMessage),
  };
}

function isProtective(row: RegistryRecord): boolean {
  return row.intent.kind !== 'ENTRY' || row.intent.reduce_only;
}

function isLive(result: IntentResult | null): boolean {
  return result !== null && !TERMINAL.has(result.status);
}

function isBlocked(result: IntentResult): boolean {
  return result.tag !== null && BLOCKED_TAG.test(result.tag) && result.status === 'FAILED';
}

function describe(result: IntentResult): string {
  return `${result.status} ${result.tag ?? ''} ${result.reason ?? ''}`.trim();
}

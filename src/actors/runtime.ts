/**
 * The execution runtime: the register-first pipeline (reference 003) over order-intent root actors.
 * Invariants: an intent is registered CREATED, durably, before anything else happens to it, once per
 * intent id; a blocked intent ends FAILED with a tag naming its blocker; SENT_TO_BROKER is on disk
 * before the venue is called (every command waits for the transition that emitted it to commit);
 * only venue evidence (acks, fills with trade ids, statuses) moves an order to EXECUTED; every
 * transition is journaled with its cause; an actor that throws is restarted from its last committed
 * snapshot and repeated failures escalate, never taking the process down; start-up and crash
 * recovery are one path: restore every intent not yet finalized (DONE), lingering ones included →
 * reconcile with the venue by clientOrderId and re-read their fills by trade id → run.
 */
import type { SnapshotFrom } from 'xstate';
import {
  createCheckedActor,
  describeState,
  type Anomaly,
  type CheckedActor,
  type LifecycleMode,
} from './checked-actor.js';
import {
  createRouter,
  isRouterReport,
  toIntentEvent,
  type LookupOutcome,
  type Router,
  type RouterEvent,
} from './router.js';
import { admit, type KillSwitchView } from '../domain/admission.js';
import type { GuardKnobs } from '../domain/belief.js';
import { z } from 'zod';
import { ERROR_CODES, KeelError } from '../domain/errors.js';
import { parseOrThrow } from '../domain/parse.js';
import { clientOrderIdFor, eventIdFor, newCorrelationId } from '../domain/ids.js';
import { isProtectiveExit, type Intent } from '../domain/intent.schema.js';
import { makeIntentResult, type IntentResult } from '../domain/intent-result.schema.js';
import { buildPnlSnapshot, type PnlSnapshot } from '../domain/pnl-snapshot.schema.js';
import {
  applyFill as applyPortfolioFill,
  emptyPortfolio,
  realizedPnlOfFill,
  type Portfolio,
  type PortfolioFill,
} from '../domain/portfolio.js';
import type { Position } from '../domain/position.js';
import type { RetryPolicy } from '../domain/retry-policy.js';
import {
  checkExecutionGuard,
  checkRisk,
  utcDayStart,
  type BlockDecision,
  type ExecutionGuard,
  type RiskLimits,
} from '../domain/risk.js';
import type { OrderErrorVerdict } from '../domain/order-error.schema.js';
import type { VenueEvent } from '../domain/venue-event.schema.js';
import {
  orderIntentMachine,
  type OrderIntentEmitted,
  type OrderIntentEvent,
  type OrderIntentLimits,
} from '../machines/order-intent.machine.js';
import { registryViewOf, type RegistryView } from '../machines/order-intent.status.js';
import type { ClockPort } from '../ports/clock.port.js';
import type { LoggerPort } from '../ports/logger.port.js';
import type { Alert, NotifierPort } from '../ports/notifier.port.js';
import type { JournalEvent, RegistryRecord, RegistryUpdate, StorePort } from '../ports/store.port.js';
import type { SubmitOrder, VenueOrder, VenuePort, VenueStreamMessage } from '../ports/venue.port.js';

type Stage = NonNullable<RegistryView['stage']>;
type Source = Intent['source'];

export interface RuntimePorts {
  venue: VenuePort;
  store: StorePort;
  clock: ClockPort;
  /** A number in [0, 1): retry jitter. */
  random: () => number;
  logger?: LoggerPort;
  notifier?: NotifierPort;
  /** The last known market price, to judge a market order's notional. */
  lastPrice?: (symbol: string) => number | undefined;
  /** The belief controller's guard knobs and the kill switch (issue 4); unlimited when absent. */
  guardView?: () => { killSwitch: KillSwitchView; knobs: GuardKnobs };
  /**
   * Called at the end of every runtime tick with the same `now`: the clock stays one seam (one
   * interval), and the supervisors (reconcile, controller, kill switch) run on it.
   */
  onTick?: (now: number) => void;
  /**
   * Where the runtime escalates: keel's latched kill switch, with trigger `supervision` (repeated
   * actor failures) or `error_storm` (too many fatal or ambiguous venue answers). Without it the
   * runtime freezes entries itself with the same `KILL_SWITCH:<trigger>` tag.
   */
  /**
   * Called after each fill is booked, with the intent that filled: the position beliefs apply it
   * and the protection manager places stage-1 stops from it.
   */
  onFill?: (fill: BookedFill) => void;
  /**
   * Per-symbol entry blocks from the supervisors (a frozen orphan position, a protection gap past
   * its TTL); null lets the entry go on to the other blockers. Never asked for protective exits.
   */
  entryBlock?: (intent: Intent) => { tag: string; reason: string } | null;
  escalate?: (escalation: {
    trigger: 'supervision' | 'error_storm';
    reason: string;
    evidence: Record<string, string | number>;
  }) => void;
}

/** One fill as the runtime booked it. */
export interface BookedFill {
  intentId: string;
  intent: Intent;
  symbol: string;
  side: Intent['side'];
  qty: number;
  price: number;
  tradeId: string;
  /** The account's position in the symbol after this fill; null when flat. */
  position: Position | null;
}

export interface RuntimeOptions {
  /** `strict`: a refused lifecycle event is an error (logged, counted in `anomalies`); `lenient`: a warning. */
  mode: LifecycleMode;
  risk: RiskLimits;
  guard: ExecutionGuard;
  retry?: Partial<RetryPolicy>;
  limits?: Partial<OrderIntentLimits>;
  /** The one clock interval: deadlines, fill syncs and lingering intents are checked on it. */
  tickMs: number;
  /** How long a finished order stays live to absorb late fills before it is finalized (DONE). */
  lingerMs: number;
  /** How long an intent must be quiescent (working, nothing in flight) before it is parked as its snapshot. */
  parkAfterMs: number;
  /** After the last send, how long a venue that does not know the order must keep not knowing it before keel concludes it never landed. */
  absentAfterMs: number;
  recovery: {
    /** `freeze`: venue orders keel did not place block new entries until an operator clears them. */
    orphans: 'report' | 'freeze';
  };
  /**
   * The error storm: more than `maxErrors` fatal, ambiguous (outcome unknown) or rate-limited venue
   * answers within `windowMs` trips the kill switch (`error_storm`).
   */
  errorStorm: { maxErrors: number; windowMs: number };
  supervision: {
    /** Restarts of one intent's actor within `windowMs` before the failure escalates. */
    maxRestarts: number;
    windowMs: number;
  };
  /** The order-intent logic; tests pass a variant whose actions throw, to exercise supervision. */
  machine?: typeof orderIntentMachine;
}

export interface OrphanOrder {
  clientOrderId: string;
  venueOrderId: string;
  symbol: string;
  status: VenueOrder['status'];
}

export interface RecoveryReport {
  /** Non-terminal intents found in the store and restored from their snapshots. */
  restored: number;
  /** Restored intents that had reached the venue (SENT_TO_BROKER), reconciled by clientOrderId. */
  reconciled: number;
  /** Registered but never sent before the restart: failed rather than sent late. */
  abandoned: number;
  /**
   * Finished intents (EXECUTED or FAILED) not yet finalized at the restart: they were lingering
   * for late fills or a fill sync. Their fills are read again from the venue, then they finalize.
   */
  lingering: number;
  /** Open venue orders keel has no record of. */
  orphans: OrphanOrder[];
  /** True when orphans froze entries (`recovery.orphans: 'freeze'`). */
  entriesFrozen: boolean;
}

export interface SubmitOptions {
  /** The caller's id for the intent; submitting the same id again returns the same intent. */
  intentId?: string;
}

export interface Runtime {
  /** Restore → reconcile → run. Must finish before intents are submitted. */
  start(): Promise<RecoveryReport>;
  /** Registers a parsed intent, runs the blockers, and sends it; resolves once its status is durable. */
  submit(intent: Intent, options?: SubmitOptions): Promise<IntentResult>;
  /** Cancels an intent; idempotent. */
  cancel(intentId: string): Promise<IntentResult>;
  /**
   * Amends a working order's quantity (bounded; a venue that cannot amend keeps the order as it
   * was). Growing an entry meets the entry blockers first and throws KEEL_ERR_BLOCKED if one refuses.
   */
  replace(intentId: string, newQty: number): Promise<IntentResult>;
  /** Resolves once the intent is EXECUTED or FAILED (and that is on disk). */
  settled(intentId: string): Promise<IntentResult>;
  get(intentId: string): IntentResult | null;
  /** Hears each committed registry change of every intent: status, tag, and the venue's order id. */
  onResult(listener: (result: IntentResult) => void): () => void;
  /** Refused lifecycle events seen so far (empty in a healthy run). */
  anomalies(): readonly Anomaly[];
  /**
   * Positions and PnL from the fills this process booked, marked at the last known prices (the
   * venue's for the paper venue); throws naming a symbol with an open position and no price.
   */
  pnl(account: string, prices?: Readonly<Record<string, number>>): PnlSnapshot;
  /**
   * keel's local position beliefs, read-only: the open positions booked from this process's fills,
   * by symbol (flat symbols left out). Without an account, every account's positions netted per
   * symbol, which is what one venue account holds when several keel accounts trade through it.
   *
   * @example
   * runtime.positions('main'); // { BTCUSDT: { qty: 0.01, side: 'long', entryPrice: 40_000 } }
   */
  positions(account?: string): Record<string, Position>;
  /** Intents not yet finalized (DONE), parked ones included. */
  liveCount(): number;
  /** Of those, the intents parked as snapshots (quiescent, no actor running). */
  parkedCount(): number;
  /** Why entries are refused right now, if they are (supervision escalation, orphan freeze). */
  entryFreeze(): { tag: string; reason: string } | null;
  /** Clears an orphan freeze after an operator has dealt with the orphans. */
  clearEntryFreeze(): void;
  /** Settles when every venue call and store write started so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Meta {
  stage: Stage;
  source: Source;
  reasonCode?: string | null;
  reason?: string | null;
  causingEventId?: string | null;
}

/** What the last committed write said: results that leave keel are always on disk. */
interface Committed {
  view: RegistryView;
  stage: Stage;
  reasonCode: string | null;
  reason: string | null;
  eventId: string;
  causingEventId: string | null;
  state: string;
  orderStatus: IntentResult['order_status'];
  filledQty: number;
  ts: number;
}

interface LiveIntent {
  record: RegistryRecord;
  committed: Committed;
  order: SubmitOrder;
  /**
   * The running actor, or null while the intent is parked: a quiescent intent (working at the venue,
   * nothing in flight, no deadline) is held as its persisted snapshot and restarted from it by the
   * next event, so 100,000 resting orders do not hold 100,000 xstate actors.
   */
  actor: CheckedActor<typeof orderIntentMachine> | null;
  parked: string | null;
  /** When the intent last became quiescent; it parks `parkAfterMs` later. */
  quietSince: number | null;
  /** Counted in the duplicate-entry guard until it finishes. */
  guarded: boolean;
  eventSeq: number;
  lastEventId: string | null;
  lastRequestEventId: string | null;
  /** The last write: true when it and every earlier one committed. Commands wait on it (register-first). */
  persisted: Promise<boolean>;
  writeFailed: boolean;
  /** Events (and the registry change leading them) waiting for the end of the delivery under way. */
  pending: JournalEvent[];
  pendingUpdate: RegistryUpdate | null;
  /** The index in `pending` of the event that caused `pendingUpdate`. */
  pendingUpdateAt: number;
  flushQueued: boolean;
  /** Set until the intent's first write, which registers it (CREATED) with what followed at once. */
  registration: { record: RegistryRecord; event: JournalEvent } | null;
  delivering: number;
  deferred: (() => Promise<unknown>)[];
  view: RegistryView;
  stage: Stage;
  reasonCode: string | null;
  reason: string | null;
  emitted: OrderIntentEmitted[];
  fillPrice: number | undefined;
  fillFee: number | undefined;
  submitting: number;
  lookingUp: boolean;
  /** Who asked for the lookup under way: its answers are journaled under that stage. */
  lookupStage: Stage | null;
  syncingFills: boolean;
  fillSyncDue: boolean;
  absentCheckAt: number | null;
  closedAt: number | null;
  restarts: number[];
  /** Set once this intent's failures have escalated, so one intent escalates once. */
  escalated: boolean;
  restarting: boolean;
  buffered: { event: OrderIntentEvent; meta: Meta }[];
  waiters: ((result: IntentResult) => void)[];
}

/** Fills are searched from a little before registration: venue and local clocks differ. */
const FILL_SYNC_SLACK_MS = 60_000;
const TERMINAL = new Set(['EXECUTED', 'FAILED']);
const UNLIMITED_KNOBS: GuardKnobs = {
  mode: 'GREEN',
  allow_entries: true,
  max_notional: Number.POSITIVE_INFINITY,
  max_leverage: Number.POSITIVE_INFINITY,
  min_entry_conf: 0,
  entry_cooldown_seconds: 0,
  max_open_orders_per_symbol: Number.POSITIVE_INFINITY,
  kill_switch_trip: false,
};

/**
 * Open positions of one or more portfolios netted per symbol. The entry price is the
 * quantity-weighted average of the books on the net side (a book on the other side only reduces).
 */
function netPositions(books: readonly Portfolio[]): Record<string, Position> {
  const sums = new Map<
    string,
    { signed: number; sideQty: { long: number; short: number }; cost: { long: number; short: number } }
  >();
  for (const book of books) {
    for (const position of Object.values(book.positions)) {
      if (position.qty === 0) continue;
      const side = position.qty > 0 ? 'long' : 'short';
      const sum = sums.get(position.symbol) ?? {
        signed: 0,
        sideQty: { long: 0, short: 0 },
        cost: { long: 0, short: 0 },
      };
      sum.signed += position.qty;
      sum.sideQty[side] += Math.abs(position.qty);
      sum.cost[side] += Math.abs(position.qty) * position.entryPrice;
      sums.set(position.symbol, sum);
    }
  }
  const positions: Record<string, Position> = {};
  for (const [symbol, sum] of sums) {
    if (sum.signed === 0) continue;
    const side = sum.signed > 0 ? 'long' : 'short';
    positions[symbol] = { qty: Math.abs(sum.signed), side, entryPrice: sum.cost[side] / sum.sideQty[side] };
  }
  return positions;
}

/**
 * Creates the runtime over its ports. Call `start()` (recovery) before submitting.
 *
 * @example
 * const runtime = createRuntime({ venue, store, clock, random: Math.random }, options);
 * await runtime.start();
 * const result = await runtime.submit(parseIntent(body));
 */
export function createRuntime(ports: RuntimePorts, options: RuntimeOptions): Runtime {
  const { venue, store, clock } = ports;
  const machine = options.machine ?? orderIntentMachine;
  const intents = new Map<string, LiveIntent>();
  const byClientOrderId = new Map<string, LiveIntent>();
  const registering = new Map<string, Promise<IntentResult>>();
  const timed = new Set<LiveIntent>();
  const attention = new Set<LiveIntent>();
  /** Intents delivered to since the last tick: candidates for parking. */
  const touched = new Set<LiveIntent>();
  const liveEntries = new Map<string, number>();
  /** Live entries per account and symbol: what `max_open_orders_per_symbol` counts. */
  const openEntries = new Map<string, number>();
  const lastEntryAt = new Map<string, number>();
  /** One portfolio per venue account the intents named. */
  const portfolios = new Map<string, Portfolio>();
  const listeners = new Set<(result: IntentResult) => void>();
  const running = new Set<Promise<unknown>>();
  const anomalies: Anomaly[] = [];
  let realized = { day: utcDayStart(clock.now()), pnl: 0 };
  let freeze: { tag: string; reason: string; kind: 'supervision' | 'error_storm' | 'orphans' } | null = null;
  const stormErrors: number[] = [];
  let stormTripped = false;
  let started = false;
  let closed = false;
  let ticker: { cancel(): void } | null = null;
  let subscription: { close(): void } | null = null;

  const router: Router = createRouter({
    venue,
    clock,
    random: ports.random,
    ...(options.retry === undefined ? {} : { policy: options.retry }),
    snapshotFills: false,
    onVerdict: (verdict) => onVerdict(verdict),
    correlationOf: (clientOrderId) =>
      byClientOrderId.get(clientOrderId)?.record.correlationId ?? clientOrderId,
    onEvent: onRouterEvent,
    onSnapshot: (order) => {
      const live = byClientOrderId.get(order.clientOrderId);
      if (live && order.filledQty > actorOf(live).getSnapshot().context.filledQty) void syncFills(live);
    },
  });

  // ── journaling ───────────────────────────────────────────────────────────────────────────────

  function nextEventId(live: LiveIntent): string {
    live.eventSeq += 1;
    return eventIdFor(live.record.correlationId, live.eventSeq);
  }

  function journalEvent(
    live: LiveIntent,
    type: string,
    meta: Meta,
    fields: { from?: string | null; to?: string | null; data?: Record<string, unknown> },
  ): JournalEvent {
    const eventId = nextEventId(live);
    const event: JournalEvent = {
      eventId,
      ts: clock.now(),
      correlationId: live.record.correlationId,
      clientOrderId: live.record.clientOrderId,
      type,
      stage: meta.stage,
      source: meta.source,
      reasonCode: meta.reasonCode ?? null,
      causingEventId: meta.causingEventId === undefined ? live.lastEventId : meta.causingEventId,
      from: fields.from ?? null,
      to: fields.to ?? null,
      data: fields.data ?? {},
    };
    live.lastEventId = eventId;
    return event;
  }

  /**
   * Queues a journal event of this intent. Events go to the store together at the end of the
   * current turn, so the acknowledgement and fill a venue sends in one burst cost one write and
   * one registry update; `persisted` is already the promise of that write, so work that must wait
   * for the event to be durable (register-first) can wait on it at once.
   */
  function stage(live: LiveIntent, event: JournalEvent, update?: RegistryUpdate): void {
    if (update?.finalized === true && live.pendingUpdate !== null) {
      // Finalized in the turn that closed it (a blocked intent): the close still causes the
      // registry change, and the same commit marks the row finalized.
      live.pendingUpdate = { ...live.pendingUpdate, finalized: true };
    } else if (update !== undefined) {
      // Each update carries the row's full fields, so the last one of the turn is the row's state
      // (a finalize alone carries none and changes none).
      live.pendingUpdate = update;
      live.pendingUpdateAt = live.pending.length;
    }
    live.pending.push(event);
    if (live.flushQueued) return;
    live.flushQueued = true;
    live.persisted = new Promise<boolean>((resolve) => {
      queueMicrotask(() => resolve(flush(live)));
    });
    track(live.persisted);
  }

  /** Writes the turn's events: those before the registry change, then the change with its cause and the rest. */
  function flush(live: LiveIntent): Promise<boolean> {
    const events = live.pending;
    const update = live.pendingUpdate;
    const at = live.pendingUpdateAt;
    live.pending = [];
    live.pendingUpdate = null;
    live.flushQueued = false;
    const writes: Promise<unknown>[] = [];
    const [first, ...rest] = events;
    if (first === undefined) return Promise.resolve(!live.writeFailed);
    const registration = live.registration;
    live.registration = null;
    if (registration !== null && update !== null) {
      const cause = events[at] as JournalEvent;
      writes.push(
        store.register(registration.record, registration.event, {
          before: events.slice(0, at),
          update,
          event: cause,
          also: events.slice(at + 1),
        }),
      );
    } else if (registration !== null) {
      writes.push(
        store.register(registration.record, registration.event).then(() => store.append(first, rest)),
      );
    } else if (update === null) {
      writes.push(store.append(first, rest));
    } else {
      const before = events.slice(0, at);
      const cause = events[at] as JournalEvent;
      const [head, ...tail] = before;
      if (head !== undefined) writes.push(store.append(head, tail));
      writes.push(store.transition(live.record.intentId, update, cause, events.slice(at + 1)));
    }
    // The store commits in order, so these settling means every earlier write has too.
    return Promise.all(writes).then(
      () => !live.writeFailed,
      (error: unknown) => {
        live.writeFailed = true;
        ports.logger?.error({ err: error, intentId: live.record.intentId }, 'journal write failed');
        void notify({
          severity: 'critical',
          code: 'STORE_WRITE_FAILED',
          text: `journal write failed for intent ${live.record.intentId}; its venue work is held`,
        });
        return false;
      },
    );
  }

  function append(live: LiveIntent, type: string, meta: Meta, data: Record<string, unknown>): void {
    stage(live, journalEvent(live, type, meta, { data }));
  }

  async function notify(alert: Alert): Promise<void> {
    try {
      await ports.notifier?.notify(alert);
    } catch (error) {
      ports.logger?.warn({ err: error, code: alert.code }, 'notifier failed');
    }
  }

  function track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => {
      ports.logger?.error({ err: error }, 'runtime task failed');
    });
    running.add(tracked);
    void tracked.finally(() => running.delete(tracked));
  }

  /**
   * Runs venue work after the transition that asked for it has committed (register-first), and
   * never inside a send: work asked for during a delivery starts once that delivery's write is queued.
   */
  function afterCommit(live: LiveIntent, work: () => Promise<unknown>): void {
    if (live.delivering > 0) {
      live.deferred.push(work);
      return;
    }
    const gate = live.persisted;
    track(
      gate.then((ok) => {
        if (!ok || closed) return undefined;
        return work();
      }),
    );
  }

  // ── results ──────────────────────────────────────────────────────────────────────────────────

  function resultOf(live: LiveIntent, committed: Committed = live.committed): IntentResult {
    const { intent } = live.record;
    const { view, reasonCode } = committed;
    return makeIntentResult({
      event_id: committed.eventId,
      ts: committed.ts,
      correlation_id: live.record.correlationId,
      clientOrderId: live.record.clientOrderId,
      source: intent.source,
      stage: committed.stage,
      ...(reasonCode === null ? {} : { reason_code: reasonCode }),
      ...(committed.causingEventId === null ? {} : { causing_event_id: committed.causingEventId }),
      strategy_id: intent.strategy_id,
      bot_id: intent.bot_id,
      client_id: intent.client_id,
      venue: intent.venue,
      intent_id: live.record.intentId,
      status: view.status,
      order_status: committed.orderStatus,
      state: committed.state,
      tag: view.tag,
      venue_order_id: view.venueOrderId,
      filled_qty: committed.filledQty,
      reason: committed.reason,
    });
  }

  /** A result from the store alone, for intents no longer held live. */
  function resultOfRecord(record: RegistryRecord): IntentResult {
    const { intent } = record;
    const context = (
      record.snapshot as {
        context?: { terminalStatus?: IntentResult['order_status']; filledQty?: number };
      } | null
    )?.context;
    const events = store.journal({ correlationId: record.correlationId });
    const last = events.at(-1);
    const stage = decidingStage(record, events);
    return makeIntentResult({
      event_id: last?.eventId ?? eventIdFor(record.correlationId, 0),
      ts: record.updatedAt,
      correlation_id: record.correlationId,
      clientOrderId: record.clientOrderId,
      source: intent.source,
      stage,
      ...(record.tag === null ? {} : { reason_code: record.tag }),
      ...(last?.causingEventId ? { causing_event_id: last.causingEventId } : {}),
      strategy_id: intent.strategy_id,
      bot_id: intent.bot_id,
      client_id: intent.client_id,
      venue: intent.venue,
      intent_id: record.intentId,
      status: record.status,
      order_status: context?.terminalStatus ?? null,
      state: record.status === 'EXECUTED' || record.status === 'FAILED' ? 'done' : 'restoring',
      tag: record.tag,
      venue_order_id: record.venueOrderId,
      filled_qty: context?.filledQty ?? 0,
      reason: null,
    });
  }

  /** The stage that decided a record's status: the one of the last registry change that moved it. */
  function decidingStage(record: RegistryRecord, events: readonly JournalEvent[]): Stage {
    const decided = events.findLast(
      (event) => event.type.startsWith('registry.') && event.from !== event.to && event.to === record.status,
    );
    return (decided?.stage ?? events.at(-1)?.stage ?? 'ingress') as Stage;
  }

  function publish(live: LiveIntent, committed: Committed): void {
    const result = resultOf(live, committed);
    for (const listener of [...listeners]) {
      try {
        listener(result);
      } catch (error) {
        ports.logger?.warn({ err: error }, 'result listener threw');
      }
    }
    if (TERMINAL.has(result.status)) {
      const waiters = live.waiters;
      live.waiters = [];
      for (const resolve of waiters) resolve(result);
    }
  }

  // ── delivering events to intent actors ───────────────────────────────────────────────────────

  function newActor(record: RegistryRecord, snapshot: unknown, live: () => LiveIntent) {
    const actor = createCheckedActor(machine, {
      mode: 'lenient',
      input: {
        clientOrderId: record.clientOrderId,
        correlationId: record.correlationId,
        qty: record.intent.qty ?? 0,
        kind: record.intent.kind,
        ...(options.limits === undefined ? {} : { limits: options.limits }),
      },
      ...(snapshot ? { snapshot: snapshot as SnapshotFrom<typeof orderIntentMachine> } : {}),
      onAnomaly: (anomaly) => onAnomaly(live(), anomaly),
      // The error observer: an action that throws stops the actor; `deliver` sees the error status and supervises.
      onError: () => undefined,
    });
    actor.actor.on('*', (emitted: OrderIntentEmitted) => {
      live().emitted.push(emitted);
    });
    return actor;
  }

  /** The intent's actor, restarted from its parked snapshot if it was parked. */
  function actorOf(live: LiveIntent): CheckedActor<typeof orderIntentMachine> {
    if (live.actor !== null) return live.actor;
    const parked = live.parked;
    live.parked = null;
    live.actor = newActor(live.record, parked === null ? null : JSON.parse(parked), () => live);
    return live.actor;
  }

  /** Quiescent: working at the venue with nothing pending, in flight or due. */
  function isQuiet(live: LiveIntent): boolean {
    if (live.actor === null) return false;
    const snapshot = live.actor.getSnapshot();
    const { context } = snapshot;
    return (
      snapshot.status === 'active' &&
      snapshot.matches({ live: { order: 'working', request: 'idle' } }) &&
      context.ackDeadline === null &&
      context.cancelDeadline === null &&
      live.submitting === 0 &&
      !live.lookingUp &&
      !live.syncingFills &&
      !live.fillSyncDue &&
      !live.restarting &&
      live.absentCheckAt === null &&
      live.delivering === 0 &&
      !live.flushQueued &&
      live.deferred.length === 0
    );
  }

  function park(live: LiveIntent): void {
    if (!isQuiet(live) || live.actor === null) return;
    live.parked = JSON.stringify(live.actor.actor.getPersistedSnapshot());
    live.actor.stop();
    live.actor = null;
    live.quietSince = null;
  }

  function onAnomaly(live: LiveIntent, anomaly: Anomaly): void {
    anomalies.push(anomaly);
    const fields = { intentId: live.record.intentId, ...anomaly };
    if (options.mode === 'strict') ports.logger?.error(fields, 'lifecycle refused an event');
    else ports.logger?.warn(fields, 'lifecycle refused an event');
  }

  function deliver(live: LiveIntent, event: OrderIntentEvent, meta: Meta): void {
    if (live.restarting) {
      live.buffered.push({ event, meta });
      return;
    }
    live.delivering += 1;
    let after: SnapshotFrom<typeof orderIntentMachine>;
    try {
      after = step(live, event, meta);
    } finally {
      live.delivering -= 1;
    }
    if (live.delivering > 0) return;
    const deferred = live.deferred;
    live.deferred = [];
    for (const work of deferred) afterCommit(live, work);
    touched.add(live);
    if (isStray(live, event, after)) cancelStray(live);
    if (after.status === 'done') retire(live);
    else if (after.status === 'active' && live.closedAt !== null && shouldFinalizeNow(live)) finalize(live);
  }

  /** Sends one event, journals the transition it made and executes the commands it emitted. */
  function step(
    live: LiveIntent,
    event: OrderIntentEvent,
    meta: Meta,
  ): SnapshotFrom<typeof orderIntentMachine> {
    const before = actorOf(live).getSnapshot();
    live.emitted = [];
    live.fillPrice = event.type === 'venue.order.filled' ? event.price : undefined;
    live.fillFee = event.type === 'venue.order.filled' ? event.fee : undefined;
    actorOf(live).send(event);
    const after = actorOf(live).getSnapshot();
    if (after.status === 'error') {
      live.emitted = [];
      supervise(live, event, meta, after.error);
      return after;
    }
    const from = describeState(before.value);
    const to = describeState(after.value);
    const transition =
      from !== to || before.context !== after.context
        ? recordTransition(live, event, meta, from, to, after)
        : null;
    const emitted = live.emitted;
    live.emitted = [];
    for (const fact of emitted) execute(live, fact, meta, transition);
    const context = after.context;
    if (context.ackDeadline !== null || context.cancelDeadline !== null) timed.add(live);
    else timed.delete(live);
    return after;
  }

  function eventData(event: OrderIntentEvent): Record<string, unknown> {
    const { type: _type, ...data } = event;
    return data;
  }

  function recordTransition(
    live: LiveIntent,
    event: OrderIntentEvent,
    meta: Meta,
    from: string,
    to: string,
    after: SnapshotFrom<typeof orderIntentMachine>,
  ): JournalEvent {
    const view = registryViewOf(after);
    const statusChanged = view.status !== live.view.status || view.tag !== live.view.tag;
    // Reconcile's conclusions keep their stage; otherwise the view names who decided (venue, risk, …).
    if (statusChanged) live.stage = meta.stage === 'reconcile' ? 'reconcile' : (view.stage ?? meta.stage);
    if (statusChanged) {
      live.reasonCode = view.tag;
      if (meta.reason !== undefined) live.reason = meta.reason;
      else if (after.context.rejectReason !== null && view.status === 'FAILED')
        live.reason = after.context.rejectReason;
    }
    const isVenueAnswer = event.type.startsWith('venue.');
    const journaled = journalEvent(
      live,
      event.type,
      {
        ...meta,
        reasonCode: meta.reasonCode ?? (statusChanged ? view.tag : null),
        // An answer with no request of this process behind it (a fill sync, a lookup after a restart)
        // is caused by whatever this intent last did, so no transition is journaled without a cause.
        causingEventId:
          meta.causingEventId ??
          (isVenueAnswer ? (live.lastRequestEventId ?? live.lastEventId) : live.lastEventId),
      },
      { from, to, data: { ...eventData(event), filledQty: after.context.filledQty } },
    );
    if (after.status === 'done') {
      // DONE changes no field a result shows and is never restored. The row is marked finalized in
      // the same commit, so a restart knows this intent is over (and one killed before the commit
      // restores it, still lingering).
      stage(live, journaled, { finalized: true, updatedAt: journaled.ts });
    } else {
      const update = {
        status: view.status,
        tag: view.tag,
        venueOrderId: view.venueOrderId,
        snapshot: actorOf(live).actor.getPersistedSnapshot(),
        updatedAt: journaled.ts,
      };
      stage(live, journaled, update);
    }
    const committed: Committed = {
      view,
      stage: live.stage,
      reasonCode: live.reasonCode ?? view.tag,
      reason: live.reason,
      eventId: journaled.eventId,
      causingEventId: journaled.causingEventId,
      state: to,
      orderStatus: after.context.terminalStatus,
      filledQty: after.context.filledQty,
      ts: journaled.ts,
    };
    // Listeners hear every registry change: a new status or tag, and the venue's acknowledgement.
    const acknowledged = view.venueOrderId !== live.view.venueOrderId;
    afterCommit(live, () => {
      live.committed = committed;
      if (statusChanged || acknowledged) publish(live, committed);
      return Promise.resolve();
    });
    const wasTerminal = TERMINAL.has(live.view.status);
    live.view = view;
    if (TERMINAL.has(view.status) && !wasTerminal) onFinished(live);
    return journaled;
  }

  /**
   * The venue acknowledged an order keel had already closed without fills (cancelled, expired, or
   * concluded never placed): a send landed late. Left alone it would rest at the venue with nobody
   * watching it, so it is cancelled.
   */
  function isStray(
    live: LiveIntent,
    event: OrderIntentEvent,
    after: SnapshotFrom<typeof orderIntentMachine>,
  ): boolean {
    return (
      event.type === 'venue.order.accepted' &&
      after.status === 'active' &&
      after.context.filledQty === 0 &&
      (after.matches({ closed: 'canceled' }) ||
        after.matches({ closed: 'expired' }) ||
        after.matches({ closed: 'rejected' }))
    );
  }

  function cancelStray(live: LiveIntent): void {
    append(
      live,
      'reconcile.stray.detected',
      { stage: 'reconcile', source: 'system', reasonCode: 'STRAY_ORDER' },
      {
        reason: 'the venue acknowledged an order keel had closed; cancelling it',
      },
    );
    void notify({
      severity: 'warning',
      code: 'STRAY_ORDER',
      text: `order ${live.record.clientOrderId} landed after its intent closed; cancelling it`,
    });
    // The router remembers the earlier cancel as settled; this is a new order at the venue.
    router.forget(live.record.clientOrderId);
    afterCommit(live, () => router.cancel(live.order.symbol, live.order.clientOrderId));
  }

  function onFinished(live: LiveIntent): void {
    live.closedAt = clock.now();
    live.absentCheckAt = null;
    if (live.guarded) {
      live.guarded = false;
      const key = guardKey(live.record.intent);
      const count = (liveEntries.get(key) ?? 1) - 1;
      if (count <= 0) liveEntries.delete(key);
      else liveEntries.set(key, count);
      const symbol = symbolKey(live.record.intent);
      const open = (openEntries.get(symbol) ?? 1) - 1;
      if (open <= 0) openEntries.delete(symbol);
      else openEntries.set(symbol, open);
    }
    attention.add(live);
  }

  function shouldFinalizeNow(live: LiveIntent): boolean {
    if (live.closedAt === null) return false;
    // Nothing of a blocked intent ever reached the venue, so no late message can come for it.
    if (actorOf(live).getSnapshot().matches('failed')) return true;
    return clock.now() - live.closedAt >= options.lingerMs;
  }

  function maybeFinalize(live: LiveIntent): void {
    if (!closed && intents.has(live.record.intentId) && shouldFinalizeNow(live)) finalize(live);
  }

  function finalize(live: LiveIntent): void {
    if (live.submitting > 0 || live.lookingUp || live.syncingFills || live.fillSyncDue) return;
    deliver(live, { type: 'intent.finalize' }, { stage: 'router', source: 'system' });
  }

  function retire(live: LiveIntent): void {
    intents.delete(live.record.intentId);
    byClientOrderId.delete(live.record.clientOrderId);
    timed.delete(live);
    attention.delete(live);
    touched.delete(live);
    router.forget(live.record.clientOrderId);
  }

  // ── executing the machine's commands ─────────────────────────────────────────────────────────

  /**
   * Executes one command or fact the machine emitted. Commands that follow from the transition just
   * journaled (a send, a cancel, a booked fill) are recorded in that transition's event, so one row
   * says what happened and what keel did about it; the rest (retries, give-ups, anomalies) get rows
   * of their own.
   */
  function execute(
    live: LiveIntent,
    emitted: OrderIntentEmitted,
    cause: Meta,
    transition: JournalEvent | null,
  ): void {
    const { order } = live;
    const meta: Meta = { stage: 'router', source: 'system', causingEventId: live.lastEventId };
    const { type: _type, ...data } = emitted;
    const record = (extra: Record<string, unknown> = {}): void => {
      if (transition) {
        const list = (transition.data.emitted ??= []) as Record<string, unknown>[];
        list.push({ ...emitted, ...extra });
        if (emitted.type.endsWith('.requested')) live.lastRequestEventId = transition.eventId;
      } else {
        append(live, emitted.type, meta, { ...data, ...extra });
        if (emitted.type.endsWith('.requested')) live.lastRequestEventId = live.lastEventId;
      }
    };
    switch (emitted.type) {
      case 'order.submit.requested': {
        record();
        live.submitting += 1;
        afterCommit(live, async () => {
          try {
            if (emitted.attempt > 1) {
              // A resend only after the venue says it does not hold the order (lookup first, invariant 4).
              const held = await venue.queryOrder(order.symbol, order.clientOrderId).catch(() => null);
              if (!held || !held.ok) return;
              if (held.value !== null) {
                router.observe(held.value);
                return;
              }
            }
            const outcome = await router.submit(order);
            if (outcome.kind === 'gave_up') live.absentCheckAt = clock.now() + options.absentAfterMs;
          } finally {
            live.submitting -= 1;
            maybeFinalize(live);
          }
        });
        return;
      }
      case 'order.lookup.requested':
        record();
        onLookupRequested(live, emitted.reason, cause);
        return;
      case 'order.cancel.requested':
        record();
        afterCommit(live, () => router.cancel(order.symbol, order.clientOrderId));
        return;
      case 'order.replace.requested':
        record();
        afterCommit(live, () =>
          router.replace({
            clientOrderId: order.clientOrderId,
            symbol: order.symbol,
            qty: emitted.newQty,
            ...(order.price === undefined ? {} : { price: order.price }),
          }),
        );
        return;
      case 'order.fill.booked':
        record({ price: live.fillPrice ?? null });
        bookFill(live, emitted.qty, emitted.tradeId);
        return;
      case 'order.overfill.detected':
        append(live, emitted.type, { ...meta, stage: 'venue', reasonCode: 'OVERFILL' }, data);
        void notify({
          severity: 'critical',
          code: 'ORDER_OVERFILLED',
          text: `order ${live.record.clientOrderId} filled ${emitted.overfillQty} beyond its quantity`,
          data: { intentId: live.record.intentId },
        });
        return;
      case 'order.submit.gave_up':
      case 'order.cancel.gave_up':
      case 'order.replace.gave_up':
        append(live, emitted.type, { ...meta, reasonCode: 'GAVE_UP' }, data);
        if (emitted.type === 'order.submit.gave_up') live.absentCheckAt = clock.now();
        void notify({
          severity: 'warning',
          code: 'ORDER_GAVE_UP',
          text: `${emitted.type} for ${live.record.clientOrderId}; reconcile settles it`,
        });
        return;
      case 'order.retry':
        append(live, emitted.type, meta, { ...data, operation: 'submit', level: 'intent' });
        return;
      case 'lifecycle.refused':
      case 'lifecycle.ignored':
        append(live, emitted.type, { ...cause, causingEventId: live.lastEventId }, data);
        return;
    }
  }

  /**
   * A lookup the machine asked for. "Not found" answers come back as `venue.order.unknown`, which asks
   * again: the loop is broken here. An order never acknowledged is resent (lookup first, bounded by
   * the machine); once resends are spent and the venue still does not know it after `absentAfterMs`,
   * keel concludes it never landed. A working order the venue cannot find is left for reconcile.
   */
  function onLookupRequested(live: LiveIntent, reason: string, cause: Meta): void {
    const snapshot = actorOf(live).getSnapshot();
    if (reason !== 'venue.order.unknown') {
      lookup(live, cause.stage === 'reconcile' ? 'reconcile' : 'router');
      return;
    }
    if (!snapshot.matches({ live: { order: 'sent-to-broker' } })) return;
    if (live.submitting > 0) return;
    // An order being cancelled is never sent again: the cancel settles what the venue holds.
    if (snapshot.context.pendingRequest !== 'none') return;
    const { submitAttempts, cancelAttempts, limits } = snapshot.context;
    // Nor is one whose cancel was ever asked for: this very "unknown order" may be what ended the
    // pending cancel (the machine cannot tell a lookup's answer from the cancel's) while the cancel
    // is still being retried. Like the router's own resends, it is left to conclude absent.
    if (submitAttempts < limits.maxSubmitAttempts && cancelAttempts === 0) {
      afterCommit(live, () => {
        if (live.submitting > 0 || closed) return Promise.resolve();
        deliver(
          live,
          { type: 'intent.submit', retry: true, now: clock.now() },
          { stage: 'router', source: 'system' },
        );
        return Promise.resolve();
      });
      return;
    }
    live.absentCheckAt ??= clock.now() + options.absentAfterMs;
    if (clock.now() >= live.absentCheckAt) {
      afterCommit(live, () => {
        if (
          actorOf(live)
            .getSnapshot()
            .matches({ live: { order: 'sent-to-broker' } }) &&
          live.submitting === 0
        )
          concludeAbsent(live);
        return Promise.resolve();
      });
    } else attention.add(live);
  }

  function concludeAbsent(live: LiveIntent): void {
    live.absentCheckAt = null;
    deliver(
      live,
      {
        type: 'venue.order.rejected',
        reason: 'the venue does not know the order after every resend',
        code: 'NOT_FOUND',
      },
      {
        stage: 'reconcile',
        source: 'system',
        reason: `the venue has no order ${live.record.clientOrderId} after ${actorOf(live).getSnapshot().context.submitAttempts} sends and ${options.absentAfterMs} ms`,
      },
    );
  }

  function lookup(live: LiveIntent, stage: Stage): void {
    if (live.lookingUp) return;
    live.lookingUp = true;
    live.lookupStage = stage;
    afterCommit(live, async () => {
      try {
        settleUnknownCancel(live, await router.lookup(live.order.symbol, live.order.clientOrderId));
      } finally {
        live.lookingUp = false;
        live.lookupStage = null;
        maybeFinalize(live);
      }
    });
  }

  /**
   * CANCEL_SENT_UNKNOWN is decided by the lookup. A terminal order settles itself through the
   * venue's report; an order the venue still shows working means the cancel did not land, so the
   * intent goes back to working and a new cancel can be sent (a cancel is protective: it must not
   * stay stuck). A lookup that could not get an answer is asked again later.
   */
  function settleUnknownCancel(live: LiveIntent, outcome: LookupOutcome): void {
    if (closed || !intents.has(live.record.intentId)) return;
    const unknownCancel = { live: { request: { 'cancel-pending': 'cancel-sent-unknown' } } } as const;
    if (!actorOf(live).getSnapshot().matches(unknownCancel)) return;
    if (
      outcome.kind === 'found' &&
      (outcome.order.status === 'NEW' || outcome.order.status === 'PARTIALLY_FILLED')
    ) {
      deliver(
        live,
        {
          type: 'venue.cancel.rejected',
          reason: `the cancel did not land: the venue still shows the order ${outcome.order.status}`,
        },
        { stage: 'reconcile', source: 'system', reasonCode: 'CANCEL_NOT_LANDED' },
      );
    } else if (outcome.kind === 'gave_up') {
      clock.setTimeout(() => {
        if (
          !closed &&
          intents.has(live.record.intentId) &&
          actorOf(live).getSnapshot().matches(unknownCancel)
        )
          lookup(live, 'reconcile');
      }, options.absentAfterMs);
    }
  }

  /** Books fills with their trade ids from the venue's trade list: each applies once, whoever reports it. */
  async function syncFills(live: LiveIntent): Promise<void> {
    if (live.syncingFills) {
      live.fillSyncDue = true;
      return;
    }
    live.syncingFills = true;
    live.fillSyncDue = false;
    try {
      const result = await venue
        .fillsSince(live.record.createdAt - FILL_SYNC_SLACK_MS, live.order.symbol)
        .catch((error: unknown) => ({ ok: false as const, message: String(error) }));
      if (!result.ok) {
        live.fillSyncDue = true;
        attention.add(live);
        return;
      }
      for (const fill of result.value) {
        if (fill.clientOrderId !== live.record.clientOrderId) continue;
        deliver(
          live,
          {
            type: 'venue.order.filled',
            qty: fill.qty,
            tradeId: fill.tradeId,
            price: fill.price,
            fee: fill.fee,
          },
          { stage: 'venue', source: 'system' },
        );
      }
    } finally {
      live.syncingFills = false;
    }
    if (live.fillSyncDue) await syncFills(live);
    else maybeFinalize(live);
  }

  /** Books a fill into the account's portfolio (positions, realised PnL, fees) and today's realised PnL. */
  function bookFill(live: LiveIntent, qty: number, tradeId: string | null): void {
    const { symbol, side, account } = live.record.intent;
    let portfolio = portfolios.get(account) ?? emptyPortfolio(account);
    const price = live.fillPrice ?? portfolio.positions[symbol]?.entryPrice ?? 0;
    if (price <= 0) {
      ports.logger?.warn(
        { intentId: live.record.intentId, tradeId },
        'a fill without a price is not booked into PnL',
      );
      return;
    }
    const fill: PortfolioFill = {
      // Fills without a venue trade id (none reach here today) are named by their place in the order.
      tradeId: tradeId ?? `${live.record.clientOrderId}:${actorOf(live).getSnapshot().context.filledQty}`,
      symbol,
      side,
      qty,
      price,
      fee: live.fillFee ?? 0,
    };
    const before = portfolio.positions[symbol];
    const pnl = before ? realizedPnlOfFill(before, fill) : 0;
    portfolio = applyPortfolioFill(portfolio, fill);
    portfolios.set(account, portfolio);
    const day = utcDayStart(clock.now());
    if (day !== realized.day) realized = { day, pnl: 0 };
    realized.pnl += pnl;
    const after = portfolio.positions[symbol];
    ports.onFill?.({
      intentId: live.record.intentId,
      intent: live.record.intent,
      symbol,
      side,
      qty,
      price,
      tradeId: fill.tradeId,
      position:
        after === undefined || after.qty === 0
          ? null
          : {
              qty: Math.abs(after.qty),
              side: after.qty > 0 ? 'long' : 'short',
              entryPrice: after.entryPrice,
            },
    });
  }

  function onRouterEvent(event: RouterEvent): void {
    const live = byClientOrderId.get(event.clientOrderId);
    if (isRouterReport(event)) {
      const machineEvent = toIntentEvent(event);
      // The stream usually acknowledges first; the router's copy of an ack the intent already has
      // would only be journaled as ignored.
      if (
        live &&
        machineEvent.type === 'venue.order.accepted' &&
        actorOf(live).getSnapshot().context.venueOrderId !== null
      )
        return;
      // Likewise an amend the stream already confirmed: with no replace pending, the router's
      // copy would be refused as a confirmation of nothing.
      if (
        live &&
        machineEvent.type === 'venue.order.replaced' &&
        actorOf(live).getSnapshot().context.pendingReplaceQty === null
      )
        return;
      if (live) {
        const stage = live.lookingUp ? (live.lookupStage ?? 'venue') : 'venue';
        deliver(live, machineEvent, {
          stage: stage === 'router' ? 'venue' : stage,
          source: 'system',
          ...('code' in machineEvent && machineEvent.code !== undefined
            ? { reasonCode: `VENUE_REJECTED:${String(machineEvent.code)}` }
            : {}),
        });
      }
      return;
    }
    if (!live) return;
    const { type, ...data } = event;
    append(
      live,
      type,
      { stage: 'router', source: 'system', ...(type === 'order.retry' ? {} : { reasonCode: 'GAVE_UP' }) },
      {
        ...data,
        ...(type === 'order.retry' ? { level: 'call' } : {}),
      },
    );
  }

  // ── the stream ───────────────────────────────────────────────────────────────────────────────

  function toMachineEvent(event: VenueEvent): OrderIntentEvent {
    switch (event.type) {
      case 'venue.order.accepted':
        return {
          type: event.type,
          ...(event.venueOrderId === undefined ? {} : { venueOrderId: event.venueOrderId }),
        };
      case 'venue.order.rejected':
        return {
          type: event.type,
          reason: event.reason,
          ...(event.code === undefined ? {} : { code: event.code }),
        };
      case 'venue.order.filled':
        return {
          type: event.type,
          qty: event.qty,
          tradeId: event.trade_id,
          price: event.price,
          ...(event.fee === undefined ? {} : { fee: event.fee.cost }),
        };
      case 'venue.cancel.rejected':
      case 'venue.replace.rejected':
        return { type: event.type, reason: event.reason };
      default:
        return { type: event.type };
    }
  }

  function onStream(message: VenueStreamMessage): void {
    if (closed) return;
    if (message.kind === 'gap') {
      // Events were lost: every live order is looked up, and its fills re-read, instead of trusting
      // silence. A cancelled or expired order still lingering may have filled in the race with its
      // cancel, and the lost message may have been that fill: its fills are re-read before it is retired.
      for (const live of intents.values()) {
        if (!TERMINAL.has(live.view.status) && live.view.status !== 'CREATED') {
          lookup(live, 'reconcile');
          live.fillSyncDue = true;
          attention.add(live);
        } else if (live.closedAt !== null && live.view.venueOrderId !== null) {
          live.fillSyncDue = true;
          attention.add(live);
        }
      }
      return;
    }
    const live = byClientOrderId.get(message.event.clientOrderId);
    if (!live) return;
    const event = toMachineEvent(message.event);
    deliver(live, event, {
      stage: 'venue',
      source: 'system',
      ...(message.event.type === 'venue.order.rejected' && message.event.code !== undefined
        ? { reasonCode: `VENUE_REJECTED:${String(message.event.code)}` }
        : {}),
    });
  }

  // ── supervision ──────────────────────────────────────────────────────────────────────────────

  function supervise(live: LiveIntent, event: OrderIntentEvent, meta: Meta, error: unknown): void {
    const now = clock.now();
    live.restarts = live.restarts.filter((at) => now - at < options.supervision.windowMs);
    live.restarts.push(now);
    const message = error instanceof Error ? error.message : String(error);
    ports.logger?.error(
      { err: error, intentId: live.record.intentId, event: event.type },
      'intent actor failed',
    );
    append(
      live,
      'supervision.actor.failed',
      { ...meta, reasonCode: 'ACTOR_FAILED' },
      {
        event: event.type,
        error: message,
        restarts: live.restarts.length,
      },
    );
    if (live.restarts.length > options.supervision.maxRestarts && !live.escalated) {
      live.escalated = true;
      const reason = `intent ${live.record.intentId} failed ${live.restarts.length} times within ${options.supervision.windowMs} ms`;
      append(
        live,
        'supervision.escalated',
        { ...meta, reasonCode: 'KILL_SWITCH:supervision' },
        { restarts: live.restarts.length },
      );
      void notify({ severity: 'critical', code: 'SUPERVISION_ESCALATED', text: reason });
      escalate('supervision', reason, {
        intentId: live.record.intentId,
        restarts: live.restarts.length,
        error: message,
      });
    }
    restart(live);
  }

  /** Hands a trip to the kill switch, or freezes entries here when keel runs without one. */
  function escalate(
    trigger: 'supervision' | 'error_storm',
    reason: string,
    evidence: Record<string, string | number>,
  ): void {
    if (ports.escalate) ports.escalate({ trigger, reason, evidence });
    else if (freeze === null) freeze = { kind: trigger, tag: `KILL_SWITCH:${trigger}`, reason };
  }

  /**
   * Counts the venue's fatal, ambiguous and rate-limited answers in a sliding window; past the
   * limit the storm trips the kill switch once, and may trip it again only after the window has
   * emptied below the limit.
   */
  function onVerdict(verdict: OrderErrorVerdict): void {
    if (verdict.policy !== 'fatal' && !verdict.lookupFirst && verdict.retryAfterMs === undefined) return;
    const now = clock.now();
    stormErrors.push(now);
    while (stormErrors.length > 0 && (stormErrors[0] ?? now) <= now - options.errorStorm.windowMs)
      stormErrors.shift();
    if (stormErrors.length <= options.errorStorm.maxErrors) {
      stormTripped = false;
      return;
    }
    if (stormTripped) return;
    stormTripped = true;
    const reason = `${stormErrors.length} fatal, ambiguous or rate-limited venue answers within ${options.errorStorm.windowMs} ms`;
    ports.logger?.error({ errors: stormErrors.length }, 'venue error storm');
    void notify({ severity: 'critical', code: 'ERROR_STORM', text: reason });
    escalate('error_storm', reason, {
      errors: stormErrors.length,
      windowMs: options.errorStorm.windowMs,
      lastReason: verdict.reason,
    });
  }

  /** Restarts from the last committed snapshot, then asks the venue where the order stands. */
  function restart(live: LiveIntent): void {
    live.restarting = true;
    live.actor?.stop();
    live.actor = null;
    live.parked = null;
    track(
      live.persisted.then(() => {
        const record = store.get(live.record.intentId);
        live.actor = newActor(live.record, record?.snapshot ?? null, () => live);
        live.view = registryViewOf(actorOf(live).getSnapshot());
        live.restarting = false;
        append(
          live,
          'supervision.actor.restarted',
          { stage: 'router', source: 'system' },
          {
            state: describeState(actorOf(live).getSnapshot().value),
          },
        );
        const buffered = live.buffered;
        live.buffered = [];
        for (const item of buffered) deliver(live, item.event, item.meta);
        // Resync from venue truth, unless this intent's failures have escalated: a restart that
        // fails again on the answer would otherwise loop, restart → lookup → fail, for ever.
        const escalated = live.restarts.length > options.supervision.maxRestarts;
        if (!escalated && actorOf(live).getSnapshot().matches('live')) lookup(live, 'reconcile');
      }),
    );
  }

  // ── registration and blockers ────────────────────────────────────────────────────────────────

  function symbolKey(intent: Intent): string {
    return `${intent.account}\u0000${intent.symbol}`;
  }

  function guardKey(intent: Intent): string {
    return `${intent.account}\u0000${intent.strategy_id}\u0000${intent.symbol}`;
  }

  function orderOf(intent: Intent, clientOrderId: string): SubmitOrder {
    return {
      clientOrderId,
      symbol: intent.symbol,
      side: intent.side,
      type: intent.type,
      reduceOnly: intent.reduce_only,
      closePosition: intent.close_position,
      ...(intent.qty === undefined ? {} : { qty: intent.qty }),
      ...(intent.price === undefined ? {} : { price: intent.price }),
      ...(intent.stop_price === undefined ? {} : { stopPrice: intent.stop_price }),
      ...(intent.time_in_force === undefined ? {} : { timeInForce: intent.time_in_force }),
    };
  }

  function hold(record: RegistryRecord, snapshot: unknown): LiveIntent {
    const live: LiveIntent = {
      record,
      committed: {
        view: { status: record.status, tag: record.tag, stage: null, venueOrderId: record.venueOrderId },
        stage: 'ingress',
        reasonCode: record.tag,
        reason: null,
        eventId: eventIdFor(record.correlationId, 1),
        causingEventId: null,
        state: 'intent-created',
        orderStatus: null,
        filledQty: 0,
        ts: record.updatedAt,
      },
      order: orderOf(record.intent, record.clientOrderId),
      actor: null,
      parked: null,
      quietSince: null,
      guarded: false,
      eventSeq: 0,
      lastEventId: null,
      lastRequestEventId: null,
      persisted: Promise.resolve(true),
      writeFailed: false,
      pending: [],
      pendingUpdate: null,
      pendingUpdateAt: 0,
      flushQueued: false,
      registration: null,
      delivering: 0,
      deferred: [],
      view: { status: record.status, tag: record.tag, stage: null, venueOrderId: record.venueOrderId },
      stage: 'ingress',
      reasonCode: null,
      reason: null,
      emitted: [],
      fillPrice: undefined,
      fillFee: undefined,
      submitting: 0,
      lookingUp: false,
      lookupStage: null,
      syncingFills: false,
      fillSyncDue: false,
      absentCheckAt: null,
      closedAt: null,
      restarts: [],
      escalated: false,
      restarting: false,
      buffered: [],
      waiters: [],
    };
    live.actor = newActor(record, snapshot, () => live);
    const restoredAs = live.actor.getSnapshot();
    live.committed.state = describeState(restoredAs.value);
    live.committed.orderStatus = restoredAs.context.terminalStatus;
    live.committed.filledQty = restoredAs.context.filledQty;
    intents.set(record.intentId, live);
    byClientOrderId.set(record.clientOrderId, live);
    if (!isProtectiveExit(record.intent)) {
      live.guarded = true;
      const key = guardKey(record.intent);
      liveEntries.set(key, (liveEntries.get(key) ?? 0) + 1);
      const symbol = symbolKey(record.intent);
      openEntries.set(symbol, (openEntries.get(symbol) ?? 0) + 1);
    }
    return live;
  }

  function decideBlock(intent: Intent, live: LiveIntent): BlockDecision {
    if (isProtectiveExit(intent)) return { blocked: false };
    if (freeze)
      return {
        blocked: true,
        stage: freeze.kind === 'orphans' ? 'reconcile' : 'guard',
        tag: freeze.tag,
        reason: freeze.reason,
      };
    const now = clock.now();
    const day = utcDayStart(now);
    if (day !== realized.day) realized = { day, pnl: 0 };
    const key = guardKey(intent);
    const last = lastEntryAt.get(key);
    const risk = checkRisk(
      intent,
      {
        referencePrice: ports.lastPrice?.(intent.symbol),
        positionQty: portfolios.get(intent.account)?.positions[intent.symbol]?.qty ?? 0,
        realizedPnlToday: realized.pnl,
        secondsSinceLastEntry: last === undefined ? undefined : (now - last) / 1000,
      },
      options.risk,
    );
    if (risk.blocked) return risk;
    // This intent is already counted among the live entries (it is registered); the others are duplicates.
    const guard = checkExecutionGuard(
      intent,
      { liveEntries: (liveEntries.get(key) ?? 1) - (live.guarded ? 1 : 0) },
      options.guard,
    );
    if (guard.blocked) return guard;
    const view = ports.guardView?.() ?? {
      killSwitch: { tripped: false } as KillSwitchView,
      knobs: UNLIMITED_KNOBS,
    };
    const price = intent.price ?? intent.stop_price ?? ports.lastPrice?.(intent.symbol);
    const decision = admit(
      {
        action: 'submit',
        kind: intent.kind,
        reduce_only: intent.reduce_only,
        close_position: intent.close_position,
        ...(price === undefined || intent.qty === undefined ? {} : { notional: intent.qty * price }),
        ...(last === undefined ? {} : { secondsSinceLastEntry: (now - last) / 1000 }),
        ...(intent.leverage === undefined ? {} : { leverage: intent.leverage }),
        ...(intent.confidence === undefined ? {} : { confidence: intent.confidence }),
        // The other entries working on this account and symbol (this one is registered already).
        openOrdersForSymbol: (openEntries.get(symbolKey(intent)) ?? 1) - (live.guarded ? 1 : 0),
      },
      view,
    );
    if (!decision.admitted)
      return { blocked: true, stage: 'guard', tag: decision.tag, reason: decision.reason };
    const symbolBlock = ports.entryBlock?.(intent) ?? null;
    if (symbolBlock)
      return { blocked: true, stage: 'reconcile', tag: symbolBlock.tag, reason: symbolBlock.reason };
    return { blocked: false };
  }

  async function register(intent: Intent, intentId: string | undefined): Promise<IntentResult> {
    const correlationId = newCorrelationId();
    const id = intentId ?? correlationId;
    const clientOrderId = clientOrderIdFor({ venue: intent.venue, kind: intent.kind, correlationId });
    const now = clock.now();
    const record: RegistryRecord = {
      intentId: id,
      correlationId,
      clientOrderId,
      status: 'CREATED',
      tag: null,
      venue: intent.venue,
      venueOrderId: null,
      intent,
      snapshot: null,
      createdAt: now,
      updatedAt: now,
    };
    const event: JournalEvent = {
      eventId: eventIdFor(correlationId, 1),
      ts: now,
      correlationId,
      clientOrderId,
      type: 'intent.registered',
      stage: 'ingress',
      source: intent.source,
      reasonCode: null,
      causingEventId: null,
      from: null,
      to: 'intent-created',
      data: { intentId: id },
    };
    // Idempotency first: an intent id registered before (by an earlier run) is answered, not redone.
    // One process writes the store and same-id submissions in flight share one promise, so a
    // synchronous read is enough.
    const known = intentId === undefined ? null : store.get(intentId);
    if (known) return resultOfRecord(known);
    const live = hold(record, null);
    live.eventSeq = 1;
    live.lastEventId = event.eventId;
    // The registration rides in the same commit as the blockers' verdict (FAILED or SENT_TO_BROKER):
    // both are on disk before the venue is called, with one fsync instead of two.
    live.registration = { record, event };
    const block = decideBlock(intent, live);
    if (block.blocked) {
      deliver(
        live,
        { type: 'intent.blocked', stage: block.stage, reason: block.reason, tag: block.tag },
        { stage: block.stage, source: intent.source, reasonCode: block.tag, reason: block.reason },
      );
    } else {
      if (!isProtectiveExit(intent)) lastEntryAt.set(guardKey(intent), now);
      deliver(live, { type: 'intent.submit', now }, { stage: 'ingress', source: intent.source });
    }
    if (!(await live.persisted)) {
      retire(live);
      throw new KeelError(ERROR_CODES.store, `intent ${id} could not be registered; nothing was sent`);
    }
    return resultOf(live);
  }

  // ── recovery ─────────────────────────────────────────────────────────────────────────────────

  async function recover(): Promise<RecoveryReport> {
    const report: RecoveryReport = {
      restored: 0,
      reconciled: 0,
      abandoned: 0,
      lingering: 0,
      orphans: [],
      entriesFrozen: false,
    };
    const restored: LiveIntent[] = [];
    const lingering: LiveIntent[] = [];
    // Every intent not yet finalized (DONE): those still working, and those that had finished but
    // were lingering when the process died (a late fill or a fill sync still due). The row is marked
    // finalized in the DONE event's own commit, so this set is exact; the store reads it from an
    // index of those rows alone (migration 3), so restart costs no more as the closed history grows.
    for (const record of store.unfinalized()) {
      const live = hold(record, record.snapshot);
      const events = store.journal({ correlationId: record.correlationId });
      // Event ids continue after the last one this intent wrote, so none is reused.
      live.eventSeq = events.reduce(
        (max, event) => Math.max(max, seqOf(event.eventId, record.correlationId)),
        0,
      );
      live.lastEventId = events.at(-1)?.eventId ?? null;
      live.view = registryViewOf(actorOf(live).getSnapshot());
      if (TERMINAL.has(record.status)) {
        resumeLingering(live, record, events);
        lingering.push(live);
        report.lingering += 1;
      } else {
        restored.push(live);
        report.restored += 1;
      }
    }
    subscription = venue.subscribe(onStream);
    for (const live of restored) {
      append(
        live,
        'recovery.restored',
        { stage: 'reconcile', source: 'system' },
        {
          state: describeState(actorOf(live).getSnapshot().value),
        },
      );
      if (actorOf(live).getSnapshot().matches('intent-created')) {
        report.abandoned += 1;
        const reason = 'registered but not sent before the restart; a stale intent is never sent late';
        deliver(
          live,
          {
            type: 'intent.blocked',
            stage: 'reconcile',
            reason,
            tag: 'RECOVERY_ABANDONED:not_sent_before_restart',
          },
          {
            stage: 'reconcile',
            source: 'system',
            reasonCode: 'RECOVERY_ABANDONED:not_sent_before_restart',
            reason,
          },
        );
      } else {
        report.reconciled += 1;
        live.fillSyncDue = true;
        lookup(live, 'reconcile');
      }
    }
    for (const live of lingering) {
      append(
        live,
        'recovery.restored',
        { stage: 'reconcile', source: 'system' },
        { state: describeState(actorOf(live).getSnapshot().value), lingering: true },
      );
      // A fill the venue made while this process was down, or that it never managed to read, is
      // booked now (by trade id: one already booked applies once). Blocked intents never reached
      // the venue and have nothing to read.
      if (actorOf(live).getSnapshot().matches('closed')) live.fillSyncDue = true;
    }
    await idle();
    for (const live of restored)
      if (live.fillSyncDue && !TERMINAL.has(live.view.status)) await syncFills(live);
    // Before the supervisors' first venue snapshot, as for the intents still working: the boot
    // base then already includes these fills.
    for (const live of lingering) if (live.fillSyncDue) await syncFills(live);
    const open = await venue.openOrders();
    if (open.ok) {
      for (const order of open.value) {
        if (byClientOrderId.has(order.clientOrderId) || store.findByClientOrderId(order.clientOrderId))
          continue;
        report.orphans.push({
          clientOrderId: order.clientOrderId,
          venueOrderId: order.venueOrderId,
          symbol: order.symbol,
          status: order.status,
        });
      }
    } else {
      ports.logger?.warn(
        { message: open.message },
        'open orders could not be read at start; orphans unknown',
      );
    }
    if (report.orphans.length > 0) {
      void notify({
        severity: 'warning',
        code: 'ORPHAN_ORDERS',
        text: `${report.orphans.length} open venue orders keel did not place`,
        data: { orphans: report.orphans },
      });
      if (options.recovery.orphans === 'freeze') {
        freeze = {
          kind: 'orphans',
          tag: 'RECONCILE_BLOCKED:orphan_orders',
          reason: `${report.orphans.length} open venue orders keel did not place: ${report.orphans
            .slice(0, 5)
            .map((orphan) => orphan.clientOrderId)
            .join(', ')}`,
        };
        report.entriesFrozen = true;
      }
    }
    await idle();
    return report;
  }

  /**
   * A finished intent restored from the store lingers again, as it did before the crash: it is
   * out of the entry guards' counts, and finalizes `lingerMs` after the restart (the stream was
   * down with the process, so the window for late fills through it opens again) once its fills
   * have been read. Its result says what the store says until something changes it.
   */
  function resumeLingering(live: LiveIntent, record: RegistryRecord, events: readonly JournalEvent[]): void {
    const stage = decidingStage(record, events);
    const last = events.at(-1);
    live.stage = stage;
    live.reasonCode = record.tag;
    live.committed = {
      ...live.committed,
      view: live.view,
      stage,
      reasonCode: record.tag,
      eventId: last?.eventId ?? live.committed.eventId,
      causingEventId: last?.causingEventId ?? null,
    };
    onFinished(live);
  }

  function seqOf(eventId: string, correlationId: string): number {
    if (!eventId.startsWith(`${correlationId}.`)) return 0;
    const seq = Number(eventId.slice(correlationId.length + 1));
    return Number.isInteger(seq) ? seq : 0;
  }

  // ── the clock ────────────────────────────────────────────────────────────────────────────────

  function tick(): void {
    if (closed) return;
    const now = clock.now();
    for (const live of [...touched]) {
      if (!intents.has(live.record.intentId) || live.actor === null) {
        touched.delete(live);
      } else if (isQuiet(live)) {
        live.quietSince ??= now;
        if (now - live.quietSince >= options.parkAfterMs) {
          park(live);
          touched.delete(live);
        }
      } else {
        live.quietSince = null;
      }
    }
    for (const live of [...timed])
      deliver(live, { type: 'clock.tick', now }, { stage: 'router', source: 'system' });
    for (const live of [...attention]) {
      if (!intents.has(live.record.intentId)) {
        attention.delete(live);
        continue;
      }
      if (live.fillSyncDue && !live.syncingFills) track(syncFills(live));
      if (live.absentCheckAt !== null && now >= live.absentCheckAt && live.submitting === 0) {
        if (
          actorOf(live)
            .getSnapshot()
            .matches({ live: { order: 'sent-to-broker' } })
        )
          lookup(live, 'reconcile');
        else live.absentCheckAt = null;
      }
      if (live.closedAt !== null && shouldFinalizeNow(live)) finalize(live);
      else if (live.closedAt === null && !live.fillSyncDue && live.absentCheckAt === null)
        attention.delete(live);
    }
    try {
      ports.onTick?.(now);
    } catch (error) {
      ports.logger?.error({ err: error }, 'a tick subscriber threw');
    }
  }

  async function idle(): Promise<void> {
    while (running.size > 0) await Promise.all([...running]);
  }

  function requireStarted(): void {
    if (closed) throw new KeelError(ERROR_CODES.closed, 'keel is closed');
    if (!started)
      throw new KeelError(ERROR_CODES.closed, 'keel has not finished starting (restore → reconcile)');
  }

  return {
    async start() {
      if (started) throw new KeelError(ERROR_CODES.closed, 'keel is already started');
      const report = await recover();
      ticker = clock.setInterval(tick, options.tickMs);
      started = true;
      return report;
    },
    submit(intent, submitOptions = {}) {
      try {
        requireStarted();
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const id = submitOptions.intentId;
      if (id !== undefined) {
        const live = intents.get(id);
        if (live) return Promise.resolve(resultOf(live));
        const pending = registering.get(id);
        if (pending) return pending;
      }
      const registration = register(intent, id);
      if (id !== undefined) {
        registering.set(id, registration);
        void registration.finally(() => registering.delete(id)).catch(() => undefined);
      }
      return registration;
    },
    async cancel(intentId) {
      requireStarted();
      const live = intents.get(intentId);
      if (live) {
        deliver(
          live,
          { type: 'intent.cancel', now: clock.now() },
          { stage: 'ingress', source: live.record.intent.source },
        );
        await live.persisted;
        return resultOf(live);
      }
      const record = store.get(intentId);
      if (!record) throw new KeelError(ERROR_CODES.unknownIntent, `no intent ${intentId}`);
      return resultOfRecord(record);
    },
    async replace(intentId, newQty) {
      requireStarted();
      const qty = parseOrThrow(z.number().positive().finite(), newQty, 'bad replace quantity');
      const live = intents.get(intentId);
      if (!live) {
        const record = store.get(intentId);
        if (!record) throw new KeelError(ERROR_CODES.unknownIntent, `no intent ${intentId}`);
        return resultOfRecord(record);
      }
      const { intent } = live.record;
      if (qty > actorOf(live).getSnapshot().context.qtyInForce && !isProtectiveExit(intent)) {
        // More quantity is more exposure: the entry blockers judge the order at its new size.
        const block = decideBlock({ ...intent, qty }, live);
        if (block.blocked) throw new KeelError(ERROR_CODES.blocked, `${block.tag}: ${block.reason}`);
      }
      deliver(
        live,
        { type: 'intent.replace', newQty: qty, now: clock.now() },
        { stage: 'ingress', source: intent.source },
      );
      await live.persisted;
      return resultOf(live);
    },
    settled(intentId) {
      const live = intents.get(intentId);
      if (live) {
        if (TERMINAL.has(live.view.status)) return live.persisted.then(() => resultOf(live));
        return new Promise((resolve) => live.waiters.push(resolve));
      }
      const record = store.get(intentId);
      if (!record) return Promise.reject(new KeelError(ERROR_CODES.unknownIntent, `no intent ${intentId}`));
      return Promise.resolve(resultOfRecord(record));
    },
    get(intentId) {
      const live = intents.get(intentId);
      if (live) return resultOf(live);
      const record = store.get(intentId);
      return record ? resultOfRecord(record) : null;
    },
    onResult(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    anomalies: () => anomalies,
    pnl(account, prices = {}) {
      const portfolio = portfolios.get(account) ?? emptyPortfolio(account);
      const marks: Record<string, number> = {};
      for (const symbol of Object.keys(portfolio.positions)) {
        const price = prices[symbol] ?? ports.lastPrice?.(symbol);
        if (price !== undefined) marks[symbol] = price;
      }
      return buildPnlSnapshot(portfolio, marks, clock.now());
    },
    positions(account) {
      const books =
        account === undefined
          ? [...portfolios.values()]
          : [portfolios.get(account) ?? emptyPortfolio(account)];
      return netPositions(books);
    },
    liveCount: () => intents.size,
    parkedCount: () => {
      let parked = 0;
      for (const live of intents.values()) if (live.actor === null) parked += 1;
      return parked;
    },
    entryFreeze: () => (freeze === null ? null : { tag: freeze.tag, reason: freeze.reason }),
    clearEntryFreeze() {
      freeze = null;
    },
    idle,
    async close() {
      if (closed) return;
      closed = true;
      ticker?.cancel();
      subscription?.close();
      router.close();
      await idle();
      for (const live of intents.values()) live.actor?.stop();
    },
  };
}

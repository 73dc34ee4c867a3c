/**
 * The position-belief registry: one position-belief actor per account and symbol, root actors in
 * a Map (the intents' registry pattern), driven by fills and by each reconcile cycle's evidence.
 * Invariants: a belief's local position changes only through its machine (a fill, a repair, an
 * adoption, a cleared phantom), and every change reaches the reconcile supervisor; every belief
 * is shown each cycle's evidence for its symbol, flat included, but a belief already in sync
 * with unchanged evidence is skipped (the steady state costs no actor work); each announcement is
 * journaled under the symbol's own correlation id; a protection gap past its TTL reaches the
 * supervisor as pressure until coverage is back.
 */
import type { Anomaly, LifecycleMode } from './checked-actor.js';
import { describeState } from './checked-actor.js';
import { createSupervisedActor, type ChildSupervision, type SupervisedActor } from './supervised.js';
import { openSupervisorJournal, type SupervisorJournal } from './supervisor-journal.js';
import {
  DEFAULT_POSITION_TOLERANCE,
  type FillSide,
  type Position,
  type ProtectionEvidence,
} from '../domain/position.js';
import type { PositionMap } from '../domain/reconcile.js';
import {
  positionBeliefMachine,
  type PositionBeliefConfig,
  type PositionBeliefEmitted,
  type PositionBeliefEvent,
} from '../machines/position-belief.machine.js';
import type { LoggerPort } from '../ports/logger.port.js';
import type { Alert } from '../ports/notifier.port.js';
import type { StorePort } from '../ports/store.port.js';

/** The journal correlation id of one symbol's belief: `supervisor.position.<account>.<symbol>`. */
export function beliefCorrelationId(account: string, symbol: string): string {
  return `supervisor.position.${account}.${symbol}`;
}

export interface PositionBeliefsPorts {
  store: StorePort;
  logger?: LoggerPort;
}

export interface PositionBeliefsHooks {
  /** A belief's local position changed: the reconcile supervisor compares the new one next. */
  onLocalChanged(symbol: string, position: Position | null): void;
  onGapBreached(symbol: string): void;
  onGapClosed(symbol: string): void;
  alert(alert: Alert): void;
  onAnomaly(anomaly: Anomaly): void;
  onError(error: unknown): void;
  track(promise: Promise<unknown>): void;
  /** Restart intensity and reports for each belief actor. */
  supervision(name: string): ChildSupervision;
}

/** One belief as a status page shows it. */
export interface BeliefView {
  account: string;
  symbol: string;
  /** The belief region's state: unknown, confirmed, drift, repairing, phantom-suspect, orphan, adopted, frozen. */
  state: string;
  protection: string;
  local: Position | null;
  venue: Position | null;
  observedAt: number | null;
  mismatch: { kind: string; firstSeenAt: number; lastSeenAt: number } | null;
  gap: { coverage: string; since: number; deadline: number; critical: boolean } | null;
}

export interface PositionBeliefs {
  /** Applies a booked fill to the symbol's belief. */
  applyFill(symbol: string, fill: { qty: number; side: FillSide; price: number }): void;
  /** Shows one cycle's evidence to every belief: the symbols observed and, as flat, every other one. */
  observe(
    now: number,
    observations: ReadonlyArray<{ symbol: string; venue: Position | null; protection: ProtectionEvidence }>,
  ): void;
  /** Executes the supervisor's repair request: the belief takes the venue's position. */
  repair(symbol: string): { ok: true } | { ok: false; reason: string };
  /** An operator adopts a frozen orphan position; resolves once journaled. */
  adopt(symbol: string, by: string): Promise<BeliefView>;
  /** Starts a belief at a known position (boot: booked or adopted from the venue). */
  seed(symbol: string, position: Position): void;
  /**
   * Boot: a belief the venue has not judged yet takes the venue's position, unless a fill was
   * applied to it after `mark` (a `fillMark()` read before the snapshot was asked for), which the
   * snapshot may not include. Creates the belief when the venue holds a position; false when
   * nothing changed.
   */
  rebase(symbol: string, position: Position | null, mark: number): boolean;
  /** How many fills have been applied so far: read before a venue snapshot is asked for. */
  fillMark(): number;
  /** Opens the symbol's protection gap at once (a stage-1 stop failed). */
  assertGap(symbol: string, now: number, reason: string): void;
  tick(now: number): void;
  /** The local positions, by symbol, of every non-flat belief. */
  local(): PositionMap;
  view(symbol: string): BeliefView | null;
  views(): BeliefView[];
  /** Why entries on this symbol are denied (frozen orphan, critical protection gap), or null. */
  entryBlock(symbol: string): { tag: string; reason: string } | null;
  stop(): void;
}

interface Entry {
  belief: SupervisedActor<typeof positionBeliefMachine>;
  journal: SupervisorJournal | null;
  /** The last evidence shown, so an unchanged observation of an in-sync belief is skipped. */
  seenVenue: Position | null;
  seenProtection: ProtectionEvidence | null;
  local: Position | null;
  breached: boolean;
  /** When evidence was last looked at, skipped or not. */
  checkedAt: number | null;
  /** The fill count (`fillMark`) when a fill was last applied to this belief. */
  lastFillMark: number;
}

const samePosition = (a: Position | null, b: Position | null): boolean =>
  a === null || b === null ? a === b : a.qty === b.qty && a.side === b.side && a.entryPrice === b.entryPrice;

const NO_PROTECTION: ProtectionEvidence = { stopQty: 0, closePosition: false };

/**
 * What each belief announcement journals as its reason. A belief's first change of a run has no
 * earlier event to point at, and DESIGN.md wants every transition to name its cause: the
 * reconcile observation that produced it is that cause.
 */
const BELIEF_REASON: Record<Exclude<PositionBeliefEmitted['type'], `lifecycle.${string}`>, string> = {
  'belief.drift.detected': 'POSITION_DRIFT',
  'belief.repair.requested': 'POSITION_DRIFT',
  'belief.phantom.suspected': 'PHANTOM_POSITION',
  'belief.phantom.cleared': 'PHANTOM_CLEARED',
  'belief.orphan.detected': 'ORPHAN_POSITION',
  'belief.orphan.frozen': 'ORPHAN_FROZEN',
  'belief.orphan.adopted': 'ORPHAN_ADOPTED',
  'belief.protection.gap': 'PROTECTION_GAP',
  'belief.protection.restored': 'PROTECTION_RESTORED',
};

/**
 * Starts an empty registry; beliefs appear with their first fill, seed or observation.
 *
 * @example
 * const beliefs = createPositionBeliefs({ store }, hooks, { mode: 'lenient', account: 'paper' });
 * beliefs.applyFill('BTCUSDT', { qty: 0.01, side: 'buy', price: 60_000 });
 */
export function createPositionBeliefs(
  ports: PositionBeliefsPorts,
  hooks: PositionBeliefsHooks,
  options: {
    mode: LifecycleMode;
    account: string;
    config?: Partial<PositionBeliefConfig>;
    /** A variant of the machine (tests pass one whose actions throw). */
    machine?: typeof positionBeliefMachine;
  },
): PositionBeliefs {
  const { logger } = ports;
  const { account } = options;
  const entries = new Map<string, Entry>();
  const pendingOf = new WeakMap<Entry, PositionBeliefEmitted[]>();
  const tolerance = options.config?.tolerance ?? DEFAULT_POSITION_TOLERANCE;
  let now = 0;
  let fills = 0;

  function journalOf(entry: Entry, symbol: string): SupervisorJournal {
    entry.journal ??= openSupervisorJournal(ports.store, beliefCorrelationId(account, symbol), logger);
    return entry.journal;
  }

  function entryOf(symbol: string, seed: Position | null = null): Entry {
    const known = entries.get(symbol);
    if (known) return known;
    const emitted: PositionBeliefEmitted[] = [];
    const belief = createSupervisedActor(options.machine ?? positionBeliefMachine, {
      mode: options.mode,
      input: {
        account,
        symbol,
        local: seed,
        ...(options.config === undefined ? {} : { config: options.config }),
      },
      onAnomaly: (anomaly) => hooks.onAnomaly(anomaly),
      ...hooks.supervision(`position-belief:${symbol}`),
    });
    const entry: Entry = {
      belief,
      journal: null,
      seenVenue: null,
      seenProtection: null,
      local: belief.getSnapshot().context.local,
      breached: false,
      checkedAt: null,
      lastFillMark: 0,
    };
    for (const type of [
      'belief.drift.detected',
      'belief.repair.requested',
      'belief.phantom.suspected',
      'belief.phantom.cleared',
      'belief.orphan.detected',
      'belief.orphan.frozen',
      'belief.orphan.adopted',
      'belief.protection.gap',
      'belief.protection.restored',
      'lifecycle.ignored',
    ] as const) {
      belief.on(type, (event) => emitted.push(event));
    }
    entries.set(symbol, entry);
    pendingOf.set(entry, emitted);
    if (entry.local !== null) hooks.onLocalChanged(symbol, entry.local);
    return entry;
  }

  /** Sends, then journals what the belief announced and passes on what changed. */
  function send(symbol: string, entry: Entry, event: PositionBeliefEvent): void {
    const before = describeState(entry.belief.getSnapshot().value);
    entry.belief.send(event);
    const snapshot = entry.belief.getSnapshot();
    const announced = pendingOf.get(entry)?.splice(0) ?? [];
    const after = describeState(snapshot.value);
    for (const emitted of announced) record(symbol, entry, emitted, before, after);
    const local = snapshot.context.local;
    if (!samePosition(local, entry.local)) {
      entry.local = local;
      hooks.onLocalChanged(symbol, local);
    }
    const breached = snapshot.hasTag('protection-gap-critical');
    if (breached !== entry.breached) {
      entry.breached = breached;
      if (breached) hooks.onGapBreached(symbol);
      else hooks.onGapClosed(symbol);
    }
  }

  function record(
    symbol: string,
    entry: Entry,
    emitted: PositionBeliefEmitted,
    from: string,
    to: string,
  ): void {
    if (emitted.type === 'lifecycle.refused') return;
    if (emitted.type === 'lifecycle.ignored') {
      logger?.info(
        { symbol, event: emitted.event, reason: emitted.reason },
        'a position belief ignored an event',
      );
      return;
    }
    const { type, account: _account, symbol: _symbol, at, ...data } = emitted;
    const critical = type === 'belief.protection.gap' && emitted.severity === 'critical';
    hooks.track(
      journalOf(entry, symbol).append({
        ts: at,
        type,
        stage: 'reconcile',
        source: type === 'belief.orphan.adopted' && emitted.by !== 'policy' ? 'operator' : 'system',
        reasonCode: critical ? 'PROTECTION_GAP_TTL' : BELIEF_REASON[type],
        from,
        to,
        data: { account, symbol, ...data },
      }),
    );
    if (critical)
      hooks.alert({
        severity: 'critical',
        code: 'PROTECTION_GAP',
        text: `${symbol}: position ${emitted.coverage} by stops for longer than its TTL; new entries on it are denied`,
        data: { symbol, coverage: emitted.coverage, since: emitted.since, reason: emitted.reason },
      });
    else if (type === 'belief.orphan.frozen')
      hooks.alert({
        severity: 'critical',
        code: 'ORPHAN_POSITION_FROZEN',
        text: `${symbol}: the venue holds a position keel did not open; entries on it are frozen until an operator adopts it`,
        data: { symbol, venue: emitted.venue },
      });
    else if (type === 'belief.phantom.cleared')
      hooks.alert({
        severity: 'warning',
        code: 'PHANTOM_POSITION_CLEARED',
        text: `${symbol}: a position keel believed in was not on the venue for ${emitted.misses} cycles; cleared`,
        data: { symbol, cleared: emitted.cleared, firstSeenAt: emitted.firstSeenAt },
      });
  }

  function viewOf(symbol: string, entry: Entry): BeliefView {
    const snapshot = entry.belief.getSnapshot();
    const context = snapshot.context;
    const value = snapshot.value as { belief: string; protection: string | Record<string, string> };
    const protection =
      typeof value.protection === 'string' ? value.protection : (Object.keys(value.protection)[0] ?? '');
    return {
      account,
      symbol,
      state: value.belief,
      protection,
      local: context.local,
      venue: context.venue,
      observedAt: entry.checkedAt ?? context.observedAt,
      mismatch:
        context.mismatch === null
          ? null
          : {
              kind: context.mismatch.kind,
              firstSeenAt: context.mismatch.firstSeenAt,
              lastSeenAt: context.mismatch.lastSeenAt,
            },
      gap:
        context.gap === null
          ? null
          : { ...context.gap, critical: snapshot.hasTag('protection-gap-critical') },
    };
  }

  function isQuiet(entry: Entry): boolean {
    const snapshot = entry.belief.getSnapshot();
    return snapshot.hasTag('in-sync') && !snapshot.hasTag('protection-gap');
  }

  return {
    applyFill(symbol, fill) {
      const entry = entryOf(symbol);
      fills += 1;
      entry.lastFillMark = fills;
      send(symbol, entry, { type: 'position.fill.applied', ...fill });
    },
    fillMark: () => fills,
    rebase(symbol, position, mark) {
      const entry = entries.get(symbol);
      if (!entry) {
        if (position === null) return false;
        entryOf(symbol, position);
        return true;
      }
      if (entry.lastFillMark > mark || !entry.belief.getSnapshot().matches({ belief: 'unknown' }))
        return false;
      if (samePosition(entry.local, position)) return false;
      send(symbol, entry, { type: 'position.rebased', position });
      return true;
    },
    observe(at, observations) {
      now = Math.max(now, at);
      const seen = new Set<string>();
      for (const observation of observations) {
        seen.add(observation.symbol);
        const known = entries.get(observation.symbol);
        // A symbol nobody believes in and the venue shows flat needs no actor.
        if (!known && observation.venue === null) continue;
        const entry = known ?? entryOf(observation.symbol);
        entry.checkedAt = now;
        if (
          isQuiet(entry) &&
          samePosition(entry.seenVenue, observation.venue) &&
          entry.seenProtection?.stopQty === observation.protection.stopQty &&
          entry.seenProtection.closePosition === observation.protection.closePosition
        )
          continue;
        entry.seenVenue = observation.venue;
        entry.seenProtection = observation.protection;
        send(observation.symbol, entry, {
          type: 'reconcile.observed',
          now,
          venue: observation.venue,
          protection: observation.protection,
        });
      }
      // A belief whose symbol the venue no longer lists is observed flat, so a phantom counts its
      // misses and a frozen orphan that went away is released.
      for (const [symbol, entry] of entries) {
        if (seen.has(symbol)) continue;
        entry.checkedAt = now;
        if (isQuiet(entry) && entry.local === null && entry.seenVenue === null) continue;
        entry.seenVenue = null;
        entry.seenProtection = NO_PROTECTION;
        send(symbol, entry, { type: 'reconcile.observed', now, venue: null, protection: NO_PROTECTION });
      }
    },
    repair(symbol) {
      const entry = entries.get(symbol);
      if (!entry) return { ok: false, reason: 'no belief is held for this symbol' };
      send(symbol, entry, { type: 'repair.requested' });
      if (!entry.belief.getSnapshot().hasTag('repairing'))
        return { ok: false, reason: 'the belief is not drifting, or its repair is cooling down' };
      // The repair is the correction itself: the venue is authoritative, so the belief takes its position.
      send(symbol, entry, { type: 'repair.succeeded' });
      return { ok: true };
    },
    async adopt(symbol, by) {
      const entry = entries.get(symbol);
      if (!entry || !entry.belief.getSnapshot().hasTag('needs-operator'))
        throw new Error(`${symbol} has no frozen orphan position to adopt`);
      send(symbol, entry, { type: 'orphan.adopt', by });
      await entry.journal?.idle();
      return viewOf(symbol, entry);
    },
    seed(symbol, position) {
      if (entries.has(symbol)) return;
      entryOf(symbol, position);
    },
    assertGap(symbol, at, reason) {
      now = Math.max(now, at);
      send(symbol, entryOf(symbol), { type: 'protection.gap.asserted', now, reason });
    },
    tick(at) {
      now = Math.max(now, at);
      for (const [symbol, entry] of entries) {
        // Only beliefs with a deadline (a phantom's grace, a repair, a gap's TTL) need the time.
        const snapshot = entry.belief.getSnapshot();
        if (!snapshot.hasTag('mismatch') && !snapshot.hasTag('protection-gap')) continue;
        send(symbol, entry, { type: 'clock.tick', now });
      }
    },
    local() {
      const map: PositionMap = {};
      for (const [symbol, entry] of entries) {
        if (entry.local !== null && entry.local.qty > tolerance.qtyAbsolute) map[symbol] = { ...entry.local };
      }
      return map;
    },
    view(symbol) {
      const entry = entries.get(symbol);
      return entry ? viewOf(symbol, entry) : null;
    },
    views: () =>
      [...entries].sort(([a], [b]) => a.localeCompare(b)).map(([symbol, entry]) => viewOf(symbol, entry)),
    entryBlock(symbol) {
      const entry = entries.get(symbol);
      if (!entry) return null;
      const snapshot = entry.belief.getSnapshot();
      if (entry.belief.gaveUp())
        return {
          tag: 'RECONCILE_BLOCKED:belief_down',
          reason: `the ${symbol} position belief failed past its restart intensity; keel cannot judge new exposure on it`,
        };
      if (snapshot.hasTag('needs-operator'))
        return {
          tag: 'RECONCILE_BLOCKED:orphan_position',
          reason: `the venue holds a ${symbol} position keel did not open; an operator must adopt it first`,
        };
      if (snapshot.hasTag('protection-gap-critical'))
        return {
          tag: 'RECONCILE_BLOCKED:protection_gap',
          reason: `the ${symbol} position has been without full stop coverage past its TTL`,
        };
      return null;
    },
    stop() {
      for (const entry of entries.values()) entry.belief.stop();
    },
  };
}

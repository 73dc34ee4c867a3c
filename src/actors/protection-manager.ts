/**
 * The protection manager: keeps one protective stop (a reduce-only SL stop_market) working for
 * each position whose entry named a `stop_loss`, sized to the position.
 * Invariants: stage-1 protection is placed as soon as an entry fill is booked, and a failed
 * placement opens the symbol's protection gap at once; an undersized stop is refreshed new-first
 * (the larger stop is working before the old one is cancelled, so the position is never naked in
 * between), one operation per symbol at a time, gated by `minDeltaRatio` / `maxRefreshIntervalMs`
 * and a cooldown after failure; the venue's evidence decides coverage, and keel's own stop that the
 * evidence has not caught up with yet is never refreshed again; every placement, refresh, release
 * and failure is journaled under `supervisor.protection`.
 */
import { openSupervisorJournal, type SupervisorJournal } from './supervisor-journal.js';
import type { BookedFill } from './runtime.js';
import type { Intent } from '../domain/intent.schema.js';
import type { IntentResult } from '../domain/intent-result.schema.js';
import type { Position, ProtectionEvidence } from '../domain/position.js';
import {
  DEFAULT_STOP_REFRESH_CONFIG,
  decideStopRefresh,
  exitSideOf,
  type StopRefreshConfig,
} from '../domain/protection.js';
import type { ClockPort } from '../ports/clock.port.js';
import type { LoggerPort } from '../ports/logger.port.js';
import type { StorePort } from '../ports/store.port.js';

/** The correlation id protection events are journaled under. */
export const PROTECTION_CORRELATION_ID = 'supervisor.protection';

export interface ProtectionManagerPorts {
  clock: ClockPort;
  store: StorePort;
  logger?: LoggerPort;
  /** Resolves once registered and judged by the blockers; the venue's answer comes later, as a result. */
  submit(intent: Intent): Promise<IntentResult>;
  cancel(intentId: string): Promise<IntentResult>;
  /** The intent's latest committed result. */
  get(intentId: string): IntentResult | null;
  /** The symbol's position as keel believes it (the position belief), null when flat. */
  position(symbol: string): Position | null;
  /** Opens the symbol's protection gap at once. */
  assertGap(symbol: string, reason: string): void;
}

/** One symbol's protection, as a status page shows it. */
export interface ProtectionView {
  symbol: string;
  stopPrice: number | null;
  stop: { intentId: string; qty: number } | null;
  inFlight: boolean;
  refreshes: number;
  lastFailure: string | null;
}

export interface ProtectionManager {
  /** A booked fill: an entry's fill places or grows its stop at once. */
  onFill(fill: BookedFill): void;
  /** One reconcile cycle's evidence: coverage is checked against the venue's positions and stops. */
  onEvidence(
    now: number,
    observations: ReadonlyArray<{ symbol: string; venue: Position | null; protection: ProtectionEvidence }>,
  ): void;
  /** Every intent result: a managed stop that ended (triggered, cancelled, rejected) is forgotten. */
  onResult(result: IntentResult): void;
  views(): ProtectionView[];
  /** Settles when every placement, refresh and journal write started so far has finished. */
  idle(): Promise<void>;
  /** Gives up waiting for venue answers (keel is closing); nothing more is placed. */
  stop(): void;
}

type Template = Pick<Intent, 'strategy_id' | 'bot_id' | 'client_id' | 'venue' | 'account'>;

interface SymbolProtection {
  symbol: string;
  stopPrice: number | null;
  template: Template | null;
  stop: { intentId: string; qty: number } | null;
  inFlight: boolean;
  notBefore: number;
  shortfallSince: number | null;
  refreshes: number;
  lastFailure: string | null;
}

const TERMINAL = new Set(['EXECUTED', 'FAILED']);

/** Whether the venue has answered a stop: working (it has the order, or it already filled) or refused. */
function verdictOf(result: IntentResult): 'working' | 'failed' | null {
  if (result.status === 'FAILED') return 'failed';
  return result.venue_order_id !== null || result.status === 'EXECUTED' ? 'working' : null;
}

/**
 * Starts the protection manager; the stops a previous run left working are taken over from the registry.
 *
 * @example
 * const protection = createProtectionManager({ clock, store, submit, cancel, position, assertGap });
 * runtime.onResult((result) => protection.onResult(result));
 */
export function createProtectionManager(
  ports: ProtectionManagerPorts,
  config: Partial<StopRefreshConfig> = {},
): ProtectionManager {
  const { clock, logger } = ports;
  const settings: StopRefreshConfig = { ...DEFAULT_STOP_REFRESH_CONFIG, ...config };
  const bySymbol = new Map<string, SymbolProtection>();
  const managed = new Map<string, string>();
  const pending = new Set<Promise<unknown>>();
  /** Placements sent and not yet answered by the venue, by intent id. */
  const awaiting = new Map<string, (result: IntentResult | null) => void>();
  let stopped = false;
  const journal: SupervisorJournal = openSupervisorJournal(ports.store, PROTECTION_CORRELATION_ID, logger);

  function track(promise: Promise<unknown>): void {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => undefined);
  }

  function protectionOf(symbol: string): SymbolProtection {
    let entry = bySymbol.get(symbol);
    if (!entry) {
      entry = {
        symbol,
        stopPrice: null,
        template: null,
        stop: null,
        inFlight: false,
        notBefore: 0,
        shortfallSince: null,
        refreshes: 0,
        lastFailure: null,
      };
      bySymbol.set(symbol, entry);
    }
    return entry;
  }

  // Start-up is recovery: keel's own stops still working are managed again, at their price.
  for (const record of ports.store.nonTerminal()) {
    const { intent } = record;
    if (intent.kind !== 'SL' || intent.source !== 'system' || intent.stop_price === undefined) continue;
    const entry = protectionOf(intent.symbol);
    entry.stopPrice = intent.stop_price;
    entry.template = {
      strategy_id: intent.strategy_id,
      bot_id: intent.bot_id,
      client_id: intent.client_id,
      venue: intent.venue,
      account: intent.account,
    };
    entry.stop = { intentId: record.intentId, qty: intent.qty ?? 0 };
    managed.set(record.intentId, intent.symbol);
  }

  function write(type: string, entry: SymbolProtection, data: Record<string, unknown>, reasonCode?: string) {
    track(
      journal.append({
        ts: clock.now(),
        type,
        stage: 'reconcile',
        source: 'system',
        reasonCode: reasonCode ?? null,
        data: { symbol: entry.symbol, stop_price: entry.stopPrice, ...data },
      }),
    );
  }

  function stopIntent(entry: SymbolProtection, position: Position): Intent | null {
    if (entry.stopPrice === null || entry.template === null) return null;
    return {
      ...entry.template,
      source: 'system',
      symbol: entry.symbol,
      side: exitSideOf(position.side),
      type: 'stop_market',
      qty: position.qty,
      stop_price: entry.stopPrice,
      reduce_only: true,
      close_position: false,
      kind: 'SL',
    };
  }

  /** The result once the venue has answered; null when keel stopped first. */
  function answered(first: IntentResult): Promise<IntentResult | null> | IntentResult {
    const latest = ports.get(first.intent_id) ?? first;
    if (verdictOf(latest) !== null) return latest;
    return new Promise((resolve) => awaiting.set(first.intent_id, resolve));
  }

  /** Places a stop for the whole position; with `replacing`, cancels that stop once the new one works. */
  async function place(entry: SymbolProtection, position: Position, cause: string): Promise<void> {
    const intent = stopIntent(entry, position);
    if (intent === null) return;
    const replacing = entry.stop;
    entry.inFlight = true;
    let result: IntentResult | null = null;
    let failure: string | null = null;
    try {
      // A stop counts as placed only once the venue has it: `submit` answers before the venue does.
      const sent: IntentResult | null = await answered(await ports.submit(intent));
      if (sent === null) return;
      result = sent;
      if (result.status === 'FAILED')
        failure = `${result.tag ?? 'FAILED'}: ${result.reason ?? 'no reason given'}`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    if (stopped) return;
    if (failure !== null || result === null) {
      entry.inFlight = false;
      entry.notBefore = clock.now() + settings.refreshCooldownMs;
      entry.lastFailure = failure;
      write(
        'protection.stop.failed',
        entry,
        { cause, qty: position.qty, reason: failure },
        'PROTECTION_FAILED',
      );
      logger?.warn({ symbol: entry.symbol, cause, reason: failure }, 'protective stop placement failed');
      // No stop at all: the gap is asserted now rather than found at the next cycle.
      if (entry.stop === null)
        ports.assertGap(entry.symbol, `protective stop failed: ${failure ?? 'unknown'}`);
      return;
    }
    managed.set(result.intent_id, entry.symbol);
    entry.stop = { intentId: result.intent_id, qty: position.qty };
    entry.lastFailure = null;
    entry.shortfallSince = null;
    if (replacing) {
      entry.refreshes += 1;
      write('protection.stop.refreshed', entry, {
        cause,
        qty: position.qty,
        intent_id: result.intent_id,
        replaced_intent_id: replacing.intentId,
        replaced_qty: replacing.qty,
      });
      managed.delete(replacing.intentId);
      try {
        await ports.cancel(replacing.intentId);
      } catch (error) {
        // The old stop is reduce-only: left working, it can only close less than the new one covers.
        logger?.warn({ symbol: entry.symbol, err: error }, 'the replaced stop could not be cancelled');
      }
    } else {
      write('protection.stop.placed', entry, { cause, qty: position.qty, intent_id: result.intent_id });
    }
    entry.inFlight = false;
    // The position may have moved while the venue answered; check it again.
    evaluate(entry, ports.position(entry.symbol), null, 'recheck');
  }

  function release(entry: SymbolProtection): void {
    const stop = entry.stop;
    if (!stop || entry.inFlight) return;
    entry.stop = null;
    managed.delete(stop.intentId);
    write('protection.stop.released', entry, { intent_id: stop.intentId, qty: stop.qty });
    track(ports.cancel(stop.intentId).catch(() => undefined));
  }

  /**
   * Decides for one symbol. `covered` is the stop quantity the venue's evidence shows (null on the
   * fill path, where keel's own stop is all that is known yet).
   */
  function evaluate(
    entry: SymbolProtection,
    position: Position | null,
    covered: number | null,
    cause: string,
  ) {
    if (stopped) return;
    if (position === null) {
      entry.shortfallSince = null;
      release(entry);
      return;
    }
    if (entry.stopPrice === null || entry.inFlight) return;
    const now = clock.now();
    const own = entry.stop?.qty ?? 0;
    // keel's own stop counts even before the evidence shows it: a stop just placed is not refreshed again.
    const stopQty = Math.max(own, covered ?? 0);
    const decision = decideStopRefresh(
      {
        positionQty: position.qty,
        stopQty,
        now,
        shortfallSince: entry.shortfallSince,
        notBefore: entry.notBefore,
        inFlight: entry.inFlight,
      },
      settings,
    );
    if (decision.reason === 'covered') {
      entry.shortfallSince = null;
      return;
    }
    entry.shortfallSince ??= now;
    if (!decision.refresh) return;
    track(place(entry, position, entry.stop === null ? cause : `${cause}:${decision.reason}`));
  }

  return {
    onFill(fill) {
      const entry = protectionOf(fill.symbol);
      if (fill.intent.kind === 'ENTRY' && fill.intent.stop_loss !== undefined) {
        entry.stopPrice = fill.intent.stop_loss;
        entry.template = {
          strategy_id: fill.intent.strategy_id,
          bot_id: fill.intent.bot_id,
          client_id: fill.intent.client_id,
          venue: fill.intent.venue,
          account: fill.intent.account,
        };
      }
      evaluate(entry, ports.position(fill.symbol), null, 'entry_fill');
    },
    onEvidence(_now, observations) {
      for (const observation of observations) {
        const entry = bySymbol.get(observation.symbol);
        if (!entry) continue;
        const { protection, venue } = observation;
        // One flat snapshot is not enough to drop a stop: only when keel's belief is flat too
        // (a phantom is cleared after its grace and misses) is the stop released.
        if (venue === null) {
          if (ports.position(observation.symbol) === null) evaluate(entry, null, 0, 'reconcile');
          continue;
        }
        evaluate(entry, venue, protection.closePosition ? venue.qty : protection.stopQty, 'reconcile');
      }
    },
    onResult(result) {
      const waiter = awaiting.get(result.intent_id);
      if (waiter && verdictOf(result) !== null) {
        awaiting.delete(result.intent_id);
        waiter(result);
        return;
      }
      const symbol = managed.get(result.intent_id);
      if (symbol === undefined || !TERMINAL.has(result.status)) return;
      managed.delete(result.intent_id);
      const entry = bySymbol.get(symbol);
      if (entry?.stop?.intentId === result.intent_id) {
        entry.stop = null;
        // A stop the venue cancelled or expired is restored, but not faster than the cooldown allows.
        if (result.order_status !== 'FILLED') entry.notBefore = clock.now() + settings.refreshCooldownMs;
        write('protection.stop.ended', entry, {
          intent_id: result.intent_id,
          status: result.status,
          order_status: result.order_status,
        });
      }
    },
    views: () =>
      [...bySymbol.values()]
        .sort((a, b) => a.symbol.localeCompare(b.symbol))
        .map((entry) => ({
          symbol: entry.symbol,
          stopPrice: entry.stopPrice,
          stop: entry.stop === null ? null : { ...entry.stop },
          inFlight: entry.inFlight,
          refreshes: entry.refreshes,
          lastFailure: entry.lastFailure,
        })),
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
      await journal.idle();
    },
    stop() {
      stopped = true;
      for (const waiter of awaiting.values()) waiter(null);
      awaiting.clear();
    },
  };
}

/**
 * The router: executes one order's venue work (submit, cancel, replace) and reports what the venue
 * said as the order-intent machine's events. Invariants: a failed write whose outcome is unknown is
 * looked up by clientOrderId before anything is resent, and a found order is reported, never resent;
 * resends keep the same clientOrderId; every retry emits exactly one `order.retry`; retries are bounded
 * by attempts and elapsed time and end in one give-up event, leaving the order to reconcile; an order is
 * reported rejected only on the venue's own answer; cancel is idempotent. Time only via the ClockPort.
 */
import { classifyOrderError } from '../domain/order-error.js';
import type {
  OrderErrorContext,
  OrderErrorInput,
  OrderErrorPolicy,
  OrderErrorVerdict,
} from '../domain/order-error.schema.js';
import { subtractQuantities } from '../domain/quantity.js';
import { nextRetryDelay, parseRetryPolicy, type RetryPolicy } from '../domain/retry-policy.js';
import type { OrderIntentEvent } from '../machines/order-intent.machine.js';
import type { ClockPort } from '../ports/clock.port.js';
import type {
  ReplaceOrder,
  SubmitOrder,
  VenueFailure,
  VenueOrder,
  VenuePort,
  VenueResult,
} from '../ports/venue.port.js';

type ReportedType =
  | 'venue.order.accepted'
  | 'venue.order.rejected'
  | 'venue.order.filled'
  | 'venue.order.canceled'
  | 'venue.order.expired'
  | 'venue.order.replaced'
  | 'venue.cancel.rejected'
  | 'venue.replace.rejected'
  | 'venue.order.unknown';

/** The order-intent machine's event for what the venue said, with the order it concerns. */
export type RouterReport = Extract<OrderIntentEvent, { type: ReportedType }> & { clientOrderId: string };

/**
 * The machine event inside a report, for `actor.send`: the clientOrderId only routes it.
 *
 * @example
 * onEvent: (event) => { if (isRouterReport(event)) actor.send(toIntentEvent(event)); }
 */
export function toIntentEvent(report: RouterReport): Extract<OrderIntentEvent, { type: ReportedType }> {
  const { clientOrderId: _routedBy, ...event } = report;
  return event;
}

/** True for the reports the order-intent machine consumes; false for retry and give-up telemetry. */
export function isRouterReport(event: RouterEvent): event is RouterReport {
  return event.type.startsWith('venue.');
}

export type RouterOperation = 'submit' | 'cancel' | 'replace' | 'lookup';

/** One per retry, sent before the wait starts. */
export interface OrderRetryEvent {
  type: 'order.retry';
  operation: RouterOperation;
  clientOrderId: string;
  correlationId: string;
  /** The number of the call about to be made (2 for the first retry). */
  attempt: number;
  delayMs: number;
  reason: string;
  /** The error class that allowed the retry. */
  policy: OrderErrorPolicy;
  /** The retry policy's bound on calls, so a reader sees how many remain. */
  maxAttempts: number;
  code?: number | string;
}

/** Sent once when an operation's bound is spent; the order is left for reconcile to settle. */
export interface OrderGaveUpEvent {
  type: 'order.submit.gave_up' | 'order.cancel.gave_up' | 'order.replace.gave_up' | 'order.lookup.gave_up';
  clientOrderId: string;
  correlationId: string;
  attempts: number;
  elapsedMs: number;
  reason: string;
}

export type RouterEvent = RouterReport | OrderRetryEvent | OrderGaveUpEvent;

export interface RouterOptions {
  venue: VenuePort;
  clock: ClockPort;
  /** Partial policies are completed from DEFAULT_RETRY_POLICY. */
  policy?: Partial<RetryPolicy>;
  /** A number in [0, 1); the jitter seam. */
  random: () => number;
  onEvent: (event: RouterEvent) => void;
  /** Ties every event of one intent together; defaults to the clientOrderId. */
  correlationId?: string;
  /** The correlation id of any order, for a router shared by many intents; wins over `correlationId`. */
  correlationOf?: (clientOrderId: string) => string;
  /**
   * Whether fills read from order snapshots (cumulative quantities, no trade ids) are reported.
   * A runtime that books fills from the stream and from trade queries (with trade ids, so each
   * applies once) sets this false and uses `onSnapshot` to learn that a fill sync is due.
   */
  snapshotFills?: boolean;
  /** Every order snapshot the venue answered with, after its events were reported. */
  onSnapshot?: (order: VenueOrder) => void;
  /** Every failed venue answer as classified, so a runtime can watch the error rate (error storm). */
  onVerdict?: (verdict: OrderErrorVerdict, context: OrderErrorContext) => void;
}

export type SubmitOutcome =
  | { kind: 'placed'; order: VenueOrder }
  | { kind: 'rejected'; reason: string; code?: number | string }
  | { kind: 'gave_up'; attempts: number; reason: string };

export type CancelOutcome =
  | { kind: 'canceled'; order: VenueOrder | null; repeated: boolean }
  | { kind: 'filled'; order: VenueOrder }
  | { kind: 'expired'; order: VenueOrder }
  | { kind: 'refused'; reason: string; code?: number | string }
  | { kind: 'gave_up'; attempts: number; reason: string };

export type ReplaceOutcome =
  | { kind: 'replaced'; order: VenueOrder }
  | { kind: 'refused'; reason: string; order?: VenueOrder; code?: number | string }
  | { kind: 'gave_up'; attempts: number; reason: string };

export type LookupOutcome =
  | { kind: 'found'; order: VenueOrder }
  | { kind: 'not_found' }
  | { kind: 'gave_up'; attempts: number; reason: string };

export interface Router {
  submit(order: SubmitOrder): Promise<SubmitOutcome>;
  /** Idempotent: a cancel already under way or finished is not sent again. */
  cancel(symbol: string, clientOrderId: string): Promise<CancelOutcome>;
  /**
   * Amends in place when the venue can; otherwise cancels the order and, unless it filled,
   * submits `replacement` (its quantity reduced by what the old order filled).
   */
  replace(order: ReplaceOrder, replacement?: SubmitOrder): Promise<ReplaceOutcome>;
  /** Stops retrying: every waiting operation gives up (with its give-up event) instead of calling again. */
  close(): void;
  /**
   * Answers the machine's `order.lookup.requested`: reports what the venue holds, or
   * `venue.order.unknown` when it does not know the order (counted by the machine, never terminal).
   */
  lookup(symbol: string, clientOrderId: string): Promise<LookupOutcome>;
  /** Reports an order snapshot read elsewhere (a lookup before a resend, a restart) as events. */
  observe(order: VenueOrder): void;
  /** Drops what the router remembers of a finished order, so a long-lived router stays small. */
  forget(clientOrderId: string): void;
}

/** What one call of a bounded operation decided. */
type Step<T> =
  | { done: T }
  /** Ends at once with the give-up event: nothing may safely be sent again. */
  | { giveUp: string }
  | { retry: { reason: string; policy: OrderErrorPolicy; code?: number | string; retryAfterMs?: number } };

const CLOSED_REASON = 'the router was closed; the order is left to reconcile';
const CANCELED_BEFORE_PLACED = 'a cancel was requested before the order was placed; it is not sent again';

const OPEN_STATUSES: ReadonlySet<VenueOrder['status']> = new Set(['NEW', 'PARTIALLY_FILLED']);

/**
 * Creates a router over one venue.
 *
 * @example
 * const router = createRouter({ venue, clock, random: Math.random, onEvent: (e) => actor.send(e) });
 * const outcome = await router.submit({ clientOrderId: 'keel-1', symbol: 'BTCUSDT', side: 'buy',
 *   type: 'market', qty: 0.01, reduceOnly: false, closePosition: false });
 */
export function createRouter(options: RouterOptions): Router {
  const { venue, clock, random, onEvent } = options;
  const policy = parseRetryPolicy(options.policy ?? {});
  const reportedFill = new Map<string, number>();
  const acknowledged = new Set<string>();
  const cancels = new Map<string, Promise<CancelOutcome>>();
  /** Sends under way (with their retries), so a cancel can stop them before it trusts "unknown order". */
  const submits = new Map<string, { aborted: boolean; done: Promise<unknown> }>();
  const correlationOf = (clientOrderId: string): string =>
    options.correlationOf?.(clientOrderId) ?? options.correlationId ?? clientOrderId;
  const snapshotFills = options.snapshotFills ?? true;
  const waits = new Set<() => void>();
  let closed = false;

  function report(event: RouterReport): void {
    onEvent(event);
  }

  /** Reports a venue snapshot as events, once each: acknowledgement, new fills, terminal status. */
  function reportSnapshot(order: VenueOrder): void {
    const id = order.clientOrderId;
    if (order.status === 'REJECTED') {
      report({
        type: 'venue.order.rejected',
        clientOrderId: id,
        reason: 'the venue reports the order REJECTED',
      });
      return;
    }
    if (!acknowledged.has(id)) {
      acknowledged.add(id);
      report({ type: 'venue.order.accepted', clientOrderId: id, venueOrderId: order.venueOrderId });
    }
    // Snapshots carry a cumulative quantity; only the part not yet reported is new.
    const fresh = snapshotFills ? subtractQuantities(order.filledQty, reportedFill.get(id) ?? 0) : 0;
    if (fresh > 0) {
      reportedFill.set(id, order.filledQty);
      report({
        type: 'venue.order.filled',
        clientOrderId: id,
        qty: fresh,
        ...(order.avgFillPrice === undefined ? {} : { price: order.avgFillPrice }),
      });
    }
    if (order.status === 'CANCELED') report({ type: 'venue.order.canceled', clientOrderId: id });
    if (order.status === 'EXPIRED') report({ type: 'venue.order.expired', clientOrderId: id });
    options.onSnapshot?.(order);
  }

  function classify(failure: VenueFailure, context: OrderErrorContext) {
    const input: OrderErrorInput = { venue: venue.capabilities.venue, context, message: failure.message };
    if (failure.httpStatus !== undefined) input.httpStatus = failure.httpStatus;
    if (failure.code !== undefined) input.code = failure.code;
    if (failure.errno !== undefined) input.errno = failure.errno;
    if (failure.retryAfter !== undefined) input.retryAfter = failure.retryAfter;
    input.now = Math.max(0, Math.trunc(clock.now()));
    const verdict = classifyOrderError(input);
    options.onVerdict?.(verdict, context);
    return verdict;
  }

  /** Adapters must not throw, but one that does has left the outcome unknown: a socket-less failure. */
  async function call<T>(request: () => Promise<VenueResult<T>>): Promise<VenueResult<T>> {
    try {
      return await request();
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  }

  /** The venue's view of the order: the order, `null` when it does not know it, `unknown` on a failed lookup. */
  async function lookup(symbol: string, clientOrderId: string): Promise<VenueOrder | null | 'unknown'> {
    const result = await call(() => venue.queryOrder(symbol, clientOrderId));
    return result.ok ? result.value : 'unknown';
  }

  /** Waits on the clock; `close` ends every wait at once so no timer outlives the router. */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        waits.delete(wake);
        timer.cancel();
        resolve();
      };
      const timer = clock.setTimeout(wake, ms);
      waits.add(wake);
    });
  }

  /** Runs `step` until it is done or the policy gives up; one retry event per retry, one give-up. */
  async function bounded<T>(
    operation: RouterOperation,
    clientOrderId: string,
    step: (attempt: number) => Promise<Step<T>>,
    gaveUp: (attempts: number, reason: string) => T,
  ): Promise<T> {
    const started = clock.now();
    const giveUp = (attempts: number, reason: string): T => {
      onEvent({
        type: `order.${operation}.gave_up`,
        clientOrderId,
        correlationId: correlationOf(clientOrderId),
        attempts,
        elapsedMs: clock.now() - started,
        reason,
      });
      return gaveUp(attempts, reason);
    };
    for (let attempt = 1; ; attempt++) {
      if (closed) return giveUp(attempt - 1, CLOSED_REASON);
      const decided = await step(attempt);
      if ('done' in decided) return decided.done;
      if ('giveUp' in decided) return giveUp(attempt, decided.giveUp);
      const { reason, policy: errorPolicy, code, retryAfterMs } = decided.retry;
      const elapsedMs = clock.now() - started;
      const delayMs = nextRetryDelay(policy, attempt, elapsedMs, random(), retryAfterMs);
      if (delayMs === null) return giveUp(attempt, reason);
      onEvent({
        type: 'order.retry',
        operation,
        clientOrderId,
        correlationId: correlationOf(clientOrderId),
        attempt: attempt + 1,
        delayMs,
        reason,
        policy: errorPolicy,
        maxAttempts: policy.maxAttempts,
        ...(code === undefined ? {} : { code }),
      });
      await sleep(delayMs);
    }
  }

  const retryOf = (
    verdict: ReturnType<typeof classify>,
    failure: VenueFailure,
    reason = verdict.reason,
  ): Step<never> => ({
    retry: {
      reason,
      policy: verdict.policy,
      ...(failure.code === undefined ? {} : { code: failure.code }),
      ...(verdict.retryAfterMs === undefined ? {} : { retryAfterMs: verdict.retryAfterMs }),
    },
  });

  /** The venue holds the order, unless its own status says it refused it. */
  function placedOutcome(order: VenueOrder): SubmitOutcome {
    return order.status === 'REJECTED'
      ? { kind: 'rejected', reason: 'the venue reports the order REJECTED' }
      : { kind: 'placed', order };
  }

  function submit(order: SubmitOrder): Promise<SubmitOutcome> {
    const id = order.clientOrderId;
    const state = { aborted: false, done: Promise.resolve<unknown>(undefined) };
    submits.set(id, state);
    const running = runSubmit(order, state);
    state.done = running;
    void running.finally(() => {
      if (submits.get(id) === state) submits.delete(id);
    });
    return running;
  }

  async function runSubmit(order: SubmitOrder, state: { aborted: boolean }): Promise<SubmitOutcome> {
    const id = order.clientOrderId;
    // Set while the venue's view of an ambiguous send is still unknown: look again, never resend.
    let unresolved: Step<never> | null = null;
    return bounded<SubmitOutcome>(
      'submit',
      id,
      async (attempt) => {
        // A cancel arrived while this send's outcome was unknown: never send again. The cancel,
        // which waits for this to end, then finds the order if an earlier send landed.
        if (attempt > 1 && state.aborted) return { giveUp: CANCELED_BEFORE_PLACED };
        if (unresolved) {
          const found = await lookup(order.symbol, id);
          if (found === 'unknown') return unresolved;
          unresolved = null;
          if (found !== null) {
            reportSnapshot(found);
            return { done: placedOutcome(found) };
          }
        }
        const result = await call(() => venue.submit(order));
        if (result.ok) {
          reportSnapshot(result.value);
          return { done: placedOutcome(result.value) };
        }
        const verdict = classify(result, 'create');
        if (verdict.lookupFirst || verdict.policy === 'idempotent_safe') {
          // The order may have landed: what the venue holds wins over any resend.
          const found = await lookup(order.symbol, id);
          if (found !== null && found !== 'unknown') {
            reportSnapshot(found);
            return { done: placedOutcome(found) };
          }
          if (verdict.policy === 'fatal' || verdict.policy === 'retryable_with_modification') {
            // No HTTP answer, so no venue evidence of a refusal, and no licence to resend: reconcile decides.
            return { giveUp: `${verdict.reason}; the order's fate is unknown` };
          }
          if (found === 'unknown') {
            // Venues refuse a duplicate clientOrderId only while the first order is open; a landed
            // order that already filled would be doubled by a resend, so only a lookup may follow.
            unresolved = retryOf(verdict, result, `${verdict.reason}; the lookup failed, look again`);
            return unresolved;
          }
          // Not found: resend the same clientOrderId; should the first send land late, the venue refuses the copy.
          return retryOf(verdict, result);
        }
        if (verdict.policy === 'retryable') return retryOf(verdict, result);
        const code = result.code;
        report({
          type: 'venue.order.rejected',
          clientOrderId: id,
          reason: verdict.reason,
          ...(code === undefined ? {} : { code }),
        });
        return {
          done: { kind: 'rejected', reason: verdict.reason, ...(code === undefined ? {} : { code }) },
        };
      },
      (attempts, reason) => ({ kind: 'gave_up', attempts, reason }),
    );
  }

  /** A cancel is finished when the order is no longer open; an open order is cancelled again. */
  function cancelSettled(order: VenueOrder): CancelOutcome | undefined {
    if (OPEN_STATUSES.has(order.status)) return undefined;
    if (order.status === 'FILLED') return { kind: 'filled', order };
    if (order.status === 'EXPIRED') return { kind: 'expired', order };
    return { kind: 'canceled', order, repeated: false };
  }

  async function runCancel(symbol: string, id: string): Promise<CancelOutcome> {
    return bounded<CancelOutcome>(
      'cancel',
      id,
      async () => {
        const result = await call(() => venue.cancel(symbol, id));
        if (result.ok) {
          reportSnapshot(result.value);
          const settled = cancelSettled(result.value);
          if (settled) return { done: settled };
          return { retry: { reason: 'the venue still shows the order open', policy: 'retryable' } };
        }
        const verdict = classify(result, 'cancel');
        if (verdict.lookupFirst || verdict.policy === 'idempotent_safe') {
          const found = await lookup(symbol, id);
          if (found === 'unknown')
            return retryOf(verdict, result, `${verdict.reason}; its status is unknown`);
          if (found === null) {
            if (verdict.policy !== 'idempotent_safe') return retryOf(verdict, result);
            // "Unknown order" confirmed by a lookup that finds nothing: the order is gone.
            report({ type: 'venue.order.canceled', clientOrderId: id });
            return { done: { kind: 'canceled', order: null, repeated: false } };
          }
          reportSnapshot(found);
          const settled = cancelSettled(found);
          if (settled) return { done: settled };
          // "Unknown order" while the venue still lists it open: a false positive, cancel again.
          return retryOf(verdict, result, `${verdict.reason}; but the venue still shows it ${found.status}`);
        }
        if (verdict.policy === 'retryable') return retryOf(verdict, result);
        const code = result.code;
        report({ type: 'venue.cancel.rejected', clientOrderId: id, reason: verdict.reason });
        return { done: { kind: 'refused', reason: verdict.reason, ...(code === undefined ? {} : { code }) } };
      },
      (attempts, reason) => ({ kind: 'gave_up', attempts, reason }),
    );
  }

  function cancel(symbol: string, clientOrderId: string): Promise<CancelOutcome> {
    const earlier = cancels.get(clientOrderId);
    if (earlier) {
      // The same cancel again: share the one under way, or answer from the finished one.
      return earlier.then((outcome) =>
        outcome.kind === 'canceled' ? { ...outcome, repeated: true } : outcome,
      );
    }
    // While a send of this order is still being retried, "unknown order" proves nothing: the next
    // resend could place it after the cancel concluded it gone. Stop the resends, wait for the send
    // to end, then cancel whatever the venue holds.
    const sending = submits.get(clientOrderId);
    if (sending) sending.aborted = true;
    const running = sending
      ? sending.done.then(() => runCancel(symbol, clientOrderId))
      : runCancel(symbol, clientOrderId);
    cancels.set(clientOrderId, running);
    void running.then((outcome) => {
      // Only a settled cancel is remembered; after a refusal or a give-up a new cancel may be tried.
      if (outcome.kind === 'refused' || outcome.kind === 'gave_up') cancels.delete(clientOrderId);
    });
    return running;
  }

  function matchesAmend(order: VenueOrder, wanted: ReplaceOrder): boolean {
    return order.qty === wanted.qty && (wanted.price === undefined || order.price === wanted.price);
  }

  async function amend(order: ReplaceOrder): Promise<ReplaceOutcome> {
    const id = order.clientOrderId;
    const refuse = (reason: string, found?: VenueOrder, code?: number | string): Step<ReplaceOutcome> => {
      report({ type: 'venue.replace.rejected', clientOrderId: id, reason });
      return {
        done: {
          kind: 'refused',
          reason,
          ...(found === undefined ? {} : { order: found }),
          ...(code === undefined ? {} : { code }),
        },
      };
    };
    return bounded<ReplaceOutcome>(
      'replace',
      id,
      async () => {
        const result = await call(() => venue.replace(order));
        if (result.ok) {
          reportSnapshot(result.value);
          report({ type: 'venue.order.replaced', clientOrderId: id });
          return { done: { kind: 'replaced', order: result.value } };
        }
        const verdict = classify(result, 'replace');
        // "Already has these values" (-5027) is the amend done, not a reason to send it again: the
        // lookup confirms it, as it settles an amend whose answer was lost.
        if (verdict.lookupFirst || verdict.policy === 'idempotent_safe') {
          const found = await lookup(order.symbol, id);
          if (found !== null && found !== 'unknown') {
            reportSnapshot(found);
            if (!OPEN_STATUSES.has(found.status)) return refuse(`the order is ${found.status}`, found);
            if (matchesAmend(found, order)) {
              report({ type: 'venue.order.replaced', clientOrderId: id });
              return { done: { kind: 'replaced', order: found } };
            }
          }
          if (found === null && verdict.policy === 'fatal')
            return refuse(verdict.reason, undefined, result.code);
        }
        if (verdict.policy === 'retryable' || verdict.policy === 'idempotent_safe')
          return retryOf(verdict, result);
        return refuse(verdict.reason, undefined, result.code);
      },
      (attempts, reason) => ({ kind: 'gave_up', attempts, reason }),
    );
  }

  async function cancelThenSubmit(order: ReplaceOrder, replacement: SubmitOrder): Promise<ReplaceOutcome> {
    const id = order.clientOrderId;
    const started = clock.now();
    const giveUp = (attempts: number, reason: string): ReplaceOutcome => {
      onEvent({
        type: 'order.replace.gave_up',
        clientOrderId: id,
        correlationId: correlationOf(id),
        attempts,
        elapsedMs: clock.now() - started,
        reason,
      });
      return { kind: 'gave_up', attempts, reason };
    };
    const canceled = await cancel(order.symbol, id);
    if (canceled.kind === 'gave_up') return giveUp(canceled.attempts, `cancel gave up: ${canceled.reason}`);
    if (canceled.kind === 'refused') return { kind: 'refused', reason: canceled.reason };
    if (canceled.kind === 'filled')
      return { kind: 'refused', reason: 'the order filled before it was canceled', order: canceled.order };
    const filled = canceled.order?.filledQty ?? 0;
    const remaining = replacement.qty === undefined ? undefined : subtractQuantities(replacement.qty, filled);
    if (remaining !== undefined && remaining <= 0) {
      return { kind: 'refused', reason: 'the old order already filled the replacement quantity' };
    }
    const placed = await submit(remaining === undefined ? replacement : { ...replacement, qty: remaining });
    if (placed.kind === 'placed') return { kind: 'replaced', order: placed.order };
    if (placed.kind === 'gave_up')
      return giveUp(placed.attempts, `replacement submit gave up: ${placed.reason}`);
    return {
      kind: 'refused',
      reason: placed.reason,
      ...(placed.code === undefined ? {} : { code: placed.code }),
    };
  }

  function replace(order: ReplaceOrder, replacement?: SubmitOrder): Promise<ReplaceOutcome> {
    if (venue.capabilities.amend) return amend(order);
    if (!replacement) {
      const reason = `${venue.capabilities.venue} cannot amend orders and no replacement order was given`;
      report({ type: 'venue.replace.rejected', clientOrderId: order.clientOrderId, reason });
      return Promise.resolve({ kind: 'refused', reason });
    }
    return cancelThenSubmit(order, replacement);
  }

  function close(): void {
    closed = true;
    for (const wake of [...waits]) wake();
  }

  function lookupOrder(symbol: string, id: string): Promise<LookupOutcome> {
    return bounded<LookupOutcome>(
      'lookup',
      id,
      async () => {
        const result = await call(() => venue.queryOrder(symbol, id));
        if (result.ok) {
          if (result.value === null) {
            report({ type: 'venue.order.unknown', clientOrderId: id });
            return { done: { kind: 'not_found' } };
          }
          reportSnapshot(result.value);
          return { done: { kind: 'found', order: result.value } };
        }
        const verdict = classify(result, 'query');
        // A read changes nothing, so any refusal that may pass later is simply asked again.
        if (verdict.policy === 'retryable' || verdict.policy === 'idempotent_safe')
          return retryOf(verdict, result);
        return { giveUp: verdict.reason };
      },
      (attempts, reason) => ({ kind: 'gave_up', attempts, reason }),
    );
  }

  function forget(clientOrderId: string): void {
    submits.delete(clientOrderId);
    reportedFill.delete(clientOrderId);
    acknowledged.delete(clientOrderId);
    cancels.delete(clientOrderId);
  }

  return { submit, cancel, replace, close, lookup: lookupOrder, observe: reportSnapshot, forget };
}

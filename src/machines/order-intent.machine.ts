/**
 * The canonical order-intent lifecycle: one actor per intent, INTENT_CREATED … DONE.
 * Invariants: a timeout or an unknown-order answer never changes status by itself; fills are
 * never lost (late fills on CANCELED/EXPIRED are booked, duplicate trade ids apply once, an
 * overfill is booked and flagged); FILLED outranks CANCELED, REPLACED and EXPIRED; a pending
 * cancel or replace is a parallel region that never hides fills; a rejected request restores
 * the prior status; terminal states absorb stale venue messages; resends keep the same
 * clientOrderId and are bounded, as are cancels and replaces, each ending in a give-up event.
 * Pure: no invoke, no after; effects leave as emitted commands, time arrives as clock.tick.
 */
import { and, assign, emit, enqueueActions, setup, stateIn } from 'xstate';
import { STRICT_ACTION, STRICT_GUARD, isNotInternalEvent, refusedEvent, strictWildcard } from './strict.js';
import type { IgnoredEvent, RefusedEvent } from './strict.js';
import type { IntentKind } from '../domain/intent.schema.js';
import { addQuantities, subtractQuantities } from '../domain/quantity.js';

export type OrderIntentKind = IntentKind;

/** Bounds on resends, cancels and replaces, and the deadlines that turn silence into a lookup. */
export interface OrderIntentLimits {
  /** Sends of the same clientOrderId (first send included) before the router gives up. */
  maxSubmitAttempts: number;
  /** Cancel requests before the router gives up and leaves the order to reconcile. */
  maxCancelAttempts: number;
  /** Replace requests in a row without a confirmation before the router gives up. */
  maxReplaceAttempts: number;
  /** With no acknowledgement by then, the submission's outcome is unknown: look it up. */
  ackTimeoutMs: number;
  /** With no answer to a cancel by then, the cancel's outcome is unknown: look it up. */
  cancelTimeoutMs: number;
}

export const DEFAULT_ORDER_INTENT_LIMITS: OrderIntentLimits = {
  maxSubmitAttempts: 4,
  maxCancelAttempts: 3,
  maxReplaceAttempts: 3,
  ackTimeoutMs: 5_000,
  cancelTimeoutMs: 5_000,
};

export interface OrderIntentInput {
  clientOrderId: string;
  correlationId: string;
  qty: number;
  kind?: OrderIntentKind;
  limits?: Partial<OrderIntentLimits>;
}

export type PendingRequest = 'none' | 'cancel' | 'replace';

export interface OrderIntentContext {
  clientOrderId: string;
  correlationId: string;
  kind: OrderIntentKind;
  limits: OrderIntentLimits;
  /** Quantity first requested. */
  qty: number;
  /** Quantity the venue currently holds the order to (changes only on a confirmed replace). */
  qtyInForce: number;
  filledQty: number;
  /** Quantity filled beyond the quantity in force; non-zero means the venue overfilled. */
  overfillQty: number;
  tradeIds: string[];
  replaced: boolean;
  pendingReplaceQty: number | null;
  pendingRequest: PendingRequest;
  triggered: boolean;
  submitAttempts: number;
  cancelAttempts: number;
  replaceAttempts: number;
  /** Consecutive "unknown order" answers to lookups; counted, never terminal by itself. */
  notFoundCount: number;
  venueOrderId: string | null;
  rejectReason: string | null;
  rejectCode: string | null;
  blockStage: string | null;
  blockTag: string | null;
  ackDeadline: number | null;
  cancelDeadline: number | null;
  /** Set on entering a terminal state, so DONE still says how the order ended. */
  terminalStatus: TerminalStatus | null;
}

export type TerminalStatus = 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED' | 'FAILED';

export type OrderIntentEvent =
  | { type: 'intent.submit'; retry?: boolean; now?: number }
  | { type: 'intent.blocked'; stage: string; reason: string; tag: string }
  | { type: 'intent.cancel'; now?: number }
  | { type: 'intent.replace'; newQty: number; now?: number }
  | { type: 'intent.finalize' }
  | { type: 'venue.order.accepted'; venueOrderId?: string }
  | { type: 'venue.order.rejected'; reason?: string; code?: string | number }
  | { type: 'venue.order.filled'; qty: number; tradeId?: string; price?: number; fee?: number }
  | { type: 'venue.order.canceled' }
  | { type: 'venue.order.expired' }
  | { type: 'venue.order.replaced' }
  | { type: 'venue.order.triggered' }
  | { type: 'venue.order.unknown' }
  | { type: 'venue.cancel.rejected'; reason?: string }
  | { type: 'venue.replace.rejected'; reason?: string }
  | { type: 'venue.request.timeout' }
  | { type: 'clock.tick'; now: number };

/** Commands and facts the machine emits; the actor layer executes and journals them. */
export type OrderIntentEmitted =
  | RefusedEvent
  | IgnoredEvent
  | { type: 'order.submit.requested'; clientOrderId: string; attempt: number }
  | { type: 'order.retry'; clientOrderId: string; attempt: number; lookupFirst: true }
  | { type: 'order.submit.gave_up'; clientOrderId: string; attempts: number }
  | { type: 'order.lookup.requested'; clientOrderId: string; reason: string }
  | { type: 'order.cancel.requested'; clientOrderId: string; attempt: number }
  | { type: 'order.cancel.gave_up'; clientOrderId: string; attempts: number }
  | { type: 'order.replace.requested'; clientOrderId: string; newQty: number; attempt: number }
  | { type: 'order.replace.gave_up'; clientOrderId: string; attempts: number }
  | { type: 'order.fill.booked'; clientOrderId: string; qty: number; tradeId: string | null; late: boolean }
  | { type: 'order.overfill.detected'; clientOrderId: string; overfillQty: number };

/** The reason recorded when a reject refuses a resend rather than the live order. */
export const DUPLICATE_CLIENT_ORDER_ID = 'duplicate_client_order_id';

type FillEvent = Extract<OrderIntentEvent, { type: 'venue.order.filled' }>;

function isFill(event: OrderIntentEvent): event is FillEvent {
  return event.type === 'venue.order.filled';
}

function isDuplicateExecution(context: OrderIntentContext, event: OrderIntentEvent): boolean {
  return isFill(event) && event.tradeId !== undefined && context.tradeIds.includes(event.tradeId);
}

function completesOrder(context: OrderIntentContext, event: OrderIntentEvent): boolean {
  return (
    isFill(event) &&
    !isDuplicateExecution(context, event) &&
    addQuantities(context.filledQty, event.qty) >= context.qtyInForce
  );
}

function eventNow(event: OrderIntentEvent): number | null {
  return 'now' in event && typeof event.now === 'number' ? event.now : null;
}

function ignoredEvent(event: OrderIntentEvent, reason: string): IgnoredEvent {
  return { type: 'lifecycle.ignored', event: event.type, reason };
}

/**
 * What booking one execution changes: the filled quantity grows, the trade id is remembered
 * so a repeat applies once, and anything beyond the quantity in force is an overfill, flagged
 * the first time it grows. `late` marks fills on an order that was already finished.
 */
function bookedFill(
  context: OrderIntentContext,
  event: FillEvent,
  late: boolean,
): { changes: Partial<OrderIntentContext>; emitted: OrderIntentEmitted[] } {
  const filledQty = addQuantities(context.filledQty, event.qty);
  const overfillQty = Math.max(0, subtractQuantities(filledQty, context.qtyInForce));
  const emitted: OrderIntentEmitted[] = [
    {
      type: 'order.fill.booked',
      clientOrderId: context.clientOrderId,
      qty: event.qty,
      tradeId: event.tradeId ?? null,
      late,
    },
  ];
  if (overfillQty > context.overfillQty) {
    emitted.push({ type: 'order.overfill.detected', clientOrderId: context.clientOrderId, overfillQty });
  }
  return {
    changes: {
      filledQty,
      overfillQty,
      tradeIds: event.tradeId === undefined ? context.tradeIds : [...context.tradeIds, event.tradeId],
      ackDeadline: null,
      notFoundCount: 0,
    },
    emitted,
  };
}

/**
 * Fills reaching a finished order are booked, never dropped: a duplicate trade id applies
 * once, and one that completes the order moves it to `completesTo` (none for FILLED itself,
 * where a new execution is an overfill).
 */
function lateFills(completesTo: 'filled' | 'filled-after-cancel' | null) {
  const duplicate = { guard: 'is a duplicate execution', actions: 'ignore a duplicate execution' } as const;
  const book = { actions: 'book the late fill' } as const;
  if (completesTo === null) return [duplicate, book] as const;
  return [
    duplicate,
    { guard: 'completes the order', target: completesTo, actions: 'book the late fill' } as const,
    book,
  ] as const;
}

export const orderIntentMachine = setup({
  types: {
    context: {} as OrderIntentContext,
    input: {} as OrderIntentInput,
    events: {} as OrderIntentEvent,
    emitted: {} as OrderIntentEmitted,
  },
  guards: {
    [STRICT_GUARD]: isNotInternalEvent,
    'is a first submission': ({ event }) => event.type === 'intent.submit' && event.retry !== true,
    'is a resend': ({ event }) => event.type === 'intent.submit' && event.retry === true,
    'has submit attempts left': ({ context, event }) =>
      event.type === 'intent.submit' &&
      event.retry === true &&
      context.submitAttempts < context.limits.maxSubmitAttempts,
    'is a duplicate execution': ({ context, event }) => isDuplicateExecution(context, event),
    'completes the order with a cancel pending': ({ context, event }) =>
      completesOrder(context, event) && context.pendingRequest === 'cancel',
    'completes the order': ({ context, event }) => completesOrder(context, event),
    'is a new partial execution': ({ context, event }) =>
      isFill(event) && !isDuplicateExecution(context, event) && !completesOrder(context, event),
    'rejects a duplicate clientOrderId': ({ event }) =>
      event.type === 'venue.order.rejected' && event.reason === DUPLICATE_CLIENT_ORDER_ID,
    'has nothing filled': ({ context }) => context.filledQty === 0,
    'is past the ack deadline': ({ context, event }) =>
      event.type === 'clock.tick' && context.ackDeadline !== null && event.now >= context.ackDeadline,
    'is past the cancel deadline': ({ context, event }) =>
      event.type === 'clock.tick' && context.cancelDeadline !== null && event.now >= context.cancelDeadline,
    'has sent a cancel before': ({ context }) => context.cancelAttempts > 0,
    'has requested a replace before': ({ context }) => context.replaced || context.replaceAttempts > 0,
    'has cancel attempts left': ({ context }) => context.cancelAttempts < context.limits.maxCancelAttempts,
    'is working at the venue': stateIn('#order-intent.live.order.working'),
    'has replace attempts left': ({ context, event }) =>
      event.type === 'intent.replace' &&
      event.newQty > 0 &&
      context.replaceAttempts < context.limits.maxReplaceAttempts,
    'is a valid replace': ({ event }) => event.type === 'intent.replace' && event.newQty > 0,
    'leaves nothing working after the replace': ({ context }) =>
      context.pendingReplaceQty !== null && context.filledQty >= context.pendingReplaceQty,
    'has a replace outstanding': ({ context }) => context.pendingReplaceQty !== null,
  },
  actions: {
    [STRICT_ACTION]: emit(({ event }) => refusedEvent(event)),
    'record block': assign(({ event }) =>
      event.type === 'intent.blocked' ? { blockStage: event.stage, blockTag: event.tag } : {},
    ),
    'send the order': enqueueActions(({ context, event, enqueue }) => {
      const now = eventNow(event);
      const attempt = context.submitAttempts + 1;
      enqueue.assign({
        submitAttempts: attempt,
        ackDeadline: now === null ? null : now + context.limits.ackTimeoutMs,
      });
      if (attempt > 1) {
        enqueue.emit({
          type: 'order.retry',
          clientOrderId: context.clientOrderId,
          attempt,
          lookupFirst: true,
        });
      }
      enqueue.emit({ type: 'order.submit.requested', clientOrderId: context.clientOrderId, attempt });
    }),
    'give up on the submission': emit(({ context }) => ({
      type: 'order.submit.gave_up' as const,
      clientOrderId: context.clientOrderId,
      attempts: context.submitAttempts,
    })),
    'request a lookup by clientOrderId': emit(({ context, event }) => ({
      type: 'order.lookup.requested' as const,
      clientOrderId: context.clientOrderId,
      reason: event.type,
    })),
    'count a not-found answer': assign({ notFoundCount: ({ context }) => context.notFoundCount + 1 }),
    'record acknowledgement': assign(({ context, event }) => ({
      venueOrderId:
        event.type === 'venue.order.accepted' && event.venueOrderId !== undefined
          ? event.venueOrderId
          : context.venueOrderId,
      ackDeadline: null,
      notFoundCount: 0,
    })),
    'record venue rejection': assign(({ event }) =>
      event.type === 'venue.order.rejected'
        ? {
            rejectReason: event.reason ?? 'rejected',
            rejectCode: event.code === undefined ? null : String(event.code),
            ackDeadline: null,
          }
        : {},
    ),
    'book the fill': enqueueActions(({ context, event, enqueue }) => {
      if (!isFill(event)) return;
      const { changes, emitted } = bookedFill(context, event, false);
      enqueue.assign(changes);
      for (const fact of emitted) enqueue.emit(fact);
    }),
    'book the late fill': enqueueActions(({ context, event, enqueue }) => {
      if (!isFill(event)) return;
      const { changes, emitted } = bookedFill(context, event, true);
      enqueue.assign(changes);
      for (const fact of emitted) enqueue.emit(fact);
    }),
    'record trigger': assign({ triggered: true }),
    'send the cancel': enqueueActions(({ context, event, enqueue }) => {
      const now = eventNow(event);
      const attempt = context.cancelAttempts + 1;
      enqueue.assign({
        cancelAttempts: attempt,
        cancelDeadline: now === null ? null : now + context.limits.cancelTimeoutMs,
      });
      enqueue.emit({ type: 'order.cancel.requested', clientOrderId: context.clientOrderId, attempt });
    }),
    'give up on the cancel': emit(({ context }) => ({
      type: 'order.cancel.gave_up' as const,
      clientOrderId: context.clientOrderId,
      attempts: context.cancelAttempts,
    })),
    'mark cancel pending': assign({ pendingRequest: 'cancel' as const }),
    'mark replace pending': assign({ pendingRequest: 'replace' as const, cancelDeadline: null }),
    'clear the pending request': assign({
      pendingRequest: 'none' as const,
      cancelDeadline: null,
    }),
    'send the replace': enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'intent.replace') return;
      const attempt = context.replaceAttempts + 1;
      enqueue.assign({ replaceAttempts: attempt, pendingReplaceQty: event.newQty });
      enqueue.emit({
        type: 'order.replace.requested',
        clientOrderId: context.clientOrderId,
        newQty: event.newQty,
        attempt,
      });
    }),
    'give up on the replace': emit(({ context }) => ({
      type: 'order.replace.gave_up' as const,
      clientOrderId: context.clientOrderId,
      attempts: context.replaceAttempts,
    })),
    // A replace confirmed below the filled quantity leaves the filled quantity in force (FIX D10–D12).
    'apply the confirmed replace': assign(({ context }) => ({
      qtyInForce:
        context.pendingReplaceQty === null
          ? context.qtyInForce
          : Math.max(context.pendingReplaceQty, context.filledQty),
      replaced: true,
      pendingReplaceQty: null,
      replaceAttempts: 0,
    })),
    'record terminal status': assign((_, params: { status: TerminalStatus }) => ({
      terminalStatus: params.status,
      pendingRequest: 'none' as const,
      pendingReplaceQty: null,
      ackDeadline: null,
      cancelDeadline: null,
    })),
    'drop the outstanding replace': assign({ pendingReplaceQty: null }),
    'ignore a stale message': emit(({ event }) =>
      ignoredEvent(event, 'the order is terminal; stale venue message'),
    ),
    'ignore a duplicate execution': emit(({ event }) => ignoredEvent(event, 'trade id already applied')),
    'ignore a repeated request': emit(({ event }) =>
      ignoredEvent(event, 'the request is already pending or the order is terminal'),
    ),
    'ignore a resend of a known order': emit(({ event }) =>
      ignoredEvent(
        event,
        'the venue knows this clientOrderId: a resend is answered by a status lookup, never sent',
      ),
    ),
    'ignore a late answer to an earlier request': emit(({ event }) =>
      ignoredEvent(event, 'answers an earlier request that is no longer pending'),
    ),
    'ignore an out-of-order acknowledgement': emit(({ event }) =>
      ignoredEvent(event, 'already working at the venue'),
    ),
  },
}).createMachine({
  id: 'order-intent',
  description:
    'One order intent from registration to DONE. Pending cancel and replace run in a parallel region so fills are never hidden.',
  context: ({ input }) => ({
    clientOrderId: input.clientOrderId,
    correlationId: input.correlationId,
    kind: input.kind ?? 'ENTRY',
    limits: { ...DEFAULT_ORDER_INTENT_LIMITS, ...input.limits },
    qty: input.qty,
    qtyInForce: input.qty,
    filledQty: 0,
    overfillQty: 0,
    tradeIds: [],
    replaced: false,
    pendingReplaceQty: null,
    pendingRequest: 'none',
    triggered: false,
    submitAttempts: 0,
    cancelAttempts: 0,
    replaceAttempts: 0,
    notFoundCount: 0,
    venueOrderId: null,
    rejectReason: null,
    rejectCode: null,
    blockStage: null,
    blockTag: null,
    ackDeadline: null,
    cancelDeadline: null,
    terminalStatus: null,
  }),
  initial: 'intent-created',
  on: {
    ...strictWildcard,
    // Time passes in every state; only states with a deadline react to it.
    'clock.tick': {},
  },
  states: {
    'intent-created': {
      description: 'Registered durably (CREATED); blockers run before anything is sent.',
      on: {
        'intent.submit': {
          guard: 'is a first submission',
          target: 'live',
          actions: 'send the order',
        },
        'intent.blocked': { target: 'failed', actions: 'record block' },
        // An intent cancelled before it was sent never reaches the venue.
        'intent.cancel': { target: 'closed.canceled' },
      },
    },
    live: {
      type: 'parallel',
      tags: ['in-flight'],
      states: {
        order: {
          initial: 'sent-to-broker',
          states: {
            'sent-to-broker': {
              description:
                'SENT_TO_BROKER is durable before the venue call; the venue decides what happened.',
              initial: 'awaiting-ack',
              on: {
                'intent.submit': [
                  { guard: 'has submit attempts left', target: '.awaiting-ack', actions: 'send the order' },
                  { guard: 'is a resend', actions: 'give up on the submission' },
                ],
                'venue.order.accepted': { target: 'working.open', actions: 'record acknowledgement' },
                'venue.order.triggered': {
                  target: 'working.open',
                  actions: ['record acknowledgement', 'record trigger'],
                },
                'venue.order.unknown': {
                  target: '.status-unknown',
                  actions: ['count a not-found answer', 'request a lookup by clientOrderId'],
                },
                'venue.request.timeout': {
                  target: '.status-unknown',
                  actions: 'request a lookup by clientOrderId',
                },
              },
              states: {
                'awaiting-ack': {
                  on: {
                    'clock.tick': {
                      guard: 'is past the ack deadline',
                      target: 'status-unknown',
                      actions: 'request a lookup by clientOrderId',
                    },
                  },
                },
                'status-unknown': {
                  description:
                    'Timed out or execution status unknown: look up by clientOrderId, never resend blindly.',
                  tags: ['needs-reconcile'],
                },
              },
            },
            working: {
              initial: 'open',
              on: {
                'venue.order.accepted': { actions: 'ignore an out-of-order acknowledgement' },
                'venue.order.triggered': { actions: 'record trigger' },
                'intent.submit': {
                  guard: 'is a resend',
                  actions: ['request a lookup by clientOrderId', 'ignore a resend of a known order'],
                },
                'venue.order.unknown': {
                  actions: ['count a not-found answer', 'request a lookup by clientOrderId'],
                },
                'venue.request.timeout': { actions: 'request a lookup by clientOrderId' },
              },
              states: {
                open: {},
                'partially-filled': {},
              },
            },
          },
          on: {
            'venue.order.filled': [
              { guard: 'is a duplicate execution', actions: 'ignore a duplicate execution' },
              {
                guard: 'completes the order with a cancel pending',
                target: '#order-intent.closed.filled-after-cancel',
                actions: 'book the fill',
              },
              {
                guard: 'completes the order',
                target: '#order-intent.closed.filled',
                actions: 'book the fill',
              },
              { target: '.working.partially-filled', actions: 'book the fill' },
            ],
            'venue.order.rejected': [
              {
                guard: 'rejects a duplicate clientOrderId',
                actions: ['request a lookup by clientOrderId'],
              },
              // A conditional order may be rejected when it triggers, but never once anything filled.
              {
                guard: 'has nothing filled',
                target: '#order-intent.closed.rejected',
                actions: 'record venue rejection',
              },
            ],
            'venue.order.canceled': { target: '#order-intent.closed.canceled' },
            'venue.order.expired': { target: '#order-intent.closed.expired' },
          },
        },
        request: {
          initial: 'idle',
          // Answers to requests that are no longer pending (repeated, crossed or given up) are stale.
          on: {
            'venue.cancel.rejected': {
              guard: 'has sent a cancel before',
              actions: 'ignore a late answer to an earlier request',
            },
            'venue.replace.rejected': {
              guard: 'has requested a replace before',
              actions: 'ignore a late answer to an earlier request',
            },
          },
          states: {
            idle: {
              entry: 'clear the pending request',
              on: {
                'intent.cancel': [
                  { guard: 'has cancel attempts left', target: 'cancel-pending' },
                  { actions: 'give up on the cancel' },
                ],
                'intent.replace': [
                  {
                    guard: and(['is working at the venue', 'has replace attempts left']),
                    target: 'replace-pending',
                    actions: 'send the replace',
                  },
                  {
                    guard: and(['is working at the venue', 'is a valid replace']),
                    actions: 'give up on the replace',
                  },
                ],
              },
            },
            'cancel-pending': {
              initial: 'cancel-sent',
              entry: ['mark cancel pending', 'send the cancel'],
              on: {
                'intent.cancel': { actions: 'ignore a repeated request' },
                // A rejected cancel restores what was pending before it, a superseded replace included.
                'venue.cancel.rejected': [
                  { guard: 'has a replace outstanding', target: 'replace-pending' },
                  { target: 'idle' },
                ],
                // "Unknown order" on a cancel is not terminal: back to the working state, then look.
                'venue.order.unknown': [
                  { guard: 'has a replace outstanding', target: 'replace-pending' },
                  { target: 'idle' },
                ],
                'venue.order.replaced': [
                  {
                    guard: 'leaves nothing working after the replace',
                    target: '#order-intent.closed.filled-after-cancel',
                    actions: 'apply the confirmed replace',
                  },
                  { guard: 'has a replace outstanding', actions: 'apply the confirmed replace' },
                ],
                'venue.replace.rejected': {
                  guard: 'has a replace outstanding',
                  actions: 'drop the outstanding replace',
                },
              },
              states: {
                'cancel-sent': {
                  on: {
                    'venue.request.timeout': { target: 'cancel-sent-unknown' },
                    'clock.tick': {
                      guard: 'is past the cancel deadline',
                      target: 'cancel-sent-unknown',
                      actions: 'request a lookup by clientOrderId',
                    },
                  },
                },
                'cancel-sent-unknown': {
                  description:
                    'CANCEL_SENT_UNKNOWN: the cancel may or may not have landed; the lookup decides.',
                  tags: ['needs-reconcile'],
                },
              },
            },
            'replace-pending': {
              initial: 'replace-sent',
              entry: 'mark replace pending',
              on: {
                'venue.order.replaced': [
                  {
                    guard: 'leaves nothing working after the replace',
                    target: '#order-intent.closed.filled',
                    actions: 'apply the confirmed replace',
                  },
                  { target: 'idle', actions: 'apply the confirmed replace' },
                ],
                'venue.replace.rejected': { target: 'idle', actions: 'drop the outstanding replace' },
                // A cancel supersedes the replace, whose answer may still arrive; it is bounded like any cancel.
                'intent.cancel': [
                  { guard: 'has cancel attempts left', target: 'cancel-pending' },
                  { actions: 'give up on the cancel' },
                ],
                'intent.replace': { actions: 'ignore a repeated request' },
              },
              states: {
                'replace-sent': {
                  on: {
                    'venue.order.filled': { guard: 'is a new partial execution', target: 'replace-race' },
                  },
                },
                'replace-race': {
                  description:
                    'REPLACE_RACE: a fill crossed the pending replace; it counts against the old terms.',
                },
              },
            },
          },
        },
      },
    },
    closed: {
      tags: ['terminal'],
      description:
        'The venue finished the order. Stale venue messages are absorbed and journaled; fills are still booked.',
      on: {
        'venue.order.accepted': { actions: 'ignore a stale message' },
        'venue.order.canceled': { actions: 'ignore a stale message' },
        'venue.order.expired': { actions: 'ignore a stale message' },
        'venue.order.triggered': { actions: 'ignore a stale message' },
        'venue.order.replaced': { actions: 'ignore a stale message' },
        'venue.order.unknown': { actions: 'ignore a stale message' },
        'venue.cancel.rejected': { actions: 'ignore a stale message' },
        'venue.replace.rejected': { actions: 'ignore a stale message' },
        'venue.request.timeout': { actions: 'ignore a stale message' },
        // A new-order reject is legal until something has filled, never after; the venue's
        // refusal of a resend (duplicate clientOrderId) may trail the fills and is stale.
        'venue.order.rejected': [
          { guard: 'rejects a duplicate clientOrderId', actions: 'ignore a stale message' },
          { guard: 'has nothing filled', actions: 'ignore a stale message' },
        ],
        'intent.cancel': { actions: 'ignore a repeated request' },
        'intent.submit': { guard: 'is a resend', actions: 'ignore a resend of a known order' },
        'intent.finalize': '#order-intent.done',
      },
      // Every way into `closed` names its child; xstate still requires an initial state.
      initial: 'filled',
      states: {
        filled: {
          entry: { type: 'record terminal status', params: { status: 'FILLED' } },
          description:
            'FILLED outranks CANCELED, REPLACED and EXPIRED. A new execution here is an overfill: booked and flagged.',
          on: {
            'venue.order.filled': lateFills(null),
          },
        },
        'filled-after-cancel': {
          entry: { type: 'record terminal status', params: { status: 'FILLED' } },
          description:
            'FILLED_AFTER_CANCEL: the order filled completely while or after a cancel was requested.',
          on: {
            'venue.order.filled': lateFills(null),
          },
        },
        canceled: {
          entry: { type: 'record terminal status', params: { status: 'CANCELED' } },
          description:
            'A late fill is booked; the status stays CANCELED unless the fill completes the order.',
          on: {
            'venue.order.filled': lateFills('filled-after-cancel'),
          },
        },
        expired: {
          entry: { type: 'record terminal status', params: { status: 'EXPIRED' } },
          description: 'A late fill is booked; the status stays EXPIRED unless the fill completes the order.',
          on: {
            'venue.order.filled': lateFills('filled'),
          },
        },
        rejected: {
          entry: { type: 'record terminal status', params: { status: 'REJECTED' } },
          description:
            'The venue refused the order and nothing filled; a fill here is impossible and refused.',
        },
      },
    },
    failed: {
      tags: ['terminal'],
      entry: { type: 'record terminal status', params: { status: 'FAILED' } },
      description:
        'Blocked before sending (risk, guard, duplicate, kill switch); the tag says which and why.',
      on: { 'intent.finalize': 'done' },
    },
    done: { type: 'final', tags: ['terminal'] },
  },
});

/**
 * The order-status table: phase × event (× condition) → next phase, or REFUSED.
 * It is the lifecycle's specification in one readable place; the order-intent machine is
 * checked against it by property tests on random event sequences. `SAME` means the event
 * is accepted and the phase does not change (a no-op, a pending-request change, or a stale
 * message journaled and ignored). A REFUSED event is impossible in that phase: strict mode
 * raises a TransitionError, lenient mode journals an anomaly.
 */

export const ORDER_PHASES = [
  'CREATED', // registered, not yet sent
  'SENT', // SENT_TO_BROKER, awaiting the venue's answer (or its outcome unknown)
  'OPEN',
  'PARTIALLY_FILLED',
  'FILLED',
  'CANCELED',
  'EXPIRED',
  'REJECTED',
] as const;
export type OrderPhase = (typeof ORDER_PHASES)[number];

/** The `keel simulate` vocabulary: what can happen to one order. */
export const ORDER_EVENTS = [
  'submit',
  'resend',
  'ack',
  'reject',
  'fill',
  'cancel_request',
  'cancel_ack',
  'cancel_reject',
  'replace_request',
  'replace_ack',
  'replace_reject',
  'expire',
  'unsolicited_cancel',
  'unknown_order',
  'timeout',
  'triggered',
] as const;
export type OrderEventName = (typeof ORDER_EVENTS)[number];

/** The facts a row may depend on, read from the order before the event. */
export interface OrderFacts {
  /** Which request is outstanding: the parallel cancel/replace concern. */
  pending: 'none' | 'cancel' | 'replace';
  /** A replace answer is still expected (also while a cancel superseded the replace). */
  replaceOutstanding: boolean;
  /** For a fill: a trade id already applied, one that completes the quantity in force, or neither. */
  fill: 'duplicate' | 'completes' | 'partial';
  /** Anything has filled (a new-order reject is legal until then, never after). */
  somethingFilled: boolean;
  /** A reject whose reason is a duplicate clientOrderId refuses the resend, never the live order. */
  rejectIsDuplicateId: boolean;
  /** A cancel was sent earlier; a late reject answers it. */
  cancelSentBefore: boolean;
  /** A replace was requested earlier; a late reject answers it. */
  replaceRequestedBefore: boolean;
  /** The confirmed replace would leave nothing working (new quantity ≤ filled quantity). */
  replaceLeavesNothing: boolean;
}

export const SAME = 'SAME';
export const REFUSED = 'REFUSED';
export type RowOutcome = OrderPhase | typeof SAME | typeof REFUSED;

export interface OrderStatusRow {
  from: readonly OrderPhase[];
  on: OrderEventName;
  /** Absent: the row applies whatever the facts. */
  when?: (facts: OrderFacts) => boolean;
  whenText?: string;
  to: RowOutcome;
  /** Why, on the rows that surprise. */
  why?: string;
}

const LIVE: readonly OrderPhase[] = ['SENT', 'OPEN', 'PARTIALLY_FILLED'];
const WORKING: readonly OrderPhase[] = ['OPEN', 'PARTIALLY_FILLED'];
const CLOSED: readonly OrderPhase[] = ['FILLED', 'CANCELED', 'EXPIRED', 'REJECTED'];
const ALL: readonly OrderPhase[] = ORDER_PHASES;

const cancelPending = (facts: OrderFacts) => facts.pending === 'cancel';

/** First matching row wins, so specific rows come before general ones. */
export const ORDER_STATUS_TABLE: readonly OrderStatusRow[] = [
  // Submission. A resend keeps the clientOrderId and is legal only while the outcome is unknown.
  { from: ['CREATED'], on: 'submit', to: 'SENT' },
  {
    from: ['CREATED'],
    on: 'cancel_request',
    to: 'CANCELED',
    why: 'never sent: nothing to cancel at the venue',
  },
  { from: ['SENT'], on: 'resend', to: SAME, why: 'same clientOrderId; bounded, then an explicit give-up' },
  {
    from: [...WORKING, ...CLOSED],
    on: 'resend',
    to: SAME,
    why: 'the venue knows this clientOrderId: answered by a status lookup, never sent again',
  },

  // Acknowledgement and trigger.
  { from: ['SENT'], on: 'ack', to: 'OPEN' },
  { from: ['SENT'], on: 'triggered', to: 'OPEN', why: 'a trigger proves the order is live at the venue' },
  { from: WORKING, on: 'ack', to: SAME, why: 'out-of-order ack: the order is already working' },
  { from: WORKING, on: 'triggered', to: SAME, why: 'a triggered conditional order stays working' },

  // New-order rejects: legal until something has filled (a conditional order may be rejected when it triggers).
  {
    from: ALL.filter((phase) => phase !== 'CREATED'),
    on: 'reject',
    when: (f) => f.rejectIsDuplicateId,
    whenText: 'duplicate clientOrderId',
    to: SAME,
    why: 'refuses the resend, never the live order',
  },
  { from: ['SENT', 'OPEN'], on: 'reject', to: 'REJECTED' },
  {
    from: ['CANCELED', 'EXPIRED', 'REJECTED'],
    on: 'reject',
    when: (f) => !f.somethingFilled,
    whenText: 'nothing filled',
    to: SAME,
    why: 'stale: the order is finished',
  },

  // Fills. FILLED outranks CANCELED, REPLACED and EXPIRED; no fill is ever dropped.
  {
    from: ALL.filter((phase) => phase !== 'CREATED' && phase !== 'REJECTED'),
    on: 'fill',
    when: (f) => f.fill === 'duplicate',
    whenText: 'trade id already applied',
    to: SAME,
    why: 'duplicate execution applies once',
  },
  {
    from: LIVE,
    on: 'fill',
    when: (f) => f.fill === 'completes',
    whenText: 'completes the quantity in force',
    to: 'FILLED',
  },
  { from: LIVE, on: 'fill', to: 'PARTIALLY_FILLED', why: 'counts even during a pending cancel or replace' },
  {
    from: ['CANCELED'],
    on: 'fill',
    when: (f) => f.fill === 'completes',
    whenText: 'completes',
    to: 'FILLED',
    why: 'late fill: real-world race; FILLED_AFTER_CANCEL',
  },
  {
    from: ['EXPIRED'],
    on: 'fill',
    when: (f) => f.fill === 'completes',
    whenText: 'completes',
    to: 'FILLED',
    why: 'late fill completes the order',
  },
  { from: ['CANCELED', 'EXPIRED'], on: 'fill', to: SAME, why: 'late fill: booked, the status stays' },
  { from: ['FILLED'], on: 'fill', to: SAME, why: 'overfill: booked and flagged, never dropped' },

  // Cancel: idempotent, a parallel concern, never terminal until the venue confirms.
  {
    from: LIVE,
    on: 'cancel_request',
    to: SAME,
    why: 'cancel pending (a second request is a no-op; past the bound, a give-up)',
  },
  { from: CLOSED, on: 'cancel_request', to: SAME, why: 'nothing left to cancel: a no-op' },
  { from: LIVE, on: 'cancel_ack', to: 'CANCELED' },
  {
    from: LIVE,
    on: 'unsolicited_cancel',
    to: 'CANCELED',
    why: 'the venue cancelled with no request; fills kept',
  },
  {
    from: LIVE,
    on: 'cancel_reject',
    when: cancelPending,
    whenText: 'cancel pending',
    to: SAME,
    why: 'the prior status is restored',
  },
  {
    from: LIVE,
    on: 'cancel_reject',
    when: (f) => f.cancelSentBefore,
    whenText: 'an earlier cancel was sent',
    to: SAME,
    why: 'a late answer to a cancel that is no longer pending',
  },

  // Replace: not in force until confirmed; fills while pending count against the old terms.
  {
    from: WORKING,
    on: 'replace_request',
    when: (f) => f.pending !== 'cancel',
    whenText: 'no cancel pending',
    to: SAME,
  },
  {
    from: WORKING,
    on: 'replace_ack',
    when: (f) => f.replaceOutstanding && f.replaceLeavesNothing,
    whenText: 'new quantity ≤ filled',
    to: 'FILLED',
    why: 'the filled quantity stays in force',
  },
  {
    from: WORKING,
    on: 'replace_ack',
    when: (f) => f.replaceOutstanding,
    whenText: 'replace outstanding',
    to: SAME,
    why: 'REPLACED_OPEN unless something filled',
  },
  {
    from: WORKING,
    on: 'replace_reject',
    when: (f) => f.replaceOutstanding,
    whenText: 'replace outstanding',
    to: SAME,
    why: 'the old terms stand',
  },
  {
    from: WORKING,
    on: 'replace_reject',
    when: (f) => f.replaceRequestedBefore,
    whenText: 'an earlier replace was requested',
    to: SAME,
    why: 'a late answer to a replace that is no longer pending',
  },

  // Ambiguity: never an outcome by itself.
  { from: LIVE, on: 'expire', to: 'EXPIRED' },
  {
    from: LIVE,
    on: 'unknown_order',
    to: SAME,
    why: 'not terminal: with a cancel pending, back to working; then look up',
  },
  { from: LIVE, on: 'timeout', to: SAME, why: 'a timeout is not an outcome: look up by clientOrderId' },

  // Terminal phases absorb stale venue messages.
  ...(
    [
      'ack',
      'triggered',
      'cancel_ack',
      'unsolicited_cancel',
      'cancel_reject',
      'replace_ack',
      'replace_reject',
      'expire',
      'unknown_order',
      'timeout',
    ] as const
  ).map((on): OrderStatusRow => ({
    from: CLOSED,
    on,
    to: SAME,
    why: 'stale message for a finished order: ignored and journaled',
  })),
];

/** The table's answer for one event; an event no row accepts is REFUSED. */
export function nextOrderPhase(from: OrderPhase, on: OrderEventName, facts: OrderFacts): RowOutcome {
  for (const row of ORDER_STATUS_TABLE) {
    if (row.on !== on || !row.from.includes(from)) continue;
    if (row.when && !row.when(facts)) continue;
    return row.to === SAME ? from : row.to;
  }
  return REFUSED;
}

/** The table as Markdown, for the docs and `keel viz` readers. */
export function orderStatusTableMarkdown(): string {
  const lines = ['| from | event | when | to | why |', '| --- | --- | --- | --- | --- |'];
  for (const row of ORDER_STATUS_TABLE) {
    lines.push(
      `| ${row.from.join(', ')} | ${row.on} | ${row.whenText ?? ''} | ${row.to === SAME ? '(same)' : row.to} | ${row.why ?? ''} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The verdicts of keel chaos, the crash test and the crash-restart soak, as pure functions of what a run
 * left: keel's registry and journal, the paper venue's persisted state, and what a client saw acknowledged.
 * Invariants: every verdict is a list of sentences naming the intent (and the clientOrderId, the
 * registry's view and the venue's truth), empty when the check passes; nothing here reads a clock.
 */
import type { Intent } from '../domain/intent.schema.js';
import { addQuantities } from '../domain/quantity.js';
import type { ReplayedRegistryEntry } from '../domain/registry-replay.js';
import type { JournalEvent } from '../ports/store.port.js';
import type { VenueFill, VenueOrder } from '../ports/venue.port.js';

/** The registry fields the checks read. */
export interface RegistryView {
  intentId: string;
  clientOrderId: string;
  status: string;
  tag: string | null;
  venueOrderId: string | null;
}

/** The registry fields the checks read, from a full record. */
export function registryViewOf(row: RegistryView): RegistryView {
  return {
    intentId: row.intentId,
    clientOrderId: row.clientOrderId,
    status: row.status,
    tag: row.tag,
    venueOrderId: row.venueOrderId,
  };
}

/** The parts of an IntentResult the checks read (filled quantity as keel reports it). */
export interface ResultView {
  intent_id: string;
  status: string;
  filled_qty: number;
}

const QTY_EPSILON = 1e-9;

/** Check 1: every intent whose submit was acknowledged is in the registry. */
export function ackedButMissing(acked: Iterable<string>, registered: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const intentId of acked) {
    if (!registered.has(intentId)) {
      problems.push(`${intentId}: its submit was acknowledged, but the registry has no row for it`);
    }
  }
  return problems;
}

const PROGRESS: Readonly<Record<string, number>> = { CREATED: 0, SENT_TO_BROKER: 1, EXECUTED: 2, FAILED: 2 };

/**
 * Check 1, the status half: a submit resolves only once its status is on disk, so after a kill the
 * journal shows each acknowledged intent at least that far along, and a terminal ACK exactly.
 */
export function ackedButNotDurable(
  acked: ReadonlyMap<string, string>,
  statuses: ReadonlyMap<string, { status: string }>,
): string[] {
  const problems: string[] = [];
  for (const [intentId, ackedStatus] of acked) {
    if (ackedStatus === 'CREATED') {
      // The contract: submit resolves FAILED (blocked) or SENT_TO_BROKER (durable before the venue call).
      problems.push(`${intentId}: its submit resolved as CREATED, before the blockers decided`);
      continue;
    }
    const status = statuses.get(intentId)?.status;
    if (status === undefined) continue;
    const terminal = (PROGRESS[ackedStatus] ?? 0) === 2;
    if (terminal ? status !== ackedStatus : (PROGRESS[status] ?? 0) < (PROGRESS[ackedStatus] ?? 0)) {
      problems.push(
        `${intentId}: its submit was acknowledged as ${ackedStatus}, but the journal says ${status}`,
      );
    }
  }
  return problems;
}

/** The venue's latest order under each clientOrderId (a reused id adds a later entry). */
export function latestVenueOrders(orders: readonly VenueOrder[]): Map<string, VenueOrder> {
  const latest = new Map<string, VenueOrder>();
  for (const order of orders) latest.set(order.clientOrderId, order);
  return latest;
}

/** What keel's registry must say given the venue's order (undefined: never seen). */
export function expectedStatuses(order: VenueOrder | undefined): readonly string[] {
  if (!order) return ['FAILED'];
  switch (order.status) {
    case 'FILLED':
      return ['EXECUTED'];
    case 'NEW':
    case 'PARTIALLY_FILLED':
      return ['SENT_TO_BROKER'];
    case 'CANCELED':
    case 'EXPIRED':
    case 'REJECTED':
      // Part-filled before it ended: the issue leaves the verdict open, the quantity is checked instead.
      return order.filledQty > 0 ? ['EXECUTED', 'FAILED'] : ['FAILED'];
  }
}

function describeVenue(order: VenueOrder | undefined): string {
  if (!order) return 'the venue never accepted it';
  return `the venue has it ${order.status} (venueOrderId ${order.venueOrderId}, filled ${order.filledQty}/${order.qty})`;
}

/**
 * Check 3: every registered intent agrees with the venue's truth, and every order the venue
 * holds under a keel id belongs to a registered intent (nothing reached the venue unregistered).
 */
export function disagreementsWithVenue(
  registry: readonly RegistryView[],
  venueOrders: readonly VenueOrder[],
  results: ReadonlyMap<string, ResultView> = new Map(),
): string[] {
  const problems: string[] = [];
  const latest = latestVenueOrders(venueOrders);
  const owned = new Set<string>();
  for (const row of registry) {
    owned.add(row.clientOrderId);
    const order = latest.get(row.clientOrderId);
    const where = `${row.intentId} (clientOrderId ${row.clientOrderId})`;
    const expected = expectedStatuses(order);
    if (!expected.includes(row.status)) {
      problems.push(
        `${where}: the registry says ${row.status} (tag ${row.tag ?? 'none'}), but ${describeVenue(order)}; expected ${expected.join(' or ')}`,
      );
    }
    if (order && row.venueOrderId !== null && row.venueOrderId !== order.venueOrderId) {
      problems.push(
        `${where}: the registry records venueOrderId ${row.venueOrderId}, but ${describeVenue(order)}`,
      );
    }
    const result = results.get(row.intentId);
    if (result) {
      const venueFilled = order?.filledQty ?? 0;
      if (Math.abs(result.filled_qty - venueFilled) > QTY_EPSILON) {
        problems.push(`${where}: keel reports filled_qty ${result.filled_qty}, but ${describeVenue(order)}`);
      }
      if (result.status !== row.status) {
        problems.push(`${where}: keel.get says ${result.status}, but the registry row says ${row.status}`);
      }
    }
  }
  for (const [clientOrderId, order] of latest) {
    if (!owned.has(clientOrderId)) {
      problems.push(
        `clientOrderId ${clientOrderId}: ${describeVenue(order)}, but no registered intent owns it`,
      );
    }
  }
  return problems;
}

/** Check 2, worded: each clientOrderId the venue accepted as a new order more than once. */
export function duplicateSubmissions(twice: readonly string[], registry: readonly RegistryView[]): string[] {
  const byClientOrderId = new Map(registry.map((row) => [row.clientOrderId, row.intentId]));
  return twice.map(
    (clientOrderId) =>
      `${byClientOrderId.get(clientOrderId) ?? 'an unregistered intent'} (clientOrderId ${clientOrderId}): the venue accepted it as a new order more than once`,
  );
}

/** Check 4: the registry equals a replay of its journal (status, tag, venueOrderId per intent). */
export function differencesFromReplay(
  registry: readonly RegistryView[],
  replayed: ReadonlyMap<string, ReplayedRegistryEntry>,
): string[] {
  const problems: string[] = [];
  for (const row of registry) {
    const entry = replayed.get(row.intentId);
    if (!entry) {
      problems.push(`${row.intentId}: in the registry, but the journal never creates it`);
      continue;
    }
    for (const field of ['clientOrderId', 'status', 'tag', 'venueOrderId'] as const) {
      if (entry[field] !== row[field]) {
        problems.push(
          `${row.intentId}: the registry has ${field} ${String(row[field])}, the journal replays to ${String(entry[field])}`,
        );
      }
    }
  }
  const registered = new Set(registry.map((row) => row.intentId));
  for (const intentId of replayed.keys()) {
    if (!registered.has(intentId)) {
      problems.push(`${intentId}: the journal creates it, but the registry has no row for it`);
    }
  }
  return problems;
}

/** Tags that mean a guard stopped an order: a protective exit must never carry one. */
export const BLOCKED_TAG = /^(KILL_SWITCH|RISK_BLOCKED|BELIEF_|GUARD_|MODE_)/;

const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['EXECUTED', 'FAILED']);

/** A registry row with the intent fields the settle and protection checks read. */
export interface RegistryRowView extends RegistryView {
  intent: Pick<Intent, 'kind' | 'type' | 'side' | 'symbol' | 'reduce_only'>;
}

/**
 * Check 5: every intent is EXECUTED or FAILED once keel was given its settle time. `stateOf`
 * names the lifecycle state it was left in, when the caller knows it.
 */
export function unsettledIntents(
  registry: readonly RegistryRowView[],
  stateOf: (intentId: string) => string | undefined = () => undefined,
): string[] {
  const problems: string[] = [];
  for (const row of registry) {
    if (TERMINAL_STATUSES.has(row.status)) continue;
    const state = stateOf(row.intentId);
    problems.push(
      `${row.intentId} (${row.intent.kind} ${row.intent.type}) is still ${row.status}${state === undefined ? '' : ` in ${state}`} after the settle bound`,
    );
  }
  return problems;
}

/** Check 6 (invariant 7): no protective exit ended FAILED with a guard's tag. */
export function blockedProtectiveExits(registry: readonly RegistryRowView[]): string[] {
  return registry
    .filter(
      (row) =>
        (row.intent.kind !== 'ENTRY' || row.intent.reduce_only) &&
        row.tag !== null &&
        BLOCKED_TAG.test(row.tag),
    )
    .map((row) => `${row.intentId} (${row.intent.kind}) failed ${row.tag ?? ''}`);
}

/** Check 7 (invariant 10): a transition (not a sample that stayed put) names an event or a reason. */
export function transitionsWithoutCause(journal: readonly JournalEvent[]): string[] {
  const problems: string[] = [];
  for (const event of journal) {
    const moved = event.to !== null && event.from !== null && event.from !== event.to;
    if (moved && event.causingEventId === null && event.reasonCode === null) {
      problems.push(
        `${event.type} ${event.from} → ${event.to} (source ${event.source}, stage ${event.stage}, clientOrderId ${event.clientOrderId ?? '-'}) names no cause`,
      );
    }
  }
  return problems;
}

/**
 * Check 8: keel's positions (signed, by symbol) equal the venue's. `whose` starts each sentence:
 * "keel's" for a live belief, "the journal's booked" for one rebuilt from the journal.
 */
export function positionDifferences(
  keel: Readonly<Record<string, number>>,
  venue: Readonly<Record<string, number>>,
  whose = "keel's",
): string[] {
  const problems: string[] = [];
  for (const symbol of new Set([...Object.keys(keel), ...Object.keys(venue)])) {
    const keelQty = keel[symbol] ?? 0;
    const venueQty = venue[symbol] ?? 0;
    if (Math.abs(keelQty - venueQty) > QTY_EPSILON) {
      problems.push(`${whose} ${symbol} position is ${keelQty}, the venue's is ${venueQty}`);
    }
  }
  return problems;
}

/** One fill as the journal books it (an `order.fill.booked` fact). */
export interface BookedFill {
  clientOrderId: string;
  tradeId: string | null;
  qty: number;
}

/**
 * Every fill the journal says keel booked. The runtime records a booked fill inside the
 * transition that caused it (`data.emitted`), or as an `order.fill.booked` event of its own when
 * no transition was journaled; both are read, and only committed events exist, so a fill booked
 * by a process killed before its commit is not here (its restart books it again).
 */
export function bookedFillsOf(journal: readonly JournalEvent[]): BookedFill[] {
  const booked: BookedFill[] = [];
  const take = (fact: Record<string, unknown>, clientOrderId: string | null): void => {
    const owner = typeof fact.clientOrderId === 'string' ? fact.clientOrderId : clientOrderId;
    if (owner === null || typeof fact.qty !== 'number') return;
    booked.push({
      clientOrderId: owner,
      tradeId: typeof fact.tradeId === 'string' ? fact.tradeId : null,
      qty: fact.qty,
    });
  };
  for (const event of journal) {
    if (event.type === 'order.fill.booked') take(event.data, event.clientOrderId);
    const emitted = event.data.emitted;
    if (!Array.isArray(emitted)) continue;
    for (const fact of emitted as unknown[]) {
      if (
        fact !== null &&
        typeof fact === 'object' &&
        (fact as { type?: unknown }).type === 'order.fill.booked'
      )
        take(fact as Record<string, unknown>, event.clientOrderId);
    }
  }
  return booked;
}

/**
 * Check 8, from the journal alone: each venue trade of a keel order is booked exactly once, and
 * nothing is booked that the venue never traded. Trades are matched by trade id; a booking
 * without one is matched by quantity per clientOrderId.
 */
export function bookingsDisagreeingWithVenue(
  booked: readonly BookedFill[],
  venueFills: readonly VenueFill[],
  registry: readonly RegistryView[],
): string[] {
  const problems: string[] = [];
  const owners = new Map(registry.map((row) => [row.clientOrderId, row.intentId]));
  const where = (clientOrderId: string): string =>
    `${owners.get(clientOrderId) ?? 'an unregistered intent'} (clientOrderId ${clientOrderId})`;
  const venueTrades = new Map(venueFills.map((fill) => [fill.tradeId, fill]));
  const times = new Map<string, number>();
  const untraded = new Map<string, number>();
  for (const fill of booked) {
    if (fill.tradeId === null) {
      untraded.set(fill.clientOrderId, addQuantities(untraded.get(fill.clientOrderId) ?? 0, fill.qty));
      continue;
    }
    times.set(fill.tradeId, (times.get(fill.tradeId) ?? 0) + 1);
    const trade = venueTrades.get(fill.tradeId);
    if (!trade) {
      problems.push(
        `${where(fill.clientOrderId)}: keel booked trade ${fill.tradeId}, which the venue never made`,
      );
    } else if (trade.clientOrderId !== fill.clientOrderId || Math.abs(trade.qty - fill.qty) > QTY_EPSILON) {
      problems.push(
        `${where(fill.clientOrderId)}: keel booked trade ${fill.tradeId} as ${fill.qty}, the venue traded ${trade.qty} for clientOrderId ${trade.clientOrderId}`,
      );
    }
  }
  for (const [tradeId, count] of times) {
    if (count > 1) {
      const trade = venueTrades.get(tradeId);
      problems.push(`${where(trade?.clientOrderId ?? '?')}: trade ${tradeId} is booked ${count} times`);
    }
  }
  const unbooked = new Map<string, number>();
  for (const fill of venueFills) {
    if (!owners.has(fill.clientOrderId) || times.has(fill.tradeId)) continue;
    unbooked.set(fill.clientOrderId, addQuantities(unbooked.get(fill.clientOrderId) ?? 0, fill.qty));
  }
  for (const clientOrderId of new Set([...unbooked.keys(), ...untraded.keys()])) {
    const missing = unbooked.get(clientOrderId) ?? 0;
    const extra = untraded.get(clientOrderId) ?? 0;
    if (Math.abs(missing - extra) > QTY_EPSILON) {
      problems.push(
        `${where(clientOrderId)}: the venue traded ${missing} that keel never booked by trade id, and keel booked ${extra} without one`,
      );
    }
  }
  return problems;
}

/** Signed positions (positive long) per symbol from booked fills and each order's side. */
export function bookedPositions(
  booked: readonly BookedFill[],
  sideOf: (clientOrderId: string) => { symbol: string; side: 'buy' | 'sell' } | undefined,
): Record<string, number> {
  const positions: Record<string, number> = {};
  for (const fill of booked) {
    const order = sideOf(fill.clientOrderId);
    if (!order) continue;
    const signed = order.side === 'buy' ? fill.qty : -fill.qty;
    positions[order.symbol] = addQuantities(positions[order.symbol] ?? 0, signed);
  }
  return positions;
}

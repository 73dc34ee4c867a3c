/**
 * The verdicts of keel chaos and the crash test, as pure functions of what a run left: keel's registry and
 * journal, the paper venue's persisted state, and the ACK lines the child printed.
 * Invariants: every verdict is a list of sentences naming the intent (and the clientOrderId, the
 * registry's view and the venue's truth), empty when the check passes; nothing here reads a clock.
 */
import type { ReplayedRegistryEntry } from '../domain/registry-replay.js';
import type { VenueOrder } from '../ports/venue.port.js';

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

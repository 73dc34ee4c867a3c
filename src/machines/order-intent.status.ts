/**
 * The status an order reports, derived from its lifecycle state by FIX precedence:
 * a terminal state says how it ended; a working order is PARTIALLY_FILLED if anything has
 * filled, else REPLACED_OPEN if a replace was confirmed, else OPEN.
 */
import type { SnapshotFrom } from 'xstate';
import type { OrderPhase } from '../domain/order-status.js';
import type { orderIntentMachine, TerminalStatus } from './order-intent.machine.js';

export type ReportedOrderStatus = 'OPEN' | 'PARTIALLY_FILLED' | 'REPLACED_OPEN' | TerminalStatus;

export function reportedOrderStatus(snapshot: SnapshotFrom<typeof orderIntentMachine>): ReportedOrderStatus {
  const { context } = snapshot;
  if (context.terminalStatus !== null) return context.terminalStatus;
  if (context.filledQty > 0) return 'PARTIALLY_FILLED';
  if (context.replaced) return 'REPLACED_OPEN';
  return 'OPEN';
}

/** The lifecycle phase the order-status table (src/domain/order-status.ts) speaks of. */
export function orderPhase(
  snapshot: SnapshotFrom<typeof orderIntentMachine>,
): OrderPhase | 'FAILED' | 'DONE' {
  if (snapshot.matches('intent-created')) return 'CREATED';
  if (snapshot.matches('failed')) return 'FAILED';
  if (snapshot.matches('done')) return 'DONE';
  if (snapshot.matches({ live: { order: 'sent-to-broker' } })) return 'SENT';
  if (snapshot.matches({ live: { order: { working: 'open' } } })) return 'OPEN';
  if (snapshot.matches({ live: { order: { working: 'partially-filled' } } })) return 'PARTIALLY_FILLED';
  const status = snapshot.context.terminalStatus;
  if (status === null || status === 'FAILED') throw new Error('order-intent snapshot has no phase');
  return status;
}

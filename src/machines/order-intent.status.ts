/**
 * The status an order reports, derived from its lifecycle state by FIX precedence:
 * a terminal state says how it ended; a working order is PARTIALLY_FILLED if anything has
 * filled, else REPLACED_OPEN if a replace was confirmed, else OPEN.
 */
import type { SnapshotFrom } from 'xstate';
import type { orderIntentMachine, TerminalStatus } from './order-intent.machine.js';

export type ReportedOrderStatus = 'OPEN' | 'PARTIALLY_FILLED' | 'REPLACED_OPEN' | TerminalStatus;

export function reportedOrderStatus(snapshot: SnapshotFrom<typeof orderIntentMachine>): ReportedOrderStatus {
  const { context } = snapshot;
  if (context.terminalStatus !== null) return context.terminalStatus;
  if (context.filledQty > 0) return 'PARTIALLY_FILLED';
  if (context.replaced) return 'REPLACED_OPEN';
  return 'OPEN';
}

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

/** Registry statuses (reference 003), spelled here so machines need not import the store port. */
export type RegistryStatusView = 'CREATED' | 'SENT_TO_BROKER' | 'EXECUTED' | 'FAILED';

/** What the registry row says about an order-intent snapshot, and which stage decided it. */
export interface RegistryView {
  status: RegistryStatusView;
  /** Why it failed or how it ended, e.g. `RISK_BLOCKED:max_notional`, `VENUE_REJECTED:-2019`. */
  tag: string | null;
  stage: 'ingress' | 'risk' | 'guard' | 'router' | 'venue' | 'reconcile' | 'operator' | null;
  venueOrderId: string | null;
}

const STAGES = new Set(['ingress', 'risk', 'guard', 'router', 'venue', 'reconcile', 'operator']);

/**
 * The registry row an order-intent snapshot stands for. The venue decides EXECUTED: only a fill
 * makes one, so an order cancelled or expired after a partial fill is EXECUTED (exposure exists)
 * with a tag saying so, and one that ended without any fill is FAILED.
 *
 * @example
 * registryViewOf(actor.getSnapshot()); // { status: 'SENT_TO_BROKER', tag: null, stage: null, … }
 */
export function registryViewOf(snapshot: SnapshotFrom<typeof orderIntentMachine>): RegistryView {
  const { context } = snapshot;
  const venueOrderId = context.venueOrderId;
  if (snapshot.matches('intent-created')) return { status: 'CREATED', tag: null, stage: null, venueOrderId };
  if (snapshot.matches('live')) return { status: 'SENT_TO_BROKER', tag: null, stage: null, venueOrderId };
  const filled = context.filledQty > 0;
  const overfill = context.overfillQty > 0 ? `OVERFILL:${context.overfillQty}` : null;
  switch (context.terminalStatus) {
    case 'FILLED':
      return { status: 'EXECUTED', tag: overfill, stage: 'venue', venueOrderId };
    case 'CANCELED':
    case 'EXPIRED':
      return filled
        ? {
            status: 'EXECUTED',
            tag: `${context.terminalStatus}_PARTIALLY_FILLED`,
            stage: 'venue',
            venueOrderId,
          }
        : {
            status: 'FAILED',
            tag: context.terminalStatus,
            // An intent cancelled before it was sent was ended by its owner, not the venue.
            stage: venueOrderId === null && context.submitAttempts === 0 ? 'operator' : 'venue',
            venueOrderId,
          };
    case 'REJECTED':
      return {
        status: 'FAILED',
        tag: `VENUE_REJECTED:${context.rejectCode ?? slug(context.rejectReason ?? 'rejected')}`,
        stage: 'venue',
        venueOrderId,
      };
    default: {
      const stage = context.blockStage !== null && STAGES.has(context.blockStage) ? context.blockStage : null;
      return {
        status: 'FAILED',
        tag: context.blockTag ?? 'FAILED',
        stage: stage as RegistryView['stage'],
        venueOrderId,
      };
    }
  }
}

/** A free-text reason as a tag detail: letters, digits and underscores only. */
function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 48) || 'rejected'
  );
}

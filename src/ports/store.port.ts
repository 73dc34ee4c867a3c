/**
 * The store port: the durable order registry and its journal.
 * Guarantees every adapter must keep: a registry row and the journal event that explains it
 * are written in one transaction, so the registry always equals a replay of the journal;
 * `register` is idempotent per intent (the same intent id never makes a second row); when a
 * write resolves, it is on disk (CREATED and SENT_TO_BROKER before any venue call).
 */
import type { Intent } from '../domain/intent.schema.js';

/** Registry statuses (reference 003): the venue, not keel, decides EXECUTED. */
export type RegistryStatus = 'CREATED' | 'SENT_TO_BROKER' | 'EXECUTED' | 'FAILED';

export interface RegistryRecord {
  intentId: string;
  correlationId: string;
  clientOrderId: string;
  status: RegistryStatus;
  /** Why it is FAILED or how it ended, e.g. `RISK_BLOCKED:max_notional`, `VENUE_REJECTED:-2019`. */
  tag: string | null;
  venue: string;
  venueOrderId: string | null;
  intent: Intent;
  /** The order-intent actor's persisted snapshot, for restore after a crash. */
  snapshot: unknown;
  createdAt: number;
  updatedAt: number;
}

/** One journaled transition: what happened, why, and who decided (invariant 11). */
export interface JournalEvent {
  /** Assigned by the store, strictly increasing. */
  seq?: number;
  eventId: string;
  ts: number;
  correlationId: string;
  clientOrderId: string | null;
  type: string;
  stage: string;
  source: string;
  reasonCode: string | null;
  causingEventId: string | null;
  from: string | null;
  to: string | null;
  data: Record<string, unknown>;
}

export interface RegistryUpdate {
  status?: RegistryStatus;
  tag?: string | null;
  venueOrderId?: string | null;
  snapshot?: unknown;
  /**
   * The intent is finalized (DONE): nothing will change it again, so a restart leaves it alone.
   * Written with the event that finalized it; only a terminal row (EXECUTED or FAILED) is finalized.
   */
  finalized?: true;
  updatedAt: number;
}

/**
 * What happened to an intent between its registration and the first commit, written in the same
 * transaction as the registration (only when it is created): the blockers' verdict, FAILED or
 * SENT_TO_BROKER, so a submission costs one durable commit before the venue call, not two.
 */
export interface RegistrationFollowUp {
  /** Events before the registry change, in order. */
  before?: readonly JournalEvent[];
  update: RegistryUpdate;
  /** The event that caused `update`. */
  event: JournalEvent;
  also?: readonly JournalEvent[];
}

export interface StorePort {
  /**
   * Registers an intent as CREATED with its first journal event, durably. Idempotent: a
   * second call for the same intentId changes nothing and returns the existing record.
   */
  register(
    record: RegistryRecord,
    event: JournalEvent,
    then?: RegistrationFollowUp,
  ): Promise<{ record: RegistryRecord; created: boolean }>;
  /**
   * Applies a registry change and appends its journal event, then `also` (the commands and facts
   * the same step produced), in one transaction.
   */
  transition(
    intentId: string,
    update: RegistryUpdate,
    event: JournalEvent,
    also?: readonly JournalEvent[],
  ): Promise<void>;
  /** Appends a journal event that changes no registry row (a retry, an ignored message). */
  append(event: JournalEvent, also?: readonly JournalEvent[]): Promise<void>;
  get(intentId: string): RegistryRecord | null;
  findByClientOrderId(clientOrderId: string): RegistryRecord | null;
  /** Every record not yet EXECUTED or FAILED: the intents still working at the venue. */
  nonTerminal(): RegistryRecord[];
  /**
   * Every record not yet finalized (DONE): the non-terminal ones, and the finished ones still
   * lingering for late fills or a fill sync. What a restart must restore; it costs what these
   * rows cost, however many finalized intents the store holds.
   */
  unfinalized(): RegistryRecord[];
  list(filter?: { status?: RegistryStatus; limit?: number }): RegistryRecord[];
  /** The journal of one intent, by correlation id or clientOrderId, in order. */
  journal(key: { correlationId?: string; clientOrderId?: string }): JournalEvent[];
  close(): Promise<void>;
}

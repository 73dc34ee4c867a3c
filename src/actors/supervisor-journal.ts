/**
 * A journal stream for one supervisor: its events under one fixed correlation id (such as
 * `supervisor.kill-switch`), so `keel replay` and `store.journal({ correlationId })` read a
 * supervisor's history the way they read an intent's.
 * Invariants: event ids keep increasing across restarts (the stream continues after the last id on
 * disk), each event names the one before it as its cause, and a failed write is logged, never thrown.
 */
import { eventIdFor } from '../domain/ids.js';
import type { LoggerPort } from '../ports/logger.port.js';
import type { JournalEvent, StorePort } from '../ports/store.port.js';

export interface SupervisorJournalEntry {
  ts: number;
  type: string;
  /** Who decided: `operator`, `reconcile`, `router`. */
  stage: string;
  source: string;
  reasonCode?: string | null;
  from?: string | null;
  to?: string | null;
  data: Record<string, unknown>;
}

export interface SupervisorJournal {
  readonly correlationId: string;
  /** Appends an event; resolves once it is on disk (or the failure is logged). */
  append(entry: SupervisorJournalEntry): Promise<JournalEvent>;
  /** Settles when every append started so far has finished. */
  idle(): Promise<void>;
}

/** The sequence number an event id ends with (`<correlationId>.000042` → 42). */
function seqOf(eventId: string): number {
  const seq = Number(eventId.slice(eventId.lastIndexOf('.') + 1));
  return Number.isInteger(seq) && seq >= 0 ? seq : 0;
}

/**
 * Opens the journal stream of one supervisor.
 *
 * @example
 * const journal = openSupervisorJournal(store, 'supervisor.kill-switch', logger);
 * await journal.append({ ts: clock.now(), type: 'kill_switch.tripped', stage: 'operator', source: 'operator', data });
 */
export function openSupervisorJournal(
  store: StorePort,
  correlationId: string,
  logger?: LoggerPort,
): SupervisorJournal {
  const previous = store.journal({ correlationId });
  let seq = previous.reduce((latest, event) => Math.max(latest, seqOf(event.eventId)), 0);
  let lastEventId: string | null = previous.at(-1)?.eventId ?? null;
  const writing = new Set<Promise<unknown>>();

  return {
    correlationId,
    append(entry) {
      seq += 1;
      const event: JournalEvent = {
        eventId: eventIdFor(correlationId, seq),
        ts: entry.ts,
        correlationId,
        clientOrderId: null,
        type: entry.type,
        stage: entry.stage,
        source: entry.source,
        reasonCode: entry.reasonCode ?? null,
        causingEventId: lastEventId,
        from: entry.from ?? null,
        to: entry.to ?? null,
        data: entry.data,
      };
      lastEventId = event.eventId;
      const write = store.append(event).then(
        () => event,
        (error: unknown) => {
          logger?.error(
            { err: error, eventId: event.eventId, type: event.type },
            'supervisor journal write failed',
          );
          return event;
        },
      );
      writing.add(write);
      void write.finally(() => writing.delete(write));
      return write;
    },
    async idle() {
      while (writing.size > 0) await Promise.all([...writing]);
    },
  };
}

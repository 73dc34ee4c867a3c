/**
 * The lifecycle timeline of one intent, cut from a journal as a pure function (`keel replay`).
 * Invariants: events keep their journal order; a key matches by correlation id or by clientOrderId,
 * and a clientOrderId pulls in every event of its correlation (causes journaled before the order
 * had an id included), exactly as the store's `journal({ clientOrderId })` query does; the registry
 * shown is `replayJournal` of those same events, never read from elsewhere.
 */
import { z } from 'zod';
import { replayJournal, type ReplayedRegistryEntry } from './registry-replay.js';

/** One journal event as stored (the SQLite row or one JSONL mirror line). */
export const journalEventSchema = z.object({
  seq: z.number().int().positive().optional(),
  eventId: z.string().min(1),
  ts: z.number().finite(),
  correlationId: z.string().min(1),
  clientOrderId: z.string().nullable(),
  type: z.string().min(1),
  stage: z.string(),
  source: z.string(),
  reasonCode: z.string().nullable(),
  causingEventId: z.string().nullable(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});
export type TimelineEvent = z.output<typeof journalEventSchema>;

/** What `keel replay` reports for one key. */
export interface Timeline {
  key: string;
  /** The correlation the key belongs to; the first one when a clientOrderId spans several. */
  correlationId: string;
  clientOrderIds: string[];
  events: TimelineEvent[];
  /** The registry entry the timeline's own events replay to; null when none was registered. */
  registry: ReplayedRegistryEntry | null;
}

/**
 * Cuts the timeline of `key` (a correlation id or a clientOrderId) out of a whole journal in
 * order; null when no event matches.
 *
 * @example
 * const timeline = timelineOf(store.readJournal(), 'k-1');
 * timeline?.registry?.status; // 'EXECUTED'
 */
export function timelineOf(journal: readonly TimelineEvent[], key: string): Timeline | null {
  const correlations = new Set<string>();
  for (const event of journal) {
    if (event.correlationId === key || event.clientOrderId === key) correlations.add(event.correlationId);
  }
  const events = journal.filter(
    (event) => correlations.has(event.correlationId) || event.clientOrderId === key,
  );
  const first = events[0];
  if (!first) return null;
  const clientOrderIds = [
    ...new Set(events.flatMap((event) => (event.clientOrderId === null ? [] : [event.clientOrderId]))),
  ];
  const entries = [...replayJournal(events).values()];
  const registry =
    entries.find((entry) => entry.clientOrderId === key) ??
    entries.find((entry) => entry.correlationId === key) ??
    entries[0] ??
    null;
  return { key, correlationId: first.correlationId, clientOrderIds, events, registry };
}

/**
 * Rebuilds the order registry from the journal alone, as a pure function.
 * Invariants: only the two store-written event types change the registry (`registry.created`,
 * `registry.updated`); each carries the full registry fields it sets, so replay needs no other
 * event; an update for an unknown intent or a second creation is refused, never guessed.
 */
import { z } from 'zod';
import { BadInputError } from './errors.js';

/** Registry statuses (reference 003): the venue, not keel, decides EXECUTED. */
export const REGISTRY_STATUSES = ['CREATED', 'SENT_TO_BROKER', 'EXECUTED', 'FAILED'] as const;
export type RegistryStatusName = (typeof REGISTRY_STATUSES)[number];

/**
 * The journal event types that carry registry changes. Only the store writes them, in the
 * same transaction as the row they describe; callers journal their own causes beside them.
 *
 * - `registry.created`: `data` = { intentId, clientOrderId, correlationId, venue, status, tag, venueOrderId }
 * - `registry.updated`: `data` = { intentId, status, tag, venueOrderId } (the row's values after the change)
 */
export const REGISTRY_EVENT_TYPES = {
  created: 'registry.created',
  updated: 'registry.updated',
} as const;

/** True for the event types only the store may write. */
export function isRegistryEventType(type: string): boolean {
  return type.startsWith('registry.');
}

const statusSchema = z.enum(REGISTRY_STATUSES);

export const registryCreatedDataSchema = z.object({
  intentId: z.string().min(1),
  clientOrderId: z.string().min(1),
  correlationId: z.string().min(1),
  venue: z.string().min(1),
  status: statusSchema,
  tag: z.string().nullable(),
  venueOrderId: z.string().nullable(),
});
export type RegistryCreatedData = z.infer<typeof registryCreatedDataSchema>;

export const registryUpdatedDataSchema = z.object({
  intentId: z.string().min(1),
  status: statusSchema,
  tag: z.string().nullable(),
  venueOrderId: z.string().nullable(),
});
export type RegistryUpdatedData = z.infer<typeof registryUpdatedDataSchema>;

/** What replay knows of one intent: the registry fields the journal determines. */
export interface ReplayedRegistryEntry {
  intentId: string;
  clientOrderId: string;
  correlationId: string;
  venue: string;
  status: RegistryStatusName;
  tag: string | null;
  venueOrderId: string | null;
}

/** The shape replay reads; a store's journal events satisfy it. */
export interface ReplayableEvent {
  type: string;
  data: Record<string, unknown>;
}

/**
 * Replays journal events in order and returns the registry they describe, keyed by intent id.
 * Events of other types are skipped: they explain causes but change no row.
 *
 * @example
 * const registry = replayJournal(store.readJournal());
 * registry.get(intentId)?.status; // 'SENT_TO_BROKER'
 */
export function replayJournal(events: Iterable<ReplayableEvent>): Map<string, ReplayedRegistryEntry> {
  const registry = new Map<string, ReplayedRegistryEntry>();
  let index = 0;
  for (const event of events) {
    const at = `events.${index}`;
    index += 1;
    if (event.type === REGISTRY_EVENT_TYPES.created) {
      const data = parseData(registryCreatedDataSchema, event.data, at);
      if (registry.has(data.intentId)) {
        throw new BadInputError('journal does not replay', [
          { path: `${at}.data.intentId`, message: `intent ${data.intentId} was already created` },
        ]);
      }
      registry.set(data.intentId, { ...data });
    } else if (event.type === REGISTRY_EVENT_TYPES.updated) {
      const data = parseData(registryUpdatedDataSchema, event.data, at);
      const entry = registry.get(data.intentId);
      if (!entry) {
        throw new BadInputError('journal does not replay', [
          {
            path: `${at}.data.intentId`,
            message: `intent ${data.intentId} was updated before it was created`,
          },
        ]);
      }
      registry.set(data.intentId, {
        ...entry,
        status: data.status,
        tag: data.tag,
        venueOrderId: data.venueOrderId,
      });
    }
  }
  return registry;
}

function parseData<S extends z.ZodType>(schema: S, data: unknown, at: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new BadInputError(
    'journal does not replay',
    result.error.issues.map((issue) => ({
      path: [at, 'data', ...issue.path.map((part) => String(part))].join('.'),
      message: issue.message,
    })),
  );
}

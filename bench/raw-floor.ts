/**
 * The raw floor: the SQLite writes the runtime makes per intent, issued against `openSqliteStore`
 * in a bare loop with no actors, no venue and no validation — what keel's own overhead is measured
 * against. Invariants: the write profile (which store calls, with which payloads, grouped as the
 * runtime issued them between commits) is recorded from a real run, never assumed; `concurrency`
 * intents are in flight, each awaiting one group of writes before issuing the next, so group commit
 * batches the floor's writes the way it batches the runtime's.
 */
import { join } from 'node:path';
import {
  openSqliteStore,
  type SqliteStore,
  type SqliteStoreStats,
} from '../src/adapters/store/sqlite.store.js';
import { REGISTRY_EVENT_TYPES } from '../src/domain/registry-replay.js';
import type { JournalEvent, RegistryRecord, StorePort } from '../src/ports/store.port.js';
import { fileBytes, makeTempDir, runPool } from './support.js';

/** One store call the runtime made for an intent, with the arguments it passed. */
export type WriteStep =
  | { call: 'register'; args: Parameters<StorePort['register']> }
  | { call: 'transition'; args: Parameters<StorePort['transition']> }
  | { call: 'append'; args: Parameters<StorePort['append']> };

/** The store calls of one real intent; the calls of one group were issued before the same commit. */
export interface WriteProfile {
  intentId: string;
  groups: WriteStep[][];
}

/** What a run journaled, per intent. */
export interface JournalCounts {
  intents: number;
  journalRowsPerIntent: number;
  /** How often each event type was journaled, per intent. */
  eventTypesPerIntent: Record<string, number>;
}

export function countJournal(journal: readonly JournalEvent[]): JournalCounts {
  const types: Record<string, number> = {};
  for (const event of journal) types[event.type] = (types[event.type] ?? 0) + 1;
  const intents = types[REGISTRY_EVENT_TYPES.created] ?? 0;
  const perIntent = (count: number): number => Math.round((count / Math.max(1, intents)) * 1000) / 1000;
  return {
    intents,
    journalRowsPerIntent: perIntent(journal.length),
    eventTypesPerIntent: Object.fromEntries(
      Object.entries(types).map(([type, count]) => [type, perIntent(count)]),
    ),
  };
}

/**
 * Wraps a store so that, while `recording` is on, every write call is kept per correlation id,
 * grouped by the commit it was issued before. With recording off it only delegates.
 */
export class RecordingStore implements StorePort {
  recording = true;
  private readonly calls = new Map<string, { commit: number; step: WriteStep }[]>();

  constructor(readonly inner: SqliteStore) {}

  register(...args: Parameters<StorePort['register']>): ReturnType<StorePort['register']> {
    this.keep(args[1].correlationId, { call: 'register', args });
    return this.inner.register(...args);
  }

  transition(...args: Parameters<StorePort['transition']>): ReturnType<StorePort['transition']> {
    this.keep(args[2].correlationId, { call: 'transition', args });
    return this.inner.transition(...args);
  }

  append(...args: Parameters<StorePort['append']>): ReturnType<StorePort['append']> {
    this.keep(args[0].correlationId, { call: 'append', args });
    return this.inner.append(...args);
  }

  get(intentId: string): RegistryRecord | null {
    return this.inner.get(intentId);
  }

  findByClientOrderId(clientOrderId: string): RegistryRecord | null {
    return this.inner.findByClientOrderId(clientOrderId);
  }

  nonTerminal(): RegistryRecord[] {
    return this.inner.nonTerminal();
  }

  unfinalized(): RegistryRecord[] {
    return this.inner.unfinalized();
  }

  list(filter?: Parameters<StorePort['list']>[0]): RegistryRecord[] {
    return this.inner.list(filter);
  }

  journal(key: Parameters<StorePort['journal']>[0]): JournalEvent[] {
    return this.inner.journal(key);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** The recorded intents that were registered, each as its groups of writes. */
  profiles(): WriteProfile[] {
    const profiles: WriteProfile[] = [];
    for (const calls of this.calls.values()) {
      const first = calls[0]?.step;
      if (first?.call !== 'register') continue;
      const groups = new Map<number, WriteStep[]>();
      for (const { commit, step } of calls) groups.set(commit, [...(groups.get(commit) ?? []), step]);
      profiles.push({ intentId: first.args[0].intentId, groups: [...groups.values()] });
    }
    return profiles;
  }

  private keep(correlationId: string, step: WriteStep): void {
    if (!this.recording) return;
    const list = this.calls.get(correlationId) ?? [];
    list.push({ commit: this.inner.stats().commits, step });
    this.calls.set(correlationId, list);
  }
}

/** The shape of a profile, e.g. `register | transition+append | transition+transition+append`. */
export function describeProfile(profile: WriteProfile): string {
  return profile.groups.map((group) => group.map((step) => step.call).join('+')).join(' | ');
}

/** The most common profile shape among `profiles`, with how many intents had it. */
export function typicalProfile(profiles: readonly WriteProfile[]): { profile: WriteProfile; share: number } {
  const byShape = new Map<string, WriteProfile[]>();
  for (const profile of profiles) {
    const shape = describeProfile(profile);
    byShape.set(shape, [...(byShape.get(shape) ?? []), profile]);
  }
  const [best] = [...byShape.values()].sort((a, b) => b.length - a.length);
  const profile = best?.[0];
  if (!profile) throw new Error('no intent was recorded: the run made no store calls');
  return { profile, share: (best?.length ?? 0) / profiles.length };
}

export interface RawFloorOptions {
  profile: WriteProfile;
  count: number;
  warmup: number;
  concurrency: number;
}

export interface RawFloorResult {
  intentsPerSec: number;
  count: number;
  seconds: number;
  storeCallsPerIntent: number;
  /** Journal rows the replay wrote per intent: equal to the runtime's when the writes are the same. */
  journalRowsPerIntent: number;
  stats: SqliteStoreStats;
  durability: { journalMode: string; synchronous: string };
  dbBytes: number;
}

function isEvent(value: unknown): value is JournalEvent {
  return typeof value === 'object' && value !== null && 'eventId' in value && 'correlationId' in value;
}

function isRecord(value: unknown): value is RegistryRecord {
  return typeof value === 'object' && value !== null && 'intentId' in value && 'intent' in value;
}

/**
 * A writer that issues `profile`'s store calls for fresh intent number `index` against `store`,
 * group by group as the runtime issued them, with ids `${prefix}-${index}` (correlation
 * `${prefix}-corr-${index}`, clientOrderId `EN-${prefix}-${index}`) and the current time.
 */
export function profileWriter(
  store: StorePort,
  profile: WriteProfile,
  prefix: string,
): (index: number) => Promise<void> {
  return async (index) => {
    const names = {
      intentId: `${prefix}-${index}`,
      correlationId: `${prefix}-corr-${index}`,
      clientOrderId: `EN-${prefix}-${index}`,
    };
    const eventIds = new Map<string, string>();
    // Fresh ids and timestamps, down through follow-up objects (a registration's verdict, its
    // events); everything else, snapshots included, goes to the store as the runtime passed it.
    const rename = (value: unknown, now: number, depth = 0): unknown => {
      if (value === profile.intentId) return names.intentId;
      if (Array.isArray(value)) return value.map((item) => rename(item, now, depth + 1));
      if (isEvent(value)) {
        const eventId = `${names.correlationId}.${eventIds.size + 1}`;
        eventIds.set(value.eventId, eventId);
        return {
          ...value,
          eventId,
          ts: now,
          correlationId: names.correlationId,
          clientOrderId: value.clientOrderId === null ? null : names.clientOrderId,
          causingEventId: value.causingEventId === null ? null : (eventIds.get(value.causingEventId) ?? null),
        };
      }
      if (isRecord(value)) return { ...value, ...names, createdAt: now, updatedAt: now };
      if (typeof value !== 'object' || value === null || depth >= 2) return value;
      const copy: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(value)) {
        copy[key] = key === 'snapshot' ? field : rename(field, now, depth + 1);
      }
      if ('updatedAt' in copy) copy['updatedAt'] = now;
      return copy;
    };
    for (const group of profile.groups) {
      const now = Date.now();
      await Promise.all(
        group.map((write) => {
          const args = write.args.map((arg) => rename(arg, now));
          if (write.call === 'register')
            return store.register(...(args as Parameters<StorePort['register']>));
          if (write.call === 'transition')
            return store.transition(...(args as Parameters<StorePort['transition']>));
          return store.append(...(args as Parameters<StorePort['append']>));
        }),
      );
    }
  };
}

/** Replays `profile` for `warmup` then `count` fresh intents against a new store and times the latter. */
export async function runRawFloor(options: RawFloorOptions): Promise<RawFloorResult> {
  const dataDir = join(makeTempDir('raw'), 'keel');
  const store = openSqliteStore({ dataDir });
  const writeIntent = profileWriter(store, options.profile, 'raw');
  try {
    await runPool(options.warmup, options.concurrency, (index) => writeIntent(index));
    const before = store.stats();
    const started = performance.now();
    await runPool(options.count, options.concurrency, (index) => writeIntent(options.warmup + index));
    const seconds = (performance.now() - started) / 1000;
    const after = store.stats();
    return {
      intentsPerSec: options.count / seconds,
      count: options.count,
      seconds,
      storeCallsPerIntent: options.profile.groups.reduce((sum, group) => sum + group.length, 0),
      stats: {
        commits: after.commits - before.commits,
        writes: after.writes - before.writes,
        failedWrites: after.failedWrites - before.failedWrites,
        largestBatch: after.largestBatch,
        mirrorErrors: after.mirrorErrors - before.mirrorErrors,
      },
      journalRowsPerIntent: countJournal(store.readJournal()).journalRowsPerIntent,
      durability: store.durability(),
      dbBytes: fileBytes(store.file) + fileBytes(`${store.file}-wal`),
    };
  } finally {
    await store.close();
  }
}

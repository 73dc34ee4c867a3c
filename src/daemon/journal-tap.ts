/**
 * A tap on the store: every journal event is published once its transaction has committed, and
 * each commit's latency is measured. The daemon's stream and metrics read the journal this way, so
 * what a client sees is exactly what is on disk, in commit order.
 * Invariants: an event is published only after the write that carries it resolved (a failed write
 * publishes nothing); a listener that throws is isolated from the store and from other listeners;
 * the store's behaviour is otherwise unchanged.
 */
import type { JournalEvent, StorePort } from '../ports/store.port.js';

export interface JournalTap {
  /** The store to hand to keel in place of the real one. */
  readonly store: StorePort;
  /** Hears every committed journal event; returns an unsubscribe function. */
  onEvent(listener: (event: JournalEvent) => void): () => void;
  /** Hears the latency (seconds) of every committed write. */
  onCommit(listener: (seconds: number) => void): () => void;
}

/**
 * Wraps a store.
 *
 * @example
 * const tap = tapJournal(openSqliteStore({ dataDir }), () => performance.now());
 * tap.onEvent((event) => stream.publish(event));
 * const keel = await createKeel(config, { store: tap.store });
 */
export function tapJournal(inner: StorePort, nowMs: () => number): JournalTap {
  const eventListeners = new Set<(event: JournalEvent) => void>();
  const commitListeners = new Set<(seconds: number) => void>();

  function publish(events: readonly JournalEvent[], startedAt: number): void {
    const seconds = (nowMs() - startedAt) / 1000;
    for (const listener of commitListeners) {
      try {
        listener(seconds);
      } catch {
        // A metrics listener must never fail a write that already committed.
      }
    }
    for (const event of events) {
      for (const listener of eventListeners) {
        try {
          listener(event);
        } catch {
          // Likewise for a stream listener.
        }
      }
    }
  }

  function committed<T>(write: Promise<T>, events: (value: T) => readonly JournalEvent[]): Promise<T> {
    const startedAt = nowMs();
    return write.then((value) => {
      publish(events(value), startedAt);
      return value;
    });
  }

  const store: StorePort = {
    register(record, event, then) {
      // A registration that already existed wrote nothing: nothing to publish.
      return committed(inner.register(record, event, then), ({ created }) =>
        created ? [event, ...(then?.before ?? []), ...(then ? [then.event] : []), ...(then?.also ?? [])] : [],
      );
    },
    transition(intentId, update, event, also) {
      return committed(inner.transition(intentId, update, event, also), () => [event, ...(also ?? [])]);
    },
    append(event, also) {
      return committed(inner.append(event, also), () => [event, ...(also ?? [])]);
    },
    get: (intentId) => inner.get(intentId),
    findByClientOrderId: (clientOrderId) => inner.findByClientOrderId(clientOrderId),
    nonTerminal: () => inner.nonTerminal(),
    unfinalized: () => inner.unfinalized(),
    list: (filter) => inner.list(filter),
    journal: (key) => inner.journal(key),
    close: () => inner.close(),
  };

  return {
    store,
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onCommit(listener) {
      commitListeners.add(listener);
      return () => commitListeners.delete(listener);
    },
  };
}

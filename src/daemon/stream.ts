/**
 * The live stream behind `/v1/stream`: committed journal events (lifecycle transitions, fills,
 * belief state, reconcile summaries, kill-switch trips and resets) and intent results, as JSON
 * messages carrying the envelope metadata, to every connected client.
 * Invariants: a message goes out only after what it reports is committed; a client that cannot
 * keep up (its unsent bytes pass the limit) is dropped, never buffered without bound; one
 * client's failure never reaches the others or the pipeline.
 */
import type { WebSocket } from 'ws';
import type { IntentResult } from '../domain/intent-result.schema.js';
import type { Alert } from '../ports/notifier.port.js';
import type { JournalEvent } from '../ports/store.port.js';

export type StreamMessage =
  | { kind: 'journal'; event: JournalEvent }
  | { kind: 'result'; result: IntentResult }
  | { kind: 'health'; stage: string; level: 'ok' | 'warning' | 'critical'; detail: string; at: number }
  | { kind: 'alert'; alert: Alert; at: number }
  | { kind: 'hello'; at: number; version: string };

export interface StreamHub {
  /** Adds a connected client; it is removed when it closes or falls behind. */
  add(socket: WebSocket): void;
  publish(message: StreamMessage): void;
  clients(): number;
  /** Clients dropped for falling behind, since start. */
  dropped(): number;
  close(): void;
}

/**
 * Starts a hub.
 *
 * @example
 * const hub = createStreamHub({ maxBufferedBytes: 1 << 20 });
 * tap.onEvent((event) => hub.publish({ kind: 'journal', event }));
 */
export function createStreamHub(options: {
  maxBufferedBytes: number;
  onDrop?: (reason: string) => void;
}): StreamHub {
  const sockets = new Set<WebSocket>();
  let droppedCount = 0;

  function drop(socket: WebSocket, reason: string): void {
    if (!sockets.delete(socket)) return;
    droppedCount += 1;
    options.onDrop?.(reason);
    // terminate, not close: a close handshake would queue behind the backlog that got it dropped.
    socket.terminate();
  }

  return {
    add(socket) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => sockets.delete(socket));
    },
    publish(message) {
      if (sockets.size === 0) return;
      const text = JSON.stringify(message);
      for (const socket of sockets) {
        if (socket.readyState !== socket.OPEN) continue;
        if (socket.bufferedAmount + text.length > options.maxBufferedBytes) {
          drop(socket, 'slow consumer');
          continue;
        }
        socket.send(text, (error) => {
          if (error) sockets.delete(socket);
        });
      }
    },
    clients: () => sockets.size,
    dropped: () => droppedCount,
    close() {
      for (const socket of sockets) socket.close(1001, 'keel is shutting down');
      sockets.clear();
    },
  };
}

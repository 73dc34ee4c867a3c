/**
 * The stream hub: every open client gets each message; a client whose unsent bytes would pass the
 * limit is dropped (terminated, counted), never buffered without bound, and the others go on.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { createStreamHub } from '../../src/daemon/stream.js';

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  terminated = false;
  send(text: string): void {
    this.sent.push(text);
    // A slow reader: nothing it is sent ever leaves its buffer.
    if (this.slow) this.bufferedAmount += text.length;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
    this.emit('close');
  }
  close(): void {
    this.emit('close');
  }
  constructor(readonly slow = false) {
    super();
  }
}

describe('the stream hub', () => {
  it('drops a client that falls behind, and keeps serving the others', () => {
    const drops: string[] = [];
    const hub = createStreamHub({ maxBufferedBytes: 1_000, onDrop: (reason) => drops.push(reason) });
    const fast = new FakeSocket();
    const slow = new FakeSocket(true);
    hub.add(fast as unknown as WebSocket);
    hub.add(slow as unknown as WebSocket);
    for (let index = 0; index < 50; index += 1)
      hub.publish({ kind: 'hello', at: index, version: 'x'.repeat(50) });
    expect(fast.sent).toHaveLength(50);
    expect(slow.terminated).toBe(true);
    expect(slow.sent.length).toBeLessThan(50);
    expect(slow.bufferedAmount).toBeLessThanOrEqual(1_000);
    expect(drops).toEqual(['slow consumer']);
    expect(hub.clients()).toBe(1);
    expect(hub.dropped()).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { market, order, streamTypes, valueOf } from './paper-support.js';

describe('paper venue latency model', () => {
  it('acts on a request at once but answers it restMs later', async () => {
    const { venue, clock } = market({ latency: { restMs: 40 } });
    let answered = false;
    const reply = venue.submit(order({ type: 'limit', price: 90, timeInForce: 'GTC' })).then((result) => {
      answered = true;
      return result;
    });

    await Promise.resolve();
    expect(answered).toBe(false);
    // The order is on the book before its acknowledgement reaches the caller, as over a network.
    expect(venue.groundTruth().orders).toHaveLength(1);
    clock.advance(39);
    await Promise.resolve();
    expect(answered).toBe(false);
    clock.advance(1);
    expect(valueOf(await reply).status).toBe('NEW');
  });

  it('delivers stream messages streamMs after the event, on their own timer', async () => {
    const { venue, clock, messages } = market({ latency: { streamMs: 25 } });
    await venue.submit(order());
    expect(messages).toEqual([]);
    clock.advance(25);
    expect(streamTypes(messages)).toEqual(['venue.order.accepted', 'venue.order.filled']);
  });

  it('draws the same jitter from the same seed, within jitterMs', async () => {
    const delays = async (seed: number): Promise<number[]> => {
      const { venue, clock } = market({ seed, latency: { restMs: 10, jitterMs: 30 } });
      const seen: number[] = [];
      for (let i = 0; i < 6; i++) {
        const started = clock.now();
        const reply = venue.queryOrder('BTCUSDT', `EN-${i}`);
        let done = false;
        void reply.then(() => (done = true));
        for (let waited = 0; !done && waited <= 50; waited++) {
          await Promise.resolve();
          if (!done) clock.advance(1);
        }
        await reply;
        seen.push(clock.now() - started);
      }
      return seen;
    };
    const first = await delays(3);
    expect(await delays(3)).toEqual(first);
    for (const delay of first) {
      expect(delay).toBeGreaterThanOrEqual(10);
      expect(delay).toBeLessThanOrEqual(41);
    }
    expect(new Set(first).size).toBeGreaterThan(1);
  });
});

import { describe, expect, it } from 'vitest';
import { SYMBOL, market, order, streamTypes, valueOf } from './paper-support.js';

describe('paper venue fault injection', () => {
  it('times out a submit whose order still landed', async () => {
    const { venue } = market({ faults: { submitTimeoutLanded: { next: 1 } } });
    expect(await venue.submit(order())).toMatchObject({ ok: false, errno: 'ETIMEDOUT' });
    expect(valueOf(await venue.queryOrder(SYMBOL, 'EN-1'))?.status).toBe('FILLED');
    expect(venue.groundTruth().log.filter((entry) => entry.kind === 'order.accepted')).toHaveLength(1);
  });

  it('times out a submit that never reached the venue', async () => {
    const { venue } = market({ faults: { submitTimeoutLost: { next: 1 } } });
    expect(await venue.submit(order())).toMatchObject({ ok: false, errno: 'ETIMEDOUT' });
    expect(await venue.queryOrder(SYMBOL, 'EN-1')).toEqual({ ok: true, value: null });
    expect(venue.groundTruth().log).toEqual([]);
  });

  it('answers 503 execution-status-unknown without a code while the order exists', async () => {
    const { venue } = market({ faults: { executionUnknown: { next: 1 } } });
    const answer = await venue.submit(order({ type: 'limit', price: 90, timeInForce: 'GTC' }));
    expect(answer).toEqual({
      ok: false,
      httpStatus: 503,
      message: 'Unknown error, please check your request or try again later.',
    });
    expect(valueOf(await venue.openOrders()).map((open) => open.clientOrderId)).toEqual(['EN-1']);
  });

  it('answers 503 execution-status-unknown for an order that never landed when so configured', async () => {
    const { venue } = market({ faults: { executionUnknown: { next: 1, landed: false } } });
    expect(await venue.submit(order())).toMatchObject({ ok: false, httpStatus: 503 });
    expect(await venue.queryOrder(SYMBOL, 'EN-1')).toEqual({ ok: true, value: null });
    expect(venue.groundTruth().log).toEqual([]);
  });

  it('answers unknown-order on a cancel of an order that is still open', async () => {
    const { venue } = market({ faults: { cancelUnknownOrder: { next: 1 } } });
    valueOf(await venue.submit(order({ type: 'limit', price: 90, timeInForce: 'GTC' })));
    expect(await venue.cancel(SYMBOL, 'EN-1')).toMatchObject({ ok: false, code: -2011 });
    expect(valueOf(await venue.queryOrder(SYMBOL, 'EN-1'))?.status).toBe('NEW');
    expect(valueOf(await venue.cancel(SYMBOL, 'EN-1')).status).toBe('CANCELED');
  });

  it('times out a cancel that landed, and one that did not', async () => {
    const { venue } = market({
      faults: { cancelTimeoutLanded: { next: 1 }, cancelTimeoutLost: { next: 1 } },
    });
    valueOf(await venue.submit(order({ type: 'limit', price: 90, timeInForce: 'GTC' })));
    valueOf(
      await venue.submit(order({ clientOrderId: 'EN-2', type: 'limit', price: 90, timeInForce: 'GTC' })),
    );
    expect(await venue.cancel(SYMBOL, 'EN-1')).toMatchObject({ ok: false, errno: 'ETIMEDOUT' });
    expect(valueOf(await venue.queryOrder(SYMBOL, 'EN-1'))?.status).toBe('NEW');
    expect(await venue.cancel(SYMBOL, 'EN-2')).toMatchObject({ ok: false, errno: 'ETIMEDOUT' });
    expect(valueOf(await venue.queryOrder(SYMBOL, 'EN-2'))?.status).toBe('CANCELED');
  });

  it('delivers a delayed ack after the fill it preceded', async () => {
    const { venue, messages, advance } = market({ faults: { delayedAck: { next: 1, delayMs: 500 } } });
    valueOf(await venue.submit(order()));
    expect(streamTypes(messages)).toEqual(['venue.order.filled']);
    advance(500);
    expect(streamTypes(messages)).toEqual(['venue.order.filled', 'venue.order.accepted']);
  });

  it('reports a fill after the cancel, and the venue truth is FILLED', async () => {
    const { venue, messages } = market({ faults: { fillAfterCancel: { next: 1 } } });
    valueOf(await venue.submit(order({ type: 'limit', price: 90, timeInForce: 'GTC' })));
    expect(valueOf(await venue.cancel(SYMBOL, 'EN-1')).status).toBe('CANCELED');
    expect(streamTypes(messages)).toEqual([
      'venue.order.accepted',
      'venue.order.canceled',
      'venue.order.filled',
    ]);
    expect(valueOf(await venue.queryOrder(SYMBOL, 'EN-1'))?.status).toBe('FILLED');
    expect(venue.groundTruth().fills).toHaveLength(1);
  });

  it('sends a fill message twice with the same trade id but books it once', async () => {
    const { venue, messages } = market({ faults: { duplicateFill: { next: 1 } } });
    valueOf(await venue.submit(order()));
    const fills = messages.flatMap((message) =>
      message.kind === 'event' && message.event.type === 'venue.order.filled' ? [message.event.trade_id] : [],
    );
    expect(fills).toHaveLength(2);
    expect(new Set(fills).size).toBe(1);
    expect(venue.groundTruth().fills).toHaveLength(1);
  });

  it('rate-limits a call with HTTP 429 and Retry-After, then serves the next one', async () => {
    const { venue } = market({ faults: { rateLimit: { next: 1, retryAfter: 7 } } });
    expect(await venue.submit(order())).toMatchObject({
      ok: false,
      httpStatus: 429,
      code: -1003,
      retryAfter: 7,
    });
    expect(venue.groundTruth().log).toEqual([]);
    expect(valueOf(await venue.submit(order())).status).toBe('FILLED');
  });

  it('rejects a submit with the scripted code', async () => {
    const { venue } = market({ faults: { reject: { next: 1, code: -2019 } } });
    expect(await venue.submit(order())).toMatchObject({
      ok: false,
      httpStatus: 400,
      code: -2019,
      message: 'Margin is insufficient.',
    });
  });

  it('loses stream messages on a disconnect and reports the gap', async () => {
    const { venue, messages } = market({ faults: { streamDisconnect: { next: 1, lose: 2 } } });
    valueOf(await venue.submit(order()));
    expect(streamTypes(messages)).toEqual(['gap']);
    expect(venue.groundTruth().fills).toHaveLength(1);
    valueOf(await venue.submit(order({ clientOrderId: 'EN-2' })));
    expect(streamTypes(messages)).toEqual(['gap', 'venue.order.accepted', 'venue.order.filled']);
  });

  it('fires a probabilistic fault on some calls and not others, the same way for the same seed', async () => {
    const outcomes = async (seed: number): Promise<boolean[]> => {
      const { venue } = market({ seed, faults: { rateLimit: { probability: 0.5 } } });
      const answers: boolean[] = [];
      for (let index = 0; index < 40; index += 1) answers.push((await venue.queryOrder(SYMBOL, 'X')).ok);
      return answers;
    };
    const first = await outcomes(3);
    expect(first).toContain(true);
    expect(first).toContain(false);
    expect(await outcomes(3)).toEqual(first);
    expect(await outcomes(4)).not.toEqual(first);
  });
});

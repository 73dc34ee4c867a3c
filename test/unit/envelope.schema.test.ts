import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envelopeSchema, makeEnvelope } from '../../src/domain/envelope.schema.js';
import { BadInputError } from '../../src/domain/errors.js';
import { eventIdFor } from '../../src/domain/ids.js';
import { venueEventSchema, venueOrderFilledSchema } from '../../src/domain/venue-event.schema.js';

const correlationId = 'V1StGXR8Z5jdHi6BmyT9q';
const fill = {
  type: 'venue.order.filled',
  clientOrderId: 'EN-0a1B2c3D4e5F6g7H8i9J0k',
  venue: 'paper',
  ts: 1_700_000_000_500,
  trade_id: 't-9',
  qty: 0.01,
  price: 60_000,
} as const;
const meta = {
  event_id: eventIdFor(correlationId, 4),
  ts: 1_700_000_000_501,
  correlation_id: correlationId,
  clientOrderId: fill.clientOrderId,
  source: 'webhook',
  stage: 'venue',
  causing_event_id: eventIdFor(correlationId, 3),
  strategy_id: 'trend-1',
  bot_id: 'bot-a',
  client_id: 'client-7',
  venue: 'paper',
} as const;

function thrown(action: () => unknown): BadInputError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError);
    return error as BadInputError;
  }
  throw new Error('expected a BadInputError');
}

describe('envelope', () => {
  it('builds an envelope around a typed payload', () => {
    const envelope = makeEnvelope(venueEventSchema, { ...meta, payload: fill });
    expect(envelope.payload).toEqual(fill);
    expect(envelope.stage).toBe('venue');
  });

  it('cannot be built without who decided, for whom and for which intent', () => {
    const {
      source: _s,
      stage: _st,
      correlation_id: _c,
      strategy_id: _sid,
      bot_id: _b,
      client_id: _cl,
      venue: _v,
      ...rest
    } = meta;
    const paths = thrown(() =>
      makeEnvelope(venueEventSchema, { ...rest, payload: fill } as never),
    ).issues.map((issue) => issue.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'source',
        'stage',
        'correlation_id',
        'strategy_id',
        'bot_id',
        'client_id',
        'venue',
      ]),
    );
  });

  it('validates the payload as it builds, naming the payload field', () => {
    const { trade_id: _t, ...fillWithoutTrade } = fill;
    const error = thrown(() =>
      makeEnvelope(venueOrderFilledSchema, { ...meta, payload: fillWithoutTrade } as never),
    );
    expect(error.issues.map((issue) => issue.path)).toContain('payload.trade_id');
  });

  it('refuses a reason code that is free text', () => {
    const error = thrown(() =>
      makeEnvelope(venueEventSchema, { ...meta, reason_code: 'margin was too low', payload: fill }),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual(['reason_code']);
  });

  it('accepts stable reason codes, with or without a detail', () => {
    for (const reason_code of ['RISK_BLOCKED', 'VENUE_REJECTED:-2019', 'GUARD_BLOCKED:max_open_orders']) {
      expect(makeEnvelope(venueEventSchema, { ...meta, reason_code, payload: fill }).reason_code).toBe(
        reason_code,
      );
    }
  });

  it('wraps any payload schema', () => {
    const schema = envelopeSchema(z.object({ note: z.string() }));
    expect(schema.parse({ ...meta, payload: { note: 'hello' } }).payload.note).toBe('hello');
    expect(schema.safeParse({ ...meta, payload: { note: 1 } }).success).toBe(false);
  });
});

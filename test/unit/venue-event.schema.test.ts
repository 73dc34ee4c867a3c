import { describe, expect, it } from 'vitest';
import { VENUE_EVENT_TYPES, venueEventSchema, type VenueEvent } from '../../src/domain/venue-event.schema.js';

const ref = { clientOrderId: 'EN-0a1B2c3D4e5F6g7H8i9J0k', venue: 'paper', ts: 1_700_000_000_000 };

const oneOfEach: VenueEvent[] = [
  { type: 'venue.order.accepted', ...ref, venueOrderId: '123' },
  { type: 'venue.order.rejected', ...ref, reason: 'Margin is insufficient.', code: -2019 },
  {
    type: 'venue.order.filled',
    ...ref,
    trade_id: 't-1',
    qty: 0.01,
    price: 60_000,
    fee: { cost: -0.01, currency: 'USDT' },
  },
  { type: 'venue.order.canceled', ...ref },
  { type: 'venue.order.expired', ...ref, reason: 'IOC not fully filled' },
  { type: 'venue.order.replaced', ...ref, price: 60_100 },
  { type: 'venue.order.triggered', ...ref, triggeredOrderId: '456' },
  { type: 'venue.cancel.rejected', ...ref, reason: 'Unknown order sent.', code: -2011 },
  { type: 'venue.replace.rejected', ...ref, reason: 'No need to modify the order.', code: -5027 },
  { type: 'venue.order.unknown', ...ref, reason: 'HTTP 503 Unknown error' },
];

function issuePaths(value: unknown): string[] {
  const result = venueEventSchema.safeParse(value);
  expect(result.success).toBe(false);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

describe('venue event schema', () => {
  it('declares exactly the ten dotted event types', () => {
    expect([...VENUE_EVENT_TYPES].sort()).toEqual(oneOfEach.map((event) => event.type).sort());
    for (const type of VENUE_EVENT_TYPES) expect(type).toMatch(/^venue\.(order|cancel|replace)\.[a-z]+$/);
  });

  it.each(oneOfEach)('accepts a well-formed $type event unchanged', (event) => {
    expect(venueEventSchema.parse(event)).toEqual(event);
  });

  it('refuses a fill without a trade id, so duplicates could not be applied once', () => {
    expect(issuePaths({ type: 'venue.order.filled', ...ref, qty: 1, price: 1 })).toContain('trade_id');
  });

  it('refuses a rejection without a reason', () => {
    expect(issuePaths({ type: 'venue.order.rejected', ...ref })).toContain('reason');
  });

  it('refuses an event without the clientOrderId keel chose', () => {
    expect(issuePaths({ type: 'venue.order.accepted', venue: 'paper', ts: 1 })).toContain('clientOrderId');
  });

  it('refuses a negative or fractional timestamp', () => {
    expect(issuePaths({ type: 'venue.order.accepted', ...ref, ts: -1 })).toContain('ts');
    expect(issuePaths({ type: 'venue.order.accepted', ...ref, ts: 1.5 })).toContain('ts');
  });

  it('refuses an event type it does not know', () => {
    expect(issuePaths({ type: 'venue.order.vanished', ...ref })).toContain('type');
  });
});

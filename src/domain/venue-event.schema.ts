/**
 * What a venue tells keel about one order, as past-tense events named noun first.
 * Invariants: every event names the order by clientOrderId (the id keel chose), says which
 * venue spoke and when (ms); a fill carries its trade id so a duplicate is applied once.
 * `venue.order.unknown` is an answer without an outcome: it never means failed.
 */
import { z } from 'zod';
import { venueIdSchema } from './intent.schema.js';

const orderRef = {
  clientOrderId: z.string().min(1),
  venueOrderId: z.string().min(1).optional(),
  venue: venueIdSchema,
  symbol: z.string().min(1).optional(),
  ts: z.number().int().nonnegative(),
};

/** A venue's own error code: Binance sends numbers (-2019), others strings. */
export const venueErrorCodeSchema = z.union([z.number().int(), z.string().min(1)]);

const rejection = {
  reason: z.string().min(1),
  code: venueErrorCodeSchema.optional(),
};

const positive = z.number().positive().finite();

export const venueOrderAcceptedSchema = z.object({ type: z.literal('venue.order.accepted'), ...orderRef });
export const venueOrderRejectedSchema = z.object({
  type: z.literal('venue.order.rejected'),
  ...orderRef,
  ...rejection,
});
export const venueOrderFilledSchema = z.object({
  type: z.literal('venue.order.filled'),
  ...orderRef,
  trade_id: z.string().min(1),
  qty: positive,
  price: positive,
  // A maker rebate is a negative cost, so the sign is free.
  fee: z.object({ cost: z.number().finite(), currency: z.string().min(1) }).optional(),
});
export const venueOrderCanceledSchema = z.object({
  type: z.literal('venue.order.canceled'),
  ...orderRef,
  reason: z.string().min(1).optional(),
});
export const venueOrderExpiredSchema = z.object({
  type: z.literal('venue.order.expired'),
  ...orderRef,
  reason: z.string().min(1).optional(),
});
export const venueOrderReplacedSchema = z.object({
  type: z.literal('venue.order.replaced'),
  ...orderRef,
  // Set when the venue replaced by cancel-and-new; an in-place amend keeps the id.
  newClientOrderId: z.string().min(1).optional(),
  qty: positive.optional(),
  price: positive.optional(),
});
export const venueOrderTriggeredSchema = z.object({
  type: z.literal('venue.order.triggered'),
  ...orderRef,
  // A triggered conditional order becomes a new matching-engine order with its own id;
  // its fills must be linked back through this id (Binance ALGO_UPDATE `ai`).
  triggeredOrderId: z.string().min(1).optional(),
});
export const venueCancelRejectedSchema = z.object({
  type: z.literal('venue.cancel.rejected'),
  ...orderRef,
  ...rejection,
});
export const venueReplaceRejectedSchema = z.object({
  type: z.literal('venue.replace.rejected'),
  ...orderRef,
  ...rejection,
});
export const venueOrderUnknownSchema = z.object({
  type: z.literal('venue.order.unknown'),
  ...orderRef,
  reason: z.string().min(1),
});

/**
 * Any venue event, told apart by `type`.
 *
 * @example
 * venueEventSchema.parse({ type: 'venue.order.accepted', clientOrderId: 'EN-…', venue: 'paper', ts: 1 });
 */
export const venueEventSchema = z.discriminatedUnion('type', [
  venueOrderAcceptedSchema,
  venueOrderRejectedSchema,
  venueOrderFilledSchema,
  venueOrderCanceledSchema,
  venueOrderExpiredSchema,
  venueOrderReplacedSchema,
  venueOrderTriggeredSchema,
  venueCancelRejectedSchema,
  venueReplaceRejectedSchema,
  venueOrderUnknownSchema,
]);

export type VenueEvent = z.output<typeof venueEventSchema>;
export type VenueEventType = VenueEvent['type'];
/** The event of one type: `VenueEventOf<'venue.order.filled'>`. */
export type VenueEventOf<T extends VenueEventType> = Extract<VenueEvent, { type: T }>;

/** Every venue event type, in declaration order (for tests and diagrams). */
export const VENUE_EVENT_TYPES: readonly VenueEventType[] = venueEventSchema.options.map(
  (option) => option.shape.type.value,
);

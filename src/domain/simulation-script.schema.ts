/**
 * The `keel simulate` script: an order and the sequence of events to replay through one
 * order-intent actor. Fill quantities are per execution, not cumulative. Unknown extra keys
 * on the order and on events are informational and kept; an unknown event type, a missing
 * or non-positive quantity, or a malformed field is an error naming the field's path.
 */
import { z } from 'zod';
import { intentKindSchema } from './intent.schema.js';

const positive = z.number().positive().finite();
const tradeId = z.union([z.string().min(1), z.number()]);

const noPayload = <T extends string>(type: T) => z.looseObject({ type: z.literal(type) });

export const simulationEventSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('submit'), retry: z.boolean().optional() }),
  z.looseObject({ type: z.literal('ack'), venue_order_id: z.union([z.string(), z.number()]).optional() }),
  z.looseObject({
    type: z.literal('reject'),
    reason: z.string().min(1).optional(),
    code: z.union([z.string(), z.number()]).optional(),
  }),
  z.looseObject({ type: z.literal('partial_fill'), qty: positive, trade_id: tradeId.optional() }),
  z.looseObject({ type: z.literal('fill'), qty: positive, trade_id: tradeId.optional() }),
  noPayload('cancel_request'),
  noPayload('cancel_ack'),
  z.looseObject({ type: z.literal('cancel_reject'), reason: z.string().optional() }),
  z.looseObject({ type: z.literal('replace_request'), new_qty: positive }),
  noPayload('replace_ack'),
  z.looseObject({ type: z.literal('replace_reject'), reason: z.string().optional() }),
  noPayload('expire'),
  noPayload('unsolicited_cancel'),
  noPayload('unknown_order'),
  noPayload('timeout'),
  noPayload('triggered'),
]);

export type SimulationEvent = z.infer<typeof simulationEventSchema>;

export const simulationScriptSchema = z.object({
  order: z.looseObject({
    qty: positive,
    client_order_id: z.string().min(1).max(36).optional(),
    kind: intentKindSchema.optional(),
  }),
  events: z.array(simulationEventSchema),
});

export type SimulationScript = z.infer<typeof simulationScriptSchema>;

/**
 * The `keel simulate` script: an order and the sequence of events to replay through one
 * order-intent actor. Fill quantities are per execution, not cumulative. Only the fields the
 * vocabulary names are checked (order.qty, fill qty and trade_id, replace new_qty, submit
 * retry, reject reason); every other key is information and never an error. An unknown event
 * type or a bad named field is an error naming the field's path.
 */
import { z } from 'zod';
import { MAX_QUANTITY } from './quantity.js';

const positive = z.number().positive().max(MAX_QUANTITY);
// Null is read as "no trade id": the execution cannot be deduplicated.
const tradeId = z.union([z.string().min(1), z.number(), z.null()]);

const noPayload = <T extends string>(type: T) => z.looseObject({ type: z.literal(type) });

export const simulationEventSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('submit'), retry: z.boolean().optional() }),
  noPayload('ack'),
  z.looseObject({ type: z.literal('reject'), reason: z.string().optional() }),
  z.looseObject({ type: z.literal('partial_fill'), qty: positive, trade_id: tradeId.optional() }),
  z.looseObject({ type: z.literal('fill'), qty: positive, trade_id: tradeId.optional() }),
  noPayload('cancel_request'),
  noPayload('cancel_ack'),
  noPayload('cancel_reject'),
  z.looseObject({ type: z.literal('replace_request'), new_qty: positive }),
  noPayload('replace_ack'),
  noPayload('replace_reject'),
  noPayload('expire'),
  noPayload('unsolicited_cancel'),
  noPayload('unknown_order'),
  noPayload('timeout'),
  noPayload('triggered'),
]);

export type SimulationEvent = z.infer<typeof simulationEventSchema>;

export const simulationScriptSchema = z.object({
  // Only the quantity drives the lifecycle; every other order field is information.
  order: z.looseObject({ qty: positive }),
  events: z.array(simulationEventSchema),
});

export type SimulationScript = z.infer<typeof simulationScriptSchema>;

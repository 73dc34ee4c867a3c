/**
 * The envelope every result and event travels in when it leaves keel (invariant 11).
 * Invariants: an envelope says who decided (`source`, `stage`), why (`reason_code`), what
 * caused it (`causing_event_id`), for whom (`strategy_id`, `bot_id`, `client_id`, `venue`),
 * and which intent it belongs to (`correlation_id`); one that lacks any of these cannot be built.
 */
import { z } from 'zod';
import { intentSourceSchema, venueIdSchema } from './intent.schema.js';
import { parseOrThrow } from './parse.js';

/** The part of keel that decided: the pipeline stage, or an operator. */
export const stageSchema = z.enum(['ingress', 'risk', 'guard', 'router', 'venue', 'reconcile', 'operator']);
export type Stage = z.infer<typeof stageSchema>;

const id = z.string().min(1);

/** The envelope's own fields, without the payload. */
export const envelopeMetaSchema = z.object({
  event_id: id,
  ts: z.number().int().nonnegative(),
  correlation_id: id,
  clientOrderId: id.optional(),
  source: intentSourceSchema,
  stage: stageSchema,
  // Stable and machine-readable (`RISK_BLOCKED`, `VENUE_REJECTED`), never free text.
  reason_code: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]*(:[A-Za-z0-9_.:-]+)?$/, 'must be UPPER_SNAKE, optionally with :detail')
    .optional(),
  causing_event_id: id.optional(),
  strategy_id: id,
  bot_id: id,
  client_id: id,
  venue: venueIdSchema,
});
export type EnvelopeMeta = z.output<typeof envelopeMetaSchema>;

/**
 * The schema of an envelope carrying `payload`.
 *
 * @example
 * const filledEnvelope = envelopeSchema(venueOrderFilledSchema);
 */
export function envelopeSchema<P extends z.ZodType>(payload: P) {
  return envelopeMetaSchema.extend({ payload });
}

export type Envelope<P> = EnvelopeMeta & { payload: P };

/**
 * Builds an envelope, validating it (payload included) as it is built; throws a
 * BadInputError naming every missing or bad field.
 *
 * @example
 * makeEnvelope(venueEventSchema, { event_id: eventIdFor(cid, 3), ts: now, correlation_id: cid,
 *   source: 'api', stage: 'venue', strategy_id, bot_id, client_id, venue: 'paper', payload: event });
 */
export function makeEnvelope<P extends z.ZodType>(
  payload: P,
  value: z.input<ReturnType<typeof envelopeSchema<P>>>,
): Envelope<z.output<P>> {
  return parseOrThrow(envelopeSchema(payload), value, 'bad envelope') as Envelope<z.output<P>>;
}

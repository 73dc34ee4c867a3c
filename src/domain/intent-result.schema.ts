/**
 * The result of one intent as it leaves keel: the envelope's fields (invariant 11) flat beside
 * the intent's registry status, so a caller reads `result.status` and `result.stage` alike.
 * Invariants: a result is validated as it is built, so one missing who-decided-and-why cannot
 * leave keel; a FAILED result always has a reason code naming its blocker or the venue's refusal.
 */
import { z } from 'zod';
import { envelopeMetaSchema } from './envelope.schema.js';
import { parseOrThrow } from './parse.js';

export const intentResultSchema = envelopeMetaSchema
  .extend({
    intent_id: z.string().min(1),
    clientOrderId: z.string().min(1),
    status: z.enum(['CREATED', 'SENT_TO_BROKER', 'EXECUTED', 'FAILED']),
    /** How the order ended at the venue, once it has (`FAILED` for an intent blocked before sending). */
    order_status: z.enum(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'FAILED']).nullable(),
    /** The lifecycle state, e.g. `live.order.working.open, live.request.idle`. */
    state: z.string().min(1),
    /** The registry tag, e.g. `RISK_BLOCKED:max_notional`, `VENUE_REJECTED:-2019`. */
    tag: z.string().nullable(),
    venue_order_id: z.string().nullable(),
    filled_qty: z.number().nonnegative(),
    /** The reason in words, when keel or the venue gave one. */
    reason: z.string().nullable(),
  })
  .superRefine((result, ctx) => {
    if (result.status === 'FAILED' && result.reason_code === undefined) {
      ctx.addIssue({ code: 'custom', path: ['reason_code'], message: 'a FAILED result must say why' });
    }
  });

export type IntentResult = z.output<typeof intentResultSchema>;

/**
 * Builds a result, throwing a BadInputError naming each missing field: a bug, never user input.
 *
 * @example
 * const result = makeIntentResult({ ...meta, intent_id, clientOrderId, status: 'SENT_TO_BROKER', … });
 */
export function makeIntentResult(value: z.input<typeof intentResultSchema>): IntentResult {
  return parseOrThrow(intentResultSchema, value, 'bad intent result');
}

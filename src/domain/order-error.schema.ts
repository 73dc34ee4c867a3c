/**
 * The vocabulary of order-error classification: what a failed venue call looked like, and
 * what keel may do next. Invariants: an input names the operation it came from (context);
 * a verdict always carries a policy, a reason a person can read, and whether the order
 * must be looked up by clientOrderId before anything is sent again.
 */
import { z } from 'zod';

/** The operation that failed: writes (create, cancel, replace) may have landed; reads have no effect. */
export const orderErrorContextSchema = z.enum(['create', 'cancel', 'query', 'replace', 'any']);
export type OrderErrorContext = z.infer<typeof orderErrorContextSchema>;

/**
 * - `retryable`: the same request may be sent again (after lookup, if `lookupFirst`).
 * - `retryable_with_modification`: sending it unchanged fails again; fix it (clock, price, size) first.
 * - `idempotent_safe`: the request's goal already holds, or a repeat cannot double it.
 * - `fatal`: no automatic retry; a person or the strategy must act.
 */
export const orderErrorPolicySchema = z.enum([
  'retryable',
  'retryable_with_modification',
  'idempotent_safe',
  'fatal',
]);
export type OrderErrorPolicy = z.infer<typeof orderErrorPolicySchema>;

export const orderErrorInputSchema = z.strictObject({
  /** ccxt exchange id; `binanceusdm` and `paper` use Binance's code table, others the generic rules. */
  venue: z.string().min(1).optional(),
  httpStatus: z.number().int().min(100).max(599).optional(),
  code: z.union([z.number().int(), z.string().min(1)]).optional(),
  message: z.string().optional(),
  /** Node's socket error code (`ECONNRESET`, `UND_ERR_CONNECT_TIMEOUT`) or an AbortSignal's `TimeoutError`. */
  errno: z.string().min(1).optional(),
  context: orderErrorContextSchema,
  /** The Retry-After header: delay in seconds, or an HTTP date (needs `now`). */
  retryAfter: z.union([z.number().nonnegative().finite(), z.string()]).optional(),
  /** The time of the answer (ms), from the clock seam: dates in Retry-After and ban messages need it. */
  now: z.number().int().nonnegative().optional(),
});
export type OrderErrorInput = z.input<typeof orderErrorInputSchema>;
export type ParsedOrderErrorInput = z.output<typeof orderErrorInputSchema>;

export const orderErrorVerdictSchema = z.strictObject({
  policy: orderErrorPolicySchema,
  reason: z.string().min(1),
  lookupFirst: z.boolean(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type OrderErrorVerdict = z.output<typeof orderErrorVerdictSchema>;

/** Writes may have changed venue state, so an ambiguous answer to one needs a lookup. */
export function isWriteContext(context: OrderErrorContext): boolean {
  // An unknown context is treated as a write: a needless lookup costs one request, a missed one a double order.
  return context !== 'query';
}

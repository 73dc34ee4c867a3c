/**
 * What enters the paper venue from outside, parsed at the boundary: its options (from config)
 * and its state file (from disk). Invariants: bad options fail with KEEL_ERR_BAD_CONFIG naming
 * every bad field; a state file that is not the venue's own shape is refused, never half-read.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../../../domain/errors.js';
import { parseOrThrow } from '../../../domain/parse.js';
import type { PaperState } from './paper.store.js';

const positive = z.number().positive().finite();
const trigger = {
  next: z.number().int().nonnegative().optional(),
  probability: z.number().min(0).max(1).optional(),
};

export const faultsSchema = z.strictObject({
  submitTimeoutLanded: z.strictObject(trigger).optional(),
  submitTimeoutLost: z.strictObject(trigger).optional(),
  executionUnknown: z.strictObject({ ...trigger, landed: z.boolean().optional() }).optional(),
  cancelUnknownOrder: z.strictObject(trigger).optional(),
  cancelTimeoutLanded: z.strictObject(trigger).optional(),
  cancelTimeoutLost: z.strictObject(trigger).optional(),
  delayedAck: z.strictObject({ ...trigger, delayMs: z.number().int().nonnegative().optional() }).optional(),
  fillAfterCancel: z.strictObject(trigger).optional(),
  duplicateFill: z.strictObject(trigger).optional(),
  rateLimit: z.strictObject({ ...trigger, retryAfter: z.number().nonnegative().optional() }).optional(),
  reject: z.strictObject({ ...trigger, code: z.number().int() }).optional(),
  streamDisconnect: z.strictObject({ ...trigger, lose: z.number().int().positive().optional() }).optional(),
});

/** The plain-data part of PaperVenueOptions (the clock is a port, not data). */
export const paperOptionsSchema = z.object({
  seed: z.number().int(),
  dataDir: z.string().min(1).optional(),
  symbols: z
    .record(
      z.string().min(1),
      z.strictObject({
        start: positive,
        volatility: z.number().min(0).max(0.5),
        tickSize: positive.optional(),
        stepSize: positive.optional(),
        minQty: z.number().nonnegative().optional(),
        minNotional: z.number().nonnegative().optional(),
      }),
    )
    .optional(),
  stepMs: z.number().int().positive().optional(),
  liquidityPerStep: positive.optional(),
  feeRate: z.number().min(0).max(0.1).optional(),
  faults: faultsSchema.optional(),
  latency: z
    .strictObject({
      restMs: z.number().int().nonnegative().max(60_000).optional(),
      streamMs: z.number().int().nonnegative().max(60_000).optional(),
      jitterMs: z.number().int().nonnegative().max(60_000).optional(),
    })
    .optional(),
});

/** Throws KEEL_ERR_BAD_CONFIG naming every bad option. */
export function checkPaperOptions(options: unknown): void {
  parseOrThrow(paperOptionsSchema, options, 'paper venue options', ERROR_CODES.badConfig);
}

const positionsSchema = z.record(
  z.string(),
  z.looseObject({ symbol: z.string(), qty: z.number(), entryPrice: z.number() }),
);

const stateSchema = z.object({
  version: z.literal(1),
  seq: z.number().int().nonnegative(),
  lastStepAt: z.number(),
  priceRandom: z.number().int().nonnegative(),
  faultRandom: z.number().int().nonnegative(),
  prices: z.record(z.string(), positive),
  orders: z.array(
    z.looseObject({
      clientOrderId: z.string(),
      venueOrderId: z.string(),
      symbol: z.string(),
      status: z.string(),
    }),
  ),
  positions: positionsSchema,
  fills: z.array(
    z.looseObject({ tradeId: z.string(), clientOrderId: z.string(), qty: positive, price: positive }),
  ),
  log: z.array(z.looseObject({ kind: z.string() })),
});

/** The state file's content, checked; `where` names the file in the error. */
export function parsePaperState(value: unknown, where: string): PaperState {
  // The loose shape check guards against a foreign or truncated file; the venue wrote the rest.
  parseOrThrow(stateSchema, value, `paper venue state ${where}`, ERROR_CODES.badConfig);
  return value as PaperState;
}

/** The prices and positions read on their own (`readPaperMarket`), checked like the whole state. */
export function parsePaperMarket(value: unknown, where: string): Pick<PaperState, 'prices' | 'positions'> {
  parseOrThrow(
    z.object({ prices: stateSchema.shape.prices, positions: positionsSchema }),
    value,
    `paper venue state ${where}`,
    ERROR_CODES.badConfig,
  );
  return value as Pick<PaperState, 'prices' | 'positions'>;
}

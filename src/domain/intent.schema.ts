/**
 * The intent: what someone wants done, as it enters keel from any source.
 * Invariants: a parsed Intent is complete and self-consistent (a limit has a price, a stop
 * has a stop price, SL/TP/EXIT can only reduce), and every field that fails says so at
 * its own path. Protective exits are recognisable without context (invariant 7).
 */
import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import { parseOrThrow } from './parse.js';

/** Where an intent came from; also who speaks in an envelope. */
export const intentSourceSchema = z.enum(['api', 'webhook', 'system', 'operator', 'library']);
export type IntentSource = z.infer<typeof intentSourceSchema>;

export const intentKindSchema = z.enum(['ENTRY', 'TP', 'SL', 'EXIT']);
export type IntentKind = z.infer<typeof intentKindSchema>;

export const orderSideSchema = z.enum(['buy', 'sell']);
export type OrderSide = z.infer<typeof orderSideSchema>;

export const orderTypeSchema = z.enum(['market', 'limit', 'stop_market', 'take_profit_market']);
export type OrderType = z.infer<typeof orderTypeSchema>;

export const timeInForceSchema = z.enum(['GTC', 'IOC', 'FOK', 'GTX']);
export type TimeInForce = z.infer<typeof timeInForceSchema>;

/** A ccxt exchange id: lowercase letters and digits (`binanceusdm`, `paper`). */
export const venueIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be a ccxt exchange id such as binanceusdm or paper');

const nonEmptyId = z.string().trim().min(1, 'must not be empty').max(128);

/**
 * A positive amount. Webhook templates (TradingView) send numbers as strings, so a plain
 * decimal string is accepted and read as a number; anything else is refused, never guessed.
 */
const positiveAmount = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a decimal number')
      .transform(Number),
  ])
  .pipe(z.number().positive('must be greater than zero').finite());

const STOP_TYPES: ReadonlySet<OrderType> = new Set(['stop_market', 'take_profit_market']);

/** The fields of an intent, each checked on its own. Extend this, then re-apply `refineIntent`. */
export const intentFieldsSchema = z.strictObject({
  strategy_id: nonEmptyId,
  bot_id: nonEmptyId,
  client_id: nonEmptyId,
  source: intentSourceSchema,
  venue: venueIdSchema,
  account: nonEmptyId,
  symbol: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/:-]{0,63}$/, 'must be a market symbol such as BTCUSDT or BTC/USDT:USDT'),
  side: orderSideSchema,
  type: orderTypeSchema,
  qty: positiveAmount.optional(),
  price: positiveAmount.optional(),
  stop_price: positiveAmount.optional(),
  time_in_force: timeInForceSchema.optional(),
  reduce_only: z.boolean().default(false),
  close_position: z.boolean().default(false),
  kind: intentKindSchema,
  /**
   * The protective stop an ENTRY's position must carry: once the entry fills, keel places a
   * reduce-only stop_market (SL) at this price for the position at once (stage-1 protection).
   */
  stop_loss: positiveAmount.optional(),
  /** The leverage the entry is meant to run at; the belief controller caps it per mode. */
  leverage: positiveAmount.optional(),
  /** The strategy's confidence in the entry, 0…1; the belief controller sets a floor per mode. */
  confidence: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
});

type IntentFields = z.output<typeof intentFieldsSchema>;

/**
 * The rules that tie fields together. Each issue lands on the field a person must change.
 * The venue's own rejections (Binance -4137, -1114, -2022) are mirrored here so that a bad
 * intent fails before it is registered, not at the venue.
 */
export function refineIntent(intent: IntentFields, ctx: z.RefinementCtx<IntentFields>): void {
  const fail = (path: keyof IntentFields, message: string): void => {
    ctx.addIssue({ code: 'custom', path: [path], message });
  };
  const isStopType = STOP_TYPES.has(intent.type);

  if (intent.type === 'limit' && intent.price === undefined) fail('price', 'a limit order needs a price');
  if (intent.type !== 'limit' && intent.price !== undefined) {
    fail('price', `a ${intent.type} order takes no price (only limit orders rest at a price)`);
  }
  if (isStopType && intent.stop_price === undefined) {
    fail('stop_price', `a ${intent.type} order needs a stop_price to trigger at`);
  }
  if (!isStopType && intent.stop_price !== undefined) {
    fail('stop_price', 'only stop_market and take_profit_market orders take a stop_price');
  }

  if (intent.close_position) {
    if (!isStopType) {
      fail('close_position', 'close_position is only allowed on stop_market and take_profit_market orders');
    }
    // The venue closes the whole position itself; a quantity would contradict it (-4137).
    if (intent.qty !== undefined) fail('qty', 'a close_position order carries no qty: it closes all of it');
  } else if (intent.qty === undefined) {
    fail('qty', 'qty is required unless close_position is true');
  }

  if (intent.time_in_force !== undefined && intent.type === 'market') {
    fail('time_in_force', 'a market order takes no time_in_force');
  }
  if (intent.time_in_force === 'GTX' && intent.type !== 'limit') {
    fail('time_in_force', 'GTX (post-only) applies to limit orders only');
  }

  if (intent.stop_loss !== undefined) {
    if (intent.kind !== 'ENTRY')
      fail('stop_loss', 'only an ENTRY carries a stop_loss for the position it opens');
    // A stop on the wrong side of a limit entry would trigger as soon as the entry fills.
    else if (intent.type === 'limit' && intent.price !== undefined) {
      const wrongSide =
        intent.side === 'buy' ? intent.stop_loss >= intent.price : intent.stop_loss <= intent.price;
      if (wrongSide)
        fail(
          'stop_loss',
          `a ${intent.side} entry's stop_loss must be ${intent.side === 'buy' ? 'below' : 'above'} its price ${intent.price}`,
        );
    }
  }
  // leverage and confidence on an exit are accepted and ignored: refusing a protective exit at the
  // door over a field it does not need would block it, which nothing may do (invariant 7).

  const reduces = intent.reduce_only || intent.close_position;
  if (intent.kind === 'ENTRY' && reduces) {
    fail(
      intent.reduce_only ? 'reduce_only' : 'close_position',
      'an ENTRY opens or adds; it cannot be reduce-only',
    );
  }
  // SL/TP/EXIT bypass entry guards (invariant 7), so they must be unable to open exposure:
  // otherwise labelling an entry EXIT would be a way around every guard.
  if (intent.kind !== 'ENTRY' && !reduces) {
    fail(
      'reduce_only',
      `a ${intent.kind} must be reduce_only or close_position so it can never open a position`,
    );
  }
  if (intent.kind === 'SL' && intent.type !== 'stop_market') {
    fail('type', 'an SL is a stop_market order');
  }
  if (intent.kind === 'TP' && intent.type !== 'take_profit_market' && intent.type !== 'limit') {
    fail('type', 'a TP is a take_profit_market or a limit order');
  }
}

/**
 * An intent as keel accepts it.
 *
 * @example
 * intentSchema.parse({ strategy_id: 's1', bot_id: 'b1', client_id: 'c1', source: 'api',
 *   venue: 'paper', account: 'main', symbol: 'BTCUSDT', side: 'buy', type: 'limit',
 *   qty: 0.01, price: 60000, kind: 'ENTRY' });
 */
export const intentSchema = intentFieldsSchema.superRefine(refineIntent);

export type Intent = z.output<typeof intentSchema>;
/** What a caller may send: numbers may be decimal strings, booleans may be left out. */
export type IntentInput = z.input<typeof intentSchema>;

/**
 * Parses an intent or throws a BadInputError (KEEL_ERR_BAD_INTENT) naming every bad field.
 *
 * @example
 * const intent = parseIntent(JSON.parse(body)); // throws before anything is registered
 */
export function parseIntent(value: unknown): Intent {
  return parseOrThrow(intentSchema, value, 'bad intent', ERROR_CODES.badIntent);
}

/**
 * True for intents that only protect or close: reduce-only, close-position, SL, TP, EXIT.
 * Entry guards, the belief controller and the kill switch never block these (invariant 7).
 */
export function isProtectiveExit(intent: Pick<Intent, 'kind' | 'reduce_only' | 'close_position'>): boolean {
  return intent.reduce_only || intent.close_position || intent.kind !== 'ENTRY';
}

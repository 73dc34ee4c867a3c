/**
 * Webhook ingress: TradingView-style alerts turned into intents. An alert is authenticated by
 * HMAC-SHA256 over `<timestamp>.<raw body>` (`X-Keel-Signature: sha256=<hex>`, `X-Keel-Timestamp`:
 * unix seconds), or, for sources that cannot sign, by a shared `secret` and a `timestamp` in the
 * body; either way the timestamp must lie within the tolerance window.
 * Invariants: nothing is registered for an alert that fails authentication, falls outside the
 * window, was seen before inside the window (a replay), or does not parse; comparisons of secrets
 * and signatures take constant time; an alert's intents get ids derived from the alert, so a retry
 * by the sender registers nothing twice.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { BadInputError, ERROR_CODES } from '../domain/errors.js';
import type { IntentInput } from '../domain/intent.schema.js';
import { parseOrThrow } from '../domain/parse.js';

const amount = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .transform(Number),
  ])
  .pipe(z.number().positive().finite());

/** The alert template, documented in the README. Numbers may be strings (TradingView placeholders). */
export const webhookAlertSchema = z
  .strictObject({
    /** Unique per alert (e.g. `{{timenow}}-{{ticker}}`): makes a resend idempotent. */
    id: z.string().min(1).max(100).optional(),
    symbol: z.string().min(1).max(64),
    side: z.enum(['buy', 'sell']),
    qty: amount.optional(),
    /** Quote-currency size, converted with the order's price or the last price. */
    notional: amount.optional(),
    kind: z.enum(['ENTRY', 'EXIT', 'TP', 'SL']).default('ENTRY'),
    strategy: z.string().min(1).max(128),
    bot: z.string().min(1).max(128).optional(),
    account: z.string().min(1).max(128).default('main'),
    type: z.enum(['market', 'limit']).default('market'),
    price: amount.optional(),
    /** A protective stop for the entry's position (placed when the entry fills). */
    stop_loss: amount.optional(),
    /** A reduce-only take-profit for the entry's filled quantity (placed when the entry fills). */
    take_profit: amount.optional(),
    leverage: amount.optional(),
    confidence: z.number().min(0).max(1).optional(),
    /** Fallback authentication for senders that cannot sign. */
    secret: z.string().optional(),
    /** Unix seconds, with `secret`. */
    timestamp: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
  })
  .refine((alert) => (alert.qty === undefined) !== (alert.notional === undefined), {
    message: 'give exactly one of qty or notional',
    path: ['qty'],
  });
export type WebhookAlert = z.output<typeof webhookAlertSchema>;

export type WebhookVerdict =
  | { ok: true; alert: WebhookAlert; alertKey: string }
  | {
      ok: false;
      status: 400 | 401;
      code: string;
      message: string;
      issues?: ReadonlyArray<{ path: string; message: string }>;
    };

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Constant-time whatever the lengths: both sides are hashed first, so a secret's length never leaks. */
const safeEqual = (a: string, b: string): boolean => timingSafeEqual(sha256(a), sha256(b));

/** The signature a sender puts in `X-Keel-Signature` for a body sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export interface WebhookVerifier {
  verify(input: {
    source: string;
    rawBody: string;
    signature: string | undefined;
    timestamp: string | undefined;
    nowMs: number;
  }): WebhookVerdict;
}

/**
 * Builds a verifier. `secretOf(source)` gives the source's secret (null: the source is not enabled).
 *
 * @example
 * const verifier = createWebhookVerifier({ toleranceSec: 300, secretOf: (source) => secrets.webhook(source) });
 */
export function createWebhookVerifier(options: {
  toleranceSec: number;
  secretOf: (source: string) => string | null;
}): WebhookVerifier {
  /** Alerts seen inside the window, by key, with when they expire. */
  const seen = new Map<string, number>();
  const unauthorized = (message: string): WebhookVerdict => ({
    ok: false,
    status: 401,
    code: 'KEEL_ERR_UNAUTHORIZED',
    message,
  });

  function forget(nowMs: number): void {
    for (const [key, expiresAt] of seen) {
      if (expiresAt > nowMs) break;
      seen.delete(key);
    }
  }

  return {
    verify({ source, rawBody, signature, timestamp, nowMs }) {
      const secret = options.secretOf(source);
      if (secret === null) return unauthorized(`webhook source ${source} is not enabled or has no secret`);
      let body: unknown;
      try {
        body = JSON.parse(rawBody) as unknown;
      } catch {
        return { ok: false, status: 400, code: ERROR_CODES.badInput, message: 'the body is not JSON' };
      }
      let sentAt: number | null = null;
      if (signature !== undefined) {
        const at = Number(timestamp);
        if (timestamp === undefined || !Number.isInteger(at))
          return unauthorized('X-Keel-Timestamp is missing or not unix seconds');
        if (!safeEqual(signature, signWebhook(secret, at, rawBody))) return unauthorized('bad signature');
        sentAt = at;
      } else {
        const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
        if (typeof fields.secret !== 'string' || !safeEqual(fields.secret, secret))
          return unauthorized('no X-Keel-Signature and no valid secret in the body');
        const at = Number(fields.timestamp);
        if (!Number.isInteger(at))
          return unauthorized('a secret-authenticated alert needs a unix-seconds timestamp');
        sentAt = at;
      }
      if (Math.abs(nowMs / 1000 - sentAt) > options.toleranceSec)
        return unauthorized(`the alert's timestamp is outside the ${options.toleranceSec} s window`);
      forget(nowMs);
      const digest = createHash('sha256').update(`${source}\u0000${rawBody}`).digest('hex');
      if (seen.has(digest)) return unauthorized('this alert was already received (replay)');
      let alert: WebhookAlert;
      try {
        alert = parseOrThrow(webhookAlertSchema, body, 'bad webhook alert', ERROR_CODES.badIntent);
      } catch (error) {
        const issues = (error as { issues?: ReadonlyArray<{ path: string; message: string }> }).issues ?? [];
        return {
          ok: false,
          status: 400,
          code: ERROR_CODES.badIntent,
          message: error instanceof Error ? error.message : String(error),
          issues,
        };
      }
      // Only an accepted alert is remembered, so a sender may fix a bad one and send it again.
      seen.set(digest, nowMs + options.toleranceSec * 2_000);
      return { ok: true, alert, alertKey: alert.id ?? digest.slice(0, 32) };
    },
  };
}

/**
 * The intents an alert becomes: the order itself, and for an entry with a take-profit, the
 * reduce-only TP to place once the entry has filled (its stop is the entry's `stop_loss`).
 */
export function intentsOfAlert(
  alert: WebhookAlert,
  source: string,
  venue: string,
  lastPrice: number | undefined,
  qtyDecimals: number,
): { intent: IntentInput; takeProfit: ((filledQty: number) => IntentInput) | null } {
  const price = alert.price ?? lastPrice;
  let qty = alert.qty;
  if (qty === undefined && alert.notional !== undefined) {
    // The sender's to fix, not a fault of keel's: a 400 naming the field, never a 500.
    if (price === undefined)
      throw new BadInputError(
        'bad webhook alert',
        [{ path: 'notional', message: `no last price for ${alert.symbol}: give price or qty` }],
        ERROR_CODES.badIntent,
      );
    const scale = 10 ** qtyDecimals;
    qty = Math.floor((alert.notional / price) * scale) / scale;
  }
  const base = {
    strategy_id: alert.strategy,
    bot_id: alert.bot ?? `webhook:${source}`,
    client_id: `webhook:${source}`,
    source: 'webhook' as const,
    venue,
    account: alert.account,
    symbol: alert.symbol,
  };
  const intent: IntentInput = {
    ...base,
    side: alert.side,
    type: alert.type,
    kind: alert.kind,
    ...(qty === undefined ? {} : { qty }),
    ...(alert.type === 'limit' && alert.price !== undefined ? { price: alert.price } : {}),
    ...(alert.kind === 'ENTRY' ? {} : { reduce_only: true }),
    ...(alert.kind === 'ENTRY' && alert.stop_loss !== undefined ? { stop_loss: alert.stop_loss } : {}),
    ...(alert.kind === 'ENTRY' && alert.leverage !== undefined ? { leverage: alert.leverage } : {}),
    ...(alert.kind === 'ENTRY' && alert.confidence !== undefined ? { confidence: alert.confidence } : {}),
  };
  const tp = alert.take_profit;
  const takeProfit =
    alert.kind === 'ENTRY' && tp !== undefined
      ? (filledQty: number): IntentInput => ({
          ...base,
          side: alert.side === 'buy' ? 'sell' : 'buy',
          type: 'take_profit_market',
          kind: 'TP',
          qty: filledQty,
          stop_price: tp,
          reduce_only: true,
        })
      : null;
  return { intent, takeProfit };
}

/**
 * classifyOrderError: what keel may do after a venue call failed, from the raw answer
 * (HTTP status, venue code, message, socket errno) and the operation that failed.
 * Invariants: a timeout or network error on a write is never fatal and always asks for a
 * lookup by clientOrderId before any resend (the order may have landed); rate limits carry
 * how long to wait; "unknown order" is never terminal on its own; anything unrecognised is fatal.
 */
import { parseOrThrow } from './parse.js';
import {
  isWriteContext,
  orderErrorInputSchema,
  type OrderErrorContext,
  type OrderErrorInput,
  type OrderErrorPolicy,
  type OrderErrorVerdict,
  type ParsedOrderErrorInput,
} from './order-error.schema.js';
import { binanceUsdmRuleFor, BINANCEUSDM_ERRORS, type VenueErrorRule } from './venues/binanceusdm.errors.js';

/** Venues that answer with Binance USDⓈ-M's codes (the paper venue imitates them). */
const BINANCE_CODE_VENUES: ReadonlySet<string> = new Set(['binanceusdm', 'paper']);

// Socket-level failures: no HTTP answer arrived, so whether a write executed is unknown.
const NETWORK_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'TimeoutError',
  'AbortError',
  'ABORT_ERR',
]);
// undici errors that are our own programming mistakes, not the network.
const LOCAL_UNDICI_ERRORS: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_INVALID_RETURN_VALUE',
]);

/** True for a socket errno or an abort/timeout name: the request got no HTTP answer. */
export function isNetworkErrno(errno: string): boolean {
  return NETWORK_ERRNOS.has(errno) || (errno.startsWith('UND_ERR_') && !LOCAL_UNDICI_ERRORS.has(errno));
}

/**
 * With no Retry-After, a request-weight or order-rate limit resets with the next minute
 * window (Binance counts per minute), so wait until then; 60 s when the time is unknown.
 */
const MINUTE_MS = 60_000;
/** An IP ban (HTTP 418) lasts from 2 minutes up to 3 days; without a header, wait the shortest. */
export const DEFAULT_BAN_MS = 120_000;
/** No venue asks for more than its longest ban; a larger header is a corrupt one. */
export const MAX_RETRY_AFTER_MS = 3 * 24 * 60 * MINUTE_MS;

/**
 * Classifies a failed venue call. Throws a BadInputError naming the field when `input`
 * is malformed; never throws for any well-formed input.
 *
 * @example
 * classifyOrderError({ venue: 'binanceusdm', httpStatus: 503, context: 'create',
 *   message: 'Unknown error, please check your request or try again later.' });
 * // → { policy: 'retryable', lookupFirst: true, reason: 'execution status unknown: …' }
 */
export function classifyOrderError(input: OrderErrorInput): OrderErrorVerdict {
  const parsed = parseOrThrow(orderErrorInputSchema, input, 'bad order error');
  return (
    byTransport(parsed) ??
    byRateLimitStatus(parsed) ??
    byTimeoutStatus(parsed) ??
    byVenueCode(parsed) ??
    byUnreadableSuccess(parsed) ??
    byServerError(parsed) ??
    byMessage(parsed) ??
    byClientStatus(parsed) ??
    unrecognised(parsed)
  );
}

type Rule = (input: ParsedOrderErrorInput) => OrderErrorVerdict | undefined;

function verdict(
  policy: OrderErrorPolicy,
  reason: string,
  lookupFirst: boolean,
  retryAfterMs?: number,
): OrderErrorVerdict {
  return retryAfterMs === undefined
    ? { policy, reason, lookupFirst }
    : { policy, reason, lookupFirst, retryAfterMs };
}

/** Retryable; on a write the order may exist, so it is looked up before anything is resent. */
function ambiguous(context: OrderErrorContext, what: string): OrderErrorVerdict {
  return isWriteContext(context)
    ? verdict(
        'retryable',
        `${what}: execution status unknown; look the order up by clientOrderId before any resend`,
        true,
      )
    : verdict('retryable', `${what} on a read: safe to retry`, false);
}

const byTransport: Rule = ({ errno, context }) =>
  errno !== undefined && isNetworkErrno(errno) ? ambiguous(context, `network error ${errno}`) : undefined;

const byRateLimitStatus: Rule = (input) => {
  if (input.httpStatus === 418) {
    return verdict(
      'retryable',
      'IP banned for ignoring rate limits (HTTP 418): stop every request from this IP until Retry-After',
      false,
      retryAfterMsOf(input, DEFAULT_BAN_MS),
    );
  }
  if (input.httpStatus === 429) {
    return verdict(
      'retryable',
      'rate limit exceeded (HTTP 429): the request was refused unprocessed; wait until Retry-After',
      false,
      retryAfterMsOf(input, untilNextMinute(input.now)),
    );
  }
  return undefined;
};

const byTimeoutStatus: Rule = ({ httpStatus, context }) =>
  httpStatus === 408 || httpStatus === 504 ? ambiguous(context, `timeout (HTTP ${httpStatus})`) : undefined;

const byVenueCode: Rule = (input) => {
  const code = numericCode(input.code);
  if (code === undefined || input.venue === undefined || !BINANCE_CODE_VENUES.has(input.venue))
    return undefined;
  const rule = binanceUsdmRuleFor(code, input.context);
  if (!rule) return undefined;
  const name = BINANCEUSDM_ERRORS.get(code)?.name ?? 'UNKNOWN';
  return fromRule(rule, `${input.venue} ${code} ${name}`, input);
};

function fromRule(rule: VenueErrorRule, label: string, input: ParsedOrderErrorInput): OrderErrorVerdict {
  const lookupFirst =
    rule.lookupFirst === 'write' ? isWriteContext(input.context) : (rule.lookupFirst ?? false);
  const wait = rule.rateLimited ? retryAfterMsOf(input, untilNextMinute(input.now)) : undefined;
  return verdict(rule.policy, `${label}: ${rule.reason}`, lookupFirst, wait);
}

// A 2xx whose body could not be read (ccxt's BadResponse): the venue accepted something.
const byUnreadableSuccess: Rule = ({ httpStatus, context }) =>
  httpStatus !== undefined && httpStatus >= 200 && httpStatus < 300
    ? ambiguous(context, `unreadable success answer (HTTP ${httpStatus})`)
    : undefined;

// Binance's three 503 bodies (general-info, "HTTP Return Codes"): only the first is ambiguous.
const EXECUTION_UNKNOWN = /unknown error, please check your request or try again later/i;
const BINANCE_503_FAILURES = /service unavailable|internal error; unable to process your request/i;

const byServerError: Rule = ({ httpStatus, message = '', venue, context }) => {
  if (EXECUTION_UNKNOWN.test(message)) return ambiguous(context, 'venue answered "Unknown error" (HTTP 503)');
  if (httpStatus === undefined || httpStatus < 500) return undefined;
  if (
    httpStatus === 503 &&
    venue !== undefined &&
    BINANCE_CODE_VENUES.has(venue) &&
    BINANCE_503_FAILURES.test(message)
  ) {
    return verdict(
      'retryable',
      'venue unavailable (HTTP 503): the request was not executed; retry later',
      false,
    );
  }
  // Any other 5xx may have been raised after the request reached the matching engine.
  return ambiguous(context, `server error (HTTP ${httpStatus})`);
};

interface MessageRule {
  pattern: RegExp;
  verdict: (input: ParsedOrderErrorInput) => OrderErrorVerdict;
}

const fixed =
  (policy: OrderErrorPolicy, reason: string, lookupFirst = false) =>
  (): OrderErrorVerdict =>
    verdict(policy, reason, lookupFirst);

/** Venue-neutral message patterns, for venues without a table and codes the table lacks. */
const MESSAGE_RULES: readonly MessageRule[] = [
  {
    pattern: /execution status unknown|send status unknown/i,
    verdict: ({ context }) => ambiguous(context, 'venue says execution status unknown'),
  },
  {
    pattern: /unknown order|order does not exist|order not found|no such order/i,
    verdict: ({ context }) => orderNotFound(context),
  },
  {
    pattern: /client ?order ?id is duplicated|duplicate(d)? (client ?order ?id|order id)/i,
    verdict: fixed(
      'idempotent_safe',
      'duplicate clientOrderId: an earlier send may have landed; fetch it',
      true,
    ),
  },
  {
    pattern: /too many (requests|new orders)|rate limit/i,
    verdict: (input) =>
      verdict(
        'retryable',
        'rate limited: wait, then retry',
        false,
        retryAfterMsOf(input, untilNextMinute(input.now)),
      ),
  },
  {
    pattern: /\btime(d)? ?out\b|timeout/i,
    verdict: ({ context }) => ambiguous(context, 'venue reported a timeout'),
  },
  {
    pattern: /timestamp for this request|recvwindow|nonce/i,
    verdict: fixed('retryable_with_modification', 'clock drift: resync the clock, re-sign and retry'),
  },
  {
    pattern: /would immediately trigger|triggered immediately/i,
    verdict: fixed('retryable_with_modification', 'the trigger price is already crossed: move it'),
  },
  {
    pattern: /post.?only|executed as maker|would immediately match/i,
    verdict: fixed('retryable_with_modification', 'post-only order would cross the book: reprice it'),
  },
  {
    pattern:
      /filter failure|price_filter|lot_size|percent_price|min_notional|tick ?size|step ?size|precision/i,
    verdict: fixed(
      'retryable_with_modification',
      'price or quantity breaks a symbol filter: round or resize it',
    ),
  },
  {
    pattern: /reduce.?only order (is rejected|failed)/i,
    verdict: fixed(
      'retryable_with_modification',
      'reduce-only order would not reduce: reconcile, then resize',
    ),
  },
  {
    pattern: /insufficient|not enough (balance|margin)/i,
    verdict: fixed('fatal', 'insufficient balance or margin'),
  },
  {
    pattern: /api.?key|signature|permission|unauthori[sz]ed|forbidden/i,
    verdict: fixed('fatal', 'authentication or permission refused: check the API key'),
  },
  {
    pattern: /invalid symbol|unknown symbol|bad symbol/i,
    verdict: fixed('fatal', 'invalid symbol'),
  },
];

/** "Unknown order" is never terminal on its own: what it means depends on the operation. */
function orderNotFound(context: OrderErrorContext): OrderErrorVerdict {
  switch (context) {
    case 'cancel':
      return verdict(
        'idempotent_safe',
        'unknown order on cancel: already gone; confirm by fetching its status',
        true,
      );
    case 'query':
      return verdict(
        'retryable',
        'order not found: not terminal — not yet visible, purged or never created; query again',
        false,
      );
    case 'replace':
      return verdict('fatal', 'the order to amend no longer exists; fetch its status, do not resend', true);
    case 'create':
      return verdict('fatal', 'an order-not-found answer to a create: the venue refused the request', false);
    case 'any':
      return verdict(
        'retryable',
        'order not found: not terminal on its own; confirm by fetching its status',
        true,
      );
  }
}

const byMessage: Rule = (input) => {
  const message = input.message;
  if (message === undefined || message.trim() === '') return undefined;
  return MESSAGE_RULES.find((rule) => rule.pattern.test(message))?.verdict(input);
};

const byClientStatus: Rule = ({ httpStatus, code, context }) => {
  if (httpStatus === undefined || httpStatus < 400) return undefined;
  if (httpStatus === 401)
    return verdict('fatal', 'authentication failed (HTTP 401): check the API key', false);
  if (httpStatus === 403) {
    return verdict(
      'fatal',
      'forbidden (HTTP 403): permissions, or the venue firewall refuses this request',
      false,
    );
  }
  // REST venues answer a missing order with 404: the same doctrine as "unknown order".
  if (httpStatus === 404 && (context === 'cancel' || context === 'query')) return orderNotFound(context);
  if (httpStatus === 409 && (context === 'create' || context === 'replace')) {
    return verdict(
      'idempotent_safe',
      'conflict (HTTP 409): probably a duplicate clientOrderId; fetch it',
      true,
    );
  }
  const what = code === undefined ? 'the venue refused the request' : `unrecognised venue code ${code}`;
  return verdict('fatal', `${what} (HTTP ${httpStatus}): not retried automatically`, false);
};

function unrecognised({ httpStatus, code, context }: ParsedOrderErrorInput): OrderErrorVerdict {
  // Without an HTTP answer nobody knows whether a write landed, even if no retry is allowed.
  const lookupFirst = httpStatus === undefined && isWriteContext(context);
  const what = code === undefined ? 'unrecognised error' : `unrecognised venue code ${code}`;
  return verdict('fatal', `${what}: not retried automatically`, lookupFirst);
}

function numericCode(code: number | string | undefined): number | undefined {
  if (typeof code === 'number') return code;
  if (code !== undefined && /^-?\d+$/.test(code.trim())) return Number(code.trim());
  return undefined;
}

function untilNextMinute(now: number | undefined): number {
  return now === undefined ? MINUTE_MS : MINUTE_MS - (now % MINUTE_MS);
}

/**
 * How long to wait: the Retry-After header (seconds, or an HTTP date when `now` is known),
 * else the end of a ban the message names ("IP banned until 1700000000000"), else `fallbackMs`.
 */
export function retryAfterMsOf(
  input: Pick<ParsedOrderErrorInput, 'retryAfter' | 'message' | 'now'>,
  fallbackMs: number,
): number {
  return Math.min(MAX_RETRY_AFTER_MS, requestedWaitMs(input) ?? fallbackMs);
}

function requestedWaitMs({
  retryAfter,
  message,
  now,
}: Pick<ParsedOrderErrorInput, 'retryAfter' | 'message' | 'now'>): number | undefined {
  if (typeof retryAfter === 'number') return Math.ceil(retryAfter * 1000);
  if (typeof retryAfter === 'string') {
    const text = retryAfter.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
    const date = Date.parse(text);
    if (now !== undefined && Number.isFinite(date)) return Math.max(0, date - now);
  }
  const bannedUntil = message === undefined ? undefined : /banned until (\d{10,16})/i.exec(message)?.[1];
  if (bannedUntil !== undefined && now !== undefined) return Math.max(0, Number(bannedUntil) - now);
  return undefined;
}

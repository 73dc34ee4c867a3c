/**
 * One ccxt exchange instance wrapped so every call answers a value: the raw HTTP status, venue
 * code, message and Retry-After that classifyOrderError reads (ccxt's exception classes lose
 * them: -4116 arrives as InvalidOrder, the 503 execution-unknown answer as ExchangeNotAvailable),
 * or the socket errno when no answer came. Invariants: every response's rate headers feed the
 * budget, and a 429/418 pauses every later call until Retry-After; a -1021 (clock skew) is
 * answered by resynchronising with the venue's time and sending once more, re-signed — the venue
 * refused the first request before executing it, so the resend cannot duplicate anything.
 */
import ccxt, { type Exchange } from 'ccxt';
import type { ClockPort } from '../../../ports/clock.port.js';
import type { LoggerPort } from '../../../ports/logger.port.js';
import type { VenueFailure, VenueResult } from '../../../ports/venue.port.js';
import {
  emptyRateBudget,
  observeRateHeaders,
  pauseForLimit,
  rateGate,
  type RateBudgetLimits,
  type RateBudgetState,
} from '../../../domain/venues/rate-budget.js';

/** The exchanges keel's ccxt adapter can be pointed at. */
export const CCXT_EXCHANGES = ['binanceusdm', 'bybit', 'okx'] as const;
export type CcxtExchangeId = (typeof CCXT_EXCHANGES)[number];

/** The raw answer behind a failed call, attached to the error ccxt throws. */
export interface RawAnswer {
  httpStatus: number;
  code?: number | string;
  message: string;
  retryAfter?: number;
}

const RAW = Symbol('keel.raw');

type Headers = Record<string, string | undefined>;

/** Subclasses a ccxt exchange so each response's status, code, message and headers reach keel. */
function instrument(
  Base: typeof ccxt.binanceusdm | typeof ccxt.bybit | typeof ccxt.okx,
  onHeaders: (headers: Headers) => void,
): new (config: Record<string, unknown>) => Exchange {
  // ccxt's classes are plain ES classes; overriding its documented error hook keeps every other behaviour.
  const Instrumented = class extends (Base as unknown as new (config: Record<string, unknown>) => Exchange) {
    override handleErrors(
      status: number,
      reason: string,
      url: string,
      method: string,
      headers: Headers,
      body: string,
      response: unknown,
      requestHeaders: unknown,
      requestBody: unknown,
    ): undefined {
      onHeaders(headers ?? {});
      const raw = rawAnswerOf(status, body, response, headers ?? {});
      try {
        super.handleErrors(status, reason, url, method, headers, body, response, requestHeaders, requestBody);
        // A failure ccxt's own hook let through is still a failure: raise its HTTP class now, with the raw answer.
        if (raw) this.handleHttpStatusCode(status, reason, url, method, body);
        return undefined;
      } catch (error) {
        if (raw && error !== null && typeof error === 'object') (error as Record<symbol, unknown>)[RAW] = raw;
        throw error;
      }
    }
  };
  return Instrumented;
}

/** The failure a response carries, or undefined for a success. */
function rawAnswerOf(
  status: number,
  body: string,
  response: unknown,
  headers: Headers,
): RawAnswer | undefined {
  const record =
    response !== null && typeof response === 'object' ? (response as Record<string, unknown>) : {};
  const code = record.code ?? record.retCode;
  const codeIsError = code !== undefined && code !== 0 && code !== '0' && code !== 200 && code !== '200';
  if (status < 400 && !codeIsError) return undefined;
  const message = record.msg ?? record.retMsg ?? record.message;
  const retryAfter = Number(headerOf(headers, 'retry-after'));
  return {
    httpStatus: status,
    ...(typeof code === 'number' || (typeof code === 'string' && code !== '')
      ? { code: numericCode(code) }
      : {}),
    message: typeof message === 'string' && message !== '' ? message : body.slice(0, 500) || `HTTP ${status}`,
    ...(Number.isFinite(retryAfter) && headerOf(headers, 'retry-after') !== undefined ? { retryAfter } : {}),
  };
}

function numericCode(code: number | string): number | string {
  const asNumber = Number(code);
  return Number.isInteger(asNumber) ? asNumber : code;
}

function headerOf(headers: Headers, name: string): string | undefined {
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  return entry?.[1];
}

/**
 * An error standing for the venue's own refusal of something ccxt refuses before sending (an
 * unlisted market): keel's error handling then reads the venue's status, code and message.
 */
export function refusalAsTheVenueAnswers(answer: RawAnswer): Error {
  const error = new ccxt.BadRequest(answer.message);
  (error as unknown as Record<symbol, unknown>)[RAW] = answer;
  return error;
}

const NETWORK_CODE = /\b(E[A-Z]{3,}|UND_ERR_[A-Z_]+)\b/;

/** The VenueFailure a thrown ccxt error stands for. */
export function failureOf(error: unknown): VenueFailure {
  const raw =
    error !== null && typeof error === 'object'
      ? ((error as Record<symbol, unknown>)[RAW] as RawAnswer | undefined)
      : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (raw) return { ok: false, ...raw };
  if (error instanceof ccxt.RequestTimeout) return { ok: false, errno: 'ETIMEDOUT', message };
  if (error instanceof ccxt.NetworkError) {
    // No HTTP answer arrived: whether a write executed is unknown (classifyOrderError asks for a lookup).
    return { ok: false, errno: NETWORK_CODE.exec(message)?.[1] ?? 'ECONNRESET', message };
  }
  // A local refusal (a bad argument ccxt caught before sending): nothing reached the venue.
  return { ok: false, message: `not sent: ${message}` };
}

export interface CcxtClientOptions {
  exchange: CcxtExchangeId;
  apiKey: string;
  secret: string;
  /** OKX's API passphrase. */
  password?: string;
  /** Binance's futures testnet (`testnet.binancefuture.com`), Bybit's and OKX's sandboxes. */
  sandbox?: boolean;
  /** Replaces the exchange's REST base (Binance: every `fapi` URL) — `keel paper-venue` on loopback. */
  restUrl?: string;
  recvWindowMs?: number;
  /** Milliseconds before ccxt gives up on a request (default 10 000, as Binance's own timeout). */
  timeoutMs?: number;
  limits: RateBudgetLimits;
  clock: ClockPort;
  logger?: LoggerPort;
}

/** A call's kind for the budget: reads wait when the weight runs low; orders have their own count. */
export type CallKind = 'read' | 'order';

export class CcxtClient {
  readonly exchange: Exchange;
  private budget: RateBudgetState = emptyRateBudget();

  constructor(private readonly options: CcxtClientOptions) {
    const Base = ccxt[options.exchange];
    const Instrumented = instrument(Base, (headers) => {
      this.budget = observeRateHeaders(this.budget, headers, options.clock.now());
    });
    this.exchange = new Instrumented({
      apiKey: options.apiKey,
      secret: options.secret,
      ...(options.password === undefined ? {} : { password: options.password }),
      enableRateLimit: true,
      timeout: options.timeoutMs ?? 10_000,
      options: {
        // keel names every order itself; a broker prefix would break lookups by clientOrderId.
        broker: {},
        fetchCurrencies: false,
        recvWindow: options.recvWindowMs ?? 5_000,
        adjustForTimeDifference: false,
        // ccxt refuses futures-testnet keys unless told the testnet is meant.
        disableFuturesSandboxWarning: true,
        warnOnFetchOpenOrdersWithoutSymbol: false,
      },
    });
    if (options.sandbox) this.exchange.setSandboxMode(true);
    if (options.restUrl !== undefined) pointRestAt(this.exchange, options.restUrl);
  }

  /** The state of the request budget, for health and tests. */
  budgetState(): RateBudgetState {
    return { ...this.budget };
  }

  /**
   * Runs one venue call under the budget: waits when the weight or order count is near its limit,
   * answers at once without sending while the venue has paused keel, resyncs the clock on -1021.
   */
  async call<T>(kind: CallKind, run: (exchange: Exchange) => Promise<T>): Promise<VenueResult<T>> {
    for (let attempt = 1; ; attempt += 1) {
      const gate = rateGate(this.budget, kind, this.options.limits, this.options.clock.now());
      if (gate.kind === 'paused') {
        return {
          ok: false,
          httpStatus: 429,
          code: -1003,
          message: `not sent: ${gate.reason}; paused for ${Math.ceil(gate.retryAfterMs / 1000)} s`,
          retryAfter: Math.ceil(gate.retryAfterMs / 1000),
        };
      }
      if (gate.kind === 'wait') {
        this.options.logger?.warn(
          { waitMs: gate.waitMs, reason: gate.reason },
          'holding a venue call back to stay under its rate limit',
        );
        await sleep(this.options.clock, gate.waitMs);
        continue;
      }
      try {
        return { ok: true, value: await run(this.exchange) };
      } catch (error) {
        const failure = failureOf(error);
        if (failure.httpStatus === 429 || failure.httpStatus === 418) {
          this.budget = pauseForLimit(
            this.budget,
            failure.httpStatus,
            failure.retryAfter,
            this.options.clock.now(),
          );
          this.options.logger?.warn(
            { httpStatus: failure.httpStatus, retryAfter: failure.retryAfter },
            'venue rate limit reached: every call is paused',
          );
        }
        if (failure.code === -1021 && attempt === 1 && (await this.resyncClock())) continue;
        return failure;
      }
    }
  }

  /** Reads the venue's time and signs from then on with the difference; false when the venue cannot say. */
  async resyncClock(): Promise<boolean> {
    try {
      const before = this.options.clock.now();
      const serverTime = await this.exchange.fetchTime();
      const after = this.options.clock.now();
      if (typeof serverTime !== 'number') return false;
      // ccxt signs with milliseconds() - timeDifference.
      this.exchange.options.timeDifference = Math.round((before + after) / 2 - serverTime);
      this.options.logger?.warn(
        { timeDifferenceMs: this.exchange.options.timeDifference },
        'clock skew against the venue: resynchronised',
      );
      return true;
    } catch (error) {
      this.options.logger?.warn({ err: failureOf(error).message }, 'could not read the venue time');
      return false;
    }
  }
}

/** Points every Binance futures REST URL (fapi v1/v2/v3, public and private) at `base`. */
function pointRestAt(exchange: Exchange, base: string): void {
  const api = exchange.urls.api as Record<string, string>;
  const trimmed = base.replace(/\/+$/, '');
  for (const [key, url] of Object.entries(api)) {
    if (typeof url !== 'string') continue;
    const match = /\/(fapi)\/(v\d)$/.exec(url);
    if (match) api[key] = `${trimmed}/fapi/${match[2]}`;
  }
}

function sleep(clock: ClockPort, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

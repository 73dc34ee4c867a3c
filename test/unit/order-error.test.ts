import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/domain/errors.js';
import { DEFAULT_BAN_MS, MAX_RETRY_AFTER_MS, classifyOrderError } from '../../src/domain/order-error.js';
import {
  orderErrorVerdictSchema,
  type OrderErrorInput,
  type OrderErrorPolicy,
} from '../../src/domain/order-error.schema.js';

const BINANCE = 'binanceusdm';
const UNKNOWN_ERROR_503 = 'Unknown error, please check your request or try again later.';

interface Row {
  name: string;
  input: OrderErrorInput;
  policy: OrderErrorPolicy;
  lookupFirst: boolean;
  reason?: RegExp;
}

// One row per case, read as a table.
// prettier-ignore
const rows: Row[] = [
  // retryable: network, timeouts, rate limits, execution status unknown
  { name: 'a reset socket during a create', input: { errno: 'ECONNRESET', context: 'create' }, policy: 'retryable', lookupFirst: true },
  { name: 'an undici headers timeout during a cancel', input: { errno: 'UND_ERR_HEADERS_TIMEOUT', context: 'cancel' }, policy: 'retryable', lookupFirst: true },
  { name: 'a DNS failure during a replace', input: { errno: 'EAI_AGAIN', context: 'replace' }, policy: 'retryable', lookupFirst: true },
  { name: 'a timeout on a query', input: { errno: 'ETIMEDOUT', context: 'query' }, policy: 'retryable', lookupFirst: false, reason: /read/ },
  { name: 'an aborted request in an unknown context', input: { errno: 'TimeoutError', context: 'any' }, policy: 'retryable', lookupFirst: true },
  { name: 'Binance 503 "Unknown error" on a create', input: { venue: BINANCE, httpStatus: 503, message: UNKNOWN_ERROR_503, context: 'create' }, policy: 'retryable', lookupFirst: true, reason: /execution status unknown/ },
  { name: 'Binance 503 "Unknown error" on a query', input: { venue: BINANCE, httpStatus: 503, message: UNKNOWN_ERROR_503, context: 'query' }, policy: 'retryable', lookupFirst: false },
  { name: 'Binance 503 "Service Unavailable."', input: { venue: BINANCE, httpStatus: 503, message: 'Service Unavailable.', context: 'create' }, policy: 'retryable', lookupFirst: false },
  { name: 'a bare 502 from an unknown venue on a create', input: { venue: 'okx', httpStatus: 502, context: 'create' }, policy: 'retryable', lookupFirst: true },
  { name: 'a gateway timeout on a replace', input: { venue: BINANCE, httpStatus: 504, context: 'replace' }, policy: 'retryable', lookupFirst: true },
  { name: '-1006 on a create', input: { venue: BINANCE, httpStatus: 400, code: -1006, context: 'create' }, policy: 'retryable', lookupFirst: true, reason: /-1006 UNEXPECTED_RESP/ },
  { name: '-1007 on a cancel', input: { venue: BINANCE, code: -1007, context: 'cancel' }, policy: 'retryable', lookupFirst: true },
  { name: '-1007 on a query', input: { venue: BINANCE, code: -1007, context: 'query' }, policy: 'retryable', lookupFirst: false },
  { name: 'HTTP 429 with -1003', input: { venue: BINANCE, httpStatus: 429, code: -1003, context: 'create' }, policy: 'retryable', lookupFirst: false },
  { name: '-1015 order-rate limit', input: { venue: BINANCE, httpStatus: 400, code: -1015, context: 'create' }, policy: 'retryable', lookupFirst: false },
  { name: '-1008 overload', input: { venue: BINANCE, code: -1008, context: 'create' }, policy: 'retryable', lookupFirst: false },
  { name: 'HTTP 418 IP ban', input: { venue: BINANCE, httpStatus: 418, context: 'query' }, policy: 'retryable', lookupFirst: false, reason: /banned/ },
  { name: 'an unreadable 200 answer to a create', input: { venue: BINANCE, httpStatus: 200, message: 'Unexpected token <', context: 'create' }, policy: 'retryable', lookupFirst: true },
  { name: 'a per-item -2019 inside a 200 batch answer', input: { venue: BINANCE, httpStatus: 200, code: -2019, context: 'create' }, policy: 'fatal', lookupFirst: false },
  { name: '-2013 on a query', input: { venue: BINANCE, code: -2013, message: 'Order does not exist.', context: 'query' }, policy: 'retryable', lookupFirst: false, reason: /not terminal/ },
  // retryable with modification
  { name: '-1021 clock drift', input: { venue: BINANCE, code: -1021, context: 'create' }, policy: 'retryable_with_modification', lookupFirst: false, reason: /clock/ },
  { name: '-1013 filter failure', input: { venue: BINANCE, code: -1013, context: 'create' }, policy: 'retryable_with_modification', lookupFirst: false },
  { name: '-1111 precision', input: { venue: BINANCE, code: -1111, context: 'create' }, policy: 'retryable_with_modification', lookupFirst: false },
  { name: '-4003 quantity zero', input: { venue: BINANCE, code: -4003, context: 'create' }, policy: 'retryable_with_modification', lookupFirst: false },
  { name: '-4014 tick size', input: { venue: BINANCE, code: -4014, context: 'replace' }, policy: 'retryable_with_modification', lookupFirst: false },
  { name: '-4164 min notional', input: { venue: BINANCE, code: -4164, context: 'create' }, policy: 'retryable_with_modification', lookupFirst: false },
  { name: '-2022 reduce-only rejected', input: { venue: BINANCE, code: -2022, context: 'create' }, policy: 'retryable_with_modification', lookupFirst: false },
  { name: '-4118 reduce-only margin check', input: { venue: BINANCE, code: -4118, context: 'create' }, policy: 'retryable_with_modification', lookupFirst: false },
  { name: '-5022 post-only would cross', input: { venue: BINANCE, code: -5022, context: 'create' }, policy: 'retryable_with_modification', lookupFirst: false },
  { name: '-2021 would immediately trigger', input: { venue: BINANCE, code: -2021, context: 'create' }, policy: 'retryable_with_modification', lookupFirst: false },
  { name: 'a PERCENT_PRICE message without a known code', input: { venue: 'okx', httpStatus: 400, message: 'Filter failure: PERCENT_PRICE', context: 'create' }, policy: 'retryable_with_modification', lookupFirst: false },
  // idempotent safe
  { name: '-2011 "Unknown order sent." on a cancel', input: { venue: BINANCE, httpStatus: 400, code: -2011, message: 'Unknown order sent.', context: 'cancel' }, policy: 'idempotent_safe', lookupFirst: true, reason: /already gone/ },
  { name: '-2013 on a cancel', input: { venue: BINANCE, code: -2013, context: 'cancel' }, policy: 'idempotent_safe', lookupFirst: true },
  { name: '-4116 duplicate clientOrderId on a create', input: { venue: BINANCE, code: -4116, message: 'clientOrderId is duplicated', context: 'create' }, policy: 'idempotent_safe', lookupFirst: true },
  { name: 'an unknown-order message from another venue on a cancel', input: { venue: 'okx', httpStatus: 400, message: 'Order not found', context: 'cancel' }, policy: 'idempotent_safe', lookupFirst: true },
  { name: 'margin type already set', input: { venue: BINANCE, code: -4046, context: 'any' }, policy: 'idempotent_safe', lookupFirst: false },
  // fatal
  { name: '-2019 insufficient margin', input: { venue: BINANCE, code: -2019, context: 'create' }, policy: 'fatal', lookupFirst: false },
  { name: '-2018 insufficient balance', input: { venue: BINANCE, code: -2018, context: 'create' }, policy: 'fatal', lookupFirst: false },
  { name: '-4050 cross balance insufficient', input: { venue: BINANCE, code: -4050, context: 'create' }, policy: 'fatal', lookupFirst: false },
  { name: '-1121 bad symbol', input: { venue: BINANCE, code: -1121, context: 'create' }, policy: 'fatal', lookupFirst: false },
  { name: '-2015 bad API key', input: { venue: BINANCE, httpStatus: 401, code: -2015, context: 'create' }, policy: 'fatal', lookupFirst: false },
  { name: '-1022 bad signature', input: { venue: BINANCE, code: -1022, context: 'query' }, policy: 'fatal', lookupFirst: false },
  { name: '-4120 stop sent to the order endpoint', input: { venue: BINANCE, code: -4120, context: 'create' }, policy: 'fatal', lookupFirst: false, reason: /algo/ },
  { name: 'HTTP 401 from an unknown venue', input: { venue: 'okx', httpStatus: 401, context: 'create' }, policy: 'fatal', lookupFirst: false },
  { name: 'HTTP 403 from an unknown venue', input: { venue: 'okx', httpStatus: 403, context: 'cancel' }, policy: 'fatal', lookupFirst: false },
  { name: 'a code Binance never published', input: { venue: BINANCE, httpStatus: 400, code: -9999, context: 'create' }, policy: 'fatal', lookupFirst: false, reason: /unrecognised/ },
  { name: 'an unknown errno with no answer on a create', input: { errno: 'ERR_SOMETHING_NEW', context: 'create' }, policy: 'fatal', lookupFirst: true },
];

describe('classifyOrderError', () => {
  it.each(rows)('classifies $name as $policy', ({ input, policy, lookupFirst, reason }) => {
    const verdict = classifyOrderError(input);
    expect(orderErrorVerdictSchema.parse(verdict)).toEqual(verdict);
    expect(verdict.policy).toBe(policy);
    expect(verdict.lookupFirst).toBe(lookupFirst);
    if (reason) expect(verdict.reason).toMatch(reason);
  });

  it('answers for the paper venue with Binance codes', () => {
    for (const code of [-2019, -4116, -1021, -1006, -1003]) {
      const paper = classifyOrderError({ venue: 'paper', code, context: 'create' });
      const binance = classifyOrderError({ venue: BINANCE, code, context: 'create' });
      expect({ ...paper, reason: undefined }).toEqual({ ...binance, reason: undefined });
      expect(paper.reason).toBe(binance.reason.replace(BINANCE, 'paper'));
    }
  });

  it('reads a code sent as a string', () => {
    expect(classifyOrderError({ venue: BINANCE, code: '-2011', context: 'cancel' }).policy).toBe(
      'idempotent_safe',
    );
  });

  it('does not apply Binance codes to a venue that is not Binance', () => {
    expect(classifyOrderError({ venue: 'okx', code: -1021, context: 'create' }).policy).toBe('fatal');
  });

  describe('context', () => {
    it('treats -2011 as done on a cancel, gone on a replace, and a refusal on a create', () => {
      const at = (context: OrderErrorInput['context']) =>
        classifyOrderError({ venue: BINANCE, code: -2011, message: 'Unknown order sent.', context });
      expect(at('cancel')).toMatchObject({ policy: 'idempotent_safe', lookupFirst: true });
      expect(at('replace')).toMatchObject({ policy: 'fatal', lookupFirst: true });
      expect(at('create')).toMatchObject({ policy: 'fatal', lookupFirst: false });
    });

    it('never treats "order does not exist" on a query as terminal', () => {
      const verdict = classifyOrderError({ venue: BINANCE, code: -2013, context: 'query' });
      expect(verdict.policy).not.toBe('fatal');
      expect(verdict.reason).toMatch(/not terminal/);
    });

    it('asks for a lookup after an ambiguous write but not after a read', () => {
      for (const code of [-1000, -1006, -1007]) {
        expect(classifyOrderError({ venue: BINANCE, code, context: 'create' }).lookupFirst).toBe(true);
        expect(classifyOrderError({ venue: BINANCE, code, context: 'query' }).lookupFirst).toBe(false);
      }
    });

    it('treats a 404 on a cancel as an unknown order, and on a create as a refusal', () => {
      expect(classifyOrderError({ venue: 'okx', httpStatus: 404, context: 'cancel' }).policy).toBe(
        'idempotent_safe',
      );
      expect(classifyOrderError({ venue: 'okx', httpStatus: 404, context: 'create' }).policy).toBe('fatal');
    });
  });

  describe('Retry-After', () => {
    it('honours a Retry-After in seconds, as a number or a header string', () => {
      expect(classifyOrderError({ httpStatus: 429, retryAfter: 7, context: 'create' }).retryAfterMs).toBe(
        7_000,
      );
      expect(
        classifyOrderError({ httpStatus: 418, retryAfter: ' 300 ', context: 'create' }).retryAfterMs,
      ).toBe(300_000);
      expect(classifyOrderError({ httpStatus: 429, retryAfter: '0.5', context: 'query' }).retryAfterMs).toBe(
        500,
      );
    });

    it('honours a Retry-After given as an HTTP date when the time is known', () => {
      const now = Date.parse('Tue, 14 Nov 2023 22:13:20 GMT');
      const verdict = classifyOrderError({
        httpStatus: 429,
        retryAfter: 'Tue, 14 Nov 2023 22:13:50 GMT',
        now,
        context: 'create',
      });
      expect(verdict.retryAfterMs).toBe(30_000);
    });

    it('waits for the next minute window when a 429 has no Retry-After', () => {
      expect(
        classifyOrderError({ httpStatus: 429, now: 1_700_000_020_000, context: 'create' }).retryAfterMs,
      ).toBe(20_000);
      expect(classifyOrderError({ httpStatus: 429, context: 'create' }).retryAfterMs).toBe(60_000);
    });

    it('waits the shortest ban when a 418 has no Retry-After', () => {
      expect(classifyOrderError({ httpStatus: 418, context: 'create' }).retryAfterMs).toBe(DEFAULT_BAN_MS);
    });

    it('reads the end of a ban from the -1003 message', () => {
      const verdict = classifyOrderError({
        venue: BINANCE,
        httpStatus: 418,
        code: -1003,
        message:
          'Way too many requests; IP banned until 1700000300000. Please use the websocket for live updates.',
        now: 1_700_000_000_000,
        context: 'create',
      });
      expect(verdict.retryAfterMs).toBe(300_000);
    });

    it('caps an absurd Retry-After at the longest ban', () => {
      expect(classifyOrderError({ httpStatus: 429, retryAfter: 1e12, context: 'create' }).retryAfterMs).toBe(
        MAX_RETRY_AFTER_MS,
      );
    });

    it('says nothing about waiting for errors that are not rate limits', () => {
      expect(
        classifyOrderError({ venue: BINANCE, code: -2019, context: 'create' }).retryAfterMs,
      ).toBeUndefined();
    });
  });

  describe('bad input', () => {
    it.each([
      ['an unknown context', { context: 'delete' }, 'context'],
      ['a missing context', { httpStatus: 500 }, 'context'],
      ['an HTTP status out of range', { httpStatus: 999, context: 'create' }, 'httpStatus'],
      ['a fractional code', { code: -1.5, context: 'create' }, 'code'],
      ['a negative Retry-After', { retryAfter: -1, context: 'create' }, 'retryAfter'],
    ])('refuses %s with a BadInputError naming the field', (_name, input, path) => {
      let caught: unknown;
      try {
        classifyOrderError(input as never);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(BadInputError);
      expect((caught as BadInputError).issues.map((issue) => issue.path)).toContain(path);
    });

    it('refuses a misspelt field instead of ignoring it', () => {
      expect(() => classifyOrderError({ status: 503, context: 'create' } as never)).toThrow(/status/);
    });
  });

  describe('properties', () => {
    const TIMEOUT_ERRNOS = [
      'ETIMEDOUT',
      'ESOCKETTIMEDOUT',
      'UND_ERR_CONNECT_TIMEOUT',
      'UND_ERR_HEADERS_TIMEOUT',
      'UND_ERR_BODY_TIMEOUT',
      'TimeoutError',
      'AbortError',
    ];
    const NETWORK_ERRNOS = [
      'ECONNRESET',
      'ECONNREFUSED',
      'EPIPE',
      'EAI_AGAIN',
      'ENOTFOUND',
      'UND_ERR_SOCKET',
    ];
    const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
    const anyInput = fc.record({
      venue: maybe(fc.constantFrom(BINANCE, 'paper', 'okx', 'bybit')),
      httpStatus: maybe(
        fc.oneof(
          fc.constantFrom(400, 401, 403, 404, 408, 409, 418, 429, 500, 502, 503, 504),
          fc.integer({ min: 100, max: 599 }),
        ),
      ),
      code: maybe(
        fc.oneof(
          fc.constantFrom(-1000, -1003, -1006, -1007, -1021, -2010, -2011, -2013, -2019, -4116, -4164, -5022),
          fc.integer({ min: -10_000, max: 10_000 }),
          fc.integer({ min: -6_000, max: -1_000 }).map(String),
          fc.string({ minLength: 1 }),
        ),
      ),
      message: maybe(
        fc.oneof(
          fc.constantFrom(
            UNKNOWN_ERROR_503,
            'Service Unavailable.',
            'Unknown order sent.',
            'Order does not exist.',
            'Margin is insufficient.',
            'Filter failure: LOT_SIZE',
            'Way too many requests; IP banned until 1700000300000.',
          ),
          fc.string(),
        ),
      ),
      errno: maybe(
        fc.oneof(fc.constantFrom(...TIMEOUT_ERRNOS, ...NETWORK_ERRNOS), fc.string({ minLength: 1 })),
      ),
      context: fc.constantFrom('create', 'cancel', 'query', 'replace', 'any'),
      retryAfter: maybe(fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e15, noNaN: true }), fc.string())),
      now: maybe(fc.integer({ min: 0, max: 4_000_000_000_000 })),
    });

    it('always answers with a well-formed verdict (property)', () => {
      fc.assert(
        fc.property(anyInput, (input) => {
          const verdict = classifyOrderError(input);
          expect(orderErrorVerdictSchema.safeParse(verdict).success).toBe(true);
        }),
        { numRuns: 3000 },
      );
    });

    it('never calls a write-context timeout or network error fatal, and always looks up first (property)', () => {
      const timeoutOrNetwork = fc.oneof(
        fc.constantFrom(...TIMEOUT_ERRNOS, ...NETWORK_ERRNOS).map((errno) => ({ errno })),
        fc.constantFrom(408, 504).map((httpStatus) => ({ httpStatus, errno: undefined })),
      );
      const writeTimeout = fc
        .tuple(anyInput, timeoutOrNetwork)
        .map(([input, patch]) => ({ ...input, ...patch }));
      fc.assert(
        fc.property(
          writeTimeout,
          fc.constantFrom('create', 'cancel', 'replace', 'any' as const),
          (input, context) => {
            const verdict = classifyOrderError({ ...input, context });
            expect(verdict.policy).not.toBe('fatal');
            expect(verdict.lookupFirst).toBe(true);
          },
        ),
        { numRuns: 3000 },
      );
    });

    it('lets a timeout on a read be retried without a lookup (property)', () => {
      fc.assert(
        fc.property(anyInput, fc.constantFrom(...TIMEOUT_ERRNOS), (input, errno) => {
          expect(classifyOrderError({ ...input, errno, context: 'query' })).toMatchObject({
            policy: 'retryable',
            lookupFirst: false,
          });
        }),
      );
    });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/domain/errors.js';
import {
  CLIENT_ORDER_ID_HASH_LENGTH,
  RESERVED_CLIENT_ORDER_ID_PREFIXES,
  clientOrderIdFor,
  clientOrderIdRuleFor,
  eventIdFor,
  fnv1a64,
  hash128,
  isExchangeInitiatedClientOrderId,
  isVenueSafeClientOrderId,
  kindOfClientOrderId,
  newCorrelationId,
  toBase62,
} from '../../src/domain/ids.js';

const kinds = ['ENTRY', 'TP', 'SL', 'EXIT'] as const;
const venues = ['binanceusdm', 'paper', 'okx', 'bybit', 'some-new-venue'];
// The venues' own published rules, written out independently of ids.ts.
const BINANCE_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const SAFE_DEFAULT_ID = /^[A-Za-z0-9]{1,32}$/;

const idInput = fc.record({
  venue: fc.oneof(fc.constantFrom(...venues), fc.string({ minLength: 1, maxLength: 20 })),
  kind: fc.constantFrom(...kinds),
  correlationId: fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' }),
  attempt: fc.nat({ max: 1_000_000 }),
  variant: fc.nat({ max: 1_000_000 }),
  salt: fc.nat({ max: 1_000 }),
});

type IdInput = typeof idInput extends fc.Arbitrary<infer T> ? T : never;

/** A small seeded generator (mulberry32), so a test's random bytes repeat. */
function seededBytes(seed: number): (size: number) => Uint8Array {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return (size) => Uint8Array.from({ length: size }, () => next() & 0xff);
}

describe('clientOrderIdFor', () => {
  it('starts with the kind prefix and fits Binance rules', () => {
    const ids = kinds.map((kind) => clientOrderIdFor({ venue: 'binanceusdm', kind, correlationId: 'abc' }));
    expect(ids.map((id) => id.slice(0, 3))).toEqual(['EN-', 'TP-', 'SL-', 'EX-']);
    for (const id of ids) {
      expect(id).toMatch(BINANCE_ID);
      expect(id).toHaveLength(3 + CLIENT_ORDER_ID_HASH_LENGTH);
    }
  });

  it('gives the paper venue the same rules as Binance, and unknown venues letters and digits only', () => {
    expect(clientOrderIdRuleFor('paper')).toEqual(clientOrderIdRuleFor('binanceusdm'));
    const id = clientOrderIdFor({ venue: 'okx', kind: 'SL', correlationId: 'abc' });
    expect(id).toMatch(SAFE_DEFAULT_ID);
    expect(id.startsWith('SL')).toBe(true);
  });

  it('is deterministic: the same inputs give the same id', () => {
    const input = {
      venue: 'binanceusdm',
      kind: 'TP',
      correlationId: 'V1StGXR8Z5jdHi6BmyT9q',
      variant: 2,
    } as const;
    expect(clientOrderIdFor(input)).toBe(clientOrderIdFor({ ...input }));
  });

  it('keeps ids stable across releases (regression: a restart must find its own orders by id)', () => {
    expect(
      clientOrderIdFor({ venue: 'binanceusdm', kind: 'ENTRY', correlationId: 'V1StGXR8Z5jdHi6BmyT9q' }),
    ).toBe(GOLDEN_ENTRY_ID);
  });

  it('gives every attempt, variant and salt its own id of the same length', () => {
    const base = { venue: 'binanceusdm', kind: 'ENTRY', correlationId: 'c-1' } as const;
    const ids = [
      clientOrderIdFor(base),
      clientOrderIdFor({ ...base, attempt: 1 }),
      clientOrderIdFor({ ...base, variant: 1 }),
      clientOrderIdFor({ ...base, salt: 1 }),
      clientOrderIdFor({ ...base, attempt: 1, variant: 1 }),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.length))).toEqual(new Set([ids[0]?.length]));
  });

  it('finds no rule on Object.prototype for a venue named like one of its keys (regression)', () => {
    for (const venue of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(clientOrderIdFor({ venue, kind: 'ENTRY', correlationId: 'c' })).toMatch(SAFE_DEFAULT_ID);
    }
  });

  it('never starts like an order Binance placed itself', () => {
    fc.assert(
      fc.property(idInput, (input) => {
        const id = clientOrderIdFor(input);
        expect(RESERVED_CLIENT_ORDER_ID_PREFIXES.some((prefix) => id.startsWith(prefix))).toBe(false);
        expect(isExchangeInitiatedClientOrderId(id)).toBe(false);
      }),
    );
  });

  it('always matches the venue charset and length, for every venue and input (property)', () => {
    fc.assert(
      fc.property(idInput, (input) => {
        const id = clientOrderIdFor(input);
        const binanceLike = input.venue === 'binanceusdm' || input.venue === 'paper';
        expect(id).toMatch(binanceLike ? BINANCE_ID : SAFE_DEFAULT_ID);
        expect(isVenueSafeClientOrderId(input.venue, id)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('never grows across retry and replace variants (property)', () => {
    fc.assert(
      fc.property(idInput, (input) => {
        const first = clientOrderIdFor({
          venue: input.venue,
          kind: input.kind,
          correlationId: input.correlationId,
        });
        expect(clientOrderIdFor(input).length).toBeLessThanOrEqual(first.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('gives distinct inputs distinct ids across a large sample (property)', () => {
    const key = (input: IdInput) =>
      JSON.stringify([
        input.venue,
        input.kind,
        input.correlationId,
        input.attempt,
        input.variant,
        input.salt,
      ]);
    fc.assert(
      fc.property(fc.uniqueArray(idInput, { minLength: 500, maxLength: 2000, selector: key }), (inputs) => {
        const ids = new Set(inputs.map((input) => clientOrderIdFor(input)));
        expect(ids.size).toBe(inputs.length);
      }),
      { numRuns: 20 },
    );
  });

  it('tells which kind an id of keel was made for, and nothing for foreign ids', () => {
    for (const kind of kinds) {
      for (const venue of ['binanceusdm', 'okx']) {
        expect(kindOfClientOrderId(clientOrderIdFor({ venue, kind, correlationId: 'x' }))).toBe(kind);
      }
    }
    expect(kindOfClientOrderId('autoclose-1700000000000')).toBeUndefined();
    expect(kindOfClientOrderId('web_abc123')).toBeUndefined();
  });

  it('recognises orders the exchange placed on its own', () => {
    expect(isExchangeInitiatedClientOrderId('autoclose-1700000000000')).toBe(true);
    expect(isExchangeInitiatedClientOrderId('adl_autoclose')).toBe(true);
    expect(isExchangeInitiatedClientOrderId('settlement_autoclose-BTCUSDT')).toBe(true);
    expect(isExchangeInitiatedClientOrderId('x-autoclose-1')).toBe(false);
  });

  it.each([
    ['a negative attempt', { venue: 'paper', kind: 'ENTRY', correlationId: 'c', attempt: -1 }, 'attempt'],
    ['a fractional variant', { venue: 'paper', kind: 'ENTRY', correlationId: 'c', variant: 0.5 }, 'variant'],
    ['an unknown kind', { venue: 'paper', kind: 'HEDGE', correlationId: 'c' }, 'kind'],
    ['an empty correlation id', { venue: 'paper', kind: 'ENTRY', correlationId: '' }, 'correlationId'],
  ])('refuses %s with a BadInputError naming the field', (_name, input, path) => {
    expect(() => clientOrderIdFor(input as never)).toThrow(BadInputError);
    try {
      clientOrderIdFor(input as never);
    } catch (error) {
      expect((error as BadInputError).issues.map((issue) => issue.path)).toContain(path);
    }
  });
});

describe('the hash under the ids', () => {
  it('is FNV-1a 64 (published test vectors)', () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    expect(fnv1a64(bytes(''))).toBe(0xcbf29ce484222325n);
    expect(fnv1a64(bytes('a'))).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64(bytes('foobar'))).toBe(0x85944171f73967e8n);
  });

  it('spreads 128 bits over both halves', () => {
    const digest = hash128('keel');
    expect(digest >> 64n).not.toBe(0n);
    expect(digest & ((1n << 64n) - 1n)).not.toBe(digest >> 64n);
    expect(digest).toBeLessThan(1n << 128n);
  });

  it('encodes base62 with a fixed width', () => {
    expect(toBase62(0n, 4)).toBe('0000');
    expect(toBase62(61n, 2)).toBe('0z');
    expect(toBase62(62n, 2)).toBe('10');
    expect(toBase62((1n << 128n) - 1n, 22)).toHaveLength(22);
    expect(() => toBase62(62n ** 3n, 3)).toThrow(RangeError);
  });
});

describe('correlation and event ids', () => {
  it('makes 21-character base62 correlation ids that do not repeat', () => {
    const ids = Array.from({ length: 2000 }, () => newCorrelationId());
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('repeats a correlation id exactly when given the same random source', () => {
    expect(newCorrelationId(seededBytes(7))).toBe(newCorrelationId(seededBytes(7)));
    expect(newCorrelationId(seededBytes(7))).not.toBe(newCorrelationId(seededBytes(8)));
  });

  it('derives event ids deterministically, sorting in sequence order', () => {
    expect(eventIdFor('cid', 3)).toBe(eventIdFor('cid', 3));
    const ids = [10, 2, 100, 1].map((seq) => eventIdFor('cid', seq));
    expect([...ids].sort()).toEqual([1, 2, 10, 100].map((seq) => eventIdFor('cid', seq)));
  });

  it('refuses a negative sequence number', () => {
    expect(() => eventIdFor('cid', -1)).toThrow(BadInputError);
  });
});

// Computed once from the algorithm and pinned: if this changes, every live order's id changes.
const GOLDEN_ENTRY_ID = 'EN-36PGc2LR5SBJWoA8FKavVB';

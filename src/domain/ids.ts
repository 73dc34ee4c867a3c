/**
 * Ids: correlation ids (random, one per intent), event ids and clientOrderIds (deterministic).
 * Invariants (invariant 5): a clientOrderId is a pure function of its inputs, matches the
 * venue's charset and length, has the same length for every attempt, variant and salt of
 * an intent, starts with its kind prefix, and can never look like a venue-reserved id.
 */
import { customAlphabet, customRandom } from 'nanoid';
import { z } from 'zod';
import { intentKindSchema, type IntentKind } from './intent.schema.js';
import { parseOrThrow } from './parse.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** How a venue constrains clientOrderIds. */
export interface ClientOrderIdRule {
  maxLength: number;
  pattern: RegExp;
  /** Between the kind prefix and the hash; empty where the venue allows letters and digits only. */
  separator: '-' | '';
}

// Binance USDⓈ-M: newClientOrderId must match ^[.A-Z:/a-z0-9_-]{1,36}$ (clientAlgoId too).
// The paper venue answers like Binance, so it obeys the same rule.
const BINANCE_RULE: ClientOrderIdRule = {
  maxLength: 36,
  pattern: /^[.A-Z:/a-z0-9_-]{1,36}$/,
  separator: '-',
};

/**
 * For venues keel has no table for: letters and digits only, at most 32 characters, which
 * every venue we know of accepts (OKX allows no punctuation; Hummingbot caps ids at 32).
 */
export const DEFAULT_CLIENT_ORDER_ID_RULE: ClientOrderIdRule = {
  maxLength: 32,
  pattern: /^[A-Za-z0-9]{1,32}$/,
  separator: '',
};

// A Map, not an object literal: a venue named 'constructor' must not find Object's prototype.
const RULES: ReadonlyMap<string, ClientOrderIdRule> = new Map([
  ['binanceusdm', BINANCE_RULE],
  ['paper', BINANCE_RULE],
]);

export function clientOrderIdRuleFor(venue: string): ClientOrderIdRule {
  return RULES.get(venue) ?? DEFAULT_CLIENT_ORDER_ID_RULE;
}

/** Two letters per kind, so a person reading a venue's order list sees what each order is for. */
export const KIND_PREFIX: Readonly<Record<IntentKind, string>> = {
  ENTRY: 'EN',
  TP: 'TP',
  SL: 'SL',
  EXIT: 'EX',
};

/**
 * Prefixes Binance gives orders it places itself (liquidation, ADL, delisting settlement).
 * Keel's ids start with a kind prefix, so they can never be mistaken for these.
 */
export const RESERVED_CLIENT_ORDER_ID_PREFIXES = [
  'autoclose-',
  'adl_autoclose',
  'settlement_autoclose-',
] as const;

/** True for an order the exchange placed on its own (liquidation, ADL, settlement). */
export function isExchangeInitiatedClientOrderId(clientOrderId: string): boolean {
  return RESERVED_CLIENT_ORDER_ID_PREFIXES.some((prefix) => clientOrderId.startsWith(prefix));
}

/**
 * Hash characters after the prefix: 22 base62 characters hold the full 128 hash bits
 * (62^22 > 2^128). Every id is therefore 24 or 25 characters whatever the attempt, variant or
 * salt, inside both the 32-character default and Binance's 36.
 *
 * Collisions: two different inputs share an id with probability about 2^-128; across
 * n ids of one account the birthday bound is n²/2^129, about 1.5e-21 for a billion ids. A
 * venue answering "duplicate" (-4116) for a different intent is therefore almost surely a
 * re-send of our own order; if a caller proves otherwise, it bumps `salt` to derive the next id.
 */
export const CLIENT_ORDER_ID_HASH_LENGTH = 22;

const clientOrderIdInputSchema = z.strictObject({
  venue: z.string().min(1),
  kind: intentKindSchema,
  correlationId: z.string().min(1),
  /** A send of the same order that needs an id of its own (the retry policy decides); 0 first. */
  attempt: z.number().int().nonnegative().default(0),
  /** The replace generation: 0 for the original order, 1 for its first replacement, … */
  variant: z.number().int().nonnegative().default(0),
  /** Bumped only when the venue reports a collision with an order of a different intent. */
  salt: z.number().int().nonnegative().default(0),
});
export type ClientOrderIdInput = z.input<typeof clientOrderIdInputSchema>;

/**
 * The clientOrderId of one order of one intent.
 *
 * @example
 * clientOrderIdFor({ venue: 'binanceusdm', kind: 'SL', correlationId: cid });            // 'SL-…'
 * clientOrderIdFor({ venue: 'binanceusdm', kind: 'SL', correlationId: cid, variant: 1 }); // same length
 */
export function clientOrderIdFor(input: ClientOrderIdInput): string {
  const { venue, kind, correlationId, attempt, variant, salt } = parseOrThrow(
    clientOrderIdInputSchema,
    input,
    'bad clientOrderId input',
  );
  const rule = clientOrderIdRuleFor(venue);
  const digest = hash128(JSON.stringify([venue, kind, correlationId, attempt, variant, salt]));
  return `${KIND_PREFIX[kind]}${rule.separator}${toBase62(digest, CLIENT_ORDER_ID_HASH_LENGTH)}`;
}

/** True when `clientOrderId` is acceptable to `venue` (charset and length). */
export function isVenueSafeClientOrderId(venue: string, clientOrderId: string): boolean {
  const rule = clientOrderIdRuleFor(venue);
  return clientOrderId.length <= rule.maxLength && rule.pattern.test(clientOrderId);
}

/** The kind of an id keel made, or undefined for anyone else's (manual, exchange, other bots). */
export function kindOfClientOrderId(clientOrderId: string): IntentKind | undefined {
  const match = /^(EN|TP|SL|EX)-?([0-9A-Za-z]{22})$/.exec(clientOrderId);
  if (!match) return undefined;
  const prefix = match[1];
  return intentKindSchema.options.find((kind) => KIND_PREFIX[kind] === prefix);
}

const CORRELATION_ID_LENGTH = 21;

/**
 * A new correlation id: 21 base62 characters (about 125 random bits), safe in URLs, logs
 * and any venue's id charset. `random` replaces the secure source in tests; it must return
 * varied bytes (nanoid discards bytes outside the alphabet and asks again).
 *
 * @example
 * const correlationId = newCorrelationId();
 */
export function newCorrelationId(random?: (bytes: number) => Uint8Array): string {
  return random ? customRandom(BASE62, CORRELATION_ID_LENGTH, random)() : secureCorrelationId();
}

const secureCorrelationId = customAlphabet(BASE62, CORRELATION_ID_LENGTH);

const eventIdInputSchema = z.object({
  correlationId: z.string().min(1),
  seq: z.number().int().nonnegative(),
});

/**
 * The id of the `seq`-th event of an intent; zero-padded so ids sort in event order.
 *
 * @example
 * eventIdFor('V1StGXR8Z5jdHi6BmyT9q', 3); // 'V1StGXR8Z5jdHi6BmyT9q.000003'
 */
export function eventIdFor(correlationId: string, seq: number): string {
  // Called for every journal event: the schema is built once, and only bad input pays for parsing.
  if (correlationId.length === 0 || !Number.isInteger(seq) || seq < 0) {
    parseOrThrow(eventIdInputSchema, { correlationId, seq }, 'bad event id input');
  }
  return `${correlationId}.${String(seq).padStart(6, '0')}`;
}

// FNV-1a 64 (public domain, Fowler–Noll–Vo) in two lanes with different starting states,
// each finished with MurmurHash3's fmix64 so every output bit depends on every input bit.
const MASK64 = (1n << 64n) - 1n;
const FNV_PRIME = 0x100000001b3n;
const FNV_OFFSET = 0xcbf29ce484222325n;
const LANE_B_OFFSET = 0x84222325cbf29ce4n;

/** FNV-1a 64 of `bytes`, from `offset` (the standard offset basis unless a second lane is wanted). */
export function fnv1a64(bytes: Uint8Array, offset: bigint = FNV_OFFSET): bigint {
  let hash = offset;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK64;
  return hash;
}

function fmix64(value: bigint): bigint {
  let k = value;
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK64;
  k ^= k >> 33n;
  return k;
}

/** 128 bits of a UTF-8 string; exported for tests of the encoding. */
export function hash128(text: string): bigint {
  const bytes = new TextEncoder().encode(text);
  return (fmix64(fnv1a64(bytes, FNV_OFFSET)) << 64n) | fmix64(fnv1a64(bytes, LANE_B_OFFSET));
}

/** `value` in base62, left-padded with '0' to exactly `length` characters. */
export function toBase62(value: bigint, length: number): string {
  let rest = value;
  let out = '';
  while (rest > 0n) {
    out = BASE62.charAt(Number(rest % 62n)) + out;
    rest /= 62n;
  }
  if (out.length > length) throw new RangeError(`${value} needs more than ${length} base62 characters`);
  return out.padStart(length, '0');
}

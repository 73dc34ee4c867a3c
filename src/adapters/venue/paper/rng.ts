/**
 * The paper venue's only source of randomness: mulberry32, a small well-known 32-bit PRNG.
 * Invariants: the whole generator is one uint32 of state, so it persists with the venue and a
 * reopened venue continues the same sequence; the same seed always yields the same numbers.
 */

export interface SeededRandom {
  /** A number in [0, 1). */
  next(): number;
  /** The generator's state, to persist and later pass back as a seed. */
  state(): number;
}

/** A mulberry32 generator starting from `seed` (any integer; taken modulo 2^32). */
export function seededRandom(seed: number): SeededRandom {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    state: () => a,
  };
}

/** A second, independent stream from one seed, so fault dice never shift the price walk. */
export function deriveSeed(seed: number, stream: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(stream, 0x85ebca6b)) >>> 0;
}

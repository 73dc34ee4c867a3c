/**
 * Quantity arithmetic for order accounting. Binary floating point turns 0.1 + 0.2 into
 * 0.30000000000000004, so ten fills of 0.1 would never reach 1 and an order would stay
 * PARTIALLY_FILLED forever. Sums are rounded to 15 significant digits, more than any venue's
 * step size carries, so equal quantities compare equal.
 */

/** The largest quantity keel accepts; beyond it sums lose the precision accounting needs. */
export const MAX_QUANTITY = 1e15;

function settle(value: number): number {
  return Number.parseFloat(value.toPrecision(15));
}

export function addQuantities(a: number, b: number): number {
  return settle(a + b);
}

export function subtractQuantities(a: number, b: number): number {
  return settle(a - b);
}

/**
 * Quantity arithmetic for order accounting. Binary floating point turns 0.1 + 0.2 into
 * 0.30000000000000004, so ten fills of 0.1 would never reach 1 and an order would stay
 * PARTIALLY_FILLED forever. Sums are rounded to 15 significant digits of the largest operand,
 * more than any venue's step size carries, so equal quantities compare equal.
 */

/** The largest quantity keel accepts; beyond it sums lose the precision accounting needs. */
export const MAX_QUANTITY = 1e15;

/**
 * Rounds at the 15th significant digit of the largest operand, not of the result: when nearly
 * equal quantities cancel (4.709 - 4.5) the small result still carries the operands' rounding
 * noise, which 15 digits of the result itself would keep (0.209000000000001).
 */
function settle(value: number, a: number, b: number): number {
  const magnitude = Math.max(Math.abs(a), Math.abs(b), Math.abs(value));
  if (value === 0 || !Number.isFinite(value)) return value;
  const decimals = Math.min(100, Math.max(0, 14 - Math.floor(Math.log10(magnitude))));
  const settled = Number.parseFloat(value.toFixed(decimals));
  // toFixed keeps the sign of a value that rounds to zero; flat is spelled 0, never -0.
  return settled === 0 ? 0 : settled;
}

export function addQuantities(a: number, b: number): number {
  return settle(a + b, a, b);
}

export function subtractQuantities(a: number, b: number): number {
  return settle(a - b, a, b);
}

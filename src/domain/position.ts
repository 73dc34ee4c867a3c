/**
 * Positions as keel believes them and as the venue reports them, compared field by field, with
 * the local fill arithmetic and the protective-stop coverage of a position.
 * Invariants: a position is either null (flat) or has a quantity above the tolerance; a
 * comparison is exactly one of confirmed, drift, phantom (local only) or orphan (venue only);
 * coverage is judged against the venue's position, since the venue is authoritative.
 */

export type PositionSide = 'long' | 'short';
export type FillSide = 'buy' | 'sell';

export interface Position {
  /** Absolute size, always above the quantity tolerance. */
  qty: number;
  side: PositionSide;
  entryPrice: number;
}

export interface Fill {
  qty: number;
  side: FillSide;
  price: number;
}

/** Stop orders the venue holds for a position. */
export interface ProtectionEvidence {
  /** Total quantity of reduce-only stop orders. */
  stopQty: number;
  /** Whether a close-position stop exists (it covers any size). */
  closePosition: boolean;
}

export interface PositionTolerance {
  /** Quantities closer than this are equal; a position this small is flat. */
  qtyAbsolute: number;
  /** Entry prices within this fraction of each other are equal (0.0001 = 0.01 %). */
  entryPriceRelative: number;
}

/** NautilusTrader's reconciliation accepts average prices within 0.01 %; keel does the same. */
export const DEFAULT_POSITION_TOLERANCE: PositionTolerance = {
  qtyAbsolute: 1e-9,
  entryPriceRelative: 0.0001,
};

export type DriftField = 'size' | 'side' | 'entry';

export type PositionComparison =
  { kind: 'confirmed' } | { kind: 'drift'; fields: DriftField[] } | { kind: 'phantom' } | { kind: 'orphan' };

/** Null for a missing or below-tolerance position, so "flat" has one spelling. */
export function normalisePosition(position: Position | null, tolerance: PositionTolerance): Position | null {
  return position === null || position.qty <= tolerance.qtyAbsolute ? null : position;
}

export function comparePosition(
  local: Position | null,
  venue: Position | null,
  tolerance: PositionTolerance = DEFAULT_POSITION_TOLERANCE,
): PositionComparison {
  const mine = normalisePosition(local, tolerance);
  const theirs = normalisePosition(venue, tolerance);
  if (mine === null && theirs === null) return { kind: 'confirmed' };
  if (theirs === null) return { kind: 'phantom' };
  if (mine === null) return { kind: 'orphan' };
  const fields: DriftField[] = [];
  if (mine.side !== theirs.side) fields.push('side');
  if (Math.abs(mine.qty - theirs.qty) > tolerance.qtyAbsolute) fields.push('size');
  const reference = Math.max(Math.abs(theirs.entryPrice), Number.MIN_VALUE);
  if (Math.abs(mine.entryPrice - theirs.entryPrice) / reference > tolerance.entryPriceRelative)
    fields.push('entry');
  return fields.length === 0 ? { kind: 'confirmed' } : { kind: 'drift', fields };
}

const signedQty = (position: Position | null): number =>
  position === null ? 0 : position.side === 'long' ? position.qty : -position.qty;

/**
 * The position after a local fill: adding to a position averages the entry price, reducing keeps
 * it, and crossing through flat opens the remainder at the fill price.
 */
export function applyFill(
  position: Position | null,
  fill: Fill,
  tolerance: PositionTolerance = DEFAULT_POSITION_TOLERANCE,
): Position | null {
  const before = signedQty(position);
  const delta = fill.side === 'buy' ? fill.qty : -fill.qty;
  const after = before + delta;
  if (Math.abs(after) <= tolerance.qtyAbsolute) return null;
  const side: PositionSide = after > 0 ? 'long' : 'short';
  let entryPrice: number;
  if (position === null || Math.sign(after) !== Math.sign(before)) entryPrice = fill.price;
  else if (Math.abs(after) > Math.abs(before))
    entryPrice = (position.entryPrice * Math.abs(before) + fill.price * fill.qty) / Math.abs(after);
  else entryPrice = position.entryPrice;
  return { qty: Math.abs(after), side, entryPrice };
}

export type ProtectionCoverage = 'covered' | 'under-covered' | 'unprotected';

/** Coverage of the venue's position by its stops; a flat position needs no stop. */
export function protectionCoverage(
  venue: Position | null,
  protection: ProtectionEvidence,
  tolerance: PositionTolerance = DEFAULT_POSITION_TOLERANCE,
): ProtectionCoverage {
  const position = normalisePosition(venue, tolerance);
  if (position === null || protection.closePosition) return 'covered';
  if (protection.stopQty >= position.qty - tolerance.qtyAbsolute) return 'covered';
  return protection.stopQty > tolerance.qtyAbsolute ? 'under-covered' : 'unprotected';
}

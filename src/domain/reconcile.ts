/**
 * Reconcile arithmetic: the venue's positions against keel's local beliefs, symbol by symbol,
 * the first-seen / last-seen bookkeeping of each unresolved mismatch, and the belief debt it adds
 * up to (reference 004 §3–4).
 * Invariants: every symbol known to either side lands in exactly one of confirmed, drift, phantom
 * or orphan; a mismatch keeps its first-seen time until a comparison confirms the symbol; debt age
 * is the age of the oldest unresolved mismatch and debt breadth the number of mismatched symbols.
 */
import type { BeliefDebt } from './belief.js';
import {
  DEFAULT_POSITION_TOLERANCE,
  comparePosition,
  type DriftField,
  type Position,
  type PositionComparison,
  type PositionSide,
  type PositionTolerance,
  type ProtectionEvidence,
} from './position.js';

/** One position as the venue reports it. */
export interface VenuePositionReport {
  symbol: string;
  qty: number;
  side: PositionSide;
  entryPrice: number;
}

/** One open order as the venue reports it; only stops count as protection. */
export interface VenueOpenOrder {
  symbol: string;
  clientOrderId: string;
  qty: number;
  reduceOnly: boolean;
  closePosition: boolean;
  /** A stop-market or stop-limit order (the kind that protects a position). */
  isStop: boolean;
}

export interface ReconcileDiff {
  confirmed: string[];
  drift: Array<{ symbol: string; fields: DriftField[] }>;
  phantom: string[];
  orphan: string[];
}

export type PositionMap = Record<string, Position>;

export function positionMapOf(reports: readonly VenuePositionReport[]): PositionMap {
  const map: PositionMap = {};
  for (const report of reports)
    map[report.symbol] = { qty: report.qty, side: report.side, entryPrice: report.entryPrice };
  return map;
}

/** Compares every symbol either side knows; symbols come out sorted, so diffs are deterministic. */
export function diffPositions(
  venue: PositionMap,
  local: PositionMap,
  tolerance: PositionTolerance = DEFAULT_POSITION_TOLERANCE,
): ReconcileDiff {
  const diff: ReconcileDiff = { confirmed: [], drift: [], phantom: [], orphan: [] };
  const symbols = [...new Set([...Object.keys(venue), ...Object.keys(local)])].sort();
  for (const symbol of symbols) {
    const comparison = comparePosition(local[symbol] ?? null, venue[symbol] ?? null, tolerance);
    if (comparison.kind === 'drift') diff.drift.push({ symbol, fields: comparison.fields });
    else diff[comparison.kind].push(symbol);
  }
  return diff;
}

export function mismatchedSymbols(diff: ReconcileDiff): string[] {
  return [...diff.drift.map((entry) => entry.symbol), ...diff.phantom, ...diff.orphan].sort();
}

/** Reduce-only or close-position stops per symbol, summed. */
export function protectionBySymbol(
  openOrders: readonly VenueOpenOrder[],
): Record<string, ProtectionEvidence> {
  const protection: Record<string, ProtectionEvidence> = {};
  for (const order of openOrders) {
    if (!order.isStop || !(order.reduceOnly || order.closePosition)) continue;
    const current = protection[order.symbol] ?? { stopQty: 0, closePosition: false };
    protection[order.symbol] = {
      stopQty: current.stopQty + (order.closePosition ? 0 : order.qty),
      closePosition: current.closePosition || order.closePosition,
    };
  }
  return protection;
}

/** When an unresolved mismatch was first and last seen. */
export interface MismatchSeen {
  firstSeenAt: number;
  lastSeenAt: number;
}

/** A symbol's mismatch after a comparison at `now`: kept while unresolved, dropped once confirmed. */
export function trackMismatch(
  previous: MismatchSeen | null,
  comparison: PositionComparison,
  now: number,
): MismatchSeen | null {
  if (comparison.kind === 'confirmed') return null;
  return { firstSeenAt: previous?.firstSeenAt ?? now, lastSeenAt: now };
}

/** Per-symbol bookkeeping after a full comparison: mismatched symbols kept or started, others dropped. */
export function trackMismatches(
  previous: Readonly<Record<string, MismatchSeen>>,
  mismatched: readonly string[],
  now: number,
): Record<string, MismatchSeen> {
  const next: Record<string, MismatchSeen> = {};
  for (const symbol of mismatched) {
    next[symbol] = { firstSeenAt: previous[symbol]?.firstSeenAt ?? now, lastSeenAt: now };
  }
  return next;
}

/** Belief debt at `now`: the oldest unresolved mismatch's age, how many symbols, and the streak. */
export function beliefDebtOf(
  mismatches: Readonly<Record<string, MismatchSeen>>,
  mismatchStreak: number,
  now: number,
): BeliefDebt {
  const seen = Object.values(mismatches);
  const oldest = seen.reduce((first, entry) => Math.min(first, entry.firstSeenAt), now);
  return { debtSec: Math.max(0, now - oldest) / 1000, debtSymbols: seen.length, mismatchStreak };
}

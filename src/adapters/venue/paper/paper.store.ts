/**
 * The paper venue's own store: one JSON state file in a data dir, so the paper book, positions,
 * ground-truth log and generator state survive a restart of keel. Invariants: every write is
 * atomic (temp file, fsync, rename), so a crash leaves the old or the new state, never half.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { VenueFill, VenueOrder } from '../../../ports/venue.port.js';
import type { PaperPosition } from './matching.js';
import { parsePaperState } from './paper.schema.js';

/** One line of the ground truth: what the venue really did, in order. */
export type GroundTruthEntry =
  | { kind: 'order.accepted'; clientOrderId: string; venueOrderId: string; symbol: string; ts: number }
  | { kind: 'order.filled'; fill: VenueFill }
  | {
      kind: 'order.triggered';
      clientOrderId: string;
      venueOrderId: string;
      triggeredOrderId: string;
      ts: number;
    }
  | { kind: 'order.canceled' | 'order.expired'; clientOrderId: string; venueOrderId: string; ts: number }
  | {
      kind: 'order.replaced';
      clientOrderId: string;
      venueOrderId: string;
      qty: number;
      price: number;
      ts: number;
    };

/** Everything the paper venue holds; plain JSON. */
export interface PaperState {
  version: 1;
  seq: number;
  lastStepAt: number;
  priceRandom: number;
  faultRandom: number;
  prices: Record<string, number>;
  /** Every order ever accepted, newest last; a reused clientOrderId adds a new entry. */
  orders: VenueOrder[];
  positions: Record<string, PaperPosition>;
  fills: VenueFill[];
  log: GroundTruthEntry[];
}

export const STATE_FILE = 'paper-venue.json';

/** Reads the saved state, or undefined when the data dir has none yet. */
export function readPaperState(dataDir: string): PaperState | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, STATE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parsePaperState(JSON.parse(text) as unknown, join(dataDir, STATE_FILE));
}

/** Writes the state atomically: a reader sees the previous file until the rename lands. */
export function writePaperState(dataDir: string, state: PaperState): void {
  mkdirSync(dataDir, { recursive: true });
  const target = join(dataDir, STATE_FILE);
  const temp = `${target}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, target);
  // The rename itself is durable only once the directory entry is flushed.
  const dir = openSync(dataDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

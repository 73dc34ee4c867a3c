/**
 * The calibration the regression gate divides by: a fixed, single-threaded JavaScript workload
 * (JSON round trips, short-lived objects, Map churn, a sort, a hash) timed in process CPU, so that a
 * figure divided by it says how many "machine units" keel spends, whatever the machine's speed.
 * Invariants: the workload is the same in every run and imports nothing from keel or its
 * dependencies (a slower keel, or a slower zod, xstate or SQLite under keel, must never slow the
 * calibration and hide itself); passes after the first are measured and their median is reported.
 */
import { createHash } from 'node:crypto';
import { median } from './support.js';

export interface CalibrationResult {
  /** Median process CPU (user + system) of one pass. */
  cpuMs: number;
  passCpuMs: number[];
  iterations: number;
}

interface Row {
  intentId: string;
  symbol: string;
  side: 'buy' | 'sell';
  qty: number;
  price: number;
  tags: string[];
  ts: number;
}

/** One pass of the workload; returns a checksum so the engine cannot drop the work as unused. */
function pass(iterations: number): number {
  const window = new Map<string, Row>();
  let checksum = 0;
  for (let index = 0; index < iterations; index += 1) {
    const row: Row = {
      intentId: `calibration-${index}`,
      symbol: index % 3 === 0 ? 'ETHUSDT' : 'BTCUSDT',
      side: index % 2 === 0 ? 'buy' : 'sell',
      qty: 0.001 * ((index % 7) + 1),
      price: 50_000 + (index % 101),
      tags: ['calibration', `slot-${index % 16}`],
      ts: index,
    };
    const text = JSON.stringify(row);
    const copy = JSON.parse(text) as Row;
    window.set(copy.intentId, copy);
    if (index >= 1_000) window.delete(`calibration-${index - 1_000}`);
    checksum += text.length + (window.get(`calibration-${index >> 1}`)?.qty ?? 0);
  }
  const sorted = [...window.values()].sort((a, b) => a.price - b.price || a.ts - b.ts);
  const digest = createHash('sha256').update(JSON.stringify(sorted)).digest();
  return checksum + (digest[0] ?? 0);
}

export function runCalibration(options: { passes: number; iterations: number }): CalibrationResult {
  // The first pass compiles the workload; it is not measured.
  let checksum = pass(options.iterations);
  const passCpuMs: number[] = [];
  for (let index = 0; index < options.passes; index += 1) {
    const start = process.cpuUsage();
    checksum += pass(options.iterations);
    const used = process.cpuUsage(start);
    passCpuMs.push((used.user + used.system) / 1000);
  }
  if (!Number.isFinite(checksum)) throw new Error('the calibration workload computed nothing');
  return { cpuMs: median(passCpuMs), passCpuMs, iterations: options.iterations };
}

/**
 * The pipeline health monitor: slow stages are reported once per level change, a venue with
 * nothing owed is not silent, an order left waiting for its acknowledgement is, a reconcile loop
 * that stops finishing cycles is, and a stage recovers once its slow samples leave the window.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HEALTH_THRESHOLDS,
  createHealthMonitor,
  type HealthReport,
} from '../../src/daemon/health.js';

function monitor(cycles: number | null = 0) {
  let now = 1_000_000;
  let unacked: number | null = null;
  let cycleCount = cycles;
  const reports: HealthReport[] = [];
  const health = createHealthMonitor(DEFAULT_HEALTH_THRESHOLDS, {
    now: () => now,
    oldestUnacknowledgedAt: () => unacked,
    reconcileCycles: () => cycleCount,
    report: (report) => reports.push(report),
  });
  return {
    health,
    reports,
    advance: (ms: number) => (now += ms),
    now: () => now,
    sendUnacked: (at: number | null) => (unacked = at),
    cycle: () => (cycleCount = (cycleCount ?? 0) + 1),
  };
}

describe('the pipeline health monitor', () => {
  it('reports a slow stage once per level change, and its recovery once the slow samples age out', () => {
    const { health, reports, advance } = monitor(null);
    health.sample('ingress', 2);
    health.check();
    expect(reports).toEqual([]);
    health.sample('ingress', 120);
    health.check();
    health.check();
    expect(reports.map((report) => [report.stage, report.level])).toEqual([['ingress', 'warning']]);
    health.sample('ingress', 900);
    health.check();
    advance(61_000);
    health.check();
    expect(reports.map((report) => [report.stage, report.level])).toEqual([
      ['ingress', 'warning'],
      ['ingress', 'critical'],
      ['ingress', 'ok'],
    ]);
  });

  it('does not call a venue with nothing owed silent, but does one that leaves an order unacknowledged', () => {
    const { health, reports, advance, now, sendUnacked } = monitor(null);
    advance(600_000);
    health.check();
    expect(health.levels().venue_ack).toBe('ok');
    sendUnacked(now());
    advance(DEFAULT_HEALTH_THRESHOLDS.venue_ack.warnMs);
    health.check();
    advance(DEFAULT_HEALTH_THRESHOLDS.venue_ack.criticalMs);
    health.check();
    expect(reports.filter((report) => report.stage === 'venue_ack').map((report) => report.level)).toEqual([
      'warning',
      'critical',
    ]);
    expect(reports.at(-1)?.detail).toMatch(/waited/);
    sendUnacked(null);
    health.check();
    expect(health.levels().venue_ack).toBe('ok');
  });

  it('reports a reconcile loop that stops finishing cycles, and stays quiet when the loop is off', () => {
    const running = monitor(0);
    running.advance(10_000);
    running.cycle();
    running.health.check();
    running.advance(DEFAULT_HEALTH_THRESHOLDS.reconcile.warnMs + 1);
    running.health.check();
    expect(running.health.levels().reconcile).toBe('warning');
    running.cycle();
    running.health.check();
    expect(running.health.levels().reconcile).toBe('ok');

    const off = monitor(null);
    off.advance(10 * DEFAULT_HEALTH_THRESHOLDS.reconcile.criticalMs);
    off.health.check();
    expect(off.reports).toEqual([]);
  });
});

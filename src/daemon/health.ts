/**
 * The pipeline health monitor: each stage's latency and activity against thresholds from config,
 * reported as metrics, stream messages and alerts.
 * Invariants: a stage is judged on the slowest of its recent samples (a window, not one sample),
 * and on staleness only where activity is owed — the venue is "silent" only while an order sent
 * to it still awaits its acknowledgement, and the reconcile loop only when it is enabled — so a
 * quiet venue with nothing to do is healthy; a level change is reported once, not every check.
 */
export type HealthLevel = 'ok' | 'warning' | 'critical';

export interface StageThreshold {
  warnMs: number;
  criticalMs: number;
}

export interface HealthThresholds {
  /** Registration to the blockers' verdict. */
  ingress: StageThreshold;
  /** Sent to acknowledged; also how long an order may await its ack before the venue counts as silent. */
  venue_ack: StageThreshold;
  /** Sent to first fill (market orders mostly; resting orders fill when the market says). */
  first_fill: StageThreshold;
  /** Time since the reconcile loop last finished a cycle. */
  reconcile: StageThreshold;
  /** Journal commit latency. */
  journal: StageThreshold;
}

/**
 * Defaults for a process on one machine talking to an exchange over the internet: the blockers
 * answer in milliseconds, an exchange acknowledges within a second or two, a reconcile cycle
 * runs every 10 s (so 30 s without one is a warning), and a commit with fsync takes milliseconds.
 */
export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = {
  ingress: { warnMs: 50, criticalMs: 500 },
  venue_ack: { warnMs: 2_000, criticalMs: 10_000 },
  first_fill: { warnMs: 5_000, criticalMs: 30_000 },
  reconcile: { warnMs: 30_000, criticalMs: 120_000 },
  journal: { warnMs: 100, criticalMs: 1_000 },
};

export type HealthStage = keyof HealthThresholds;

export interface HealthReport {
  stage: HealthStage;
  level: HealthLevel;
  detail: string;
  at: number;
}

export interface HealthMonitorPorts {
  now(): number;
  /** The send time of the oldest order still awaiting its acknowledgement, or null. */
  oldestUnacknowledgedAt(): number | null;
  /** Reconcile cycles run so far; null when the loop is off. */
  reconcileCycles(): number | null;
  report(report: HealthReport): void;
}

export interface HealthMonitor {
  /** One latency sample (ms) for a stage. */
  sample(stage: 'ingress' | 'venue_ack' | 'first_fill' | 'journal', ms: number): void;
  /** Re-judges every stage; call on a timer. */
  check(): void;
  levels(): Record<HealthStage, HealthLevel>;
}

const WINDOW_MS = 60_000;
const MAX_SAMPLES = 256;

const levelOf = (ms: number, threshold: StageThreshold): HealthLevel =>
  ms >= threshold.criticalMs ? 'critical' : ms >= threshold.warnMs ? 'warning' : 'ok';

/**
 * Starts a monitor.
 *
 * @example
 * const health = createHealthMonitor(DEFAULT_HEALTH_THRESHOLDS, { now, oldestUnacknowledgedAt, reconcileCycles, report });
 * setInterval(() => health.check(), 5_000);
 */
export function createHealthMonitor(thresholds: HealthThresholds, ports: HealthMonitorPorts): HealthMonitor {
  const samples = new Map<HealthStage, Array<{ at: number; ms: number }>>();
  const levels: Record<HealthStage, HealthLevel> = {
    ingress: 'ok',
    venue_ack: 'ok',
    first_fill: 'ok',
    reconcile: 'ok',
    journal: 'ok',
  };
  let cycles = ports.reconcileCycles();
  let cycleSeenAt = ports.now();

  function set(stage: HealthStage, level: HealthLevel, detail: string): void {
    if (levels[stage] === level) return;
    levels[stage] = level;
    ports.report({ stage, level, detail, at: ports.now() });
  }

  function slowest(stage: HealthStage, now: number): number | null {
    const recent = (samples.get(stage) ?? []).filter((entry) => now - entry.at <= WINDOW_MS);
    samples.set(stage, recent);
    return recent.length === 0 ? null : Math.max(...recent.map((entry) => entry.ms));
  }

  function check(): void {
    const now = ports.now();
    for (const stage of ['ingress', 'first_fill', 'journal'] as const) {
      const worst = slowest(stage, now);
      set(
        stage,
        worst === null ? 'ok' : levelOf(worst, thresholds[stage]),
        worst === null ? 'no recent samples' : `slowest in the last minute ${worst.toFixed(1)} ms`,
      );
    }
    // The venue: slow acknowledgements, or an order still waiting for one (silence while owed).
    const worstAck = slowest('venue_ack', now) ?? 0;
    const oldest = ports.oldestUnacknowledgedAt();
    const waiting = oldest === null ? 0 : now - oldest;
    const ackMs = Math.max(worstAck, waiting);
    set(
      'venue_ack',
      levelOf(ackMs, thresholds.venue_ack),
      waiting > worstAck
        ? `an order has waited ${waiting} ms for its acknowledgement`
        : `slowest acknowledgement ${worstAck.toFixed(1)} ms`,
    );
    const count = ports.reconcileCycles();
    if (count === null) {
      set('reconcile', 'ok', 'the reconcile loop is off');
    } else {
      if (count !== cycles) {
        cycles = count;
        cycleSeenAt = now;
      }
      const idle = now - cycleSeenAt;
      set('reconcile', levelOf(idle, thresholds.reconcile), `last reconcile cycle finished ${idle} ms ago`);
    }
  }

  return {
    sample(stage, ms) {
      const list = samples.get(stage) ?? [];
      list.push({ at: ports.now(), ms });
      if (list.length > MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES);
      samples.set(stage, list);
    },
    check,
    levels: () => ({ ...levels }),
  };
}

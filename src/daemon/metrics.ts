/**
 * The daemon's Prometheus metrics (prom-client). Every name is defined once, in METRIC, and both
 * the writer (this module) and every reader (tests, the dashboard, alert rules in the README) use
 * that table, so a metric cannot be renamed on one side only (reference 001's lesson).
 * Invariants: counters and latencies come from committed journal events, never from intentions;
 * gauges are read from keel at scrape time, so a scrape shows the state as of that moment; the
 * per-order bookkeeping for latencies is bounded.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Keel } from '../config/create-keel.js';
import { BELIEF_MODES } from '../domain/belief.js';
import type { IntentResult } from '../domain/intent-result.schema.js';
import type { JournalEvent } from '../ports/store.port.js';

/** The one table of metric names. */
export const METRIC = {
  journalEvents: 'keel_journal_events_total',
  intentResults: 'keel_intent_results_total',
  fills: 'keel_fills_total',
  stageLatency: 'keel_stage_latency_seconds',
  journalCommit: 'keel_journal_commit_seconds',
  beliefMode: 'keel_belief_mode',
  beliefDebtScore: 'keel_belief_debt_score',
  beliefDebtSeconds: 'keel_belief_debt_seconds',
  beliefDebtSymbols: 'keel_belief_debt_symbols',
  mismatchStreak: 'keel_reconcile_mismatch_streak',
  beliefConfidence: 'keel_belief_confidence',
  killSwitchTripped: 'keel_kill_switch_tripped',
  liveIntents: 'keel_live_intents',
  parkedIntents: 'keel_parked_intents',
  healthStatus: 'keel_pipeline_stage_status',
  alertsSent: 'keel_alerts_total',
} as const;

/** The latencies keel measures from its journal, as the `stage` label of METRIC.stageLatency. */
export const LATENCY_STAGES = ['ingress', 'venue_ack', 'first_fill'] as const;
export type LatencyStage = (typeof LATENCY_STAGES)[number];

export interface DaemonMetrics {
  readonly registry: Registry;
  observeEvent(event: JournalEvent): void;
  observeResult(result: IntentResult): void;
  observeCommit(seconds: number): void;
  /** Sets a pipeline stage's health: 0 ok, 1 warning, 2 critical. */
  setStageHealth(stage: string, level: 0 | 1 | 2): void;
  countAlert(severity: string): void;
  /** Called back with each latency observed (the health monitor watches them too). */
  onLatency(listener: (stage: LatencyStage, seconds: number) => void): void;
  /** When the oldest order still awaiting its venue acknowledgement was sent (journal time), or null. */
  oldestUnacknowledgedAt(): number | null;
}

/** At most this many orders are followed for latencies at once; the oldest are dropped first. */
const MAX_TRACKED = 50_000;

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Builds the registry for one keel.
 *
 * @example
 * const metrics = createDaemonMetrics(keel);
 * tap.onEvent((event) => metrics.observeEvent(event));
 * reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
 */
export function createDaemonMetrics(keel: Keel): DaemonMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keel_process_' });
  const latencyListeners: Array<(stage: LatencyStage, seconds: number) => void> = [];

  const journalEvents = new Counter({
    name: METRIC.journalEvents,
    help: 'Committed journal events by the stage that decided and the event type.',
    labelNames: ['stage', 'type'] as const,
    registers: [registry],
  });
  const intentResults = new Counter({
    name: METRIC.intentResults,
    help: 'Intent registry changes by status and by the stage that decided.',
    labelNames: ['status', 'stage'] as const,
    registers: [registry],
  });
  const fills = new Counter({
    name: METRIC.fills,
    help: 'Fills applied to intents (each venue trade id once).',
    registers: [registry],
  });
  const stageLatency = new Histogram({
    name: METRIC.stageLatency,
    help: 'Latency per pipeline stage: ingress (registration to verdict), venue_ack (sent to acknowledged), first_fill (sent to first fill).',
    labelNames: ['stage'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const journalCommit = new Histogram({
    name: METRIC.journalCommit,
    help: 'Time from a journal write being issued to its transaction committing (group commit included).',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const healthStatus = new Gauge({
    name: METRIC.healthStatus,
    help: 'Pipeline health per stage: 0 ok, 1 warning, 2 critical.',
    labelNames: ['stage'] as const,
    registers: [registry],
  });
  const alertsSent = new Counter({
    name: METRIC.alertsSent,
    help: 'Alerts raised, by severity (before rate limiting and deduplication).',
    labelNames: ['severity'] as const,
    registers: [registry],
  });

  // Gauges read keel when scraped.
  new Gauge({
    name: METRIC.beliefMode,
    help: 'The belief controller mode: 1 for the current mode, 0 for the others.',
    labelNames: ['mode'] as const,
    registers: [registry],
    collect() {
      const mode = keel.beliefState().mode;
      for (const each of BELIEF_MODES) this.set({ mode: each }, each === mode ? 1 : 0);
    },
  });
  const fromBelief = (name: string, help: string, read: (state: ReturnType<Keel['beliefState']>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(keel.beliefState()));
      },
    });
  fromBelief(METRIC.beliefDebtScore, 'The belief debt score the controller acts on.', (s) => s.debt_score);
  fromBelief(
    METRIC.beliefDebtSeconds,
    'Age of the oldest unresolved mismatch (belief_debt_sec).',
    (s) => s.belief_debt_sec,
  );
  fromBelief(
    METRIC.beliefDebtSymbols,
    'Symbols currently mismatched (belief_debt_symbols).',
    (s) => s.belief_debt_symbols,
  );
  fromBelief(
    METRIC.mismatchStreak,
    'Consecutive mismatching or unfetched reconcile cycles.',
    (s) => s.mismatch_streak,
  );
  fromBelief(
    METRIC.beliefConfidence,
    'belief_confidence: 1 with no debt, towards 0 as debt grows.',
    (s) => s.belief_confidence,
  );
  new Gauge({
    name: METRIC.killSwitchTripped,
    help: 'Whether the kill switch is tripped (1) or armed (0), labelled with the trigger that latched it.',
    labelNames: ['trigger'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const view = keel.killSwitch.view().view;
      this.set({ trigger: view.tripped ? view.trigger : 'none' }, view.tripped ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC.liveIntents,
    help: 'Intents held live (running or parked) by the runtime.',
    registers: [registry],
    collect() {
      this.set(keel.liveCount());
    },
  });
  new Gauge({
    name: METRIC.parkedIntents,
    help: 'Live intents parked as their snapshot.',
    registers: [registry],
    collect() {
      this.set(keel.parkedCount());
    },
  });

  /** Per order: when it was registered and when it was sent, until its first fill. */
  const tracked = new Map<string, { registeredAt: number; sentAt: number | null; acked: boolean }>();

  function latency(stage: LatencyStage, ms: number): void {
    const seconds = Math.max(0, ms) / 1000;
    stageLatency.observe({ stage }, seconds);
    for (const listener of latencyListeners) listener(stage, seconds);
  }

  function observeEvent(event: JournalEvent): void {
    journalEvents.inc({ stage: event.stage, type: event.type });
    const id = event.correlationId;
    if (event.type === 'intent.registered') {
      tracked.set(id, { registeredAt: event.ts, sentAt: null, acked: false });
      if (tracked.size > MAX_TRACKED) {
        const oldest = tracked.keys().next().value;
        if (oldest !== undefined) tracked.delete(oldest);
      }
      return;
    }
    if (event.type === 'venue.order.filled') fills.inc();
    const order = tracked.get(id);
    if (!order) return;
    if (event.type === 'intent.submit') {
      latency('ingress', event.ts - order.registeredAt);
      if (event.to?.includes('sent-to-broker') === true) order.sentAt = event.ts;
      else tracked.delete(id);
      return;
    }
    if (order.sentAt === null) return;
    if (event.type === 'venue.order.accepted' && !order.acked) {
      order.acked = true;
      latency('venue_ack', event.ts - order.sentAt);
    } else if (event.type === 'venue.order.filled') {
      latency('first_fill', event.ts - order.sentAt);
      tracked.delete(id);
    } else if (event.to === 'done' || event.to?.startsWith('closed') === true) {
      tracked.delete(id);
    }
  }

  return {
    registry,
    observeEvent,
    observeResult(result) {
      intentResults.inc({ status: result.status, stage: result.stage });
    },
    observeCommit(seconds) {
      journalCommit.observe(seconds);
    },
    setStageHealth(stage, level) {
      healthStatus.set({ stage }, level);
    },
    countAlert(severity) {
      alertsSent.inc({ severity });
    },
    onLatency(listener) {
      latencyListeners.push(listener);
    },
    oldestUnacknowledgedAt() {
      let oldest: number | null = null;
      for (const order of tracked.values()) {
        if (order.sentAt === null || order.acked) continue;
        if (oldest === null || order.sentAt < oldest) oldest = order.sentAt;
      }
      return oldest;
    },
  };
}

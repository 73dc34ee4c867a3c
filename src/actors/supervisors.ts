/**
 * The supervisors' actor layer: the kill switch and the belief controller as checked root actors,
 * their emitted requests executed here, and the guard view admission reads for every entry.
 * Invariants: every trip and reset is journaled (under `supervisor.kill-switch`) with its trigger,
 * evidence and who reset it, and alerted; a controller in RED whose knobs say `kill_switch_trip`
 * trips the switch (`belief_red`); emitted requests are handled after the send that emitted them,
 * never re-entrantly; time reaches the machines only through `tick(now)`.
 */
import { z } from 'zod';
import type { Anomaly, LifecycleMode } from './checked-actor.js';
import { createSupervisedActor, type ChildSupervision, type SupervisedActor } from './supervised.js';
import { DEFAULT_RESTART_INTENSITY, type RestartIntensity } from '../domain/restart-window.js';
import { openSupervisorJournal, type SupervisorJournal } from './supervisor-journal.js';
import { createReconcileLoop, type ReconcileLoop } from './supervisor-reconcile.js';
import { createPositionBeliefs, type BeliefView, type PositionBeliefs } from './position-beliefs.js';
import type { FillSide, Position, ProtectionEvidence } from '../domain/position.js';
import type { PositionBeliefConfig, positionBeliefMachine } from '../machines/position-belief.machine.js';
import type { reconcileSupervisorMachine } from '../machines/reconcile-supervisor.machine.js';
import { KILL_TRIGGERS, type KillSwitchView, type KillTrigger } from '../domain/admission.js';
import {
  debtScore,
  type BeliefControllerConfig,
  type BeliefDebt,
  type GuardKnobs,
} from '../domain/belief.js';
import { parseOrThrow } from '../domain/parse.js';
import type { PositionMap } from '../domain/reconcile.js';
import {
  beliefControllerMachine,
  type BeliefControllerEmitted,
} from '../machines/belief-controller.machine.js';
import {
  killSwitchMachine,
  killSwitchView,
  type KillSwitchConfig,
  type KillSwitchEmitted,
  type ResetRecord,
  type TripEvidence,
  type TripRecord,
} from '../machines/kill-switch.machine.js';
import type { ClockPort } from '../ports/clock.port.js';
import type { LoggerPort } from '../ports/logger.port.js';
import type { Alert, NotifierPort } from '../ports/notifier.port.js';
import type { StorePort } from '../ports/store.port.js';
import type { VenuePort } from '../ports/venue.port.js';
import type { ReconcileSupervisorConfig } from '../machines/reconcile-supervisor.machine.js';

/** The correlation id every kill-switch trip and reset is journaled under. */
export const KILL_SWITCH_CORRELATION_ID = 'supervisor.kill-switch';
/** The correlation id of the belief controller's `execution.belief_state` events. */
export const BELIEF_CORRELATION_ID = 'supervisor.belief';
/** The correlation id of the reconcile loop's `reconcile.summary` events. */
export const RECONCILE_CORRELATION_ID = 'supervisor.reconcile';
/** The correlation id of supervisor restarts (`supervision.actor.failed`) and give-ups (`supervision.escalated`). */
export const SUPERVISION_CORRELATION_ID = 'supervisor.supervision';

export interface SupervisorPorts {
  store: StorePort;
  clock: ClockPort;
  logger?: LoggerPort;
  notifier?: NotifierPort;
  /** With `localPositions`, runs the reconcile loop against this venue on every tick. */
  venue?: VenuePort;
  /** The runtime's booked positions by symbol (`positions()`): the beliefs' starting point at boot. */
  localPositions?: () => PositionMap;
  /** Each fetched cycle's evidence per symbol, after the beliefs have seen it (the protection manager). */
  onEvidence?: (
    now: number,
    observations: ReadonlyArray<{ symbol: string; venue: Position | null; protection: ProtectionEvidence }>,
  ) => void;
}

export interface SupervisorsConfig {
  /** `strict`: a refused event throws (tests, CI); `lenient`: it is logged and counted. */
  mode: LifecycleMode;
  killSwitch?: Partial<KillSwitchConfig>;
  beliefController?: Partial<BeliefControllerConfig>;
  /** The reconcile supervisor's settings; `false` runs no reconcile loop even with a venue. */
  reconcile?: Partial<ReconcileSupervisorConfig> | false;
  /** Adopt the venue's positions at boot for symbols nothing is booked on (default true). */
  adoptAtBoot?: boolean;
  /** The venue account the position beliefs are kept for (default `main`). */
  account?: string;
  /** Phantom grace and misses, orphan policy, protection-gap TTL, repair cooldown and timeout. */
  positionBelief?: Partial<PositionBeliefConfig>;
  /** Restarts of a crashed supervisor actor allowed within the window before the kill switch trips (default 3 in 60 s). */
  supervision?: RestartIntensity;
  /** Variants of the machines (tests pass ones whose actions throw, to exercise supervision). */
  machines?: {
    killSwitch?: typeof killSwitchMachine;
    beliefController?: typeof beliefControllerMachine;
    reconcileSupervisor?: typeof reconcileSupervisorMachine;
    positionBelief?: typeof positionBeliefMachine;
  };
}

const tripEvidenceSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

export const killSwitchTripSchema = z.strictObject({
  trigger: z.enum(KILL_TRIGGERS as [KillTrigger, ...KillTrigger[]]).default('operator'),
  reason: z.string().min(1),
  /** Who tripped it: an operator's name, or the supervisor that asked. */
  by: z.string().min(1),
  evidence: tripEvidenceSchema.optional(),
});
export type KillSwitchTripInput = z.input<typeof killSwitchTripSchema>;

export const killSwitchResetSchema = z.strictObject({
  by: z.string().min(1),
  reason: z.string().min(1),
});
export type KillSwitchResetInput = z.input<typeof killSwitchResetSchema>;

/** The kill switch as an operator sees it. */
export interface KillSwitchStatus {
  view: KillSwitchView;
  /** The trip that latched the switch; null while armed. */
  trip: TripRecord | null;
  /** Trips received while it was already latched. */
  additionalTrips: TripRecord[];
  /** When policy resets it; null while armed or when an operator must. */
  autoResetAt: number | null;
  lastReset: ResetRecord | null;
}

/** One `execution.belief_state` sample (reference 004 §3). */
export interface BeliefState {
  belief_debt_sec: number;
  belief_debt_symbols: number;
  mismatch_streak: number;
  /** 1 with no debt, falling towards 0 as the debt score grows: `1 / (1 + debt_score)`. */
  belief_confidence: number;
  debt_score: number;
  debt_growth_per_min: number;
  mode: GuardKnobs['mode'];
  knobs: GuardKnobs;
}

export interface Supervisors {
  /** What admission reads for every entry: the kill switch and the controller's knobs. */
  guardView(): { killSwitch: KillSwitchView; knobs: GuardKnobs };
  /** Trips (latches) the kill switch; resolves once the trip is journaled. */
  tripKillSwitch(input: KillSwitchTripInput): Promise<KillSwitchStatus>;
  /** Resets a tripped kill switch (idempotent on an armed one); resolves once journaled. */
  resetKillSwitch(input: KillSwitchResetInput): Promise<KillSwitchStatus>;
  killSwitch(): KillSwitchStatus;
  /** Feeds one belief-debt sample to the controller and journals the resulting belief state. */
  sampleDebt(now: number, debt: BeliefDebt): BeliefState;
  beliefState(): BeliefState;
  /** The one clock seam: `clock.tick` to every supervisor that keeps deadlines. */
  tick(now: number): void;
  /** The reconcile loop's latest numbers; null when no loop runs. */
  reconcileStatus(): {
    cycle: number;
    mismatchStreak: number;
    lastFetchFailure: string | null;
    inFlight: boolean;
  } | null;
  /** Starts a reconcile cycle at once (boot, a stream gap); a no-op during a cycle or without a loop. */
  requestReconcile(): void;
  /** Applies a booked fill to the symbol's position belief. */
  applyFill(symbol: string, fill: { qty: number; side: FillSide; price: number }): void;
  /** Every position belief, by symbol. */
  beliefs(): BeliefView[];
  belief(symbol: string): BeliefView | null;
  /** An operator adopts a frozen orphan position; entries on the symbol are admitted again. */
  adoptOrphan(symbol: string, by: string): Promise<BeliefView>;
  /** Opens a symbol's protection gap at once (a stage-1 stop failed). */
  assertProtectionGap(symbol: string, reason: string): void;
  /** Why entries on a symbol are denied by its belief (frozen orphan, protection gap past TTL), or null. */
  entryBlock(symbol: string): { tag: string; reason: string } | null;
  anomalies(): readonly Anomaly[];
  /** Settles when every journal write and alert started so far has finished. */
  idle(): Promise<void>;
  stop(): void;
}

const STAGE_OF_TRIGGER: Record<KillTrigger, string> = {
  operator: 'operator',
  reconcile_mismatch_streak: 'reconcile',
  belief_red: 'reconcile',
  error_storm: 'router',
  supervision: 'reconcile',
};

const journaledTripSchema = z.object({
  trigger: z.enum(KILL_TRIGGERS as [KillTrigger, ...KillTrigger[]]),
  reason: z.string(),
  by: z.string().nullable().optional(),
  evidence: tripEvidenceSchema.optional(),
});

/** A trip as `kill_switch.tripped` journaled it; null for an entry this version cannot read. */
function tripOfJournal(data: unknown, at: number): TripRecord | null {
  const parsed = journaledTripSchema.safeParse(data);
  if (!parsed.success) return null;
  const trip: TripRecord = { trigger: parsed.data.trigger, reason: parsed.data.reason, at };
  if (parsed.data.by !== undefined && parsed.data.by !== null) trip.by = parsed.data.by;
  if (parsed.data.evidence !== undefined) trip.evidence = parsed.data.evidence;
  return trip;
}

/**
 * Starts the kill switch and the belief controller.
 *
 * @example
 * const supervisors = createSupervisors({ store, clock, notifier }, { mode: 'lenient' });
 * const runtime = createRuntime({ ...ports, guardView: supervisors.guardView, onTick: supervisors.tick }, options);
 * await supervisors.tripKillSwitch({ trigger: 'operator', reason: 'venue incident', by: 'alice' });
 */
export function createSupervisors(ports: SupervisorPorts, config: SupervisorsConfig): Supervisors {
  const { clock, logger } = ports;
  const anomalies: Anomaly[] = [];
  const pending = new Set<Promise<unknown>>();
  const killJournal: SupervisorJournal = openSupervisorJournal(
    ports.store,
    KILL_SWITCH_CORRELATION_ID,
    logger,
  );
  const beliefJournal: SupervisorJournal = openSupervisorJournal(ports.store, BELIEF_CORRELATION_ID, logger);

  const onAnomaly = (anomaly: Anomaly) => {
    anomalies.push(anomaly);
    logger?.warn({ ...anomaly }, 'a supervisor refused an event');
  };
  const onError = (error: unknown) => {
    logger?.error({ err: error }, 'a supervisor actor failed');
  };
  const supervisionJournal: SupervisorJournal = openSupervisorJournal(
    ports.store,
    SUPERVISION_CORRELATION_ID,
    logger,
  );
  const intensity = config.supervision ?? DEFAULT_RESTART_INTENSITY;
  const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

  /**
   * The root's supervision of its children (reference DESIGN §6): a crashed child is restarted
   * from its last snapshot and journaled; past the intensity, entries stop — the kill switch trips
   * with trigger `supervision`, or, if the kill switch itself is the child that gave up, admission
   * treats it as tripped — and a critical alert goes out.
   */
  function supervision(name: string): ChildSupervision {
    return {
      name,
      now: () => clock.now(),
      intensity,
      onRestart(report) {
        logger?.error(
          { err: report.error, actor: name, event: report.event },
          'a supervisor actor failed; restarted',
        );
        void track(
          supervisionJournal.append({
            ts: clock.now(),
            type: 'supervision.actor.failed',
            stage: 'reconcile',
            source: 'system',
            reasonCode: 'ACTOR_RESTARTED',
            data: {
              actor: name,
              event: report.event,
              restarts: report.restarts,
              error: describeError(report.error),
            },
          }),
        );
      },
      onGiveUp(report) {
        const reason = `${name} failed ${report.restarts} times within ${report.windowMs} ms (last on ${report.event}: ${describeError(report.error)})`;
        const evidence = {
          actor: name,
          restarts: report.restarts,
          windowMs: report.windowMs,
          event: report.event,
        };
        logger?.error(
          { err: report.error, actor: name },
          'a supervisor actor failed past its restart intensity',
        );
        void track(
          supervisionJournal.append({
            ts: clock.now(),
            type: 'supervision.escalated',
            stage: 'reconcile',
            source: 'system',
            reasonCode: 'KILL_SWITCH:supervision',
            data: { ...evidence, error: describeError(report.error) },
          }),
        );
        if (name === 'kill-switch') {
          // The switch cannot latch itself any more: admission reads it as tripped from here on,
          // and the trip is journaled as one so a restart of keel latches it again.
          void track(
            killJournal.append({
              ts: clock.now(),
              type: 'kill_switch.tripped',
              stage: 'reconcile',
              source: 'system',
              reasonCode: 'KILL_SWITCH:supervision',
              from: 'armed',
              to: 'tripped',
              data: {
                trigger: 'supervision',
                reason,
                by: 'supervisor',
                evidence,
                additional: false,
                autoResetAt: null,
              },
            }),
          );
          notify({
            severity: 'critical',
            code: 'KILL_SWITCH_TRIPPED',
            text: `kill switch tripped by supervision: ${reason}; entries are denied, exits and cancels still flow`,
            data: { trigger: 'supervision', evidence },
          });
          return;
        }
        void track(tripKillSwitch({ trigger: 'supervision', reason, by: 'supervisor', evidence }));
      },
      onDropped(event) {
        logger?.warn({ actor: name, event }, 'an event reached a supervisor actor that is down');
      },
    };
  }

  const killSwitch: SupervisedActor<typeof killSwitchMachine> = createSupervisedActor(
    config.machines?.killSwitch ?? killSwitchMachine,
    {
      mode: config.mode,
      input: config.killSwitch === undefined ? {} : { config: config.killSwitch },
      onAnomaly,
      ...supervision('kill-switch'),
    },
  );
  const controller: SupervisedActor<typeof beliefControllerMachine> = createSupervisedActor(
    config.machines?.beliefController ?? beliefControllerMachine,
    {
      mode: config.mode,
      input: config.beliefController === undefined ? {} : { config: config.beliefController },
      onAnomaly,
      ...supervision('belief-controller'),
    },
  );

  const killEmitted: KillSwitchEmitted[] = [];
  killSwitch.on('kill.tripped', (event) => killEmitted.push(event));
  killSwitch.on('kill.reset.done', (event) => killEmitted.push(event));
  killSwitch.on('lifecycle.ignored', (event) => killEmitted.push(event));
  const controllerEmitted: BeliefControllerEmitted[] = [];
  controller.on('controller.mode.changed', (event) => controllerEmitted.push(event));
  controller.on('kill.trip.requested', (event) => controllerEmitted.push(event));

  function track<T>(promise: Promise<T>): Promise<T> {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => undefined);
    return promise;
  }

  function notify(alert: Alert): void {
    const notifier = ports.notifier;
    if (!notifier) return;
    void track(
      notifier.notify(alert).catch((error: unknown) => {
        logger?.warn({ err: error, code: alert.code }, 'notifier failed');
      }),
    );
  }

  function status(): KillSwitchStatus {
    const snapshot = killSwitch.getSnapshot();
    return {
      view: killSwitchView(snapshot),
      trip: snapshot.context.trip,
      additionalTrips: snapshot.context.additionalTrips,
      autoResetAt: snapshot.context.autoResetAt,
      lastReset: snapshot.context.lastReset,
    };
  }

  /**
   * Sends to the kill switch, then journals and alerts what it announced. The trips a reset clears
   * are read before the send, so the reset's journal entry still names their evidence.
   */
  function sendToKillSwitch(event: Parameters<typeof killSwitch.send>[0]): Promise<unknown>[] {
    const before = killSwitch.getSnapshot().context;
    const cleared = before.trip ? [before.trip, ...before.additionalTrips] : [...before.additionalTrips];
    killEmitted.length = 0;
    killSwitch.send(event);
    const announced = killEmitted.splice(0);
    const after = killSwitch.getSnapshot().context;
    const writes: Promise<unknown>[] = [];
    for (const emitted of announced) {
      if (emitted.type === 'kill.tripped') {
        const record = emitted.additional ? after.additionalTrips.at(-1) : after.trip;
        const trip = record ?? { trigger: emitted.trigger, reason: emitted.reason, at: emitted.at };
        const stage = STAGE_OF_TRIGGER[trip.trigger];
        writes.push(
          track(
            killJournal.append({
              ts: emitted.at,
              type: 'kill_switch.tripped',
              stage,
              source: trip.trigger === 'operator' ? 'operator' : 'system',
              reasonCode: `KILL_SWITCH:${trip.trigger}`,
              from: emitted.additional ? 'tripped' : 'armed',
              to: 'tripped',
              data: {
                trigger: trip.trigger,
                reason: trip.reason,
                by: trip.by ?? null,
                evidence: trip.evidence ?? {},
                additional: emitted.additional,
                autoResetAt: emitted.autoResetAt,
              },
            }),
          ),
        );
        logger?.warn({ trigger: trip.trigger, reason: trip.reason, by: trip.by }, 'kill switch tripped');
        notify({
          severity: 'critical',
          code: 'KILL_SWITCH_TRIPPED',
          text: `kill switch tripped by ${trip.trigger}${trip.by ? ` (${trip.by})` : ''}: ${trip.reason}; entries are denied, exits and cancels still flow`,
          data: { trigger: trip.trigger, by: trip.by ?? null, evidence: trip.evidence ?? {} },
        });
      } else if (emitted.type === 'kill.reset.done') {
        writes.push(
          track(
            killJournal.append({
              ts: emitted.at,
              type: 'kill_switch.reset',
              stage: emitted.byPolicy ? STAGE_OF_TRIGGER[cleared[0]?.trigger ?? 'operator'] : 'operator',
              source: emitted.byPolicy ? 'system' : 'operator',
              reasonCode: null,
              from: 'tripped',
              to: 'armed',
              data: {
                by: emitted.by,
                reason: emitted.reason,
                byPolicy: emitted.byPolicy,
                triggers: emitted.triggers,
                trips: cleared.map((trip) => ({
                  trigger: trip.trigger,
                  reason: trip.reason,
                  at: trip.at,
                  by: trip.by ?? null,
                  evidence: trip.evidence ?? {},
                })),
              },
            }),
          ),
        );
        logger?.info(
          { by: emitted.by, reason: emitted.reason, byPolicy: emitted.byPolicy },
          'kill switch reset',
        );
        notify({
          severity: 'warning',
          code: 'KILL_SWITCH_RESET',
          text: `kill switch reset by ${emitted.by}: ${emitted.reason}; entries are admitted again`,
          data: { by: emitted.by, byPolicy: emitted.byPolicy, triggers: emitted.triggers },
        });
      } else if (emitted.type === 'lifecycle.ignored') {
        logger?.info({ event: emitted.event, reason: emitted.reason }, 'kill switch ignored an event');
      }
    }
    return writes;
  }

  async function tripKillSwitch(input: KillSwitchTripInput): Promise<KillSwitchStatus> {
    const trip = parseOrThrow(killSwitchTripSchema, input, 'bad kill switch trip');
    const evidence: TripEvidence | undefined = trip.evidence;
    await Promise.all(
      sendToKillSwitch({
        type: 'kill.trip',
        trigger: trip.trigger,
        reason: trip.reason,
        by: trip.by,
        now: clock.now(),
        ...(evidence === undefined ? {} : { evidence }),
      }),
    );
    return status();
  }

  async function resetKillSwitch(input: KillSwitchResetInput): Promise<KillSwitchStatus> {
    const reset = parseOrThrow(killSwitchResetSchema, input, 'bad kill switch reset');
    // The machine stamps the reset with the latest time it has seen; give it the present first.
    killSwitch.send({ type: 'clock.tick', now: clock.now() });
    await Promise.all(sendToKillSwitch({ type: 'kill.reset', by: reset.by, reason: reset.reason }));
    return status();
  }

  function beliefState(): BeliefState {
    const context = controller.getSnapshot().context;
    const debt = context.lastSample ?? { debtSec: 0, debtSymbols: 0, mismatchStreak: 0 };
    const score = debtScore(debt, context.config);
    return {
      belief_debt_sec: debt.debtSec,
      belief_debt_symbols: debt.debtSymbols,
      mismatch_streak: debt.mismatchStreak,
      belief_confidence: 1 / (1 + score),
      debt_score: score,
      debt_growth_per_min: context.memory.growthPerMinute,
      mode: context.knobs.mode,
      knobs: context.knobs,
    };
  }

  let lastJournaledQuiet = true;

  function sampleDebt(now: number, debt: BeliefDebt): BeliefState {
    const from = controller.getSnapshot().context.knobs.mode;
    controllerEmitted.length = 0;
    controller.send({ type: 'belief.debt.sampled', now, ...debt });
    const announced = controllerEmitted.splice(0);
    const state = beliefState();
    const changed = announced.find((event) => event.type === 'controller.mode.changed');
    const quiet = state.debt_score === 0 && changed === undefined;
    // A healthy controller samples every cycle; journal the interesting ones and the first quiet
    // one after them, so the journal shows debt rising and clearing without growing when idle.
    if (!quiet || !lastJournaledQuiet) {
      void track(
        beliefJournal.append({
          ts: now,
          type: 'execution.belief_state',
          stage: 'reconcile',
          source: 'system',
          reasonCode: changed ? `BELIEF_MODE:${state.mode}` : null,
          from,
          to: state.mode,
          data: { ...state, burst: controller.getSnapshot().context.burst },
        }),
      );
    }
    lastJournaledQuiet = quiet;
    if (changed) logger?.warn({ from, to: state.mode, score: state.debt_score }, 'belief mode changed');
    for (const event of announced) {
      if (event.type !== 'kill.trip.requested') continue;
      void track(
        tripKillSwitch({
          trigger: event.trigger,
          reason: event.reason,
          by: 'belief-controller',
          evidence: event.evidence,
        }),
      );
    }
    return state;
  }

  restoreLatchedTrips();

  // The loop is created after the beliefs it reads; their changes reach it through this reference.
  let reconcile: ReconcileLoop | null = null;
  const beliefs: PositionBeliefs = createPositionBeliefs(
    { store: ports.store, ...(logger === undefined ? {} : { logger }) },
    {
      onLocalChanged: (symbol, position) => reconcile?.localChanged(symbol, position),
      onGapBreached: (symbol) => reconcile?.protectionGap(symbol, true),
      onGapClosed: (symbol) => reconcile?.protectionGap(symbol, false),
      alert: notify,
      supervision,
      onAnomaly,
      onError,
      track: (promise) => void track(promise),
    },
    {
      mode: config.mode,
      account: config.account ?? 'main',
      ...(config.machines?.positionBelief === undefined ? {} : { machine: config.machines.positionBelief }),
      ...(config.positionBelief === undefined ? {} : { config: config.positionBelief }),
    },
  );

  reconcile =
    ports.venue !== undefined && ports.localPositions !== undefined && config.reconcile !== false
      ? createReconcileLoop(
          {
            venue: ports.venue,
            localPositions: ports.localPositions,
            beliefs,
            journal: openSupervisorJournal(ports.store, RECONCILE_CORRELATION_ID, logger),
            ...(logger === undefined ? {} : { logger }),
          },
          {
            sampleDebt: (now, debt) => ({ ...sampleDebt(now, debt) }),
            tripKillSwitch: (request) => void track(tripKillSwitch(request)),
            onAnomaly,
            onError,
            track: (promise) => void track(promise),
            supervision,
            ...(ports.onEvidence === undefined ? {} : { onEvidence: ports.onEvidence }),
          },
          {
            mode: config.mode,
            ...(config.machines?.reconcileSupervisor === undefined
              ? {}
              : { machine: config.machines.reconcileSupervisor }),
            ...(config.reconcile === undefined ? {} : { config: config.reconcile }),
            ...(config.adoptAtBoot === undefined ? {} : { adoptAtBoot: config.adoptAtBoot }),
          },
        )
      : null;

  /**
   * Start-up and crash recovery are one path: a switch that was latched when the process stopped
   * is latched again from its journal, with the trips' original times (so a policy halt still ends
   * when it would have), and the restore itself is journaled once.
   */
  function restoreLatchedTrips(): void {
    const history = ports.store.journal({ correlationId: KILL_SWITCH_CORRELATION_ID });
    const lastReset = history.findLastIndex((event) => event.type === 'kill_switch.reset');
    const trips = history
      .slice(lastReset + 1)
      .filter((event) => event.type === 'kill_switch.tripped')
      .map((event) => tripOfJournal(event.data, event.ts))
      .filter((trip): trip is TripRecord => trip !== null);
    if (trips.length === 0) return;
    for (const trip of trips) {
      killSwitch.send({
        type: 'kill.trip',
        trigger: trip.trigger,
        reason: trip.reason,
        now: trip.at,
        ...(trip.by === undefined ? {} : { by: trip.by }),
        ...(trip.evidence === undefined ? {} : { evidence: trip.evidence }),
      });
    }
    killEmitted.length = 0;
    const restored = status();
    void track(
      killJournal.append({
        ts: clock.now(),
        type: 'kill_switch.restored',
        stage: STAGE_OF_TRIGGER[trips[0]?.trigger ?? 'operator'],
        source: 'system',
        reasonCode: restored.view.tripped ? `KILL_SWITCH:${restored.view.trigger}` : null,
        from: 'armed',
        to: 'tripped',
        data: { triggers: trips.map((trip) => trip.trigger), autoResetAt: restored.autoResetAt },
      }),
    );
    logger?.warn(
      { triggers: trips.map((trip) => trip.trigger) },
      'kill switch restored latched from the journal',
    );
  }

  return {
    guardView: () => ({
      // A child that gave up fails safe: a dead kill switch reads as tripped, a dead controller as RED.
      killSwitch: killSwitch.gaveUp()
        ? { tripped: true, trigger: 'supervision' }
        : killSwitchView(killSwitch.getSnapshot()),
      knobs: controller.gaveUp()
        ? { ...controller.getSnapshot().context.config.knobs.RED, mode: 'RED' }
        : controller.getSnapshot().context.knobs,
    }),
    tripKillSwitch,
    resetKillSwitch,
    killSwitch: status,
    sampleDebt,
    beliefState,
    tick(now) {
      void sendToKillSwitch({ type: 'clock.tick', now });
      reconcile?.tick(now);
    },
    reconcileStatus: () => reconcile?.status() ?? null,
    requestReconcile: () => reconcile?.request(),
    applyFill: (symbol, fill) => beliefs.applyFill(symbol, fill),
    beliefs: () => beliefs.views(),
    belief: (symbol) => beliefs.view(symbol),
    adoptOrphan: (symbol, by) => beliefs.adopt(symbol, by),
    assertProtectionGap: (symbol, reason) => beliefs.assertGap(symbol, clock.now(), reason),
    entryBlock: (symbol) => beliefs.entryBlock(symbol),
    anomalies: () => anomalies,
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
      await killJournal.idle();
      await beliefJournal.idle();
    },
    stop() {
      reconcile?.stop();
      beliefs.stop();
      killSwitch.stop();
      controller.stop();
    },
  };
}

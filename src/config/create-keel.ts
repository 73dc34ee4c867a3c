/**
 * `createKeel(config)`: the library entry point. Parses the configuration, chooses the adapters
 * (SQLite store, paper venue, system clock), and starts the runtime through recovery.
 * Invariants: a bad configuration fails with KEEL_ERR_BAD_CONFIG naming every bad field and opens
 * nothing; a bad intent fails with KEEL_ERR_BAD_INTENT and registers nothing; the returned keel has
 * already restored and reconciled whatever a previous run left in flight.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { createRuntime, type RecoveryReport, type Runtime, type SubmitOptions } from '../actors/runtime.js';
import type { BeliefView } from '../actors/position-beliefs.js';
import {
  createProtectionManager,
  type ProtectionManager,
  type ProtectionView,
} from '../actors/protection-manager.js';
import {
  createSupervisors,
  type KillSwitchResetInput,
  type KillSwitchStatus,
  type KillSwitchTripInput,
  type BeliefState,
  type Supervisors,
} from '../actors/supervisors.js';
import { systemClock } from '../adapters/clock/system.clock.js';
import { openSqliteStore } from '../adapters/store/sqlite.store.js';
import { CCXT_EXCHANGES } from '../adapters/venue/ccxt/ccxt.client.js';
import { openCcxtVenue, type CcxtVenue, type VenueCredentials } from '../adapters/venue/ccxt/index.js';
import { paperOptionsSchema } from '../adapters/venue/paper/paper.schema.js';
import {
  openPaperVenue,
  type PaperVenue,
  type PaperVenueOptions,
} from '../adapters/venue/paper/paper.venue.js';
import { ERROR_CODES, KeelError } from '../domain/errors.js';
import { parseIntent } from '../domain/intent.schema.js';
import type { IntentResult } from '../domain/intent-result.schema.js';
import { parseOrThrow } from '../domain/parse.js';
import { retryPolicySchema } from '../domain/retry-policy.js';
import { executionGuardSchema, riskLimitsSchema } from '../domain/risk.js';
import {
  BELIEF_MODES,
  DEFAULT_BELIEF_CONTROLLER_CONFIG,
  type BeliefControllerConfig,
  type BeliefMode,
  type GuardKnobs,
} from '../domain/belief.js';
import { DEFAULT_KILL_SWITCH_CONFIG, type KillSwitchConfig } from '../machines/kill-switch.machine.js';
import type { KillSwitchView } from '../domain/admission.js';
import type { ClockPort } from '../ports/clock.port.js';
import type { LoggerPort } from '../ports/logger.port.js';
import type { NotifierPort } from '../ports/notifier.port.js';
import type { StorePort } from '../ports/store.port.js';
import type { VenuePort } from '../ports/venue.port.js';

const positiveInt = z.number().int().positive();

const orderLimitsSchema = z.strictObject({
  maxSubmitAttempts: positiveInt.optional(),
  maxCancelAttempts: positiveInt.optional(),
  maxReplaceAttempts: positiveInt.optional(),
  ackTimeoutMs: positiveInt.optional(),
  cancelTimeoutMs: positiveInt.optional(),
});

/** The paper venue, keel's embedded default: deterministic from its seed. */
const paperVenueConfigSchema = paperOptionsSchema.extend({ kind: z.literal('paper') }).strict();

/** A live venue through ccxt; its API key and secret come only from the environment. */
const ccxtVenueConfigSchema = z.strictObject({
  kind: z.literal('ccxt'),
  exchange: z
    .enum(CCXT_EXCHANGES)
    .default('binanceusdm')
    .describe('The ccxt exchange: `binanceusdm` (the reference venue), `bybit` or `okx` (polling only).'),
  sandbox: z
    .boolean()
    .default(false)
    .describe("The exchange's test network (Binance: the futures testnet) instead of real money."),
  urls: z
    .strictObject({
      rest: z
        .url({ protocol: /^https?$/ })
        .optional()
        .describe('REST base, e.g. `http://127.0.0.1:7421` for `keel paper-venue`.'),
      ws: z
        .url({ protocol: /^wss?$/ })
        .optional()
        .describe('WebSocket base for the user data stream.'),
      streamPath: z
        .string()
        .regex(/^\/.*\{listenKey\}/, 'must start with / and contain {listenKey}')
        .optional()
        .describe('User stream path (default `/private/ws/{listenKey}`; testnet `/ws/{listenKey}`).'),
    })
    .optional()
    .describe("Base URLs replacing the exchange's, for `keel paper-venue` or a proxy."),
  recvWindowMs: z.number().int().min(1).max(60_000).optional().describe('Binance recvWindow (default 5000).'),
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(120_000)
    .optional()
    .describe('Per-request timeout (default 10000).'),
});

const venueConfigSchema = z.discriminatedUnion('kind', [paperVenueConfigSchema, ccxtVenueConfigSchema]);

const nonNegative = z.number().nonnegative();
const haltMs = z.number().int().positive().optional();

/** Every key optional: createKeel lays what is given over DEFAULT_KILL_SWITCH_CONFIG. */
const killSwitchConfigSchema = z.strictObject({
  /**
   * Halt duration (ms) per automatic trigger, after which the switch resets itself; a trigger
   * without one waits for an operator. Default: `reconcile_mismatch_streak` 300000
   * (KILL_RECONCILE_MISMATCH_HALT_SEC = 300), every other trigger operator-only.
   */
  autoResetAfterMs: z
    .strictObject({
      reconcile_mismatch_streak: haltMs,
      belief_red: haltMs,
      error_storm: haltMs,
      supervision: haltMs,
    })
    .optional(),
  /** Trips remembered while already latched (default 16). */
  maxAdditionalTrips: positiveInt.optional().describe('Trips remembered while already latched (default 16).'),
});

const knobsSchema = z.strictObject({
  allow_entries: z.boolean().optional(),
  max_notional: nonNegative.optional(),
  max_leverage: nonNegative.optional(),
  min_entry_conf: z.number().min(0).max(1).optional(),
  entry_cooldown_seconds: nonNegative.optional(),
  max_open_orders_per_symbol: z.number().int().nonnegative().optional(),
  kill_switch_trip: z.boolean().optional(),
});

const thresholdSchema = z
  .strictObject({ enter: z.number().positive(), exit: z.number().nonnegative() })
  .refine((threshold) => threshold.exit < threshold.enter, {
    message: 'exit must be below enter (hysteresis)',
    path: ['exit'],
  });

/** Every key optional: createKeel lays what is given over DEFAULT_BELIEF_CONTROLLER_CONFIG. */
const beliefControllerConfigSchema = z.strictObject({
  /** BELIEF_DEBT_REF_SEC (default 300): seconds of unresolved mismatch that count as one unit of score. */
  debtRefSec: z
    .number()
    .positive()
    .optional()
    .describe(
      'BELIEF_DEBT_REF_SEC (default 300): seconds of unresolved mismatch that count as one unit of score.',
    ),
  /** BELIEF_SYMBOL_WEIGHT (default 0.25): score per mismatched symbol. */
  symbolWeight: nonNegative
    .optional()
    .describe('BELIEF_SYMBOL_WEIGHT (default 0.25): score per mismatched symbol.'),
  /** BELIEF_STREAK_WEIGHT (default 0.1): score per consecutive mismatching reconcile cycle. */
  streakWeight: nonNegative
    .optional()
    .describe('BELIEF_STREAK_WEIGHT (default 0.1): score per consecutive mismatching reconcile cycle.'),
  /** Score thresholds per mode (defaults YELLOW 0.5/0.35, ORANGE 1/0.7, RED 2/1.4). */
  thresholds: z
    .strictObject({
      YELLOW: thresholdSchema.optional(),
      ORANGE: thresholdSchema.optional(),
      RED: thresholdSchema.optional(),
    })
    .optional(),
  /** How long a higher mode must be called for before moving up (default 30000 ms). */
  escalationWindowMs: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('How long a higher mode must be called for before moving up (default 30000 ms).'),
  /** How long the score must stay under the exit threshold before moving down (default 60000 ms). */
  recoveryWindowMs: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('How long the score must stay under the exit threshold before moving down (default 60000 ms).'),
  /** Score growth per minute that trips RED at once (default 1.5). */
  burstGrowthPerMinute: z
    .number()
    .positive()
    .optional()
    .describe('Score growth per minute that trips RED at once (default 1.5).'),
  /** Shortest interval the growth is measured over (default 30000 ms). */
  growthIntervalMs: positiveInt
    .optional()
    .describe('Shortest interval the growth is measured over (default 30000 ms).'),
  /** Guard knobs per mode, laid over the defaults mode by mode. */
  knobs: z
    .strictObject({
      GREEN: knobsSchema.optional(),
      YELLOW: knobsSchema.optional(),
      ORANGE: knobsSchema.optional(),
      RED: knobsSchema.optional(),
    })
    .optional(),
});

/** Every key optional: createKeel lays what is given over DEFAULT_RECONCILE_SUPERVISOR_CONFIG. */
const reconcileConfigSchema = z.strictObject({
  /** Run the reconcile loop (default true). */
  enabled: z.boolean().optional().describe('Run the reconcile loop (default true).'),
  /** Take the venue's first snapshot as the base of every belief it has not judged (default true); off, positions found at boot are orphans. */
  adoptAtBoot: z
    .boolean()
    .optional()
    .describe(
      "Take the venue's first snapshot as the base of every belief it has not judged (default true); off, positions found at boot are orphans.",
    ),
  /** Whose booked positions are keel's beliefs; default every account netted per symbol. */
  account: z
    .string()
    .min(1)
    .optional()
    .describe("Whose booked positions are keel's beliefs; default every account netted per symbol."),
  /** Time between reconcile cycles (default 10000 ms). */
  intervalMs: positiveInt.optional().describe('Time between reconcile cycles (default 10000 ms).'),
  /** How long a venue snapshot may take before it counts as failed (default 15000 ms). */
  fetchTimeoutMs: positiveInt
    .optional()
    .describe('How long a venue snapshot may take before it counts as failed (default 15000 ms).'),
  /** After a failed fetch, the wait before the next cycle, doubling per failure up to intervalMs (default 1000 ms). */
  fetchRetryMs: positiveInt
    .optional()
    .describe(
      'After a failed fetch, the wait before the next cycle, doubling per failure up to intervalMs (default 1000 ms).',
    ),
  /** Most drift repairs per cycle (default 3). */
  maxRepairsPerCycle: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('Most drift repairs per cycle (default 3).'),
  /** RECONCILE_REPAIR_COOLDOWN_SEC as ms: the wait before a symbol is repaired again (default 30000). */
  repairCooldownMs: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe(
      'RECONCILE_REPAIR_COOLDOWN_SEC as ms: the wait before a symbol is repaired again (default 30000).',
    ),
  /** How long a cycle waits for repair results (default 20000 ms). */
  repairTimeoutMs: positiveInt
    .optional()
    .describe('How long a cycle waits for repair results (default 20000 ms).'),
  /** KILL_RECONCILE_MISMATCH_STREAK_MAX (default 6): a longer streak of mismatching cycles trips the kill switch. */
  killMismatchStreakMax: positiveInt
    .optional()
    .describe(
      'KILL_RECONCILE_MISMATCH_STREAK_MAX (default 6): a longer streak of mismatching cycles trips the kill switch.',
    ),
  /** A venue position keel did not open, seen twice while running: `freeze` entries on it until an operator adopts it (default), or `adopt` it. */
  orphanPositions: z
    .enum(['adopt', 'freeze'])
    .optional()
    .describe(
      'A venue position keel did not open, seen twice while running: `freeze` entries on it until an operator adopts it (default), or `adopt` it.',
    ),
  /** How long a position keel believes in must be missing from the venue before it is cleared (default 60000 ms). */
  phantomGraceMs: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe(
      'How long a position keel believes in must be missing from the venue before it is cleared (default 60000 ms).',
    ),
  /** Consecutive cycles a phantom must be missing before it is cleared (default 3). */
  phantomMisses: positiveInt
    .optional()
    .describe('Consecutive cycles a phantom must be missing before it is cleared (default 3).'),
});

/** Protective stops: stage-1 placement after an entry fill, refresh of undersized stops, coverage gaps. */
const protectionConfigSchema = z.strictObject({
  /** Count a position without full stop coverage past `gapTtlMs` as a mismatch and deny entries on it (default true). */
  requireStops: z
    .boolean()
    .default(true)
    .describe(
      'Count a position without full stop coverage past `gapTtlMs` as a mismatch and deny entries on it (default true).',
    ),
  /** How long a position may be under-covered or unprotected before the gap is critical (default 30000 ms). */
  gapTtlMs: positiveInt
    .default(30_000)
    .describe(
      'How long a position may be under-covered or unprotected before the gap is critical (default 30000 ms).',
    ),
  /** `min_delta_ratio`: a stop short of its position by this fraction or more is refreshed at once (default 0.05). */
  minDeltaRatio: z
    .number()
    .gt(0)
    .max(1)
    .default(0.05)
    .describe(
      '`min_delta_ratio`: a stop short of its position by this fraction or more is refreshed at once (default 0.05).',
    ),
  /** `max_refresh_interval_sec` as ms: a smaller shortfall is refreshed once it has lasted this long (default 300000). */
  maxRefreshIntervalMs: positiveInt
    .default(300_000)
    .describe(
      '`max_refresh_interval_sec` as ms: a smaller shortfall is refreshed once it has lasted this long (default 300000).',
    ),
  /** The wait after a failed stop placement or refresh before the next attempt (default 30000 ms). */
  refreshCooldownMs: z
    .number()
    .int()
    .nonnegative()
    .default(30_000)
    .describe(
      'The wait after a failed stop placement or refresh before the next attempt (default 30000 ms).',
    ),
});

export const keelConfigSchema = z.strictObject({
  /** Where keel keeps `keel.db` (registry and journal) and `journal.jsonl`. */
  dataDir: z
    .string()
    .min(1)
    .default('.keel/data')
    .describe('Where keel keeps `keel.db` (registry and journal) and `journal.jsonl`.'),
  /** `strict` logs refused lifecycle events as errors (tests, CI); `lenient` as warnings (the daemon). */
  mode: z
    .enum(['strict', 'lenient'])
    .default('lenient')
    .describe(
      '`strict` logs refused lifecycle events as errors (tests, CI); `lenient` as warnings (the daemon).',
    ),
  /** The venue; the paper venue keeps its own state in `venue.dataDir` (default `<dataDir>/paper`). */
  venue: venueConfigSchema
    .default({ kind: 'paper', seed: 1 })
    .describe(
      'The venue: `kind: paper` (embedded; state in `venue.dataDir`, default `<dataDir>/paper`) or `kind: ccxt` (live; keys from KEEL_VENUE_API_KEY / KEEL_VENUE_API_SECRET).',
    ),
  risk: riskLimitsSchema.default({}),
  guard: executionGuardSchema.default({ oneLiveEntryPerStrategySymbol: true }),
  retry: retryPolicySchema.partial().default({}),
  limits: orderLimitsSchema.default({}),
  /** The one clock interval (ms): deadlines, fill syncs and lingering orders are checked on it. */
  tickMs: positiveInt
    .default(1_000)
    .describe('The one clock interval (ms): deadlines, fill syncs and lingering orders are checked on it.'),
  /** How long (ms) a finished order stays live to absorb late fills before it is finalized (DONE). */
  lingerMs: z
    .number()
    .int()
    .nonnegative()
    .default(30_000)
    .describe(
      'How long (ms) a finished order stays live to absorb late fills before it is finalized (DONE).',
    ),
  /** How long (ms) an intent must be quiescent (working, nothing in flight) before it is parked as its snapshot. */
  parkAfterMs: z
    .number()
    .int()
    .nonnegative()
    .default(5_000)
    .describe(
      'How long (ms) an intent must be quiescent (working, nothing in flight) before it is parked as its snapshot.',
    ),
  /** How long (ms) after the last send a venue must keep not knowing an order before keel concludes it never landed. */
  absentAfterMs: z
    .number()
    .int()
    .nonnegative()
    .default(10_000)
    .describe(
      'How long (ms) after the last send a venue must keep not knowing an order before keel concludes it never landed.',
    ),
  recovery: z
    .strictObject({ orphans: z.enum(['report', 'freeze']).default('report') })
    .default({ orphans: 'report' }),
  supervision: z
    .strictObject({
      maxRestarts: z.number().int().nonnegative().default(3),
      windowMs: positiveInt.default(60_000),
    })
    .default({ maxRestarts: 3, windowMs: 60_000 }),
  /** More than `maxErrors` fatal, ambiguous or rate-limited venue answers within `windowMs` trips the kill switch. */
  errorStorm: z
    .strictObject({
      maxErrors: positiveInt.default(20),
      windowMs: positiveInt.default(60_000),
    })
    .default({ maxErrors: 20, windowMs: 60_000 }),
  /** The kill switch: halt durations per trigger (see the README's configuration table). */
  killSwitch: killSwitchConfigSchema
    .default({})
    .describe("The kill switch: halt durations per trigger (see the README's configuration table)."),
  /** The belief controller: debt score weights, mode thresholds, windows and guard knobs per mode. */
  beliefController: beliefControllerConfigSchema
    .default({})
    .describe(
      'The belief controller: debt score weights, mode thresholds, windows and guard knobs per mode.',
    ),
  /** The reconcile loop: venue positions and open orders against keel's beliefs, every `intervalMs`. */
  reconcile: reconcileConfigSchema
    .default({})
    .describe(
      "The reconcile loop: venue positions and open orders against keel's beliefs, every `intervalMs`.",
    ),
  /** Protective stops and stop coverage (see the README's configuration table). */
  protection: protectionConfigSchema.default({
    requireStops: true,
    gapTtlMs: 30_000,
    minDeltaRatio: 0.05,
    maxRefreshIntervalMs: 300_000,
    refreshCooldownMs: 30_000,
  }),
});

export type KeelConfig = z.output<typeof keelConfigSchema>;
export type KeelConfigInput = z.input<typeof keelConfigSchema>;

/** Replacements for the adapters keel would choose: tests and benchmarks pass their own. */
export interface KeelOverrides {
  clock?: ClockPort;
  /** A venue of your own; keel then does not step or persist the paper venue. */
  venue?: VenuePort;
  store?: StorePort;
  logger?: LoggerPort;
  notifier?: NotifierPort;
  /** A number in [0, 1): retry jitter. */
  random?: () => number;
  guardView?: () => { killSwitch: KillSwitchView; knobs: GuardKnobs };
  /** A live venue's keys; default: KEEL_VENUE_API_KEY, KEEL_VENUE_API_SECRET (and KEEL_VENUE_API_PASSWORD for OKX). */
  venueCredentials?: VenueCredentials;
}

/** The runtime's operations, with `submit` taking raw input (parsed here) and start-up already done. */
export interface Keel extends Omit<Runtime, 'start' | 'submit'> {
  /** What start-up found and did: restored intents, reconciled orders, orphans. */
  readonly recovery: RecoveryReport;
  readonly venue: VenuePort;
  readonly store: StorePort;
  /** The embedded paper venue, when keel chose it (its ground truth is there for tests). */
  readonly paper: PaperVenue | null;
  /**
   * Parses and registers an intent, runs the blockers, and sends it. Resolves once its status is on
   * disk: FAILED with the blocker's tag, or SENT_TO_BROKER with the venue call under way.
   */
  submit(intent: unknown, options?: SubmitOptions): Promise<IntentResult>;
  /**
   * The latched kill switch. While tripped, entries fail `KILL_SWITCH:<trigger>` (stage `guard`);
   * cancels and protective exits still flow. Every trip and reset is journaled under
   * `supervisor.kill-switch` with its trigger, evidence and who did it, and alerted.
   *
   * @example
   * await keel.killSwitch.trip({ reason: 'venue incident', by: 'alice' }); // trigger 'operator'
   * await keel.killSwitch.reset({ by: 'alice', reason: 'venue recovered' });
   */
  readonly killSwitch: {
    trip(input: KillSwitchTripInput): Promise<KillSwitchStatus>;
    reset(input: KillSwitchResetInput): Promise<KillSwitchStatus>;
    view(): KillSwitchStatus;
  };
  /** The belief controller's latest state: debt, confidence, mode and guard knobs. */
  beliefState(): BeliefState;
  /** Every position belief: local and venue position, mismatch, stop coverage and gap. */
  beliefs(): BeliefView[];
  /**
   * Adopts a frozen orphan position (one the venue holds and keel did not open) as keel's own, so
   * entries on its symbol are admitted again; journaled with who adopted it.
   */
  adoptOrphan(symbol: string, by: string): Promise<BeliefView>;
  /** The protection manager's stops by symbol. */
  protection(): ProtectionView[];
  /** The reconcile loop's latest numbers (cycles run, streak, last fetch failure); null when it is off. */
  reconcileStatus(): ReturnType<Supervisors['reconcileStatus']>;
}

/** Lays the configured kill-switch keys over the machine's defaults. */
export function killSwitchConfigOf(config: KeelConfig['killSwitch']): KillSwitchConfig {
  return {
    autoResetAfterMs: {
      ...DEFAULT_KILL_SWITCH_CONFIG.autoResetAfterMs,
      ...withoutUndefined(config.autoResetAfterMs ?? {}),
    },
    maxAdditionalTrips: config.maxAdditionalTrips ?? DEFAULT_KILL_SWITCH_CONFIG.maxAdditionalTrips,
  };
}

/** Lays the configured controller keys over DEFAULT_BELIEF_CONTROLLER_CONFIG, mode by mode. */
export function beliefControllerConfigOf(config: KeelConfig['beliefController']): BeliefControllerConfig {
  const defaults = DEFAULT_BELIEF_CONTROLLER_CONFIG;
  const { thresholds, knobs, ...scalars } = config;
  const knobsFor = (mode: BeliefMode) => ({
    ...defaults.knobs[mode],
    ...withoutUndefined(knobs?.[mode] ?? {}),
  });
  return {
    ...defaults,
    ...withoutUndefined(scalars),
    thresholds: {
      YELLOW: thresholds?.YELLOW ?? defaults.thresholds.YELLOW,
      ORANGE: thresholds?.ORANGE ?? defaults.thresholds.ORANGE,
      RED: thresholds?.RED ?? defaults.thresholds.RED,
    },
    knobs: Object.fromEntries(
      BELIEF_MODES.map((mode) => [mode, knobsFor(mode)]),
    ) as BeliefControllerConfig['knobs'],
  };
}

/**
 * Parses a configuration, throwing KEEL_ERR_BAD_CONFIG with the path of every bad field.
 *
 * @example
 * parseKeelConfig({ dataDir: '.keel/data', risk: { maxNotional: 1_000 } });
 */
export function parseKeelConfig(input: unknown): KeelConfig {
  return parseOrThrow(keelConfigSchema, input ?? {}, 'bad keel config', ERROR_CODES.badConfig);
}

/**
 * Opens keel: store, venue, runtime; restores and reconciles what a previous run left, then runs.
 *
 * @example
 * const keel = await createKeel({ dataDir: '.keel/data', venue: { kind: 'paper', seed: 7 } });
 * const sent = await keel.submit({ strategy_id: 's1', bot_id: 'b1', client_id: 'me', source: 'library',
 *   venue: 'paper', account: 'main', symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.01, kind: 'ENTRY' });
 * const done = await keel.settled(sent.intent_id); // status 'EXECUTED', order_status 'FILLED'
 * await keel.close();
 */
export async function createKeel(config: KeelConfigInput = {}, overrides: KeelOverrides = {}): Promise<Keel> {
  const parsed = parseKeelConfig(config);
  const clock = overrides.clock ?? systemClock;
  const store = overrides.store ?? openSqliteStore({ dataDir: parsed.dataDir });
  let paper: PaperVenue | null = null;
  let liveVenue: CcxtVenue | null = null;
  let stepper: { cancel(): void } | null = null;
  let venue: VenuePort;
  if (overrides.venue) {
    venue = overrides.venue;
  } else if (parsed.venue.kind === 'ccxt') {
    const credentials = overrides.venueCredentials ?? credentialsFromEnvironment();
    if (!credentials) {
      throw new KeelError(
        ERROR_CODES.badConfig,
        'venue.kind ccxt needs KEEL_VENUE_API_KEY and KEEL_VENUE_API_SECRET in the environment (keys never live in the config file)',
      );
    }
    const { kind: _kind, urls, ...live } = parsed.venue;
    const opened = openCcxtVenue({
      ...withoutUndefined(live),
      exchange: live.exchange,
      ...(urls === undefined ? {} : { urls: withoutUndefined(urls) }),
      ...credentials,
      clock,
      ...(overrides.logger === undefined ? {} : { logger: overrides.logger.child({ venue: live.exchange }) }),
    });
    const markets = await opened.loadMarkets();
    if (!markets.ok) {
      // Trading works without market rules; only stop prices go unrounded to the tick.
      overrides.logger?.warn({ err: markets.message }, 'could not load the venue market rules');
    }
    venue = opened;
    liveVenue = opened;
  } else {
    const { kind: _kind, ...paperOptions } = parsed.venue;
    paper = openPaperVenue({
      // The paper venue's symbol entries are the same shape zod parsed; only `undefined` typing differs.
      ...(withoutUndefined(paperOptions) as Omit<PaperVenueOptions, 'clock'>),
      dataDir: paperOptions.dataDir ?? join(parsed.dataDir, 'paper'),
      clock,
    });
    venue = paper;
    stepper = paper.autoStep();
  }
  const embeddedPaper = paper;
  const {
    enabled: reconcileEnabled,
    account: reconcileAccount,
    adoptAtBoot,
    orphanPositions,
    phantomGraceMs,
    phantomMisses,
    ...reconcileConfig
  } = parsed.reconcile;
  let protection: ProtectionManager | null = null;
  // The runtime is created after the supervisors (it reads their guard view); the loop only runs
  // on the runtime's ticks, so the runtime exists by the time beliefs are read.
  let runtimeRef: Runtime | null = null;
  const supervisors: Supervisors = createSupervisors(
    {
      store,
      clock,
      venue,
      localPositions: () => runtimeRef?.positions(reconcileAccount) ?? {},
      onEvidence: (now, observations) => protection?.onEvidence(now, observations),
      ...(overrides.logger === undefined ? {} : { logger: overrides.logger }),
      ...(overrides.notifier === undefined ? {} : { notifier: overrides.notifier }),
    },
    {
      mode: parsed.mode,
      killSwitch: killSwitchConfigOf(parsed.killSwitch),
      beliefController: beliefControllerConfigOf(parsed.beliefController),
      reconcile: reconcileEnabled === false ? false : withoutUndefined(reconcileConfig),
      ...(adoptAtBoot === undefined ? {} : { adoptAtBoot }),
      // Beliefs are kept per venue account; the venue's id names the one account keel trades through.
      account: reconcileAccount ?? venue.capabilities.venue,
      // Supervisor actors restart within the same intensity as intents.
      supervision: parsed.supervision,
      positionBelief: {
        ...(orphanPositions === undefined ? {} : { orphanPolicy: orphanPositions }),
        ...(phantomGraceMs === undefined ? {} : { phantomGraceMs }),
        ...(phantomMisses === undefined ? {} : { phantomMissesToClear: phantomMisses }),
        ...(reconcileConfig.repairCooldownMs === undefined
          ? {}
          : { repairCooldownMs: reconcileConfig.repairCooldownMs }),
        ...(reconcileConfig.repairTimeoutMs === undefined
          ? {}
          : { repairTimeoutMs: reconcileConfig.repairTimeoutMs }),
        // Without required stops a gap is still reported, but never turns critical.
        protectionGapTtlMs: parsed.protection.requireStops
          ? parsed.protection.gapTtlMs
          : Number.MAX_SAFE_INTEGER,
      },
    },
  );
  const runtime: Runtime = createRuntime(
    {
      venue,
      store,
      clock,
      random: overrides.random ?? Math.random,
      ...(overrides.logger === undefined ? {} : { logger: overrides.logger }),
      ...(overrides.notifier === undefined ? {} : { notifier: overrides.notifier }),
      guardView: overrides.guardView ?? (() => supervisors.guardView()),
      onTick: (now: number) => supervisors.tick(now),
      // Beliefs first: the protection manager sizes stops from the belief the fill just moved.
      onFill: (fill) => {
        supervisors.applyFill(fill.symbol, { qty: fill.qty, side: fill.side, price: fill.price });
        protection?.onFill(fill);
      },
      entryBlock: (intent) => supervisors.entryBlock(intent.symbol),
      // One kill switch: actor failures and venue error storms latch it, journaled and reset like any other trip.
      escalate: ({ trigger, reason, evidence }) => {
        void supervisors.tripKillSwitch({ trigger, reason, by: 'runtime', evidence }).catch(() => undefined);
      },
      ...(embeddedPaper === null ? {} : { lastPrice: (symbol: string) => embeddedPaper.price(symbol) }),
    },
    {
      mode: parsed.mode,
      risk: parsed.risk,
      guard: parsed.guard,
      retry: withoutUndefined(parsed.retry),
      limits: withoutUndefined(parsed.limits),
      tickMs: parsed.tickMs,
      lingerMs: parsed.lingerMs,
      parkAfterMs: parsed.parkAfterMs,
      absentAfterMs: parsed.absentAfterMs,
      recovery: parsed.recovery,
      supervision: parsed.supervision,
      errorStorm: parsed.errorStorm,
    },
  );
  runtimeRef = runtime;
  protection = createProtectionManager(
    {
      clock,
      store,
      ...(overrides.logger === undefined ? {} : { logger: overrides.logger }),
      submit: (intent) => runtime.submit(intent),
      cancel: (intentId) => runtime.cancel(intentId),
      get: (intentId) => runtime.get(intentId),
      position: (symbol) => supervisors.belief(symbol)?.local ?? null,
      assertGap: (symbol, reason) => supervisors.assertProtectionGap(symbol, reason),
    },
    {
      minDeltaRatio: parsed.protection.minDeltaRatio,
      maxRefreshIntervalMs: parsed.protection.maxRefreshIntervalMs,
      refreshCooldownMs: parsed.protection.refreshCooldownMs,
    },
  );
  const protectionManager = protection;
  runtime.onResult((result) => protectionManager.onResult(result));
  let recovery: RecoveryReport;
  try {
    recovery = await runtime.start();
  } catch (error) {
    stepper?.cancel();
    liveVenue?.close();
    await runtime.close();
    await supervisors.idle();
    supervisors.stop();
    if (!overrides.store) await store.close();
    throw error;
  }
  return {
    recovery,
    venue,
    store,
    paper,
    submit: (intent, options) => {
      try {
        return runtime.submit(parseIntent(intent), options);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    cancel: (intentId) => runtime.cancel(intentId),
    replace: (intentId, newQty) => runtime.replace(intentId, newQty),
    settled: (intentId) => runtime.settled(intentId),
    get: (intentId) => runtime.get(intentId),
    onResult: (listener) => runtime.onResult(listener),
    anomalies: () => runtime.anomalies(),
    pnl: (account, prices) => runtime.pnl(account, prices),
    positions: (account) => runtime.positions(account),
    liveCount: () => runtime.liveCount(),
    parkedCount: () => runtime.parkedCount(),
    entryFreeze: () => runtime.entryFreeze(),
    clearEntryFreeze: () => runtime.clearEntryFreeze(),
    idle: async () => {
      await runtime.idle();
      // A stop placed or refreshed just now is more runtime work: wait for that too.
      await protectionManager.idle();
      await runtime.idle();
      await supervisors.idle();
    },
    killSwitch: {
      trip: (input) => supervisors.tripKillSwitch(input),
      reset: (input) => supervisors.resetKillSwitch(input),
      view: () => supervisors.killSwitch(),
    },
    beliefState: () => supervisors.beliefState(),
    beliefs: () => supervisors.beliefs(),
    adoptOrphan: (symbol, by) => supervisors.adoptOrphan(symbol, by),
    protection: () => protectionManager.views(),
    reconcileStatus: () => supervisors.reconcileStatus(),
    async close() {
      stepper?.cancel();
      protectionManager.stop();
      await runtime.close();
      liveVenue?.close();
      await protectionManager.idle();
      await supervisors.idle();
      supervisors.stop();
      if (!overrides.store) await store.close();
    },
  };
}

/** The live venue's keys from the environment, or null when either is missing. */
function credentialsFromEnvironment(): VenueCredentials | null {
  const apiKey = process.env.KEEL_VENUE_API_KEY;
  const secret = process.env.KEEL_VENUE_API_SECRET;
  if (!apiKey || !secret) return null;
  const password = process.env.KEEL_VENUE_API_PASSWORD;
  return { apiKey, secret, ...(password ? { password } : {}) };
}

/** zod leaves absent optional keys out, but types them `T | undefined`; this says so to the compiler. */
function withoutUndefined<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

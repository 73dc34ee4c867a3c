/**
 * keel's public API. Everything exported here is typed and documented; internal modules
 * are not part of the contract.
 */
export { KeelError, TransitionError, BadInputError, ERROR_CODES } from './domain/errors.js';
export type { ErrorCode, FieldIssue } from './domain/errors.js';

export { admit, KILL_TRIGGERS } from './domain/admission.js';
export type {
  AdmissionDecision,
  AdmissionTag,
  GuardBlockReason,
  IntentLike,
  KillSwitchView,
  KillTrigger,
} from './domain/admission.js';
export {
  BELIEF_MODES,
  DEFAULT_BELIEF_CONTROLLER_CONFIG,
  debtScore,
  knobsForMode,
  stepPosture,
} from './domain/belief.js';
export type { BeliefControllerConfig, BeliefDebt, BeliefMode, GuardKnobs } from './domain/belief.js';
export {
  killSwitchMachine,
  killSwitchView,
  DEFAULT_KILL_SWITCH_CONFIG,
} from './machines/kill-switch.machine.js';
export type { KillSwitchConfig, KillSwitchInput } from './machines/kill-switch.machine.js';
export { beliefControllerMachine } from './machines/belief-controller.machine.js';
export type { BeliefControllerInput } from './machines/belief-controller.machine.js';

export {
  orderIntentMachine,
  DEFAULT_ORDER_INTENT_LIMITS,
  DUPLICATE_CLIENT_ORDER_ID,
} from './machines/order-intent.machine.js';
export type {
  OrderIntentContext,
  OrderIntentEvent,
  OrderIntentEmitted,
  OrderIntentInput,
  OrderIntentLimits,
  OrderIntentKind,
  TerminalStatus,
} from './machines/order-intent.machine.js';
export { reportedOrderStatus, orderPhase } from './machines/order-intent.status.js';
export type { ReportedOrderStatus } from './machines/order-intent.status.js';
export { ORDER_STATUS_TABLE, nextOrderPhase, orderStatusTableMarkdown } from './domain/order-status.js';
export type { OrderPhase, OrderEventName, OrderFacts, OrderStatusRow } from './domain/order-status.js';
export { canonicalMachines } from './machines/index.js';
export { createCheckedActor, describeState } from './actors/checked-actor.js';
export type { CheckedActor, CheckedActorOptions, LifecycleMode, Anomaly } from './actors/checked-actor.js';
export { simulateOrder, toMachineEvent } from './actors/order-simulation.js';
export type { SimulationOutcome, SimulationStep } from './actors/order-simulation.js';
export { simulationScriptSchema } from './domain/simulation-script.schema.js';
export type { SimulationScript, SimulationEvent } from './domain/simulation-script.schema.js';

export { classifyOrderError, retryAfterMsOf } from './domain/order-error.js';
export {
  orderErrorInputSchema,
  orderErrorVerdictSchema,
  orderErrorContextSchema,
  orderErrorPolicySchema,
} from './domain/order-error.schema.js';
export type {
  OrderErrorInput,
  OrderErrorVerdict,
  OrderErrorContext,
  OrderErrorPolicy,
} from './domain/order-error.schema.js';
export { BINANCEUSDM_ERRORS } from './domain/venues/binanceusdm.errors.js';
export type { VenueErrorRow, VenueErrorRule } from './domain/venues/binanceusdm.errors.js';
export { intentSchema, intentSourceSchema, parseIntent, isProtectiveExit } from './domain/intent.schema.js';
export type {
  Intent,
  IntentInput,
  IntentKind,
  IntentSource,
  OrderSide,
  OrderType,
  TimeInForce,
} from './domain/intent.schema.js';
export { venueEventSchema, VENUE_EVENT_TYPES } from './domain/venue-event.schema.js';
export type { VenueEvent, VenueEventOf, VenueEventType } from './domain/venue-event.schema.js';
export { envelopeSchema, envelopeMetaSchema, makeEnvelope, stageSchema } from './domain/envelope.schema.js';
export type { Envelope, EnvelopeMeta, Stage } from './domain/envelope.schema.js';
export {
  clientOrderIdFor,
  newCorrelationId,
  eventIdFor,
  isVenueSafeClientOrderId,
  isExchangeInitiatedClientOrderId,
  kindOfClientOrderId,
} from './domain/ids.js';
export type { ClientOrderIdInput } from './domain/ids.js';
export { toMermaid } from './viz/mermaid.js';
export type { MermaidOptions } from './viz/mermaid.js';
export { renderHtmlPage } from './viz/html.js';
export type { HtmlPageOptions } from './viz/html.js';
export { positionBeliefMachine, DEFAULT_POSITION_BELIEF_CONFIG } from './machines/position-belief.machine.js';
export type { PositionBeliefConfig, PositionBeliefInput } from './machines/position-belief.machine.js';
export {
  DEFAULT_POSITION_TOLERANCE,
  applyFill,
  comparePosition,
  protectionCoverage,
} from './domain/position.js';
export type {
  Position,
  PositionTolerance,
  ProtectionCoverage,
  ProtectionEvidence,
} from './domain/position.js';
export { diffPositions, beliefDebtOf, trackMismatches } from './domain/reconcile.js';
export type { ReconcileDiff, VenueOpenOrder, VenuePositionReport } from './domain/reconcile.js';
export {
  reconcileSupervisorMachine,
  DEFAULT_RECONCILE_SUPERVISOR_CONFIG,
} from './machines/reconcile-supervisor.machine.js';
export type {
  ReconcileSupervisorConfig,
  ReconcileSupervisorInput,
} from './machines/reconcile-supervisor.machine.js';
export { runtimeMachine, DEFAULT_RUNTIME_CONFIG } from './machines/runtime.machine.js';
export type { RuntimeConfig, RuntimeInput, HaltCause } from './machines/runtime.machine.js';
export {
  openPaperVenue,
  PaperVenue,
  clientOrderIdsAcceptedTwice,
} from './adapters/venue/paper/paper.venue.js';
export type { PaperVenueOptions, PaperSymbol, PaperGroundTruth } from './adapters/venue/paper/paper.venue.js';
export type { PaperFaults, FaultTrigger } from './adapters/venue/paper/faults.js';
export type { GroundTruthEntry } from './adapters/venue/paper/paper.store.js';
export { parseTickCsv } from './adapters/venue/paper/price-feed.js';
export type { PriceTick, RandomWalk } from './adapters/venue/paper/price-feed.js';
export type { SymbolRules } from './adapters/venue/paper/filters.js';
export { openSqliteStore, SqliteStore } from './adapters/store/sqlite.store.js';
export type { SqliteStoreOptions, SqliteStoreStats } from './adapters/store/sqlite.store.js';
export { MIGRATIONS } from './adapters/store/migrations.js';
export type { Migration } from './adapters/store/migrations.js';
export {
  replayJournal,
  REGISTRY_EVENT_TYPES,
  REGISTRY_STATUSES,
  isRegistryEventType,
} from './domain/registry-replay.js';
export type { ReplayedRegistryEntry, ReplayableEvent } from './domain/registry-replay.js';
export type {
  StorePort,
  RegistryRecord,
  RegistryStatus,
  RegistryUpdate,
  JournalEvent,
} from './ports/store.port.js';
export {
  DEFAULT_RETRY_POLICY,
  nextRetryDelay,
  parseRetryPolicy,
  retryPolicySchema,
} from './domain/retry-policy.js';
export type { RetryJitter, RetryPolicy } from './domain/retry-policy.js';
export { createRouter, isRouterReport, toIntentEvent } from './actors/router.js';
export type {
  CancelOutcome,
  LookupOutcome,
  OrderGaveUpEvent,
  OrderRetryEvent,
  ReplaceOutcome,
  Router,
  RouterEvent,
  RouterOperation,
  RouterOptions,
  RouterReport,
  SubmitOutcome,
} from './actors/router.js';
export { timelineOf, journalEventSchema } from './domain/journal-timeline.js';
export type { Timeline, TimelineEvent } from './domain/journal-timeline.js';
export {
  applyFill as applyPortfolioFill,
  emptyPortfolio,
  markToMarket,
  portfolioFillSchema,
  realizedPnlOfFill,
} from './domain/portfolio.js';
export type { Portfolio, PortfolioFill, PortfolioPosition, PositionMark } from './domain/portfolio.js';
export {
  buildPnlSnapshot,
  pnlSnapshotSchema,
  pnlSnapshotPositionSchema,
} from './domain/pnl-snapshot.schema.js';
export type { PnlSnapshot } from './domain/pnl-snapshot.schema.js';

// The execution core: createKeel (library API), the runtime it runs, and the adapters it chooses.
export { createKeel, keelConfigSchema, parseKeelConfig } from './config/create-keel.js';
export type { Keel, KeelConfig, KeelConfigInput, KeelOverrides } from './config/create-keel.js';
export { createRuntime } from './actors/runtime.js';
export type {
  OrphanOrder,
  RecoveryReport,
  Runtime,
  RuntimeOptions,
  RuntimePorts,
  SubmitOptions,
} from './actors/runtime.js';
export { intentResultSchema, makeIntentResult } from './domain/intent-result.schema.js';
export type { IntentResult } from './domain/intent-result.schema.js';
export { checkExecutionGuard, checkRisk, executionGuardSchema, riskLimitsSchema } from './domain/risk.js';
export type { BlockDecision, ExecutionGuard, RiskLimits, RiskView } from './domain/risk.js';
export { registryViewOf } from './machines/order-intent.status.js';
export type { RegistryView } from './machines/order-intent.status.js';
export { readJournalReadOnly } from './adapters/store/sqlite.store.js';
export { systemClock } from './adapters/clock/system.clock.js';

// The supervisors (issue 4): the kill switch and belief controller as actors, wired by createKeel.
export {
  BELIEF_CORRELATION_ID,
  KILL_SWITCH_CORRELATION_ID,
  createSupervisors,
  killSwitchResetSchema,
  killSwitchTripSchema,
} from './actors/supervisors.js';
export type {
  BeliefState,
  KillSwitchResetInput,
  KillSwitchStatus,
  KillSwitchTripInput,
  SupervisorPorts,
  Supervisors,
  SupervisorsConfig,
} from './actors/supervisors.js';
export { RECONCILE_CORRELATION_ID } from './actors/supervisors.js';
export { createReconcileLoop } from './actors/supervisor-reconcile.js';
export type { ReconcileLoop, ReconcileLoopHooks, ReconcileLoopPorts } from './actors/supervisor-reconcile.js';

// Position beliefs, protection and supervision of the supervisors (issue 4).
export { SUPERVISION_CORRELATION_ID } from './actors/supervisors.js';
export { createPositionBeliefs, beliefCorrelationId } from './actors/position-beliefs.js';
export type { BeliefView, PositionBeliefs, PositionBeliefsHooks } from './actors/position-beliefs.js';
export { createProtectionManager, PROTECTION_CORRELATION_ID } from './actors/protection-manager.js';
export type { ProtectionManager, ProtectionView } from './actors/protection-manager.js';
export { createSupervisedActor } from './actors/supervised.js';
export type {
  ChildSupervision,
  CrashReport,
  SupervisedActor,
  SupervisedOptions,
} from './actors/supervised.js';
export {
  DEFAULT_STOP_REFRESH_CONFIG,
  decideStopRefresh,
  stopShortfall,
  exitSideOf,
} from './domain/protection.js';
export type { StopRefreshConfig, StopRefreshDecision, StopRefreshInput } from './domain/protection.js';
export { DEFAULT_RESTART_INTENSITY, recordRestart, restartIntensitySchema } from './domain/restart-window.js';
export type { RestartIntensity } from './domain/restart-window.js';
export type { BookedFill } from './actors/runtime.js';

// The daemon (issue 5): alert channels and the composition root behind `keel run`.
export { createJsonWebhookNotifier, createTelegramNotifier } from './adapters/notifier/http.notifiers.js';
export { guardNotifier } from './adapters/notifier/guarded.notifier.js';
export type { GuardedNotifier, GuardOptions } from './adapters/notifier/guarded.notifier.js';
export { startDaemon } from './daemon/run.js';
export type { Daemon, DaemonOptions } from './daemon/run.js';
export { loadDaemonConfig, daemonConfigSchema } from './daemon/config.js';
export { METRIC } from './daemon/metrics.js';
export { signWebhook, webhookAlertSchema } from './daemon/webhook.js';

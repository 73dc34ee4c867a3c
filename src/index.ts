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

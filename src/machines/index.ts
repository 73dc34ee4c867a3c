/**
 * The canonical machines, by the name `keel viz --machine NAME` and the docs use.
 * Every machine here is pure (no invoke, no after), so it can be drawn, model-tested and
 * persisted; add a machine here when it is added to src/machines.
 */
import type { AnyStateMachine } from 'xstate';
import { orderIntentMachine } from './order-intent.machine.js';
import { killSwitchMachine } from './kill-switch.machine.js';
import { beliefControllerMachine } from './belief-controller.machine.js';
import { positionBeliefMachine } from './position-belief.machine.js';
import { reconcileSupervisorMachine } from './reconcile-supervisor.machine.js';
import { runtimeMachine } from './runtime.machine.js';

export const canonicalMachines: Record<string, AnyStateMachine> = {
  // entries are added as `'order-intent': orderIntentMachine,` (kebab-case name = machine id)
  'order-intent': orderIntentMachine,
  'kill-switch': killSwitchMachine,
  'belief-controller': beliefControllerMachine,
  'position-belief': positionBeliefMachine,
  'reconcile-supervisor': reconcileSupervisorMachine,
  runtime: runtimeMachine,
};

export { STRICT_ACTION, STRICT_GUARD, strictWildcard, isNotInternalEvent, refusedEvent } from './strict.js';
export type { RefusedEvent, IgnoredEvent } from './strict.js';

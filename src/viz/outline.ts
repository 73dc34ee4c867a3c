/**
 * A machine's definition read as plain data: its states and declared transitions, with guards,
 * actions and events turned into the names a reviewer reads in a diagram.
 * Invariants: the outline depends only on the definition, in document order (same machine, same
 * outline); every declared transition appears once (initial transitions are structure, not
 * transitions); nothing here runs a machine or calls one of its actions or guards.
 */
import type { AnyStateMachine } from 'xstate';
import { STRICT_ACTION, STRICT_GUARD } from '../machines/strict.js';

/** A state node of any machine, as xstate exposes it on `machine.root`. */
export type StateNodeView = AnyStateMachine['root'];
/** One declared transition of a state node. */
export type TransitionView = NonNullable<StateNodeView['always']>[number];

export type StateType = StateNodeView['type'];

export interface StateOutline {
  /** xstate's state id, `machine-id.parent.child`; what `highlight` and snapshots refer to. */
  id: string;
  key: string;
  path: readonly string[];
  type: StateType;
  tags: readonly string[];
  description?: string;
  entry: readonly string[];
  exit: readonly string[];
}

export interface TransitionOutline {
  /** State id that declares the transition (the machine id for root-level transitions). */
  source: string;
  /** The event as a reviewer reads it: `venue.order.filled`, `always`, `done`, `*`. */
  event: string;
  guard?: string;
  actions: readonly string[];
  /** Target state ids; empty for a targetless (internal) transition. */
  targets: readonly string[];
  reenter: boolean;
  /** Unguarded, after a guarded candidate for the same event: taken only when those guards fail. */
  otherwise: boolean;
  /** The root `'*'` strict-mode hook from src/machines/strict.ts. */
  strictHook: boolean;
}

export interface MachineOutline {
  id: string;
  description?: string;
  states: readonly StateOutline[];
  transitions: readonly TransitionOutline[];
}

/** Child state nodes in document order. */
export function childrenOf(node: StateNodeView): StateNodeView[] {
  return Object.values(node.states);
}

/** Every declared transition of one node: `on` (including done/after/invoke events), then `always`. */
export function ownTransitions(node: StateNodeView): TransitionView[] {
  const transitions: TransitionView[] = [];
  for (const candidates of node.transitions.values()) transitions.push(...candidates);
  transitions.push(...(node.always ?? []));
  return transitions;
}

interface ComposedGuard {
  guards?: unknown;
  check?: { name?: unknown };
  name?: unknown;
}

/** `'is within risk limits'`, `{ type: 'x', params }` → `x`, `and([a, not(b)])` → `a and not b`. */
export function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const composed = guard as ComposedGuard;
    if (Array.isArray(composed.guards)) {
      const parts = (composed.guards as unknown[]).map((part) => {
        const name = guardName(part);
        return name.includes(' and ') || name.includes(' or ') ? `(${name})` : name;
      });
      // xstate's and/or/not helpers keep their operands on `guards` and name their check functions.
      const kind = [composed.check?.name, composed.name].find((name) => typeof name === 'string') ?? '';
      if (kind.endsWith('Not') || kind === 'not') return `not ${parts[0] ?? ''}`.trim();
      if (kind.endsWith('Or') || kind === 'or') return parts.join(' or ');
      return parts.join(' and ');
    }
    return 'inline guard';
  }
  if (typeof guard === 'object' && guard !== null && typeof (guard as { type?: unknown }).type === 'string')
    return (guard as { type: string }).type;
  return 'guard';
}

/** A named action keeps its name; built-ins read as `assign`, `raise`; an inline function as such. */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  const type = (action as { type?: unknown } | null)?.type;
  if (typeof type === 'string') return type.replace(/^xstate\./, '');
  return typeof action === 'function' ? 'inline action' : 'action';
}

/** Internal event types read as what they mean: `done`, `after 5000 ms`, `invoke error`. */
export function eventName(eventType: string): string {
  if (eventType === '') return 'always';
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  if (eventType.startsWith('xstate.done.actor.')) return 'invoke done';
  if (eventType.startsWith('xstate.error.actor.')) return 'invoke error';
  if (eventType.startsWith('xstate.after.')) {
    const delay = eventType.slice('xstate.after.'.length).split('.')[0] ?? '';
    return /^\d+$/.test(delay) ? `after ${delay} ms` : `after ${delay}`;
  }
  return eventType;
}

/** True for the shared strict-mode wildcard: root `'*'`, strict guard, the refusal action only. */
export function isStrictHook(transition: TransitionView, root: StateNodeView): boolean {
  return (
    transition.source === root &&
    eventTypeOf(transition) === '*' &&
    guardName(transition.guard) === STRICT_GUARD &&
    transition.actions.length === 1 &&
    actionName(transition.actions[0]) === STRICT_ACTION &&
    (transition.target ?? []).length === 0
  );
}

/** The declared event type (`''` for `always`); xstate types it loosely for any machine. */
function eventTypeOf(transition: TransitionView): string {
  return String(transition.eventType);
}

/** True when an earlier candidate for the same event on the same state carries a guard. */
function followsGuardedCandidate(transition: TransitionView): boolean {
  const eventType = eventTypeOf(transition);
  const candidates =
    eventType === ''
      ? (transition.source.always ?? [])
      : (transition.source.transitions.get(eventType) ?? []);
  const index = candidates.indexOf(transition);
  return candidates.slice(0, Math.max(index, 0)).some((candidate) => candidate.guard !== undefined);
}

export function outlineTransition(transition: TransitionView, root: StateNodeView): TransitionOutline {
  const outline: TransitionOutline = {
    source: transition.source.id,
    event: eventName(eventTypeOf(transition)),
    actions: transition.actions.map(actionName),
    targets: (transition.target ?? []).map((target) => target.id),
    reenter: transition.reenter,
    otherwise: transition.guard === undefined && followsGuardedCandidate(transition),
    strictHook: isStrictHook(transition, root),
  };
  if (transition.guard !== undefined) outline.guard = guardName(transition.guard);
  return outline;
}

/** The machine's states (root excluded) and declared transitions, in document order. */
export function outlineMachine(machine: AnyStateMachine): MachineOutline {
  const root = machine.root;
  const states: StateOutline[] = [];
  const transitions: TransitionOutline[] = [];
  const walk = (node: StateNodeView): void => {
    if (node !== root) {
      const state: StateOutline = {
        id: node.id,
        key: node.key,
        path: node.path,
        type: node.type,
        tags: node.tags,
        entry: node.entry.map(actionName),
        exit: node.exit.map(actionName),
      };
      if (node.description !== undefined) state.description = node.description;
      states.push(state);
    }
    for (const transition of ownTransitions(node)) transitions.push(outlineTransition(transition, root));
    for (const child of childrenOf(node)) walk(child);
  };
  walk(root);
  const outline: MachineOutline = { id: machine.id, states, transitions };
  if (root.description !== undefined) outline.description = root.description;
  return outline;
}

/** Counts shown next to each diagram: states below the root, declared transitions. */
export function machineStats(machine: AnyStateMachine): { states: number; transitions: number } {
  const outline = outlineMachine(machine);
  return { states: outline.states.length, transitions: outline.transitions.length };
}

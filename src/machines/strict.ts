/**
 * The strict-mode hook every canonical machine shares.
 * xstate v5 has no `strict` option: a root `'*'` transition catches any event no active
 * state accepts (including one whose guards all failed) and emits `lifecycle.refused`
 * without changing state. The actor layer turns that into a TransitionError (strict) or a
 * journaled anomaly (lenient). Internal `xstate.*` events are excluded so that a child's
 * error still escalates instead of vanishing into the wildcard.
 */
import type { EventObject } from 'xstate';

/** Emitted when the machine's current state cannot accept an event. */
export interface RefusedEvent {
  type: 'lifecycle.refused';
  event: string;
}

/** Emitted when a state accepts an event only to ignore it (stale ack on a terminal order). */
export interface IgnoredEvent {
  type: 'lifecycle.ignored';
  event: string;
  reason: string;
}

export const STRICT_GUARD = 'is not an xstate internal event';
export const STRICT_ACTION = 'report refused event';

export function isNotInternalEvent({ event }: { event: EventObject }): boolean {
  return !event.type.startsWith('xstate.');
}

export function refusedEvent(event: EventObject): RefusedEvent {
  return { type: 'lifecycle.refused', event: event.type };
}

/** The root-level wildcard transition, to spread into a machine's root `on`. */
export const strictWildcard = {
  '*': { guard: STRICT_GUARD, actions: STRICT_ACTION },
} as const;

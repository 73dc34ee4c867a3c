/**
 * Admission: may this intent go to the venue under the current kill switch and guard knobs?
 * Invariants (DESIGN.md 2 and 7): cancels and protective exits (reduce-only, close-position,
 * SL, TP, EXIT) are always admitted, whatever the mode or kill switch; a denied
 * entry always carries a tag naming its blocker, `KILL_SWITCH:<trigger>` or `GUARD_BLOCKED:<reason>`.
 */
import type { GuardKnobs } from './belief.js';
import { isProtectiveExit as isProtectiveIntent, type IntentKind } from './intent.schema.js';

export type KillTrigger =
  'operator' | 'reconcile_mismatch_streak' | 'belief_red' | 'error_storm' | 'supervision';

export const KILL_TRIGGERS: readonly KillTrigger[] = [
  'operator',
  'reconcile_mismatch_streak',
  'belief_red',
  'error_storm',
  'supervision',
];

/** What admission needs to know about the kill switch (the machine's snapshot reduced). */
export type KillSwitchView = { tripped: false } | { tripped: true; trigger: KillTrigger };

/**
 * The parts of an intent that admission reads, spelled as the intent schema spells them
 * (`kind`, `reduce_only`, `close_position`), so a parsed intent plus an action fits as is.
 */
export interface IntentLike {
  action: 'submit' | 'replace' | 'cancel';
  kind?: IntentKind;
  reduce_only?: boolean;
  close_position?: boolean;
  notional?: number;
  leverage?: number;
  /** The strategy's confidence in the entry, 0…1. */
  confidence?: number;
  /** Open orders already working on the intent's symbol. */
  openOrdersForSymbol?: number;
  /** Seconds since the last entry on the intent's symbol. */
  secondsSinceLastEntry?: number;
}

export type GuardBlockReason =
  | 'entries_disabled'
  | 'max_notional'
  | 'max_leverage'
  | 'min_entry_conf'
  | 'entry_cooldown'
  | 'max_open_orders_per_symbol';

export type AdmissionTag = `KILL_SWITCH:${KillTrigger}` | `GUARD_BLOCKED:${GuardBlockReason}`;

export type AdmissionDecision =
  | { admitted: true; basis: 'cancel' | 'protective_exit' | 'within_guard_knobs' }
  | { admitted: false; tag: AdmissionTag; reason: string };

/** Reduces exposure or protects it: never blocked by entry guards or the kill switch. An intent without a kind is an entry. */
function isProtectiveExit(intent: IntentLike): boolean {
  return isProtectiveIntent({
    kind: intent.kind ?? 'ENTRY',
    reduce_only: intent.reduce_only ?? false,
    close_position: intent.close_position ?? false,
  });
}

function blocked(reason: GuardBlockReason, detail: string): AdmissionDecision {
  return { admitted: false, tag: `GUARD_BLOCKED:${reason}`, reason: detail };
}

/**
 * Decides whether an intent may be sent.
 *
 * @example
 * admit({ action: 'submit', kind: 'ENTRY', notional: 500 }, { killSwitch: { tripped: false }, knobs });
 * // → { admitted: true, basis: 'within_guard_knobs' } in GREEN
 */
export function admit(
  intent: IntentLike,
  { killSwitch, knobs }: { killSwitch: KillSwitchView; knobs: GuardKnobs },
): AdmissionDecision {
  if (intent.action === 'cancel') return { admitted: true, basis: 'cancel' };
  if (isProtectiveExit(intent)) return { admitted: true, basis: 'protective_exit' };
  if (killSwitch.tripped) {
    return {
      admitted: false,
      tag: `KILL_SWITCH:${killSwitch.trigger}`,
      reason: `kill switch tripped by ${killSwitch.trigger}; entries are denied until it is reset`,
    };
  }
  if (!knobs.allow_entries) return blocked('entries_disabled', `entries are disabled in mode ${knobs.mode}`);
  if (intent.notional !== undefined && intent.notional > knobs.max_notional)
    return blocked(
      'max_notional',
      `notional ${intent.notional} exceeds ${knobs.max_notional} in mode ${knobs.mode}`,
    );
  if (intent.leverage !== undefined && intent.leverage > knobs.max_leverage)
    return blocked(
      'max_leverage',
      `leverage ${intent.leverage} exceeds ${knobs.max_leverage} in mode ${knobs.mode}`,
    );
  if (intent.confidence !== undefined && intent.confidence < knobs.min_entry_conf)
    return blocked(
      'min_entry_conf',
      `confidence ${intent.confidence} is below ${knobs.min_entry_conf} in mode ${knobs.mode}`,
    );
  if (
    intent.secondsSinceLastEntry !== undefined &&
    intent.secondsSinceLastEntry < knobs.entry_cooldown_seconds
  )
    return blocked(
      'entry_cooldown',
      `last entry ${intent.secondsSinceLastEntry}s ago; cooldown is ${knobs.entry_cooldown_seconds}s in mode ${knobs.mode}`,
    );
  if (
    intent.openOrdersForSymbol !== undefined &&
    intent.openOrdersForSymbol >= knobs.max_open_orders_per_symbol
  )
    return blocked(
      'max_open_orders_per_symbol',
      `${intent.openOrdersForSymbol} orders already open; the limit is ${knobs.max_open_orders_per_symbol} in mode ${knobs.mode}`,
    );
  return { admitted: true, basis: 'within_guard_knobs' };
}

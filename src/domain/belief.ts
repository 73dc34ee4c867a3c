/**
 * Belief math: how far keel's beliefs have drifted from venue evidence (belief debt), which
 * posture (GREEN…RED) that debt calls for, and the guard knobs each posture publishes.
 * Invariants: the score never decreases when any debt input grows; exposure allowed by the
 * knobs never increases as the mode worsens; a posture only moves up on a held or bursting
 * score and only moves down through the lower (hysteresis) threshold held for a recovery window.
 */

export type BeliefMode = 'GREEN' | 'YELLOW' | 'ORANGE' | 'RED';

/** Modes from best to worst; the index is the mode's rank. */
export const BELIEF_MODES: readonly BeliefMode[] = ['GREEN', 'YELLOW', 'ORANGE', 'RED'];

export function modeRank(mode: BeliefMode): number {
  return BELIEF_MODES.indexOf(mode);
}

/**
 * The single policy surface the belief controller publishes (DESIGN.md vocabulary; the names
 * are the wire names entry guards read). They constrain entries only: exits are never bound.
 */
export interface GuardKnobs {
  allow_entries: boolean;
  max_notional: number;
  max_leverage: number;
  min_entry_conf: number;
  entry_cooldown_seconds: number;
  max_open_orders_per_symbol: number;
  mode: BeliefMode;
  kill_switch_trip: boolean;
}

export type KnobsPerMode = Record<BeliefMode, Omit<GuardKnobs, 'mode'>>;

export interface ModeThreshold {
  /** Score at or above which the mode is called for when moving up. */
  enter: number;
  /** Score below which the mode is no longer held when moving down (hysteresis: exit < enter). */
  exit: number;
}

export interface BeliefControllerConfig {
  /** BELIEF_DEBT_REF_SEC: seconds of unresolved mismatch that count as one unit of score. */
  debtRefSec: number;
  /** BELIEF_SYMBOL_WEIGHT: score per symbol currently mismatched. */
  symbolWeight: number;
  /** BELIEF_STREAK_WEIGHT: score per consecutive mismatching reconcile cycle. */
  streakWeight: number;
  thresholds: Record<Exclude<BeliefMode, 'GREEN'>, ModeThreshold>;
  /** How long a higher mode's threshold must hold before the controller moves up (ms). */
  escalationWindowMs: number;
  /** How long the score must stay under a mode's exit threshold before moving down (ms). */
  recoveryWindowMs: number;
  /** Score growth per minute that trips RED at once, before absolute debt accumulates. */
  burstGrowthPerMinute: number;
  /**
   * Shortest interval the growth rate is measured over (ms). A slope taken between two samples a
   * second apart turns sampling noise into bursts; over 30 s, debt oscillating inside any
   * hysteresis band of the defaults stays below the burst rate.
   */
  growthIntervalMs: number;
  knobs: KnobsPerMode;
}

/**
 * Defaults for the belief controller (reference 004 §3 and §5 name the quantities; the values
 * are keel's): five minutes of unresolved mismatch is one unit of score; each mismatched symbol
 * adds 0.25 and each mismatching cycle 0.1. Up-moves hold for 30 s, down-moves for 60 s; a rise of
 * 1.5 score per minute, measured over at least 30 s, is a burst.
 *
 * @example
 * const config = { ...DEFAULT_BELIEF_CONTROLLER_CONFIG, escalationWindowMs: 10_000 };
 */
export const DEFAULT_BELIEF_CONTROLLER_CONFIG: BeliefControllerConfig = {
  debtRefSec: 300,
  symbolWeight: 0.25,
  streakWeight: 0.1,
  thresholds: {
    YELLOW: { enter: 0.5, exit: 0.35 },
    ORANGE: { enter: 1, exit: 0.7 },
    RED: { enter: 2, exit: 1.4 },
  },
  escalationWindowMs: 30_000,
  recoveryWindowMs: 60_000,
  burstGrowthPerMinute: 1.5,
  growthIntervalMs: 30_000,
  knobs: {
    GREEN: {
      allow_entries: true,
      max_notional: 10_000,
      max_leverage: 10,
      min_entry_conf: 0.5,
      entry_cooldown_seconds: 0,
      max_open_orders_per_symbol: 4,
      kill_switch_trip: false,
    },
    YELLOW: {
      allow_entries: true,
      max_notional: 5_000,
      max_leverage: 5,
      min_entry_conf: 0.65,
      entry_cooldown_seconds: 30,
      max_open_orders_per_symbol: 2,
      kill_switch_trip: false,
    },
    ORANGE: {
      allow_entries: true,
      max_notional: 1_000,
      max_leverage: 2,
      min_entry_conf: 0.8,
      entry_cooldown_seconds: 120,
      max_open_orders_per_symbol: 1,
      kill_switch_trip: false,
    },
    RED: {
      allow_entries: false,
      max_notional: 0,
      max_leverage: 1,
      min_entry_conf: 1,
      entry_cooldown_seconds: 600,
      max_open_orders_per_symbol: 0,
      kill_switch_trip: true,
    },
  },
};

export interface BeliefDebt {
  /** Age in seconds of the oldest unresolved mismatch. */
  debtSec: number;
  /** Symbols currently mismatched. */
  debtSymbols: number;
  /** Consecutive reconcile cycles with a mismatch or a failed fetch. */
  mismatchStreak: number;
}

/** `debt_sec / BELIEF_DEBT_REF_SEC + debt_symbols * BELIEF_SYMBOL_WEIGHT + mismatch_streak * BELIEF_STREAK_WEIGHT`. */
export function debtScore(debt: BeliefDebt, config: BeliefControllerConfig): number {
  return (
    Math.max(0, debt.debtSec) / config.debtRefSec +
    Math.max(0, debt.debtSymbols) * config.symbolWeight +
    Math.max(0, debt.mismatchStreak) * config.streakWeight
  );
}

/** The worst mode whose entry threshold the score reaches (moving up). */
export function modeCalledFor(score: number, config: BeliefControllerConfig): BeliefMode {
  if (score >= config.thresholds.RED.enter) return 'RED';
  if (score >= config.thresholds.ORANGE.enter) return 'ORANGE';
  if (score >= config.thresholds.YELLOW.enter) return 'YELLOW';
  return 'GREEN';
}

/**
 * The mode still held at this score when coming down from `current`: the worst mode not above
 * `current` whose exit threshold the score has not fallen under.
 */
export function modeHeld(current: BeliefMode, score: number, config: BeliefControllerConfig): BeliefMode {
  for (let rank = modeRank(current); rank > 0; rank -= 1) {
    const mode = BELIEF_MODES[rank] as Exclude<BeliefMode, 'GREEN'>;
    if (score >= config.thresholds[mode].exit) return mode;
  }
  return 'GREEN';
}

export function knobsForMode(mode: BeliefMode, config: BeliefControllerConfig): GuardKnobs {
  return { ...config.knobs[mode], mode };
}

/** True when `tighter` allows no more exposure than `looser` on every knob. */
export function allowsNoMoreThan(tighter: GuardKnobs, looser: GuardKnobs): boolean {
  return (
    (looser.allow_entries || !tighter.allow_entries) &&
    tighter.max_notional <= looser.max_notional &&
    tighter.max_leverage <= looser.max_leverage &&
    tighter.min_entry_conf >= looser.min_entry_conf &&
    tighter.entry_cooldown_seconds >= looser.entry_cooldown_seconds &&
    tighter.max_open_orders_per_symbol <= looser.max_open_orders_per_symbol
  );
}

/** What the controller remembers between samples (JSON-serialisable). */
export interface PostureMemory {
  /** The sample the growth rate is measured from; it moves once the growth interval has passed. */
  growthAnchor: { score: number; at: number } | null;
  /** The latest measured growth of the score per minute. */
  growthPerMinute: number;
  /** Since when a higher mode has been called for without interruption. */
  escalatingSince: number | null;
  /** Since when the score has been under the current mode's exit threshold. */
  recoveringSince: number | null;
}

export const INITIAL_POSTURE_MEMORY: PostureMemory = {
  growthAnchor: null,
  growthPerMinute: 0,
  escalatingSince: null,
  recoveringSince: null,
};

export interface PostureStep {
  mode: BeliefMode;
  score: number;
  growthPerMinute: number;
  burst: boolean;
  memory: PostureMemory;
}

/**
 * One controller step for a debt sample taken at `now`: the posture to adopt and the memory to
 * keep. Time that runs backwards counts as no time passing. Up-moves wait for the called-for mode to hold for the escalation window, except that a
 * growth burst or a RED-level score trips RED at once (reference 004 §5). Down-moves wait for the
 * score to stay under the current mode's exit threshold for the recovery window.
 */
export function stepPosture(
  current: BeliefMode,
  memory: PostureMemory,
  debt: BeliefDebt,
  now: number,
  config: BeliefControllerConfig,
): PostureStep {
  const score = debtScore(debt, config);
  const anchor = memory.growthAnchor;
  const measured = anchor !== null && now - anchor.at >= config.growthIntervalMs;
  const growthPerMinute = measured
    ? ((score - anchor.score) / (now - anchor.at)) * 60_000
    : memory.growthPerMinute;
  const burst = measured && growthPerMinute >= config.burstGrowthPerMinute;
  const growthAnchor = anchor === null || measured ? { score, at: now } : anchor;
  const calledFor = modeCalledFor(score, config);
  const settle = (mode: BeliefMode, next: Partial<PostureMemory> = {}): PostureStep => ({
    mode,
    score,
    growthPerMinute,
    burst,
    memory: { growthAnchor, growthPerMinute, escalatingSince: null, recoveringSince: null, ...next },
  });

  if (current !== 'RED' && (burst || calledFor === 'RED')) return settle('RED');
  if (modeRank(calledFor) > modeRank(current)) {
    const since = memory.escalatingSince ?? now;
    return now - since >= config.escalationWindowMs
      ? settle(calledFor)
      : settle(current, { escalatingSince: since });
  }
  const held = modeHeld(current, score, config);
  if (modeRank(held) < modeRank(current)) {
    const since = memory.recoveringSince ?? now;
    return now - since >= config.recoveryWindowMs
      ? settle(held)
      : settle(current, { recoveringSince: since });
  }
  return settle(current);
}

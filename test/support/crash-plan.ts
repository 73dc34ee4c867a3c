/**
 * The deterministic plan of keel's SIGKILL crash test: the stream of intents the child submits
 * (index → intent, a pure function of the seed) and where the parent kills the child.
 * Invariants: the same seed gives the same steps and the same kill points; every cancel targets
 * an earlier limit of the same stream; kill points after an ACK are strictly increasing and at
 * least MIN_GAP intents apart, so every restarted child gets some work done before its kill.
 */
import type { IntentInput } from '../../src/index.js';
import { seededRandom } from '../../src/chaos/plan.js';

/** The crash plan's PRNG is keel chaos's (mulberry32): one number makes the plan reproducible. */
export function crashRandom(seed: number): () => number {
  return seededRandom(seed);
}

/** What the child does at one index: cancel earlier limits (idempotent), then submit one intent. */
export interface CrashStep {
  index: number;
  intentId: string;
  /** Intent ids of earlier resting limits to cancel before this step's submit. */
  cancels: string[];
  input: IntentInput;
  /** How the intent is meant to behave at the venue; for failure messages, not for checks. */
  shape: 'market' | 'marketable-limit' | 'near-limit' | 'far-limit' | 'reduce-only-exit';
}

/** The paper venue's default BTCUSDT opens at 50 000 and walks about 0.05 % per step. */
const START_PRICE = 50_000;

export function intentIdOf(index: number): string {
  return `i-${index}`;
}

/** The index of a planned intent id (`i-17` → 17), or undefined for anything else. */
export function indexOfIntentId(intentId: string): number | undefined {
  const match = /^i-(\d+)$/.exec(intentId);
  return match ? Number(match[1]) : undefined;
}

/** A price on the 0.1 tick, `fraction` away from the opening price. */
function priceAt(fraction: number): number {
  return Math.round(START_PRICE * (1 + fraction) * 10) / 10;
}

/**
 * The stream of `count` steps for `seed`. Each entry gets its own strategy_id, so the
 * one-live-entry-per-strategy guard never blocks the stream.
 */
export function crashSteps(seed: number, count: number): CrashStep[] {
  const random = crashRandom(seed ^ 0x5eed);
  const cancelsAt = new Map<number, string[]>();
  const steps: CrashStep[] = [];
  for (let index = 0; index < count; index += 1) {
    const side = random() < 0.5 ? 'buy' : 'sell';
    const sign = side === 'buy' ? 1 : -1;
    const qty = (1 + Math.floor(random() * 3)) / 1000;
    const roll = random();
    const base = {
      strategy_id: `crash-${index}`,
      bot_id: 'crash-bot',
      client_id: 'crash-test',
      source: 'library',
      venue: 'paper',
      account: 'main',
      symbol: 'BTCUSDT',
      side,
      qty,
    } as const;
    let shape: CrashStep['shape'];
    let input: IntentInput;
    if (roll < 0.4) {
      shape = 'market';
      input = { ...base, type: 'market', kind: 'ENTRY' };
    } else if (roll < 0.55) {
      // Far through the market: fills on arrival whatever the walk did meanwhile.
      shape = 'marketable-limit';
      input = { ...base, type: 'limit', price: priceAt(sign * 0.05), time_in_force: 'GTC', kind: 'ENTRY' };
    } else if (roll < 0.7) {
      // A few steps of walk away: may fill later, possibly while keel is down or recovering.
      shape = 'near-limit';
      input = { ...base, type: 'limit', price: priceAt(-sign * 0.002), time_in_force: 'GTC', kind: 'ENTRY' };
    } else if (roll < 0.93) {
      // Out of reach of the walk for the whole run: rests until cancelled.
      shape = 'far-limit';
      input = { ...base, type: 'limit', price: priceAt(-sign * 0.2), time_in_force: 'GTC', kind: 'ENTRY' };
    } else {
      // The venue decides: it reduces a position, or is refused (-2022) when there is none to reduce.
      shape = 'reduce-only-exit';
      input = { ...base, type: 'market', reduce_only: true, kind: 'EXIT' };
    }
    const intentId = intentIdOf(index);
    if ((shape === 'far-limit' || shape === 'near-limit') && random() < 0.5) {
      const at = index + 2 + Math.floor(random() * 6);
      if (at < count) cancelsAt.set(at, [...(cancelsAt.get(at) ?? []), intentId]);
    }
    steps.push({ index, intentId, cancels: cancelsAt.get(index) ?? [], input, shape });
  }
  return steps;
}

/**
 * Where one child is killed: a while after it printed the ACK of an index, or during start-up. A
 * zero delay is the child's own SIGKILL at the ACK; any other kill comes from the parent and may land
 * anywhere, even inside synchronous code.
 */
export type KillPoint =
  { kind: 'after-ack'; index: number; delayMs: number } | { kind: 'during-startup'; delayMs: number };

export interface KillPlanOptions {
  intents: number;
  /** Kills after an ACK (the issue asks for at least 20 per run). */
  afterAck: number;
  /** Extra kills while keel is starting, i.e. inside crash recovery. */
  duringStartup: number;
  /** Longest delay between the ACK seen and the kill, so some kills land mid-flight. */
  maxDelayMs: number;
}

export const MIN_GAP = 3;

/**
 * The kill points, in the order the parent applies them (one per child run). After-ACK indices
 * are spread over the stream, one per bucket, and leave the last bucket's tail to a clean finish.
 */
export function planKills(seed: number, options: KillPlanOptions): KillPoint[] {
  const random = crashRandom(seed ^ 0xc0ffee);
  const { intents, afterAck, duringStartup, maxDelayMs } = options;
  const width = Math.floor((intents - MIN_GAP) / afterAck);
  if (width < MIN_GAP + 1) throw new RangeError(`${afterAck} kills do not fit in ${intents} intents`);
  const delay = (): number => (random() < 0.3 ? 0 : Math.floor(random() * (maxDelayMs + 1)));
  const points: KillPoint[] = [];
  for (let bucket = 0; bucket < afterAck; bucket += 1) {
    const index = bucket * width + Math.floor(random() * (width - MIN_GAP + 1));
    points.push({ kind: 'after-ack', index, delayMs: delay() });
  }
  for (let n = 0; n < duringStartup; n += 1) {
    const at = 1 + Math.floor(random() * points.length);
    points.splice(at, 0, { kind: 'during-startup', delayMs: Math.floor(random() * 120) });
  }
  return points;
}

/** One line the child prints, parsed. */
export type ChildLine =
  | { kind: 'starting' }
  | { kind: 'ready'; detail: string }
  | { kind: 'ack'; intentId: string; status: string }
  | { kind: 'cancel'; intentId: string }
  | { kind: 'end' }
  | { kind: 'result'; result: unknown }
  | { kind: 'unsettled'; detail: string }
  | { kind: 'closed' }
  | { kind: 'other'; text: string };

export function parseChildLine(line: string): ChildLine {
  const [word = '', ...rest] = line.split(' ');
  const tail = rest.join(' ');
  switch (word) {
    case 'STARTING':
      return { kind: 'starting' };
    case 'READY':
      return { kind: 'ready', detail: tail };
    case 'ACK':
      return { kind: 'ack', intentId: rest[0] ?? '', status: rest[1] ?? '' };
    case 'CANCEL':
      return { kind: 'cancel', intentId: rest[0] ?? '' };
    case 'END':
      return { kind: 'end' };
    case 'RESULT':
      return { kind: 'result', result: JSON.parse(tail) as unknown };
    case 'UNSETTLED':
      return { kind: 'unsettled', detail: tail };
    case 'CLOSED':
      return { kind: 'closed' };
    default:
      return { kind: 'other', text: line };
  }
}

/** What the child is asked to do; passed as one JSON argument. */
export interface CrashChildArgs {
  mode: 'run' | 'recover';
  seed: number;
  dataDir: string;
  paperDir: string;
  /** The first index to submit (run mode). */
  from: number;
  /**
   * Run mode: the child kills itself with SIGKILL right after writing the ACK of this index (or a
   * later one), before anything else can run: no write queued behind the ACK gets a chance to land.
   */
  killAtAck?: number;
  /** How many intents the stream has. */
  count: number;
  /** Recover mode: how long to wait for every intent to resolve before reporting UNSETTLED. */
  settleTimeoutMs: number;
}

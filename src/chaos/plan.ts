/**
 * The seeded plan of one chaos scenario: a schedule of operator and strategy actions (entries
 * with stop-losses, take-profits, exits, cancels, replaces, kill-switch trips and resets, process
 * crashes), the paper venue faults in force while it runs and, for a run over the network, the
 * network faults between keel and the venue.
 * Invariants: the plan is a pure function of (seed, scenario, options) — the same numbers give the
 * same plan, so every violation is reproducible from the printed seed and scenario number; every
 * cancel and replace targets an intent planned earlier in the same scenario; the network faults
 * are drawn from a stream of their own, so planning them never changes the rest of the plan.
 */
import type { PaperFaults } from '../adapters/venue/paper/faults.js';
import type { IntentInput } from '../domain/intent.schema.js';
import { NETWORK_FAULT_KINDS, type NetworkFaultKind, type NetworkFaults } from './network.js';

/** Every fault the paper venue can inject, by name (`--faults` picks among these). */
export const CHAOS_FAULT_KINDS = [
  'submitTimeoutLanded',
  'submitTimeoutLost',
  'executionUnknown',
  'cancelTimeoutLanded',
  'cancelTimeoutLost',
  'cancelUnknownOrder',
  'delayedAck',
  'fillAfterCancel',
  'duplicateFill',
  'rateLimit',
  'reject',
  'streamDisconnect',
] as const;

export type ChaosFaultKind = (typeof CHAOS_FAULT_KINDS)[number];

/**
 * How long a request may go unanswered before keel's ccxt client gives up on it, in a run over the
 * network: short, so a scenario lasts seconds; a latency spike is planned on either side of it.
 */
export const NETWORK_REQUEST_TIMEOUT_MS = 1_000;

/** mulberry32: a tiny seeded PRNG, enough to make a plan reproducible from two numbers. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export type ChaosAction =
  | { at: number; kind: 'submit'; intentId: string; input: IntentInput; shape: string }
  | { at: number; kind: 'cancel'; intentId: string }
  | { at: number; kind: 'replace'; intentId: string; qty: number }
  | { at: number; kind: 'trip' }
  | { at: number; kind: 'reset' }
  | { at: number; kind: 'crash' };

export interface ChaosScenarioPlan {
  seed: number;
  scenario: number;
  /**
   * Actions in time order; `at` is milliseconds of plan time from the scenario's start: simulated
   * time in process, compressed onto the wall clock over the network (see rig.ts).
   */
  actions: ChaosAction[];
  faults: PaperFaults;
  /** Faults between keel and the venue's server; only in a plan for a run over the network. */
  network?: NetworkFaults;
  /** When the faults stop and settling begins (ms from the start). */
  faultsEndAt: number;
}

export interface ChaosPlanOptions {
  intents: number;
  /** Paper venue fault kinds, and network ones (used only with `network`). */
  faults: readonly (ChaosFaultKind | NetworkFaultKind)[];
  crash: boolean;
  /** Plan network faults too: keel trades the venue's server through the fault proxy. */
  network?: boolean;
}

/** The price the paper venue starts BTCUSDT at; plans price limits and stops around it. */
export const CHAOS_START_PRICE = 50_000;

const STEP_MS = 250;

/** A scenario's own seed: distinct per scenario, stable per (seed, scenario). */
export function scenarioSeed(seed: number, scenario: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(scenario + 1, 0x85ebca6b)) >>> 0;
}

function round(value: number, step: number): number {
  return Math.round(value / step) * step;
}

/**
 * Plans scenario `scenario` of a run seeded `seed`.
 *
 * @example
 * const plan = planScenario(7, 0, { intents: 12, faults: CHAOS_FAULT_KINDS, crash: false });
 */
export function planScenario(seed: number, scenario: number, options: ChaosPlanOptions): ChaosScenarioPlan {
  const random = seededRandom(scenarioSeed(seed, scenario));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const faults = planFaults(
    random,
    options.faults.filter((kind): kind is ChaosFaultKind => !isNetworkFaultKind(kind)),
  );
  const actions: ChaosAction[] = [];
  const entries: { intentId: string; limit: boolean }[] = [];
  let at = 0;
  let tripped = false;
  for (let index = 0; index < options.intents; index += 1) {
    at += STEP_MS + Math.floor(random() * 4 * STEP_MS);
    const intentId = `chaos-${scenario}-${index}`;
    const side = random() < 0.5 ? 'buy' : 'sell';
    const sign = side === 'buy' ? 1 : -1;
    const qty = (1 + Math.floor(random() * 3)) / 1000;
    const base = {
      strategy_id: `chaos-${index}`,
      bot_id: 'chaos-bot',
      client_id: 'keel-chaos',
      source: 'library',
      venue: 'paper',
      account: 'main',
      symbol: 'BTCUSDT',
      side,
      qty,
    } as const;
    const roll = random();
    const stop = round(CHAOS_START_PRICE * (1 - sign * (0.02 + random() * 0.03)), 0.1);
    if (roll < 0.3) {
      actions.push({
        at,
        kind: 'submit',
        intentId,
        shape: 'market entry with stop-loss',
        input: { ...base, type: 'market', kind: 'ENTRY', stop_loss: stop },
      });
      entries.push({ intentId, limit: false });
    } else if (roll < 0.5) {
      const price = round(CHAOS_START_PRICE * (1 - sign * (random() * 0.004)), 0.1);
      actions.push({
        at,
        kind: 'submit',
        intentId,
        shape: 'limit entry with stop-loss',
        input: { ...base, type: 'limit', price, time_in_force: 'GTC', kind: 'ENTRY', stop_loss: stop },
      });
      entries.push({ intentId, limit: true });
    } else if (roll < 0.62) {
      const price = round(CHAOS_START_PRICE * (1 - sign * 0.2), 0.1);
      actions.push({
        at,
        kind: 'submit',
        intentId,
        shape: 'far limit entry',
        input: { ...base, type: 'limit', price, time_in_force: 'GTC', kind: 'ENTRY' },
      });
      entries.push({ intentId, limit: true });
    } else if (roll < 0.74) {
      const trigger = round(CHAOS_START_PRICE * (1 + sign * (0.001 + random() * 0.01)), 0.1);
      actions.push({
        at,
        kind: 'submit',
        intentId,
        shape: 'take-profit',
        input: {
          ...base,
          side: side === 'buy' ? 'sell' : 'buy',
          type: 'take_profit_market',
          stop_price: trigger,
          reduce_only: true,
          kind: 'TP',
        },
      });
    } else if (roll < 0.84) {
      actions.push({
        at,
        kind: 'submit',
        intentId,
        shape: 'market exit',
        input: { ...base, type: 'market', reduce_only: true, kind: 'EXIT' },
      });
    } else if (roll < 0.92 && entries.length > 0) {
      const target = pick(entries);
      actions.push({ at, kind: 'cancel', intentId: target.intentId });
    } else if (entries.some((entry) => entry.limit)) {
      const target = pick(entries.filter((entry) => entry.limit));
      actions.push({
        at,
        kind: 'replace',
        intentId: target.intentId,
        qty: (1 + Math.floor(random() * 4)) / 1000,
      });
    } else {
      actions.push({
        at,
        kind: 'submit',
        intentId,
        shape: 'market entry',
        input: { ...base, type: 'market', kind: 'ENTRY' },
      });
      entries.push({ intentId, limit: false });
    }
    // The kill switch trips and resets now and then: protective exits and cancels must still flow.
    if (random() < 0.08) {
      actions.push({ at: at + 1, kind: tripped ? 'reset' : 'trip' });
      tripped = !tripped;
    }
    if (options.crash && random() < 0.15)
      actions.push({ at: at + 2 + Math.floor(random() * STEP_MS), kind: 'crash' });
  }
  if (tripped) actions.push({ at: at + 3, kind: 'reset' });
  actions.sort((a, b) => a.at - b.at);
  const network = options.network
    ? {
        network: planNetworkFaults(
          seededRandom(scenarioSeed(seed, scenario) ^ NETWORK_STREAM),
          options.faults.filter(isNetworkFaultKind),
        ),
      }
    : {};
  return { seed, scenario, actions, faults, ...network, faultsEndAt: at + STEP_MS * 4 };
}

/** Salts the scenario seed for the network dice ("netw"), apart from the plan's own stream. */
const NETWORK_STREAM = 0x6e657477;

export function isNetworkFaultKind(kind: string): kind is NetworkFaultKind {
  return (NETWORK_FAULT_KINDS as readonly string[]).includes(kind);
}

/**
 * Each chosen network fault, on or off by the dice like the paper faults, at 1–6 % per opportunity:
 * a scenario makes a few hundred requests, every lost answer costs keel a lookup and every reset
 * connection a new one, so at the paper faults' rates a third of the requests would fail and a
 * scenario would last for ever. A latency spike is as likely to outlast keel's request timeout as
 * not; a killed stream is reset (the client hears it) or goes silent (only its heartbeat tells).
 */
function planNetworkFaults(random: () => number, kinds: readonly NetworkFaultKind[]): NetworkFaults {
  const faults: NetworkFaults = {};
  for (const kind of kinds) {
    if (random() < 0.3) continue;
    const probability = 0.01 + random() * 0.05;
    switch (kind) {
      case 'netLatencySpike':
        faults.netLatencySpike = {
          probability,
          delayMs:
            random() < 0.5
              ? 150 + Math.floor(random() * 600)
              : NETWORK_REQUEST_TIMEOUT_MS + 200 + Math.floor(random() * 1_000),
        };
        break;
      case 'netStreamKill':
        faults.netStreamKill = { probability, silent: random() < 0.4 };
        break;
      default:
        faults[kind] = { probability };
    }
  }
  return faults;
}

/** Each chosen fault kind, on or off by the dice, at a probability between 2 % and 15 %. */
function planFaults(random: () => number, kinds: readonly ChaosFaultKind[]): PaperFaults {
  const faults: PaperFaults = {};
  for (const kind of kinds) {
    if (random() < 0.3) continue;
    const probability = 0.02 + random() * 0.13;
    switch (kind) {
      case 'delayedAck':
        faults.delayedAck = { probability, delayMs: 100 + Math.floor(random() * 900) };
        break;
      case 'rateLimit':
        faults.rateLimit = { probability, retryAfter: 0.05 };
        break;
      case 'reject':
        faults.reject = { probability: probability / 2, code: random() < 0.5 ? -2019 : -1013 };
        break;
      case 'streamDisconnect':
        faults.streamDisconnect = { probability, lose: 1 + Math.floor(random() * 3) };
        break;
      case 'executionUnknown':
        faults.executionUnknown = { probability, landed: random() < 0.5 };
        break;
      default:
        faults[kind] = { probability };
    }
  }
  return faults;
}

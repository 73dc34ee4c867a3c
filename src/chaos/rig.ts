/**
 * What a chaos scenario runs keel against, and on which time. The in-process rig is the paper
 * venue called directly, on a simulated clock moved in small steps. The network rig is the same
 * paper venue served by `keel paper-venue`'s server on loopback, reached by keel's own Binance
 * adapter (ccxt binanceusdm, REST and user stream) through the seeded fault proxy, on the wall
 * clock: real sockets need real time, so the plan's schedule is compressed and keel runs with
 * short timeouts and intervals.
 * Invariants: the venue's ground truth is always the in-process paper venue, whatever sits in
 * front of it; an instance's clock and venue are views its lifeline cuts (sever.ts), and on the
 * network a killed instance also loses its timers and its connections, as a killed process does;
 * the in-process rig reads no wall clock.
 */
import { ManualClock } from '../adapters/clock/manual.clock.js';
import { systemClock } from '../adapters/clock/system.clock.js';
import { BinanceUsdmVenue } from '../adapters/venue/ccxt/binance.venue.js';
import { startPaperVenueServer } from '../adapters/venue/paper/binance.server.js';
import { openPaperVenue, type PaperVenue } from '../adapters/venue/paper/paper.venue.js';
import type { KeelConfigInput } from '../config/create-keel.js';
import type { ClockPort } from '../ports/clock.port.js';
import type { VenuePort } from '../ports/venue.port.js';
import { createFaultProxy, type ProxyEntrance } from './network.js';
import {
  CHAOS_START_PRICE,
  NETWORK_REQUEST_TIMEOUT_MS,
  scenarioSeed,
  seededRandom,
  type ChaosScenarioPlan,
} from './plan.js';
import { severableClock, type Lifeline } from './sever.js';

/** One keel instance's view of the rig. */
export interface RigInstance {
  venue: VenuePort;
  clock: ClockPort;
  /** Configuration the rig needs on top of the scenario's (venue, timings). */
  config: Partial<KeelConfigInput>;
  /** Work to finish before keel opens (what createKeel does first for a venue it opens itself). */
  warmUp?: Promise<unknown>;
}

export interface ChaosRig {
  /** The venue behind everything; the checker reads its ground truth. */
  readonly paper: PaperVenue;
  /** The rig's clock: simulated in process, the wall clock over the network. */
  readonly clock: ClockPort;
  /** How long keel gets to settle once the faults stop, and the pause between settle rounds. */
  readonly settleMs: number;
  readonly settleRoundMs: number;
  /** The rig's clock reading at plan time `at` (plan.ts). */
  planTime(at: number): number;
  /** Lets the rig's time reach `at`: moves the simulated clock, or waits for the wall clock. */
  advanceTo(at: number): Promise<void>;
  /** Lets time run until `work` settles; undefined when it has not after `limitMs`. */
  drive: <T>(work: Promise<T>, limitMs?: number) => Promise<T | undefined>;
  /**
   * The venue, clock and configuration of a new keel instance living on `line`; the in-process rig
   * answers at once, so that awaiting it adds no turn to its deterministic schedule.
   */
  instance(line: Lifeline): RigInstance | Promise<RigInstance>;
  /** The latest instance's line was just cut: what else a SIGKILL takes with the process. */
  killed(): void;
  /** The storm is over: every fault stops. */
  calm(): void;
  /** How many times each fault fired, by kind. */
  faultCounts(): Record<string, number>;
  close(): Promise<void>;
}

const START = 1_700_000_000_000;
const SYMBOLS = { BTCUSDT: { start: CHAOS_START_PRICE, volatility: 0.0005 } };

/** Simulated time moves in steps this long, with real turns of the event loop between them. */
const SIMULATED_STEP_MS = 50;

/**
 * keel and the paper venue in one process, on a manual clock. Deterministic: everything that
 * happens is a function of the plan.
 *
 * @example
 * const rig = openPaperRig(planScenario(1, 0, { intents: 12, faults: CHAOS_FAULT_KINDS, crash: false }));
 */
export function openPaperRig(plan: ChaosScenarioPlan): ChaosRig {
  const clock = new ManualClock(START);
  const paper = openPaperVenue({
    seed: scenarioSeed(plan.seed, plan.scenario),
    clock,
    stepMs: 100,
    symbols: SYMBOLS,
    faults: plan.faults,
  });
  const stepper = paper.autoStep();
  return {
    paper,
    clock,
    settleMs: 120_000,
    settleRoundMs: 2_000,
    planTime: (at) => START + at,
    async advanceTo(at) {
      while (clock.now() < at) {
        await turns();
        clock.advance(Math.min(SIMULATED_STEP_MS, at - clock.now()));
      }
      await turns();
    },
    async drive<T>(work: Promise<T>, limitMs = 60_000): Promise<T | undefined> {
      let done = false;
      let value: T | undefined;
      let failure: unknown;
      work.then(
        (result) => {
          done = true;
          value = result;
        },
        (error: unknown) => {
          done = true;
          failure = error;
        },
      );
      for (let waited = 0; waited <= limitMs && !done; waited += SIMULATED_STEP_MS) {
        await turns();
        if (!done) clock.advance(SIMULATED_STEP_MS);
      }
      await turns();
      if (failure !== undefined)
        throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
      return value;
    },
    instance: (line) => ({
      venue: paper,
      clock: severableClock(clock, line),
      config: { venue: { kind: 'paper', seed: scenarioSeed(plan.seed, plan.scenario) } },
    }),
    killed: () => undefined,
    calm: () => paper.setFaults({}),
    faultCounts: () => countsOf(paper.faultCounts()),
    close: () => {
      stepper.cancel();
      paper.close();
      return Promise.resolve();
    },
  };
}

/** Plan time runs this much faster over the network: a scenario's dozen actions take seconds. */
const NETWORK_TIME_SCALE = 0.25;
const NETWORK_API_KEY = 'keel-chaos-key';
const NETWORK_API_SECRET = 'keel-chaos-secret';

/**
 * keel's timings over the network, in real milliseconds: keel's defaults (a 10 s reconcile cycle, a
 * 60 s phantom grace, 30 s repair cool-downs) are made for hours of trading, and would leave a
 * seconds-long scenario unreconciled. Each is shortened by about the same factor, so the reconcile
 * loop, phantom clearing and repairs still happen in the order they would live, and still leave the
 * request timeout room to expire and be looked up.
 */
const NETWORK_KEEL_TIMINGS: Partial<KeelConfigInput> = {
  absentAfterMs: 2_000,
  limits: { ackTimeoutMs: 2_000, cancelTimeoutMs: 2_000 },
  reconcile: {
    intervalMs: 1_000,
    fetchTimeoutMs: 4_000,
    fetchRetryMs: 200,
    repairCooldownMs: 3_000,
    repairTimeoutMs: 4_000,
    phantomGraceMs: 2_000,
  },
  protection: { refreshCooldownMs: 1_000 },
};

/** The user stream's timings over the network: a killed connection is noticed and back within a second or two. */
const NETWORK_STREAM_TIMINGS = {
  pingMs: 300,
  silenceMs: 1_200,
  backoffMs: { first: 50, max: 400 },
};

/**
 * keel's Binance adapter → fault proxy → `keel paper-venue`'s server → the paper venue, on the
 * wall clock. The venue's own faults still fire behind the server, as its wire answers them
 * (a venue timeout is a dropped connection, a stream disconnect a dropped socket).
 *
 * @example
 * const rig = await openNetworkRig(planScenario(1, 0, { intents: 12, faults: [...], crash: false, network: true }));
 */
export async function openNetworkRig(plan: ChaosScenarioPlan): Promise<ChaosRig> {
  const seed = scenarioSeed(plan.seed, plan.scenario);
  const paper = openPaperVenue({
    seed,
    clock: systemClock,
    stepMs: 100,
    symbols: SYMBOLS,
    faults: plan.faults,
  });
  const stepper = paper.autoStep();
  const server = await startPaperVenueServer({
    venue: paper,
    apiKey: NETWORK_API_KEY,
    apiSecret: NETWORK_API_SECRET,
    wallClock: systemClock,
  });
  const proxy = createFaultProxy({
    target: { host: '127.0.0.1', port: server.port },
    faults: plan.network ?? {},
    // The proxy's dice come from their own stream: the plan's and the venue's never shift.
    random: seededRandom(seed ^ 0x70726f78),
  });
  const start = systemClock.now();
  let current: { adapter: BinanceUsdmVenue; timers: TrackedClock; entrance: ProxyEntrance } | null = null;

  return {
    paper,
    clock: systemClock,
    settleMs: 15_000,
    settleRoundMs: 500,
    planTime: (at) => start + Math.round(at * NETWORK_TIME_SCALE),
    async advanceTo(at) {
      for (let left = at - systemClock.now(); left > 0; left = at - systemClock.now())
        await sleep(Math.min(left, 50));
    },
    async drive<T>(work: Promise<T>, limitMs = 60_000): Promise<T | undefined> {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), limitMs);
      });
      try {
        return await Promise.race([work, limit]);
      } finally {
        clearTimeout(timer);
      }
    },
    async instance(line) {
      // A door of its own: once this instance is killed, nothing it still tries to send gets through.
      const entrance = await proxy.entrance();
      const timers = trackedClock(systemClock);
      const clock = severableClock(timers, line);
      // The adapter `venue: { kind: 'ccxt', exchange: 'binanceusdm' }` opens, built here so its
      // calls can be severed with the instance and its stream noticed within a scenario.
      const adapter = new BinanceUsdmVenue({
        apiKey: NETWORK_API_KEY,
        secret: NETWORK_API_SECRET,
        urls: { rest: entrance.url, ws: entrance.wsUrl },
        timeoutMs: NETWORK_REQUEST_TIMEOUT_MS,
        clock,
        stream: NETWORK_STREAM_TIMINGS,
      });
      current = { adapter, timers, entrance };
      return {
        venue: adapter,
        clock,
        config: NETWORK_KEEL_TIMINGS,
        // Through the faults, as a restarting keel would; without market rules it still trades.
        warmUp: adapter.loadMarkets(),
      };
    },
    killed() {
      current?.timers.cancelAll();
      // Its connections are cut at once (what reached the proxy is forwarded already); the rest is refused.
      void current?.entrance.close();
      current = null;
    },
    calm() {
      paper.setFaults({});
      proxy.setFaults({});
    },
    faultCounts: () => ({ ...countsOf(paper.faultCounts()), ...countsOf(proxy.faultCounts()) }),
    async close() {
      current?.adapter.close();
      current?.timers.cancelAll();
      await proxy.close();
      await server.close();
      stepper.cancel();
      paper.close();
    },
  };
}

interface TrackedClock extends ClockPort {
  /** Cancels every timer set through this clock, and refuses new ones: the process is gone. */
  cancelAll(): void;
}

/** The wall clock as one instance uses it, so a kill can take its timers along. */
function trackedClock(master: ClockPort): TrackedClock {
  const live = new Set<{ cancel(): void }>();
  let dead = false;
  const track = (
    set: (callback: () => void, ms: number) => { cancel(): void },
    callback: () => void,
    ms: number,
    once: boolean,
  ): { cancel(): void } => {
    if (dead) return { cancel: () => undefined };
    const handle: { cancel(): void } = set(() => {
      if (once) live.delete(handle);
      callback();
    }, ms);
    live.add(handle);
    return {
      cancel: () => {
        handle.cancel();
        live.delete(handle);
      },
    };
  };
  return {
    now: () => master.now(),
    setTimeout: (callback, ms) => track((cb, wait) => master.setTimeout(cb, wait), callback, ms, true),
    setInterval: (callback, ms) => track((cb, wait) => master.setInterval(cb, wait), callback, ms, false),
    cancelAll() {
      dead = true;
      for (const handle of live) handle.cancel();
      live.clear();
    },
  };
}

function countsOf(counts: Partial<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [kind, count] of Object.entries(counts)) if (count !== undefined && count > 0) out[kind] = count;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A few real turns of the event loop: SQLite commits and venue answers land between simulated steps. */
function turns(): Promise<void> {
  return new Promise((resolve) => {
    let left = 4;
    const spin = (): void => {
      left -= 1;
      if (left <= 0) resolve();
      else setImmediate(spin);
    };
    setImmediate(spin);
  });
}

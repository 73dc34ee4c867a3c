/**
 * `npm run bench [-- --json]`: keel's execution-core benchmark (issues 3 and 4). Measures throughput to
 * the end of the lifecycle, the raw SQLite floor under the same writes, admission latency at a fixed
 * offered rate, heap per live intent, the CPU of one reconcile tick and the persisted paper venue's write per
 * call at 0 and 20,000 orders of history, seeded chaos scenarios per second, and the time keel takes to
 * restart over 100,000 closed and 10,000 open intents; prints one line per figure,
 * then (with --json) a single JSON object on the last line. Invariants: throughput and raw floor are measured in the same run,
 * paired round by round; nothing is asserted — targets are reported beside the figures.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runAdmission, type AdmissionResult } from './admission.js';
import { runChaosBench } from './chaos.js';
import { runHeap, type HeapResult } from './heap.js';
import { runPaperPersist } from './paper-persist.js';
import { runRawFloor, type RawFloorResult } from './raw-floor.js';
import { runReconcileTick } from './reconcile-tick.js';
import { runRestart } from './restart.js';
import { median, removeTempDirs } from './support.js';
import { runThroughput, type ThroughputResult } from './throughput.js';

const TARGETS = {
  intentsPerSec: 5_000,
  ratioToRawFloor: 0.5,
  admissionP99Ms: 5,
  heapBytesPerLiveIntent: 5 * 1024,
  reconcileTickMs: 50,
  restartMs: 5_000,
};

const MEASUREMENTS = ['throughput', 'admission', 'heap', 'reconcile', 'paper', 'chaos', 'restart'] as const;
/** The bar's size (issue 4): one tick over this many venue symbols and open orders. */
const RECONCILE_SYMBOLS = 1_000;
const RECONCILE_OPEN_ORDERS = 10_000;
const RECONCILE_WARMUP_TICKS = 10;
/** The persisted paper venue's per-call write, measured with no history and with this many orders. */
const PAPER_HISTORY = 20_000;
const PAPER_CYCLES = 50;
/**
 * Chaos: the scenarios `keel chaos --seed 1 --scenarios 40 --crash` runs (12 actions each, every
 * fault kind), after 5 warm-up scenarios of another seed. Fixed, so the rate always covers the same mix.
 */
const CHAOS = { seed: 1, scenarios: 40, intents: 12, warmupScenarios: 5 };
/** The restart bar (issue 7): this store, restarted this many times; `restartMs` is the median. */
const RESTART = { closed: 100_000, open: 10_000, restarts: 3 };
type Measurement = (typeof MEASUREMENTS)[number];

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    count: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '1000' },
    'light-rate': { type: 'string', default: '100' },
    seconds: { type: 'string', default: '5' },
    live: { type: 'string', default: '100000' },
    'reconcile-ticks': { type: 'string', default: '30' },
    only: { type: 'string', default: MEASUREMENTS.join(',') },
  },
  strict: true,
});

function positive(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}

const params = {
  count: positive('count', values.count),
  warmup: positive('warmup', values.warmup),
  concurrency: positive('concurrency', values.concurrency),
  rounds: positive('rounds', values.rounds),
  admissionRatePerSec: positive('rate', values.rate),
  lightRatePerSec: positive('light-rate', values['light-rate']),
  admissionSeconds: positive('seconds', values.seconds),
  liveIntents: positive('live', values.live),
  reconcileTicks: positive('reconcile-ticks', values['reconcile-ticks']),
};
const only = new Set(
  (values.only ?? '').split(',').map((name) => {
    if (!(MEASUREMENTS as readonly string[]).includes(name)) {
      throw new Error(`--only takes ${MEASUREMENTS.join(', ')}; got ${name}`);
    }
    return name as Measurement;
  }),
);

const round1 = (value: number): number => Math.round(value * 10) / 10;
const round3 = (value: number): number => Math.round(value * 1000) / 1000;
const mark = (ok: boolean): string => (ok ? 'meets' : 'MISSES');

async function main(): Promise<void> {
  // Other work on the machine skews every figure; the load average says how much there was.
  const loadBefore = loadavg()[0] ?? 0;
  console.log(
    `keel bench: node ${process.version}, ${cpus().length} cpus, ${params.count} intents × ${params.rounds} rounds ` +
      `at ${params.concurrency} outstanding; load average ${loadBefore.toFixed(1)}`,
  );
  const output: Record<string, unknown> = {};
  const details: Record<string, unknown> = {};

  if (only.has('throughput')) {
    const rounds: { throughput: ThroughputResult; floor: RawFloorResult }[] = [];
    for (let round = 1; round <= params.rounds; round += 1) {
      const throughput = await runThroughput(params);
      const floor = await runRawFloor({ ...params, profile: throughput.profile });
      rounds.push({ throughput, floor });
      console.log(
        `  round ${round}: keel ${round1(throughput.intentsPerSec)} intents/s (${throughput.seconds.toFixed(2)} s, ` +
          `${throughput.commits} commits), raw floor ${round1(floor.intentsPerSec)} intents/s ` +
          `(${floor.seconds.toFixed(2)} s, ${floor.stats.commits} commits)`,
      );
    }
    for (const { throughput, floor } of rounds) {
      if (floor.journalRowsPerIntent !== throughput.journal.journalRowsPerIntent) {
        console.log(
          `  WARNING: the raw floor wrote ${floor.journalRowsPerIntent} journal rows per intent, keel ` +
            `${throughput.journal.journalRowsPerIntent}: the replayed writes are not the runtime's`,
        );
      }
    }
    const intentsPerSec = median(rounds.map((round) => round.throughput.intentsPerSec));
    const rawFloorIntentsPerSec = median(rounds.map((round) => round.floor.intentsPerSec));
    const ratioToRawFloor = intentsPerSec / rawFloorIntentsPerSec;
    const first = rounds[0];
    if (!first) throw new Error('no throughput round ran');
    console.log(
      `intentsPerSec ${round1(intentsPerSec)} (median of ${rounds.length}; target ≥ ${TARGETS.intentsPerSec}: ` +
        `${mark(intentsPerSec >= TARGETS.intentsPerSec)})`,
    );
    console.log(
      `rawFloorIntentsPerSec ${round1(rawFloorIntentsPerSec)}; ratio ${round3(ratioToRawFloor)} ` +
        `(target ≥ ${TARGETS.ratioToRawFloor}: ${mark(ratioToRawFloor >= TARGETS.ratioToRawFloor)})`,
    );
    console.log(
      `  per intent: ${first.floor.storeCallsPerIntent} store calls in ${first.throughput.profile.groups.length} ` +
        `commit groups (${first.throughput.profileShape}); ${first.throughput.journal.journalRowsPerIntent} journal rows`,
    );
    Object.assign(output, {
      intentsPerSec: round1(intentsPerSec),
      rawFloorIntentsPerSec: round1(rawFloorIntentsPerSec),
      ratioToRawFloor: round3(ratioToRawFloor),
    });
    details['throughput'] = {
      rounds: rounds.map(({ throughput, floor }) => ({
        intentsPerSec: round1(throughput.intentsPerSec),
        executedPerSec: round1(throughput.executedPerSec),
        seconds: round3(throughput.seconds),
        commits: throughput.commits,
        largestBatch: throughput.largestBatch,
        liveAfter: throughput.liveAfter,
        anomalies: throughput.anomalies,
        rawFloorIntentsPerSec: round1(floor.intentsPerSec),
        rawFloorSeconds: round3(floor.seconds),
        rawFloorCommits: floor.stats.commits,
      })),
      storeCallsPerIntent: first.floor.storeCallsPerIntent,
      writeProfile: first.throughput.profileShape,
      writeProfileShare: round3(first.throughput.profileShare),
      journal: first.throughput.journal,
      durability: first.floor.durability,
    };
  }

  if (only.has('admission')) {
    const measure = async (rate: number): Promise<AdmissionResult> => {
      const admission = await runAdmission({ rate, seconds: params.admissionSeconds, warmupSeconds: 1 });
      console.log(
        `admission at ${rate} intents/s (${round1(admission.offeredPerSec)} offered, ${admission.offered} measured): ` +
          `p50 ${round3(admission.p50Ms)} ms, p90 ${round3(admission.p90Ms)} ms, p99 ${round3(admission.p99Ms)} ms, ` +
          `max ${round3(admission.maxMs)} ms`,
      );
      return admission;
    };
    const describe = (admission: AdmissionResult) => ({
      offered: admission.offered,
      offeredPerSec: round1(admission.offeredPerSec),
      p50Ms: round3(admission.p50Ms),
      p90Ms: round3(admission.p90Ms),
      p99Ms: round3(admission.p99Ms),
      maxMs: round3(admission.maxMs),
      pacerLagMaxMs: round3(admission.pacerLagMaxMs),
    });
    const admission = await measure(params.admissionRatePerSec);
    console.log(
      `admissionP99Ms ${round3(admission.p99Ms)} at ${params.admissionRatePerSec} intents/s ` +
        `(target ≤ ${TARGETS.admissionP99Ms} ms: ${mark(admission.p99Ms <= TARGETS.admissionP99Ms)})`,
    );
    // The same path well below saturation: what one intent costs when nothing queues ahead of it.
    const light = await measure(params.lightRatePerSec);
    Object.assign(output, {
      admissionP50Ms: round3(admission.p50Ms),
      admissionP99Ms: round3(admission.p99Ms),
    });
    details['admission'] = {
      ...describe(admission),
      light: { ratePerSec: params.lightRatePerSec, ...describe(light) },
    };
  }

  if (only.has('heap')) {
    const heap: HeapResult = await runHeap({
      count: params.liveIntents,
      baseline: 1_000,
      concurrency: params.concurrency,
    });
    console.log(
      `heap per live intent with ${heap.liveIntents} live: ${Math.round(heap.runningHeapBytesPerLiveIntent)} B ` +
        `with every actor running, ${Math.round(heap.heapBytesPerLiveIntent)} B once ${heap.parkedIntents} ` +
        `quiet intents are parked (after ${heap.parkAfterMs} ms)`,
    );
    console.log(
      `heapBytesPerLiveIntent ${Math.round(heap.heapBytesPerLiveIntent)} (target ≤ ${TARGETS.heapBytesPerLiveIntent}: ` +
        `${mark(heap.heapBytesPerLiveIntent <= TARGETS.heapBytesPerLiveIntent)}); off-heap: RSS ` +
        `+${Math.round(heap.rssBytesPerLiveIntent)} B/intent, SQLite file ${Math.round(heap.sqliteFileBytesPerIntent)} B/intent`,
    );
    output['heapBytesPerLiveIntent'] = Math.round(heap.heapBytesPerLiveIntent);
    details['heap'] = {
      liveIntents: heap.liveIntents,
      parkedIntents: heap.parkedIntents,
      parkAfterMs: heap.parkAfterMs,
      runningHeapBytesPerLiveIntent: Math.round(heap.runningHeapBytesPerLiveIntent),
      heapUsedBaselineBytes: heap.heapUsedBaselineBytes,
      heapUsedRunningBytes: heap.heapUsedRunningBytes,
      heapUsedParkedBytes: heap.heapUsedParkedBytes,
      rssBytesPerLiveIntent: Math.round(heap.rssBytesPerLiveIntent),
      externalBytesPerLiveIntent: Math.round(heap.externalBytesPerLiveIntent),
      sqliteFileBytesPerIntent: Math.round(heap.sqliteFileBytesPerIntent),
      venue: 'ack-only stub (acknowledges, never fills)',
    };
  }

  if (only.has('reconcile')) {
    const tick = await runReconcileTick({
      symbols: RECONCILE_SYMBOLS,
      openOrders: RECONCILE_OPEN_ORDERS,
      warmupTicks: RECONCILE_WARMUP_TICKS,
      ticks: params.reconcileTicks,
    });
    const cycle = tick.lastCycle;
    console.log(
      `reconcile tick over ${tick.symbols} symbols and ${tick.openOrders} open orders (${cycle.confirmed} confirmed, ` +
        `${cycle.drift} drift, ${cycle.phantom} phantom, ${cycle.orphan} orphan; ${cycle.repairActions} repaired): ` +
        `CPU p50 ${round3(tick.cpuMs)} ms, p90 ${round3(tick.cpuP90Ms)} ms, max ${round3(tick.cpuMaxMs)} ms ` +
        `(${round3(tick.cpuToSummaryMs)} ms up to the summary), wall p50 ${round3(tick.wallMs)} ms`,
    );
    console.log(
      `reconcileTickMs ${round3(tick.cpuMs)} (median of ${tick.ticks}; target ≤ ${TARGETS.reconcileTickMs} ms: ` +
        `${mark(tick.cpuMs <= TARGETS.reconcileTickMs)})`,
    );
    output['reconcileTickMs'] = round3(tick.cpuMs);
    details['reconcile'] = {
      ticks: tick.ticks,
      warmupTicks: RECONCILE_WARMUP_TICKS,
      cpuP90Ms: round3(tick.cpuP90Ms),
      cpuMaxMs: round3(tick.cpuMaxMs),
      cpuToSummaryMs: round3(tick.cpuToSummaryMs),
      wallMs: round3(tick.wallMs),
      symbols: tick.symbols,
      openOrders: tick.openOrders,
      conditionalOrders: tick.conditionalOrders,
      symbolsWithStops: tick.symbolsWithStops,
      lastCycle: tick.lastCycle,
      journalRowsPerTick: tick.journalRowsPerTick,
      killSwitchTripped: tick.killSwitchTripped,
      venue: 'stub answering positions() and openOrders() at once from prebuilt snapshots',
    };
  }

  if (only.has('paper')) {
    const runs = [];
    for (const history of [0, PAPER_HISTORY]) {
      const run = await runPaperPersist({ history, cycles: PAPER_CYCLES });
      console.log(
        `paper venue persisted write per call with ${history} orders of history (${run.calls} calls): ` +
          `WAL ${run.walBytesPerCallMedian} B median, ${run.walBytesPerCallMax} B max; ` +
          `${run.rowsPerCallMedian} rows median, ${run.rowsPerCallMax} max; ` +
          `call p50 ${round3(run.callMsP50)} ms, p99 ${round3(run.callMsP99)} ms; database ${run.dbFileBytes} B`,
      );
      runs.push({ ...run, callMsP50: round3(run.callMsP50), callMsP99: round3(run.callMsP99) });
    }
    details['paperPersist'] = { cycle: 'market fill, resting limit, its cancel, one feed step', runs };
  }

  if (only.has('chaos')) {
    const chaos = await runChaosBench(CHAOS);
    const { report } = chaos;
    console.log(
      `chaos: ${report.scenarios} scenarios of seed ${CHAOS.seed} with crashes (${report.intents} intents, ` +
        `${report.faultsInjected} faults, ${report.crashes} crashes) in ${chaos.seconds.toFixed(2)} s, ` +
        `${round1(chaos.cpuMsPerScenario)} ms CPU per scenario; ${report.violations.length} violation(s)`,
    );
    if (report.violations.length > 0) {
      console.log(
        `  WARNING: the checker found violations; reproduce one with ` +
          `keel chaos --seed ${CHAOS.seed} --from <scenario> --scenarios 1 --crash`,
      );
    }
    console.log(`chaosScenariosPerSec ${round1(chaos.scenariosPerSec)}`);
    output['chaosScenariosPerSec'] = round1(chaos.scenariosPerSec);
    details['chaos'] = {
      seed: CHAOS.seed,
      scenarios: report.scenarios,
      intentsPerScenario: CHAOS.intents,
      warmupScenarios: CHAOS.warmupScenarios,
      crash: true,
      seconds: round3(chaos.seconds),
      cpuMsPerScenario: round3(chaos.cpuMsPerScenario),
      intents: report.intents,
      faultsInjected: report.faultsInjected,
      crashes: report.crashes,
      violations: report.violations.length,
    };
  }

  if (only.has('restart')) {
    const restart = await runRestart({ ...RESTART, concurrency: params.concurrency });
    console.log(
      `restart over ${restart.closed} closed and ${restart.open} open intents (store built in ` +
        `${restart.buildSeconds.toFixed(1)} s, ${restart.dbBytes} B, ${restart.journalRows} journal rows): ` +
        restart.runs
          .map((run) => `${Math.round(run.restartMs)} ms (CPU ${Math.round(run.cpuMs)} ms)`)
          .join(', ') +
        `; ${restart.open} restored and reconciled each time`,
    );
    console.log(
      `restartMs ${Math.round(restart.restartMs)} (median of ${restart.runs.length}; target ≤ ` +
        `${TARGETS.restartMs} ms: ${mark(restart.restartMs <= TARGETS.restartMs)})`,
    );
    output['restartMs'] = Math.round(restart.restartMs);
    details['restart'] = {
      closedIntents: restart.closed,
      openIntents: restart.open,
      buildSeconds: round1(restart.buildSeconds),
      dbBytes: restart.dbBytes,
      journalRows: restart.journalRows,
      venueOpenOrders: restart.venueOpenOrders,
      cpuMs: Math.round(restart.cpuMs),
      runs: restart.runs.map((run) => ({
        restartMs: Math.round(run.restartMs),
        createKeelMs: Math.round(run.createKeelMs),
        cpuMs: Math.round(run.cpuMs),
        restored: run.restored,
        reconciled: run.reconciled,
        abandoned: run.abandoned,
      })),
      restoredRowsJournaled: restart.restoredRowsJournaled,
      venue: 'in-memory paper venue holding the open orders keel placed before the restart',
    };
  }

  const result = {
    ...output,
    params: {
      n: params.count,
      warmup: params.warmup,
      concurrency: params.concurrency,
      rounds: params.rounds,
      admissionRatePerSec: params.admissionRatePerSec,
      admissionSeconds: params.admissionSeconds,
      lightRatePerSec: params.lightRatePerSec,
      liveIntents: params.liveIntents,
      reconcileTicks: params.reconcileTicks,
    },
    targets: TARGETS,
    details,
    env: {
      node: process.version,
      cpus: cpus().length,
      platform: process.platform,
      loadAverage1mBefore: round1(loadBefore),
      loadAverage1mAfter: round1(loadavg()[0] ?? 0),
    },
  };
  if (values.json) console.log(JSON.stringify(result));
}

try {
  await main();
} finally {
  removeTempDirs();
}

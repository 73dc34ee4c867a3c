/**
 * Admission latency: intents offered at a steady real-time rate, each timed from just before
 * `keel.submit` to the moment the venue's `submit` is called (registration, blockers, the durable
 * SENT_TO_BROKER and the router in between). Invariants: the pacer offers intent k at start + k/rate
 * whatever keel's backlog (open loop, so a slow keel shows as latency, not as a lower rate); every
 * offered intent must reach the venue and finish EXECUTED, or the run fails.
 */
import { openPaperVenue } from '../src/adapters/venue/paper/paper.venue.js';
import { openBenchKeel } from './bench-keel.js';
import { entryIntent, percentile, sleep, withDeadline } from './support.js';
import { observedVenue } from './venues.js';

export interface AdmissionOptions {
  /** Intents offered per second. */
  rate: number;
  seconds: number;
  /** Seconds offered at the same rate first and not measured. */
  warmupSeconds: number;
}

export interface AdmissionResult {
  offered: number;
  offeredPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Largest gap between when an intent was due and when the pacer offered it. */
  pacerLagMaxMs: number;
}

export async function runAdmission(options: AdmissionOptions): Promise<AdmissionResult> {
  const venueCalledAt = new Map<string, number>();
  const bench = await openBenchKeel('admission', (clock) =>
    observedVenue(openPaperVenue({ seed: 7, clock }), (clientOrderId) => {
      venueCalledAt.set(clientOrderId, performance.now());
    }),
  );
  const { keel } = bench;
  const warmup = Math.round(options.rate * options.warmupSeconds);
  const total = warmup + Math.round(options.rate * options.seconds);
  const offeredAt: number[] = new Array<number>(total).fill(0);
  const clientOrderIds: string[] = new Array<string>(total).fill('');
  const inFlight: Promise<void>[] = [];
  let pacerLagMaxMs = 0;

  const offer = (index: number): Promise<void> => {
    offeredAt[index] = performance.now();
    return keel.submit(entryIntent(index), { intentId: `a-${index}` }).then(async (sent) => {
      clientOrderIds[index] = sent.clientOrderId;
      const done = await keel.settled(sent.intent_id);
      if (done.status !== 'EXECUTED') throw new Error(`intent ${done.intent_id} ended ${done.status}`);
    });
  };

  try {
    const started = performance.now();
    let next = 0;
    while (next < total) {
      const elapsed = performance.now() - started;
      const due = Math.min(total, Math.floor((elapsed * options.rate) / 1000) + 1);
      for (; next < due; next += 1) {
        const dueAt = started + (next * 1000) / options.rate;
        if (next >= warmup) pacerLagMaxMs = Math.max(pacerLagMaxMs, performance.now() - dueAt);
        inFlight.push(offer(next));
      }
      // A timer turn lets keel's commits and venue calls run between offers.
      await sleep(1);
    }
    const offeredSeconds = (performance.now() - started) / 1000;
    await withDeadline(Promise.all(inFlight), 120_000, () => `${keel.liveCount()} intents never finished`);
    await keel.idle();

    const latencies: number[] = [];
    for (let index = warmup; index < total; index += 1) {
      const calledAt = venueCalledAt.get(clientOrderIds[index] ?? '');
      if (calledAt === undefined) throw new Error(`intent a-${index} never reached the venue`);
      latencies.push(calledAt - (offeredAt[index] ?? 0));
    }
    latencies.sort((a, b) => a - b);
    return {
      offered: latencies.length,
      offeredPerSec: total / offeredSeconds,
      p50Ms: percentile(latencies, 50),
      p90Ms: percentile(latencies, 90),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? Number.NaN,
      pacerLagMaxMs,
    };
  } finally {
    await bench.close();
  }
}

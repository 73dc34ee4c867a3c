/**
 * The child program of keel's SIGKILL crash test: one keel over a persisted paper venue with faults on.
 * `run` mode submits the planned stream from an index on and prints `ACK <intentId> <status>` only
 * after each submit resolved; `recover` mode only starts keel (restore → reconcile → run), waits until
 * every registered intent is EXECUTED or FAILED or rests on the venue, prints each result, then closes.
 * Given `killAtAck`, it sends itself SIGKILL right after that ACK, the harshest point for durability.
 * Invariants: every line is written synchronously before the next step starts, so a line the parent
 * reads is a fact the child had already established; resubmitting an index reuses its intent id.
 */
import { writeSync } from 'node:fs';
import { createKeel } from '../../src/index.js';
import { readPaperState } from '../../src/adapters/venue/paper/paper.store.js';
import { crashSteps, intentIdOf, type CrashChildArgs } from './crash-plan.js';
import { CRASH_FAULTS, crashKeelConfig } from './crash-config.js';

/** Writes the whole line before returning; the pipe is non-blocking, so a full one is retried. */
function say(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(1, bytes, written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

const raw = process.argv[2];
if (raw === undefined) throw new Error('usage: crash-child <json args>');
const args = JSON.parse(raw) as CrashChildArgs;
const steps = crashSteps(args.seed, args.count);

say('STARTING');
const keel = await createKeel(crashKeelConfig(args, CRASH_FAULTS));
say(`READY ${JSON.stringify(keel.recovery)}`);

if (args.mode === 'run') {
  for (const step of steps.slice(args.from)) {
    // Cancels first: a kill before this step's ACK makes the next child redo them, and cancel is idempotent.
    for (const target of step.cancels) {
      const result = await keel.cancel(target);
      say(`CANCEL ${target} ${result.status}`);
    }
    const result = await keel.submit(step.input, { intentId: step.intentId });
    say(`ACK ${step.intentId} ${result.status}`);
    if (args.killAtAck !== undefined && step.index >= args.killAtAck) process.kill(process.pid, 'SIGKILL');
  }
  await keel.idle();
  say('END');
  await keel.close();
} else {
  const ids = steps.map((step) => intentIdOf(step.index));
  const deadline = Date.now() + args.settleTimeoutMs;
  let waiting: string[] = [];
  for (;;) {
    await keel.idle();
    const venue = readPaperState(args.paperDir);
    const live = new Set(
      (venue?.orders ?? [])
        .filter((order) => order.status === 'NEW' || order.status === 'PARTIALLY_FILLED')
        .map((order) => order.clientOrderId),
    );
    waiting = ids.filter((id) => {
      const result = keel.get(id);
      if (result === null || result.status === 'EXECUTED' || result.status === 'FAILED') return false;
      // A resting limit is at rest: keel says SENT_TO_BROKER and the venue holds it open.
      return !(result.status === 'SENT_TO_BROKER' && live.has(result.clientOrderId));
    });
    if (waiting.length === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (waiting.length > 0) {
    say(`UNSETTLED ${JSON.stringify(waiting.map((id) => keel.get(id)))}`);
  }
  for (const id of ids) {
    const result = keel.get(id);
    if (result !== null) say(`RESULT ${JSON.stringify(result)}`);
  }
  await keel.close();
  say('CLOSED');
}

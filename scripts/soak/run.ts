/**
 * The crash-restart soak (issue 7 §2): the real `keel run` (built CLI, child process) under a seeded
 * HTTP load for a set time, killed with SIGKILL at seeded random moments and restarted on the same
 * data dir; then the load stops, keel settles (live orders cancelled, the position flattened, as keel
 * chaos settles), keel is stopped with SIGTERM and keel chaos's checker judges the data dir offline.
 * Invariants: the moment a keel dies, before the next one starts, every submission it acknowledged
 * must be in its journal at least as far along as the acknowledgement said; keel is never stopped
 * gently until the load is over; everything judged is read from disk after keel exited.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkDataDir, acknowledgedButLost } from '../../src/chaos/check-data-dir.js';
import { seededRandom } from '../../src/chaos/plan.js';
import type { ChaosInvariant } from '../../src/chaos/scenario.js';
import { createApi, type Api } from './api.js';
import { spawnDaemon, type DaemonProcess, type DaemonSpec } from './daemon.js';
import { SoakFlagError, type SoakFlags } from './flags.js';
import { LoadDriver, SOAK_OWNER, SYMBOL } from './load.js';

/** keel chaos's invariants, and what only a real process and a real client can break. */
export type SoakInvariant =
  | ChaosInvariant
  /** A resubmission under the same Idempotency-Key is the same intent, across restarts. */
  | 'idempotent-retry'
  /** keel run exits only when the soak kills or stops it. */
  | 'daemon-stays-up'
  /** SIGTERM stops keel run with exit 0 within its grace period. */
  | 'clean-stop';

export interface SoakViolation {
  invariant: SoakInvariant;
  detail: string;
}

export interface RecoveryTotals {
  /** Unfinished intents restored from their snapshots. */
  restored: number;
  /** Of those, intents that had reached the venue and were looked up by clientOrderId. */
  reconciled: number;
  /** Registered but never sent before the kill: failed rather than sent late. */
  abandoned: number;
  /** Open venue orders keel had no record of. */
  orphans: number;
}

export interface SoakReport {
  seed: number;
  minutes: number;
  /** Every SIGKILL, those during a start-up included. */
  kills: number;
  /** Kills of a restart before it was ready. */
  startupKills: number;
  restarts: number;
  intentsSubmitted: number;
  intentsAcknowledged: number;
  /** Spawn to the first 200 of /readyz, over the restarts that got there; null without any. */
  meanRestartMs: number | null;
  p95RestartMs: number | null;
  /** Trades of keel's orders at the venue. */
  fills: number;
  cancels: number;
  replaces: number;
  retries: number;
  killSwitchTrips: string[];
  /** What the starts found to recover, summed from their "keel is running" log lines (a floor: a kill can cut a line). */
  recovered: RecoveryTotals;
  /** How long settling took; null when the soak ended early because keel run could not start. */
  settleMs: number | null;
  dataDir: string;
  violations: SoakViolation[];
}

const READY_TIMEOUT_MS = 60_000;
/**
 * One restart in eight is killed again during its start-up: at 20–95 % of the last restart's time to
 * ready, so the kill lands anywhere from loading the modules to restore → reconcile.
 */
const STARTUP_KILL_ODDS = 1 / 8;
const TYPICAL_START_MS = 2_000;
/** How long in-flight requests may keep retrying once the load stops. */
const DRAIN_MS = 60_000;
const PROGRESS_EVERY_MS = 10_000;
const QTY_EPSILON = 1e-9;
/** SIGTERM's bound: keel's own grace (10 s by default) and a margin for the process to exit. */
const STOP_TIMEOUT_MS = 30_000;

/**
 * @example
 * const report = await runSoak(parseSoakFlags(process.argv.slice(2)), console.log);
 * process.exitCode = report.violations.length === 0 ? 0 : 1;
 */
export async function runSoak(flags: SoakFlags, log: (line: string) => void): Promise<SoakReport> {
  const dir = soakDir(flags.dir);
  const dataDir = join(dir, 'data');
  const paperDir = join(dataDir, 'paper');
  const spec: DaemonSpec = {
    configFile: join(dir, 'keel.json'),
    dataDir,
    port: await freePort(),
    token: randomBytes(24).toString('hex'),
    stderrFile: join(dir, 'daemon.stderr.log'),
  };
  writeFileSync(spec.configFile, `${JSON.stringify(soakConfig(flags.seed), null, 2)}\n`);
  const violations: SoakViolation[] = [];
  const api = createApi(spec.port, spec.token);
  const killRandom = seededRandom(flags.seed ^ 0x6b111);
  const restartMs: number[] = [];
  let kills = 0;
  let startupKills = 0;
  let spawns = 0;
  const t0 = performance.now();
  const elapsed = (): string => `${((performance.now() - t0) / 1_000).toFixed(1)}s`;
  const load = new LoadDriver({ seed: flags.seed, rate: flags.rate, api, paperDir, log });

  /** The keel run alive now, if any: killed if the soak itself fails, so no child outlives it. */
  const alive: { daemon: DaemonProcess | null } = { daemon: null };

  /**
   * Spawns keel run and waits for it to be ready; a keel that cannot get there ends the soak. A
   * restart is, now and then (seeded), killed again during its start-up, before it is ready: a crash
   * loop interrupts restore → reconcile, which must lose nothing either.
   */
  async function start(): Promise<DaemonProcess> {
    for (;;) {
      const daemon = spawnDaemon(spec);
      alive.daemon = daemon;
      spawns += 1;
      const startupKillMs =
        spawns > 1 && killRandom() < STARTUP_KILL_ODDS
          ? (restartMs.at(-1) ?? TYPICAL_START_MS) * (0.2 + killRandom() * 0.75)
          : null;
      let killedInStartup = false;
      const timer =
        startupKillMs === null
          ? null
          : setTimeout(() => {
              killedInStartup = true;
              daemon.kill('SIGKILL');
            }, startupKillMs);
      let readyMs: number | null;
      try {
        readyMs = await daemon.ready(READY_TIMEOUT_MS);
      } catch (error) {
        throw new StartFailure(error instanceof Error ? error.message : String(error));
      } finally {
        if (timer !== null) clearTimeout(timer);
      }
      // Checked first: the kill may land while the answer that said "ready" is still being read.
      if (killedInStartup) {
        await daemon.exited;
        kills += 1;
        startupKills += 1;
        log(
          `${elapsed()} kill ${kills}: SIGKILL to pid ${daemon.pid} ${Math.round(startupKillMs ?? 0)} ms into its start-up`,
        );
        checkAcknowledged(`after kill ${kills} (in start-up)`);
        continue;
      }
      if (readyMs === null) {
        const exit = await daemon.exited;
        throw new StartFailure(
          `keel run pid ${daemon.pid} exited before it was ready (code ${String(exit.code)}, signal ${String(exit.signal)}):\n${tail(spec.stderrFile)}`,
        );
      }
      if (spawns > 1) restartMs.push(readyMs);
      log(`${elapsed()} keel run pid ${daemon.pid} ready in ${Math.round(readyMs)} ms`);
      return daemon;
    }
  }

  /** What a keel left on disk when it died: every acknowledged submission must be there. */
  function checkAcknowledged(after: string): void {
    const started = performance.now();
    const lost = acknowledgedButLost(dataDir, load.acknowledged);
    for (const detail of lost)
      violations.push({ invariant: 'acknowledged-survives-crash', detail: `${after}: ${detail}` });
    log(
      `${elapsed()} ${after}: ${load.acknowledged.size} acknowledged intents checked on disk in ${Math.round(performance.now() - started)} ms, ${lost.length} lost`,
    );
  }

  log(
    `soak seed ${flags.seed}: ${flags.minutes} min at ${flags.rate} actions/s, SIGKILL every ${flags.killEveryMinS}–${flags.killEveryMaxS} s; dir ${dir}`,
  );
  const report = (fills: number, settleMs: number | null): SoakReport => ({
    seed: flags.seed,
    minutes: flags.minutes,
    kills,
    startupKills,
    restarts: spawns - 1,
    intentsSubmitted: load.stats.submitted,
    intentsAcknowledged: load.acknowledged.size,
    meanRestartMs: restartMs.length === 0 ? null : Math.round(mean(restartMs)),
    p95RestartMs: restartMs.length === 0 ? null : Math.round(percentile(restartMs, 0.95)),
    fills,
    cancels: load.stats.cancels,
    replaces: load.stats.replaces,
    retries: load.stats.retries,
    killSwitchTrips: load.stats.killSwitchTrips,
    recovered: recoveryTotals(join(dataDir, 'keel.log')),
    settleMs: settleMs === null ? null : Math.round(settleMs),
    dataDir: dir,
    violations,
  });

  let daemon: DaemonProcess;
  try {
    daemon = await start();
  } catch (error) {
    if (!(error instanceof StartFailure)) throw error;
    alive.daemon?.kill('SIGKILL');
    violations.push({ invariant: 'daemon-stays-up', detail: error.message });
    return report(0, null);
  }
  load.start();
  const endAt = performance.now() + flags.minutes * 60_000;
  const progress = setInterval(
    () =>
      log(
        `${elapsed()} kills ${kills}, submitted ${load.stats.submitted}, acknowledged ${load.acknowledged.size}, retries ${load.stats.retries}; ${load.describe()}`,
      ),
    PROGRESS_EVERY_MS,
  );
  try {
    for (;;) {
      const lifeMs =
        (flags.killEveryMinS + killRandom() * (flags.killEveryMaxS - flags.killEveryMinS)) * 1_000;
      const killAt = Math.min(daemon.spawnedAt + lifeMs, endAt);
      const outcome = await Promise.race([
        sleep(killAt - performance.now()).then(() => 'due' as const),
        daemon.exited.then(() => 'exited' as const),
      ]);
      if (outcome === 'exited') {
        const exit = await daemon.exited;
        violations.push({
          invariant: 'daemon-stays-up',
          detail: `keel run pid ${daemon.pid} exited on its own at ${elapsed()} (code ${String(exit.code)}, signal ${String(exit.signal)}):\n${tail(spec.stderrFile)}`,
        });
        checkAcknowledged(`after keel run pid ${daemon.pid} exited`);
      } else if (performance.now() >= endAt) {
        break;
      } else {
        daemon.kill('SIGKILL');
        await daemon.exited;
        kills += 1;
        log(
          `${elapsed()} kill ${kills}: SIGKILL to pid ${daemon.pid} after ${Math.round(performance.now() - daemon.spawnedAt)} ms`,
        );
        checkAcknowledged(`after kill ${kills}`);
      }
      daemon = await start();
    }
  } catch (error) {
    // keel run could not start again after a kill: the worst outcome a soak can find. The data
    // dir is kept as it was for investigation; settling and checking it would only add noise.
    await load.halt();
    alive.daemon?.kill('SIGKILL');
    if (!(error instanceof StartFailure)) throw error;
    violations.push({ invariant: 'daemon-stays-up', detail: `after kill ${kills}: ${error.message}` });
    violations.push(...load.findings);
    return report(0, null);
  } finally {
    clearInterval(progress);
  }

  log(`${elapsed()} load over: draining requests in flight`);
  await load.stop(DRAIN_MS);
  const settleStarted = performance.now();
  await settle(api, load, flags, log);
  const settleMs = performance.now() - settleStarted;
  log(`${elapsed()} settled in ${Math.round(settleMs)} ms`);
  const livePositions = await believedPositions(api);

  daemon.kill('SIGTERM');
  const stopped = await Promise.race([daemon.exited, sleep(STOP_TIMEOUT_MS).then(() => null)]);
  if (stopped === null) {
    daemon.kill('SIGKILL');
    await daemon.exited;
    violations.push({
      invariant: 'clean-stop',
      detail: `keel run did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`,
    });
  } else if (stopped.code !== 0) {
    violations.push({
      invariant: 'clean-stop',
      detail: `keel run exited ${String(stopped.code)} (signal ${String(stopped.signal)}) on SIGTERM:\n${tail(spec.stderrFile)}`,
    });
  }

  log(`${elapsed()} keel stopped; checking ${dataDir}`);
  const checked = checkDataDir({
    dataDir,
    acknowledged: load.acknowledged,
    ...(livePositions === null ? {} : { livePositions }),
  });
  violations.push(...load.findings, ...checked.findings);
  return report(checked.fills, settleMs);
}

/** keel run did not become ready: the soak cannot go on. */
class StartFailure extends Error {
  override readonly name = 'StartFailure';
}

/**
 * keel chaos's settle, over the API: until nothing is live and both the venue and keel's belief
 * are flat (or the bound passes), cancel every live intent and flatten the venue's position with a
 * reduce-only exit, then give keel two seconds, as chaos gives it its idle wait.
 */
async function settle(
  api: Api,
  load: LoadDriver,
  flags: SoakFlags,
  log: (line: string) => void,
): Promise<void> {
  const deadline = performance.now() + flags.settleSeconds * 1_000;
  load.retryUntil(deadline + DRAIN_MS);
  for (let round = 0; performance.now() < deadline; round += 1) {
    const live = await liveIntents(api);
    const { position } = load.readMarket();
    const believed = (await believedPositions(api))?.[SYMBOL] ?? 0;
    if (live.length === 0 && Math.abs(position) < QTY_EPSILON && Math.abs(believed) < QTY_EPSILON) return;
    if (round % 5 === 0)
      log(
        `settle round ${round}: ${live.length} live, venue position ${position}, keel believes ${believed}`,
      );
    for (let start = 0; start < live.length; start += 8) {
      await Promise.all(live.slice(start, start + 8).map((intentId) => load.cancel(intentId, true)));
    }
    if (Math.abs(position) >= QTY_EPSILON) {
      await load.submit(`soak-${flags.seed}-flatten-${round}`, {
        strategy_id: 'soak-flatten',
        ...SOAK_OWNER,
        side: position > 0 ? 'sell' : 'buy',
        type: 'market',
        qty: Number(Math.abs(position).toFixed(3)),
        reduce_only: true,
        kind: 'EXIT',
      });
    }
    await sleep(Math.min(2_000, deadline - performance.now()));
  }
  await sleep(2_000);
}

/** Every intent keel has not finished (CREATED or SENT_TO_BROKER), by id. */
async function liveIntents(api: Api): Promise<string[]> {
  const ids: string[] = [];
  for (const status of ['CREATED', 'SENT_TO_BROKER']) {
    const answer = await api.honestly(
      { method: 'GET', path: `/v1/intents?status=${status}&limit=1000` },
      () => false,
    );
    if (answer.kind !== 'answer') continue;
    for (const result of (answer.json.intents ?? []) as Array<{ intent_id: string }>)
      ids.push(result.intent_id);
  }
  return ids;
}

/** keel's belief of each position (the local side, signed), as keel chaos reads it; null if keel did not answer. */
async function believedPositions(api: Api): Promise<Record<string, number> | null> {
  const answer = await api.once({ method: 'GET', path: '/v1/positions' });
  if (answer.kind !== 'answer' || answer.status !== 200) return null;
  const positions: Record<string, number> = {};
  for (const belief of (answer.json.beliefs ?? []) as Array<{
    symbol: string;
    local: { qty: number; side: 'long' | 'short' } | null;
  }>) {
    const local = belief.local;
    positions[belief.symbol] = local === null ? 0 : local.side === 'long' ? local.qty : -local.qty;
  }
  return positions;
}

/**
 * The daemon configuration of a soak: the embedded paper venue on the soak's seed with a faster
 * price step (more triggers and fills per minute), the rate limit off (the soak is one client
 * sending on purpose faster than the default limit allows), and room for more working entries
 * per symbol than the default four, so cancels and replaces have resting orders to act on.
 */
function soakConfig(seed: number): Record<string, unknown> {
  return {
    keel: {
      venue: { kind: 'paper', seed, stepMs: 250 },
      beliefController: { knobs: { GREEN: { max_open_orders_per_symbol: 50 } } },
    },
    http: { rateLimit: { enabled: false } },
    logging: { level: 'info', file: true },
  };
}

function soakDir(given: string | undefined): string {
  if (given === undefined) return mkdtempSync(join(tmpdir(), 'keel-soak-'));
  const dir = resolve(given);
  // Intent ids repeat from one soak of a seed to the next; an old data dir would answer them.
  if (existsSync(join(dir, 'data', 'keel.db')))
    throw new SoakFlagError(`--dir: ${dir} already holds a soak's data; give an empty or new directory`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes a soak dir the run left (the caller keeps it when there is something to investigate). */
export function removeSoakDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolvePort(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, Math.max(0, ms)));
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Nearest rank: the smallest value with at least `p` of the values at or below it. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

/** Sums the recovery reports keel logs as it starts ("keel is running"), one per start. */
function recoveryTotals(logFile: string): RecoveryTotals {
  const totals: RecoveryTotals = { restored: 0, reconciled: 0, abandoned: 0, orphans: 0 };
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return totals;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"keel is running"')) continue;
    let recovery: Partial<Record<keyof RecoveryTotals, unknown>> | undefined;
    try {
      recovery = (JSON.parse(line) as { recovery?: typeof recovery }).recovery;
    } catch {
      // A line cut short by a SIGKILL is skipped, so the totals are a floor.
      continue;
    }
    const count = (value: unknown): number =>
      typeof value === 'number' ? value : Array.isArray(value) ? value.length : 0;
    totals.restored += count(recovery?.restored);
    totals.reconciled += count(recovery?.reconciled);
    totals.abandoned += count(recovery?.abandoned);
    totals.orphans += count(recovery?.orphans);
  }
  return totals;
}

/** The last lines of a file, for a failure message. */
function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no stderr)';
  }
}

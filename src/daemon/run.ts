/**
 * `keel run`'s composition root: logger, store tap, keel, metrics, stream, alerts and the HTTP
 * server, started in one path that is also crash recovery (restore → reconcile → run).
 * Invariants: the API token is never logged (the log names the file it is kept in); a stop takes
 * no new requests, optionally cancels open entry orders, lets keel finish its journal writes and
 * resolves within `graceMs` or reports that it did not; a marker file left by a process that did
 * not stop cleanly is reported as a restart after a crash.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { guardNotifier } from '../adapters/notifier/guarded.notifier.js';
import { createJsonWebhookNotifier, createTelegramNotifier } from '../adapters/notifier/http.notifiers.js';
import { systemClock } from '../adapters/clock/system.clock.js';
import { openSqliteStore } from '../adapters/store/sqlite.store.js';
import { createKeel, type Keel, type KeelConfigInput } from '../config/create-keel.js';
import type { ClockPort } from '../ports/clock.port.js';
import type { Alert, NotifierPort } from '../ports/notifier.port.js';
import { DEFAULT_RATE_LIMIT } from './config.js';
import { DEFAULT_HEALTH_THRESHOLDS, createHealthMonitor, type HealthThresholds } from './health.js';
import { renderDashboard } from './dashboard.js';
import { tapJournal } from './journal-tap.js';
import { createDaemonMetrics, type DaemonMetrics } from './metrics.js';
import { buildServer } from './server.js';
import { createStreamHub, type StreamHub } from './stream.js';
import { createWebhookVerifier } from './webhook.js';

/** A network venue stream silent for longer than this makes keel not ready (heartbeats arrive every 30 s). */
const STREAM_FRESH_MS = 90_000;
export const KEEL_VERSION = '0.1.0';

export interface DaemonOptions {
  keel: KeelConfigInput & { dataDir: string };
  http: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    /** Per client address, the API and webhooks each (default DEFAULT_RATE_LIMIT, as the config's). */
    rateLimit?: { enabled: boolean; max: number; windowMs: number };
  };
  shutdown: { graceMs: number; cancelOpenEntries: boolean };
  logging: { level: string; file: boolean; pretty?: boolean };
  webhooks: { toleranceSec: number; qtyDecimals?: number; sources: Record<string, { enabled: boolean }> };
  secrets: {
    apiToken?: string;
    /** The shared webhook secret, and per-source ones (source → secret). */
    webhookSecret?: string;
    webhookSecrets?: Record<string, string>;
    telegramBotToken?: string;
    /** A live venue's keys (KEEL_VENUE_API_KEY / KEEL_VENUE_API_SECRET). */
    venueApiKey?: string;
    venueApiSecret?: string;
    /** OKX's API passphrase (KEEL_VENUE_API_PASSWORD). */
    venueApiPassword?: string;
  };
  /** Alert channels beside the log and the stream, rate-limited and deduplicated. */
  alerts?: {
    telegram?: { chatId: string; apiBase?: string };
    webhook?: { url: string };
    minIntervalMs: number;
    dedupWindowMs: number;
  };
  /** Pipeline health thresholds per stage (default DEFAULT_HEALTH_THRESHOLDS). */
  health?: { thresholds?: Partial<HealthThresholds>; checkEveryMs?: number };
  /** External alert channels (Telegram, a JSON webhook); alerts are always logged and streamed too. */
  notifiers?: NotifierPort[];
  clock?: ClockPort;
}

export interface Daemon {
  readonly keel: Keel;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly tokenFile: string | null;
  readonly logger: Logger;
  readonly hub: StreamHub;
  readonly metrics: DaemonMetrics;
  /** Stops taking requests, optionally cancels open entries, closes keel; resolves when done. */
  stop(reason: string): Promise<{ clean: boolean }>;
}

/** Pino paths that must never reach a log line. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'secret',
  '*.secret',
  '*.secrets',
  'secrets',
  'botToken',
  '*.botToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
];

function openLogger(options: DaemonOptions): Logger {
  const streams: pino.StreamEntry[] = [];
  if (options.logging.file) {
    mkdirSync(options.keel.dataDir, { recursive: true });
    // Opened here, synchronously: an asynchronous open could still be under way when a quick stop
    // returns, and would then create or open files after the daemon said it had stopped.
    const fd = openSync(join(options.keel.dataDir, 'keel.log'), 'a', 0o600);
    streams.push({ stream: pino.destination({ dest: fd, sync: false }) });
  }
  // People read a terminal; machines read the file (and stdout when it is piped).
  const prettyOut = options.logging.pretty ?? process.stdout.isTTY;
  streams.push({
    stream: prettyOut ? pretty({ colorize: true, destination: 1, sync: true }) : process.stdout,
  });
  return pino(
    {
      level: options.logging.level,
      redact: { paths: REDACTED_PATHS, censor: '***' },
      base: { service: 'keel' },
    },
    pino.multistream(streams),
  );
}

/** Whether a listen address stays on this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The API token: the configured one, or one generated once and kept (0600) under the data dir. */
function apiToken(options: DaemonOptions): { token: string; file: string | null } {
  if (options.secrets.apiToken) return { token: options.secrets.apiToken, file: null };
  const file = join(options.keel.dataDir, 'api-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), file };
  mkdirSync(options.keel.dataDir, { recursive: true });
  const token = randomBytes(32).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}

/**
 * Starts the daemon and listens.
 *
 * @example
 * const daemon = await startDaemon(options);
 * process.once('SIGTERM', () => void daemon.stop('SIGTERM').then(({ clean }) => process.exit(clean ? 0 : 1)));
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const logger = openLogger(options);
  const dataDir = options.keel.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const marker = join(dataDir, 'daemon.running');
  const crashed = existsSync(marker);
  writeFileSync(marker, `${process.pid}\n`);

  const tap = tapJournal(openSqliteStore({ dataDir }), () => performance.now());
  const hub = createStreamHub({
    maxBufferedBytes: 1 << 20,
    onDrop: (reason) => logger.warn({ reason }, 'a stream client was dropped'),
  });
  let metrics: DaemonMetrics | null = null;
  const clock = options.clock ?? systemClock;
  const channels = [...(options.notifiers ?? [])];
  if (options.alerts?.telegram) {
    if (options.secrets.telegramBotToken === undefined)
      logger.warn(
        {},
        'alerts.telegram is configured but KEEL_TELEGRAM_BOT_TOKEN is not set: Telegram alerts are off',
      );
    else
      channels.push(
        createTelegramNotifier({
          botToken: options.secrets.telegramBotToken,
          chatId: options.alerts.telegram.chatId,
          ...(options.alerts.telegram.apiBase === undefined
            ? {}
            : { apiBase: options.alerts.telegram.apiBase }),
        }),
      );
  }
  if (options.alerts?.webhook)
    channels.push(createJsonWebhookNotifier({ url: options.alerts.webhook.url, now: () => clock.now() }));
  const external = guardNotifier(channels, {
    clock,
    logger,
    minIntervalMs: options.alerts?.minIntervalMs ?? 1_000,
    dedupWindowMs: options.alerts?.dedupWindowMs ?? 60_000,
  });

  const notify = async (alert: Alert): Promise<void> => {
    metrics?.countAlert(alert.severity);
    logger[alert.severity === 'info' ? 'info' : 'warn']({ alert: alert.code, data: alert.data }, alert.text);
    hub.publish({ kind: 'alert', alert, at: Date.now() });
    // External channels never hold up trading: the guard queues and returns at once.
    return external.notify(alert);
  };

  const keel = await createKeel(options.keel, {
    store: tap.store,
    logger,
    notifier: { notify },
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.secrets.venueApiKey !== undefined && options.secrets.venueApiSecret !== undefined
      ? {
          venueCredentials: {
            apiKey: options.secrets.venueApiKey,
            secret: options.secrets.venueApiSecret,
            ...(options.secrets.venueApiPassword === undefined
              ? {}
              : { password: options.secrets.venueApiPassword }),
          },
        }
      : {}),
  });
  const daemonMetrics = createDaemonMetrics(keel);
  metrics = daemonMetrics;
  tap.onEvent((event) => {
    daemonMetrics.observeEvent(event);
    hub.publish({ kind: 'journal', event });
    if (event.type === 'execution.belief_state' && event.to === 'RED' && event.from !== 'RED')
      void notify({
        severity: 'critical',
        code: 'BELIEF_RED',
        text: 'the belief controller is in RED: entries are denied until debt decays',
        data: { ...event.data },
      });
  });
  const health = createHealthMonitor(
    { ...DEFAULT_HEALTH_THRESHOLDS, ...options.health?.thresholds },
    {
      now: () => Date.now(),
      oldestUnacknowledgedAt: () => daemonMetrics.oldestUnacknowledgedAt(),
      reconcileCycles: () => keel.reconcileStatus()?.cycle ?? null,
      report(report) {
        daemonMetrics.setStageHealth(
          report.stage,
          report.level === 'ok' ? 0 : report.level === 'warning' ? 1 : 2,
        );
        hub.publish({ kind: 'health', ...report });
        void notify({
          severity: report.level === 'ok' ? 'info' : report.level,
          code: report.level === 'ok' ? 'PIPELINE_STAGE_RECOVERED' : 'PIPELINE_STAGE_DEGRADED',
          text: `pipeline stage ${report.stage} is ${report.level}: ${report.detail}`,
          data: { stage: report.stage, level: report.level },
        });
      },
    },
  );
  daemonMetrics.onLatency((stage, seconds) => health.sample(stage, seconds * 1000));
  tap.onCommit((seconds) => {
    daemonMetrics.observeCommit(seconds);
    health.sample('journal', seconds * 1000);
  });
  const healthTimer = setInterval(() => health.check(), options.health?.checkEveryMs ?? 5_000);
  healthTimer.unref();
  keel.onResult((result) => {
    daemonMetrics.observeResult(result);
    hub.publish({ kind: 'result', result });
    if (result.status === 'FAILED' && result.tag?.startsWith('VENUE_REJECTED') === true)
      void notify({
        severity: 'warning',
        code: 'VENUE_REJECTED',
        text: `${result.intent_id}: the venue refused the order (${result.tag}): ${result.reason ?? 'no reason given'}`,
        data: { intentId: result.intent_id, tag: result.tag, reason: result.reason },
      });
  });
  if (crashed)
    void notify({
      severity: 'warning',
      code: 'RESTARTED_AFTER_CRASH',
      text: `keel restarted after an unclean stop; recovery restored ${keel.recovery.restored} intents`,
      data: { ...keel.recovery },
    });

  const { token, file: tokenFile } = apiToken(options);
  const rateLimit = options.http.rateLimit ?? DEFAULT_RATE_LIMIT;
  const webhookSecret = (source: string): string | null => {
    if (options.webhooks.sources[source]?.enabled !== true) return null;
    return options.secrets.webhookSecrets?.[source] ?? options.secrets.webhookSecret ?? null;
  };
  const app = await buildServer({
    keel,
    token,
    hub,
    metrics: daemonMetrics,
    bodyLimitBytes: options.http.bodyLimitBytes,
    ...(rateLimit.enabled ? { rateLimit: { max: rateLimit.max, windowMs: rateLimit.windowMs } } : {}),
    logger,
    webhooks: createWebhookVerifier({ toleranceSec: options.webhooks.toleranceSec, secretOf: webhookSecret }),
    ...(options.webhooks.qtyDecimals === undefined ? {} : { qtyDecimals: options.webhooks.qtyDecimals }),
    readiness() {
      const status = keel.reconcileStatus();
      const reconciled = status === null || (status.cycle >= 1 && status.lastFetchFailure === null);
      const health = keel.venue.streamHealth?.();
      if (health === undefined) {
        const stream =
          keel.paper !== null ? 'in process' : keel.venue.capabilities.stream ? 'subscribed' : 'polling';
        return { ready: reconciled, checks: { recovered: true, reconciled, venueStream: stream } };
      }
      // A network stream is trusted only while connected and heard from recently (events or heartbeats).
      const fresh =
        health.connected && health.lastFrameAt !== null && Date.now() - health.lastFrameAt <= STREAM_FRESH_MS;
      return {
        ready: reconciled && fresh,
        checks: {
          recovered: true,
          reconciled,
          venueStream: fresh ? 'connected' : health.connected ? 'silent' : 'disconnected',
          venueStreamGaps: String(health.gaps),
        },
      };
    },
    dashboardHtml: renderDashboard,
    now: () => Date.now(),
    version: KEEL_VERSION,
  });
  const address = await app.listen({ host: options.http.host, port: options.http.port });
  if (!isLoopback(options.http.host)) {
    // The API moves money and the dashboard shows the book: say so loudly when they leave the machine.
    logger.warn(
      { host: options.http.host, url: address },
      'the API and dashboard are reachable from the network: the token is all that guards them and travels in clear without TLS; put a TLS proxy in front, or bind to 127.0.0.1',
    );
  }
  logger.info(
    { url: address, tokenFile: tokenFile ?? 'KEEL_API_TOKEN', dataDir, recovery: keel.recovery },
    'keel is running',
  );

  let stopping: Promise<{ clean: boolean }> | null = null;
  async function stop(reason: string): Promise<{ clean: boolean }> {
    logger.info({ reason }, 'keel is stopping');
    const work = (async () => {
      // No new requests; in-flight ones finish.
      await app.close();
      if (options.shutdown.cancelOpenEntries) {
        for (const record of keel.store.nonTerminal()) {
          if (record.intent.kind !== 'ENTRY' || record.intent.reduce_only) continue;
          await keel.cancel(record.intentId).catch(() => undefined);
        }
      }
      clearInterval(healthTimer);
      hub.close();
      await keel.close();
      // The last alerts (a trip during shutdown) get a moment to leave, never more.
      await Promise.race([external.idle(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      external.close();
      rmSync(marker, { force: true });
      return { clean: true };
    })();
    const timeout = new Promise<{ clean: boolean }>((resolve) => {
      const timer = setTimeout(() => resolve({ clean: false }), options.shutdown.graceMs);
      timer.unref();
    });
    const outcome = await Promise.race([work, timeout]);
    logger.info(
      { reason, clean: outcome.clean },
      outcome.clean ? 'keel stopped' : 'keel did not stop within the grace period',
    );
    logger.flush();
    return outcome;
  }

  return {
    keel,
    app,
    url: address,
    tokenFile,
    logger,
    hub,
    metrics: daemonMetrics,
    stop(reason) {
      stopping ??= stop(reason);
      return stopping;
    },
  };
}

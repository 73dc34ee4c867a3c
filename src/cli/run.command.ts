/**
 * `keel run`: the long-running daemon on embedded defaults (paper venue, SQLite under ./.keel/,
 * HTTP on 127.0.0.1:7420), or on a config file. SIGTERM/SIGINT stop it gracefully within the
 * configured bound (exit 0, or 1 if the bound passed); a second signal exits at once (130).
 * Exit 2: a bad config or flag, with the path of every bad field.
 */
import type { Command } from 'commander';
import { BadInputError, KeelError } from '../domain/errors.js';
import { loadDaemonConfig, type LoadedConfig } from '../daemon/config.js';
import { startDaemon, type Daemon, type DaemonOptions } from '../daemon/run.js';

export const RUN_EXIT = { ok: 0, unclean: 1, badConfig: 2, signalled: 130 } as const;

/** The flags `keel run` and `keel config check` share. */
export interface ConfigFlags {
  config?: string;
  dataDir?: string;
  port?: string;
  host?: string;
}

/** Loads the configuration as `keel run` does: file, environment, then these flags. */
export function loadFromCli(raw: ConfigFlags): LoadedConfig {
  return loadDaemonConfig({
    ...(raw.config === undefined ? {} : { file: raw.config }),
    env: process.env,
    flags: {
      ...(raw.dataDir === undefined ? {} : { dataDir: raw.dataDir }),
      ...(raw.port === undefined ? {} : { port: raw.port }),
      ...(raw.host === undefined ? {} : { host: raw.host }),
    },
  });
}

/** The daemon's options from the loaded configuration and secrets. */
export function daemonOptionsOf({ config, secrets }: LoadedConfig): DaemonOptions {
  return {
    keel: config.keel,
    http: config.http,
    shutdown: config.shutdown,
    logging: config.logging,
    webhooks: config.webhooks,
    alerts: {
      minIntervalMs: config.alerts.minIntervalMs,
      dedupWindowMs: config.alerts.dedupWindowMs,
      ...(config.alerts.telegram === undefined ? {} : { telegram: config.alerts.telegram }),
      ...(config.alerts.webhook === undefined ? {} : { webhook: config.alerts.webhook }),
    },
    health: {
      checkEveryMs: config.health.checkEveryMs,
      // Keys zod left out are typed `| undefined`; only the given stages override the defaults.
      thresholds: Object.fromEntries(
        Object.entries(config.health.thresholds).filter(([, value]) => value !== undefined),
      ),
    },
    secrets: {
      ...(secrets.apiToken === undefined ? {} : { apiToken: secrets.apiToken }),
      ...(secrets.webhookSecret === undefined ? {} : { webhookSecret: secrets.webhookSecret }),
      ...(secrets.telegramBotToken === undefined ? {} : { telegramBotToken: secrets.telegramBotToken }),
      webhookSecrets: secrets.webhookSecrets,
      ...(secrets.venueApiKey === undefined ? {} : { venueApiKey: secrets.venueApiKey }),
      ...(secrets.venueApiSecret === undefined ? {} : { venueApiSecret: secrets.venueApiSecret }),
      ...(secrets.venueApiPassword === undefined ? {} : { venueApiPassword: secrets.venueApiPassword }),
    },
  };
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Run keel as a daemon: HTTP and WebSocket API, webhooks, dashboard, metrics')
    .option('--config <file>', 'a YAML or JSON config file (see keel init)')
    .option('--data-dir <dir>', 'where keel keeps its database, journal, logs and token')
    .option('--port <port>', 'HTTP port (default 7420)')
    .option(
      '--host <host>',
      'HTTP host (default 127.0.0.1; anything else exposes the API beyond this machine)',
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : RUN_EXIT.badConfig))
    .action(async (raw: ConfigFlags) => {
      let daemon: Daemon;
      try {
        const loaded = loadFromCli(raw);
        daemon = await startDaemon(daemonOptionsOf(loaded));
      } catch (error) {
        if (
          error instanceof BadInputError ||
          (error instanceof KeelError && error.code === 'KEEL_ERR_BAD_CONFIG')
        ) {
          console.error(error.message);
          process.exit(RUN_EXIT.badConfig);
        }
        throw error;
      }
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals += 1;
        if (signals > 1) process.exit(RUN_EXIT.signalled);
        void daemon.stop(signal).then(({ clean }) => process.exit(clean ? RUN_EXIT.ok : RUN_EXIT.unclean));
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
}

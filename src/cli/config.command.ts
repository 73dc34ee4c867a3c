/**
 * `keel init` writes a commented config file (every key at its default, with its description);
 * `keel config check` loads a config as `keel run` would and prints the effective configuration
 * with secrets masked. Exit codes: 0 done; 2 a bad config (every bad field's path on stderr) or a
 * file that `init` would overwrite without `--force`.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BadInputError, KeelError } from '../domain/errors.js';
import { renderConfigTemplate, renderEffectiveConfig } from '../daemon/config.js';
import { loadFromCli, type ConfigFlags } from './run.command.js';

export const CONFIG_EXIT = { ok: 0, bad: 2 } as const;

export function registerConfigCommands(program: Command): void {
  program
    .command('init')
    .description('Write a commented keel config file (every key at its default)')
    .option('--out <file>', 'where to write it', 'keel.yaml')
    .option('--force', 'overwrite an existing file')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : CONFIG_EXIT.bad))
    .action((raw: { out: string; force?: boolean }) => {
      if (existsSync(raw.out) && raw.force !== true) {
        console.error(`${raw.out} exists; give --force to overwrite it`);
        process.exitCode = CONFIG_EXIT.bad;
        return;
      }
      writeFileSync(raw.out, renderConfigTemplate());
      console.log(`wrote ${raw.out}; check it with: keel config check --config ${raw.out}`);
    });

  const config = program.command('config').description('Inspect keel configuration');
  config
    .command('check')
    .description('Validate a config as keel run would, and print the effective config with secrets masked')
    .option('--config <file>', 'a YAML or JSON config file')
    .option('--data-dir <dir>', 'as keel run --data-dir')
    .option('--port <port>', 'as keel run --port')
    .option('--host <host>', 'as keel run --host')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : CONFIG_EXIT.bad))
    .action((raw: ConfigFlags) => {
      try {
        const loaded = loadFromCli(raw);
        process.stdout.write(renderEffectiveConfig(loaded));
      } catch (error) {
        if (!(error instanceof BadInputError || error instanceof KeelError)) throw error;
        const issues = error instanceof BadInputError ? error.issues : [];
        console.error(issues.length > 0 ? 'bad keel config:' : error.message);
        for (const issue of issues) console.error(`  ${issue.path || '(root)'}: ${issue.message}`);
        process.exitCode = CONFIG_EXIT.bad;
      }
    });
}

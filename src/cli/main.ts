#!/usr/bin/env node
/**
 * The `keel` command line: a composition root. Each subcommand lives in its own
 * `*.command.ts` file and registers itself on the program here.
 */
import { Command } from 'commander';
import { registerChaosCommand } from './chaos.command.js';
import { registerConfigCommands } from './config.command.js';
import { registerPaperVenueCommand } from './paper-venue.command.js';
import { registerReplayCommand } from './replay.command.js';
import { registerRunCommand } from './run.command.js';
import { registerSimulateCommand } from './simulate.command.js';
import { registerStatusCommands } from './status.command.js';
import { registerVizCommand } from './viz.command.js';

const program = new Command();
program
  .name('keel')
  .description('Reconcile-first execution runtime for trading bots.')
  .version('0.1.0')
  .showHelpAfterError();

registerSimulateCommand(program);
registerReplayCommand(program);
registerVizCommand(program);
registerStatusCommands(program);
registerRunCommand(program);
registerConfigCommands(program);
registerPaperVenueCommand(program);
registerChaosCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});

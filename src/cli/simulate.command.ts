import type { Command } from 'commander';

export function registerSimulateCommand(program: Command): void {
  program.command('simulate').description('Replay a scripted sequence (not yet implemented)');
}

import type { Command } from 'commander';

export function registerVizCommand(program: Command): void {
  program.command('viz').description('Generate statechart diagrams (not yet implemented)');
}

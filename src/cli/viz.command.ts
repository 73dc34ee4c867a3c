/**
 * `keel viz`: statechart diagrams generated from the canonical machines at run time, never by hand.
 * Invariants: bad options or an unknown machine exit 2 with the field named and nothing written;
 * without `--out`, Mermaid goes to stdout and the HTML page to ./keel-machines.html.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { BadInputError } from '../domain/errors.js';
import { canonicalMachines } from '../machines/index.js';
import { HTML_FILE_NAME, applyVizPlan, parseVizOptions, planViz } from '../viz/export.js';

/** Exit code for input keel rejects (a bad flag, an unknown machine). */
const EXIT_BAD_INPUT = 2;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerVizCommand(program: Command): void {
  program
    .command('viz')
    .description(
      'Generate statechart diagrams from the machine definitions (Mermaid or one offline HTML page)',
    )
    .option('--format <format>', 'mermaid (one diagram per machine) or html (one self-contained page)')
    .option('--machine <name>', 'draw only this machine (repeatable; default: every machine)', collect)
    .option(
      '--out <dir>',
      `directory to write into: <name>.md per machine for mermaid, ${HTML_FILE_NAME} for html ` +
        `(default: mermaid to stdout, html to ./${HTML_FILE_NAME})`,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  keel viz --out docs/machines\n  keel viz --format html --out build\n  keel viz --machine order-intent\n',
    )
    .action(async (raw: unknown) => {
      try {
        const options = parseVizOptions(raw, canonicalMachines);
        const cwd = process.cwd();
        const plan = planViz(options, canonicalMachines, cwd);
        if (plan.keep.length === 0) console.error('keel viz: no machines are registered');
        if (plan.stdout !== '') process.stdout.write(plan.stdout);
        const { written, removed } = await applyVizPlan(plan);
        for (const file of written) console.log(`wrote ${path.relative(cwd, file)}`);
        for (const file of removed)
          console.log(`removed ${path.relative(cwd, file)} (machine no longer registered)`);
      } catch (error) {
        if (!(error instanceof BadInputError)) throw error;
        console.error(error.message);
        process.exitCode = EXIT_BAD_INPUT;
      }
    });
}

/**
 * `keel simulate FILE [--json] [--lenient]`: replays a scripted event sequence through one
 * order-intent actor. Exit codes: 0 every event accepted (or lenient mode), 3 strict mode
 * refused an event (the outcome shows the state before it), 2 the script is unreadable or
 * malformed (the message names each bad field). Nothing that failed exits 0.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { simulateOrder, type SimulationOutcome } from '../actors/order-simulation.js';
import { BadInputError } from '../domain/errors.js';
import { parseOrThrow } from '../domain/parse.js';
import { simulationScriptSchema, type SimulationScript } from '../domain/simulation-script.schema.js';

export const SIMULATE_EXIT = { ok: 0, malformed: 2, refused: 3 } as const;

function loadScript(file: string): SimulationScript {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BadInputError(`cannot read script ${file}`, [
      { path: '', message: error instanceof Error ? error.message : String(error) },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadInputError(`script ${file} is not valid JSON`, [
      { path: '', message: error instanceof Error ? error.message : String(error) },
    ]);
  }
  return parseOrThrow(simulationScriptSchema, value, `invalid script ${file}`);
}

function renderText(outcome: SimulationOutcome): string {
  const lines = outcome.transitions.map((step) => {
    const note = step.refused ? '  (refused, lenient)' : step.ignored ? `  (ignored: ${step.ignored})` : '';
    return `#${step.index} ${step.event.padEnd(18)} ${step.status.padEnd(16)} filled=${step.filledQty}  ${step.to}${note}`;
  });
  lines.push(`status: ${outcome.status}  filledQty: ${outcome.filledQty}  state: ${outcome.state}`);
  if (outcome.error) {
    lines.push(
      `refused: event #${outcome.error.index} (${outcome.error.event}) in state ${outcome.error.state} [${outcome.error.code}]`,
    );
  }
  return lines.join('\n');
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Replay a scripted event sequence through one order-intent actor (strict by default)')
    .argument('<file>', 'JSON script: { "order": { "qty": 10 }, "events": [ { "type": "submit" }, ... ] }')
    .option('--json', 'print the outcome as JSON')
    .option('--lenient', 'journal refused events and keep going instead of stopping at the first')
    .action((file: string, options: { json?: boolean; lenient?: boolean }) => {
      let script: SimulationScript;
      try {
        script = loadScript(file);
      } catch (error) {
        if (!(error instanceof BadInputError)) throw error;
        if (options.json) {
          console.log(
            JSON.stringify({ error: { code: error.code, message: error.message, issues: error.issues } }),
          );
        } else {
          console.error(error.message);
        }
        process.exitCode = SIMULATE_EXIT.malformed;
        return;
      }
      const outcome = simulateOrder(script, options.lenient ? 'lenient' : 'strict');
      const { qtyInForce: _qtyInForce, overfillQty: _overfillQty, ...printed } = outcome;
      console.log(options.json ? JSON.stringify(printed) : renderText(outcome));
      process.exitCode = outcome.error ? SIMULATE_EXIT.refused : SIMULATE_EXIT.ok;
    });
}

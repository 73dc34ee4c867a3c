/**
 * `keel simulate FILE [--json] [--lenient]`: replays a scripted event sequence through one
 * order-intent actor. Exit codes: 0 every event accepted; 3 an event was refused (strict mode
 * stops there and the outcome shows the state before it; lenient mode journals each refusal
 * and goes on); 2 the script is unreadable or malformed (the message names each bad field).
 * Nothing that failed exits 0.
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
      { path: 'FILE', message: error instanceof Error ? error.message : String(error) },
    ]);
  }
  let value: unknown;
  try {
    // Editors on some systems save a byte-order mark; it is not part of the JSON.
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new BadInputError(`script ${file} is not valid JSON`, [
      { path: 'FILE', message: error instanceof Error ? error.message : String(error) },
    ]);
  }
  return parseOrThrow(simulationScriptSchema, value, `invalid script ${file}`);
}

function renderText(outcome: SimulationOutcome): string {
  const lines = outcome.transitions.map((step) => {
    const note = step.refused
      ? '  (refused, lenient)'
      : step.ignored
        ? `  (ignored: ${step.ignored})`
        : step.emitted.length > 0
          ? `  -> ${step.emitted.join(', ')}`
          : '';
    return `#${step.index} ${step.event.padEnd(18)} ${step.status.padEnd(16)} filled=${step.filledQty}  ${step.to}${note}`;
  });
  lines.push(
    `status: ${outcome.status}  filledQty: ${outcome.filledQty}  qtyInForce: ${outcome.qtyInForce}  state: ${outcome.state}`,
  );
  if (outcome.overfillQty > 0) lines.push(`overfill: ${outcome.overfillQty} beyond the quantity in force`);
  for (const anomaly of outcome.anomalies) {
    lines.push(`refused (lenient): event #${anomaly.index} (${anomaly.event}) in state ${anomaly.state}`);
  }
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
      console.log(options.json ? JSON.stringify(outcome) : renderText(outcome));
      const refused = outcome.error !== undefined || outcome.anomalies.length > 0;
      process.exitCode = refused ? SIMULATE_EXIT.refused : SIMULATE_EXIT.ok;
    });
}

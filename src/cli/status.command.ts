/**
 * `keel status` and `keel kill` talk to a running daemon: status prints mode, knobs, debt, the kill
 * switch, open intents and positions; kill trips the switch (`--reason`), and `kill --reset`
 * resets it. Exit codes: 0 done; 1 the daemon refused or could not be reached; 2 bad options.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { BadInputError } from '../domain/errors.js';
import { parseOrThrow } from '../domain/parse.js';
import {
  DEFAULT_DAEMON_URL,
  DEFAULT_TOKEN_FILE,
  DaemonCallError,
  callDaemon,
  parseClientOptions,
  type DaemonClientOptions,
} from './daemon-client.js';

export const STATUS_EXIT = { ok: 0, daemon: 1, badInput: 2 } as const;

const killOptionsSchema = z.strictObject({
  reason: z.string().trim().min(1, 'say why (--reason "…")'),
  by: z
    .string()
    .trim()
    .min(1)
    .default(process.env.USER ?? 'cli'),
  reset: z.boolean().default(false),
});

interface Belief {
  mode: string;
  belief_debt_sec: number;
  belief_debt_symbols: number;
  mismatch_streak: number;
  belief_confidence: number;
  knobs: Record<string, unknown>;
  killSwitch: { view: { tripped: boolean; trigger?: string }; trip: { reason?: string; by?: string } | null };
}

async function report(run: () => Promise<void>, json: boolean): Promise<void> {
  try {
    await run();
  } catch (error) {
    const code =
      error instanceof BadInputError
        ? STATUS_EXIT.badInput
        : error instanceof DaemonCallError
          ? STATUS_EXIT.daemon
          : null;
    if (code === null) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (json) console.log(JSON.stringify({ error: { message } }));
    else console.error(message);
    process.exitCode = code;
  }
}

async function printStatus(options: DaemonClientOptions): Promise<void> {
  const [belief, intents, positions] = (await Promise.all([
    callDaemon(options, 'GET', '/v1/belief'),
    callDaemon(options, 'GET', '/v1/intents?limit=1000'),
    callDaemon(options, 'GET', '/v1/positions'),
  ])) as [
    Belief,
    { intents: Array<{ intent_id: string; status: string; state: string; tag: string | null }> },
    { positions: Record<string, { qty: number; side: string; entryPrice: number }> },
  ];
  const open = intents.intents.filter(
    (intent) => intent.status === 'CREATED' || intent.status === 'SENT_TO_BROKER',
  );
  if (options.json) {
    console.log(JSON.stringify({ belief, openIntents: open, positions: positions.positions }));
    return;
  }
  const kill = belief.killSwitch.view.tripped
    ? `TRIPPED by ${belief.killSwitch.view.trigger ?? '?'}${belief.killSwitch.trip?.reason ? ` (${belief.killSwitch.trip.reason})` : ''}`
    : 'armed';
  console.log(
    `mode         ${belief.mode}  (debt ${belief.belief_debt_sec.toFixed(0)} s over ${belief.belief_debt_symbols} symbols, streak ${belief.mismatch_streak}, confidence ${belief.belief_confidence.toFixed(2)})`,
  );
  console.log(`kill switch  ${kill}`);
  console.log(
    `knobs        ${Object.entries(belief.knobs)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(' ')}`,
  );
  console.log(`open intents ${open.length}`);
  for (const intent of open) console.log(`  ${intent.intent_id}  ${intent.status}  ${intent.state}`);
  const held = Object.entries(positions.positions);
  console.log(`positions    ${held.length}`);
  for (const [symbol, position] of held)
    console.log(`  ${symbol}  ${position.side} ${position.qty} @ ${position.entryPrice}`);
}

function clientOptions(command: Command): void {
  command
    .option('--url <url>', `the daemon (default ${DEFAULT_DAEMON_URL})`)
    .option(
      '--token-file <path>',
      `where keel run keeps its API token (default ${DEFAULT_TOKEN_FILE}); KEEL_API_TOKEN wins`,
    )
    .option('--json', 'print JSON');
}

export function registerStatusCommands(program: Command): void {
  const status = program
    .command('status')
    .description('Show a running daemon: mode, knobs, kill switch, open intents, positions');
  clientOptions(status);
  status
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : STATUS_EXIT.badInput))
    .action(async (raw: { url?: string; tokenFile?: string; json?: boolean }) => {
      await report(async () => printStatus(parseClientOptions({ ...raw })), raw.json === true);
    });

  const kill = program
    .command('kill')
    .description('Trip the kill switch of a running daemon (or --reset it)');
  clientOptions(kill);
  kill
    .option('--reason <text>', 'why (journaled with the trip or reset)')
    .option('--by <name>', 'who (default $USER)')
    .option('--reset', 'reset the switch instead of tripping it')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : STATUS_EXIT.badInput))
    .action(
      async (raw: {
        url?: string;
        tokenFile?: string;
        json?: boolean;
        reason?: string;
        by?: string;
        reset?: boolean;
      }) => {
        await report(async () => {
          const { reason, by, reset, ...client } = raw;
          const options = parseClientOptions(client);
          const kill = parseOrThrow(
            killOptionsSchema,
            { reason: reason ?? '', ...(by === undefined ? {} : { by }), reset: reset === true },
            'invalid kill options',
          );
          const answer = (await callDaemon(options, 'POST', kill.reset ? '/v1/kill/reset' : '/v1/kill', {
            reason: kill.reason,
            by: kill.by,
          })) as {
            view: { tripped: boolean; trigger?: string };
          };
          if (options.json) console.log(JSON.stringify(answer));
          else
            console.log(
              answer.view.tripped
                ? `kill switch TRIPPED (${answer.view.trigger ?? '?'})`
                : 'kill switch armed',
            );
        }, raw.json === true);
      },
    );
}

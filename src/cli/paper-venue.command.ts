/**
 * `keel paper-venue --port N`: the paper venue served as a Binance USDⓈ-M futures subset on
 * loopback, so any Binance client can trade it without risking money. Fault injection comes
 * from flags (`--fault kind:key=value,...`, `--faults-file`); keys from `--api-key/--api-secret`
 * or KEEL_PAPER_API_KEY / KEEL_PAPER_API_SECRET. Invariants: it binds loopback only; every bad
 * flag is reported with its path and nothing starts (exit 2); the first stdout line is one JSON
 * object with the URLs, for scripts; SIGINT/SIGTERM close it cleanly (exit 0).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { systemClock } from '../adapters/clock/system.clock.js';
import { startPaperVenueServer } from '../adapters/venue/paper/binance.server.js';
import type { PaperFaults } from '../adapters/venue/paper/faults.js';
import { faultsSchema } from '../adapters/venue/paper/paper.schema.js';
import { openPaperVenue } from '../adapters/venue/paper/paper.venue.js';
import { KeelError } from '../domain/errors.js';
import { parseOrThrow } from '../domain/parse.js';

interface PaperVenueFlags {
  port: string;
  host: string;
  apiKey?: string;
  apiSecret?: string;
  seed: string;
  dataDir?: string;
  stepMs?: string;
  liquidity?: string;
  fault: string[];
  faultsFile?: string;
  clockOffsetMs?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const integer = z.coerce.number().int();

const flagsSchema = z.object({
  port: integer.min(0).max(65_535),
  host: z
    .string()
    .refine((host) => LOOPBACK.has(host), 'the paper venue binds loopback only (127.0.0.1, ::1, localhost)'),
  apiKey: z.string().min(1, 'set --api-key or KEEL_PAPER_API_KEY'),
  apiSecret: z.string().min(1, 'set --api-secret or KEEL_PAPER_API_SECRET'),
  seed: integer,
  dataDir: z.string().min(1).optional(),
  stepMs: integer.positive().optional(),
  liquidity: z.coerce.number().positive().optional(),
  clockOffsetMs: integer.optional(),
  faults: faultsSchema,
});

/**
 * `kind:key=value,key=value` → `{ kind: { key: value } }`; `p` is short for `probability`.
 *
 * @example
 * parseFaultFlag('executionUnknown:p=0.05,landed=false'); // { executionUnknown: { probability: 0.05, landed: false } }
 */
export function parseFaultFlag(flag: string): Record<string, Record<string, unknown>> {
  const [kind = '', spec = ''] = flag.split(':', 2);
  const fields: Record<string, unknown> = {};
  for (const pair of spec.split(',').filter((part) => part !== '')) {
    const [key = '', value = ''] = pair.split('=', 2);
    const name = key === 'p' ? 'probability' : key;
    fields[name] = value === 'true' ? true : value === 'false' ? false : Number(value);
  }
  return { [kind]: fields };
}

export function registerPaperVenueCommand(program: Command): void {
  program
    .command('paper-venue')
    .description('Serve the paper venue as a Binance USDⓈ-M futures API on loopback (REST + user stream)')
    .option('--port <port>', 'port (0: any free port)', '7421')
    .option('--host <host>', 'loopback address to bind', '127.0.0.1')
    .option('--api-key <key>', 'the API key clients must send (or KEEL_PAPER_API_KEY)')
    .option('--api-secret <secret>', 'the HMAC secret clients sign with (or KEEL_PAPER_API_SECRET)')
    .option('--seed <n>', 'seeds the price walk and the fault dice', '1')
    .option('--data-dir <dir>', 'keep the venue state here across restarts (default: in memory)')
    .option('--step-ms <ms>', 'milliseconds between price steps (default 1000)')
    .option('--liquidity <qty>', 'base quantity that can trade per symbol per step (default unlimited)')
    .option(
      '--fault <kind:spec>',
      'inject a fault, e.g. executionUnknown:p=0.05 or reject:next=2,code=-2019 (repeatable)',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option('--faults-file <file>', 'a JSON file of faults (PaperFaults), merged under --fault flags')
    .option('--clock-offset-ms <ms>', "offset the server's clock, to exercise clock-skew handling")
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .action(async (raw: PaperVenueFlags) => {
      let flags: z.output<typeof flagsSchema>;
      try {
        const fromFile: unknown =
          raw.faultsFile === undefined ? {} : JSON.parse(readFileSync(raw.faultsFile, 'utf8'));
        const faults = Object.assign(
          {},
          typeof fromFile === 'object' && fromFile !== null ? fromFile : {},
          ...raw.fault.map(parseFaultFlag),
        ) as Record<string, unknown>;
        flags = parseOrThrow(
          flagsSchema,
          {
            ...raw,
            apiKey: raw.apiKey ?? process.env.KEEL_PAPER_API_KEY ?? '',
            apiSecret: raw.apiSecret ?? process.env.KEEL_PAPER_API_SECRET ?? '',
            faults,
          },
          'bad paper-venue flags',
        );
      } catch (error) {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(2);
      }
      const venue = openPaperVenue({
        seed: flags.seed,
        clock: systemClock,
        // zod types absent keys as `| undefined`; the parsed object has none.
        faults: flags.faults as PaperFaults,
        ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
        ...(flags.stepMs === undefined ? {} : { stepMs: flags.stepMs }),
        ...(flags.liquidity === undefined ? {} : { liquidityPerStep: flags.liquidity }),
      });
      const stepper = venue.autoStep();
      let server;
      try {
        server = await startPaperVenueServer({
          venue,
          apiKey: flags.apiKey,
          apiSecret: flags.apiSecret,
          wallClock: systemClock,
          host: flags.host,
          port: flags.port,
          ...(flags.clockOffsetMs === undefined ? {} : { clockOffsetMs: flags.clockOffsetMs }),
        });
      } catch (error) {
        stepper.cancel();
        venue.close();
        const message = error instanceof KeelError || error instanceof Error ? error.message : String(error);
        console.error(`keel paper-venue could not start: ${message}`);
        process.exit(1);
      }
      // One JSON line first, so a script can read where to point its client.
      console.log(
        JSON.stringify({
          url: server.url,
          wsUrl: server.wsUrl,
          userStream: `${server.wsUrl}/private/ws/<listenKey>`,
        }),
      );
      const stop = async (): Promise<void> => {
        stepper.cancel();
        await server.close();
        venue.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}

/**
 * `keel chaos`: randomised, seeded fault scenarios against the paper venue, each checked by an
 * independent checker against the venue's ground truth; with `--network`, against `keel
 * paper-venue`'s server over loopback through a fault-injecting proxy. Exit 0 with no violations,
 * 1 with any, 2 on bad flags (each named with its path; nothing runs). `--json` prints one JSON
 * object on the last line; every violation names its scenario, reproducible with the same `--seed`.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { NETWORK_FAULT_KINDS } from '../chaos/network.js';
import { CHAOS_FAULT_KINDS, isNetworkFaultKind } from '../chaos/plan.js';
import { runChaos } from '../chaos/run.js';
import { parseOrThrow } from '../domain/parse.js';

interface ChaosFlags {
  seed: string;
  scenarios: string;
  intents: string;
  from: string;
  faults?: string;
  crash?: boolean;
  network?: boolean;
  json?: boolean;
}

const count = (max: number) => z.coerce.number().int().min(1).max(max);

const flagsSchema = z
  .strictObject({
    seed: z.coerce.number().int().min(0).max(0xffffffff),
    scenarios: count(100_000),
    intents: count(1_000),
    from: z.coerce.number().int().min(0),
    faults: z.array(z.enum([...CHAOS_FAULT_KINDS, ...NETWORK_FAULT_KINDS])),
    crash: z.boolean(),
    network: z.boolean(),
    json: z.boolean(),
  })
  .superRefine((flags, context) => {
    // Without --network there is no network between keel and the venue to fault.
    if (flags.network) return;
    flags.faults.forEach((kind, index) => {
      if (isNetworkFaultKind(kind))
        context.addIssue({ code: 'custom', path: ['faults', index], message: `${kind} needs --network` });
    });
  });

export function registerChaosCommand(program: Command): void {
  program
    .command('chaos')
    .description('Run seeded fault scenarios against the paper venue and check every invariant')
    .option('--seed <n>', 'the run seed: same seed, same scenarios', '1')
    .option('--scenarios <n>', 'how many scenarios', '20')
    .option('--intents <n>', 'actions per scenario (intents, cancels, replaces)', '12')
    .option('--from <n>', "the first scenario's number (rerun scenario n: --from n --scenarios 1)", '0')
    .option(
      '--faults <list>',
      `comma-separated fault kinds (default all: ${CHAOS_FAULT_KINDS.join(', ')}; with --network also ${NETWORK_FAULT_KINDS.join(', ')})`,
    )
    .option('--crash', 'also kill keel at random moments and restart it on the same store')
    .option(
      '--network',
      "trade keel paper-venue's server over loopback with keel's Binance adapter, through a fault-injecting proxy, in real time",
    )
    .option('--json', 'print one JSON object on the last line')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .action(async (raw: ChaosFlags) => {
      let flags: z.output<typeof flagsSchema>;
      try {
        flags = parseOrThrow(
          flagsSchema,
          {
            ...raw,
            faults:
              raw.faults === undefined
                ? [...CHAOS_FAULT_KINDS, ...(raw.network ? NETWORK_FAULT_KINDS : [])]
                : raw.faults
                    .split(',')
                    .map((kind) => kind.trim())
                    .filter((kind) => kind !== ''),
            crash: raw.crash ?? false,
            network: raw.network ?? false,
            json: raw.json ?? false,
          },
          'bad chaos flags',
        );
      } catch (error) {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(2);
      }
      const report = await runChaos({
        ...flags,
        onScenario: (done, violations) => {
          if (!flags.json)
            console.error(`scenario ${flags.from + done - 1}: ${violations} violation(s) so far`);
        },
      });
      if (flags.json) console.log(JSON.stringify(report));
      else {
        console.log(
          `${report.scenarios} scenarios, ${report.intents} intents, ${report.faultsInjected} faults, ${report.crashes} crashes: ${report.violations.length} violation(s)`,
        );
        const byKind = Object.entries(report.faultsByKind).map(([kind, times]) => `${kind} ${times}`);
        if (byKind.length > 0) console.log(`  faults fired: ${byKind.join(', ')}`);
        for (const violation of report.violations) {
          console.log(`  scenario ${violation.scenario} ${violation.invariant}: ${violation.detail}`);
        }
        if (report.violations.length > 0) {
          console.log(
            `reproduce one: keel chaos --seed ${report.seed} --from <scenario> --scenarios 1${flags.crash ? ' --crash' : ''}${flags.network ? ' --network' : ''}`,
          );
        }
      }
      process.exit(report.violations.length === 0 ? 0 : 1);
    });
}

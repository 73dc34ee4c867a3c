/**
 * The soak's command line: `--minutes 10 --seed 1 [--kill-every-min 5 --kill-every-max 40] [--rate 20]
 * [--settle-seconds 120] [--dir D] [--json]`, parsed by zod.
 * Invariant: a bad or unknown flag is refused with an error naming each bad flag, before anything runs.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** A flag's text read as a number; a missing flag is named as such rather than as NaN. */
const number = () => z.coerce.number<string>({ error: 'must be a number' });
const given = (rules: ReturnType<typeof number>) => z.string({ error: 'is required' }).pipe(rules);
const seconds = given(number().positive().max(3_600));

const flagsSchema = z
  .strictObject({
    // Fractions are allowed: a test soaks for half a minute.
    minutes: given(
      number()
        .positive()
        .max(24 * 60),
    ),
    seed: given(number().int().min(0).max(0xffffffff)),
    'kill-every-min': seconds,
    'kill-every-max': seconds,
    rate: given(number().positive().max(500)),
    'settle-seconds': seconds,
    dir: z.string().min(1).optional(),
    json: z.boolean(),
  })
  .refine((flags) => flags['kill-every-min'] <= flags['kill-every-max'], {
    path: ['kill-every-min'],
    message: 'must not be above --kill-every-max',
  });

export interface SoakFlags {
  minutes: number;
  seed: number;
  /** Each keel lives a seeded random time in [min, max] seconds from its spawn, then gets SIGKILL. */
  killEveryMinS: number;
  killEveryMaxS: number;
  /** Intents (and cancels, replaces) per second. */
  rate: number;
  settleSeconds: number;
  dir?: string;
  json: boolean;
}

/** A flag the soak refuses, with every bad flag named in its message. */
export class SoakFlagError extends Error {
  override readonly name = 'SoakFlagError';
}

/**
 * @example
 * parseSoakFlags(['--minutes', '10', '--seed', '1', '--json']); // { minutes: 10, seed: 1, rate: 20, … }
 */
export function parseSoakFlags(argv: readonly string[]): SoakFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        minutes: { type: 'string' },
        seed: { type: 'string' },
        'kill-every-min': { type: 'string', default: '5' },
        'kill-every-max': { type: 'string', default: '40' },
        rate: { type: 'string', default: '20' },
        'settle-seconds': { type: 'string', default: '120' },
        dir: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    // node:util names the unknown flag or the missing value in its message.
    throw new SoakFlagError(error instanceof Error ? error.message : String(error));
  }
  const parsed = flagsSchema.safeParse(values);
  if (!parsed.success) {
    throw new SoakFlagError(
      `bad soak flags: ${parsed.error.issues.map((issue) => `--${issue.path.map(String).join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  const flags = parsed.data;
  return {
    minutes: flags.minutes,
    seed: flags.seed,
    killEveryMinS: flags['kill-every-min'],
    killEveryMaxS: flags['kill-every-max'],
    rate: flags.rate,
    settleSeconds: flags['settle-seconds'],
    ...(flags.dir === undefined ? {} : { dir: flags.dir }),
    json: flags.json,
  };
}

/**
 * The daemon's configuration: one YAML or JSON file, environment overrides (`KEEL__SECTION__KEY`),
 * flags, then zod, with secrets only from the environment or secret files.
 * Invariants: precedence is defaults < file < environment < flags; a bad config fails with the
 * path of every bad field at once; a secret is never read from the config file (a key that looks
 * like one is refused with its path), and `maskSecrets` is the only way secrets are shown.
 */
import { readFileSync } from 'node:fs';
import { Parser as YamlParser, parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { shownUrl } from '../adapters/notifier/http.notifiers.js';
import { keelConfigSchema } from '../config/create-keel.js';
import { BadInputError, ERROR_CODES } from '../domain/errors.js';

// A number, or digits (a flag's or a variable's text); never null, true or [] read as a port.
const port = z
  .union([z.number(), z.string().regex(/^\d+$/).transform(Number)], { error: 'must be a port number' })
  .pipe(z.number().int().min(0).max(65_535));
const threshold = z.strictObject({
  warnMs: z.number().positive().describe('level warning at or above this latency or staleness (ms)'),
  criticalMs: z.number().positive().describe('level critical at or above this (ms)'),
});

/** The ingress rate limit's defaults: generous for one bot on loopback, a wall for a flood. */
export const DEFAULT_RATE_LIMIT = { enabled: true, max: 3_000, windowMs: 60_000 } as const;

/** Everything `keel run` reads. Every key has a default: no file at all runs the embedded defaults. */
export const daemonConfigSchema = z.strictObject({
  keel: keelConfigSchema
    .prefault({})
    .describe(
      'the library configuration (createKeel): data dir, venue, risk, guard, supervisors; see the README',
    ),
  http: z
    .strictObject({
      host: z
        .string()
        .min(1)
        .default('127.0.0.1')
        .describe('interface to listen on; loopback unless you mean to expose the API'),
      port: port.default(7420).describe('TCP port (0 picks a free one)'),
      bodyLimitBytes: z
        .number()
        .int()
        .positive()
        .default(65_536)
        .describe('largest request body; larger ones get 413'),
      rateLimit: z
        .strictObject({
          enabled: z
            .boolean()
            .default(DEFAULT_RATE_LIMIT.enabled)
            .describe(
              'limit requests per client address (never /healthz, /readyz, /metrics or the dashboard page)',
            ),
          max: z
            .number()
            .int()
            .positive()
            .default(DEFAULT_RATE_LIMIT.max)
            .describe(
              'requests one address may make per window, the API and webhooks counted apart; more get 429 with Retry-After',
            ),
          windowMs: z
            .number()
            .int()
            .positive()
            .default(DEFAULT_RATE_LIMIT.windowMs)
            .describe('the rate-limit window (ms)'),
        })
        .prefault({})
        .describe('ingress rate limit, counted before the token or signature is checked'),
    })
    .prefault({})
    .describe('the HTTP and WebSocket API'),
  shutdown: z
    .strictObject({
      graceMs: z
        .number()
        .int()
        .positive()
        .default(10_000)
        .describe('SIGTERM/SIGINT: how long a graceful stop may take'),
      cancelOpenEntries: z
        .boolean()
        .default(false)
        .describe('cancel working entry orders on stop (exits and stops stay)'),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z
        .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
        .default('info')
        .describe('pino log level'),
      file: z.boolean().default(true).describe('also write JSON logs to <dataDir>/keel.log'),
    })
    .prefault({}),
  webhooks: z
    .strictObject({
      toleranceSec: z
        .number()
        .int()
        .positive()
        .default(300)
        .describe('how far an alert timestamp may be from now'),
      qtyDecimals: z
        .number()
        .int()
        .min(0)
        .max(12)
        .default(3)
        .describe('a notional is converted to a quantity rounded down to this many decimals'),
      sources: z
        .record(
          z.string().regex(/^[a-z0-9_-]{1,32}$/),
          z.strictObject({ enabled: z.boolean().default(true) }),
        )
        .default({})
        .describe(
          'webhook sources by name (POST /v1/webhooks/<name>); secrets from KEEL_WEBHOOK_SECRET[__<NAME>]',
        ),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      telegram: z
        .strictObject({
          chatId: z
            .string()
            .min(1)
            .describe('the chat to post to; the bot token comes from KEEL_TELEGRAM_BOT_TOKEN'),
        })
        .optional(),
      webhook: z
        .strictObject({
          url: z
            .url()
            .describe(
              'receives each alert as a JSON POST; its path and query are kept secret (logs and keel config check show the origin only)',
            ),
        })
        .optional(),
      minIntervalMs: z
        .number()
        .int()
        .nonnegative()
        .default(1_000)
        .describe('at most one alert per channel this often'),
      dedupWindowMs: z
        .number()
        .int()
        .nonnegative()
        .default(60_000)
        .describe('the same alert inside this window is sent once'),
    })
    .prefault({}),
  health: z
    .strictObject({
      checkEveryMs: z.number().int().positive().default(5_000).describe('how often stages are judged'),
      thresholds: z
        .strictObject({
          ingress: threshold.optional(),
          venue_ack: threshold.optional(),
          first_fill: threshold.optional(),
          reconcile: threshold.optional(),
          journal: threshold.optional(),
        })
        .default({})
        .describe(
          'per-stage thresholds over the defaults (ingress 50/500 ms, venue_ack 2/10 s, first_fill 5/30 s, reconcile 30/120 s, journal 100/1000 ms)',
        ),
    })
    .prefault({}),
});
export type DaemonConfig = z.output<typeof daemonConfigSchema>;

/** The secrets keel reads, each from its variable or from the file `<VARIABLE>_FILE` names. */
export const SECRET_VARIABLES = {
  apiToken: 'KEEL_API_TOKEN',
  webhookSecret: 'KEEL_WEBHOOK_SECRET',
  telegramBotToken: 'KEEL_TELEGRAM_BOT_TOKEN',
  venueApiKey: 'KEEL_VENUE_API_KEY',
  venueApiSecret: 'KEEL_VENUE_API_SECRET',
  /** OKX's API passphrase. */
  venueApiPassword: 'KEEL_VENUE_API_PASSWORD',
} as const;

export interface DaemonSecrets {
  apiToken?: string;
  webhookSecret?: string;
  /** Per-source webhook secrets, from KEEL_WEBHOOK_SECRET__<SOURCE>. */
  webhookSecrets: Record<string, string>;
  telegramBotToken?: string;
  venueApiKey?: string;
  venueApiSecret?: string;
  venueApiPassword?: string;
}

export interface LoadedConfig {
  config: DaemonConfig;
  secrets: DaemonSecrets;
  /** Where each layer came from, for `keel config check`. */
  sources: { file: string | null; envOverrides: string[] };
}

const SECRET_KEY = /(token|secret|password|api[_-]?key)$/i;

function refuseSecrets(
  value: unknown,
  path: string[],
  issues: Array<{ path: string; message: string }>,
  // YAML aliases can make a document refer to itself: each node is looked into once.
  seen = new Set<object>(),
): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const at = [...path, key];
    if (SECRET_KEY.test(key))
      issues.push({
        path: at.join('.'),
        message: 'secrets never go in the config file: use the environment (see keel config check)',
      });
    else refuseSecrets(child, at, issues, seen);
  }
}

/** The object schema under wrappers (default, prefault, optional), or null for a leaf. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | null {
  let current: z.ZodType = schema;
  for (;;) {
    const def = (current as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })._zod.def;
    if (def.type === 'object') return (current as unknown as z.ZodObject).shape;
    if (def.innerType === undefined) return null;
    current = def.innerType;
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
}

/**
 * `KEEL__HTTP__PORT=8000` → `{ http: { port: 8000 } }`. Segments match the schema's keys without
 * regard to case (environment variables are upper case, keys camelCase); values are JSON when they
 * parse as JSON, else strings. An unknown segment is an error naming the variable.
 */
function envOverrides(
  env: NodeJS.ProcessEnv,
  issues: Array<{ path: string; message: string }>,
): { value: Record<string, unknown>; names: string[] } {
  const value: Record<string, unknown> = {};
  const names: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('KEEL__') || raw === undefined) continue;
    const segments = name.slice('KEEL__'.length).split('__');
    const path: string[] = [];
    let shape: Record<string, z.ZodType> | null = daemonConfigSchema.shape;
    for (const segment of segments) {
      const key: string | undefined = shape
        ? Object.keys(shape).find((candidate) => candidate.toLowerCase() === segment.toLowerCase())
        : segment.toLowerCase();
      if (key === undefined) {
        issues.push({ path: name, message: `no config key ${segments.slice(0, path.length + 1).join('.')}` });
        path.length = 0;
        break;
      }
      path.push(key);
      const child: z.ZodType | undefined = shape?.[key];
      shape = child === undefined ? null : objectShape(child);
    }
    if (path.length === 0) continue;
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw) as unknown;
    } catch {
      // Not JSON: the string itself.
    }
    setPath(value, path, parsed);
    names.push(name);
  }
  return { value, names };
}

function merge(base: unknown, over: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over as Record<string, unknown>))
    result[key] = merge(result[key], value);
  return result;
}

function secretOf(
  env: NodeJS.ProcessEnv,
  name: string,
  issues: Array<{ path: string; message: string }>,
): string | undefined {
  const direct = env[name];
  if (direct !== undefined && direct !== '') return direct;
  const file = env[`${name}_FILE`];
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    issues.push({
      path: `${name}_FILE`,
      message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    });
    return undefined;
  }
}

/** Deeper than this a config file is refused unread: the schema itself nests six levels. */
const MAX_CONFIG_DEPTH = 64;

/**
 * How deep the document's collections nest, read from yaml's concrete syntax tree, which is built and
 * walked here without recursion: composing a document nested thousands deep exhausts the stack, and
 * doing so twice in one process can abort it (V8 fails to compile a regexp near the stack limit).
 */
function nestingDepth(text: string): number {
  let deepest = 0;
  const pending: Array<{ node: unknown; depth: number }> = [];
  for (const token of new YamlParser().parse(text)) pending.push({ node: token, depth: 0 });
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, depth } = next;
    const type = (node as { type?: unknown }).type;
    const here =
      type === 'block-map' || type === 'block-seq' || type === 'flow-collection' ? depth + 1 : depth;
    if (here > deepest) deepest = here;
    if (deepest > MAX_CONFIG_DEPTH) break;
    for (const child of Object.values(node as object))
      if (typeof child === 'object' && child !== null) pending.push({ node: child, depth: here });
  }
  return deepest;
}

/**
 * Loads the daemon's configuration.
 *
 * @example
 * const { config, secrets } = loadDaemonConfig({ file: 'keel.yaml', env: process.env, flags: { port: '8000' } });
 */
export function loadDaemonConfig(input: {
  file?: string;
  env: NodeJS.ProcessEnv;
  flags?: { dataDir?: string; port?: string | number; host?: string };
}): LoadedConfig {
  const issues: Array<{ path: string; message: string }> = [];
  let fromFile: unknown = {};
  if (input.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(input.file, 'utf8');
    } catch (error) {
      throw new BadInputError(
        `cannot read config ${input.file}`,
        [{ path: 'config', message: (error as NodeJS.ErrnoException).code ?? 'unreadable' }],
        ERROR_CODES.badConfig,
      );
    }
    try {
      if (nestingDepth(text) > MAX_CONFIG_DEPTH)
        throw new Error(`collections nested deeper than ${MAX_CONFIG_DEPTH} levels`);
      // JSON is YAML: one parser reads both. YAML 1.1 tags (!!set, !!omap, !!timestamp) stay plain
      // data: a Set, Map or Date would pass for an empty mapping and its keys be silently ignored.
      fromFile = (parseYaml(text, { resolveKnownTags: false, logLevel: 'error' }) as unknown) ?? {};
    } catch (error) {
      throw new BadInputError(
        `config ${input.file} is not YAML or JSON`,
        [
          {
            path: 'config',
            message: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
          },
        ],
        ERROR_CODES.badConfig,
      );
    }
    if (typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      // A scalar or a list is not a config: refused, never read as the defaults.
      issues.push({
        path: 'config',
        message: `must be a mapping of keys, not ${Array.isArray(fromFile) ? 'a list' : `a ${typeof fromFile}`}`,
      });
      fromFile = {};
    }
    refuseSecrets(fromFile, [], issues);
  }
  const env = envOverrides(input.env, issues);
  const flags: Record<string, unknown> = {};
  if (input.flags?.dataDir !== undefined) setPath(flags, ['keel', 'dataDir'], input.flags.dataDir);
  if (input.flags?.port !== undefined) setPath(flags, ['http', 'port'], input.flags.port);
  if (input.flags?.host !== undefined) setPath(flags, ['http', 'host'], input.flags.host);
  const merged = merge(merge(fromFile, env.value), flags);

  const parsed = daemonConfigSchema.safeParse(merged);
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      issues.push({ path: issue.path.map(String).join('.'), message: issue.message });

  const webhookSecrets: Record<string, string> = {};
  for (const name of Object.keys(input.env)) {
    const match = /^KEEL_WEBHOOK_SECRET__([A-Za-z0-9_-]+?)(_FILE)?$/.exec(name);
    if (!match?.[1]) continue;
    const secret = secretOf(input.env, `KEEL_WEBHOOK_SECRET__${match[1]}`, issues);
    if (secret !== undefined) webhookSecrets[match[1].toLowerCase()] = secret;
  }
  const secrets: DaemonSecrets = { webhookSecrets };
  for (const [field, name] of Object.entries(SECRET_VARIABLES) as Array<
    [keyof typeof SECRET_VARIABLES, string]
  >) {
    const secret = secretOf(input.env, name, issues);
    if (secret !== undefined) secrets[field] = secret;
  }
  if (issues.length > 0 || !parsed.success)
    throw new BadInputError('bad keel config', issues, ERROR_CODES.badConfig);
  return { config: parsed.data, secrets, sources: { file: input.file ?? null, envOverrides: env.names } };
}

/** The secrets as `keel config check` shows them: set or not, never the value. */
export function maskSecrets(secrets: DaemonSecrets): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [field, name] of Object.entries(SECRET_VARIABLES) as Array<
    [keyof typeof SECRET_VARIABLES, string]
  >)
    shown[name] = secrets[field] === undefined ? '(unset)' : '***';
  for (const source of Object.keys(secrets.webhookSecrets))
    shown[`KEEL_WEBHOOK_SECRET__${source.toUpperCase()}`] = '***';
  return shown;
}

/**
 * The effective configuration as YAML, secrets masked: the alert webhook's URL shows its origin only,
 * since a hook's path or query (Slack's, Discord's) is the secret that lets anyone post to it.
 */
export function renderEffectiveConfig(loaded: LoadedConfig): string {
  const { alerts } = loaded.config;
  const shown =
    alerts.webhook === undefined ? alerts : { ...alerts, webhook: { url: shownUrl(alerts.webhook.url) } };
  return stringifyYaml({ ...loaded.config, alerts: shown, secrets: maskSecrets(loaded.secrets) });
}

/** One row of the generated configuration reference. */
export interface ConfigKey {
  key: string;
  default: string;
  description: string;
  /** Set on a union's non-default kinds (the ccxt venue): the union's own key, e.g. `keel.venue`. */
  alternativeOf?: string;
}

function describeDefault(schema: z.ZodType): string {
  let current: z.ZodType = schema;
  for (;;) {
    const def = (
      current as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; defaultValue?: unknown } } }
    )._zod.def;
    if (def.type === 'default' || def.type === 'prefault') {
      const value =
        typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
      if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return '';
      return JSON.stringify(value);
    }
    if (def.innerType === undefined) return '';
    current = def.innerType;
  }
}

/**
 * Every leaf key of the schema with its default and description: the README's and `keel init`'s
 * configuration reference, generated so that it cannot drift from what zod accepts.
 */
export function configKeys(
  schema: z.ZodType = daemonConfigSchema,
  prefix = '',
  unions: 'all' | 'first' = 'all',
): ConfigKey[] {
  const shape = objectShape(schema);
  if (shape === null)
    return [{ key: prefix, default: describeDefault(schema), description: schema.description ?? '' }];
  const keys: ConfigKey[] = [];
  for (const [key, child] of Object.entries(shape)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const options = unionOptions(child);
    if (options !== null) {
      // One block per kind (the venue: paper or ccxt), each key labelled with the kind it belongs to.
      for (const [index, option] of (unions === 'first' ? options.slice(0, 1) : options).entries()) {
        const kind = objectShape(option)?.kind;
        const label = kind === undefined ? '' : `(${String(literalOf(kind))}) `;
        const rows = configKeys(option, path, unions).map((row) => ({
          ...row,
          description: `${label}${row.description}`.trim(),
          ...(index > 0 ? { alternativeOf: path } : {}),
        }));
        keys.push(...rows);
      }
      continue;
    }
    const nested = objectShape(child);
    if (nested !== null && Object.keys(nested).length > 0) keys.push(...configKeys(child, path, unions));
    else keys.push({ key: path, default: describeDefault(child), description: child.description ?? '' });
  }
  return keys;
}

/** The options of a (discriminated) union under wrappers, or null when the schema is not one. */
function unionOptions(schema: z.ZodType): z.ZodType[] | null {
  let current: z.ZodType = schema;
  for (;;) {
    const def = (
      current as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; options?: z.ZodType[] } } }
    )._zod.def;
    if (def.type === 'union') return def.options ?? null;
    if (def.innerType === undefined) return null;
    current = def.innerType;
  }
}

function literalOf(schema: z.ZodType): unknown {
  const def = (schema as unknown as { _zod: { def: { values?: unknown[] } } })._zod.def;
  return def.values?.[0];
}

/** The reference as a markdown table. */
export function renderConfigReference(): string {
  const escape = (text: string) => text.replaceAll('|', '\\|');
  const rows = configKeys().map(
    (row) =>
      `| \`${row.key}\` | ${row.default === '' ? '' : `\`${escape(row.default)}\``} | ${escape(row.description)} |`,
  );
  return ['| key | default | description |', '| --- | --- | --- |', ...rows, ''].join('\n');
}

/** `keel init`'s file: every key, nested as YAML, commented out at its default, with its description. */
export function renderConfigTemplate(): string {
  const lines = [
    '# keel run configuration. Every key is optional; shown are the defaults: uncomment to change one.',
    '# Precedence: defaults < this file < KEEL__SECTION__KEY environment variables < flags.',
    '# Secrets never go here: KEEL_API_TOKEN, KEEL_WEBHOOK_SECRET[__<SOURCE>], KEEL_TELEGRAM_BOT_TOKEN,',
    '# KEEL_VENUE_API_KEY, KEEL_VENUE_API_SECRET (or <NAME>_FILE naming a file that holds it).',
  ];
  let open: string[] = [];
  for (const row of configKeys()) {
    if (row.alternativeOf !== undefined) {
      // Another kind of a union (the ccxt venue) stays a comment even when the file is uncommented:
      // its keys cannot sit beside the default kind's.
      const depth = row.alternativeOf.split('.').length;
      const rest = row.key.slice(row.alternativeOf.length + 1);
      lines.push(`#${'  '.repeat(depth)} ## ${rest}: ${row.default}   # ${row.description}`);
      continue;
    }
    const path = row.key.split('.');
    const parents = path.slice(0, -1);
    let shared = 0;
    while (shared < parents.length && shared < open.length && parents[shared] === open[shared]) shared += 1;
    for (let depth = shared; depth < parents.length; depth += 1) {
      if (depth === 0) lines.push('');
      lines.push(`# ${'  '.repeat(depth)}${parents[depth]}:`);
    }
    open = parents;
    const indent = '  '.repeat(parents.length);
    if (row.description !== '') lines.push(`#${indent} ## ${row.description}`);
    lines.push(`# ${indent}${path.at(-1)}: ${row.default}`);
  }
  return `${lines.join('\n')}\n`;
}

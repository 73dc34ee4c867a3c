/**
 * How the CLI reaches a running daemon: its URL (`--url`, default http://127.0.0.1:7420) and its
 * token (KEEL_API_TOKEN, or the file `keel run` keeps it in under the data dir).
 * Invariants: options are parsed with zod and a bad one names its field; the token is read, sent
 * as a bearer header, and never printed; an unreachable daemon or an error answer is reported
 * with the HTTP status and the daemon's own error message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BadInputError } from '../domain/errors.js';
import { parseOrThrow } from '../domain/parse.js';

export const DEFAULT_DAEMON_URL = 'http://127.0.0.1:7420';
export const DEFAULT_TOKEN_FILE = join('.keel', 'data', 'api-token');

export const daemonClientOptionsSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).default(DEFAULT_DAEMON_URL),
  tokenFile: z.string().min(1).default(DEFAULT_TOKEN_FILE),
  json: z.boolean().default(false),
});
export type DaemonClientOptions = z.output<typeof daemonClientOptionsSchema>;

export class DaemonCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DaemonCallError';
  }
}

export function parseClientOptions(raw: Record<string, unknown>): DaemonClientOptions {
  return parseOrThrow(daemonClientOptionsSchema, raw, 'invalid options');
}

function tokenOf(options: DaemonClientOptions, env: NodeJS.ProcessEnv): string {
  const fromEnv = env.KEEL_API_TOKEN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!existsSync(options.tokenFile))
    throw new BadInputError('no API token', [
      {
        path: 'tokenFile',
        message: `set KEEL_API_TOKEN or give --token-file (${options.tokenFile} does not exist)`,
      },
    ]);
  return readFileSync(options.tokenFile, 'utf8').trim();
}

/**
 * Calls the daemon and returns its JSON answer.
 *
 * @example
 * const belief = await callDaemon(options, 'GET', '/v1/belief');
 */
export async function callDaemon(
  options: DaemonClientOptions,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  env: NodeJS.ProcessEnv = process.env,
): Promise<unknown> {
  const token = tokenOf(options, env);
  let response: Response;
  try {
    response = await fetch(new URL(path, options.url), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new DaemonCallError(
      0,
      `cannot reach keel at ${options.url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    // Not JSON: reported as text below.
  }
  if (!response.ok) {
    const message =
      typeof json === 'object' && json !== null && 'error' in json
        ? String((json as { error: { message?: unknown } }).error.message)
        : text;
    throw new DaemonCallError(response.status, `keel answered ${response.status}: ${message}`);
  }
  return json;
}

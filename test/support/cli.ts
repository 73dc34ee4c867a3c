/**
 * Runs the built `keel` binary the way a user would. The test command builds before vitest
 * runs; a missing build is reported as such rather than as a confusing spawn error.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const KEEL_BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runKeel(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  if (!existsSync(KEEL_BIN)) throw new Error(`${KEEL_BIN} is missing: run \`npm run build\` first`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [KEEL_BIN, ...args],
      { cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, env: { ...process.env, ...options.env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

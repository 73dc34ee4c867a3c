/**
 * One `keel run` child process as the soak drives it: the built CLI on a fixed data dir and port,
 * spawned, waited on until /readyz answers 200, killed with SIGKILL or stopped with SIGTERM.
 * Invariants: the API token reaches the child through its environment only; the child's stderr is
 * appended to a file in the soak dir (a crash's stack lands there), its stdout is dropped because
 * keel writes the same lines to `<dataDir>/keel.log`; `exited` settles exactly once per child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const KEEL_BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface DaemonSpec {
  configFile: string;
  dataDir: string;
  port: number;
  token: string;
  stderrFile: string;
}

export interface DaemonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DaemonProcess {
  readonly pid: number;
  readonly spawnedAt: number;
  /** Settles when the process has exited, whatever ended it. */
  readonly exited: Promise<DaemonExit>;
  /** Resolves with the milliseconds from spawn to the first 200 of /readyz, or null if it exited first. */
  ready(timeoutMs: number): Promise<number | null>;
  kill(signal: 'SIGKILL' | 'SIGTERM'): void;
}

/**
 * @example
 * const daemon = spawnDaemon(spec);
 * const readyMs = await daemon.ready(60_000);
 */
export function spawnDaemon(spec: DaemonSpec): DaemonProcess {
  if (!existsSync(KEEL_BIN)) throw new Error(`${KEEL_BIN} is missing: run \`npm run build\` first`);
  const stderr = openSync(spec.stderrFile, 'a');
  const spawnedAt = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [
        KEEL_BIN,
        'run',
        '--config',
        spec.configFile,
        '--data-dir',
        spec.dataDir,
        '--port',
        String(spec.port),
        '--host',
        '127.0.0.1',
      ],
      { env: { ...process.env, KEEL_API_TOKEN: spec.token }, stdio: ['ignore', 'ignore', stderr] },
    );
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(stderr);
  }
  const exited = new Promise<DaemonExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const pid = child.pid ?? -1;

  async function ready(timeoutMs: number): Promise<number | null> {
    const deadline = spawnedAt + timeoutMs;
    while (!gone) {
      try {
        const response = await fetch(`http://127.0.0.1:${spec.port}/readyz`, {
          headers: { authorization: `Bearer ${spec.token}` },
          signal: AbortSignal.timeout(2_000),
        });
        await response.arrayBuffer();
        if (response.ok) return performance.now() - spawnedAt;
      } catch {
        // Not listening yet, or not ready: keep polling.
      }
      if (performance.now() > deadline) {
        throw new Error(`keel run (pid ${pid}) was not ready within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return null;
  }

  return {
    pid,
    spawnedAt,
    exited,
    ready,
    kill(signal) {
      if (!gone) child.kill(signal);
    },
  };
}

/**
 * Options for a daemon started in a test: loopback on a free port, a temp data dir, quiet logs,
 * no stops required (most tests trade without them), laid under whatever the test overrides.
 */
import type { DaemonOptions } from '../../src/daemon/run.js';

export function testDaemonOptions(
  dataDir: string,
  overrides: Partial<DaemonOptions> & { keel?: Partial<DaemonOptions['keel']> } = {},
): DaemonOptions {
  const { keel, ...rest } = overrides;
  return {
    http: { host: '127.0.0.1', port: 0, bodyLimitBytes: 65_536 },
    shutdown: { graceMs: 5_000, cancelOpenEntries: false },
    logging: { level: 'warn', file: false },
    webhooks: { toleranceSec: 300, sources: {} },
    secrets: {},
    ...rest,
    keel: { protection: { requireStops: false }, ...keel, dataDir },
  };
}

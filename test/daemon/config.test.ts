/**
 * The daemon's configuration: embedded defaults with no file; YAML and JSON files; KEEL__… overrides
 * with nesting and case-insensitive keys; flags over environment over file; secrets only from the
 * environment or secret files, refused in the file with their path; every bad field reported at
 * once; and `keel init` / `keel config check` as a user runs them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CONFIG_EXIT } from '../../src/cli/config.command.js';
import { daemonOptionsOf } from '../../src/cli/run.command.js';
import { configKeys, loadDaemonConfig, renderConfigTemplate } from '../../src/daemon/config.js';
import { BadInputError } from '../../src/domain/errors.js';
import { runKeel } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keel-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function issuesOf(run: () => unknown): Array<{ path: string; message: string }> {
  try {
    run();
  } catch (error) {
    if (error instanceof BadInputError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a bad config');
}

describe('the daemon configuration', () => {
  it('runs on embedded defaults with no file at all', () => {
    const { config, secrets } = loadDaemonConfig({ env: {} });
    expect(config.http).toEqual({
      host: '127.0.0.1',
      port: 7420,
      bodyLimitBytes: 65_536,
      rateLimit: { enabled: true, max: 3_000, windowMs: 60_000 },
    });
    expect(config.keel.dataDir).toBe('.keel/data');
    expect(config.keel.venue).toMatchObject({ kind: 'paper' });
    expect(secrets).toEqual({ webhookSecrets: {} });
  });

  it('reads YAML and JSON, and lays environment over the file and flags over both', () => {
    const yaml = file(
      'keel.yaml',
      'http:\n  port: 8001\n  host: 0.0.0.0\nkeel:\n  risk:\n    maxNotional: 500\n',
    );
    const json = file('keel.json', JSON.stringify({ http: { port: 8002 } }));
    expect(loadDaemonConfig({ file: json, env: {} }).config.http.port).toBe(8002);
    const loaded = loadDaemonConfig({
      file: yaml,
      env: { KEEL__HTTP__PORT: '9000', KEEL__KEEL__RISK__MAXNOTIONAL: '750', KEEL__LOGGING__LEVEL: 'debug' },
      flags: { port: '9100' },
    });
    expect(loaded.config.http).toMatchObject({ port: 9100, host: '0.0.0.0' });
    expect(loaded.config.keel.risk.maxNotional).toBe(750);
    expect(loaded.config.logging.level).toBe('debug');
    expect(loaded.sources.envOverrides.sort()).toEqual([
      'KEEL__HTTP__PORT',
      'KEEL__KEEL__RISK__MAXNOTIONAL',
      'KEEL__LOGGING__LEVEL',
    ]);
  });

  it('takes secrets from the environment or secret files, and refuses them in the config file', () => {
    const tokenFile = file('token', 'from-a-file\n');
    const { secrets } = loadDaemonConfig({
      env: {
        KEEL_API_TOKEN_FILE: tokenFile,
        KEEL_WEBHOOK_SECRET: 'shared',
        KEEL_WEBHOOK_SECRET__TV: 'tv-only',
      },
    });
    expect(secrets).toMatchObject({
      apiToken: 'from-a-file',
      webhookSecret: 'shared',
      webhookSecrets: { tv: 'tv-only' },
    });
    // OKX needs its passphrase beside the key pair: all three reach the venue credentials keel run builds.
    const okx = loadDaemonConfig({
      env: { KEEL_VENUE_API_KEY: 'k', KEEL_VENUE_API_SECRET: 's', KEEL_VENUE_API_PASSWORD: 'p' },
    });
    expect(daemonOptionsOf(okx).secrets).toMatchObject({
      venueApiKey: 'k',
      venueApiSecret: 's',
      venueApiPassword: 'p',
    });
    const leaky = file('leaky.yaml', 'alerts:\n  telegram:\n    chatId: "1"\n    botToken: "123:abc"\n');
    expect(issuesOf(() => loadDaemonConfig({ file: leaky, env: {} }))).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: 'alerts.telegram.botToken',
          message: expect.stringMatching(/environment/) as string,
        }),
      ]),
    );
  });

  it('reports every bad field at once, from the file and the environment', () => {
    const bad = file('bad.yaml', 'http:\n  port: 99999\nshutdown:\n  graceMs: -1\nlogging:\n  level: loud\n');
    const paths = issuesOf(() => loadDaemonConfig({ file: bad, env: { KEEL__NOPE__X: '1' } })).map(
      (issue) => issue.path,
    );
    expect(paths.sort()).toEqual(['KEEL__NOPE__X', 'http.port', 'logging.level', 'shutdown.graceMs']);
  });

  it('writes a template with every key that parses back as YAML, and keel config check masks secrets', async () => {
    const template = renderConfigTemplate();
    for (const { key } of configKeys()) expect(template).toContain(`${key.split('.').at(-1)}:`);
    // Uncommented, the template is a valid config whose values are the defaults.
    const uncommented = template
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('# ') &&
          !line.trimStart().startsWith('# ##') &&
          /^#\s+\S.*:/.test(line) &&
          !/^# (keel run|Precedence|Secrets|KEEL_)/.test(line),
      )
      .map((line) => line.slice(2))
      .join('\n');
    expect(() => parseYaml(uncommented) as unknown).not.toThrow();

    const out = join(dir, 'init.yaml');
    expect((await runKeel(['init', '--out', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(template);
    expect((await runKeel(['init', '--out', out])).code).toBe(CONFIG_EXIT.bad);

    const check = await runKeel(['config', 'check', '--config', out, '--port', '7777'], {
      env: { KEEL_API_TOKEN: 'super-secret-value' },
    });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('port: 7777');
    expect(check.stdout).toContain('KEEL_API_TOKEN: "***"');
    expect(check.stdout).not.toContain('super-secret-value');
    const bad = await runKeel(['config', 'check', '--port', 'x']);
    expect(bad.code).toBe(CONFIG_EXIT.bad);
    expect(bad.stderr).toContain('http.port');
  });
});

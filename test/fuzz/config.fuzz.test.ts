/**
 * Input fuzzing of the daemon's configuration loader (`loadDaemonConfig`: a YAML or JSON file, then
 * `KEEL__…` environment overrides, then flags, then zod): arbitrary JSON documents, arbitrary text
 * and bytes, hostile YAML (nesting thousands deep, alias bombs, tags, several documents), values of
 * the wrong type at known keys from the file or the environment, arbitrary overrides, and secrets in
 * the file. The loader either returns a complete configuration (every section, valid against the
 * schema) or throws its own error (KEEL_ERR_BAD_CONFIG) naming the path of every bad field; it never
 * throws anything else and never returns a partial configuration.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  configKeys,
  daemonConfigSchema,
  loadDaemonConfig,
  type LoadedConfig,
} from '../../src/daemon/config.js';
import { BadInputError, ERROR_CODES } from '../../src/domain/errors.js';

const RUNS = 100;
const dir = mkdtempSync(join(tmpdir(), 'keel-fuzz-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let written = 0;
function fileOf(content: string | Uint8Array): string {
  written += 1;
  const path = join(dir, `config-${written}.yaml`);
  writeFileSync(path, content);
  return path;
}

type Outcome = { ok: true; loaded: LoadedConfig } | { ok: false; error: BadInputError };

/** Loads, and lets anything but the loader's own config error fail the property. */
function load(input: Parameters<typeof loadDaemonConfig>[0]): Outcome {
  try {
    return { ok: true, loaded: loadDaemonConfig(input) };
  } catch (error) {
    if (error instanceof BadInputError && error.code === ERROR_CODES.badConfig) return { ok: false, error };
    throw error;
  }
}

const SECTIONS = Object.keys(daemonConfigSchema.shape).sort();

/** Every section present and the whole valid against the schema: nothing partial. */
function expectComplete(loaded: LoadedConfig): void {
  expect(Object.keys(loaded.config).sort()).toEqual(SECTIONS);
  const again = daemonConfigSchema.safeParse(loaded.config);
  expect(again.success).toBe(true);
  expect(loaded.secrets.webhookSecrets).toEqual(expect.any(Object));
}

/** A config error with at least one issue, each a path and a message, all of them in the message. */
function expectIssues(error: BadInputError): string[] {
  expect(error.issues.length).toBeGreaterThan(0);
  for (const issue of error.issues) {
    expect(issue.path).toEqual(expect.any(String));
    expect(issue.message).toEqual(expect.any(String));
    expect(issue.message.length).toBeGreaterThan(0);
    expect(error.message).toContain(`${issue.path || '(root)'}: `);
  }
  return error.issues.map((issue) => issue.path);
}

function expectSound(outcome: Outcome): void {
  if (outcome.ok) expectComplete(outcome.loaded);
  else expectIssues(outcome.error);
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A document as JSON or as YAML (block or flow style). */
const asText = (value: unknown, style: 'json' | 'yaml' | 'flow'): string =>
  style === 'json'
    ? JSON.stringify(value)
    : stringifyYaml(value, style === 'flow' ? { collectionStyle: 'flow' } : {});
const styles = fc.constantFrom<'json' | 'yaml' | 'flow'>('json', 'yaml', 'flow');

/** Known leaf keys and their types: every key with a scalar default, plus some optional ones. */
const KNOWN_KEYS: ReadonlyArray<{ key: string; type: 'number' | 'string' | 'boolean' }> = [
  ...configKeys(daemonConfigSchema, '', 'first').flatMap((row) => {
    if (row.default === '') return [];
    const value: unknown = JSON.parse(row.default);
    const type = typeof value;
    return type === 'number' || type === 'string' || type === 'boolean' ? [{ key: row.key, type }] : [];
  }),
  { key: 'alerts.telegram.chatId', type: 'string' as const },
  { key: 'alerts.webhook.url', type: 'string' as const },
  { key: 'keel.risk.maxNotional', type: 'number' as const },
  { key: 'health.thresholds.ingress.warnMs', type: 'number' as const },
];

const smallJson = fc.jsonValue({ maxDepth: 2 });

/** A value that is not of the key's type (a number key also refuses any string but digits). */
function wrongTypeFor(type: 'number' | 'string' | 'boolean'): fc.Arbitrary<unknown> {
  const structured = [
    fc.constant(null),
    fc.array(smallJson, { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 6 }), smallJson, { maxKeys: 3 }),
  ];
  const numbers = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  switch (type) {
    case 'number':
      return fc.oneof(
        fc.boolean(),
        fc.string().filter((text) => !/^\d+$/.test(text)),
        ...structured,
      );
    case 'string':
      return fc.oneof(numbers, fc.boolean(), ...structured);
    case 'boolean':
      return fc.oneof(numbers, fc.string(), ...structured);
  }
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isMapping(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
}

const SECRET_KEY = /(token|secret|password|api[_-]?key)$/i;

describe('config loader input fuzzing', () => {
  // First in the file on purpose: without a depth guard, composing such a document exhausts the stack,
  // and the second attempt in a process whose yaml regexps are still cold aborts it (V8 fails to
  // compile a regexp near the stack limit: "FATAL ERROR: RegExpCompiler Allocation failed").
  it('refuses documents nested thousands deep, one after another in one process, with a config error', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2_000, max: 50_000 }), fc.constantFrom('[', '{"a":'), (depth, open) => {
        const text = `${open.repeat(depth)}${open === '[' ? '' : '1'}${(open === '[' ? ']' : '}').repeat(depth)}`;
        const outcome = load({ file: fileOf(text), env: {} });
        expect(outcome.ok).toBe(false);
        if (!outcome.ok)
          expect(outcome.error.issues).toEqual([
            { path: 'config', message: expect.stringMatching(/nested deeper/) as string },
          ]);
      }),
      { numRuns: 5 },
    );
  });

  it('loads an arbitrary JSON document as a complete config or refuses it, naming each unknown section', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), styles, (value, style) => {
        const outcome = load({ file: fileOf(asText(value, style)), env: {} });
        expectSound(outcome);
        // Only a mapping of keys is a config; an empty document is the defaults.
        if (value !== null && !isMapping(value)) expect(outcome.ok).toBe(false);
        if (isMapping(value)) {
          const unknown = Object.keys(value).filter((key) => !SECTIONS.includes(key));
          if (unknown.length > 0) expect(outcome.ok).toBe(false);
          if (!outcome.ok)
            for (const key of unknown)
              expect(
                outcome.error.issues.some(
                  (issue) =>
                    issue.path === key ||
                    issue.path.startsWith(`${key}.`) ||
                    issue.message.includes(`"${key}"`),
                ),
              ).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('loads arbitrary text or bytes as a complete config or refuses it with a config error', () => {
    const line = fc
      .tuple(
        fc.nat({ max: 6 }),
        fc.oneof(
          fc.constantFrom(...SECTIONS, 'port', 'host', 'keel', '-', '- a', '<<', '&a', '*a', '? x'),
          fc.string(),
        ),
        fc.oneof(
          fc.constant(''),
          fc.string(),
          fc.constantFrom('{', '[', ']', '|', '>', '!!str', '!!binary x', '"', "'"),
        ),
      )
      .map(([indent, key, value]) => `${' '.repeat(indent)}${key}: ${value}`);
    const texts = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc.array(line, { maxLength: 12 }).map((lines) => lines.join('\n')),
      fc.uint8Array({ maxLength: 500 }),
    );
    fc.assert(
      fc.property(texts, (text) => {
        const outcome = load({ file: fileOf(text), env: {} });
        expectSound(outcome);
        if (typeof text === 'string') {
          let parsed: unknown = null;
          try {
            parsed = parseYaml(text, { logLevel: 'error' }) as unknown;
          } catch {
            // Not YAML at all: the loader must have refused it.
            expect(outcome.ok).toBe(false);
          }
          if (parsed !== null && parsed !== undefined && !isMapping(parsed)) expect(outcome.ok).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses hostile YAML (nesting thousands deep, alias bombs and chains, several documents) with a config error, and loads odd YAML soundly', () => {
    const hostile = fc.oneof(
      fc.integer({ min: 1_000, max: 50_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
      fc.integer({ min: 1_000, max: 20_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
      fc
        .integer({ min: 1_000, max: 2_000 })
        .map(
          (depth) =>
            `http:\n${Array.from({ length: depth }, (_, at) => `${' '.repeat(at + 2)}a:`).join('\n')} 1`,
        ),
      fc
        .integer({ min: 1_000, max: 2_000 })
        .map((depth) => Array.from({ length: depth }, (_, at) => `${'  '.repeat(at)}-`).join('\n') + ' 1'),
      fc
        .integer({ min: 5, max: 12 })
        .map((levels) =>
          Array.from({ length: levels }, (_, level) =>
            level === 0
              ? 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
              : `a${level}: &a${level} [${Array.from({ length: 9 }, () => `*a${level - 1}`).join(',')}]`,
          ).join('\n'),
        ),
      fc
        .integer({ min: 120, max: 400 })
        .map((links) =>
          [
            'a0: &a0 [1]',
            ...Array.from({ length: links }, (_, at) => `a${at + 1}: &a${at + 1} [*a${at}]`),
          ].join('\n'),
        ),
      fc
        .integer({ min: 2, max: 5 })
        .map((documents) => Array.from({ length: documents }, () => 'http: {}').join('\n---\n')),
      fc.constantFrom(
        '__proto__:\n  http: {}\n',
        'http:\n  __proto__:\n    port: 1\n',
        'http: {}\nhttp: {}\n',
        'http:\n\tport: 1\n',
        '\uFEFF\uFEFFhttp: {}\n',
        'http:\n  port: 1\u0000\n',
      ),
    );
    // Odd but well-formed: loaded or refused, either way soundly.
    const odd = fc.constantFrom(
      'http: !custom {port: 1}\n',
      'http:\n  port: !!str 8080\n',
      'base: &b {port: 1}\nhttp:\n  <<: *b\n',
      'http: &h {}\nshutdown: *h\n',
      '# only a comment\n',
      '---\n...\n',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          hostile.map((text) => ({ text, refused: true })),
          odd.map((text) => ({ text, refused: false })),
        ),
        ({ text, refused }) => {
          const outcome = load({ file: fileOf(text), env: {} });
          expectSound(outcome);
          if (refused) expect(outcome.ok).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a document that refers to itself through an alias, naming where', () => {
    const name = fc.oneof(fc.constantFrom(...SECTIONS), fc.stringMatching(/^[a-z]{1,8}$/));
    const cycles = fc.oneof(
      fc.tuple(name, name).map(([at, key]) => ({ at, text: `${at}: &self {${key}: *self}\n` })),
      fc.tuple(name, name).map(([at, key]) => ({ at, text: `${at}: &self\n  ${key}:\n    - *self\n` })),
      name.map((at) => ({ at, text: `${at}: &self [1, *self]\n` })),
    );
    fc.assert(
      fc.property(cycles, ({ at, text }) => {
        const outcome = load({ file: fileOf(text), env: {} });
        expect(outcome.ok).toBe(false);
        if (outcome.ok) return;
        const paths = expectIssues(outcome.error);
        expect(paths.some((path) => path === at || path.startsWith(`${at}.`) || path === '')).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('refuses YAML 1.1 typed values (set, ordered map, timestamp, binary) where a section belongs, naming it', () => {
    const typed = fc.constantFrom(
      '!!set {a, b}',
      '!!omap [{port: 9999}]',
      '!!timestamp 2001-12-14',
      '!!binary aGVsbG8=',
      '!!pairs [{a: 1}]',
    );
    fc.assert(
      fc.property(fc.constantFrom(...SECTIONS), typed, (section, value) => {
        // A Set, Map or Date would pass for an empty mapping: the section's keys silently lost.
        const outcome = load({ file: fileOf(`${section}: ${value}\n`), env: {} });
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) expect(expectIssues(outcome.error)).toContain(section);
      }),
      { numRuns: 30 },
    );
  });

  it('names the path of every known key given a value of the wrong type, from the file or the environment', () => {
    const wrongKeys = fc
      .uniqueArray(fc.constantFrom(...KNOWN_KEYS), {
        minLength: 1,
        maxLength: 4,
        selector: (known) => known.key,
      })
      .chain((keys) =>
        fc.tuple(
          ...keys.map((known) => wrongTypeFor(known.type).map((value) => ({ key: known.key, value }))),
        ),
      );
    fc.assert(
      fc.property(wrongKeys, fc.constantFrom('json', 'yaml', 'flow', 'env'), (bad, where) => {
        let outcome: Outcome;
        if (where === 'env') {
          const env: Record<string, string> = {};
          for (const { key, value } of bad)
            env[`KEEL__${key.split('.').join('__').toUpperCase()}`] = JSON.stringify(value);
          outcome = load({ env });
        } else {
          const document: Record<string, unknown> = {};
          for (const { key, value } of bad) setAt(document, key.split('.'), value);
          outcome = load({ file: fileOf(asText(document, where)), env: {} });
        }
        expect(outcome.ok).toBe(false);
        if (outcome.ok) return;
        const paths = expectIssues(outcome.error);
        for (const { key } of bad) expect(paths).toContain(key);
      }),
      { numRuns: RUNS },
    );
  });

  it('names the path of a secret put anywhere in the file', () => {
    const plainKey = fc.stringMatching(/^[a-z]{1,6}$/).filter((key) => !SECRET_KEY.test(key));
    const secretKey = fc.oneof(
      fc.constantFrom('token', 'botToken', 'apiKey', 'api_key', 'API-KEY', 'password', 'webhookSecret'),
      plainKey.map((key) => `${key}Secret`),
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...SECTIONS), plainKey), { maxLength: 4 }),
        secretKey,
        fc.oneof(fc.string(), fc.integer()),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
        styles,
        (parents, key, value, around, style) => {
          const document: Record<string, unknown> = { ...around };
          for (const other of Object.keys(document)) if (SECRET_KEY.test(other)) delete document[other];
          setAt(document, [...parents, key], value);
          const outcome = load({ file: fileOf(asText(document, style)), env: {} });
          expect(outcome.ok).toBe(false);
          if (outcome.ok) return;
          const secret = outcome.error.issues.find((issue) => issue.path === [...parents, key].join('.'));
          expect(secret?.message).toMatch(/environment/);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('loads arbitrary KEEL__ overrides as a complete config or refuses them with a config error', () => {
    const segment = fc.oneof(
      fc.constantFrom(
        'HTTP',
        'PORT',
        'HOST',
        'KEEL',
        'RISK',
        'LOGGING',
        'LEVEL',
        'WEBHOOKS',
        'SOURCES',
        'TV',
        'X',
      ),
      fc.stringMatching(/^[A-Za-z0-9_]{0,8}$/),
    );
    const overrides = fc.dictionary(
      fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => `KEEL__${segments.join('__')}`),
      fc.oneof(
        fc.string(),
        fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
      ),
      { maxKeys: 4 },
    );
    fc.assert(
      fc.property(overrides, (env) => {
        const outcome = load({ env });
        expectSound(outcome);
        if (outcome.ok) {
          expect(outcome.loaded.sources.envOverrides.sort()).toEqual(Object.keys(env).sort());
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * Input fuzzing of `keel simulate`'s script parser, through the command itself, in process: arbitrary
 * text and bytes, arbitrary JSON, and script-shaped documents whose orders and events carry arbitrary
 * values. The command either replays the script (exit 0 or 3, the outcome on stdout) or refuses it
 * (exit 2, the parser's error with the path of every bad field, each path pointing into the document);
 * it never throws, and a bad event is named by its index while good ones are not.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { SIMULATE_EXIT, registerSimulateCommand } from '../../src/cli/simulate.command.js';
import { MAX_QUANTITY } from '../../src/domain/quantity.js';

const RUNS = 100;
const dir = mkdtempSync(join(tmpdir(), 'keel-fuzz-simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

let written = 0;
function fileOf(content: string | Uint8Array): string {
  written += 1;
  const path = join(dir, `script-${written}.json`);
  writeFileSync(path, content);
  return path;
}

interface Run {
  code: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the printed JSON is checked field by field with expect
  json: any;
  printed: string;
}

/** `keel simulate FILE --json [--lenient]` in process; a throw out of the command fails the property. */
async function simulate(
  content: string | Uint8Array,
  options: { lenient?: boolean; json?: boolean } = {},
): Promise<Run> {
  const lines: string[] = [];
  const log = vi
    .spyOn(console, 'log')
    .mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  const program = new Command().exitOverride();
  registerSimulateCommand(program);
  const json = options.json ?? true;
  try {
    await program.parseAsync(
      ['simulate', fileOf(content), ...(json ? ['--json'] : []), ...(options.lenient ? ['--lenient'] : [])],
      { from: 'user' },
    );
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  const printed = lines.join('\n');
  return { code, json: json ? JSON.parse(printed) : null, printed };
}

/** Exit 2 with the parser's error, every issue a path and a message. */
function expectRefused(run: Run): Array<{ path: string; message: string }> {
  expect(run.code).toBe(SIMULATE_EXIT.malformed);
  expect(run.json.error.code).toBe('KEEL_ERR_BAD_INPUT');
  expect(run.json.error.message).toEqual(expect.any(String));
  expect(run.json.error.issues.length).toBeGreaterThan(0);
  for (const issue of run.json.error.issues) {
    expect(issue.path).toEqual(expect.any(String));
    expect(issue.message).toEqual(expect.any(String));
    expect(issue.message.length).toBeGreaterThan(0);
  }
  return run.json.error.issues;
}

/** Exit 0 or 3 with an outcome that accounts for the events replayed. */
function expectReplayed(run: Run, events: number): void {
  expect([SIMULATE_EXIT.ok, SIMULATE_EXIT.refused]).toContain(run.code);
  expect(run.json.status).toEqual(expect.any(String));
  expect(run.json.filledQty).toEqual(expect.any(Number));
  expect(run.json.transitions.length).toBeLessThanOrEqual(events);
  const refused = run.json.error !== undefined || run.json.anomalies.length > 0;
  expect(run.code).toBe(refused ? SIMULATE_EXIT.refused : SIMULATE_EXIT.ok);
}

/**
 * The parent of every issue's path exists in the document: a path names the bad field itself, or a
 * missing one under an object that is there.
 */
function expectPathsInto(document: unknown, issues: ReadonlyArray<{ path: string }>): void {
  for (const { path } of issues) {
    if (path === '') continue;
    let node: unknown = document;
    for (const part of path.split('.').slice(0, -1)) {
      expect(
        typeof node === 'object' && node !== null && part in node,
        `${path} leads into the document`,
      ).toBe(true);
      node = (node as Record<string, unknown>)[part];
    }
    expect(typeof node === 'object' && node !== null, `${path}'s parent is an object or array`).toBe(true);
  }
}

const EVENT_TYPES = [
  'submit',
  'ack',
  'reject',
  'partial_fill',
  'fill',
  'cancel_request',
  'cancel_ack',
  'cancel_reject',
  'replace_request',
  'replace_ack',
  'replace_reject',
  'expire',
  'unsolicited_cancel',
  'unknown_order',
  'timeout',
  'triggered',
] as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isQuantity = (value: unknown): boolean =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_QUANTITY;

/** Whether the vocabulary refuses an event (an oracle written from the README's script format). */
function eventIsBad(event: unknown): boolean {
  if (!isRecord(event) || !(EVENT_TYPES as readonly unknown[]).includes(event.type)) return true;
  switch (event.type) {
    case 'fill':
    case 'partial_fill':
      return (
        !isQuantity(event.qty) ||
        !(
          event.trade_id === undefined ||
          event.trade_id === null ||
          typeof event.trade_id === 'number' ||
          (typeof event.trade_id === 'string' && event.trade_id.length > 0)
        )
      );
    case 'replace_request':
      return !isQuantity(event.new_qty);
    case 'submit':
      return !(event.retry === undefined || typeof event.retry === 'boolean');
    case 'reject':
      return !(event.reason === undefined || typeof event.reason === 'string');
    default:
      return false;
  }
}

/** A quantity: valid two times in three, else zero, negative, beyond the maximum, a string, or null. */
const quantity = fc.oneof(
  { weight: 3, arbitrary: fc.double({ min: Number.MIN_VALUE, max: 1_000, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 10, Number.MIN_VALUE, MAX_QUANTITY) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(0, -0, -1, MAX_QUANTITY * 10, '5', null, true, [], {}),
  },
);
const anyValue = fc.jsonValue({ maxDepth: 2 });

const scriptEvent: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        type: fc.oneof(
          { weight: 9, arbitrary: fc.constantFrom(...EVENT_TYPES) },
          { weight: 1, arbitrary: fc.oneof(fc.string(), anyValue) },
        ),
        qty: quantity,
        new_qty: quantity,
        trade_id: fc.oneof(fc.string(), fc.integer(), fc.constant(null), anyValue),
        retry: fc.oneof(fc.boolean(), anyValue),
        reason: fc.oneof(fc.string(), anyValue),
        code: anyValue,
        venue_order_id: anyValue,
        note: anyValue,
      },
      { requiredKeys: ['type'] },
    ),
  },
  { weight: 1, arbitrary: anyValue },
);

const script = fc.record(
  {
    order: fc.oneof(
      {
        weight: 10,
        arbitrary: fc.record(
          { qty: quantity, kind: anyValue, client_order_id: anyValue },
          { requiredKeys: ['qty'] },
        ),
      },
      { weight: 1, arbitrary: anyValue },
    ),
    events: fc.oneof(
      { weight: 10, arbitrary: fc.array(scriptEvent, { maxLength: 25 }) },
      { weight: 1, arbitrary: anyValue },
    ),
    expect: anyValue,
  },
  { requiredKeys: [] },
);

describe('keel simulate script fuzzing', () => {
  it('refuses arbitrary text or bytes with exit 2 and the parser error, never a throw', async () => {
    const texts = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc.uint8Array({ maxLength: 500 }),
      fc.jsonValue().map((value) => JSON.stringify(value).slice(0, -1)),
    );
    await fc.assert(
      fc.asyncProperty(texts, fc.boolean(), async (text, lenient) => {
        const run = await simulate(text, { lenient });
        // A few texts are JSON (a number, say): still not a script.
        const issues = expectRefused(run);
        if (run.json.error.message.includes('is not valid JSON'))
          expect(issues.map((issue) => issue.path)).toEqual(['FILE']);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses arbitrary JSON with exit 2 and paths that point into the document', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const run = await simulate(JSON.stringify(value));
        expectPathsInto(value, expectRefused(run));
      }),
      { numRuns: RUNS },
    );
  });

  it('replays a script-shaped document or refuses it naming exactly its bad events, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(script, fc.boolean(), fc.boolean(), async (document, lenient, json) => {
        const run = await simulate(JSON.stringify(document), { lenient, json });
        const { order, events } = document as { order?: unknown; events?: unknown };
        const orderBad = !isRecord(order) || !isQuantity(order.qty);
        const badEvents = Array.isArray(events)
          ? events.flatMap((event, index) => (eventIsBad(event) ? [index] : []))
          : [];
        const bad = orderBad || !Array.isArray(events) || badEvents.length > 0;
        if (!json) {
          // Text mode: the same verdict, a message for a person.
          if (bad) expect(run.code).toBe(SIMULATE_EXIT.malformed);
          else expect([SIMULATE_EXIT.ok, SIMULATE_EXIT.refused]).toContain(run.code);
          expect(run.printed.length).toBeGreaterThan(0);
          return;
        }
        if (!bad) {
          expectReplayed(run, (events as unknown[]).length);
          return;
        }
        const issues = expectRefused(run);
        expectPathsInto(document, issues);
        const paths = issues.map((issue) => issue.path);
        if (orderBad) expect(paths.some((path) => path === 'order' || path.startsWith('order.'))).toBe(true);
        else expect(paths.some((path) => path.startsWith('order'))).toBe(false);
        if (!Array.isArray(events)) expect(paths).toContain('events');
        const named = new Set(
          paths.flatMap((path) => {
            const match = /^events\.(\d+)(\.|$)/.exec(path);
            return match ? [Number(match[1])] : [];
          }),
        );
        expect([...named].sort((a, b) => a - b)).toEqual(badEvents);
      }),
      { numRuns: RUNS },
    );
  });
});

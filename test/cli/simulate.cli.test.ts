import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKeel } from '../support/cli.js';

const examplesDir = new URL('../../examples/simulate/', import.meta.url);
const scripts = readdirSync(examplesDir).filter((name) => name.endsWith('.json'));

interface Expectation {
  exit: number;
  status: string;
  filledQty: number;
}

function scratch(name: string, content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-simulate-'));
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('keel simulate', () => {
  it('ships at least 20 scripted scenarios', () => {
    expect(scripts.length).toBeGreaterThanOrEqual(20);
  });

  describe.each(scripts)('%s', (name) => {
    it('ends with the expected status, filled quantity and exit code', async () => {
      const file = new URL(name, examplesDir);
      const { expect: expected } = JSON.parse(readFileSync(file, 'utf8')) as { expect: Expectation };
      const result = await runKeel(['simulate', file.pathname, '--json']);
      const outcome = JSON.parse(result.stdout) as { status: string; filledQty: number; error?: unknown };
      expect({ exit: result.code, status: outcome.status, filledQty: outcome.filledQty }).toEqual(expected);
      expect(outcome.error !== undefined).toBe(expected.exit === 3);
    });
  });

  it('reports a refusal with the state before it, the event and its index, and exits 3', async () => {
    const file = scratch('refused.json', {
      order: { qty: 10 },
      events: [
        { type: 'submit' },
        { type: 'ack' },
        { type: 'partial_fill', qty: 4 },
        { type: 'reject' },
        { type: 'fill', qty: 6 },
      ],
    });
    const result = await runKeel(['simulate', file, '--json']);
    expect(result.code).toBe(3);
    const outcome = JSON.parse(result.stdout);
    expect(outcome.status).toBe('PARTIALLY_FILLED');
    expect(outcome.filledQty).toBe(4);
    expect(outcome.error).toMatchObject({
      code: 'KEEL_ERR_TRANSITION',
      state: 'live.order.working.partially-filled, live.request.idle',
      event: 'reject',
      index: 3,
    });
    expect(outcome.transitions).toHaveLength(3);
  });

  it('journals the refusal, goes on, and still exits 3 in --lenient mode', async () => {
    const file = scratch('lenient.json', {
      order: { qty: 10 },
      events: [
        { type: 'submit' },
        { type: 'ack' },
        { type: 'partial_fill', qty: 4 },
        { type: 'reject' },
        { type: 'fill', qty: 6 },
      ],
    });
    const result = await runKeel(['simulate', file, '--json', '--lenient']);
    expect(result.code).toBe(3);
    const outcome = JSON.parse(result.stdout);
    expect(outcome.status).toBe('FILLED');
    expect(outcome.anomalies).toEqual([
      {
        machine: 'order-intent',
        state: 'live.order.working.partially-filled, live.request.idle',
        event: 'reject',
        machineEvent: 'venue.order.rejected',
        index: 3,
      },
    ]);
    expect(outcome.transitions[3]).toMatchObject({ event: 'reject', refused: true });
    expect(outcome.error).toBeUndefined();
  });

  it('exits 0 in --lenient mode when nothing was refused', async () => {
    const result = await runKeel([
      'simulate',
      new URL('01-happy-path-fill.json', examplesDir).pathname,
      '--lenient',
    ]);
    expect(result.code).toBe(0);
  });

  it('reads a script saved with a byte-order mark', async () => {
    const file = scratch(
      'bom.json',
      `\uFEFF${JSON.stringify({ order: { qty: 1 }, events: [{ type: 'submit' }] })}`,
    );
    expect((await runKeel(['simulate', file])).code).toBe(0);
  });

  it('names every bad field of a malformed script and exits 2', async () => {
    const file = scratch('bad.json', {
      order: { qty: -1 },
      events: [{ type: 'fill' }, { type: 'replace_request', new_qty: 'ten' }, { type: 'teleport' }],
    });
    const result = await runKeel(['simulate', file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    for (const path of ['order.qty', 'events.0.qty', 'events.1.new_qty', 'events.2.type']) {
      expect(result.stderr).toContain(path);
    }
  });

  it('returns the bad fields as JSON with --json', async () => {
    const file = scratch('bad.json', { order: {}, events: 'none' });
    const result = await runKeel(['simulate', file, '--json']);
    expect(result.code).toBe(2);
    const body = JSON.parse(result.stdout);
    expect(body.error.code).toBe('KEEL_ERR_BAD_INPUT');
    expect(body.error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
      'events',
      'order.qty',
    ]);
  });

  it('exits 2 on a file that is not JSON or does not exist', async () => {
    const notJson = await runKeel(['simulate', scratch('x.json', '{ order: ')]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('not valid JSON');
    const missing = await runKeel(['simulate', '/nonexistent/keel/script.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read script');
  });

  it('keeps unknown extra keys as information, not errors', async () => {
    const file = scratch('extra.json', {
      order: { qty: 2, symbol: 'BTCUSDT', note: 'from a strategy' },
      events: [
        { type: 'submit', at: '10:00' },
        { type: 'ack', latency_ms: 12 },
        { type: 'fill', qty: 2, price: 100 },
      ],
    });
    const result = await runKeel(['simulate', file, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).status).toBe('FILLED');
  });

  it('prints a readable timeline without --json', async () => {
    const result = await runKeel([
      'simulate',
      new URL('03-fill-while-cancel-pending.json', examplesDir).pathname,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('cancel_request');
    expect(result.stdout).toMatch(/status: CANCELED\s+filledQty: 5/);
  });

  it('shows each retry and the give-up when resends pass their bound', async () => {
    const result = await runKeel([
      'simulate',
      new URL('34-resends-are-bounded.json', examplesDir).pathname,
      '--json',
    ]);
    const { transitions } = JSON.parse(result.stdout) as {
      transitions: Array<{ event: string; emitted: string[] }>;
    };
    const emitted = transitions.flatMap((step) => step.emitted);
    expect(emitted.filter((type) => type === 'order.retry')).toHaveLength(3);
    expect(emitted.filter((type) => type === 'order.submit.requested')).toHaveLength(4);
    expect(emitted.at(-1)).toBe('order.submit.gave_up');
  });
});

import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { BadInputError } from '../../src/domain/errors.js';
import { ANY_STATE_LABEL, safeLabel, toMermaid } from '../../src/viz/mermaid.js';
import { machineStats, outlineMachine } from '../../src/viz/outline.js';
import {
  FIXTURE_STATE_COUNT,
  FIXTURE_TRANSITION_COUNT,
  createFixtureMachine,
  fixtureMachine,
} from './fixture-machine.js';

const text = toMermaid(fixtureMachine);
const lines = text.split('\n').map((line) => line.trim());

/** The lines inside `state <id> { ... }`, nested blocks included. */
function blockBody(id: string): string[] {
  const start = lines.indexOf(`state ${id} {`);
  expect(start, `no block for ${id}`).toBeGreaterThanOrEqual(0);
  let depth = 0;
  for (let index = start; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (line.endsWith('{')) depth += 1;
    if (line === '}') depth -= 1;
    if (depth === 0) return lines.slice(start + 1, index);
  }
  throw new Error(`block ${id} is not closed`);
}

const edgePattern = /^(\S+) --> (\S+)(?: : (.*))?$/;
const edges = lines
  .map((line) => edgePattern.exec(line))
  .filter((match): match is RegExpExecArray => match !== null)
  .filter((match) => match[1] !== '[*]' && match[2] !== '[*]');

describe('toMermaid', () => {
  it('opens a stateDiagram-v2 and starts at the initial state', () => {
    expect(lines[0]).toBe('stateDiagram-v2');
    expect(lines).toContain('[*] --> idle');
  });

  it('draws a compound state as a block holding its children and its own initial arrow', () => {
    const body = blockBody('working');
    expect(body).toContain('state "awaiting-ack" as working_awaiting_ack');
    expect(body).toContain('[*] --> working_awaiting_ack');
  });

  it('splits parallel regions with -- and keeps each region a named block', () => {
    const body = blockBody('supervised');
    const divider = body.indexOf('--');
    expect(divider).toBeGreaterThan(0);
    expect(body.slice(0, divider)).toContain('state supervised_stream {');
    expect(body.slice(divider)).toContain('state supervised_reconcile {');
  });

  it('sends final states to [*] inside their own parent', () => {
    expect(blockBody('working')).toContain('working_filled --> [*]');
    expect(lines).toContain('rejected --> [*]');
    expect(lines).toContain('s_end --> [*]');
    expect(lines).not.toContain('halted --> [*]');
  });

  it('labels a guarded transition with its guard, and the unguarded fallback as else', () => {
    expect(lines).toContain('idle --> working : order.submit [is within risk limits]');
    expect(lines).toContain('idle --> rejected : order.submit [else]');
  });

  it('reads composed guards as a sentence', () => {
    expect(text).toContain('clock.tick [is past ack deadline and not is lookup pending]');
  });

  it('draws a targetless transition as a self-loop labelled internal, with its actions', () => {
    expect(lines).toContain(
      'working_open --> working_open : venue.order.filled [else] / record partial fill (internal)',
    );
  });

  it('shows actions on state-changing transitions only when asked', () => {
    const withActions = toMermaid(fixtureMachine, { showActions: true });
    expect(text).toContain('clock.tick [is reconcile due]\n');
    expect(withActions).toContain('clock.tick [is reconcile due] / request reconcile\n');
  });

  it('draws the root strict hook once, as a note on (any state), never as an edge per state', () => {
    expect(text.split(ANY_STATE_LABEL)).toHaveLength(2);
    expect(lines.filter((line) => line.startsWith('note right of any_state'))).toEqual([
      'note right of any_state : strict mode - an event no state accepts is refused (lifecycle.refused)',
    ]);
    expect(text).not.toContain('report refused event');
    expect(edges.filter((edge) => edge[3]?.startsWith('*'))).toEqual([]);
    // one edge per declared transition and target, less the strict hook
    expect(edges).toHaveLength(FIXTURE_TRANSITION_COUNT - 1);
  });

  it('draws other root-level transitions from (any state)', () => {
    expect(lines).toContain('any_state --> halted : kill.trip');
  });

  it('names internal events for what they mean: done and always', () => {
    expect(lines).toContain('working --> s_end : done');
    expect(lines).toContain(
      'supervised_reconcile_running --> supervised_reconcile_waiting : always [is reconcile complete]',
    );
  });

  it('draws a history state as H* and lets transitions target it', () => {
    expect(lines).toContain('state "H*" as supervised_stream_resume');
    expect(lines).toContain('supervised --> supervised_stream_resume : supervisor.resume');
  });

  it('shows tags as notes on their states', () => {
    expect(lines).toContain('note right of working : tags in-flight');
    expect(lines).toContain('note right of working_cancel_pending : tags needs-reconcile');
    expect(lines).toContain('note right of s_end : tags terminal');
  });

  it('declares every state before the first edge, so no edge can place a state in the wrong block', () => {
    const firstEdge = lines.findIndex((line) => edgePattern.test(line) && !line.includes('[*]'));
    const declared = lines
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => line.startsWith('state "'));
    expect(declared).toHaveLength(FIXTURE_STATE_COUNT + 1); // + (any state)
    for (const { index } of declared) expect(index).toBeLessThan(firstEdge);
  });

  it('keeps ids safe identifiers and labels free of characters Mermaid reads as syntax', () => {
    const ids = new Set(edges.flatMap((edge) => [edge[1], edge[2]]));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    expect(ids).not.toContain('end');
    expect(lines).toContain('state "cancel - pending" as working_cancel_pending');
    for (const edge of edges) expect(edge[3] ?? '').not.toMatch(/[:;#"{}<>]/);
  });

  it('gives colliding sanitised paths distinct ids', () => {
    const machine = setup({}).createMachine({
      id: 'collide',
      initial: 'a-b',
      states: { 'a-b': { on: { go: 'a_b' } }, a_b: {}, '1st': {} },
    });
    const output = toMermaid(machine);
    expect(output).toContain('state "a-b" as a_b\n');
    expect(output).toContain('state "a_b" as a_b_2\n');
    expect(output).toContain('state "1st" as s_1st\n');
    expect(output).toContain('a_b --> a_b_2 : go');
  });

  it('wraps a parallel root in one block, since Mermaid accepts -- only inside a block', () => {
    const machine = setup({}).createMachine({
      id: 'twin',
      type: 'parallel',
      states: { left: {}, right: {} },
    });
    const output = toMermaid(machine).split('\n');
    const open = output.indexOf('  state machine_root {');
    expect(open).toBeGreaterThan(0);
    expect(output.slice(open)).toContain('    --');
  });

  it('styles highlighted states as current, in tree order whatever order they are asked in', () => {
    const highlighted = toMermaid(fixtureMachine, {
      highlight: ['viz-fixture.supervised.stream.connected', 'viz-fixture.working'],
    });
    expect(highlighted).toContain('classDef current ');
    expect(highlighted).toContain('class working,supervised_stream_connected current\n');
    expect(text).not.toContain('classDef');
  });

  it('refuses to highlight a state the machine does not have, naming it', () => {
    expect(() =>
      toMermaid(fixtureMachine, { highlight: ['viz-fixture.working', 'viz-fixture.nope'] }),
    ).toThrow(BadInputError);
    expect(() => toMermaid(fixtureMachine, { highlight: ['viz-fixture.nope'] })).toThrow(
      /highlight\.0: no state with id "viz-fixture\.nope"/,
    );
  });

  it('is deterministic: the same definition gives the same text, byte for byte', () => {
    expect(toMermaid(fixtureMachine)).toBe(text);
    expect(toMermaid(createFixtureMachine())).toBe(text);
  });

  it('counts states below the root and every declared transition', () => {
    expect(machineStats(fixtureMachine)).toEqual({
      states: FIXTURE_STATE_COUNT,
      transitions: FIXTURE_TRANSITION_COUNT,
    });
    expect(
      outlineMachine(fixtureMachine).transitions.filter((transition) => transition.strictHook),
    ).toHaveLength(1);
  });
});

describe('safeLabel', () => {
  it('replaces characters Mermaid parses inside a label and keeps one line', () => {
    expect(safeLabel('a: b; #1 "q" {x} <y>\nz')).toBe("a - b, no.1 'q' (x) ‹y› z");
  });

  it('keeps dotted event names, brackets and slashes as they are', () => {
    expect(safeLabel('venue.order.filled [is complete fill] / book fill (internal)')).toBe(
      'venue.order.filled [is complete fill] / book fill (internal)',
    );
  });
});

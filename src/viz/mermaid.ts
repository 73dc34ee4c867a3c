/**
 * Statecharts as Mermaid `stateDiagram-v2`, generated from a machine's definition at run time.
 * Invariants: the text depends only on the machine (same definition, same bytes); every Mermaid
 * id is a safe identifier, unique in its diagram, and no label carries a character Mermaid reads
 * as syntax; the root `'*'` strict hook is drawn once, on an "(any state)" node, never as an edge
 * from every state; states are all declared before any edge, so no edge can misplace a state.
 */
import type { AnyStateMachine } from 'xstate';
import { BadInputError } from '../domain/errors.js';
import {
  childrenOf,
  outlineTransition,
  ownTransitions,
  type StateNodeView,
  type TransitionOutline,
} from './outline.js';

export interface MermaidOptions {
  /**
   * State ids (`order-intent.working`) to draw as current, with the `current` class.
   * @example toMermaid(orderIntentMachine, { highlight: ['order-intent.working'] })
   */
  highlight?: readonly string[];
  /** Also show actions on transitions that change state (they always show on internal ones). */
  showActions?: boolean;
}

/** The node that stands for "whatever state the machine is in": the source of root-level transitions. */
export const ANY_STATE_ID = 'any_state';
export const ANY_STATE_LABEL = '(any state)';
export const CURRENT_CLASS = 'current';
// Mermaid accepts `--` only inside a block, so a parallel root is drawn as one block with this id.
const PARALLEL_ROOT_ID = 'machine_root';

// Words Mermaid's state grammar gives a meaning to; a state id equal to one of them breaks the parse.
const RESERVED_IDS = new Set([
  'state',
  'note',
  'end',
  'as',
  'of',
  'left',
  'right',
  'direction',
  'class',
  'classdef',
  'style',
  'click',
  'hide',
  'scale',
  'default',
  'root',
  'tb',
  'bt',
  'lr',
  'rl',
  ANY_STATE_ID,
]);

// Mermaid reads these inside a label as syntax: `:` splits a label, `;` ends a statement, `#n;` is an
// entity, quotes end a state name, braces open a block, angle brackets are stripped as HTML.
const LABEL_REPLACEMENTS: Record<string, string> = {
  ':': ' -',
  ';': ',',
  '#': 'no.',
  '"': "'",
  '`': "'",
  '{': '(',
  '}': ')',
  '<': '‹',
  '>': '›',
  '\\': '/',
};

/** Makes text safe as a Mermaid label or note line: one line, no syntax characters. */
export function safeLabel(text: string): string {
  return text
    .replace(/[:;#"`{}<>\\]/g, (char) => LABEL_REPLACEMENTS[char] ?? ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Assigns every state node a Mermaid id from its path, unique and never a reserved word. */
function assignIds(root: StateNodeView): Map<StateNodeView, string> {
  const ids = new Map<StateNodeView, string>([[root, ANY_STATE_ID]]);
  const used = new Set<string>([ANY_STATE_ID, PARALLEL_ROOT_ID]);
  const walk = (node: StateNodeView): void => {
    for (const child of childrenOf(node)) {
      let base = child.path
        .map((segment) => segment.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, ''))
        .filter((segment) => segment !== '')
        .join('_');
      if (base === '' || /^\d/.test(base) || RESERVED_IDS.has(base.toLowerCase())) base = `s_${base}`;
      let id = base;
      for (let suffix = 2; used.has(id); suffix += 1) id = `${base}_${suffix}`;
      used.add(id);
      ids.set(child, id);
      walk(child);
    }
  };
  walk(root);
  return ids;
}

function stateLabel(node: StateNodeView): string {
  if (node.type === 'history') return node.history === 'deep' ? 'H*' : 'H';
  return safeLabel(node.key) || 'state';
}

function transitionLabel(transition: TransitionOutline, showActions: boolean): string {
  const internal = transition.targets.length === 0;
  let label = transition.event;
  if (transition.guard !== undefined) label += ` [${transition.guard}]`;
  else if (transition.otherwise) label += ' [else]';
  if ((internal || showActions) && transition.actions.length > 0)
    label += ` / ${transition.actions.join(', ')}`;
  if (internal) label += ' (internal)';
  else if (transition.reenter) label += ' (re-enter)';
  return safeLabel(label);
}

class DiagramWriter {
  readonly lines: string[] = ['stateDiagram-v2'];

  constructor(private readonly ids: Map<StateNodeView, string>) {}

  idOf(node: StateNodeView): string {
    return this.ids.get(node) ?? ANY_STATE_ID;
  }

  line(depth: number, text: string): void {
    this.lines.push(`${'  '.repeat(depth)}${text}`);
  }

  /** Declares `node` (and, for compound and parallel nodes, its whole subtree) at `depth`. */
  declare(node: StateNodeView, depth: number): void {
    const id = this.idOf(node);
    this.line(depth, `state "${stateLabel(node)}" as ${id}`);
    if (node.type === 'compound' || node.type === 'parallel') {
      this.line(depth, `state ${id} {`);
      this.body(node, depth + 1);
      this.line(depth, '}');
    }
    if (node.tags.length > 0)
      this.line(depth, `note right of ${id} : ${safeLabel(`tags ${node.tags.join(', ')}`)}`);
  }

  /** The inside of a compound or parallel node: children, initial arrow, final arrows. */
  body(node: StateNodeView, depth: number): void {
    const children = childrenOf(node);
    if (node.type === 'parallel') {
      // Mermaid's `--` separates concurrent regions; each xstate region stays a named block.
      children.forEach((region, index) => {
        if (index > 0) this.line(depth, '--');
        this.declare(region, depth);
      });
      return;
    }
    for (const child of children) this.declare(child, depth);
    const initial = node.initial.target[0];
    if (initial !== undefined) this.line(depth, `[*] --> ${this.idOf(initial)}`);
    for (const child of children) if (child.type === 'final') this.line(depth, `${this.idOf(child)} --> [*]`);
  }
}

function collectTransitions(root: StateNodeView): TransitionOutline[] {
  const transitions: TransitionOutline[] = [];
  const walk = (node: StateNodeView): void => {
    for (const transition of ownTransitions(node)) transitions.push(outlineTransition(transition, root));
    for (const child of childrenOf(node)) walk(child);
  };
  walk(root);
  return transitions;
}

function statesById(root: StateNodeView): Map<string, StateNodeView> {
  const byId = new Map<string, StateNodeView>();
  const walk = (node: StateNodeView): void => {
    byId.set(node.id, node);
    for (const child of childrenOf(node)) walk(child);
  };
  walk(root);
  return byId;
}

/**
 * The machine as a Mermaid `stateDiagram-v2`: compound states as blocks, parallel regions split by
 * `--`, final states into `[*]`, guards as `event [guard]`, targetless transitions as labelled
 * self-loops, root-level transitions from one "(any state)" node, tags as notes.
 * @example
 *   const text = toMermaid(orderIntentMachine, { highlight: ['order-intent.working'] });
 */
export function toMermaid(machine: AnyStateMachine, options: MermaidOptions = {}): string {
  const root = machine.root;
  const byId = statesById(root);
  const highlight = [...new Set(options.highlight ?? [])];
  const unknown = highlight
    .map((id, index) => ({ id, index }))
    .filter(({ id }) => !byId.has(id) || byId.get(id) === root);
  if (unknown.length > 0)
    throw new BadInputError(
      'toMermaid highlight',
      unknown.map(({ id, index }) => ({
        path: `highlight.${index}`,
        message: `no state with id "${id}" in machine ${machine.id}`,
      })),
    );

  const writer = new DiagramWriter(assignIds(root));
  const transitions = collectTransitions(root);
  const fromRoot = transitions.filter((transition) => transition.source === root.id);
  if (fromRoot.length > 0) {
    writer.line(1, `state "${ANY_STATE_LABEL}" as ${ANY_STATE_ID}`);
    if (fromRoot.some((transition) => transition.strictHook))
      writer.line(
        1,
        `note right of ${ANY_STATE_ID} : strict mode - an event no state accepts is refused (lifecycle.refused)`,
      );
  }

  if (root.type === 'parallel') {
    writer.line(1, `state "${safeLabel(machine.id)}" as ${PARALLEL_ROOT_ID}`);
    writer.line(1, `state ${PARALLEL_ROOT_ID} {`);
    writer.body(root, 2);
    writer.line(1, '}');
  } else {
    writer.body(root, 1);
  }

  const showActions = options.showActions ?? false;
  for (const transition of transitions) {
    if (transition.strictHook) continue;
    const source = writer.idOf(byId.get(transition.source) ?? root);
    const label = transitionLabel(transition, showActions);
    const targets = transition.targets.length > 0 ? transition.targets : [transition.source];
    for (const target of targets)
      writer.line(1, `${source} --> ${writer.idOf(byId.get(target) ?? root)} : ${label}`);
  }

  if (highlight.length > 0) {
    // Tree order, not caller order, so the same live state always yields the same text.
    const current = [...byId.values()]
      .filter((node) => highlight.includes(node.id))
      .map((node) => writer.idOf(node));
    writer.line(1, `classDef ${CURRENT_CLASS} fill:#fde68a,stroke:#b45309,stroke-width:3px`);
    writer.line(1, `class ${current.join(',')} ${CURRENT_CLASS}`);
  }
  return `${writer.lines.join('\n')}\n`;
}
